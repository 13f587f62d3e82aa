//! `creatorlink seed`: realistic demo data, so the API can be explored right away. Profiles
//! (individuals and groups with members), accounts on every platform in every link status, 90 days
//! of daily metrics, media with metrics, Instagram stories (live and expired) and audiences
//! (including a YouTube channel too small to have one).
//!
//! Rows are built in memory a batch of profiles at a time and written with multi-row inserts in
//! chunks, one transaction per batch, so large runs stay fast on both databases. Seeded links
//! carry no tokens: they show statuses and data, but jobs have nothing to refresh with.

use chrono::{Duration, Utc};
use domain::entities::{
    audience, creator_profile, creator_profile_member, link, media, media_metric, metric_snapshot,
    social_account,
};
use domain::kinds::{InvalidReason, LinkStatus, MediaKind, Platform, ProfileKind};
use domain::OrgId;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ActiveModelTrait, DatabaseConnection, DbErr, EntityTrait, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

/// Profiles written per transaction.
const BATCH: usize = 100;
/// Rows per INSERT statement; keeps every statement under SQLite's bound-variable limit.
const CHUNK: usize = 500;
/// Days of metric history per authenticated account.
const DAYS: i64 = 90;

const FIRST: &[&str] = &[
    "Ana", "Bo", "Cleo", "Dev", "Emi", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lola", "Milo",
    "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tess",
];
const LAST: &[&str] = &[
    "Lima", "Chen", "Okafor", "Novak", "Silva", "Haddad", "Berg", "Tanaka", "Rossi", "Kim",
    "Moreau", "Singh", "Costa", "Ivanova", "Park",
];

/// How many rows a seed run wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeedSummary {
    pub profiles: usize,
    pub accounts: usize,
    pub metric_snapshots: usize,
    pub media: usize,
}

#[derive(Default)]
struct Rows {
    profiles: Vec<creator_profile::ActiveModel>,
    members: Vec<creator_profile_member::ActiveModel>,
    accounts: Vec<social_account::ActiveModel>,
    links: Vec<link::ActiveModel>,
    metrics: Vec<metric_snapshot::ActiveModel>,
    media: Vec<media::ActiveModel>,
    media_metrics: Vec<media_metric::ActiveModel>,
    audiences: Vec<audience::ActiveModel>,
}

/// Writes `count` profiles with their accounts and data into `org`. `seed` makes runs
/// repeatable; `progress` shows a progress bar on the terminal.
pub async fn seed(
    db: &DatabaseConnection,
    org: OrgId,
    count: usize,
    seed: u64,
    progress: bool,
) -> Result<SeedSummary, DbErr> {
    let mut rng = StdRng::seed_from_u64(seed);
    let bar = if progress {
        ProgressBar::new(count as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} profiles ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut summary = SeedSummary::default();
    let mut done = 0;
    while done < count {
        let n = BATCH.min(count - done);
        let rows = build(&mut rng, org, done, n);
        summary.profiles += rows.profiles.len();
        summary.accounts += rows.accounts.len();
        summary.metric_snapshots += rows.metrics.len();
        summary.media += rows.media.len();
        let txn = db.begin().await?;
        insert_chunks(&txn, rows.profiles).await?;
        insert_chunks(&txn, rows.members).await?;
        insert_chunks(&txn, rows.accounts).await?;
        insert_chunks(&txn, rows.links).await?;
        insert_chunks(&txn, rows.metrics).await?;
        insert_chunks(&txn, rows.media).await?;
        insert_chunks(&txn, rows.media_metrics).await?;
        insert_chunks(&txn, rows.audiences).await?;
        txn.commit().await?;
        done += n;
        bar.set_position(done as u64);
    }
    bar.finish_and_clear();
    Ok(summary)
}

async fn insert_chunks<A>(db: &impl sea_orm::ConnectionTrait, rows: Vec<A>) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send,
{
    let mut rows = rows;
    while !rows.is_empty() {
        let rest = rows.split_off(CHUNK.min(rows.len()));
        <A::Entity as EntityTrait>::insert_many(rows)
            .exec_without_returning(db)
            .await?;
        rows = rest;
    }
    Ok(())
}

/// The statuses seeded accounts cycle through, so every badge appears.
const STATUSES: &[(LinkStatus, Option<InvalidReason>)] = &[
    (LinkStatus::Linked, None),
    (LinkStatus::Linked, None),
    (LinkStatus::ExpiringSoon, None),
    (LinkStatus::Expired, None),
    (LinkStatus::NotLinked, None),
    (LinkStatus::Invalid, Some(InvalidReason::PasswordChanged)),
    (LinkStatus::Linked, None),
    (LinkStatus::Invalid, Some(InvalidReason::PermissionsRevoked)),
    (LinkStatus::Invalid, Some(InvalidReason::Unlinked)),
];

fn build(rng: &mut StdRng, org: OrgId, offset: usize, n: usize) -> Rows {
    use sea_orm::Set;
    let now = Utc::now();
    let mut rows = Rows::default();
    let mut individuals = Vec::new();
    for i in 0..n {
        let index = offset + i;
        let id = Uuid::now_v7();
        // Every tenth profile is a group of the previous individuals.
        let kind = if index % 10 == 9 {
            ProfileKind::Group
        } else {
            ProfileKind::Individual
        };
        let name = match kind {
            ProfileKind::Group => format!("The {} Collective", LAST[index % LAST.len()]),
            ProfileKind::Individual => format!(
                "{} {}",
                FIRST[rng.gen_range(0..FIRST.len())],
                LAST[rng.gen_range(0..LAST.len())]
            ),
        };
        let created = now - Duration::days(rng.gen_range(1..365));
        rows.profiles.push(creator_profile::ActiveModel {
            id: Set(id),
            organization_id: Set(org.uuid()),
            kind: Set(kind),
            name: Set(name.clone()),
            email: Set(Some(format!(
                "{}@example.com",
                name.to_lowercase().replace(' ', ".")
            ))),
            notes: Set(None),
            created_at: Set(created),
            updated_at: Set(created),
        });
        if kind == ProfileKind::Group {
            for member in individuals.drain(..).take(3) {
                rows.members.push(creator_profile_member::ActiveModel {
                    organization_id: Set(org.uuid()),
                    group_id: Set(id),
                    member_id: Set(member),
                    created_at: Set(created),
                });
            }
        } else {
            individuals.push(id);
        }
        // The id's random tail keeps handles unique across runs.
        let tag = &id.simple().to_string()[26..];
        let slug: String = name
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let platforms = [
            Platform::Instagram,
            Platform::Tiktok,
            Platform::Youtube,
            Platform::Facebook,
        ];
        let accounts = 1 + rng.gen_range(0..platforms.len());
        for (k, platform) in platforms.iter().take(accounts).enumerate() {
            let (status, reason) = STATUSES[(index + k) % STATUSES.len()];
            account(
                rng,
                &mut rows,
                org,
                id,
                *platform,
                &format!("{slug}_{tag}"),
                status,
                reason,
            );
        }
    }
    rows
}

#[allow(clippy::too_many_arguments)]
fn account(
    rng: &mut StdRng,
    rows: &mut Rows,
    org: OrgId,
    profile: Uuid,
    platform: Platform,
    handle: &str,
    status: LinkStatus,
    reason: Option<InvalidReason>,
) {
    use sea_orm::Set;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let followers: i64 = rng.gen_range(300..2_000_000);
    let url = match platform {
        Platform::Instagram => format!("https://www.instagram.com/{handle}/"),
        Platform::Tiktok => format!("https://www.tiktok.com/@{handle}"),
        Platform::Youtube => format!("https://www.youtube.com/@{handle}"),
        Platform::Facebook => format!("https://www.facebook.com/{handle}"),
    };
    let authenticated = status != LinkStatus::NotLinked;
    rows.accounts.push(social_account::ActiveModel {
        id: Set(id),
        organization_id: Set(org.uuid()),
        profile_id: Set(Some(profile)),
        platform: Set(platform),
        handle: Set(handle.to_owned()),
        handle_lower: Set(handle.to_lowercase()),
        url: Set(url),
        platform_user_id: Set(
            authenticated.then(|| rng.gen_range(10_u64.pow(15)..10_u64.pow(16)).to_string())
        ),
        display_name: Set(Some(handle.replace('_', " "))),
        avatar_url: Set(Some(format!("https://picsum.photos/seed/{handle}/200"))),
        followers: Set(authenticated.then_some(followers)),
        followers_hidden: Set(false),
        paired_account_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    });
    // When the creator authenticated, chosen so the derived status is the one wanted.
    let authenticated_at = match status {
        LinkStatus::Linked => Some(now - Duration::days(rng.gen_range(0..70))),
        LinkStatus::ExpiringSoon => Some(now - Duration::days(rng.gen_range(77..89))),
        LinkStatus::Expired => Some(now - Duration::days(rng.gen_range(91..200))),
        LinkStatus::Invalid => Some(now - Duration::days(rng.gen_range(5..60))),
        LinkStatus::NotLinked => None,
    };
    let scopes = match platform {
        Platform::Instagram | Platform::Facebook => {
            "instagram_basic instagram_manage_insights pages_show_list pages_read_engagement"
        }
        Platform::Tiktok => "user.info.basic user.info.stats video.list",
        Platform::Youtube => "youtube.readonly yt-analytics.readonly",
    };
    rows.links.push(link::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        account_id: Set(id),
        provider_user_id: Set(None),
        status: Set(status),
        invalid_reason: Set(reason),
        authenticated_at: Set(authenticated_at),
        expires_at: Set(authenticated_at.map(|at| at + Duration::days(90))),
        expiry_cause: Set(authenticated_at.map(|_| "NINETY_DAYS".to_owned())),
        access_token: Set(None),
        refresh_token: Set(None),
        access_token_expires_at: Set(None),
        refresh_token_expires_at: Set(None),
        data_access_expires_at: Set(None),
        requested_scopes: Set(scopes.to_owned()),
        granted_scopes: Set(if authenticated {
            scopes.to_owned()
        } else {
            String::new()
        }),
        last_refreshed_at: Set(authenticated_at),
        last_synced_at: Set(authenticated_at.map(|_| now - Duration::hours(rng.gen_range(1..30)))),
        last_error: Set(None),
        last_error_at: Set(None),
        refresh_failures: Set(0),
        next_refresh_at: Set(None),
        warned_at: Set(None),
        version: Set(1),
        lease_owner: Set(None),
        lease_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    });
    if !authenticated {
        return;
    }
    let today = now.date_naive();
    let mut current = followers - rng.gen_range(0..followers / 10 + 1);
    for d in (0..DAYS).rev() {
        current += rng.gen_range(0..(followers / 500 + 2));
        let views = current / rng.gen_range(3..20);
        let engagements = views / rng.gen_range(10..40);
        rows.metrics.push(metric_snapshot::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org.uuid()),
            account_id: Set(id),
            day: Set(today - Duration::days(d)),
            followers: Set(Some(current)),
            views: Set(Some(views)),
            reach: Set(Some(views * 7 / 10)),
            engagements: Set(Some(engagements)),
            video_views: Set((platform != Platform::Facebook).then_some(views / 2)),
            likes: Set(Some(engagements * 8 / 10)),
            comments: Set(Some(engagements / 10)),
            shares: Set(Some(engagements / 20)),
            saves: Set(Some(engagements / 25)),
            extra: Set(None),
            fetched_at: Set(now),
        });
    }
    let kinds: &[MediaKind] = match platform {
        Platform::Instagram => &[MediaKind::Post, MediaKind::Reel],
        Platform::Tiktok => &[MediaKind::Video],
        Platform::Youtube => &[MediaKind::Video, MediaKind::Reel],
        Platform::Facebook => &[MediaKind::Post, MediaKind::Video],
    };
    for m in 0..8 {
        let kind = kinds[m % kinds.len()];
        let taken_at = now - Duration::hours(rng.gen_range(24..24 * 90));
        push_media(rng, rows, org, id, kind, taken_at, None, m);
    }
    if platform == Platform::Instagram {
        // One story still live, two expired but captured.
        for (m, hours) in [2_i64, 30, 60].into_iter().enumerate() {
            let taken_at = now - Duration::hours(hours);
            push_media(
                rng,
                rows,
                org,
                id,
                MediaKind::Story,
                taken_at,
                Some(taken_at + Duration::hours(24)),
                100 + m,
            );
        }
    }
    let too_small = platform == Platform::Youtube && followers < 1000;
    rows.audiences.push(audience::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        account_id: Set(id),
        unavailable_reason: Set(too_small.then(|| {
            "YouTube shows audiences only for channels with 1,000 subscribers or more".to_owned()
        })),
        age: Set((!too_small).then(
            || json!({"13-17": 0.05, "18-24": 0.38, "25-34": 0.34, "35-44": 0.15, "45+": 0.08}),
        )),
        gender: Set((!too_small).then(|| json!({"F": 0.58, "M": 0.4, "U": 0.02}))),
        country: Set((!too_small)
            .then(|| json!({"US": 0.41, "BR": 0.14, "GB": 0.09, "DE": 0.06, "IN": 0.05}))),
        fetched_at: Set(now),
    });
}

#[allow(clippy::too_many_arguments)]
fn push_media(
    rng: &mut StdRng,
    rows: &mut Rows,
    org: OrgId,
    account: Uuid,
    kind: MediaKind,
    taken_at: chrono::DateTime<Utc>,
    expires_at: Option<chrono::DateTime<Utc>>,
    n: usize,
) {
    use sea_orm::Set;
    let id = Uuid::now_v7();
    let code = format!("{}{n}", &id.simple().to_string()[20..]);
    rows.media.push(media::ActiveModel {
        id: Set(id),
        organization_id: Set(org.uuid()),
        account_id: Set(account),
        platform_media_id: Set(code.clone()),
        kind: Set(kind),
        caption: Set(Some(format!("Demo {kind:?} #{n}").to_lowercase())),
        permalink: Set(Some(format!("https://example.com/media/{code}"))),
        media_url: Set(None),
        thumbnail_url: Set(Some(format!("https://picsum.photos/seed/{code}/320"))),
        taken_at: Set(taken_at),
        expires_at: Set(expires_at),
        first_seen_at: Set(taken_at),
        updated_at: Set(taken_at),
    });
    let views: i64 = rng.gen_range(200..500_000);
    let likes = views / rng.gen_range(8..30);
    rows.media_metrics.push(media_metric::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        media_id: Set(id),
        captured_at: Set(expires_at
            .map_or(Utc::now(), |at| at - Duration::minutes(30))
            .min(Utc::now())),
        views: Set(Some(views)),
        reach: Set(Some(views * 8 / 10)),
        likes: Set(Some(likes)),
        comments: Set(Some(likes / 12)),
        shares: Set(Some(likes / 30)),
        saves: Set(Some(likes / 40)),
        engagements: Set(Some(likes + likes / 12 + likes / 30 + likes / 40)),
        video_views: Set((kind != MediaKind::Post).then_some(views)),
        replies: Set((kind == MediaKind::Story).then_some(likes / 50)),
        extra: Set(None),
    });
}
