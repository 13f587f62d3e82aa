//! `schema.graphql` is generated from the code; this fails when they drift apart.

#[test]
fn the_committed_schema_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = api::graphql::sdl();
    assert!(
        committed == generated,
        "schema.graphql is out of date with the code; regenerate it with\n\n    cargo run -p api -- schema > schema.graphql\n"
    );
}
