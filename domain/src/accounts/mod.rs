//! Social accounts as users name them (handles, profile links and post links, parsed once at the
//! edge into canonical values), the service that puts them on profiles, and their pulled data.

pub mod data;
pub mod handle;
pub mod service;
