//! Keyset pagination for Relay connections: rows ordered by their time-ordered UUID (v7) id, cursors
//! are ids, and each page is one query of `limit + 1` rows (the extra row tells whether another
//! page follows). Offsets are never used, so deep pages cost the same as the first.

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, Select,
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

/// A value a connection is sorted by, as carried in a cursor.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortValue {
    Text(String),
    Time(chrono::DateTime<chrono::Utc>),
    Int(i64),
    Uuid(Uuid),
}

impl From<SortValue> for sea_orm::Value {
    fn from(v: SortValue) -> Self {
        match v {
            SortValue::Text(s) => s.into(),
            SortValue::Time(t) => t.into(),
            SortValue::Int(n) => n.into(),
            SortValue::Uuid(u) => u.into(),
        }
    }
}

/// A position in a keyset-ordered connection: the sort value of a row and its unique
/// tie-breaker (its id), so rows with equal sort values still page without gaps or repeats.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    pub key: SortValue,
    pub id: SortValue,
}

/// `first/after` forwards, `last/before` backwards, over any keyset order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KeysetRequest {
    pub first: Option<u64>,
    pub after: Option<Cursor>,
    pub last: Option<u64>,
    pub before: Option<Cursor>,
}

/// How a keyset connection is ordered: by `key` then by the unique `id`, both in one direction.
pub struct Keyset<Col> {
    pub key: Col,
    pub id: Col,
    pub descending: bool,
}

/// Rows strictly after (`forward`) or before `cursor` in the order `(key, id)` ascending or
/// descending: `key > k OR (key = k AND id > i)`, with the comparisons flipped as needed.
fn beyond<Col: ColumnTrait>(keyset: &Keyset<Col>, cursor: &Cursor, forward: bool) -> Condition {
    let greater = forward != keyset.descending;
    let key: sea_orm::Value = cursor.key.clone().into();
    let id: sea_orm::Value = cursor.id.clone().into();
    let (k, i) = if greater {
        (keyset.key.gt(key.clone()), keyset.id.gt(id))
    } else {
        (keyset.key.lt(key.clone()), keyset.id.lt(id))
    };
    Condition::any()
        .add(k)
        .add(Condition::all().add(keyset.key.eq(key)).add(i))
}

/// Fetches one page of `select` in the keyset order. Items come back in that order whichever
/// direction they were fetched in. One query of `size + 1` rows; no offsets.
pub async fn by_keyset<E, C>(
    db: &C,
    select: Select<E>,
    keyset: &Keyset<E::Column>,
    req: &KeysetRequest,
    default_size: u64,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut select = select;
    if let Some(after) = &req.after {
        select = select.filter(beyond(keyset, after, true));
    }
    if let Some(before) = &req.before {
        select = select.filter(beyond(keyset, before, false));
    }
    let (forward_order, backward_order) = if keyset.descending {
        (Order::Desc, Order::Asc)
    } else {
        (Order::Asc, Order::Desc)
    };
    if let (Some(last), None) = (req.last, req.first) {
        let mut rows = select
            .order_by(keyset.key, backward_order.clone())
            .order_by(keyset.id, backward_order)
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
        .order_by(keyset.key, forward_order.clone())
        .order_by(keyset.id, forward_order)
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

/// The same page request over many parents at once (e.g. the first 3 media of each of 50
/// accounts): ONE statement whatever the number of parents, numbering each parent's rows with
/// `ROW_NUMBER() OVER (PARTITION BY parent ORDER BY key, id)` (SQLite ≥ 3.25 and PostgreSQL both
/// have it) and keeping `size + 1` per parent. Each parent's page is exactly what [`by_keyset`]
/// would return for it alone; a parent without rows gets an empty page.
// The arguments are those of `by_keyset` plus the parent column, ids and accessor.
#[allow(clippy::too_many_arguments)]
pub async fn by_keyset_per_parent<E, C>(
    db: &C,
    select: Select<E>,
    keyset: &Keyset<E::Column>,
    parent: E::Column,
    parents: &[Uuid],
    parent_of: impl Fn(&E::Model) -> Uuid,
    req: &KeysetRequest,
    default_size: u64,
) -> Result<std::collections::HashMap<Uuid, Page<E::Model>>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query, WindowStatement};
    use sea_orm::QueryTrait;

    let mut pages = std::collections::HashMap::new();
    if parents.is_empty() {
        return Ok(pages);
    }
    let mut select = select.filter(parent.is_in(parents.iter().copied()));
    if let Some(after) = &req.after {
        select = select.filter(beyond(keyset, after, true));
    }
    if let Some(before) = &req.before {
        select = select.filter(beyond(keyset, before, false));
    }
    let backward = matches!((req.last, req.first), (Some(_), None));
    let size = if backward {
        req.last.unwrap_or(default_size)
    } else {
        req.first.unwrap_or(default_size)
    };
    let order = match (keyset.descending, backward) {
        (false, false) | (true, true) => Order::Asc,
        (true, false) | (false, true) => Order::Desc,
    };
    let row = Alias::new("cl_row");
    let mut window = WindowStatement::partition_by(parent);
    window
        .order_by(keyset.key, order.clone())
        .order_by(keyset.id, order);
    let mut inner = select.into_query();
    inner.expr_window_as(Expr::cust("ROW_NUMBER()"), window, row.clone());
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("cl_rows"))
        .and_where(Expr::col(row.clone()).lte(size as i64 + 1))
        .order_by(row, Order::Asc)
        .to_owned();
    let statement = db.get_database_backend().build(&outer);
    let rows = E::find().from_raw_sql(statement).all(db).await?;
    let mut grouped: std::collections::HashMap<Uuid, Vec<E::Model>> =
        std::collections::HashMap::new();
    for row in rows {
        grouped.entry(parent_of(&row)).or_default().push(row);
    }
    for id in parents {
        let mut rows = grouped.remove(id).unwrap_or_default();
        let more = rows.len() as u64 > size;
        rows.truncate(size as usize);
        let page = if backward {
            rows.reverse();
            Page {
                items: rows,
                has_next_page: req.before.is_some(),
                has_previous_page: more,
            }
        } else {
            Page {
                items: rows,
                has_next_page: more,
                has_previous_page: req.after.is_some(),
            }
        };
        pages.insert(*id, page);
    }
    Ok(pages)
}
