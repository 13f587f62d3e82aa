//! Opaque global IDs (Relay): `base64url("<Type>:<uuid>")`. Clients must treat them as opaque;
//! the type prefix lets `node(id:)` dispatch and rejects an id of one type used as another.

use async_graphql::ID;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

/// The types that implement `Node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeType {
    CreatorProfile,
    ApiKey,
    Campaign,
    SocialAccount,
    Media,
    Organization,
    WebhookEndpoint,
    WebhookDelivery,
    ConnectInvite,
}

impl NodeType {
    fn as_str(self) -> &'static str {
        match self {
            NodeType::CreatorProfile => "CreatorProfile",
            NodeType::ApiKey => "ApiKey",
            NodeType::Campaign => "Campaign",
            NodeType::SocialAccount => "SocialAccount",
            NodeType::Media => "Media",
            NodeType::Organization => "Organization",
            NodeType::WebhookEndpoint => "WebhookEndpoint",
            NodeType::WebhookDelivery => "WebhookDelivery",
            NodeType::ConnectInvite => "ConnectInvite",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "CreatorProfile" => Some(NodeType::CreatorProfile),
            "ApiKey" => Some(NodeType::ApiKey),
            "Campaign" => Some(NodeType::Campaign),
            "SocialAccount" => Some(NodeType::SocialAccount),
            "Media" => Some(NodeType::Media),
            "Organization" => Some(NodeType::Organization),
            "WebhookEndpoint" => Some(NodeType::WebhookEndpoint),
            "WebhookDelivery" => Some(NodeType::WebhookDelivery),
            "ConnectInvite" => Some(NodeType::ConnectInvite),
            _ => None,
        }
    }
}

/// The global ID of a row.
pub fn encode(ty: NodeType, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", ty.as_str(), id)))
}

/// The global ID of a row of a type named by its GraphQL name, for links that carry an id of a
/// type this module does not dispatch on (e.g. `SocialAccount` in Connect page URLs).
pub fn encode_named(type_name: &str, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"))
}

/// The type and row id behind a global ID, or `None` when it is not one of ours.
pub fn decode(id: &str) -> Option<(NodeType, Uuid)> {
    let raw = URL_SAFE_NO_PAD.decode(id.as_bytes()).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (ty, uuid) = text.split_once(':')?;
    Some((NodeType::parse(ty)?, Uuid::parse_str(uuid).ok()?))
}

/// The row id behind a global ID that must be of type `ty`.
pub fn decode_as(ty: NodeType, id: &str) -> Option<Uuid> {
    decode(id).and_then(|(t, uuid)| (t == ty).then_some(uuid))
}

/// Connection cursors are opaque too: `base64url("cursor:<uuid>")`.
pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("cursor:{id}"))
}

/// The row id behind a cursor, or `None` when the cursor is not one of ours.
pub fn decode_cursor(cursor: &str) -> Option<Uuid> {
    let raw = URL_SAFE_NO_PAD.decode(cursor.as_bytes()).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    Uuid::parse_str(text.strip_prefix("cursor:")?).ok()
}

/// Cursors of keyset-ordered connections: `base64url("<order>|<json of the sort key and id>")`.
/// The order tag makes a cursor from one ordering unusable in another.
pub fn encode_keyset_cursor(order: &str, cursor: &domain::pagination::Cursor) -> String {
    let json = serde_json::to_string(cursor).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(format!("{order}|{json}"))
}

/// The position behind a keyset cursor made for `order`, or `None`.
pub fn decode_keyset_cursor(order: &str, cursor: &str) -> Option<domain::pagination::Cursor> {
    let raw = URL_SAFE_NO_PAD.decode(cursor.as_bytes()).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (tag, json) = text.split_once('|')?;
    if tag != order {
        return None;
    }
    serde_json::from_str(json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_keep_their_type() {
        let id = Uuid::now_v7();
        let gid = encode(NodeType::CreatorProfile, id);
        assert_eq!(decode(&gid), Some((NodeType::CreatorProfile, id)));
        assert_eq!(decode_as(NodeType::CreatorProfile, &gid), Some(id));
        assert_eq!(decode("not-an-id"), None);
        assert_eq!(
            decode(&URL_SAFE_NO_PAD.encode(format!("Secret:{id}"))),
            None
        );
    }

    #[test]
    fn keyset_cursors_round_trip_only_in_their_order() {
        use domain::pagination::{Cursor, SortValue};
        let cursor = Cursor {
            key: SortValue::Text("Ana".into()),
            id: SortValue::Uuid(Uuid::now_v7()),
        };
        let text = encode_keyset_cursor("profiles:NAME:ASC", &cursor);
        assert_eq!(
            decode_keyset_cursor("profiles:NAME:ASC", &text),
            Some(cursor)
        );
        assert_eq!(decode_keyset_cursor("profiles:NAME:DESC", &text), None);
        assert_eq!(decode_keyset_cursor("profiles:NAME:ASC", "garbage"), None);
    }

    #[test]
    fn cursors_round_trip() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Some(id));
        assert_eq!(decode_cursor("garbage"), None);
    }
}
