//! What a caller may see of campaigns. Frontend users and unrestricted API keys see every
//! campaign of their organization; a key limited to campaigns (`api_key.campaign_ids`) sees only
//! those campaigns, their participating profiles, and the content and metrics inside the campaign
//! window — never the creators' other posts or their audiences.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entities::{api_key, campaign, campaign_content, social_account};
use crate::error::DomainResult;
use crate::tenant::OrgId;

/// The campaigns a caller is limited to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CampaignAccess {
    /// No limitation.
    #[default]
    All,
    /// Only these campaigns (possibly none).
    Only(BTreeSet<Uuid>),
}

impl CampaignAccess {
    /// The limitation an API key carries: `campaign_ids` is a JSON array of campaign ids, or
    /// null for none. A value that cannot be read limits the key to nothing rather than to
    /// everything.
    pub fn of_api_key(key: &api_key::Model) -> CampaignAccess {
        match &key.campaign_ids {
            None | Some(serde_json::Value::Null) => CampaignAccess::All,
            Some(value) => {
                let ids = serde_json::from_value::<Vec<Uuid>>(value.clone()).unwrap_or_default();
                CampaignAccess::Only(ids.into_iter().collect())
            }
        }
    }

    /// The limitation of a request's caller: API keys carry theirs; users are unlimited.
    pub fn of_caller(caller: &crate::access::Caller) -> CampaignAccess {
        match caller {
            crate::access::Caller::ApiKey(key) => match &key.campaign_ids {
                Some(ids) => CampaignAccess::Only(ids.iter().copied().collect()),
                None => CampaignAccess::All,
            },
            crate::access::Caller::User(_) => CampaignAccess::All,
        }
    }

    /// The value to store in `api_key.campaign_ids` for this limitation.
    pub fn to_stored(&self) -> Option<serde_json::Value> {
        match self {
            CampaignAccess::All => None,
            CampaignAccess::Only(ids) => Some(serde_json::json!(ids)),
        }
    }

    /// True when the caller may see campaign `id`.
    pub fn allows(&self, id: Uuid) -> bool {
        match self {
            CampaignAccess::All => true,
            CampaignAccess::Only(ids) => ids.contains(&id),
        }
    }

    /// The campaigns the caller is limited to, `None` when unlimited.
    pub fn only(&self) -> Option<&BTreeSet<Uuid>> {
        match self {
            CampaignAccess::All => None,
            CampaignAccess::Only(ids) => Some(ids),
        }
    }

    /// True when the caller is limited to campaigns (and so may not see anything outside them:
    /// profiles not taking part, media outside the window, audiences).
    pub fn is_limited(&self) -> bool {
        matches!(self, CampaignAccess::Only(_))
    }
}

/// A campaign's dates: from `starts_at` to `ends_at`.
pub type Window = (DateTime<Utc>, DateTime<Utc>);

/// Everything a campaign-limited caller may see, computed once per request: the campaigns, the
/// profiles taking part in them (with the members of participating groups), those profiles'
/// accounts, the content media of the campaigns (removed content excluded) and, per account, the
/// campaign windows its daily metrics may be read in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visible {
    pub campaigns: BTreeSet<Uuid>,
    pub profiles: BTreeSet<Uuid>,
    pub accounts: BTreeSet<Uuid>,
    pub media: BTreeSet<Uuid>,
    /// Per account: the (start, end) instants of the campaigns covering it.
    pub windows: BTreeMap<Uuid, Vec<Window>>,
}

impl Visible {
    pub fn profile(&self, id: Uuid) -> bool {
        self.profiles.contains(&id)
    }

    pub fn account(&self, id: Uuid) -> bool {
        self.accounts.contains(&id)
    }

    pub fn media(&self, id: Uuid) -> bool {
        self.media.contains(&id)
    }

    /// True when `day` falls inside a window of a campaign covering `account`.
    pub fn day(&self, account: Uuid, day: NaiveDate) -> bool {
        self.windows.get(&account).is_some_and(|ws| {
            ws.iter()
                .any(|(from, to)| day >= from.date_naive() && day <= to.date_naive())
        })
    }
}

/// What `access` may see in `org`: `None` when it is unlimited (the caller sees the whole
/// organization), else the [`Visible`] set of its campaigns.
pub async fn visible(
    db: &impl ConnectionTrait,
    org: OrgId,
    access: &CampaignAccess,
) -> DomainResult<Option<Visible>> {
    let Some(ids) = access.only() else {
        return Ok(None);
    };
    let mut seen = Visible::default();
    let campaigns = campaign::Entity::find()
        .filter(campaign::Column::OrganizationId.eq(org.uuid()))
        .filter(campaign::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    for c in &campaigns {
        seen.campaigns.insert(c.id);
        let profiles = super::covered_profile_ids(db, org, c.id).await?;
        let accounts = social_account::Entity::find()
            .filter(social_account::Column::OrganizationId.eq(org.uuid()))
            .filter(social_account::Column::ProfileId.is_in(profiles.iter().copied()))
            .all(db)
            .await?;
        for a in accounts {
            seen.accounts.insert(a.id);
            seen.windows
                .entry(a.id)
                .or_default()
                .push((c.starts_at, c.ends_at));
        }
        seen.profiles.extend(profiles);
    }
    seen.media = campaign_content::Entity::find()
        .filter(campaign_content::Column::OrganizationId.eq(org.uuid()))
        .filter(campaign_content::Column::CampaignId.is_in(seen.campaigns.iter().copied()))
        .filter(campaign_content::Column::RemovedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.media_id)
        .collect();
    Ok(Some(seen))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn key(campaign_ids: Option<serde_json::Value>) -> api_key::Model {
        api_key::Model {
            id: Uuid::now_v7(),
            organization_id: Uuid::now_v7(),
            name: "brand".into(),
            prefix: "p".into(),
            secret_hash: "h".into(),
            scopes: "read".into(),
            campaign_ids,
            created_by: None,
            created_at: Utc::now(),
            last_used_at: None,
            expires_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_key_without_campaigns_is_unlimited_and_a_limited_key_sees_only_its_campaigns() {
        assert_eq!(CampaignAccess::of_api_key(&key(None)), CampaignAccess::All);
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let limited = CampaignAccess::of_api_key(&key(Some(serde_json::json!([a.to_string()]))));
        assert!(limited.allows(a));
        assert!(!limited.allows(b));
        assert!(limited.is_limited());
        assert_eq!(
            CampaignAccess::of_api_key(&key(limited.to_stored())),
            limited
        );
    }

    #[test]
    fn an_unreadable_limitation_sees_nothing() {
        let garbled = CampaignAccess::of_api_key(&key(Some(serde_json::json!({"x": 1}))));
        assert!(garbled.is_limited());
        assert!(!garbled.allows(Uuid::now_v7()));
    }
}
