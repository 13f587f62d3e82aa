//! Creator profiles: a person (INDIVIDUAL) or a group of member profiles (GROUP).

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, Linked,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, RelationDef, RelationTrait,
    Select, Set, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::actor::Actor;
use crate::entities::{creator_profile, creator_profile_member, social_account};
use crate::error::{DomainError, DomainResult};
use crate::kinds::{LinkStatus, Platform, ProfileKind};
use crate::pagination::{self, Cursor, Keyset, KeysetRequest, Page, SortValue};
use crate::platforms::Clients;
use crate::tenant::OrgId;
use crate::vault::Keyring;

/// Which profiles a list shows. Every set field narrows the list; `platform` and `link_status`
/// together mean "has an account on that platform whose link shows that status".
#[derive(Clone, Debug, Default)]
pub struct ProfileFilter {
    /// Case-insensitive substring of the name, the email or any account handle.
    pub search: Option<String>,
    pub platform: Option<Platform>,
    pub link_status: Option<LinkStatus>,
    pub kind: Option<ProfileKind>,
    /// Only these profiles (a creator's own); `None` means every profile of the organization.
    /// Set from the caller, never from client input.
    pub only: Option<Vec<Uuid>>,
}

/// What a profile list is sorted by; ties are broken by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileOrderField {
    Name,
    CreatedAt,
    UpdatedAt,
}

/// A list order: field and direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileOrder {
    pub field: ProfileOrderField,
    pub descending: bool,
}

impl Default for ProfileOrder {
    fn default() -> Self {
        ProfileOrder {
            field: ProfileOrderField::CreatedAt,
            descending: false,
        }
    }
}

impl ProfileOrder {
    fn keyset(self) -> Keyset<creator_profile::Column> {
        Keyset {
            key: match self.field {
                ProfileOrderField::Name => creator_profile::Column::Name,
                ProfileOrderField::CreatedAt => creator_profile::Column::CreatedAt,
                ProfileOrderField::UpdatedAt => creator_profile::Column::UpdatedAt,
            },
            id: creator_profile::Column::Id,
            descending: self.descending,
        }
    }

    /// The cursor of `profile` in this order.
    pub fn cursor(self, profile: &creator_profile::Model) -> Cursor {
        Cursor {
            key: match self.field {
                ProfileOrderField::Name => SortValue::Text(profile.name.clone()),
                ProfileOrderField::CreatedAt => SortValue::Time(profile.created_at),
                ProfileOrderField::UpdatedAt => SortValue::Time(profile.updated_at),
            },
            id: SortValue::Uuid(profile.id),
        }
    }
}

/// The clock and window that derived link statuses are computed with.
#[derive(Clone, Copy, Debug)]
pub struct StatusClock {
    pub now: DateTime<Utc>,
    pub window: Duration,
}

/// The fields of a new profile.
#[derive(Clone, Debug)]
pub struct NewProfile {
    pub kind: ProfileKind,
    pub name: String,
    pub email: Option<String>,
    pub notes: Option<String>,
}

/// Changes to a profile; `None` leaves a field as it is, `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default)]
pub struct ProfileChanges {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub notes: Option<Option<String>>,
}

fn in_org(org: OrgId) -> Select<creator_profile::Entity> {
    creator_profile::Entity::find().filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
}

/// One profile of the caller's organization.
pub async fn get(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
) -> DomainResult<creator_profile::Model> {
    in_org(org)
        .filter(creator_profile::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(DomainError::not_found("creator profile"))
}

/// The profiles among `ids` that exist in the organization (in no particular order).
pub async fn get_many(
    db: &impl ConnectionTrait,
    org: OrgId,
    ids: &[Uuid],
) -> DomainResult<Vec<creator_profile::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(in_org(org)
        .filter(creator_profile::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

fn like_pattern(text: &str) -> LikeExpr {
    let escaped: String = text
        .trim()
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

fn filtered(
    org: OrgId,
    filter: &ProfileFilter,
    clock: StatusClock,
) -> Select<creator_profile::Entity> {
    let mut select = in_org(org);
    if let Some(only) = &filter.only {
        select = select.filter(creator_profile::Column::Id.is_in(only.iter().copied()));
    }
    if let Some(kind) = filter.kind {
        select = select.filter(creator_profile::Column::Kind.eq(kind));
    }
    if let Some(search) = filter.search.as_deref().filter(|s| !s.trim().is_empty()) {
        let holders = social_account::Entity::find()
            .select_only()
            .column(social_account::Column::ProfileId)
            .filter(social_account::Column::OrganizationId.eq(org.uuid()))
            .filter(social_account::Column::ProfileId.is_not_null())
            .filter(Expr::col(social_account::Column::HandleLower).like(like_pattern(search)))
            .into_query();
        select = select.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col((
                        creator_profile::Entity,
                        creator_profile::Column::Name,
                    ))))
                    .like(like_pattern(search)),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col((
                        creator_profile::Entity,
                        creator_profile::Column::Email,
                    ))))
                    .like(like_pattern(search)),
                )
                .add(creator_profile::Column::Id.in_subquery(holders)),
        );
    }
    if filter.platform.is_some() || filter.link_status.is_some() {
        let mut holders = social_account::Entity::find()
            .select_only()
            .column(social_account::Column::ProfileId)
            .join(JoinType::LeftJoin, social_account::Relation::Link.def())
            .filter(social_account::Column::OrganizationId.eq(org.uuid()))
            .filter(social_account::Column::ProfileId.is_not_null());
        if let Some(platform) = filter.platform {
            holders = holders.filter(social_account::Column::Platform.eq(platform));
        }
        if let Some(status) = filter.link_status {
            holders = holders.filter(crate::link::filter::derived_status_is(
                status,
                clock.now,
                clock.window,
            ));
        }
        select = select.filter(creator_profile::Column::Id.in_subquery(holders.into_query()));
    }
    select
}

/// A page of the organization's profiles matching `filter`, in `order`.
pub async fn list(
    db: &impl ConnectionTrait,
    org: OrgId,
    filter: &ProfileFilter,
    order: ProfileOrder,
    req: &KeysetRequest,
    default_size: u64,
    clock: StatusClock,
) -> DomainResult<Page<creator_profile::Model>> {
    let select = filtered(org, filter, clock);
    Ok(pagination::by_keyset(db, select, &order.keyset(), req, default_size).await?)
}

/// How many profiles match `filter`.
pub async fn count(
    db: &impl ConnectionTrait,
    org: OrgId,
    filter: &ProfileFilter,
    clock: StatusClock,
) -> DomainResult<u64> {
    Ok(filtered(org, filter, clock).count(db).await?)
}

fn checked_name(name: &str) -> DomainResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid(
            "BLANK",
            Some("name"),
            "a profile needs a name",
        ));
    }
    if name.chars().count() > 200 {
        return Err(DomainError::invalid(
            "TOO_LONG",
            Some("name"),
            "a profile name has at most 200 characters",
        ));
    }
    Ok(name.to_owned())
}

fn checked_email(email: Option<String>) -> DomainResult<Option<String>> {
    let Some(email) = email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let valid = email
        .split_once('@')
        .is_some_and(|(user, host)| !user.is_empty() && host.contains('.') && !host.contains('@'));
    if !valid || email.len() > 320 {
        return Err(DomainError::invalid(
            "INVALID_EMAIL",
            Some("email"),
            "this is not an email address",
        ));
    }
    Ok(Some(email))
}

/// Creates a profile.
#[tracing::instrument(skip(db, new), fields(org = %org))]
pub async fn create(
    db: &impl ConnectionTrait,
    org: OrgId,
    new: NewProfile,
) -> DomainResult<creator_profile::Model> {
    let now = Utc::now();
    Ok(creator_profile::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org.uuid()),
        kind: Set(new.kind),
        name: Set(checked_name(&new.name)?),
        email: Set(checked_email(new.email)?),
        notes: Set(new.notes.filter(|n| !n.trim().is_empty())),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// Changes a profile's name, email or notes.
#[tracing::instrument(skip(db, changes), fields(org = %org))]
pub async fn update(
    db: &impl ConnectionTrait,
    org: OrgId,
    id: Uuid,
    changes: ProfileChanges,
) -> DomainResult<creator_profile::Model> {
    let profile = get(db, org, id).await?;
    let mut active: creator_profile::ActiveModel = profile.into();
    if let Some(name) = changes.name {
        active.name = Set(checked_name(&name)?);
    }
    if let Some(email) = changes.email {
        active.email = Set(checked_email(email)?);
    }
    if let Some(notes) = changes.notes {
        active.notes = Set(notes.filter(|n| !n.trim().is_empty()));
    }
    active.updated_at = Set(Utc::now());
    Ok(active.update(db).await?)
}

/// Deletes a profile. Its accounts are removed first with [`crate::link::revoke::remove`], the
/// very function `removeSocialAccount` calls (grant revoked on the platform, link
/// INVALID/REMOVED with an event, tokens erased, account detached), so no grant outlives the
/// profile that held it. Each remove commits on its own because the platform call must not hold
/// a database transaction open; the profile row then goes in one transaction, which also
/// detaches (locally) any account added to the profile meanwhile. Running it again after a
/// failure part-way finishes the job: removed accounts are no longer on the profile.
#[tracing::instrument(skip(db, keyring, clients), fields(org = %org))]
pub async fn delete<C>(
    db: &C,
    keyring: &Keyring,
    clients: &Clients,
    org: OrgId,
    id: Uuid,
    actor: Actor,
) -> DomainResult<()>
where
    C: ConnectionTrait + TransactionTrait,
{
    get(db, org, id).await?;
    for account in accounts_on(db, org, id).await? {
        crate::link::revoke::remove(db, keyring, clients, org, account.id, actor.clone()).await?;
    }
    let txn = db.begin().await?;
    get(&txn, org, id).await?;
    for account in accounts_on(&txn, org, id).await? {
        crate::accounts::service::remove(&txn, org, account.id, actor.clone()).await?;
    }
    creator_profile::Entity::delete_many()
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
        .filter(creator_profile::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

async fn accounts_on(
    db: &impl ConnectionTrait,
    org: OrgId,
    profile_id: Uuid,
) -> DomainResult<Vec<social_account::Model>> {
    Ok(social_account::Entity::find()
        .filter(social_account::Column::OrganizationId.eq(org.uuid()))
        .filter(social_account::Column::ProfileId.eq(profile_id))
        .all(db)
        .await?)
}

/// Members of the given group profiles, as `(group_id, member)` pairs ordered by name.
pub async fn members_of(
    db: &impl ConnectionTrait,
    org: OrgId,
    group_ids: &[Uuid],
) -> DomainResult<Vec<(Uuid, creator_profile::Model)>> {
    related(db, org, group_ids, true).await
}

/// Groups the given profiles are members of, as `(member_id, group)` pairs ordered by name.
pub async fn groups_of(
    db: &impl ConnectionTrait,
    org: OrgId,
    member_ids: &[Uuid],
) -> DomainResult<Vec<(Uuid, creator_profile::Model)>> {
    related(db, org, member_ids, false).await
}

/// From a membership row to one of its two profiles.
struct MembershipSide(creator_profile_member::Relation);

impl Linked for MembershipSide {
    type FromEntity = creator_profile_member::Entity;
    type ToEntity = creator_profile::Entity;

    fn link(&self) -> Vec<RelationDef> {
        vec![self.0.def()]
    }
}

async fn related(
    db: &impl ConnectionTrait,
    org: OrgId,
    ids: &[Uuid],
    members: bool,
) -> DomainResult<Vec<(Uuid, creator_profile::Model)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    use creator_profile_member::Column as M;
    let (from, side) = if members {
        (M::GroupId, creator_profile_member::Relation::Member)
    } else {
        (M::MemberId, creator_profile_member::Relation::Group)
    };
    let rows = creator_profile_member::Entity::find()
        .filter(M::OrganizationId.eq(org.uuid()))
        .filter(from.is_in(ids.iter().copied()))
        .find_also_linked(MembershipSide(side))
        .order_by_asc(Expr::col((Alias::new("r0"), creator_profile::Column::Name)))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, profile)| {
            let key = if members { m.group_id } else { m.member_id };
            profile.map(|p| (key, p))
        })
        .collect())
}

/// Adds `member_id` to the GROUP profile `group_id`; adding an existing member changes nothing.
#[tracing::instrument(skip(db), fields(org = %org))]
pub async fn add_member(
    db: &impl ConnectionTrait,
    org: OrgId,
    group_id: Uuid,
    member_id: Uuid,
) -> DomainResult<(creator_profile::Model, creator_profile::Model)> {
    let group = get(db, org, group_id).await?;
    let member = get(db, org, member_id).await?;
    if group.kind != ProfileKind::Group {
        return Err(DomainError::invalid(
            "NOT_A_GROUP",
            Some("groupId"),
            format!(
                "“{}” is an individual profile; only group profiles have members",
                group.name
            ),
        ));
    }
    if member.kind != ProfileKind::Individual {
        return Err(DomainError::invalid(
            "MEMBER_NOT_INDIVIDUAL",
            Some("memberId"),
            format!(
                "“{}” is a group; only individual profiles can be members",
                member.name
            ),
        ));
    }
    let exists = creator_profile_member::Entity::find_by_id((group_id, member_id))
        .one(db)
        .await?
        .is_some();
    if !exists {
        creator_profile_member::ActiveModel {
            organization_id: Set(org.uuid()),
            group_id: Set(group_id),
            member_id: Set(member_id),
            created_at: Set(Utc::now()),
        }
        .insert(db)
        .await?;
    }
    Ok((group, member))
}

/// Removes `member_id` from the group `group_id`.
#[tracing::instrument(skip(db), fields(org = %org))]
pub async fn remove_member(
    db: &impl ConnectionTrait,
    org: OrgId,
    group_id: Uuid,
    member_id: Uuid,
) -> DomainResult<(creator_profile::Model, creator_profile::Model)> {
    let group = get(db, org, group_id).await?;
    let member = get(db, org, member_id).await?;
    let deleted = creator_profile_member::Entity::delete_many()
        .filter(creator_profile_member::Column::OrganizationId.eq(org.uuid()))
        .filter(creator_profile_member::Column::GroupId.eq(group_id))
        .filter(creator_profile_member::Column::MemberId.eq(member_id))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(DomainError::invalid(
            "NOT_A_MEMBER",
            Some("memberId"),
            format!("“{}” is not a member of “{}”", member.name, group.name),
        ));
    }
    Ok((group, member))
}
