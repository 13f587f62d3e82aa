//! Daily platform quota budgets shared by every worker (the counter lives in the database, in
//! `platform_quota`). YouTube's Data API gives a Cloud project 10,000 units a day, reset at
//! midnight America/Los_Angeles; every `videos.list` call costs 1 unit whatever the number of ids
//! (platforms.md). A purpose (e.g. campaign content pulls) gets its own budget so it cannot starve
//! the regular pulls.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entities::platform_quota;
use crate::error::DomainResult;
use crate::kinds::Provider;
use crate::platforms::pacific_offset_hours;

/// What campaign content pulls spend their units under.
pub const CAMPAIGN_CONTENT: &str = "campaign_content";

/// Units one YouTube `videos.list` request costs (up to 50 ids).
pub const YOUTUBE_VIDEOS_LIST: i64 = 1;

/// The quota day `now` falls in: the Pacific date for Google, the UTC date elsewhere.
pub fn quota_day(provider: Provider, now: DateTime<Utc>) -> NaiveDate {
    match provider {
        Provider::Google => (now + Duration::hours(pacific_offset_hours(now))).date_naive(),
        _ => now.date_naive(),
    }
}

/// Spends `units` of `provider`'s `purpose` budget for today when they fit under `budget`, in
/// one conditional update (so concurrent workers never overspend together). Returns false, and
/// remembers the refusal, when they do not fit.
pub async fn try_spend(
    db: &impl ConnectionTrait,
    provider: Provider,
    purpose: &str,
    units: i64,
    budget: i64,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let day = quota_day(provider, now);
    platform_quota::Entity::insert(platform_quota::ActiveModel {
        provider: Set(provider.as_str().to_owned()),
        purpose: Set(purpose.to_owned()),
        day: Set(day),
        units_spent: Set(0),
        refused_at: Set(None),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            platform_quota::Column::Provider,
            platform_quota::Column::Purpose,
            platform_quota::Column::Day,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let spent = platform_quota::Entity::update_many()
        .col_expr(
            platform_quota::Column::UnitsSpent,
            Expr::col(platform_quota::Column::UnitsSpent).add(units),
        )
        .col_expr(platform_quota::Column::UpdatedAt, Expr::value(now))
        .filter(platform_quota::Column::Provider.eq(provider.as_str()))
        .filter(platform_quota::Column::Purpose.eq(purpose))
        .filter(platform_quota::Column::Day.eq(day))
        .filter(platform_quota::Column::UnitsSpent.lte(budget - units))
        .exec(db)
        .await?;
    if spent.rows_affected == 1 {
        return Ok(true);
    }
    platform_quota::Entity::update_many()
        .col_expr(platform_quota::Column::RefusedAt, Expr::value(Some(now)))
        .col_expr(platform_quota::Column::UpdatedAt, Expr::value(now))
        .filter(platform_quota::Column::Provider.eq(provider.as_str()))
        .filter(platform_quota::Column::Purpose.eq(purpose))
        .filter(platform_quota::Column::Day.eq(day))
        .exec(db)
        .await?;
    tracing::warn!(
        provider = provider.as_str(),
        purpose,
        budget,
        "daily quota budget exhausted"
    );
    Ok(false)
}

/// Records that the platform itself refused for quota today (its own counter ran out before
/// ours), so the campaigns show they are slowed.
pub async fn mark_refused(
    db: &impl ConnectionTrait,
    provider: Provider,
    purpose: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    try_spend(db, provider, purpose, 0, i64::MIN / 2, now).await?;
    Ok(())
}

/// Today's use of a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub day: NaiveDate,
    pub units_spent: i64,
    /// When a spend was last refused today; `Some` means pulls are being held back.
    pub refused_at: Option<DateTime<Utc>>,
}

/// How much of `provider`'s `purpose` budget today has used.
pub async fn usage(
    db: &impl ConnectionTrait,
    provider: Provider,
    purpose: &str,
    now: DateTime<Utc>,
) -> DomainResult<Usage> {
    let day = quota_day(provider, now);
    let row =
        platform_quota::Entity::find_by_id((provider.as_str().to_owned(), purpose.to_owned(), day))
            .one(db)
            .await?;
    Ok(Usage {
        day,
        units_spent: row.as_ref().map_or(0, |r| r.units_spent),
        refused_at: row.and_then(|r| r.refused_at),
    })
}
