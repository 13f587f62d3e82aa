//! The harness's promises that other tests rely on: a Redis key prefix per test that is cleaned up,
//! and a PostgreSQL database per test that is dropped.

use sea_orm::{ConnectionTrait, Database, Statement};
use tests::{Backend, TestDatabase, TestRedis};

#[tokio::test]
async fn each_test_gets_its_own_redis_prefix_and_it_is_cleaned_up() {
    let Some(a) = TestRedis::create().await else {
        return;
    };
    let Some(b) = TestRedis::create().await else {
        return;
    };
    assert_ne!(a.prefix, b.prefix);
    let mut conn = a.connection().await;
    let key = format!("{}:probe", a.prefix);
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("1")
        .query_async(&mut conn)
        .await
        .expect("set");
    let pattern = format!("{}*", b.prefix);
    let seen_by_b: Vec<String> = redis::cmd("KEYS")
        .arg(&pattern)
        .query_async(&mut conn)
        .await
        .expect("keys");
    assert!(seen_by_b.is_empty(), "b sees none of a's keys");
    drop(a);
    let left: Option<String> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("get");
    assert_eq!(left, None, "a's keys are deleted when the test ends");
}

#[tokio::test]
async fn each_postgres_test_database_is_dropped_afterwards() {
    let Some(db) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    let name = db.url.rsplit('/').next().expect("db name").to_owned();
    drop(db);
    let admin = Database::connect(tests::postgres_admin_url())
        .await
        .expect("admin");
    let row = admin
        .query_one_raw(Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"),
        ))
        .await
        .expect("query")
        .expect("row");
    let n: i64 = row.try_get("", "n").expect("n");
    assert_eq!(n, 0, "{name} was dropped");
}
