//! The tracker seam (SPEC §11): the [`Tracker`] trait every adapter implements, the
//! normalization rules adapters share, the optional agent-tool types (SPEC §10.5), an
//! in-memory tracker for tests, and a [`conformance`] kit every adapter's tests run.

pub mod conformance;
mod error;
mod memory;
pub mod normalize;
mod tools;
mod tracker;

pub use error::{TrackerError, TrackerErrorCategory};
pub use memory::MemoryTracker;
pub use tools::{ToolContext, ToolResult, ToolSpec};
pub use tracker::Tracker;
