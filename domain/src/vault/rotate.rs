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
    report.add(
        rotate_table::<link::Entity>(db, keyring, batch, link::Column::Id, |r| r.id, link_cells)
            .await?,
    );
    report.add(
        rotate_table::<oauth_state::Entity>(
            db,
            keyring,
            batch,
            oauth_state::Column::Id,
            |r| r.id,
            state_cells,
        )
        .await?,
    );
    report.add(
        rotate_table::<webhook_endpoint::Entity>(
            db,
            keyring,
            batch,
            webhook_endpoint::Column::Id,
            |r| r.id,
            webhook_cells,
        )
        .await?,
    );
    report.add(
        rotate_table::<pending_revocation::Entity>(
            db,
            keyring,
            batch,
            pending_revocation::Column::Id,
            |r| r.id,
            revocation_cells,
        )
        .await?,
    );
    tracing::info!(?report, active = %keyring.active(), "vault rotation finished");
    Ok(report)
}

/// A sealed cell of a row: its column, what it seals (the AAD), and the sealed text if set.
type Cell<'a, C> = (C, TokenKind, Option<&'a str>);

fn link_cells(row: &link::Model) -> Vec<Cell<'_, link::Column>> {
    vec![
        (
            link::Column::AccessToken,
            TokenKind::Access,
            row.access_token.as_deref(),
        ),
        (
            link::Column::RefreshToken,
            TokenKind::Refresh,
            row.refresh_token.as_deref(),
        ),
    ]
}

fn state_cells(row: &oauth_state::Model) -> Vec<Cell<'_, oauth_state::Column>> {
    vec![
        (
            oauth_state::Column::PkceVerifier,
            TokenKind::PkceVerifier,
            row.pkce_verifier.as_deref(),
        ),
        (
            oauth_state::Column::PendingGrant,
            TokenKind::Access,
            row.pending_grant.as_deref(),
        ),
    ]
}

fn webhook_cells(row: &webhook_endpoint::Model) -> Vec<Cell<'_, webhook_endpoint::Column>> {
    vec![(
        webhook_endpoint::Column::Secret,
        TokenKind::WebhookSecret,
        Some(row.secret.as_str()),
    )]
}

fn revocation_cells(row: &pending_revocation::Model) -> Vec<Cell<'_, pending_revocation::Column>> {
    let kind = match row.token_kind.as_str() {
        "refresh" => TokenKind::Refresh,
        _ => TokenKind::Access,
    };
    vec![(
        pending_revocation::Column::Token,
        kind,
        Some(row.token.as_str()),
    )]
}

/// Re-seals the `cells` of every row of `E` (keyed by the UUID column `id`), walking the table
/// in id order `batch` rows at a time; each write is a compare-and-set on the old sealed text.
async fn rotate_table<E>(
    db: &impl ConnectionTrait,
    keyring: &Keyring,
    batch: u64,
    id: E::Column,
    id_of: fn(&E::Model) -> Uuid,
    cells: for<'a> fn(&'a E::Model) -> Vec<Cell<'a, E::Column>>,
) -> Result<RotateReport, sea_orm::DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let table = E::default().table_name();
    let mut report = RotateReport::default();
    let mut after = Uuid::nil();
    loop {
        let rows = E::find()
            .filter(id.gt(after))
            .order_by_asc(id)
            .limit(batch)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = id_of(last);
        for row in &rows {
            let row_id = id_of(row);
            for (col, kind, value) in cells(row) {
                let Some(old) = value else { continue };
                let column = Column { table, kind };
                if let Some(fresh) = reseal_one(keyring, &column, row_id, old, &mut report) {
                    let done = E::update_many()
                        .col_expr(col, Expr::value(fresh))
                        .filter(id.eq(row_id))
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

fn count(report: &mut RotateReport, rows: u64) {
    if rows == 1 {
        report.resealed += 1;
    } else {
        report.raced += 1;
    }
}
