//! The expiry sweep: materializes the clock's transitions LINKED → EXPIRING_SOON (at the window)
//! and → EXPIRED (at `expires_at`) so that each becomes exactly one `link_event`.
//!
//! Set-based: each batch is one statement that picks the `n` rows expiring first (`ORDER BY
//! expires_at`, so the pick is a range scan of the `(status, expires_at)` index: without the order
//! PostgreSQL chose a sequential scan that re-read the rows already moved on every batch, see
//! `docs/benchmarks.md`), updates them and returns them, then one statement reading the accounts
//! and one inserting the events, in one transaction.
//!
//! - **PostgreSQL**: `WITH picked AS (SELECT id … LIMIT n FOR UPDATE SKIP LOCKED) UPDATE link …
//!   FROM picked WHERE link.id = picked.id AND status = <from> RETURNING …`: the update side is
//!   500 primary-key lookups whatever the planner thinks of the pick (at 20k links the `id IN
//!   (subquery)` form was planned as a hash semi join over a sequential scan of `link`; see
//!   `docs/benchmarks.md` for the plans). `FOR UPDATE` re-checks the condition against
//!   the newest row version, and `SKIP LOCKED` lets a concurrent sweep take other rows instead of
//!   waiting; a row locked by anything else is simply left for the next run.
//! - **SQLite**: `UPDATE … WHERE id IN (SELECT … LIMIT n) AND status = <from> RETURNING …`;
//!   writers are serialized, so a second sweep's subquery no longer finds a moved row.
//!
//! Either way a row is returned by exactly one sweep, so it gets exactly one event. Requires
//! `UPDATE … RETURNING`: SQLite ≥ 3.35 or PostgreSQL.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, LockBehavior, LockType, Order,
    PostgresQueryBuilder, Query, SqliteQueryBuilder, WithClause,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, EntityTrait, FromQueryResult, QueryFilter, Statement, TransactionTrait,
    Value,
};
use uuid::Uuid;

use crate::actor::Actor;
use crate::entities::{link, link_event, social_account};
use crate::events::{self, NewEvent};
use crate::kinds::LinkStatus;
use crate::tenant::OrgId;

/// How much one sweep moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    pub expiring_soon: u64,
    pub expired: u64,
    pub final_warnings: u64,
}

/// Before expiry, a second warning is emitted this close to the end.
pub const FINAL_WARNING: Duration = Duration::days(3);

/// Runs the sweep at `now` until nothing is left to move, `batch` rows per statement.
///
/// The three kinds of transition run at the same time, each on a connection of its own: they
/// touch disjoint rows (expired: `expires_at <= now`; the window: LINKED after `now`; the final
/// warning: EXPIRING_SOON after `now`), and a link entering the window inside the final three days
/// is warned by that move (`warned_at = now`), which the final-warning pick excludes whether it
/// sees the row before or after that commit. On SQLite the one pooled connection takes their
/// transactions in turn.
pub async fn sweep(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    window: Duration,
    batch: u64,
) -> Result<SweepReport, sea_orm::DbErr> {
    let (expired, expiring_soon, final_warnings) = tokio::try_join!(
        until_short(batch, || expire_batch(db, now, batch)),
        until_short(batch, || expiring_soon_batch(db, now, window, batch)),
        until_short(batch, || final_warning_batch(db, now, batch)),
    )?;
    Ok(SweepReport {
        expiring_soon,
        expired,
        final_warnings,
    })
}

/// Runs `step` until it moves fewer than `batch` rows (nothing is left); returns the total.
async fn until_short<F, Fut>(batch: u64, step: F) -> Result<u64, sea_orm::DbErr>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<u64, sea_orm::DbErr>>,
{
    let mut total = 0;
    loop {
        let n = step().await?;
        total += n;
        if n < batch {
            return Ok(total);
        }
    }
}

/// LINKED or EXPIRING_SOON with `expires_at <= now` → EXPIRED.
async fn expire_batch(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<u64, sea_orm::DbErr> {
    let mut total = 0;
    for from in [LinkStatus::ExpiringSoon, LinkStatus::Linked] {
        let txn = db.begin().await?;
        let moved = move_batch(
            &txn,
            Condition::all()
                .add(link::Column::Status.eq(from))
                .add(link::Column::ExpiresAt.lte(now)),
            from,
            vec![
                (link::Column::Status, LinkStatus::Expired.into()),
                (link::Column::UpdatedAt, now.into()),
            ],
            batch,
        )
        .await?;
        record_transitions(&txn, &moved, from, LinkStatus::Expired, now, |l| {
            l.expiry_cause.clone()
        })
        .await?;
        txn.commit().await?;
        crate::event_signal::written();
        total += moved.len() as u64;
    }
    Ok(total)
}

/// LINKED with `now < expires_at <= now + window` → EXPIRING_SOON (the first warning).
async fn expiring_soon_batch(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    window: Duration,
    batch: u64,
) -> Result<u64, sea_orm::DbErr> {
    let txn = db.begin().await?;
    let moved = move_batch(
        &txn,
        Condition::all()
            .add(link::Column::Status.eq(LinkStatus::Linked))
            .add(link::Column::ExpiresAt.gt(now))
            .add(link::Column::ExpiresAt.lte(now + window)),
        LinkStatus::Linked,
        vec![
            (link::Column::Status, LinkStatus::ExpiringSoon.into()),
            (link::Column::WarnedAt, now.into()),
            (link::Column::UpdatedAt, now.into()),
        ],
        batch,
    )
    .await?;
    record_transitions(
        &txn,
        &moved,
        LinkStatus::Linked,
        LinkStatus::ExpiringSoon,
        now,
        |_| None,
    )
    .await?;
    txn.commit().await?;
    crate::event_signal::written();
    Ok(moved.len() as u64)
}

/// EXPIRING_SOON links entering the last [`FINAL_WARNING`] whose last warning came before it:
/// one `EXPIRING_SOON_WARNING` event each ("again near the end").
async fn final_warning_batch(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<u64, sea_orm::DbErr> {
    let txn = db.begin().await?;
    let final_from = now + FINAL_WARNING;
    // "Not warned within the last FINAL_WARNING": a link that entered EXPIRING_SOON inside the
    // final window was just warned by that transition and gets no second event.
    let warned = move_batch(
        &txn,
        Condition::all()
            .add(link::Column::Status.eq(LinkStatus::ExpiringSoon))
            .add(link::Column::ExpiresAt.gt(now))
            .add(link::Column::ExpiresAt.lte(final_from))
            .add(
                Condition::any()
                    .add(link::Column::WarnedAt.is_null())
                    .add(link::Column::WarnedAt.lte(now - FINAL_WARNING)),
            ),
        LinkStatus::ExpiringSoon,
        vec![
            (link::Column::WarnedAt, now.into()),
            (link::Column::UpdatedAt, now.into()),
        ],
        batch,
    )
    .await?;
    let accounts = accounts_of(&txn, &warned).await?;
    let events: Vec<NewEvent> = warned
        .iter()
        .filter_map(|l| {
            let account = accounts.get(&l.account_id)?;
            Some(NewEvent {
                org: OrgId::new(account.organization_id),
                account_id: Some(account.id),
                profile_id: account.profile_id,
                platform: Some(account.platform),
                kind: events::kind::EXPIRING_SOON_WARNING,
                from: Some(LinkStatus::ExpiringSoon),
                to: Some(LinkStatus::ExpiringSoon),
                reason: Some("FINAL".into()),
                actor: Actor::system("expire-links"),
                detail: l
                    .expires_at
                    .map(|at| serde_json::json!({ "expiresAt": at })),
                occurred_at: now,
            })
        })
        .collect();
    insert_events(&txn, events).await?;
    txn.commit().await?;
    crate::event_signal::written();
    Ok(warned.len() as u64)
}

/// The columns of a moved link the events need (the whole row would carry the sealed tokens
/// back for nothing).
#[derive(Debug, Clone, FromQueryResult)]
struct Moved {
    account_id: Uuid,
    expires_at: Option<DateTime<Utc>>,
    expiry_cause: Option<String>,
}

/// Sets `set` on up to `batch` links matching `selection` (which includes `status = from`) and
/// returns them as updated; see the module documentation for the statement on each backend.
async fn move_batch(
    txn: &DatabaseTransaction,
    selection: Condition,
    from: LinkStatus,
    set: Vec<(link::Column, Value)>,
    batch: u64,
) -> Result<Vec<Moved>, sea_orm::DbErr> {
    let backend = txn.get_database_backend();
    let mut pick = Query::select()
        .column(link::Column::Id)
        .from(link::Entity)
        .cond_where(selection)
        .order_by(link::Column::ExpiresAt, Order::Asc)
        .limit(batch)
        .to_owned();
    let mut update = Query::update()
        .table(link::Entity)
        .values(set.into_iter().map(|(c, v)| (c, Expr::value(v))))
        .and_where(Expr::col((link::Entity, link::Column::Status)).eq(Expr::value(from)))
        .returning(Query::returning().exprs([
            Expr::col((link::Entity, link::Column::AccountId)),
            Expr::col((link::Entity, link::Column::ExpiresAt)),
            Expr::col((link::Entity, link::Column::ExpiryCause)),
        ]))
        .to_owned();
    let (sql, values) = if backend == DatabaseBackend::Postgres {
        let picked = Alias::new("picked");
        pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        let cte = CommonTableExpression::new()
            .query(pick)
            .table_name(picked.clone())
            .to_owned();
        update
            .from(picked.clone())
            .and_where(
                Expr::col((link::Entity, link::Column::Id)).equals((picked, link::Column::Id)),
            )
            .to_owned()
            .with(WithClause::new().cte(cte).to_owned())
            .build(PostgresQueryBuilder)
    } else {
        update
            .and_where(Expr::col((link::Entity, link::Column::Id)).in_subquery(pick))
            .build(SqliteQueryBuilder)
    };
    Moved::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
        .all(txn)
        .await
}

/// The accounts of `moved`, by id.
async fn accounts_of(
    db: &impl ConnectionTrait,
    moved: &[Moved],
) -> Result<HashMap<Uuid, social_account::Model>, sea_orm::DbErr> {
    if moved.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(social_account::Entity::find()
        .filter(social_account::Column::Id.is_in(moved.iter().map(|l| l.account_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}

async fn record_transitions(
    db: &impl ConnectionTrait,
    moved: &[Moved],
    from: LinkStatus,
    to: LinkStatus,
    now: DateTime<Utc>,
    reason: impl Fn(&Moved) -> Option<String>,
) -> Result<(), sea_orm::DbErr> {
    let accounts = accounts_of(db, moved).await?;
    let events: Vec<NewEvent> = moved
        .iter()
        .filter_map(|l| {
            let account = accounts.get(&l.account_id)?;
            let mut e = NewEvent::status_changed(
                account,
                from,
                to,
                reason(l),
                Actor::system("expire-links"),
                now,
            );
            e.detail = l
                .expires_at
                .map(|at| serde_json::json!({ "expiresAt": at }));
            Some(e)
        })
        .collect();
    insert_events(db, events).await?;
    // Content of these accounts in ACTIVE campaigns: the brand hears of it in the same
    // transaction (nothing unless `to` is INVALID or EXPIRED), one batch per distinct reason.
    if matches!(to, LinkStatus::Invalid | LinkStatus::Expired) {
        let mut by_reason: std::collections::BTreeMap<Option<String>, Vec<social_account::Model>> =
            std::collections::BTreeMap::new();
        for l in moved {
            if let Some(account) = accounts.get(&l.account_id) {
                by_reason
                    .entry(reason(l))
                    .or_default()
                    .push(account.clone());
            }
        }
        for (why, batch) in by_reason {
            crate::campaigns::content::accounts_broke(
                db,
                &batch,
                to,
                why,
                &Actor::system("expire-links"),
                now,
            )
            .await
            .map_err(|e| match e {
                crate::DomainError::Database(e) => e,
                other => sea_orm::DbErr::Custom(other.to_string()),
            })?;
        }
    }
    Ok(())
}

/// Events per INSERT: eleven bound values each, and a statement takes at most 65,535 of them on
/// PostgreSQL and 32,766 on SQLite (a `jobs.sweep_batch` above ~2,900 would otherwise fail on
/// every batch there).
const EVENTS_PER_INSERT: usize = 2_500;

/// One INSERT per [`EVENTS_PER_INSERT`] events of the batch.
async fn insert_events(
    db: &impl ConnectionTrait,
    events: Vec<NewEvent>,
) -> Result<(), sea_orm::DbErr> {
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        link_event::Entity::insert_many(
            events
                .by_ref()
                .take(EVENTS_PER_INSERT)
                .map(events::active_model),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}
