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
    Campaign,
    SocialAccount,
    WebhookEndpoint,
    WebhookDelivery,
}

impl NodeType {
    fn as_str(self) -> &'static str {
        match self {
            NodeType::CreatorProfile => "CreatorProfile",
            NodeType::Campaign => "Campaign",
            NodeType::SocialAccount => "SocialAccount",
            NodeType::WebhookEndpoint => "WebhookEndpoint",
            NodeType::WebhookDelivery => "WebhookDelivery",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "CreatorProfile" => Some(NodeType::CreatorProfile),
            "Campaign" => Some(NodeType::Campaign),
            "SocialAccount" => Some(NodeType::SocialAccount),
            "WebhookEndpoint" => Some(NodeType::WebhookEndpoint),
            "WebhookDelivery" => Some(NodeType::WebhookDelivery),
            _ => None,
        }
    }
}

/// The global ID of a row.
pub fn encode(ty: NodeType, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", ty.as_str(), id)))
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
    fn cursors_round_trip() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Some(id));
        assert_eq!(decode_cursor("garbage"), None);
    }
}
