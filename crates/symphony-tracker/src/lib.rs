//! The tracker seam (SPEC §11): the [`Tracker`] trait every adapter implements, the
//! normalization rules adapters share, the optional agent-tool types (SPEC §10.5), an
//! in-memory tracker for tests, [`ObservedTracker`] for watching calls without writing a
//! decorator, the [`webhook`] seam through which adapters receive deliveries, and a
//! [`conformance`] kit every adapter's tests run.

mod candidates;
pub mod conformance;
pub mod endpoint;
mod error;
mod hand_off;
mod memory;
pub mod normalize;
mod observed;
mod tools;
mod tracker;
pub mod webhook;

pub use candidates::CandidateRead;
pub use error::{TrackerError, TrackerErrorCategory};
pub use hand_off::IssueHandOff;
pub use memory::MemoryTracker;
pub use observed::{ObservedTracker, TrackerCall, TrackerObserver};
pub use tools::{ToolContext, ToolResult, ToolSpec};
pub use tracker::{hand_off, Tracker};
pub use webhook::{
    WebhookDelivery, WebhookHint, WebhookReceiver, WebhookReceivers, WebhookRejection,
    WebhookRequest,
};
