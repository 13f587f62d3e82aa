//! The closed vocabularies of the API, mirrored from `domain::kinds`: one GraphQL type each,
//! defined next to the concept they describe.

pub use super::account::Platform;
pub use super::link::{InvalidReason, LinkStatus};
