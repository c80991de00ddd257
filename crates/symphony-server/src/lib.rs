//! Symphony's operator surface over HTTP (SPEC §13.7): the JSON API under `/api/v1`, a live
//! dashboard at `/`, Prometheus metrics at `/metrics`, and `/healthz` / `/readyz`. It only
//! observes and triggers: the orchestrator is correct without it.
//!
//! Loopback by default; a non-loopback bind needs a bearer token (compared in constant time)
//! for everything but `/healthz`.

mod api;
mod app;
mod budget_json;
mod charts;
mod config;
mod dashboard;
mod dashboard_panels;
mod error;
mod guard;
mod history;
mod html;
mod issue_page;
mod metrics;
mod orchestrator;
mod routes;
mod store_routes;
mod usage_view;
mod webhook;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use symphony_tracker::WebhookReceivers;

pub use config::{ServerConfig, ServerSection};
pub use error::ServerError;
pub use metrics::ServerCounters;
pub use orchestrator::{Orchestrator, ServiceHandles};
pub use routes::router;

/// A bound server, ready to serve.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
}

impl Server {
    /// Binds `config`'s address; deliveries to `/webhooks/<kind>` go to `webhooks`' receiver
    /// of that kind (none registered: every one is refused as not configured).
    pub async fn bind(
        config: &ServerConfig,
        orchestrator: Arc<dyn Orchestrator>,
        webhooks: WebhookReceivers,
    ) -> Result<Self, ServerError> {
        let addr = SocketAddr::new(config.host, config.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        Ok(Self {
            listener,
            app: router(
                orchestrator,
                config,
                Arc::new(ServerCounters::default()),
                webhooks,
            ),
        })
    }

    /// The address it listens on (the real port when `0` was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
