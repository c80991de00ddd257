//! Where logs go: stderr always, and optionally a rotating file; text or JSON lines. Each
//! destination has its own filter, so a later destination (traces) can want other spans
//! without changing what the logs show.

use std::path::PathBuf;

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::cli::{LogFormat, LogRotation};
use crate::failure::Failure;

/// The logging flags.
pub struct LogOptions {
    /// Text or JSON lines.
    pub format: LogFormat,
    /// The log file, when logs also go to one.
    pub file: Option<PathBuf>,
    /// When the file rotates.
    pub rotation: LogRotation,
    /// Rotated files kept.
    pub keep: u16,
    /// The OTLP collector's base URL, when traces are exported.
    pub otlp_endpoint: Option<String>,
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// `SYMPHONY_LOG` when it parses, else `default_level`.
fn filter(default_level: &str) -> EnvFilter {
    EnvFilter::try_from_env("SYMPHONY_LOG").unwrap_or_else(|_| EnvFilter::new(default_level))
}

fn rolling_file(
    options: &LogOptions,
    path: &std::path::Path,
) -> Result<RollingFileAppender, Failure> {
    let bad = |why: String| Failure::new("invalid_log_file", format!("{}: {why}", path.display()));
    if path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/') {
        return Err(bad("is a folder; name the log file in it".to_owned()));
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| bad("expected a file name".to_owned()))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| bad(format!("cannot create its folder: {e}")))?;
    let rotation = match options.rotation {
        LogRotation::Hourly => Rotation::HOURLY,
        LogRotation::Daily => Rotation::DAILY,
        LogRotation::Never => Rotation::NEVER,
    };
    RollingFileAppender::builder()
        .rotation(rotation)
        .filename_prefix(name)
        .max_log_files(usize::from(options.keep))
        .build(&dir)
        .map_err(|e| bad(e.to_string()))
}

/// Installs the global subscriber; the trace exporter, when one is configured, is returned
/// for flushing at exit.
pub fn init(
    options: &LogOptions,
    default_level: &str,
) -> Result<Option<crate::traces::Traces>, Failure> {
    let json = matches!(options.format, LogFormat::Json);
    let mut layers: Vec<BoxedLayer> = Vec::new();
    // Colours only for a person at a terminal; a log collector or a file gets plain text.
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    layers.push(if json {
        stderr.json().with_filter(filter(default_level)).boxed()
    } else {
        stderr.with_filter(filter(default_level)).boxed()
    });
    // A log file that cannot be opened is not a reason to stop (SPEC 13.2): the logs still go
    // to stderr, and the first line there says why the file is missing.
    let mut file_failure = None;
    if let Some(path) = &options.file {
        match rolling_file(options, path) {
            Ok(writer) => {
                let file = tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(writer);
                layers.push(if json {
                    file.json().with_filter(filter(default_level)).boxed()
                } else {
                    file.with_filter(filter(default_level)).boxed()
                });
            }
            Err(failure) => file_failure = Some(failure),
        }
    }
    let traces = match crate::traces::layer(options.otlp_endpoint.as_deref())? {
        Some((layer, traces)) => {
            layers.push(layer);
            Some(traces)
        }
        None => None,
    };
    tracing_subscriber::registry().with(layers).init();
    if let Some(failure) = file_failure {
        tracing::warn!("logging to stderr only: {failure}");
    }
    Ok(traces)
}
