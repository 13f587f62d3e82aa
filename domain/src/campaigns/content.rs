//! Campaign content: matching media against campaigns (when media are pulled, when a campaign
//! starts or changes), adding a post by its link, removing content (audited), and telling the
//! brand when an account with campaign content breaks.
//!
//! A match is recorded once: `campaign_content` is unique on (campaign, media) and every insert
//! is `ON CONFLICT DO NOTHING`, so concurrent pulls of the same media agree, and a removed item
//! (its row kept with `removed_at`) is never matched again by the rules.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::matcher::{self, Rules};
use super::{cadence, covered_accounts, get, CampaignAccess};
use crate::accounts::handle::{parse_media_url, MediaRef};
use crate::actor::Actor;
use crate::entities::{
    campaign, campaign_content, campaign_post_url, campaign_profile, creator_profile_member, media,
    social_account,
};
use crate::error::{DomainError, DomainResult};
use crate::events::{self, kind, NewEvent};
use crate::kinds::{CampaignStatus, LinkStatus, MatchedBy};
use crate::tenant::OrgId;

/// What `addCampaignPost` did.
#[derive(Debug, Clone)]
pub enum AddedPost {
    /// The post was already pulled: it is campaign content now.
    Tracked(campaign_content::Model),
    /// The post has not been pulled yet: the link is kept as a rule and the post becomes content
    /// as soon as a pull brings it.
    Pending(campaign_post_url::Model),
}

/// The link's key for a media row: the id in its permalink (Instagram shortcodes) when the
/// permalink reads as a post link, else the platform's id.
fn media_keys(m: &media::Model) -> Vec<String> {
    let mut keys = vec![m.platform_media_id.clone()];
    if let Some(parsed) = m.permalink.as_deref().and_then(|p| parse_media_url(p).ok()) {
        keys.push(parsed.media_id().to_owned());
    }
    keys
}

fn url_matches(
    rule: &campaign_post_url::Model,
    account: &social_account::Model,
    m: &media::Model,
) -> bool {
    rule.platform == account.platform && media_keys(m).contains(&rule.media_key)
}

/// Which rule, if any, makes `m` content of `campaign`: an explicit link first (whatever the
/// dates: adding a link is deliberate), then the caption rules inside the dates.
fn decide(
    campaign: &campaign::Model,
    urls: &[campaign_post_url::Model],
    account: &social_account::Model,
    m: &media::Model,
) -> Option<(MatchedBy, String)> {
    if let Some(rule) = urls.iter().find(|u| url_matches(u, account, m)) {
        return Some((MatchedBy::Url, rule.url.clone()));
    }
    let rules = Rules::from_stored(&campaign.hashtags, &campaign.mentions);
    matcher::matches(
        &rules,
        campaign.starts_at,
        campaign.ends_at,
        m.taken_at,
        m.caption.as_deref(),
    )
    .map(|hit| (hit.by, hit.rule))
}

/// Records `m` as content of `campaign` unless it already is (or was, and was removed); returns
/// the new row, and writes its `CAMPAIGN_CONTENT_MATCHED` event in the same connection.
async fn record_match(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
    account: &social_account::Model,
    m: &media::Model,
    (by, rule): (MatchedBy, String),
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<Option<campaign_content::Model>> {
    let row = campaign_content::Model {
        id: Uuid::now_v7(),
        organization_id: campaign.organization_id,
        campaign_id: campaign.id,
        media_id: m.id,
        account_id: account.id,
        profile_id: account.profile_id,
        matched_by: by,
        matched_rule: Some(rule),
        matched_at: now,
        removed_at: None,
        removed_by: None,
        last_pulled_at: None,
        next_pull_at: Some(now),
    };
    let active: campaign_content::ActiveModel = row.clone().into();
    let inserted = campaign_content::Entity::insert(active)
        .on_conflict(
            OnConflict::columns([
                campaign_content::Column::CampaignId,
                campaign_content::Column::MediaId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 0 {
        return Ok(None);
    }
    content_event(
        db,
        kind::CAMPAIGN_CONTENT_MATCHED,
        account,
        &row,
        actor,
        now,
    )
    .await?;
    tracing::info!(campaign_id = %campaign.id, media_id = %m.id, matched_by = by.as_str(), "campaign content matched");
    Ok(Some(row))
}

async fn content_event(
    db: &impl ConnectionTrait,
    event_kind: &'static str,
    account: &social_account::Model,
    row: &campaign_content::Model,
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    events::record(
        db,
        NewEvent {
            org: OrgId::new(row.organization_id),
            account_id: Some(account.id),
            profile_id: account.profile_id,
            platform: Some(account.platform),
            kind: event_kind,
            from: None,
            to: None,
            reason: None,
            actor: actor.clone(),
            detail: Some(json!({
                "campaignId": row.campaign_id,
                "contentId": row.id,
                "mediaId": row.media_id,
                "matchedBy": row.matched_by.as_str(),
                "rule": row.matched_rule,
            })),
            occurred_at: now,
        },
    )
    .await?;
    Ok(())
}

/// Matches freshly pulled media against the organization's ACTIVE campaigns whose participants
/// hold their accounts; the pull jobs call this after upserting media and stories. Returns the
/// content rows created (already-matched media are skipped, so a re-pull is harmless).
#[tracing::instrument(skip(db, media_ids), fields(org = %org, media = media_ids.len()))]
pub async fn match_new_media(
    db: &impl ConnectionTrait,
    org: OrgId,
    media_ids: &[Uuid],
    now: DateTime<Utc>,
) -> DomainResult<Vec<campaign_content::Model>> {
    if media_ids.is_empty() {
        return Ok(Vec::new());
    }
    let items = media::Entity::find()
        .filter(media::Column::OrganizationId.eq(org.uuid()))
        .filter(media::Column::Id.is_in(media_ids.iter().copied()))
        .all(db)
        .await?;
    let accounts: HashMap<Uuid, social_account::Model> = social_account::Entity::find()
        .filter(social_account::Column::OrganizationId.eq(org.uuid()))
        .filter(social_account::Column::Id.is_in(items.iter().map(|m| m.account_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let profiles: BTreeSet<Uuid> = accounts.values().filter_map(|a| a.profile_id).collect();
    if profiles.is_empty() {
        return Ok(Vec::new());
    }
    // A profile takes part directly or through a GROUP profile it is a member of.
    let mut groups_of: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for m in creator_profile_member::Entity::find()
        .filter(creator_profile_member::Column::OrganizationId.eq(org.uuid()))
        .filter(creator_profile_member::Column::MemberId.is_in(profiles.iter().copied()))
        .all(db)
        .await?
    {
        groups_of.entry(m.member_id).or_default().push(m.group_id);
    }
    let candidates: BTreeSet<Uuid> = profiles
        .iter()
        .copied()
        .chain(groups_of.values().flatten().copied())
        .collect();
    let participations = campaign_profile::Entity::find()
        .filter(campaign_profile::Column::OrganizationId.eq(org.uuid()))
        .filter(campaign_profile::Column::ProfileId.is_in(candidates.iter().copied()))
        .all(db)
        .await?;
    let campaigns: HashMap<Uuid, campaign::Model> = campaign::Entity::find()
        .filter(campaign::Column::OrganizationId.eq(org.uuid()))
        .filter(campaign::Column::Status.eq(CampaignStatus::Active))
        .filter(campaign::Column::Id.is_in(participations.iter().map(|p| p.campaign_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let urls = post_urls(db, org, campaigns.keys().copied()).await?;
    let mut created = Vec::new();
    let actor = Actor::system("campaign-matcher");
    for m in &items {
        let Some(account) = accounts.get(&m.account_id) else {
            continue;
        };
        let Some(profile) = account.profile_id else {
            continue;
        };
        let mut holders = vec![profile];
        holders.extend(groups_of.get(&profile).into_iter().flatten().copied());
        let campaign_ids: BTreeSet<Uuid> = participations
            .iter()
            .filter(|p| holders.contains(&p.profile_id))
            .map(|p| p.campaign_id)
            .collect();
        for id in campaign_ids {
            let Some(campaign) = campaigns.get(&id) else {
                continue;
            };
            let rules_of = urls.get(&id).map(Vec::as_slice).unwrap_or_default();
            if let Some(hit) = decide(campaign, rules_of, account, m) {
                if let Some(row) = record_match(db, campaign, account, m, hit, &actor, now).await? {
                    created.push(row);
                }
            }
        }
    }
    Ok(created)
}

/// Matches everything the campaign's participants have already published (a campaign that
/// starts, widens its rules or gains a profile).
pub(crate) async fn match_campaign(
    db: &impl ConnectionTrait,
    org: OrgId,
    campaign: &campaign::Model,
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<Vec<campaign_content::Model>> {
    let accounts: HashMap<Uuid, social_account::Model> = covered_accounts(db, org, campaign.id)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let urls = post_urls(db, org, [campaign.id])
        .await?
        .remove(&campaign.id)
        .unwrap_or_default();
    let mut select = media::Entity::find()
        .filter(media::Column::OrganizationId.eq(org.uuid()))
        .filter(media::Column::AccountId.is_in(accounts.keys().copied()));
    if urls.is_empty() {
        select = select.filter(
            Condition::all()
                .add(media::Column::TakenAt.gte(campaign.starts_at))
                .add(media::Column::TakenAt.lte(campaign.ends_at)),
        );
    }
    let mut created = Vec::new();
    for m in select.order_by_asc(media::Column::TakenAt).all(db).await? {
        let Some(account) = accounts.get(&m.account_id) else {
            continue;
        };
        if let Some(hit) = decide(campaign, &urls, account, &m) {
            if let Some(row) = record_match(db, campaign, account, &m, hit, actor, now).await? {
                created.push(row);
            }
        }
    }
    Ok(created)
}

async fn post_urls(
    db: &impl ConnectionTrait,
    org: OrgId,
    campaign_ids: impl IntoIterator<Item = Uuid>,
) -> DomainResult<HashMap<Uuid, Vec<campaign_post_url::Model>>> {
    let mut by_campaign: HashMap<Uuid, Vec<campaign_post_url::Model>> = HashMap::new();
    for rule in campaign_post_url::Entity::find()
        .filter(campaign_post_url::Column::OrganizationId.eq(org.uuid()))
        .filter(campaign_post_url::Column::CampaignId.is_in(campaign_ids))
        .all(db)
        .await?
    {
        by_campaign.entry(rule.campaign_id).or_default().push(rule);
    }
    Ok(by_campaign)
}

fn not_participating(message: impl Into<String>) -> DomainError {
    DomainError::invalid("NOT_PARTICIPATING", Some("url"), message)
}

/// Adds a post, reel or video to a campaign by its link (every usual URL form of
/// `accounts::handle::parse_media_url`). A post of an account that is not on a participating
/// profile is refused (`NOT_PARTICIPATING`); a post not pulled yet is kept as a rule
/// ([`AddedPost::Pending`]); a removed post added again is restored.
#[tracing::instrument(skip(db, url), fields(org = %org, campaign_id = %campaign_id))]
pub async fn add_post_by_url(
    db: &impl ConnectionTrait,
    org: OrgId,
    campaign_id: Uuid,
    url: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<AddedPost> {
    let campaign = get(db, org, &CampaignAccess::All, campaign_id).await?;
    let link: MediaRef = parse_media_url(url)
        .map_err(|e| DomainError::invalid(e.code(), Some("url"), e.to_string()))?;
    let covered: HashMap<Uuid, social_account::Model> = covered_accounts(db, org, campaign_id)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    if !covered.values().any(|a| a.platform == link.platform()) {
        return Err(not_participating(format!(
            "no creator taking part in this campaign has a {} account",
            link.platform().as_str().to_lowercase()
        )));
    }
    if let Some(handle) = link.handle() {
        let lower = handle.to_lowercase();
        if !covered
            .values()
            .any(|a| a.platform == link.platform() && a.handle_lower == lower)
        {
            return Err(not_participating(format!(
                "@{handle} is not an account of a creator taking part in this campaign"
            )));
        }
    }
    let platform_accounts: HashMap<Uuid, social_account::Model> = social_account::Entity::find()
        .filter(social_account::Column::OrganizationId.eq(org.uuid()))
        .filter(social_account::Column::Platform.eq(link.platform()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let found = media::Entity::find()
        .filter(media::Column::OrganizationId.eq(org.uuid()))
        .filter(media::Column::AccountId.is_in(platform_accounts.keys().copied()))
        .filter(
            Condition::any()
                .add(media::Column::PlatformMediaId.eq(link.media_id()))
                .add(media::Column::Permalink.contains(link.media_id())),
        )
        .all(db)
        .await?
        .into_iter()
        .find(|m| media_keys(m).iter().any(|k| k == link.media_id()));
    let rule = campaign_post_url::Model {
        id: Uuid::now_v7(),
        organization_id: org.uuid(),
        campaign_id,
        platform: link.platform(),
        media_key: link.media_id().to_owned(),
        url: link.url().to_owned(),
        added_by: actor.label(),
        added_at: now,
    };
    let Some(m) = found else {
        save_rule(db, &rule).await?;
        let stored = campaign_post_url::Entity::find()
            .filter(campaign_post_url::Column::CampaignId.eq(campaign_id))
            .filter(campaign_post_url::Column::Platform.eq(link.platform()))
            .filter(campaign_post_url::Column::MediaKey.eq(link.media_id()))
            .one(db)
            .await?
            .unwrap_or(rule);
        return Ok(AddedPost::Pending(stored));
    };
    let Some(account) = covered.get(&m.account_id) else {
        return Err(not_participating(
            "this post belongs to an account that is not on a creator profile taking part in this campaign",
        ));
    };
    save_rule(db, &rule).await?;
    if let Some(row) = record_match(
        db,
        &campaign,
        account,
        &m,
        (MatchedBy::Url, link.url().to_owned()),
        actor,
        now,
    )
    .await?
    {
        return Ok(AddedPost::Tracked(row));
    }
    let existing = campaign_content::Entity::find()
        .filter(campaign_content::Column::OrganizationId.eq(org.uuid()))
        .filter(campaign_content::Column::CampaignId.eq(campaign_id))
        .filter(campaign_content::Column::MediaId.eq(m.id))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("campaign content"))?;
    if existing.removed_at.is_none() {
        return Ok(AddedPost::Tracked(existing));
    }
    let mut restored: campaign_content::ActiveModel = existing.into();
    restored.removed_at = Set(None);
    restored.removed_by = Set(None);
    restored.matched_by = Set(MatchedBy::Url);
    restored.matched_rule = Set(Some(link.url().to_owned()));
    restored.matched_at = Set(now);
    restored.next_pull_at = Set(Some(now));
    let restored = restored.update(db).await?;
    content_event(
        db,
        kind::CAMPAIGN_CONTENT_MATCHED,
        account,
        &restored,
        actor,
        now,
    )
    .await?;
    Ok(AddedPost::Tracked(restored))
}

async fn save_rule(db: &impl ConnectionTrait, rule: &campaign_post_url::Model) -> DomainResult<()> {
    let active: campaign_post_url::ActiveModel = rule.clone().into();
    campaign_post_url::Entity::insert(active)
        .on_conflict(
            OnConflict::columns([
                campaign_post_url::Column::CampaignId,
                campaign_post_url::Column::Platform,
                campaign_post_url::Column::MediaKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Takes content out of a campaign: the row stays with who removed it and when (so rules never
/// bring it back and the report no longer counts it), the explicit link rule for it is dropped,
/// and a `CAMPAIGN_CONTENT_REMOVED` event is written.
#[tracing::instrument(skip(db), fields(org = %org, campaign_id = %campaign_id, content_id = %content_id))]
pub async fn remove_content(
    db: &impl ConnectionTrait,
    org: OrgId,
    campaign_id: Uuid,
    content_id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<campaign_content::Model> {
    get(db, org, &CampaignAccess::All, campaign_id).await?;
    let row = campaign_content::Entity::find_by_id(content_id)
        .filter(campaign_content::Column::OrganizationId.eq(org.uuid()))
        .filter(campaign_content::Column::CampaignId.eq(campaign_id))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("campaign content"))?;
    if row.removed_at.is_some() {
        return Err(DomainError::invalid(
            "ALREADY_REMOVED",
            Some("contentId"),
            "this content was already removed from the campaign",
        ));
    }
    let account = social_account::Entity::find_by_id(row.account_id)
        .one(db)
        .await?
        .ok_or(DomainError::not_found("social account"))?;
    let m = media::Entity::find_by_id(row.media_id)
        .one(db)
        .await?
        .ok_or(DomainError::not_found("media"))?;
    campaign_post_url::Entity::delete_many()
        .filter(campaign_post_url::Column::CampaignId.eq(campaign_id))
        .filter(campaign_post_url::Column::Platform.eq(account.platform))
        .filter(campaign_post_url::Column::MediaKey.is_in(media_keys(&m)))
        .exec(db)
        .await?;
    let mut model: campaign_content::ActiveModel = row.into();
    model.removed_at = Set(Some(now));
    model.removed_by = Set(Some(actor.label()));
    model.next_pull_at = Set(None);
    let removed = model.update(db).await?;
    content_event(
        db,
        kind::CAMPAIGN_CONTENT_REMOVED,
        &account,
        &removed,
        actor,
        now,
    )
    .await?;
    Ok(removed)
}

/// A campaign's content with its media, in the order it was matched; removed items only when
/// asked for.
pub async fn list(
    db: &impl ConnectionTrait,
    org: OrgId,
    access: &CampaignAccess,
    campaign_id: Uuid,
    include_removed: bool,
) -> DomainResult<Vec<(campaign_content::Model, media::Model)>> {
    get(db, org, access, campaign_id).await?;
    let mut select = campaign_content::Entity::find()
        .filter(campaign_content::Column::OrganizationId.eq(org.uuid()))
        .filter(campaign_content::Column::CampaignId.eq(campaign_id));
    if !include_removed {
        select = select.filter(campaign_content::Column::RemovedAt.is_null());
    }
    Ok(select
        .find_also_related(media::Entity)
        .order_by_asc(campaign_content::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(c, m)| m.map(|m| (c, m)))
        .collect())
}

/// Tells the brand that `account` broke (`to` is INVALID or EXPIRED) while it has content in an
/// ACTIVE campaign: one `CAMPAIGN_ACCOUNT_BROKEN` event per such campaign, in the caller's
/// transaction. Whoever materializes a link's status change calls this beside writing the
/// `STATUS_CHANGED` event; other statuses are ignored.
pub async fn account_broke(
    db: &impl ConnectionTrait,
    account: &social_account::Model,
    to: LinkStatus,
    reason: Option<String>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> DomainResult<usize> {
    accounts_broke(db, std::slice::from_ref(account), to, reason, actor, at).await
}

/// [`account_broke`] for a batch of accounts that made the same change (the expiry sweep): two
/// reads and one insert whatever the batch size.
pub async fn accounts_broke(
    db: &impl ConnectionTrait,
    accounts: &[social_account::Model],
    to: LinkStatus,
    reason: Option<String>,
    actor: &Actor,
    at: DateTime<Utc>,
) -> DomainResult<usize> {
    if !matches!(to, LinkStatus::Invalid | LinkStatus::Expired) || accounts.is_empty() {
        return Ok(0);
    }
    let content = campaign_content::Entity::find()
        .filter(campaign_content::Column::AccountId.is_in(accounts.iter().map(|a| a.id)))
        .filter(campaign_content::Column::RemovedAt.is_null())
        .all(db)
        .await?;
    if content.is_empty() {
        return Ok(0);
    }
    let active: HashMap<Uuid, campaign::Model> = campaign::Entity::find()
        .filter(campaign::Column::Status.eq(CampaignStatus::Active))
        .filter(campaign::Column::Id.is_in(content.iter().map(|c| c.campaign_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut pairs: BTreeSet<(Uuid, Uuid)> = BTreeSet::new();
    for c in &content {
        if active.contains_key(&c.campaign_id) {
            pairs.insert((c.account_id, c.campaign_id));
        }
    }
    let mut new_events = Vec::new();
    for (account_id, campaign_id) in &pairs {
        let (Some(account), Some(c)) = (
            accounts.iter().find(|a| a.id == *account_id),
            active.get(campaign_id),
        ) else {
            continue;
        };
        if c.organization_id != account.organization_id {
            continue;
        }
        new_events.push(events::active_model(NewEvent {
            org: OrgId::new(account.organization_id),
            account_id: Some(account.id),
            profile_id: account.profile_id,
            platform: Some(account.platform),
            kind: kind::CAMPAIGN_ACCOUNT_BROKEN,
            from: None,
            to: Some(to),
            reason: reason.clone(),
            actor: actor.clone(),
            detail: Some(json!({ "campaignId": c.id, "campaignName": c.name })),
            occurred_at: at,
        }));
    }
    let written = new_events.len();
    if written > 0 {
        crate::entities::link_event::Entity::insert_many(new_events)
            .exec_without_returning(db)
            .await?;
        tracing::info!(events = written, to = ?to, "campaign accounts broke");
    }
    Ok(written)
}

/// Content whose metrics are due for a pull at `now`, soonest first, across organizations (the
/// metrics job's work list; it pulls them and then calls [`record_pull`]).
pub async fn due_for_pull(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> DomainResult<Vec<campaign_content::Model>> {
    use sea_orm::QuerySelect;
    Ok(campaign_content::Entity::find()
        .filter(campaign_content::Column::RemovedAt.is_null())
        .filter(campaign_content::Column::NextPullAt.lte(now))
        .order_by_asc(campaign_content::Column::NextPullAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Records that content `id` was pulled at `at` and schedules the next pull by
/// [`cadence::next_pull_at`]; a second call for the same pull computes the same schedule.
pub async fn record_pull(
    db: &impl ConnectionTrait,
    id: Uuid,
    at: DateTime<Utc>,
) -> DomainResult<campaign_content::Model> {
    let row = campaign_content::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::not_found("campaign content"))?;
    let c = campaign::Entity::find_by_id(row.campaign_id)
        .one(db)
        .await?
        .ok_or(DomainError::not_found("campaign"))?;
    let m = media::Entity::find_by_id(row.media_id)
        .one(db)
        .await?
        .ok_or(DomainError::not_found("media"))?;
    let next = cadence::next_pull_at(&cadence::Item::of(&m), c.ends_at, at);
    let mut model: campaign_content::ActiveModel = row.into();
    model.last_pulled_at = Set(Some(at));
    model.next_pull_at = Set(next);
    Ok(model.update(db).await?)
}

/// The media item behind a content row of the caller's organization.
pub async fn media_of(
    db: &impl ConnectionTrait,
    org: OrgId,
    row: &campaign_content::Model,
) -> DomainResult<media::Model> {
    media::Entity::find_by_id(row.media_id)
        .filter(media::Column::OrganizationId.eq(org.uuid()))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("media"))
}
