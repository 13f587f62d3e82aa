//! Merging two creator profiles into one: how a user resolves "already associated with another
//! profile" when both profiles are the same creator.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::accounts::service::AccountWithLink;
use crate::entities::{
    connect_invite, creator_profile, creator_profile_member, link_event, oauth_state,
    social_account,
};
use crate::error::{DomainError, DomainResult};
use crate::kinds::LinkStatus;
use crate::link::status::{self, DEFAULT_EXPIRING_WINDOW};
use crate::tenant::OrgId;

/// True when two accounts are the same platform account stored twice: same platform and the same
/// handle, the same platform user id, or one's handle is the other's platform user id (a YouTube
/// channel or Facebook id added by URL before the other row was connected).
pub fn same_platform_account(a: &social_account::Model, b: &social_account::Model) -> bool {
    if a.platform != b.platform || a.id == b.id {
        return false;
    }
    let id_eq =
        |x: &Option<String>, y: &str| x.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(y));
    a.handle_lower == b.handle_lower
        || matches!((&a.platform_user_id, &b.platform_user_id), (Some(x), Some(y)) if x == y)
        || id_eq(&a.platform_user_id, &b.handle_lower)
        || id_eq(&b.platform_user_id, &a.handle_lower)
}

/// How useful a link is, for choosing which duplicate survives: a working authorization beats
/// an expired or broken one, which beats none.
fn link_rank(account: &AccountWithLink) -> u8 {
    match status::derive(&account.link_state(), Utc::now(), DEFAULT_EXPIRING_WINDOW).status {
        LinkStatus::Linked => 4,
        LinkStatus::ExpiringSoon => 3,
        LinkStatus::Expired => 2,
        LinkStatus::Invalid => 1,
        LinkStatus::NotLinked => 0,
    }
}

/// Which row to keep of a duplicate pair (target's unless source's link is better), then which
/// to drop.
fn survivor<'a>(
    target: &'a AccountWithLink,
    source: &'a AccountWithLink,
) -> (&'a AccountWithLink, &'a AccountWithLink) {
    if link_rank(source) > link_rank(target) {
        (source, target)
    } else {
        (target, source)
    }
}

/// Moves everything of `source_id` onto `target_id` and deletes the source, in one transaction:
/// accounts (a platform account both hold collapses into one row, keeping the better link and
/// the history of both), group memberships both ways, link event history, connect invites and
/// pending OAuth states. Both profiles must be of the same kind.
#[tracing::instrument(skip(db), fields(org = %org))]
pub async fn merge_profiles<C>(
    db: &C,
    org: OrgId,
    source_id: Uuid,
    target_id: Uuid,
) -> DomainResult<creator_profile::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    if source_id == target_id {
        return Err(DomainError::invalid(
            "SAME_PROFILE",
            Some("sourceId"),
            "a profile cannot be merged into itself",
        ));
    }
    let txn = db.begin().await?;
    let source = crate::profiles::get(&txn, org, source_id).await?;
    let target = crate::profiles::get(&txn, org, target_id).await?;
    if source.kind != target.kind {
        return Err(DomainError::invalid(
            "PROFILE_KINDS_DIFFER",
            Some("sourceId"),
            format!(
                "“{}” and “{}” are not the same kind of profile (individual or group)",
                source.name, target.name
            ),
        ));
    }
    let now = Utc::now();

    let accounts =
        crate::accounts::service::for_profiles(&txn, org, &[source.id, target.id]).await?;
    let (source_accounts, target_accounts): (Vec<_>, Vec<_>) = accounts
        .into_iter()
        .partition(|a| a.account.profile_id == Some(source.id));
    let mut dropped: HashSet<Uuid> = HashSet::new();
    for s in &source_accounts {
        let duplicate = target_accounts.iter().find(|t| {
            !dropped.contains(&t.account.id) && same_platform_account(&t.account, &s.account)
        });
        let Some(t) = duplicate else {
            continue;
        };
        let (keep, drop) = survivor(t, s);
        collapse(&txn, org, keep, drop, target.id).await?;
        dropped.insert(drop.account.id);
    }
    social_account::Entity::update_many()
        .col_expr(social_account::Column::ProfileId, Expr::value(target.id))
        .col_expr(social_account::Column::UpdatedAt, Expr::value(now))
        .filter(social_account::Column::OrganizationId.eq(org.uuid()))
        .filter(social_account::Column::ProfileId.eq(source.id))
        .exec(&txn)
        .await?;

    move_memberships(&txn, org, source.id, target.id).await?;

    link_event::Entity::update_many()
        .col_expr(link_event::Column::ProfileId, Expr::value(target.id))
        .filter(link_event::Column::OrganizationId.eq(org.uuid()))
        .filter(link_event::Column::ProfileId.eq(source.id))
        .exec(&txn)
        .await?;
    connect_invite::Entity::update_many()
        .col_expr(connect_invite::Column::ProfileId, Expr::value(target.id))
        .filter(connect_invite::Column::OrganizationId.eq(org.uuid()))
        .filter(connect_invite::Column::ProfileId.eq(source.id))
        .exec(&txn)
        .await?;
    oauth_state::Entity::update_many()
        .col_expr(oauth_state::Column::ProfileId, Expr::value(target.id))
        .filter(oauth_state::Column::OrganizationId.eq(org.uuid()))
        .filter(oauth_state::Column::ProfileId.eq(source.id))
        .exec(&txn)
        .await?;

    creator_profile::Entity::delete_many()
        .filter(creator_profile::Column::OrganizationId.eq(org.uuid()))
        .filter(creator_profile::Column::Id.eq(source.id))
        .exec(&txn)
        .await?;
    let mut active: creator_profile::ActiveModel = target.into();
    active.updated_at = Set(now);
    let target = active.update(&txn).await?;
    txn.commit().await?;
    Ok(target)
}

/// Keeps `keep` on the target profile and deletes `drop`, re-pointing `drop`'s event history at
/// `keep` so no history is lost. The kept row learns what only the dropped one knew.
async fn collapse(
    db: &impl ConnectionTrait,
    org: OrgId,
    keep: &AccountWithLink,
    drop: &AccountWithLink,
    target_id: Uuid,
) -> DomainResult<()> {
    link_event::Entity::update_many()
        .col_expr(link_event::Column::AccountId, Expr::value(keep.account.id))
        .filter(link_event::Column::OrganizationId.eq(org.uuid()))
        .filter(link_event::Column::AccountId.eq(drop.account.id))
        .exec(db)
        .await?;
    social_account::Entity::delete_many()
        .filter(social_account::Column::OrganizationId.eq(org.uuid()))
        .filter(social_account::Column::Id.eq(drop.account.id))
        .exec(db)
        .await?;
    let mut active: social_account::ActiveModel = keep.account.clone().into();
    active.profile_id = Set(Some(target_id));
    if keep.account.platform_user_id.is_none() {
        active.platform_user_id = Set(drop.account.platform_user_id.clone());
    }
    if keep.account.display_name.is_none() {
        active.display_name = Set(drop.account.display_name.clone());
    }
    if keep.account.avatar_url.is_none() {
        active.avatar_url = Set(drop.account.avatar_url.clone());
    }
    if keep.account.followers.is_none() && !keep.account.followers_hidden {
        active.followers = Set(drop.account.followers);
        active.followers_hidden = Set(drop.account.followers_hidden);
    }
    active.updated_at = Set(Utc::now());
    active.update(db).await?;
    Ok(())
}

async fn move_memberships(
    db: &impl ConnectionTrait,
    org: OrgId,
    source: Uuid,
    target: Uuid,
) -> DomainResult<()> {
    use creator_profile_member::Column as M;
    let rows = creator_profile_member::Entity::find()
        .filter(M::OrganizationId.eq(org.uuid()))
        .filter(
            sea_orm::Condition::any()
                .add(M::GroupId.is_in([source, target]))
                .add(M::MemberId.is_in([source, target])),
        )
        .all(db)
        .await?;
    let existing: HashSet<(Uuid, Uuid)> = rows.iter().map(|r| (r.group_id, r.member_id)).collect();
    let swap = |id: Uuid| if id == source { target } else { id };
    for row in rows
        .iter()
        .filter(|r| r.group_id == source || r.member_id == source)
    {
        let moved = (swap(row.group_id), swap(row.member_id));
        if moved.0 != moved.1 && !existing.contains(&moved) {
            creator_profile_member::ActiveModel {
                organization_id: Set(org.uuid()),
                group_id: Set(moved.0),
                member_id: Set(moved.1),
                created_at: Set(row.created_at),
            }
            .insert(db)
            .await?;
        }
    }
    // The source's own rows go with it (ON DELETE CASCADE), but delete them explicitly so the
    // result does not depend on SQLite's foreign-key pragma.
    creator_profile_member::Entity::delete_many()
        .filter(M::OrganizationId.eq(org.uuid()))
        .filter(
            sea_orm::Condition::any()
                .add(M::GroupId.eq(source))
                .add(M::MemberId.eq(source)),
        )
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Platform;

    fn account(platform: Platform, handle: &str, puid: Option<&str>) -> social_account::Model {
        let now = Utc::now();
        social_account::Model {
            id: Uuid::now_v7(),
            organization_id: Uuid::nil(),
            profile_id: None,
            platform,
            handle: handle.to_owned(),
            handle_lower: handle.to_ascii_lowercase(),
            url: String::new(),
            platform_user_id: puid.map(str::to_owned),
            display_name: None,
            avatar_url: None,
            followers: None,
            followers_hidden: false,
            paired_account_id: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_same_handle_on_the_same_platform_is_one_account() {
        let a = account(Platform::Instagram, "Ana", None);
        let b = account(Platform::Instagram, "ana", None);
        assert!(same_platform_account(&a, &b));
    }

    #[test]
    fn the_same_handle_on_two_platforms_is_two_accounts() {
        let a = account(Platform::Instagram, "ana", None);
        let b = account(Platform::Tiktok, "ana", None);
        assert!(!same_platform_account(&a, &b));
    }

    #[test]
    fn an_id_added_by_url_matches_the_connected_account_with_that_id() {
        let by_url = account(Platform::Facebook, "100012345", None);
        let connected = account(Platform::Facebook, "ana.page", Some("100012345"));
        assert!(same_platform_account(&by_url, &connected));
        assert!(same_platform_account(&connected, &by_url));
    }

    #[test]
    fn different_handles_without_ids_are_different_accounts() {
        let a = account(Platform::Youtube, "ana", None);
        let b = account(Platform::Youtube, "bo", Some("UCabcdefghijklmnopqrstuv"));
        assert!(!same_platform_account(&a, &b));
    }
}
