//! Campaigns (issue 10): a brand's campaign, the creator profiles taking part, its tracking rules
//! (caption hashtags and mentions, explicit post links), the content those rules matched, the
//! report over that content and the pull cadence that keeps its numbers near real time.
//!
//! Every service takes the caller's organization and, for reads, its [`CampaignAccess`] (a
//! campaign-limited API key sees only its campaigns), and filters by them in the query itself.

pub mod access;
pub mod cadence;
pub mod content;
pub mod export;
pub mod matcher;
pub mod pull;
pub mod report;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use crate::actor::Actor;
use crate::entities::{
    campaign, campaign_profile, creator_profile, creator_profile_member, social_account,
};
use crate::error::{DomainError, DomainResult};
use crate::kinds::CampaignStatus;
use crate::pagination::{self, Page, PageRequest};
use crate::tenant::OrgId;

pub use access::{CampaignAccess, Visible};
pub use content::{add_post_by_url, match_new_media, remove_content, AddedPost};
pub use matcher::Rules;

/// What a new campaign is made of.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub brand: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// As typed: `#summer` or `summer`.
    pub hashtags: Vec<String>,
    /// As typed: `@brand` or `brand`.
    pub mentions: Vec<String>,
    /// The creator profiles taking part.
    pub profile_ids: Vec<Uuid>,
}

/// Changes to a campaign; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CampaignChanges {
    pub name: Option<String>,
    pub brand: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub hashtags: Option<Vec<String>>,
    pub mentions: Option<Vec<String>>,
}

fn required(value: &str, field: &'static str) -> DomainResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(
            "REQUIRED",
            Some(field),
            format!("{field} must not be empty"),
        ));
    }
    Ok(v.to_owned())
}

fn check_dates(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> DomainResult<()> {
    if ends_at <= starts_at {
        return Err(DomainError::invalid(
            "INVALID_DATES",
            Some("endsAt"),
            "the campaign must end after it starts",
        ));
    }
    Ok(())
}

/// Creates a DRAFT campaign with its participating profiles.
#[tracing::instrument(skip(db, new), fields(org = %org))]
pub async fn create(
    db: &impl ConnectionTrait,
    org: OrgId,
    new: NewCampaign,
    now: DateTime<Utc>,
) -> DomainResult<campaign::Model> {
    let name = required(&new.name, "name")?;
    let brand = required(&new.brand, "brand")?;
    check_dates(new.starts_at, new.ends_at)?;
    let rules = Rules::parse(&new.hashtags, &new.mentions)?;
    let (hashtags, mentions) = rules.to_stored();
    let profile_ids = existing_profiles(db, org, &new.profile_ids).await?;
    let model = campaign::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        name: Set(name),
        brand: Set(brand),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        status: Set(CampaignStatus::Draft),
        hashtags: Set(hashtags),
        mentions: Set(mentions),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    insert_participants(db, org, model.id, &profile_ids, now).await?;
    Ok(model)
}

/// One campaign the caller may see.
pub async fn get(
    db: &impl ConnectionTrait,
    org: OrgId,
    access: &CampaignAccess,
    id: Uuid,
) -> DomainResult<campaign::Model> {
    if !access.allows(id) {
        return Err(DomainError::not_found("campaign"));
    }
    campaign::Entity::find_by_id(id)
        .filter(campaign::Column::OrganizationId.eq(org.uuid()))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("campaign"))
}

/// A page of the campaigns the caller may see, oldest first, optionally of one status.
pub async fn list(
    db: &impl ConnectionTrait,
    org: OrgId,
    access: &CampaignAccess,
    status: Option<CampaignStatus>,
    req: &PageRequest,
    default_size: u64,
) -> DomainResult<Page<campaign::Model>> {
    let mut select =
        campaign::Entity::find().filter(campaign::Column::OrganizationId.eq(org.uuid()));
    if let Some(ids) = access.only() {
        select = select.filter(campaign::Column::Id.is_in(ids.iter().copied()));
    }
    if let Some(status) = status {
        select = select.filter(campaign::Column::Status.eq(status));
    }
    Ok(pagination::by_id(db, select, campaign::Column::Id, req, default_size).await?)
}

/// How many campaigns the caller may see, optionally of one status.
pub async fn count(
    db: &impl ConnectionTrait,
    org: OrgId,
    access: &CampaignAccess,
    status: Option<CampaignStatus>,
) -> DomainResult<u64> {
    let mut select =
        campaign::Entity::find().filter(campaign::Column::OrganizationId.eq(org.uuid()));
    if let Some(ids) = access.only() {
        select = select.filter(campaign::Column::Id.is_in(ids.iter().copied()));
    }
    if let Some(status) = status {
        select = select.filter(campaign::Column::Status.eq(status));
    }
    Ok(select.count(db).await?)
}

/// Changes a campaign's name, brand, dates or rules. Content already matched stays; an ACTIVE
/// campaign is matched again against its participants' media, so widened rules or dates pick up
/// what they now cover.
#[tracing::instrument(skip(db, changes), fields(org = %org, campaign_id = %id))]
pub async fn update(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
    changes: CampaignChanges,
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<campaign::Model> {
    let current = get(db, org, &CampaignAccess::All, id).await?;
    let starts_at = changes.starts_at.unwrap_or(current.starts_at);
    let ends_at = changes.ends_at.unwrap_or(current.ends_at);
    check_dates(starts_at, ends_at)?;
    let old_rules = Rules::from_stored(&current.hashtags, &current.mentions);
    let rules = Rules::parse(
        &changes
            .hashtags
            .unwrap_or_else(|| old_rules.hashtags().to_vec()),
        &changes
            .mentions
            .unwrap_or_else(|| old_rules.mentions().to_vec()),
    )?;
    let (hashtags, mentions) = rules.to_stored();
    let mut model: campaign::ActiveModel = current.into();
    if let Some(name) = changes.name {
        model.name = Set(required(&name, "name")?);
    }
    if let Some(brand) = changes.brand {
        model.brand = Set(required(&brand, "brand")?);
    }
    model.starts_at = Set(starts_at);
    model.ends_at = Set(ends_at);
    model.hashtags = Set(hashtags);
    model.mentions = Set(mentions);
    model.updated_at = Set(now);
    let updated = model.update(db).await?;
    if updated.status == CampaignStatus::Active {
        content::match_campaign(db, org, &updated, actor, now).await?;
    }
    Ok(updated)
}

/// Moves a campaign to `status`. DRAFT → ACTIVE matches the participants' existing media in the
/// dates; ACTIVE → FINISHED stops matching; FINISHED → ACTIVE reopens. Nothing goes back to
/// DRAFT once it has run.
#[tracing::instrument(skip(db), fields(org = %org, campaign_id = %id))]
pub async fn set_status(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
    status: CampaignStatus,
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<campaign::Model> {
    let current = get(db, org, &CampaignAccess::All, id).await?;
    if current.status == status {
        return Ok(current);
    }
    if status == CampaignStatus::Draft {
        return Err(DomainError::invalid(
            "INVALID_STATUS_CHANGE",
            Some("status"),
            "a campaign that has started cannot go back to draft",
        ));
    }
    let mut model: campaign::ActiveModel = current.into();
    model.status = Set(status);
    model.updated_at = Set(now);
    let updated = model.update(db).await?;
    if status == CampaignStatus::Active {
        content::match_campaign(db, org, &updated, actor, now).await?;
    }
    Ok(updated)
}

/// Adds profiles to a campaign (already present ones are kept); an ACTIVE campaign matches their
/// media at once.
#[tracing::instrument(skip(db, profile_ids), fields(org = %org, campaign_id = %id))]
pub async fn add_profiles(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
    profile_ids: &[Uuid],
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<campaign::Model> {
    let campaign = get(db, org, &CampaignAccess::All, id).await?;
    let wanted = existing_profiles(db, org, profile_ids).await?;
    let present = participant_ids(db, org, id).await?;
    let new: Vec<Uuid> = wanted
        .into_iter()
        .filter(|p| !present.contains(p))
        .collect();
    insert_participants(db, org, id, &new, now).await?;
    if campaign.status == CampaignStatus::Active {
        content::match_campaign(db, org, &campaign, actor, now).await?;
    }
    Ok(campaign)
}

/// Takes a profile out of a campaign. Content already matched stays in the report (remove it
/// explicitly to take it out); nothing new of the profile is matched.
pub async fn remove_profile(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
    profile_id: Uuid,
) -> DomainResult<campaign::Model> {
    let campaign = get(db, org, &CampaignAccess::All, id).await?;
    let deleted = campaign_profile::Entity::delete_many()
        .filter(campaign_profile::Column::OrganizationId.eq(org.uuid()))
        .filter(campaign_profile::Column::CampaignId.eq(id))
        .filter(campaign_profile::Column::ProfileId.eq(profile_id))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(DomainError::not_found("campaign profile"));
    }
    Ok(campaign)
}

/// The profiles taking part, in the order they were added.
pub async fn participants(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
) -> DomainResult<Vec<creator_profile::Model>> {
    let ids = participant_ids(db, org, id).await?;
    let mut profiles = creator_profile::Entity::find()
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
        .filter(creator_profile::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    profiles.sort_by_key(|p| ids.iter().position(|i| *i == p.id));
    Ok(profiles)
}

async fn participant_ids(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
) -> DomainResult<Vec<Uuid>> {
    Ok(campaign_profile::Entity::find()
        .filter(campaign_profile::Column::OrganizationId.eq(org.uuid()))
        .filter(campaign_profile::Column::CampaignId.eq(id))
        .order_by_asc(campaign_profile::Column::AddedAt)
        .order_by_asc(campaign_profile::Column::ProfileId)
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.profile_id)
        .collect())
}

/// The participating profiles with the members of participating GROUP profiles: whose accounts
/// the rules look at.
pub(crate) async fn covered_profile_ids(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
) -> DomainResult<BTreeSet<Uuid>> {
    let mut ids: BTreeSet<Uuid> = participant_ids(db, org, id).await?.into_iter().collect();
    let members = creator_profile_member::Entity::find()
        .filter(creator_profile_member::Column::OrganizationId.eq(org.uuid()))
        .filter(creator_profile_member::Column::GroupId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    ids.extend(members.into_iter().map(|m| m.member_id));
    Ok(ids)
}

/// The accounts held by the campaign's covered profiles.
pub(crate) async fn covered_accounts(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
) -> DomainResult<Vec<social_account::Model>> {
    let profiles = covered_profile_ids(db, org, id).await?;
    Ok(social_account::Entity::find()
        .filter(social_account::Column::OrganizationId.eq(org.uuid()))
        .filter(social_account::Column::ProfileId.is_in(profiles.iter().copied()))
        .all(db)
        .await?)
}

/// `ids` deduplicated, each checked to be a profile of the organization.
async fn existing_profiles(
    db: &impl ConnectionTrait,
    org: OrgId,
    ids: &[Uuid],
) -> DomainResult<Vec<Uuid>> {
    let mut unique: Vec<Uuid> = Vec::new();
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    let found = creator_profile::Entity::find()
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
        .filter(creator_profile::Column::Id.is_in(unique.iter().copied()))
        .count(db)
        .await?;
    if found != unique.len() as u64 {
        return Err(DomainError::invalid(
            "PROFILE_NOT_FOUND",
            Some("profileIds"),
            "one of the creator profiles does not exist",
        ));
    }
    Ok(unique)
}

async fn insert_participants(
    db: &impl ConnectionTrait,
    org: OrgId,
    campaign_id: Uuid,
    profile_ids: &[Uuid],
    now: DateTime<Utc>,
) -> DomainResult<()> {
    if profile_ids.is_empty() {
        return Ok(());
    }
    campaign_profile::Entity::insert_many(profile_ids.iter().map(|p| {
        campaign_profile::ActiveModel {
            organization_id: Set(org.uuid()),
            campaign_id: Set(campaign_id),
            profile_id: Set(*p),
            added_at: Set(now),
        }
    }))
    .exec(db)
    .await?;
    Ok(())
}
