//! The typed configuration: raw front matter sections with the SPEC §6.4 defaults (`raw.rs`,
//! also the JSON Schema's source), the resolved types (`model.rs`), and the resolution
//! (`resolve.rs`, SPEC §6.1).

mod model;
pub(crate) mod raw;
mod resolve;

pub use model::*;
