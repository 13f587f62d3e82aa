//! Keyset pagination for Relay connections: rows ordered by their time-ordered UUID (v7) id, cursors
//! are ids, and each page is one query of `limit + 1` rows (the extra row tells whether another
//! page follows). Offsets are never used, so deep pages cost the same as the first.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

/// `first/after` pages forwards; `last/before` pages backwards.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    pub first: Option<u64>,
    pub after: Option<Uuid>,
    pub last: Option<u64>,
    pub before: Option<Uuid>,
}

/// One page, in ascending id order whichever direction it was fetched in.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
        }
    }
}

/// Fetches one page of `select` ordered by `id_column`. `default_size` applies when neither
/// `first` nor `last` is given; sizes are expected to be validated by the caller.
pub async fn by_id<E, C>(
    db: &C,
    select: Select<E>,
    id_column: E::Column,
    req: &PageRequest,
    default_size: u64,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut select = select;
    if let Some(after) = req.after {
        select = select.filter(id_column.gt(after));
    }
    if let Some(before) = req.before {
        select = select.filter(id_column.lt(before));
    }
    if let (Some(last), None) = (req.last, req.first) {
        // Backwards: take the last `last` rows before the cursor, then restore ascending order.
        let mut rows = select
            .order_by_desc(id_column)
            .limit(last + 1)
            .all(db)
            .await?;
        let has_previous_page = rows.len() as u64 > last;
        rows.truncate(last as usize);
        rows.reverse();
        return Ok(Page {
            items: rows,
            has_next_page: req.before.is_some(),
            has_previous_page,
        });
    }
    let size = req.first.unwrap_or(default_size);
    let mut rows = select
        .order_by_asc(id_column)
        .limit(size + 1)
        .all(db)
        .await?;
    let has_next_page = rows.len() as u64 > size;
    rows.truncate(size as usize);
    Ok(Page {
        items: rows,
        has_next_page,
        has_previous_page: req.after.is_some(),
    })
}
