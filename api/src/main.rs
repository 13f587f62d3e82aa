//! The `creatorlink` binary; all of it lives in [`api::cli::main`] so tests can run the same code.

fn main() {
    api::cli::main();
}
