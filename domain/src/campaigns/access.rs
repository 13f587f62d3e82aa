//! What a caller may see of campaigns. Frontend users and unrestricted API keys see every
//! campaign of their organization; a key limited to campaigns (`api_key.campaign_ids`) sees only
//! those campaigns, their participating profiles, and the content and metrics inside the campaign
//! window — never the creators' other posts or their audiences.

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::entities::api_key;

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
