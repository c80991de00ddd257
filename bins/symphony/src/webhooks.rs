//! Which webhook receivers the server routes to (`POST /webhooks/<kind>`): the built-in
//! adapters' (each when its secret is set) and the plugins'. The server itself knows no
//! provider; this is the one place that names them.

use std::sync::Arc;

use symphony_server::ServerConfig;
use symphony_tracker::WebhookReceivers;
use symphony_workflow::ServiceConfig;

/// The receivers for `config` and its server section.
pub(crate) fn receivers(config: &ServiceConfig, server: &ServerConfig) -> WebhookReceivers {
    let mut receivers = WebhookReceivers::new();
    // GitHub's deliveries serve the GitHub tracker and the GitHub code host alike (reviews of
    // pull requests opened for any tracker's issues).
    if let Some(secret) = &server.github_webhook_secret {
        receivers.register(Arc::new(
            symphony_tracker_github::GithubWebhookReceiver::new(secret.as_bytes()),
        ));
    }
    if config.tracker.kind == symphony_tracker_linear::KIND {
        let linear = symphony_tracker_linear::LinearConfig::from_provider(
            &config.tracker.provider,
            config.tracker.terminal_states.clone(),
        );
        if let Some(receiver) = linear
            .ok()
            .as_ref()
            .and_then(symphony_tracker_linear::LinearWebhookReceiver::from_config)
        {
            receivers.register(Arc::new(receiver));
        }
    }
    for plugin in crate::plugins::plugins() {
        if plugin.profile().kind() == config.tracker.kind {
            if let Some(receiver) = plugin.webhook_receiver(config) {
                receivers.register(receiver);
            }
        }
    }
    receivers
}
