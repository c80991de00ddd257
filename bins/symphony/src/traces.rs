//! OpenTelemetry traces over OTLP/HTTP, on only when an endpoint is configured
//! (`--otlp-endpoint`, or the standard `OTEL_EXPORTER_OTLP_ENDPOINT` /
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_EXPORTER_OTLP_PROTOCOL` picks `http/protobuf`
//! or `http/json`). Symphony's spans (tick, run, turn, gate, tracker request) are debug-level,
//! so when traces are off no layer wants them and they cost one cached check each.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::Level;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::{Layer, Registry};

use crate::failure::Failure;

/// The exporter, flushed and stopped by [`Traces::shutdown`].
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Sends what is buffered and stops the exporter.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("symphony: traces could not be flushed: {e}");
        }
    }
}

/// The layer that turns spans into OpenTelemetry spans.
pub type TraceLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Whether the environment names an OTLP endpoint.
fn endpoint_in_env() -> bool {
    [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()))
}

/// The trace layer and its exporter, or `None` when no endpoint is configured.
pub fn layer(endpoint: Option<&str>) -> Result<Option<(TraceLayer, Traces)>, Failure> {
    if endpoint.is_none() && !endpoint_in_env() {
        return Ok(None);
    }
    let mut builder = SpanExporter::builder().with_http();
    if let Some(base) = endpoint {
        // Like OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go under it.
        builder = builder.with_endpoint(format!("{}/v1/traces", base.trim_end_matches('/')));
    }
    let exporter = builder
        .build()
        .map_err(|e| Failure::new("invalid_otlp_endpoint", e.to_string()))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("symphony").build())
        .build();
    let tracer = provider.tracer("symphony");
    // Symphony's own spans, and its info-and-above events as span events.
    let ours = filter_fn(|meta| {
        meta.target().starts_with("symphony")
            && if meta.is_span() {
                *meta.level() <= Level::DEBUG
            } else {
                *meta.level() <= Level::INFO
            }
    });
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(ours)
        .boxed();
    Ok(Some((layer, Traces { provider })))
}
