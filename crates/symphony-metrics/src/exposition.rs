//! The OpenMetrics text of the service's metrics and one scrape's: what `/metrics` serves.

use prometheus_client::encoding::text::{encode_eof, encode_registry};

use crate::scrape::ScrapeMetrics;
use crate::service::ServiceMetrics;

/// The media type of [`exposition`]'s text (OpenMetrics 1.0; Prometheus scrapes it).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The exposition of `service`'s families, then `scrape`'s, ended with `# EOF`.
pub fn exposition(service: &ServiceMetrics, scrape: &ScrapeMetrics) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail; the encoder's Result only carries fmt errors.
    let _ = encode_registry(&mut out, service.registry());
    let _ = encode_registry(&mut out, scrape.registry());
    let _ = encode_eof(&mut out);
    out
}
