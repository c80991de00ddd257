//! Symphony's metrics, on the Prometheus project's Rust client (`prometheus-client`): the
//! service's counters, gauges and histograms ([`ServiceMetrics`]), the per-scrape values a
//! status surface adds ([`ScrapeMetrics`]), and the OpenMetrics text of them all
//! ([`exposition`]). Kept out of the orchestrator so the model and its format have one home
//! and the orchestrator only records.

mod exposition;
mod label;
mod optional;
mod scrape;
mod service;

pub use exposition::{exposition, CONTENT_TYPE};
pub use prometheus_client::registry::Registry;
pub use scrape::ScrapeMetrics;
pub use service::{ServiceMetrics, TrackerOutcome, DURATION_BUCKETS};
