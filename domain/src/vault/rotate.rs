//! `creatorlink vault rotate`: re-seals every sealed column under the keyring's active key, in
//! batches. Resumable by construction: a value already under the active key is skipped, so a run
//! that was stopped is simply run again. Each value is written with a compare-and-set on its old
//! sealed text, so a token a refresh rewrote meanwhile is never overwritten with a stale one.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{Aad, Keyring, TokenKind};
use crate::entities::{link, oauth_state, pending_revocation, webhook_endpoint};

/// What a rotation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RotateReport {
    /// Values re-sealed under the active key.
    pub resealed: u64,
    /// Values already under the active key.
    pub current: u64,
    /// Values that could not be opened (unknown key, damaged, moved): left as they are and logged.
    pub failed: u64,
    /// Values changed by someone else between read and write (they are under the active key then).
    pub raced: u64,
}

/// One sealed column of one table.
struct Column {
    table: &'static str,
    kind: TokenKind,
}

impl RotateReport {
    fn add(&mut self, other: RotateReport) {
        self.resealed += other.resealed;
        self.current += other.current;
        self.failed += other.failed;
        self.raced += other.raced;
    }
}

/// Re-seals one value; returns the new text when it needs writing.
fn reseal_one(
    keyring: &Keyring,
    column: &Column,
    row: Uuid,
    sealed: &str,
    report: &mut RotateReport,
) -> Option<String> {
    if !keyring.needs_reseal(sealed) {
        report.current += 1;
        return None;
    }
    match keyring.reseal(sealed, &Aad::new(row, column.kind)) {
        Ok(fresh) => Some(fresh),
        Err(e) => {
            tracing::warn!(table = column.table, kind = column.kind.as_str(), %row, error = %e,
                "cannot re-seal a stored value; left unchanged");
            report.failed += 1;
            None
        }
    }
}

/// Re-seals every sealed value in the database (`link` access and refresh tokens,
/// `oauth_state` PKCE verifiers and pending grants, `webhook_endpoint` secrets,
/// `pending_revocation` tokens), `batch` rows at a time.
pub async fn rotate(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    batch: u64,
) -> Result<RotateReport, sea_orm::DbErr> {
    let batch = batch.max(1);
    let mut report = RotateReport::default();
    report.add(rotate_links(db, keyring, batch).await?);
    report.add(rotate_states(db, keyring, batch).await?);
    report.add(rotate_webhooks(db, keyring, batch).await?);
    report.add(rotate_pending_revocations(db, keyring, batch).await?);
    tracing::info!(?report, active = %keyring.active(), "vault rotation finished");
    Ok(report)
}

async fn rotate_links(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    batch: u64,
) -> Result<RotateReport, sea_orm::DbErr> {
    let mut report = RotateReport::default();
    let mut after = Uuid::nil();
    loop {
        let rows = link::Entity::find()
            .filter(link::Column::Id.gt(after))
            .order_by_asc(link::Column::Id)
            .limit(batch)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows {
            for (col, kind, value) in [
                (
                    link::Column::AccessToken,
                    TokenKind::Access,
                    &row.access_token,
                ),
                (
                    link::Column::RefreshToken,
                    TokenKind::Refresh,
                    &row.refresh_token,
                ),
            ] {
                let Some(old) = value.as_deref() else {
                    continue;
                };
                let column = Column {
                    table: "link",
                    kind,
                };
                if let Some(fresh) = reseal_one(keyring, &column, row.id, old, &mut report) {
                    let done = link::Entity::update_many()
                        .col_expr(col, Expr::value(fresh))
                        .filter(link::Column::Id.eq(row.id))
                        .filter(col.eq(old))
                        .exec(db)
                        .await?;
                    count(&mut report, done.rows_affected);
                }
            }
        }
    }
    Ok(report)
}

async fn rotate_states(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    batch: u64,
) -> Result<RotateReport, sea_orm::DbErr> {
    let mut report = RotateReport::default();
    let mut after = Uuid::nil();
    loop {
        let rows = oauth_state::Entity::find()
            .filter(oauth_state::Column::Id.gt(after))
            .order_by_asc(oauth_state::Column::Id)
            .limit(batch)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows {
            for (col, kind, value) in [
                (
                    oauth_state::Column::PkceVerifier,
                    TokenKind::PkceVerifier,
                    &row.pkce_verifier,
                ),
                (
                    oauth_state::Column::PendingGrant,
                    TokenKind::Access,
                    &row.pending_grant,
                ),
            ] {
                let Some(old) = value.as_deref() else {
                    continue;
                };
                let column = Column {
                    table: "oauth_state",
                    kind,
                };
                if let Some(fresh) = reseal_one(keyring, &column, row.id, old, &mut report) {
                    let done = oauth_state::Entity::update_many()
                        .col_expr(col, Expr::value(fresh))
                        .filter(oauth_state::Column::Id.eq(row.id))
                        .filter(col.eq(old))
                        .exec(db)
                        .await?;
                    count(&mut report, done.rows_affected);
                }
            }
        }
    }
    Ok(report)
}

async fn rotate_webhooks(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    batch: u64,
) -> Result<RotateReport, sea_orm::DbErr> {
    let mut report = RotateReport::default();
    let mut after = Uuid::nil();
    let column = Column {
        table: "webhook_endpoint",
        kind: TokenKind::WebhookSecret,
    };
    loop {
        let rows = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Id.gt(after))
            .order_by_asc(webhook_endpoint::Column::Id)
            .limit(batch)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows {
            if let Some(fresh) = reseal_one(keyring, &column, row.id, &row.secret, &mut report) {
                let done = webhook_endpoint::Entity::update_many()
                    .col_expr(webhook_endpoint::Column::Secret, Expr::value(fresh))
                    .filter(webhook_endpoint::Column::Id.eq(row.id))
                    .filter(webhook_endpoint::Column::Secret.eq(row.secret.as_str()))
                    .exec(db)
                    .await?;
                count(&mut report, done.rows_affected);
            }
        }
    }
    Ok(report)
}

async fn rotate_pending_revocations(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    batch: u64,
) -> Result<RotateReport, sea_orm::DbErr> {
    let mut report = RotateReport::default();
    let mut after = Uuid::nil();
    loop {
        let rows = pending_revocation::Entity::find()
            .filter(pending_revocation::Column::Id.gt(after))
            .order_by_asc(pending_revocation::Column::Id)
            .limit(batch)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows {
            let kind = match row.token_kind.as_str() {
                "refresh" => TokenKind::Refresh,
                _ => TokenKind::Access,
            };
            let column = Column {
                table: "pending_revocation",
                kind,
            };
            if let Some(fresh) = reseal_one(keyring, &column, row.id, &row.token, &mut report) {
                let done = pending_revocation::Entity::update_many()
                    .col_expr(pending_revocation::Column::Token, Expr::value(fresh))
                    .filter(pending_revocation::Column::Id.eq(row.id))
                    .filter(pending_revocation::Column::Token.eq(row.token.as_str()))
                    .exec(db)
                    .await?;
                count(&mut report, done.rows_affected);
            }
        }
    }
    Ok(report)
}

fn count(report: &mut RotateReport, rows: u64) {
    if rows == 1 {
        report.resealed += 1;
    } else {
        report.raced += 1;
    }
}
