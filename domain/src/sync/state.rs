//! `sync_state` bookkeeping: creating rows, claiming due rows, recording outcomes, and the
//! on-demand request with its per-account rate limit.
//!
//! Claims are conditional updates (like `link::refresh::claim_due`): a scan moves `next_run_at`
//! of due rows forward by the claim time and gets their account ids back; a concurrent scan's
//! update re-checks `next_run_at <= now` on the same rows and finds nothing, so every due
//! (account, resource) is handed to exactly one pull job per period.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use uuid::Uuid;

use super::SyncResource;
use crate::entities::{link, social_account, sync_state};
use crate::kinds::LinkStatus;
use crate::tenant::OrgId;

/// The accounts whose link can be used for pulls at `now`: LINKED or EXPIRING_SOON, with an
/// access token, not past its expiry, on a platform `resource` applies to.
fn usable_accounts(resource: SyncResource, now: DateTime<Utc>) -> SelectStatement {
    Query::select()
        .column(link::Column::AccountId)
        .from(link::Entity)
        .and_where(link::Column::Status.is_in([LinkStatus::Linked, LinkStatus::ExpiringSoon]))
        .and_where(link::Column::AccessToken.is_not_null())
        .cond_where(
            Condition::any()
                .add(link::Column::ExpiresAt.is_null())
                .add(link::Column::ExpiresAt.gt(now)),
        )
        .and_where(
            link::Column::AccountId.in_subquery(
                Query::select()
                    .column(social_account::Column::Id)
                    .from(social_account::Entity)
                    .and_where(
                        social_account::Column::Platform
                            .is_in(resource.platforms().iter().copied()),
                    )
                    .to_owned(),
            ),
        )
        .to_owned()
}

/// Creates the missing `sync_state` rows of `resource` for every usable account (due at once:
/// `next_run_at` unset). One `INSERT … SELECT … ON CONFLICT DO NOTHING`, safe to race.
pub async fn ensure_rows(
    db: &impl ConnectionTrait,
    resource: SyncResource,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    let select = Query::select()
        .column(social_account::Column::OrganizationId)
        .column(social_account::Column::Id)
        .expr(Expr::val(resource.as_str()))
        .expr(Expr::val(0))
        .from(social_account::Entity)
        .and_where(social_account::Column::Id.in_subquery(usable_accounts(resource, now)))
        .to_owned();
    let mut insert = Query::insert();
    insert
        .into_table(sync_state::Entity)
        .columns([
            sync_state::Column::OrganizationId,
            sync_state::Column::AccountId,
            sync_state::Column::Resource,
            sync_state::Column::ConsecutiveFailures,
        ])
        .select_from(select)
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::columns([sync_state::Column::AccountId, sync_state::Column::Resource])
                .do_nothing()
                .to_owned(),
        );
    Ok(db.execute(&insert).await?.rows_affected())
}

fn due(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(sync_state::Column::NextRunAt.is_null())
        .add(sync_state::Column::NextRunAt.lte(now))
}

/// Claims up to `limit` accounts whose `resource` is due at `now` and whose link is usable, by
/// pushing their `next_run_at` to `now + claim_for` (the pull sets the real next time when it
/// finishes; a pull that dies leaves the row due again once the claim runs out).
pub async fn claim_due(
    db: &impl ConnectionTrait,
    resource: SyncResource,
    now: DateTime<Utc>,
    claim_for: Duration,
    limit: u64,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    let ids = Query::select()
        .column(sync_state::Column::AccountId)
        .from(sync_state::Entity)
        .and_where(sync_state::Column::Resource.eq(resource.as_str()))
        .cond_where(due(now))
        .and_where(sync_state::Column::AccountId.in_subquery(usable_accounts(resource, now)))
        .order_by(sync_state::Column::NextRunAt, sea_orm::Order::Asc)
        .limit(limit)
        .to_owned();
    let claimed = sync_state::Entity::update_many()
        .col_expr(
            sync_state::Column::NextRunAt,
            Expr::value(Some(now + claim_for)),
        )
        .filter(sync_state::Column::Resource.eq(resource.as_str()))
        .filter(sync_state::Column::AccountId.in_subquery(ids))
        .filter(due(now))
        .exec_with_returning(db)
        .await?;
    Ok(claimed.into_iter().map(|s| s.account_id).collect())
}

/// The row of (`account_id`, `resource`), creating it (due now) when missing.
pub async fn get_or_create(
    db: &impl ConnectionTrait,
    org: Uuid,
    account_id: Uuid,
    resource: SyncResource,
) -> Result<sync_state::Model, sea_orm::DbErr> {
    let row = sync_state::ActiveModel {
        organization_id: sea_orm::Set(org),
        account_id: sea_orm::Set(account_id),
        resource: sea_orm::Set(resource.as_str().to_owned()),
        last_success_at: sea_orm::Set(None),
        last_error_at: sea_orm::Set(None),
        last_error: sea_orm::Set(None),
        consecutive_failures: sea_orm::Set(0),
        next_run_at: sea_orm::Set(None),
        requested_at: sea_orm::Set(None),
    };
    sync_state::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([sync_state::Column::AccountId, sync_state::Column::Resource])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    sync_state::Entity::find_by_id((account_id, resource.as_str().to_owned()))
        .one(db)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("sync_state".into()))
}

/// Records a successful pull at `now`; the next one is due at `next`.
pub async fn record_success(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    resource: SyncResource,
    now: DateTime<Utc>,
    next: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    sync_state::Entity::update_many()
        .col_expr(sync_state::Column::LastSuccessAt, Expr::value(Some(now)))
        .col_expr(sync_state::Column::ConsecutiveFailures, Expr::value(0))
        .col_expr(sync_state::Column::NextRunAt, Expr::value(Some(next)))
        .filter(sync_state::Column::AccountId.eq(account_id))
        .filter(sync_state::Column::Resource.eq(resource.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failed pull (the message must already be free of secrets: platform errors are
/// scrubbed by the clients) and returns the failures in a row, this one included.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    resource: SyncResource,
    now: DateTime<Utc>,
    message: &str,
    next: Option<DateTime<Utc>>,
) -> Result<i32, sea_orm::DbErr> {
    let rows = sync_state::Entity::update_many()
        .col_expr(sync_state::Column::LastErrorAt, Expr::value(Some(now)))
        .col_expr(
            sync_state::Column::LastError,
            Expr::value(Some(message.to_owned())),
        )
        .col_expr(
            sync_state::Column::ConsecutiveFailures,
            Expr::col(sync_state::Column::ConsecutiveFailures).add(1),
        )
        .col_expr(sync_state::Column::NextRunAt, Expr::value(next))
        .filter(sync_state::Column::AccountId.eq(account_id))
        .filter(sync_state::Column::Resource.eq(resource.as_str()))
        .exec_with_returning(db)
        .await?;
    Ok(rows
        .into_iter()
        .next()
        .map(|r| r.consecutive_failures)
        .unwrap_or(1))
}

/// Makes the row due at the next scan (a pull that found the link unusable: once the creator
/// reconnects, the account is pulled at once).
pub async fn reset_due(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    resource: SyncResource,
) -> Result<(), sea_orm::DbErr> {
    sync_state::Entity::update_many()
        .col_expr(
            sync_state::Column::NextRunAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(sync_state::Column::AccountId.eq(account_id))
        .filter(sync_state::Column::Resource.eq(resource.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// What [`request`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// The resources are claimed for an immediate pull; enqueue the pulls now.
    Accepted,
    /// A pull of one of them was requested too recently; nothing changed.
    RateLimited { retry_at: DateTime<Utc> },
}

/// An on-demand pull of `resources` of `account_id` (caller's organization; the caller checked
/// the account is theirs and usable): at most one request per resource within `cooldown`. All or
/// nothing: when any resource is inside its cooldown, nothing changes.
pub async fn request(
    db: &DatabaseConnection,
    org: OrgId,
    account_id: Uuid,
    resources: &[SyncResource],
    now: DateTime<Utc>,
    cooldown: Duration,
    claim_for: Duration,
) -> Result<Requested, sea_orm::DbErr> {
    let txn = db.begin().await?;
    let mut rows = Vec::new();
    for r in resources {
        rows.push(get_or_create(&txn, org.uuid(), account_id, *r).await?);
    }
    let limited = rows
        .iter()
        .filter_map(|r| r.requested_at)
        .filter(|at| *at + cooldown > now)
        .max();
    if let Some(at) = limited {
        txn.rollback().await?;
        return Ok(Requested::RateLimited {
            retry_at: at + cooldown,
        });
    }
    let names: Vec<&str> = resources.iter().map(|r| r.as_str()).collect();
    let updated = sync_state::Entity::update_many()
        .col_expr(sync_state::Column::RequestedAt, Expr::value(Some(now)))
        .col_expr(
            sync_state::Column::NextRunAt,
            Expr::value(Some(now + claim_for)),
        )
        .filter(sync_state::Column::OrganizationId.eq(org.uuid()))
        .filter(sync_state::Column::AccountId.eq(account_id))
        .filter(sync_state::Column::Resource.is_in(names))
        .filter(
            Condition::any()
                .add(sync_state::Column::RequestedAt.is_null())
                .add(sync_state::Column::RequestedAt.lte(now - cooldown)),
        )
        .exec(&txn)
        .await?;
    if updated.rows_affected != resources.len() as u64 {
        // A concurrent request won the race for one of the rows.
        txn.rollback().await?;
        return Ok(Requested::RateLimited {
            retry_at: now + cooldown,
        });
    }
    txn.commit().await?;
    Ok(Requested::Accepted)
}

/// The freshness rows of `account_ids` in the caller's organization, by account, in
/// [`SyncResource::ALL`] order.
pub async fn freshness(
    db: &impl ConnectionTrait,
    org: OrgId,
    account_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<sync_state::Model>>, sea_orm::DbErr> {
    let rows = sync_state::Entity::find()
        .filter(sync_state::Column::OrganizationId.eq(org.uuid()))
        .filter(sync_state::Column::AccountId.is_in(account_ids.iter().copied()))
        .order_by_asc(sync_state::Column::AccountId)
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, Vec<sync_state::Model>> = HashMap::new();
    for row in rows {
        out.entry(row.account_id).or_default().push(row);
    }
    let rank = |r: &sync_state::Model| {
        SyncResource::parse(&r.resource)
            .and_then(|x| SyncResource::ALL.iter().position(|y| *y == x))
            .unwrap_or(usize::MAX)
    };
    for list in out.values_mut() {
        list.sort_by_key(rank);
    }
    Ok(out)
}
