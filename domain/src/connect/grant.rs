//! Turning a grant (the tokens of one login) into linked accounts: which accounts it reaches,
//! the identity-checked upsert, and the link row with sealed tokens, all in one transaction.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::upsert::{upsert_account, ACCOUNT_MISMATCH};
use super::{codes, hold_for_selection, platform_error, LinkedAccount, Outcome, PageChoice};
use crate::actor::Actor;
use crate::entities::{link, oauth_state, social_account};
use crate::error::{DomainError, DomainResult};
use crate::events::{self, NewEvent};
use crate::kinds::{InvalidReason, LinkStatus, Platform, Provider};
use crate::link::status::{self, LinkState};
use crate::platforms::{missing_scopes, Clients, Profile, TokenSet};
use crate::tenant::OrgId;
use crate::vault::{Aad, Keyring, TokenKind};

/// An account and the tokens it was linked with (for callers that act on a fresh link).
#[derive(Debug, Clone)]
pub struct GrantedAccount {
    pub account: social_account::Model,
    pub link: link::Model,
}

const NOT_ELIGIBLE_IG: &str = "Instagram accounts must be professional (Business or Creator) accounts \
    attached to a Facebook Page you manage. Switch to a professional account and connect it to your Page \
    in the Instagram app, then try again.";

/// After a Meta code exchange: link at once when the login reaches one Page (or the Page of the
/// account being reconnected), else ask the creator to pick one.
pub(super) async fn meta_after_exchange(
    db: &(impl ConnectionTrait + TransactionTrait),
    keyring: &crate::vault::Keyring,
    clients: &Clients,
    state: &oauth_state::Model,
    tokens: TokenSet,
) -> DomainResult<Outcome> {
    let client = clients.get(Provider::Meta);
    let pages = client
        .pages(&tokens.access_token)
        .await
        .map_err(platform_error)?;
    if pages.is_empty() {
        return Err(DomainError::invalid(
            codes::NOT_ELIGIBLE,
            None,
            "this Facebook user manages no Page; a Page is needed to connect Facebook and Instagram",
        ));
    }
    if let Some(account_id) = state.account_id {
        let account = social_account::Entity::find_by_id(account_id)
            .one(db)
            .await?
            .ok_or(DomainError::not_found("social account"))?;
        let page = pages.iter().find(|p| {
            account.platform_user_id.as_deref().is_some_and(|id| {
                p.page_id == id || p.instagram.as_ref().is_some_and(|ig| ig.id == id)
            })
        });
        return match page {
            Some(page) => {
                let page_id = page.page_id.clone();
                link_grant(db, keyring, clients, state, tokens, Some(&page_id)).await
            }
            None => Err(DomainError::Conflict {
                code: ACCOUNT_MISMATCH,
                message: format!(
                    "The Facebook user you signed in as does not manage {}. Sign in as the user who does.",
                    account.handle
                ),
            }),
        };
    }
    let wants_instagram = state.platform == Some(Platform::Instagram);
    if wants_instagram && pages.iter().all(|p| p.instagram.is_none()) {
        return Err(DomainError::invalid(
            codes::NOT_ELIGIBLE,
            None,
            NOT_ELIGIBLE_IG,
        ));
    }
    if pages.len() == 1 {
        let page_id = pages[0].page_id.clone();
        return link_grant(db, keyring, clients, state, tokens, Some(&page_id)).await;
    }
    let selection = hold_for_selection(db, keyring, state, &tokens, clients.now()).await?;
    Ok(Outcome::ChoosePage {
        selection,
        pages: pages
            .into_iter()
            .map(|p| PageChoice {
                page_id: p.page_id,
                name: p.name,
                instagram_username: p.instagram.and_then(|ig| ig.username.or(Some(ig.id))),
            })
            .collect(),
        redirect_to: state.redirect_to.clone(),
    })
}

/// The accounts the grant reaches: for Meta, the Page `page_id` and its Instagram account.
async fn profiles(
    clients: &Clients,
    state: &oauth_state::Model,
    tokens: &TokenSet,
    page_id: Option<&str>,
) -> DomainResult<Vec<Profile>> {
    let provider = match state.provider.as_str() {
        "meta" => Provider::Meta,
        "tiktok" => Provider::Tiktok,
        _ => Provider::Google,
    };
    let all = clients
        .get(provider)
        .profile(&tokens.access_token)
        .await
        .map_err(platform_error)?;
    if provider != Provider::Meta {
        return Ok(all);
    }
    let page_id = page_id.unwrap_or_default();
    let chosen: Vec<Profile> = all
        .into_iter()
        .filter(|p| match p.platform {
            Platform::Facebook => p.platform_user_id == page_id,
            _ => p.extra.get("page_id").and_then(|v| v.as_str()) == Some(page_id),
        })
        .collect();
    if chosen.is_empty() {
        return Err(DomainError::invalid(
            codes::STATE_INVALID,
            Some("page"),
            "that is not one of the Pages you manage",
        ));
    }
    if state.platform == Some(Platform::Instagram)
        && !chosen.iter().any(|p| p.platform == Platform::Instagram)
    {
        return Err(DomainError::invalid(
            codes::NOT_ELIGIBLE,
            None,
            NOT_ELIGIBLE_IG,
        ));
    }
    Ok(chosen)
}

fn actor_of(state: &oauth_state::Model) -> Actor {
    match state.invite_id {
        Some(id) => Actor::Invite(id),
        None => Actor::Anonymous,
    }
}

/// Links every account the grant reaches, in one transaction: on any conflict nothing is stored.
pub(super) async fn link_grant(
    db: &(impl ConnectionTrait + TransactionTrait),
    keyring: &Keyring,
    clients: &Clients,
    state: &oauth_state::Model,
    tokens: TokenSet,
    page_id: Option<&str>,
) -> DomainResult<Outcome> {
    let provider_client = clients.get(match state.provider.as_str() {
        "meta" => Provider::Meta,
        "tiktok" => Provider::Tiktok,
        _ => Provider::Google,
    });
    let found = profiles(clients, state, &tokens, page_id).await?;
    let requested = provider_client.requested_scopes();
    let missing = missing_scopes(provider_client.required_scopes(), &tokens.granted_scopes);
    let now = clients.now();
    let org = OrgId::new(state.organization_id);
    let actor = actor_of(state);

    let txn = db.begin().await?;
    // The profile may have been deleted while the creator was on the platform.
    crate::profiles::get(&txn, org, state.profile_id).await?;
    let reconnect = match state.account_id {
        Some(id) => {
            social_account::Entity::find_by_id(id)
                .filter(social_account::Column::OrganizationId.eq(org.uuid()))
                .one(&txn)
                .await?
        }
        None => None,
    };
    let mut linked = Vec::new();
    let mut accounts = Vec::new();
    for profile in &found {
        let account = upsert_account(
            &txn,
            org,
            state.profile_id,
            reconnect.as_ref(),
            profile,
            now,
        )
        .await?;
        let link = write_link(
            &txn, keyring, &account, &tokens, requested, &missing, now, &actor,
        )
        .await?;
        linked.push(LinkedAccount {
            account_id: account.id,
            platform: account.platform,
            handle: account.handle.clone(),
            display_name: account.display_name.clone(),
            status: link.status,
            invalid_reason: link.invalid_reason,
            missing_scopes: missing.clone(),
        });
        accounts.push(account);
    }
    // A Facebook Page and its Instagram account are a pair.
    if let [a, b] = accounts.as_slice() {
        for (one, other) in [(a, b), (b, a)] {
            let mut active: social_account::ActiveModel = one.clone().into();
            active.paired_account_id = Set(Some(other.id));
            active.update(&txn).await?;
        }
    }
    txn.commit().await?;
    tracing::info!(
        accounts = linked.len(),
        missing_scopes = missing.len(),
        "connect finished"
    );
    Ok(Outcome::Linked {
        org,
        profile_id: state.profile_id,
        accounts: linked,
        redirect_to: state.redirect_to.clone(),
    })
}

/// Writes `account`'s link from a fresh grant: LINKED with sealed tokens and a fresh 90 days, or
/// INVALID/SCOPES_MISSING (tokens dropped) when a required permission is missing. A refresh token
/// the platform did not resend is kept. Records the status change.
#[allow(clippy::too_many_arguments)]
async fn write_link(
    txn: &impl ConnectionTrait,
    keyring: &Keyring,
    account: &social_account::Model,
    tokens: &TokenSet,
    requested: &[&str],
    missing: &[String],
    now: DateTime<Utc>,
    actor: &Actor,
) -> DomainResult<link::Model> {
    let existing = link::Entity::find()
        .filter(link::Column::AccountId.eq(account.id))
        .one(txn)
        .await?;
    let link_id = existing.as_ref().map(|l| l.id).unwrap_or_else(Uuid::now_v7);
    let from = existing
        .as_ref()
        .map(|l| {
            status::derive(
                &LinkState {
                    stored: l.status,
                    invalid_reason: l.invalid_reason,
                    authenticated_at: l.authenticated_at,
                    expires_at: l.expires_at,
                },
                now,
                status::DEFAULT_EXPIRING_WINDOW,
            )
            .status
        })
        .unwrap_or(LinkStatus::NotLinked);
    let mut active = match &existing {
        Some(l) => {
            let mut a: link::ActiveModel = l.clone().into();
            a.version = Set(l.version + 1);
            a
        }
        None => link::ActiveModel {
            id: Set(link_id),
            organization_id: Set(account.organization_id),
            account_id: Set(account.id),
            last_refreshed_at: Set(None),
            last_synced_at: Set(None),
            lease_owner: Set(None),
            lease_until: Set(None),
            created_at: Set(now),
            version: Set(1),
            ..Default::default()
        },
    };
    active.requested_scopes = Set(requested.join(" "));
    active.granted_scopes = Set(tokens.granted_scopes.join(" "));
    active.last_error = Set(None);
    active.last_error_at = Set(None);
    active.refresh_failures = Set(0);
    active.next_refresh_at = Set(None);
    active.warned_at = Set(None);
    active.updated_at = Set(now);
    let (to, reason) = if missing.is_empty() {
        let access = keyring.seal(&tokens.access_token, &Aad::new(link_id, TokenKind::Access));
        let (refresh, refresh_expires) = match &tokens.refresh_token {
            Some(fresh) => (
                Some(keyring.seal(fresh, &Aad::new(link_id, TokenKind::Refresh))),
                tokens.refresh_expires_at,
            ),
            // Google omits the refresh token on re-consent: keep the good one we have.
            None => (
                existing.as_ref().and_then(|l| l.refresh_token.clone()),
                existing.as_ref().and_then(|l| l.refresh_token_expires_at),
            ),
        };
        let (expires_at, cause) =
            status::expires_at(now, tokens.data_access_expires_at, refresh_expires);
        active.status = Set(LinkStatus::Linked);
        active.invalid_reason = Set(None);
        active.authenticated_at = Set(Some(now));
        active.expires_at = Set(Some(expires_at));
        active.expiry_cause = Set(Some(cause.as_str().to_owned()));
        active.access_token = Set(Some(access));
        active.refresh_token = Set(refresh);
        active.access_token_expires_at = Set(tokens.access_expires_at);
        active.refresh_token_expires_at = Set(refresh_expires);
        active.data_access_expires_at = Set(tokens.data_access_expires_at);
        (LinkStatus::Linked, None)
    } else {
        // Tokens without the required permissions are useless: do not keep them.
        active.status = Set(LinkStatus::Invalid);
        active.invalid_reason = Set(Some(InvalidReason::ScopesMissing));
        active.access_token = Set(None);
        active.refresh_token = Set(None);
        active.access_token_expires_at = Set(None);
        active.refresh_token_expires_at = Set(None);
        if existing.is_none() {
            active.authenticated_at = Set(None);
            active.expires_at = Set(None);
            active.expiry_cause = Set(None);
            active.data_access_expires_at = Set(None);
        }
        (
            LinkStatus::Invalid,
            Some(InvalidReason::ScopesMissing.as_str().to_owned()),
        )
    };
    let model = if existing.is_some() {
        active.update(txn).await?
    } else {
        active.insert(txn).await?
    };
    let reason = reason.or_else(|| (from == to).then(|| "RECONNECTED".to_owned()));
    events::record(
        txn,
        NewEvent::status_changed(account, from, to, reason, actor.clone(), now),
    )
    .await?;
    Ok(model)
}
