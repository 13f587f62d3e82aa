//! Who is calling: an authenticated user (JWT) with a role, or a brand client's API key with
//! scopes. The API turns credentials into a [`Caller`] once, at the edge; everything after that
//! reads the organization, the role or the scopes from it, never from client input.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::actor::Actor;
use crate::tenant::OrgId;

/// What a user may do in their organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything in the organization, including API keys and webhooks.
    Admin,
    /// Profiles, accounts, connect and invites.
    Manager,
    /// Only the creator profiles named in the token: read, connect, reconnect, unlink, remove,
    /// export, erase.
    Creator,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Creator];

    /// The claim value: `admin`, `manager`, `creator`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Creator => "creator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}` (admin, manager or creator)"))
    }
}

/// What an API key may do. A key holds a set of scopes chosen when it is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read creator profiles and their accounts and link status.
    ProfilesRead,
    /// Read metrics, media, stories and audiences.
    MetricsRead,
    /// Add, connect and remove social accounts; request syncs.
    AccountsWrite,
    /// Subscribe to link events.
    EventsSubscribe,
    /// Create and remove webhook endpoints.
    WebhooksManage,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::ProfilesRead,
        Scope::MetricsRead,
        Scope::AccountsWrite,
        Scope::EventsSubscribe,
        Scope::WebhooksManage,
    ];

    /// The scope's name, e.g. `profiles:read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ProfilesRead => "profiles:read",
            Scope::MetricsRead => "metrics:read",
            Scope::AccountsWrite => "accounts:write",
            Scope::EventsSubscribe => "events:subscribe",
            Scope::WebhooksManage => "webhooks:manage",
        }
    }

    /// Parses a space- or comma-separated list, refusing unknown names; duplicates collapse and
    /// the result is sorted.
    pub fn parse_list(text: &str) -> Result<Vec<Scope>, String> {
        let mut scopes = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Scope>, String>>()?;
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }

    /// The stored form: names separated by single spaces.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown scope `{s}` (known: {})",
                    Scope::join(&Scope::ALL).replace(' ', ", ")
                )
            })
    }
}

/// An authenticated frontend user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserCaller {
    /// The identity provider's subject (`sub`).
    pub user_id: String,
    pub org: OrgId,
    pub role: Role,
    /// For the creator role: the profiles the token names. Empty for other roles.
    pub profile_ids: Vec<Uuid>,
}

/// A brand client authenticated by API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCaller {
    pub key_id: Uuid,
    pub org: OrgId,
    pub scopes: Vec<Scope>,
    /// Campaigns the key is limited to; `None` means the whole organization.
    pub campaign_ids: Option<Vec<Uuid>>,
}

/// The authenticated caller of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    User(UserCaller),
    ApiKey(KeyCaller),
}

impl Caller {
    /// The organization every query of this request is limited to.
    pub fn org(&self) -> OrgId {
        match self {
            Caller::User(u) => u.org,
            Caller::ApiKey(k) => k.org,
        }
    }

    /// How audit records name this caller.
    pub fn actor(&self) -> Actor {
        match self {
            Caller::User(u) => Actor::User(u.user_id.clone()),
            Caller::ApiKey(k) => Actor::ApiKey(k.key_id),
        }
    }

    /// The user's role, `None` for API keys.
    pub fn role(&self) -> Option<Role> {
        match self {
            Caller::User(u) => Some(u.role),
            Caller::ApiKey(_) => None,
        }
    }

    /// True for an API key holding `scope`; users have no scopes.
    pub fn has_scope(&self, scope: Scope) -> bool {
        matches!(self, Caller::ApiKey(k) if k.scopes.contains(&scope))
    }

    /// The profiles this caller is limited to: `Some` for a creator, `None` for everyone else
    /// (who see the whole organization).
    pub fn profile_limit(&self) -> Option<&[Uuid]> {
        match self {
            Caller::User(u) if u.role == Role::Creator => Some(&u.profile_ids),
            _ => None,
        }
    }

    /// A stable key for per-caller budgets (rate limits): `user:<org>:<sub>` or `key:<id>`.
    pub fn budget_key(&self) -> String {
        match self {
            Caller::User(u) => format!("user:{}:{}", u.org, u.user_id),
            Caller::ApiKey(k) => format!("key:{}", k.key_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lists_parse_sort_and_refuse_unknown_names() {
        assert_eq!(
            Scope::parse_list("metrics:read, profiles:read profiles:read"),
            Ok(vec![Scope::ProfilesRead, Scope::MetricsRead])
        );
        let err = Scope::parse_list("profiles:write").expect_err("unknown");
        assert!(err.contains("profiles:write") && err.contains("profiles:read"));
        assert_eq!(Scope::parse_list(""), Ok(vec![]));
        assert_eq!(
            Scope::join(&[Scope::ProfilesRead, Scope::WebhooksManage]),
            "profiles:read webhooks:manage"
        );
    }

    #[test]
    fn roles_round_trip_through_their_claim_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("owner".parse::<Role>().is_err());
    }

    #[test]
    fn only_creators_are_limited_to_profiles() {
        let org = OrgId::new(Uuid::now_v7());
        let p = Uuid::now_v7();
        let user = |role| {
            Caller::User(UserCaller {
                user_id: "u1".into(),
                org,
                role,
                profile_ids: vec![p],
            })
        };
        assert_eq!(user(Role::Creator).profile_limit(), Some(&[p][..]));
        assert_eq!(user(Role::Manager).profile_limit(), None);
        let key = Caller::ApiKey(KeyCaller {
            key_id: p,
            org,
            scopes: vec![Scope::ProfilesRead],
            campaign_ids: None,
        });
        assert!(key.has_scope(Scope::ProfilesRead));
        assert!(!key.has_scope(Scope::MetricsRead));
        assert!(!user(Role::Admin).has_scope(Scope::ProfilesRead));
        assert_eq!(key.actor().label(), format!("key:{p}"));
        assert_eq!(user(Role::Admin).actor().label(), "user:u1");
    }
}
