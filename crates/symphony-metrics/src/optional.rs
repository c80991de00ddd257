//! A gauge with no series until it is first set: "not reported yet" is not 0.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::MetricType;

/// Unset, then the last value set. Clones share the value.
#[derive(Debug, Clone)]
pub(crate) struct OptionalGauge(Arc<AtomicI64>);

/// The value meaning "never set" (a budget is never negative).
const UNSET: i64 = i64::MIN;

impl Default for OptionalGauge {
    fn default() -> Self {
        Self(Arc::new(AtomicI64::new(UNSET)))
    }
}

impl OptionalGauge {
    pub(crate) fn set(&self, value: i64) {
        self.0.store(value.max(UNSET + 1), Ordering::Relaxed);
    }
}

impl EncodeMetric for OptionalGauge {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.encode_gauge(&self.0.load(Ordering::Relaxed))
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }

    /// The registry leaves an empty metric out, descriptor and all.
    fn is_empty(&self) -> bool {
        self.0.load(Ordering::Relaxed) == UNSET
    }
}
