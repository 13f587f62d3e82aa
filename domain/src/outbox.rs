//! Reading the `link_event` outbox in order, exactly once per named consumer.
//!
//! **Leases.** A consumer (`live`, `webhooks`) keeps its position in `outbox_cursor`. Any number of
//! processes may run the same consumer; each tick one of them claims the row's lease and only the
//! holder reads and advances, so a batch is handled by one process at a time. A holder that dies
//! simply lets the lease run out.
//!
//! **Gaps.** On PostgreSQL an id is taken from the sequence at insert, not at commit: while the
//! transaction holding id 7 is still open, id 8 can already be visible. A reader that jumped to 8
//! would never see 7. So [`read_batch`] stops at the first missing id and waits for it; a hole that
//! stays open longer than a grace period is a rolled-back transaction (its id is never used) and is
//! skipped. Handing the batch on only up to the hole means no event is published before a lower
//! one, which is what lets subscribers dedupe by "id not above the last one seen".

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entities::{link_event, outbox_cursor};
use crate::error::DomainResult;
use crate::events;

/// Where holes in the id sequence were first seen, so that one open longer than the grace period
/// can be skipped. Kept in memory by the process holding the lease: a new holder simply waits the
/// grace period once more, which costs latency but never an event.
#[derive(Debug, Default)]
pub struct GapTracker {
    first_seen: BTreeMap<i64, DateTime<Utc>>,
}

/// Events ready to hand on, in id order, and the cursor to store once they are handled.
#[derive(Debug)]
pub struct Batch {
    pub events: Vec<link_event::Model>,
    pub cursor: i64,
    /// True when the batch stopped at a hole that may still fill.
    pub waiting_on_gap: bool,
}

/// Reads up to `limit` events after `cursor`, stopping before the first missing id unless that hole
/// has been open for `grace` already (then it is a rollback and is skipped).
pub async fn read_batch(
    db: &impl ConnectionTrait,
    cursor: i64,
    limit: u64,
    grace: Duration,
    gaps: &mut GapTracker,
    now: DateTime<Utc>,
) -> DomainResult<Batch> {
    let rows = link_event::Entity::find()
        .filter(link_event::Column::Id.gt(cursor))
        .order_by_asc(link_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let mut expected = cursor + 1;
    let mut events = Vec::with_capacity(rows.len());
    let mut waiting_on_gap = false;
    for event in rows {
        if event.id > expected {
            let seen = *gaps.first_seen.entry(expected).or_insert(now);
            if now - seen < grace {
                waiting_on_gap = true;
                break;
            }
            tracing::debug!(
                from = expected,
                to = event.id - 1,
                "skipping outbox ids never committed"
            );
        }
        expected = event.id + 1;
        events.push(event);
    }
    let new_cursor = expected - 1;
    // Holes below the cursor are settled one way or the other.
    gaps.first_seen = gaps.first_seen.split_off(&(new_cursor + 1));
    Ok(Batch {
        events,
        cursor: new_cursor,
        waiting_on_gap,
    })
}

/// Makes sure the consumer `name` has a cursor row. A new consumer starts at the current end of
/// the log: it hands on what happens from now on, not the whole history.
pub async fn ensure_cursor(
    db: &impl ConnectionTrait,
    name: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let start = events::max_id(db).await?;
    outbox_cursor::Entity::insert(outbox_cursor::ActiveModel {
        name: Set(name.to_owned()),
        last_event_id: Set(start),
        lease_owner: Set(None),
        lease_until: Set(None),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(outbox_cursor::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Claims (or renews) the lease of consumer `name` for `owner` until `until`; returns the cursor
/// when the lease is ours, `None` when another live holder has it.
pub async fn claim(
    db: &impl ConnectionTrait,
    name: &str,
    owner: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<Option<i64>> {
    // One conditional UPDATE: the database decides between racing claimants.
    let claimed = outbox_cursor::Entity::update_many()
        .col_expr(outbox_cursor::Column::LeaseOwner, Expr::value(owner))
        .col_expr(outbox_cursor::Column::LeaseUntil, Expr::value(until))
        .col_expr(outbox_cursor::Column::UpdatedAt, Expr::value(now))
        .filter(outbox_cursor::Column::Name.eq(name))
        .filter(
            Condition::any()
                .add(outbox_cursor::Column::LeaseOwner.is_null())
                .add(outbox_cursor::Column::LeaseOwner.eq(owner))
                .add(outbox_cursor::Column::LeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(None);
    }
    let cursor = outbox_cursor::Entity::find_by_id(name.to_owned())
        .select_only()
        .column(outbox_cursor::Column::LastEventId)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(cursor)
}

/// Stores `cursor` for `name` if `owner` still holds the lease; false when the lease was lost
/// (the next holder re-reads from the old cursor, and every consumer tolerates a repeat).
pub async fn advance(
    db: &impl ConnectionTrait,
    name: &str,
    owner: &str,
    cursor: i64,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let updated = outbox_cursor::Entity::update_many()
        .col_expr(outbox_cursor::Column::LastEventId, Expr::value(cursor))
        .col_expr(outbox_cursor::Column::UpdatedAt, Expr::value(now))
        .filter(outbox_cursor::Column::Name.eq(name))
        .filter(outbox_cursor::Column::LeaseOwner.eq(owner))
        .filter(outbox_cursor::Column::LastEventId.lte(cursor))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Gives the lease up (on shutdown), so another process takes over without waiting it out.
pub async fn release(db: &impl ConnectionTrait, name: &str, owner: &str) -> DomainResult<()> {
    outbox_cursor::Entity::update_many()
        .col_expr(
            outbox_cursor::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            outbox_cursor::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(outbox_cursor::Column::Name.eq(name))
        .filter(outbox_cursor::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}
