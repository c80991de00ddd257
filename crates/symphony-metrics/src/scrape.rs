//! Values a status surface knows only when it is scraped (the orchestrator's snapshot, its own
//! request counters), as a registry of their own, built for one exposition.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::label::{labels, Labels};

/// One scrape's values. Counter names are given without `_total` and help texts without a
/// final period: the exposition adds both.
#[derive(Debug, Default)]
pub struct ScrapeMetrics {
    registry: Registry,
}

impl ScrapeMetrics {
    /// No values yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A gauge reading `value`.
    pub fn gauge(&mut self, name: &'static str, help: &'static str, value: i64) -> &mut Self {
        let gauge: Gauge = Gauge::default();
        gauge.set(value);
        self.registry.register(name, help, gauge);
        self
    }

    /// A gauge of a quantity (dollars, say) reading `value`.
    pub fn gauge_f64(&mut self, name: &'static str, help: &'static str, value: f64) -> &mut Self {
        let gauge: Gauge<f64, AtomicU64> = Gauge::default();
        gauge.set(value);
        self.registry.register(name, help, gauge);
        self
    }

    /// A counter of things standing at `value`.
    pub fn count(&mut self, name: &'static str, help: &'static str, value: u64) -> &mut Self {
        let counter: Counter = Counter::default();
        counter.inc_by(value);
        self.registry.register(name, help, counter);
        self
    }

    /// A counter of a quantity (seconds, say) standing at `value`.
    pub fn counter(&mut self, name: &'static str, help: &'static str, value: f64) -> &mut Self {
        let counter: Counter<f64, AtomicU64> = Counter::default();
        counter.inc_by(value);
        self.registry.register(name, help, counter);
        self
    }

    /// A counter with one label, one series per `(label value, count)`.
    pub fn counters<V: AsRef<str>>(
        &mut self,
        name: &'static str,
        help: &'static str,
        label: &'static str,
        series: impl IntoIterator<Item = (V, u64)>,
    ) -> &mut Self {
        let family: Family<Labels<1>, Counter> = Family::default();
        for (value, count) in series {
            family
                .get_or_create(&labels([(label, value.as_ref())]))
                .inc_by(count);
        }
        self.registry.register(name, help, family);
        self
    }

    /// A counter with two labels, one series per `((first, second), count)`.
    pub fn counters2<A: AsRef<str>, B: AsRef<str>>(
        &mut self,
        name: &'static str,
        help: &'static str,
        names: (&'static str, &'static str),
        series: impl IntoIterator<Item = ((A, B), u64)>,
    ) -> &mut Self {
        let family: Family<Labels<2>, Counter> = Family::default();
        for ((first, second), count) in series {
            family
                .get_or_create(&labels([
                    (names.0, first.as_ref()),
                    (names.1, second.as_ref()),
                ]))
                .inc_by(count);
        }
        self.registry.register(name, help, family);
        self
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }
}
