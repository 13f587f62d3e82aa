//! Who may call which operation: ONE table, [`RULES`], from every root field (`Query.x`,
//! `Mutation.y`, `Subscription.z`) to its requirement, enforced by the [`AccessControl`] extension
//! before any resolver runs. A root field without a row is refused for everyone (and the matrix
//! test in `tests/tests/e2e/access.rs` fails), so a new operation cannot ship unguarded.
//!
//! Adding an operation is one line, e.g.
//! `("Mutation.addSocialAccount", Rule::staff().key(Scope::AccountsWrite).creator_owns("input.profileId")),`
//! and the field's doc comment ends with what [`Rule::describe`] says (a test compares them).
//!
//! Tenancy is not decided here: every domain call filters by the caller's organization, so a row
//! of another organization is simply not found. This table decides what a caller may attempt
//! inside its own organization.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextResolve,
    ResolveInfo,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{
    ErrorExtensions, Name, Pos, Positioned, Request, ServerError, ServerResult, Value, Variables,
};
use domain::access::{Caller, Role, Scope};
use domain::entities::{connect_invite, media, social_account};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::error::codes;
use super::ids::{self, NodeType};
use super::{RequestContext, Shared};

/// Which users of the organization (besides creators) may call an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Staff {
    /// Admins only.
    Admin,
    /// Admins and managers.
    AdminAndManager,
}

/// Whether API keys may call an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAccess {
    Denied,
    /// Keys holding this scope.
    Scope(Scope),
    /// Every key.
    Any,
}

/// Whether creator-role users may call an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreatorAccess {
    Denied,
    /// When the global id at this argument path (`id`, `input.profileId`, a list of ids) belongs
    /// to one of the creator's profiles (an account counts by the profile holding it).
    Owns(&'static str),
    /// Allowed; the resolver limits what it returns to the creator's profiles
    /// ([`domain::access::Caller::profile_limit`]).
    OwnOnly,
    /// Every creator.
    Any,
}

/// The requirement of one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub staff: Staff,
    pub key: KeyAccess,
    pub creator: CreatorAccess,
    /// For `node`/`nodes`: the argument holding the id(s); the rule of each id's type
    /// ([`node_rule`]) applies instead of this one.
    pub by_node: Option<&'static str>,
    /// With `by_node`: each id is checked as its item resolves ([`may_read_node`]), so a refused
    /// item is null with its own error and the others are served (`nodes`, like GitHub's).
    pub per_item: bool,
}

impl Rule {
    /// Admins only; no keys, no creators.
    pub const fn admin() -> Rule {
        Rule {
            staff: Staff::Admin,
            key: KeyAccess::Denied,
            creator: CreatorAccess::Denied,
            by_node: None,
            per_item: false,
        }
    }

    /// Admins and managers; no keys, no creators.
    pub const fn staff() -> Rule {
        Rule {
            staff: Staff::AdminAndManager,
            ..Rule::admin()
        }
    }

    /// Every authenticated caller.
    pub const fn anyone() -> Rule {
        Rule {
            staff: Staff::AdminAndManager,
            key: KeyAccess::Any,
            creator: CreatorAccess::Any,
            by_node: None,
            per_item: false,
        }
    }

    /// What `node(id:)` needs: the rule of the id's type.
    pub const fn by_node(arg: &'static str) -> Rule {
        Rule {
            by_node: Some(arg),
            ..Rule::anyone()
        }
    }

    /// What `nodes(ids:)` needs: the rule of each id's type, item by item.
    pub const fn by_node_items(arg: &'static str) -> Rule {
        Rule {
            by_node: Some(arg),
            per_item: true,
            ..Rule::anyone()
        }
    }

    /// Also API keys holding `scope`.
    pub const fn key(self, scope: Scope) -> Rule {
        Rule {
            key: KeyAccess::Scope(scope),
            ..self
        }
    }

    /// Also creators, for the profile (or account) whose global id is at `arg`.
    pub const fn creator_owns(self, arg: &'static str) -> Rule {
        Rule {
            creator: CreatorAccess::Owns(arg),
            ..self
        }
    }

    /// Also creators; the resolver returns only their own profiles' data.
    pub const fn creator_own_only(self) -> Rule {
        Rule {
            creator: CreatorAccess::OwnOnly,
            ..self
        }
    }

    /// The sentence every operation's description ends with.
    pub fn describe(&self) -> String {
        if self.per_item {
            return "Access: what each object's type requires (see the type's description); an \
                    object the caller may not read is null, with a FORBIDDEN error at its index."
                .into();
        }
        if self.by_node.is_some() {
            return "Access: what the object's type requires (see the type's description).".into();
        }
        if *self == Rule::anyone() {
            return "Access: any authenticated caller.".into();
        }
        let staff = match self.staff {
            Staff::Admin => "role admin",
            Staff::AdminAndManager => "roles admin and manager",
        };
        let key = match self.key {
            KeyAccess::Denied => "no API keys".to_owned(),
            KeyAccess::Scope(s) => format!("API keys with `{s}`"),
            KeyAccess::Any => "any API key".to_owned(),
        };
        let creator = match self.creator {
            CreatorAccess::Denied => "no creators",
            CreatorAccess::Owns(_) => "creators for their own profiles",
            CreatorAccess::OwnOnly => "creators, limited to their own profiles",
            CreatorAccess::Any => "any creator",
        };
        format!("Access: {staff}; {key}; {creator}.")
    }
}

/// The requirement of every root field. Keep sorted by root type, then by concept.
pub const RULES: &[(&str, Rule)] = &[
    ("Query.node", Rule::by_node("id")),
    ("Query.viewer", Rule::anyone()),
    (
        "Query.creatorProfile",
        Rule::staff().key(Scope::ProfilesRead).creator_owns("id"),
    ),
    (
        "Query.creatorProfiles",
        Rule::staff().key(Scope::ProfilesRead).creator_own_only(),
    ),
    ("Query.nodes", Rule::by_node_items("ids")),
    (
        "Query.socialAccountByUrl",
        Rule::staff().key(Scope::ProfilesRead),
    ),
    ("Query.campaign", Rule::staff().key(Scope::MetricsRead)),
    ("Query.campaigns", Rule::staff().key(Scope::MetricsRead)),
    (
        "Query.exportCampaignReport",
        Rule::staff().key(Scope::MetricsRead),
    ),
    ("Query.apiKeys", Rule::admin()),
    ("Query.failedJobs", Rule::admin()),
    (
        "Query.webhookEndpoints",
        Rule::admin().key(Scope::WebhooksManage),
    ),
    (
        "Query.webhookDeliveries",
        Rule::admin().key(Scope::WebhooksManage),
    ),
    (
        "Mutation.createCreatorProfile",
        Rule::staff().key(Scope::AccountsWrite),
    ),
    (
        "Mutation.updateCreatorProfile",
        Rule::staff()
            .key(Scope::AccountsWrite)
            .creator_owns("input.id"),
    ),
    (
        "Mutation.deleteCreatorProfile",
        Rule::staff().key(Scope::AccountsWrite),
    ),
    (
        "Mutation.addGroupMember",
        Rule::staff().key(Scope::AccountsWrite),
    ),
    (
        "Mutation.removeGroupMember",
        Rule::staff().key(Scope::AccountsWrite),
    ),
    ("Mutation.mergeCreatorProfiles", Rule::staff()),
    (
        "Mutation.addSocialAccount",
        Rule::staff()
            .key(Scope::AccountsWrite)
            .creator_owns("profileId"),
    ),
    (
        "Mutation.requestSync",
        Rule::staff().key(Scope::AccountsWrite),
    ),
    (
        "Mutation.createConnectInvite",
        Rule::staff().creator_owns("input.profileId"),
    ),
    (
        "Mutation.revokeConnectInvite",
        Rule::staff().creator_owns("input.id"),
    ),
    (
        "Mutation.exportCreatorData",
        Rule::staff().creator_owns("input.profileId"),
    ),
    (
        "Mutation.eraseCreatorData",
        Rule::admin().creator_owns("input.profileId"),
    ),
    ("Mutation.createCampaign", Rule::staff()),
    ("Mutation.updateCampaign", Rule::staff()),
    ("Mutation.setCampaignStatus", Rule::staff()),
    ("Mutation.addCampaignProfiles", Rule::staff()),
    ("Mutation.removeCampaignProfile", Rule::staff()),
    ("Mutation.addCampaignPost", Rule::staff()),
    ("Mutation.removeCampaignContent", Rule::staff()),
    ("Mutation.createApiKey", Rule::admin()),
    ("Mutation.setConnectReturnOrigins", Rule::admin()),
    ("Mutation.revokeApiKey", Rule::admin()),
    ("Mutation.retryJob", Rule::admin()),
    (
        "Mutation.startConnect",
        Rule::staff()
            .key(Scope::AccountsWrite)
            .creator_owns("input.profileId"),
    ),
    (
        "Mutation.unlinkSocialAccount",
        Rule::staff()
            .key(Scope::AccountsWrite)
            .creator_owns("input.accountId"),
    ),
    (
        "Mutation.removeSocialAccount",
        Rule::staff()
            .key(Scope::AccountsWrite)
            .creator_owns("input.accountId"),
    ),
    (
        "Mutation.createWebhookEndpoint",
        Rule::admin().key(Scope::WebhooksManage),
    ),
    (
        "Mutation.deleteWebhookEndpoint",
        Rule::admin().key(Scope::WebhooksManage),
    ),
    (
        "Mutation.setWebhookEndpointEnabled",
        Rule::admin().key(Scope::WebhooksManage),
    ),
    (
        "Mutation.redeliverWebhook",
        Rule::admin().key(Scope::WebhooksManage),
    ),
    (
        "Subscription.linkStatusChanged",
        Rule::staff()
            .key(Scope::EventsSubscribe)
            .creator_owns("profileId"),
    ),
];

/// The root fields a campaign-limited API key may call (besides what its scopes require): reads
/// only. What they answer is limited to the key's campaigns by the request's loader
/// ([`super::loaders::Batch::visible`]); every mutation, webhook operation and admin read is
/// refused, so such a key cannot change anything or reach data outside its campaigns.
pub const CAMPAIGN_KEY_FIELDS: &[&str] = &[
    "Query.node",
    "Query.viewer",
    "Query.creatorProfile",
    "Query.creatorProfiles",
    "Query.socialAccountByUrl",
    "Query.campaign",
    "Query.campaigns",
    "Query.exportCampaignReport",
    "Subscription.linkStatusChanged",
];

/// True when a campaign-limited API key may call `qualified` (`Query.campaign`).
pub fn campaign_key_may_call(qualified: &str) -> bool {
    CAMPAIGN_KEY_FIELDS.contains(&qualified)
}

/// The types a campaign-limited API key may read through `node(id:)`.
pub const fn campaign_key_may_read(ty: NodeType) -> bool {
    matches!(
        ty,
        NodeType::CreatorProfile
            | NodeType::SocialAccount
            | NodeType::Media
            | NodeType::Campaign
            | NodeType::Organization
    )
}

fn campaign_limited(caller: &Caller) -> bool {
    matches!(caller, Caller::ApiKey(k) if k.campaign_ids.is_some())
}

fn campaign_key_refused(name: &str) -> async_graphql::Error {
    forbidden(format!(
        "this API key is limited to campaigns and cannot call `{name}`; it reads its campaigns, \
         their creators and their content only"
    ))
}

/// What reading an object of type `ty` through `node(id:)` requires.
pub const fn node_rule(ty: NodeType) -> Rule {
    match ty {
        NodeType::CreatorProfile | NodeType::SocialAccount => {
            Rule::staff().key(Scope::ProfilesRead).creator_owns("id")
        }
        NodeType::Media => Rule::staff().key(Scope::MetricsRead).creator_owns("id"),
        NodeType::ConnectInvite => Rule::staff().creator_owns("id"),
        NodeType::Campaign => Rule::staff().key(Scope::MetricsRead),
        NodeType::Organization => Rule::anyone(),
        NodeType::ApiKey => Rule::admin(),
        NodeType::WebhookEndpoint | NodeType::WebhookDelivery => {
            Rule::admin().key(Scope::WebhooksManage)
        }
    }
}

/// The profile an object belongs to, for creators' ownership checks; `None` when it belongs to
/// no profile (creators are then refused).
async fn owner_profile(shared: &Shared, caller: &Caller, ty: NodeType, id: Uuid) -> Option<Uuid> {
    match ty {
        NodeType::CreatorProfile => Some(id),
        NodeType::SocialAccount => social_account::Entity::find_by_id(id)
            .filter(social_account::Column::OrganizationId.eq(caller.org().uuid()))
            .one(&shared.db)
            .await
            .ok()
            .flatten()
            .and_then(|a| a.profile_id),
        NodeType::Media => {
            let media = media::Entity::find_by_id(id)
                .filter(media::Column::OrganizationId.eq(caller.org().uuid()))
                .one(&shared.db)
                .await
                .ok()
                .flatten()?;
            social_account::Entity::find_by_id(media.account_id)
                .one(&shared.db)
                .await
                .ok()
                .flatten()
                .and_then(|a| a.profile_id)
        }
        NodeType::ConnectInvite => connect_invite::Entity::find_by_id(id)
            .filter(connect_invite::Column::OrganizationId.eq(caller.org().uuid()))
            .one(&shared.db)
            .await
            .ok()
            .flatten()
            .map(|i| i.profile_id),
        NodeType::Organization
        | NodeType::Campaign
        | NodeType::ApiKey
        | NodeType::WebhookEndpoint
        | NodeType::WebhookDelivery => None,
    }
}

/// Whether the caller of `api` may read the object `(ty, id)` under its type's [`node_rule`]
/// (`nodes(ids:)` asks this per item); the error is the `FORBIDDEN` that `node(id:)` would give.
pub async fn may_read_node(
    api: &super::Api<'_>,
    field: &str,
    ty: NodeType,
    id: Uuid,
) -> Result<(), async_graphql::Error> {
    check(api.shared, api.caller(), field, &node_rule(ty), || {
        vec![(ty, id)]
    })
    .await
}

/// The rule of `Type.field`, if declared.
pub fn rule_for(qualified: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|(name, _)| *name == qualified)
        .map(|(_, rule)| rule)
}

/// Installs the access checks on a schema.
pub struct AccessControl;

impl ExtensionFactory for AccessControl {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AccessCheck::default())
    }
}

/// One request's decisions: made once per root field after parsing, applied when the field
/// resolves (so a refused field is a `FORBIDDEN` error beside the data of allowed ones).
#[derive(Default)]
struct AccessCheck {
    operation_name: Mutex<Option<String>>,
    decisions: Mutex<HashMap<String, Result<(), ServerError>>>,
}

#[async_trait::async_trait]
impl Extension for AccessCheck {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if let Ok(mut name) = self.operation_name.lock() {
            name.clone_from(&request.operation_name);
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let name = self.operation_name.lock().ok().and_then(|n| n.clone());
        // An operation that cannot be selected is reported by validation; nothing executes.
        let Some(op) = select_operation(&doc, name.as_deref()) else {
            return Ok(doc);
        };
        let root = match op.ty {
            OperationType::Query => "Query",
            OperationType::Mutation => "Mutation",
            OperationType::Subscription => "Subscription",
        };
        let mut vars: HashMap<Name, Value> = variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for def in &op.variable_definitions {
            if let Some(default) = &def.node.default_value {
                vars.entry(def.node.name.node.clone())
                    .or_insert_with(|| default.node.clone());
            }
        }
        let mut fields = Vec::new();
        collect_root_fields(
            &doc,
            &op.selection_set.node,
            &mut HashSet::new(),
            &mut fields,
        );

        let request = ctx.data_opt::<RequestContext>();
        let shared = ctx.data_opt::<Arc<Shared>>();
        let mut decisions = HashMap::new();
        for field in fields {
            let name = field.node.name.node.as_str();
            if name.starts_with("__") {
                continue;
            }
            let key = field
                .node
                .alias
                .as_ref()
                .map_or(name, |a| a.node.as_str())
                .to_owned();
            let decision = match (request, shared) {
                (Some(request), Some(shared)) => {
                    decide(shared, &request.caller, root, field, &vars).await
                }
                _ => Err(unauthenticated()),
            }
            .map_err(|e| {
                let mut e = e.into_server_error(field.pos);
                e.path = vec![async_graphql::PathSegment::Field(key.clone())];
                e
            });
            if let Err(e) = &decision {
                tracing::info!(field = %format!("{root}.{name}"), reason = %e.message, "access denied");
            }
            decisions.entry(key).or_insert(decision);
        }
        // A subscription has no partial result: refuse it before any stream starts.
        if op.ty == OperationType::Subscription {
            if let Some(Err(e)) = decisions.values().find(|d| d.is_err()) {
                return Err(e.clone());
            }
        }
        if let Ok(mut d) = self.decisions.lock() {
            *d = decisions;
        }
        Ok(doc)
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_none() && !info.is_for_introspection {
            let key = info.alias.unwrap_or(info.name);
            let decision = self.decisions.lock().ok().and_then(|d| d.get(key).cloned());
            match decision {
                Some(Ok(())) => {}
                Some(Err(e)) => return Err(e),
                // Every root field was decided after parsing; one that was not is refused.
                None if key.starts_with("__") => {}
                None => {
                    return Err(forbidden(format!("no access decision for `{}`", info.name))
                        .into_server_error(Pos::default()))
                }
            }
        }
        next.run(ctx, info).await
    }
}

fn select_operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match &doc.operations {
        DocumentOperations::Single(op) => Some(&op.node),
        DocumentOperations::Multiple(ops) => match name {
            Some(name) => ops.get(name).map(|op| &op.node),
            None if ops.len() == 1 => ops.values().next().map(|op| &op.node),
            None => None,
        },
    }
}

/// The root fields, through fragment spreads and inline fragments (directives are ignored: a
/// field skipped with `@skip` is still checked, which can only refuse more).
fn collect_root_fields<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    seen: &mut HashSet<&'a str>,
    out: &mut Vec<&'a Positioned<Field>>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => out.push(f),
            Selection::InlineFragment(f) => {
                collect_root_fields(doc, &f.node.selection_set.node, seen, out)
            }
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                if seen.insert(name) {
                    if let Some(frag) = doc.fragments.get(&s.node.fragment_name.node) {
                        collect_root_fields(doc, &frag.node.selection_set.node, seen, out);
                    }
                }
            }
        }
    }
}

/// Whether `caller` may call `root.field` with its arguments.
async fn decide(
    shared: &Shared,
    caller: &Caller,
    root: &str,
    field: &Positioned<Field>,
    vars: &HashMap<Name, Value>,
) -> Result<(), async_graphql::Error> {
    let name = field.node.name.node.as_str();
    let Some(rule) = rule_for(&format!("{root}.{name}")) else {
        tracing::error!(field = %format!("{root}.{name}"), "operation without an access rule");
        return Err(forbidden(format!(
            "`{name}` has no declared access rule and is refused"
        )));
    };
    if campaign_limited(caller) && !campaign_key_may_call(&format!("{root}.{name}")) {
        return Err(campaign_key_refused(name));
    }
    if rule.per_item {
        // Checked item by item as the list resolves.
        return Ok(());
    }
    if let Some(arg) = rule.by_node {
        for id in ids_at(field, arg, vars) {
            // An id that is not one of ours resolves to null; nothing to protect.
            if let Some((ty, uuid)) = ids::decode(&id) {
                if campaign_limited(caller) && !campaign_key_may_read(ty) {
                    return Err(campaign_key_refused(name));
                }
                let rule = node_rule(ty);
                check(shared, caller, name, &rule, || vec![(ty, uuid)]).await?;
            }
        }
        return Ok(());
    }
    check(shared, caller, name, rule, || match rule.creator {
        CreatorAccess::Owns(arg) => ids_at(field, arg, vars)
            .iter()
            .map(|id| ids::decode(id).unwrap_or((NodeType::CreatorProfile, Uuid::nil())))
            .collect(),
        _ => Vec::new(),
    })
    .await
}

async fn check(
    shared: &Shared,
    caller: &Caller,
    name: &str,
    rule: &Rule,
    targets: impl FnOnce() -> Vec<(NodeType, Uuid)>,
) -> Result<(), async_graphql::Error> {
    match caller {
        Caller::ApiKey(key) => match rule.key {
            KeyAccess::Any => Ok(()),
            KeyAccess::Scope(scope) if key.scopes.contains(&scope) => Ok(()),
            KeyAccess::Scope(scope) => Err(forbidden(format!(
                "this API key lacks the scope `{scope}` that `{name}` needs"
            ))
            .extend_with(|_, e| e.set("requiredScope", scope.as_str()))),
            KeyAccess::Denied => Err(forbidden(format!(
                "API keys cannot call `{name}`; it needs a signed-in user"
            ))),
        },
        Caller::User(user) => match user.role {
            Role::Admin => Ok(()),
            Role::Manager if rule.staff == Staff::AdminAndManager => Ok(()),
            Role::Manager => Err(forbidden(format!("`{name}` needs the role admin"))),
            Role::Creator => match rule.creator {
                CreatorAccess::Any | CreatorAccess::OwnOnly => Ok(()),
                CreatorAccess::Denied => Err(forbidden(format!("creators cannot call `{name}`"))),
                CreatorAccess::Owns(_) => {
                    let targets = targets();
                    let mut owned = !targets.is_empty();
                    for (ty, id) in targets {
                        let owner = owner_profile(shared, caller, ty, id).await;
                        owned &= owner.is_some_and(|p| user.profile_ids.contains(&p));
                    }
                    if owned {
                        Ok(())
                    } else {
                        Err(forbidden(format!(
                            "creators may call `{name}` only for their own profiles"
                        )))
                    }
                }
            },
        },
    }
}

/// The string ids at `path` (`arg` or `arg.field.…`), whether one id or a list of them.
fn ids_at(field: &Positioned<Field>, path: &str, vars: &HashMap<Name, Value>) -> Vec<String> {
    let mut segments = path.split('.');
    let Some(arg) = segments.next().and_then(|a| field.node.get_argument(a)) else {
        return Vec::new();
    };
    let Ok(mut value) = arg
        .node
        .clone()
        .into_const_with(|name| vars.get(&name).cloned().ok_or(()))
    else {
        return Vec::new();
    };
    for segment in segments {
        value = match value {
            Value::Object(mut map) => map.swap_remove(segment).unwrap_or(Value::Null),
            _ => Value::Null,
        };
    }
    match value {
        Value::String(s) => vec![s],
        Value::List(items) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn forbidden(message: String) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", codes::FORBIDDEN))
}

fn unauthenticated() -> async_graphql::Error {
    async_graphql::Error::new("authentication required")
        .extend_with(|_, e| e.set("code", codes::UNAUTHENTICATED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_declared_once() {
        let mut names: Vec<&str> = RULES.iter().map(|(n, _)| *n).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a field has two rules");
    }

    #[test]
    fn every_operation_has_a_rule_and_says_it_in_its_description() {
        let schema = async_graphql::Schema::build(
            super::super::QueryRoot::default(),
            super::super::MutationRoot::default(),
            super::super::SubscriptionRoot::default(),
        )
        .finish();
        let sdl = schema.sdl();
        let normalized: String = sdl.split_whitespace().collect::<Vec<_>>().join(" ");
        for (name, rule) in RULES {
            let words: String = rule
                .describe()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            assert!(
                normalized.contains(&words),
                "the description of {name} must say: {}",
                rule.describe()
            );
        }
    }
}
