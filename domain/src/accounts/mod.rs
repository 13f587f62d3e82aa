//! Social accounts as users name them: handles, profile links and post links, parsed once at the
//! edge into canonical values.

pub mod handle;
