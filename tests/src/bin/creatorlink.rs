//! The `creatorlink` program, built inside the tests package so its tests can start it as a
//! process (`CARGO_BIN_EXE_creatorlink-under-test`). Same code as the shipped binary.

fn main() {
    api::cli::main();
}
