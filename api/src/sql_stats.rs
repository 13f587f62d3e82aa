//! Counting the SQL statements one GraphQL request issues, so N+1 patterns show up in the logs
//! (`sql_statements` on the request's log line) and in tests.
//!
//! SeaORM reports every statement to one callback per connection pool; the callback adds to the
//! counter of the task it runs in. A request's counter is installed as a task-local around its
//! execution and around every batch its DataLoader spawns, so concurrent requests never mix.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sea_orm::DatabaseConnection;

tokio::task_local! {
    static STATEMENTS: Arc<AtomicU64>;
}

/// A request's statement counter.
#[derive(Clone, Default, Debug)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    /// Statements counted so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Runs `fut` with statements it issues counted here.
    pub fn scope<F: Future>(&self, fut: F) -> impl Future<Output = F::Output> {
        STATEMENTS.scope(self.0.clone(), fut)
    }
}

/// Installs the counting callback on `db`; call before the connection is cloned.
pub fn install(db: &mut DatabaseConnection) {
    db.set_metric_callback(|_info| {
        let _ = STATEMENTS.try_with(|count| count.fetch_add(1, Ordering::Relaxed));
    });
}
