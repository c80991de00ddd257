//! Linear as Symphony's backlog (`tracker.kind: linear`; profile in
//! `docs/trackers/linear.md`): issues of one team and/or project read over Linear's GraphQL
//! API with cursor pagination, workflow states by name (finished blockers also by state
//! type), blockers from `blocks` relations, hand-off by moving and commenting, the
//! team-confined `linear_graphql` tool, rate limits by request count and query complexity,
//! and webhook deliveries verified as Linear's SDK verifies them.

mod client;
mod config;
pub mod documents;
mod handoff;
mod profile;
mod reads;
mod record;
mod tool;
mod tracker;
pub mod webhook;

pub use client::{RateLimits, RequestStats};
pub use config::{LinearConfig, API_KEY_VARIABLE, DEFAULT_ENDPOINT};
pub use documents::sent_documents;
pub use profile::{LinearProfile, KIND};
pub use reads::COMPLETE_EVERY;
pub use tool::TOOL;
pub use tracker::LinearTracker;
pub use webhook::LinearWebhookReceiver;
