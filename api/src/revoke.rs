//! Revoking authorizations at their platform, for erasure.
//!
//! The platform clients and the token vault are not yet part of the running application, so no
//! sealed token can be opened and sent to a platform's revoke endpoint. [`NotWired`] says so for
//! every link: the erasure counts it as a failed upstream revoke and deletes the tokens anyway,
//! which is what design §7 asks of "revoke upstream" when the platform cannot be reached.

use async_trait::async_trait;
use domain::entities::{link, social_account};
use domain::privacy::UpstreamRevoker;

/// The revoker in use until the platform clients are wired in: every revoke fails, saying why.
pub struct NotWired;

#[async_trait]
impl UpstreamRevoker for NotWired {
    async fn revoke(
        &self,
        account: &social_account::Model,
        _link: &link::Model,
    ) -> Result<(), String> {
        Err(format!(
            "no {} client is configured in this process",
            account.platform.provider().as_str()
        ))
    }
}
