//! The expiry sweep: materializes the clock's transitions LINKED → EXPIRING_SOON (at the window)
//! and → EXPIRED (at `expires_at`) so that each becomes exactly one `link_event`.
//!
//! Set-based: each batch is one `UPDATE … WHERE id IN (SELECT … LIMIT n) AND status = <from>
//! RETURNING …`, then one statement reading the accounts and one inserting the events, in one
//! transaction. The repeated `status = <from>` condition is what makes concurrent sweeps safe:
//! on PostgreSQL a second sweep that selected the same rows waits for the first one's row locks
//! and then re-checks the condition against the committed row, which no longer matches, so it
//! skips the row; on SQLite writers are serialized, and the second sweep's subquery no longer
//! finds the row. Either way a row is returned by exactly one sweep, so it gets exactly one event.
//! Requires `UPDATE … RETURNING`: SQLite ≥ 3.35 or PostgreSQL.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
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
        let ids = Query::select()
            .column(link::Column::Id)
            .from(link::Entity)
            .and_where(link::Column::Status.eq(from))
            .and_where(link::Column::ExpiresAt.lte(now))
            .limit(batch)
            .to_owned();
        let moved = link::Entity::update_many()
            .col_expr(link::Column::Status, Expr::value(LinkStatus::Expired))
            .col_expr(link::Column::UpdatedAt, Expr::value(now))
            .filter(link::Column::Id.in_subquery(ids))
            .filter(link::Column::Status.eq(from))
            .exec_with_returning(&txn)
            .await?;
        record_transitions(&txn, &moved, from, LinkStatus::Expired, now, |l| {
            l.expiry_cause.clone()
        })
        .await?;
        txn.commit().await?;
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
    let ids = Query::select()
        .column(link::Column::Id)
        .from(link::Entity)
        .and_where(link::Column::Status.eq(LinkStatus::Linked))
        .and_where(link::Column::ExpiresAt.gt(now))
        .and_where(link::Column::ExpiresAt.lte(now + window))
        .limit(batch)
        .to_owned();
    let moved = link::Entity::update_many()
        .col_expr(link::Column::Status, Expr::value(LinkStatus::ExpiringSoon))
        .col_expr(link::Column::WarnedAt, Expr::value(now))
        .col_expr(link::Column::UpdatedAt, Expr::value(now))
        .filter(link::Column::Id.in_subquery(ids))
        .filter(link::Column::Status.eq(LinkStatus::Linked))
        .exec_with_returning(&txn)
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
    let ids = Query::select()
        .column(link::Column::Id)
        .from(link::Entity)
        .and_where(link::Column::Status.eq(LinkStatus::ExpiringSoon))
        .and_where(link::Column::ExpiresAt.gt(now))
        .and_where(link::Column::ExpiresAt.lte(final_from))
        .cond_where(
            Condition::any()
                .add(link::Column::WarnedAt.is_null())
                .add(link::Column::WarnedAt.lte(now - FINAL_WARNING)),
        )
        .limit(batch)
        .to_owned();
    let warned = link::Entity::update_many()
        .col_expr(link::Column::WarnedAt, Expr::value(now))
        .col_expr(link::Column::UpdatedAt, Expr::value(now))
        .filter(link::Column::Id.in_subquery(ids))
        .filter(link::Column::Status.eq(LinkStatus::ExpiringSoon))
        .filter(
            Condition::any()
                .add(link::Column::WarnedAt.is_null())
                .add(link::Column::WarnedAt.lte(now - FINAL_WARNING)),
        )
        .exec_with_returning(&txn)
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
    Ok(warned.len() as u64)
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
