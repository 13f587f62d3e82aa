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

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, LockBehavior, LockType, Order,
    PostgresQueryBuilder, Query, WithClause,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, EntityTrait, Iterable, QueryFilter, Statement, TransactionTrait, Value,
};

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
pub async fn sweep(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    window: Duration,
    batch: u64,
) -> Result<SweepReport, sea_orm::DbErr> {
    let mut report = SweepReport::default();
    loop {
        let n = expire_batch(db, now, batch).await?;
        report.expired += n;
        if n < batch {
            break;
        }
    }
    loop {
        let n = expiring_soon_batch(db, now, window, batch).await?;
        report.expiring_soon += n;
        if n < batch {
            break;
        }
    }
    loop {
        let n = final_warning_batch(db, now, batch).await?;
        report.final_warnings += n;
        if n < batch {
            break;
        }
    }
    Ok(report)
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
            let account = accounts.iter().find(|a| a.id == l.account_id)?;
            Some(NewEvent {
                org: OrgId::new(l.organization_id),
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

/// Sets `set` on up to `batch` links matching `selection` (which includes `status = from`) and
/// returns them as updated; see the module documentation for the statement on each backend.
async fn move_batch(
    txn: &DatabaseTransaction,
    selection: Condition,
    from: LinkStatus,
    set: Vec<(link::Column, Value)>,
    batch: u64,
) -> Result<Vec<link::Model>, sea_orm::DbErr> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        let ids = Query::select()
            .column(link::Column::Id)
            .from(link::Entity)
            .cond_where(selection)
            .order_by(link::Column::ExpiresAt, Order::Asc)
            .limit(batch)
            .to_owned();
        let mut update = link::Entity::update_many();
        for (column, value) in set {
            update = update.col_expr(column, Expr::value(value));
        }
        return update
            .filter(link::Column::Id.in_subquery(ids))
            .filter(link::Column::Status.eq(from))
            .exec_with_returning(txn)
            .await;
    }
    let picked = Alias::new("picked");
    let select = Query::select()
        .column(link::Column::Id)
        .from(link::Entity)
        .cond_where(selection)
        .order_by(link::Column::ExpiresAt, Order::Asc)
        .limit(batch)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    let cte = CommonTableExpression::new()
        .query(select)
        .table_name(picked.clone())
        .to_owned();
    let update = Query::update()
        .table(link::Entity)
        .values(set.into_iter().map(|(c, v)| (c, Expr::value(v))))
        .from(picked.clone())
        .and_where(Expr::col((link::Entity, link::Column::Id)).equals((picked, link::Column::Id)))
        .and_where(Expr::col((link::Entity, link::Column::Status)).eq(Expr::value(from)))
        .returning(
            Query::returning().exprs(link::Column::iter().map(|c| Expr::col((link::Entity, c)))),
        )
        .to_owned();
    let (sql, values) = update
        .with(WithClause::new().cte(cte).to_owned())
        .build(PostgresQueryBuilder);
    link::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            sql,
            values,
        ))
        .all(txn)
        .await
}

async fn accounts_of(
    db: &impl ConnectionTrait,
    links: &[link::Model],
) -> Result<Vec<social_account::Model>, sea_orm::DbErr> {
    if links.is_empty() {
        return Ok(Vec::new());
    }
    social_account::Entity::find()
        .filter(social_account::Column::Id.is_in(links.iter().map(|l| l.account_id)))
        .all(db)
        .await
}

async fn record_transitions(
    db: &impl ConnectionTrait,
    moved: &[link::Model],
    from: LinkStatus,
    to: LinkStatus,
    now: DateTime<Utc>,
    reason: impl Fn(&link::Model) -> Option<String>,
) -> Result<(), sea_orm::DbErr> {
    let accounts = accounts_of(db, moved).await?;
    let events: Vec<NewEvent> = moved
        .iter()
        .filter_map(|l| {
            let account = accounts.iter().find(|a| a.id == l.account_id)?;
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
            if let Some(account) = accounts.iter().find(|a| a.id == l.account_id) {
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

/// One INSERT for the whole batch.
async fn insert_events(
    db: &impl ConnectionTrait,
    events: Vec<NewEvent>,
) -> Result<(), sea_orm::DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    link_event::Entity::insert_many(events.into_iter().map(events::active_model))
        .exec_without_returning(db)
        .await?;
    Ok(())
}
