//! What the organization has pulled for its accounts: daily metrics, media with their metrics,
//! captured stories, audiences and the link event history. Batch readers take many ids at once so
//! the API can answer a page of accounts with one statement per kind of data.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, Statement,
};
use uuid::Uuid;

use crate::entities::{audience, link_event, media, media_metric, metric_snapshot};
use crate::error::DomainResult;
use crate::kinds::MediaKind;
use crate::pagination::{self, Cursor, Keyset, KeysetRequest, Page, SortValue};
use crate::tenant::OrgId;

/// The newest daily snapshot of each of `account_ids` (one statement).
pub async fn latest_metrics(
    db: &impl ConnectionTrait,
    org: OrgId,
    account_ids: &[Uuid],
) -> DomainResult<Vec<metric_snapshot::Model>> {
    if account_ids.is_empty() {
        return Ok(Vec::new());
    }
    if db.get_database_backend() == DatabaseBackend::Postgres {
        // One `ORDER BY day DESC LIMIT 1` probe of the `(account_id, day)` index per account
        // (LATERAL): a page of 125 accounts with 90 days each reads 481 buffers in 0.4 ms, where
        // the aggregate below hashes every snapshot of every account (1,228 buffers, 4.1 ms;
        // `docs/benchmarks.md`). SQLite has no LATERAL and keeps the aggregate.
        let ids: std::collections::BTreeSet<Uuid> = account_ids.iter().copied().collect();
        let rows: Vec<String> = (0..ids.len())
            .map(|i| format!("(${}::uuid)", i + 2))
            .collect();
        let sql = format!(
            "SELECT m.* FROM (VALUES {}) AS wanted(id) CROSS JOIN LATERAL \
             (SELECT * FROM metric_snapshot s WHERE s.account_id = wanted.id \
              AND s.organization_id = $1 ORDER BY s.day DESC LIMIT 1) AS m",
            rows.join(", ")
        );
        let values = std::iter::once(sea_orm::Value::from(org.uuid()))
            .chain(ids.into_iter().map(sea_orm::Value::from));
        return Ok(metric_snapshot::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql,
                values,
            ))
            .all(db)
            .await?);
    }
    // `(account_id, day) IN (SELECT account_id, max(day) … GROUP BY account_id)`: one aggregate
    // over the `(account_id, day)` index. The correlated form (`day IN (SELECT max(day) … WHERE
    // newest.account_id = metric_snapshot.account_id)`) ran its subquery once per *snapshot row*
    // on PostgreSQL — 19,530 index probes for a page of 250 accounts with 90 days each (334 ms
    // against 62 ms; `docs/benchmarks.md`).
    let newest = Query::select()
        .column(metric_snapshot::Column::AccountId)
        .expr(Expr::col(metric_snapshot::Column::Day).max())
        .from(metric_snapshot::Entity)
        .and_where(metric_snapshot::Column::AccountId.is_in(account_ids.iter().copied()))
        .group_by_col(metric_snapshot::Column::AccountId)
        .to_owned();
    Ok(metric_snapshot::Entity::find()
        .filter(metric_snapshot::Column::OrganizationId.eq(org.uuid()))
        .filter(metric_snapshot::Column::AccountId.is_in(account_ids.iter().copied()))
        .filter(
            Expr::tuple([
                Expr::col((metric_snapshot::Entity, metric_snapshot::Column::AccountId)),
                Expr::col((metric_snapshot::Entity, metric_snapshot::Column::Day)),
            ])
            .in_subquery(newest),
        )
        .all(db)
        .await?)
}

/// Daily snapshots of `account_ids` from `from` to `to` (both inclusive), oldest first.
pub async fn metrics(
    db: &impl ConnectionTrait,
    org: OrgId,
    account_ids: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
) -> DomainResult<Vec<metric_snapshot::Model>> {
    if account_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(metric_snapshot::Entity::find()
        .filter(metric_snapshot::Column::OrganizationId.eq(org.uuid()))
        .filter(metric_snapshot::Column::AccountId.is_in(account_ids.iter().copied()))
        .filter(metric_snapshot::Column::Day.gte(from))
        .filter(metric_snapshot::Column::Day.lte(to))
        .order_by_asc(metric_snapshot::Column::Day)
        .all(db)
        .await?)
}

/// Which media a list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MediaFilter {
    pub kind: Option<MediaKind>,
    /// Taken at or after.
    pub from: Option<DateTime<Utc>>,
    /// Taken before.
    pub to: Option<DateTime<Utc>>,
    /// Only these media (a campaign-limited caller's campaign content); `None` for all.
    pub only: Option<Vec<Uuid>>,
}

const MEDIA_ORDER: Keyset<media::Column> = Keyset {
    key: media::Column::TakenAt,
    id: media::Column::Id,
    descending: true,
};

/// The cursor of `item` in a media list (newest first).
pub fn media_cursor(item: &media::Model) -> Cursor {
    Cursor {
        key: SortValue::Time(item.taken_at),
        id: SortValue::Uuid(item.id),
    }
}

/// A page of one account's media, newest first.
pub async fn media_page(
    db: &impl ConnectionTrait,
    org: OrgId,
    account_id: Uuid,
    filter: &MediaFilter,
    req: &KeysetRequest,
    default_size: u64,
) -> DomainResult<Page<media::Model>> {
    let mut select = media::Entity::find()
        .filter(media::Column::OrganizationId.eq(org.uuid()))
        .filter(media::Column::AccountId.eq(account_id));
    if let Some(kind) = filter.kind {
        select = select.filter(media::Column::Kind.eq(kind));
    }
    if let Some(from) = filter.from {
        select = select.filter(media::Column::TakenAt.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(media::Column::TakenAt.lt(to));
    }
    if let Some(only) = &filter.only {
        select = select.filter(media::Column::Id.is_in(only.iter().copied()));
    }
    Ok(pagination::by_keyset(db, select, &MEDIA_ORDER, req, default_size).await?)
}

/// The same page of media for each of `account_ids`, in one statement.
pub async fn media_pages(
    db: &impl ConnectionTrait,
    org: OrgId,
    account_ids: &[Uuid],
    filter: &MediaFilter,
    req: &KeysetRequest,
    default_size: u64,
) -> DomainResult<HashMap<Uuid, Page<media::Model>>> {
    let mut select = media::Entity::find().filter(media::Column::OrganizationId.eq(org.uuid()));
    if let Some(kind) = filter.kind {
        select = select.filter(media::Column::Kind.eq(kind));
    }
    if let Some(from) = filter.from {
        select = select.filter(media::Column::TakenAt.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(media::Column::TakenAt.lt(to));
    }
    if let Some(only) = &filter.only {
        select = select.filter(media::Column::Id.is_in(only.iter().copied()));
    }
    Ok(pagination::by_keyset_per_parent(
        db,
        select,
        &MEDIA_ORDER,
        media::Column::AccountId,
        account_ids,
        |m| m.account_id,
        req,
        default_size,
    )
    .await?)
}

/// Every captured story of `account_ids`, expired ones included, newest first.
pub async fn stories(
    db: &impl ConnectionTrait,
    org: OrgId,
    account_ids: &[Uuid],
) -> DomainResult<Vec<media::Model>> {
    if account_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(media::Entity::find()
        .filter(media::Column::OrganizationId.eq(org.uuid()))
        .filter(media::Column::AccountId.is_in(account_ids.iter().copied()))
        .filter(media::Column::Kind.eq(MediaKind::Story))
        .order_by_desc(media::Column::TakenAt)
        .order_by_desc(media::Column::Id)
        .all(db)
        .await?)
}

/// The newest metrics of each of `media_ids` (one statement).
pub async fn latest_media_metrics(
    db: &impl ConnectionTrait,
    org: OrgId,
    media_ids: &[Uuid],
) -> DomainResult<Vec<media_metric::Model>> {
    if media_ids.is_empty() {
        return Ok(Vec::new());
    }
    let newest = Alias::new("newest");
    let newest_at = Query::select()
        .expr(Expr::col((newest.clone(), media_metric::Column::CapturedAt)).max())
        .from_as(media_metric::Entity, newest.clone())
        .and_where(
            Expr::col((newest.clone(), media_metric::Column::MediaId))
                .equals((media_metric::Entity, media_metric::Column::MediaId)),
        )
        .to_owned();
    Ok(media_metric::Entity::find()
        .filter(media_metric::Column::OrganizationId.eq(org.uuid()))
        .filter(media_metric::Column::MediaId.is_in(media_ids.iter().copied()))
        .filter(
            Expr::col((media_metric::Entity, media_metric::Column::CapturedAt))
                .in_subquery(newest_at),
        )
        .all(db)
        .await?)
}

/// The audience rows of `account_ids`.
pub async fn audiences(
    db: &impl ConnectionTrait,
    org: OrgId,
    account_ids: &[Uuid],
) -> DomainResult<Vec<audience::Model>> {
    if account_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(audience::Entity::find()
        .filter(audience::Column::OrganizationId.eq(org.uuid()))
        .filter(audience::Column::AccountId.is_in(account_ids.iter().copied()))
        .all(db)
        .await?)
}

const EVENT_ORDER: Keyset<link_event::Column> = Keyset {
    key: link_event::Column::Id,
    id: link_event::Column::Id,
    descending: true,
};

/// The cursor of `event` in an event history (newest first).
pub fn event_cursor(event: &link_event::Model) -> Cursor {
    Cursor {
        key: SortValue::Int(event.id),
        id: SortValue::Int(event.id),
    }
}

/// A page of one account's link event history, newest first.
pub async fn events_page(
    db: &impl ConnectionTrait,
    org: OrgId,
    account_id: Uuid,
    req: &KeysetRequest,
    default_size: u64,
) -> DomainResult<Page<link_event::Model>> {
    let select = link_event::Entity::find()
        .filter(link_event::Column::OrganizationId.eq(org.uuid()))
        .filter(link_event::Column::AccountId.eq(account_id));
    Ok(pagination::by_keyset(db, select, &EVENT_ORDER, req, default_size).await?)
}

/// The same page of link events for each of `account_ids`, in one statement.
pub async fn events_pages(
    db: &impl ConnectionTrait,
    org: OrgId,
    account_ids: &[Uuid],
    req: &KeysetRequest,
    default_size: u64,
) -> DomainResult<HashMap<Uuid, Page<link_event::Model>>> {
    let select =
        link_event::Entity::find().filter(link_event::Column::OrganizationId.eq(org.uuid()));
    Ok(pagination::by_keyset_per_parent(
        db,
        select,
        &EVENT_ORDER,
        link_event::Column::AccountId,
        account_ids,
        // Every row matched `account_id IN (…)`, so it has one.
        |e| e.account_id.unwrap_or(Uuid::nil()),
        req,
        default_size,
    )
    .await?)
}

/// One media item of the organization.
pub async fn media_by_id(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
) -> DomainResult<Option<media::Model>> {
    Ok(media::Entity::find_by_id(id)
        .filter(media::Column::OrganizationId.eq(org.uuid()))
        .one(db)
        .await?)
}
