//! Social accounts on profiles: adding one by handle or URL (with the conflict rule of design §4),
//! finding one by URL, removing one, and reading accounts with their links.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::handle::{parse_account, AccountKey, AccountRef};
use crate::actor::Actor;
use crate::entities::{creator_profile, link, social_account};
use crate::error::{is_unique_violation, DomainError, DomainResult};
use crate::events::{self, NewEvent};
use crate::kinds::{InvalidReason, LinkStatus, Platform};
use crate::link::status::{self, LinkState};
use crate::tenant::OrgId;

/// The code of the conflict error: the account is held by another profile of the organization.
pub const ACCOUNT_ALREADY_ASSOCIATED: &str = "ACCOUNT_ALREADY_ASSOCIATED";

/// An account together with its link (absent only for rows written before links existed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountWithLink {
    pub account: social_account::Model,
    pub link: Option<link::Model>,
}

impl AccountWithLink {
    /// The stored link state, as [`status::derive`] reads it.
    pub fn link_state(&self) -> LinkState {
        link_state(self.link.as_ref())
    }
}

/// The stored state of `link` (NOT_LINKED when there is none).
pub fn link_state(link: Option<&link::Model>) -> LinkState {
    match link {
        Some(l) => LinkState {
            stored: l.status,
            invalid_reason: l.invalid_reason,
            authenticated_at: l.authenticated_at,
            expires_at: l.expires_at,
        },
        None => LinkState {
            stored: LinkStatus::NotLinked,
            invalid_reason: None,
            authenticated_at: None,
            expires_at: None,
        },
    }
}

/// Why an account could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddAccountError {
    /// Another profile of the organization holds the account (`ACCOUNT_ALREADY_ASSOCIATED`).
    #[error("the social account {handle} on {} is already associated with another profile, “{}”", .platform.as_str(), .holder.name)]
    AlreadyAssociated {
        platform: Platform,
        handle: String,
        holder: creator_profile::Model,
    },
    #[error(transparent)]
    Other(#[from] DomainError),
}

impl From<sea_orm::DbErr> for AddAccountError {
    fn from(e: sea_orm::DbErr) -> Self {
        AddAccountError::Other(e.into())
    }
}

impl From<AddAccountError> for DomainError {
    fn from(e: AddAccountError) -> Self {
        match e {
            AddAccountError::AlreadyAssociated { .. } => DomainError::Conflict {
                code: ACCOUNT_ALREADY_ASSOCIATED,
                message: e.to_string(),
            },
            AddAccountError::Other(e) => e,
        }
    }
}

/// Reads what a user typed (handle, `@handle` or profile URL) into an account, as a domain error
/// with the parser's code (`INVALID_URL`, `UNSUPPORTED_PLATFORM`, …) on `field`.
pub fn parse(
    input: &str,
    platform: Option<Platform>,
    field: &'static str,
) -> DomainResult<AccountRef> {
    parse_account(input, platform)
        .map_err(|e| DomainError::invalid(e.code(), Some(field), e.to_string()))
}

/// The platform user id a parsed reference already carries: a YouTube channel id is one.
fn known_platform_user_id(account: &AccountRef) -> Option<String> {
    match account.key() {
        AccountKey::ChannelId(id) => Some(id.clone()),
        _ => None,
    }
}

/// Rows of the organization that are the account `account` names: same platform and the same
/// handle, or the same platform user id (a channel or numeric id may be stored either way).
fn same_account(org: OrgId, account: &AccountRef) -> Condition {
    use social_account::Column as A;
    let key = account.handle_lower();
    let mut same = Condition::any().add(A::HandleLower.eq(key.clone()));
    if matches!(
        account.key(),
        AccountKey::ChannelId(_) | AccountKey::FacebookId(_)
    ) {
        same = same.add(A::PlatformUserId.eq(account.handle().to_owned()));
    }
    Condition::all()
        .add(A::OrganizationId.eq(org.uuid()))
        .add(A::Platform.eq(account.platform()))
        .add(same)
}

async fn with_links(
    db: &impl ConnectionTrait,
    select: sea_orm::Select<social_account::Entity>,
) -> DomainResult<Vec<AccountWithLink>> {
    Ok(select
        .find_also_related(link::Entity)
        .order_by_asc(social_account::Column::CreatedAt)
        .order_by_asc(social_account::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|(account, link)| AccountWithLink { account, link })
        .collect())
}

/// One account of the organization with its link.
pub async fn get(db: &impl ConnectionTrait, org: OrgId, id: Uuid) -> DomainResult<AccountWithLink> {
    get_many(db, org, &[id])
        .await?
        .into_iter()
        .next()
        .ok_or(DomainError::not_found("social account"))
}

/// The accounts among `ids` that exist in the organization, with their links.
pub async fn get_many(
    db: &impl ConnectionTrait,
    org: OrgId,
    ids: &[Uuid],
) -> DomainResult<Vec<AccountWithLink>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    with_links(
        db,
        social_account::Entity::find()
            .filter(social_account::Column::OrganizationId.eq(org.uuid()))
            .filter(social_account::Column::Id.is_in(ids.iter().copied())),
    )
    .await
}

/// Every account the given profiles hold, with links, oldest first (one statement).
pub async fn for_profiles(
    db: &impl ConnectionTrait,
    org: OrgId,
    profile_ids: &[Uuid],
) -> DomainResult<Vec<AccountWithLink>> {
    if profile_ids.is_empty() {
        return Ok(Vec::new());
    }
    with_links(
        db,
        social_account::Entity::find()
            .filter(social_account::Column::OrganizationId.eq(org.uuid()))
            .filter(social_account::Column::ProfileId.is_in(profile_ids.iter().copied())),
    )
    .await
}

/// The account a handle or URL names, if the organization has it (held by a profile or
/// detached). This is how a user finds which profile holds an account.
pub async fn find_by_url(
    db: &impl ConnectionTrait,
    org: OrgId,
    input: &str,
    platform: Option<Platform>,
) -> DomainResult<Option<AccountWithLink>> {
    let account = parse(input, platform, "url")?;
    Ok(with_links(
        db,
        social_account::Entity::find().filter(same_account(org, &account)),
    )
    .await?
    .into_iter()
    .next())
}

/// Adds the account `input` names to `profile_id`. Adding is not authenticating: the account
/// starts NOT_LINKED. Adding an account the profile already holds changes nothing; one another
/// profile holds is [`AddAccountError::AlreadyAssociated`] and changes nothing either; one that
/// was removed earlier (detached) is attached again with a fresh NOT_LINKED link.
#[tracing::instrument(skip(db, input), fields(org = %org))]
pub async fn add<C>(
    db: &C,
    org: OrgId,
    profile_id: Uuid,
    input: &str,
    platform: Option<Platform>,
    actor: Actor,
) -> Result<AccountWithLink, AddAccountError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let account = parse(input, platform, "handleOrUrl")?;
    let profile = crate::profiles::get(db, org, profile_id).await?;
    let txn = db.begin().await?;
    let existing = with_links(
        &txn,
        social_account::Entity::find().filter(same_account(org, &account)),
    )
    .await?;
    if let Some(found) = existing.into_iter().next() {
        return match found.account.profile_id {
            Some(holder) if holder == profile.id => Ok(found),
            Some(holder) => Err(conflict(&txn, org, &account, holder).await?),
            None => {
                let reattached = reattach(&txn, found, profile.id, actor).await?;
                txn.commit().await?;
                Ok(reattached)
            }
        };
    }
    let now = Utc::now();
    let inserted = social_account::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        profile_id: Set(Some(profile.id)),
        platform: Set(account.platform()),
        handle: Set(account.handle().to_owned()),
        handle_lower: Set(account.handle_lower()),
        url: Set(account.url().to_owned()),
        platform_user_id: Set(known_platform_user_id(&account)),
        display_name: Set(None),
        avatar_url: Set(None),
        followers: Set(None),
        followers_hidden: Set(false),
        paired_account_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await;
    let inserted = match inserted {
        Ok(model) => model,
        Err(e) if is_unique_violation(&e) => {
            // Another request added the same account between our check and our insert.
            txn.rollback().await?;
            let holder = social_account::Entity::find()
                .filter(same_account(org, &account))
                .one(db)
                .await?
                .and_then(|a| a.profile_id);
            return match holder {
                Some(holder) if holder != profile.id => {
                    Err(conflict(db, org, &account, holder).await?)
                }
                _ => Err(DomainError::Conflict {
                    code: ACCOUNT_ALREADY_ASSOCIATED,
                    message: "this social account was just added by someone else; try again".into(),
                }
                .into()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    let link = new_link(&inserted).insert(&txn).await?;
    txn.commit().await?;
    Ok(AccountWithLink {
        account: inserted,
        link: Some(link),
    })
}

async fn conflict(
    db: &impl ConnectionTrait,
    org: OrgId,
    account: &AccountRef,
    holder: Uuid,
) -> Result<AddAccountError, DomainError> {
    let holder = crate::profiles::get(db, org, holder).await?;
    Ok(AddAccountError::AlreadyAssociated {
        platform: account.platform(),
        handle: account.handle().to_owned(),
        holder,
    })
}

fn new_link(account: &social_account::Model) -> link::ActiveModel {
    link::ActiveModel::not_linked(account.organization_id, account.id, account.created_at)
}

/// Attaches a detached (removed) account to `profile_id` again. Its link, INVALID/REMOVED since
/// the removal, starts over as NOT_LINKED, recorded as an event.
async fn reattach(
    db: &impl ConnectionTrait,
    found: AccountWithLink,
    profile_id: Uuid,
    actor: Actor,
) -> DomainResult<AccountWithLink> {
    let now = Utc::now();
    let mut active: social_account::ActiveModel = found.account.into();
    active.profile_id = Set(Some(profile_id));
    active.updated_at = Set(now);
    let account = active.update(db).await?;
    let link = match found.link {
        Some(old) if old.status == LinkStatus::NotLinked => old,
        Some(old) => {
            let from = old.status;
            let mut active: link::ActiveModel = old.into();
            active.status = Set(LinkStatus::NotLinked);
            active.invalid_reason = Set(None);
            active.authenticated_at = Set(None);
            active.expires_at = Set(None);
            active.expiry_cause = Set(None);
            active.updated_at = Set(now);
            let link = active.update(db).await?;
            events::record(
                db,
                NewEvent::status_changed(&account, from, LinkStatus::NotLinked, None, actor, now),
            )
            .await?;
            link
        }
        None => new_link(&account).insert(db).await?,
    };
    Ok(AccountWithLink {
        account,
        link: Some(link),
    })
}

/// Removes an account from its profile: the link becomes INVALID with reason REMOVED (one
/// `link_event`, from the status a reader saw), both tokens are erased, and the account is
/// detached (`profile_id` NULL), all in one transaction. Removing a detached account again
/// changes nothing. The upstream revoke belongs on top of this function.
#[tracing::instrument(skip(db), fields(org = %org, account_id = %account_id))]
pub async fn remove<C>(
    db: &C,
    org: OrgId,
    account_id: Uuid,
    actor: Actor,
) -> DomainResult<AccountWithLink>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    let found = get(&txn, org, account_id).await?;
    if found.account.profile_id.is_none() {
        txn.commit().await?;
        return Ok(found);
    }
    let now = Utc::now();
    // The event names the status a reader saw, so derive it (the window does not matter for the
    // INVALID target, but EXPIRED vs LINKED does).
    let from = status::derive(&found.link_state(), now, status::DEFAULT_EXPIRING_WINDOW).status;
    let link = match found.link {
        Some(old) => {
            let version = old.version;
            let mut active: link::ActiveModel = old.into();
            active.status = Set(LinkStatus::Invalid);
            active.invalid_reason = Set(Some(InvalidReason::Removed));
            active.access_token = Set(None);
            active.refresh_token = Set(None);
            active.access_token_expires_at = Set(None);
            active.refresh_token_expires_at = Set(None);
            active.next_refresh_at = Set(None);
            active.lease_owner = Set(None);
            active.lease_until = Set(None);
            active.version = Set(version + 1);
            active.updated_at = Set(now);
            active.update(&txn).await?
        }
        None => {
            let mut fresh = new_link(&found.account);
            fresh.status = Set(LinkStatus::Invalid);
            fresh.invalid_reason = Set(Some(InvalidReason::Removed));
            fresh.updated_at = Set(now);
            fresh.insert(&txn).await?
        }
    };
    events::record(
        &txn,
        NewEvent::status_changed(
            &found.account,
            from,
            LinkStatus::Invalid,
            Some(InvalidReason::Removed.as_str().to_owned()),
            actor,
            now,
        ),
    )
    .await?;
    let mut active: social_account::ActiveModel = found.account.into();
    active.profile_id = Set(None);
    active.updated_at = Set(now);
    let account = active.update(&txn).await?;
    txn.commit().await?;
    Ok(AccountWithLink {
        account,
        link: Some(link),
    })
}
