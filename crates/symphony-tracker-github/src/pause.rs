//! How the client waits.

use std::time::Duration;

use async_trait::async_trait;

/// How the client waits (rate limits, backoff). Tests record the waits instead of sleeping.
#[async_trait]
pub trait Pause: Send + Sync {
    /// Waits `duration`.
    async fn pause(&self, duration: Duration);
}

/// Real waiting, on the tokio timer.
#[derive(Debug, Default)]
pub struct TokioPause;

#[async_trait]
impl Pause for TokioPause {
    async fn pause(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
