//! `POST /webhooks/<kind>`: the delivery goes to the receiver registered for `<kind>`
//! (`symphony_tracker::webhook`), which verifies it before reading it; a verified delivery is
//! de-duplicated by its id (a replayed delivery changes nothing) and turned into an immediate
//! refresh when it concerns issues or proposals. Refusals get 401 (authentication) or 400
//! (garbage) and are counted. The server knows no provider: every kind is a registered one.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use symphony_tracker::{WebhookHint, WebhookReceivers, WebhookRequest};

/// Delivery ids remembered for replay detection.
const REMEMBERED: usize = 4096;

/// A delivery's identity: its receiver's kind and the provider's delivery id.
type DeliveryKey = (String, String);

/// Recent delivery ids (per kind), oldest first out.
#[derive(Debug, Default)]
pub struct Deliveries {
    seen: Mutex<(HashSet<DeliveryKey>, VecDeque<DeliveryKey>)>,
}

impl Deliveries {
    /// `true` the first time `id` of `kind` is seen.
    fn first(&self, kind: &str, id: &str) -> bool {
        let key = (kind.to_owned(), id.to_owned());
        let mut guard = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *guard;
        if !set.insert(key.clone()) {
            return false;
        }
        order.push_back(key);
        if order.len() > REMEMBERED {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
        true
    }
}

/// What happened to a delivery (the metric's `outcome` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Verified and turned into a refresh.
    Refreshed,
    /// Verified; nothing Symphony uses.
    Ignored,
    /// Verified, but its delivery id was seen before.
    Replayed,
    /// Missing, malformed or wrong signature, or a stale signed timestamp.
    BadSignature,
    /// Signed, but not a payload the receiver understands.
    Malformed,
    /// No receiver is registered for the kind.
    NotConfigured,
    /// The orchestrator could not take the refresh.
    Unavailable,
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refreshed => "refreshed",
            Self::Ignored => "ignored",
            Self::Replayed => "replayed",
            Self::BadSignature => "bad_signature",
            Self::Malformed => "malformed",
            Self::NotConfigured => "not_configured",
            Self::Unavailable => "unavailable",
        }
    }
}

/// What a relevant delivery queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// A read of the issues it named.
    Issues {
        /// How many.
        issues: usize,
        /// It joined names still waiting.
        coalesced: bool,
    },
    /// A full poll.
    Poll {
        /// It joined a pending poll.
        coalesced: bool,
    },
    /// A look by the review watch only.
    Reviews,
}

/// Judges one delivery to `/webhooks/<kind>`; `refresh` is called only for a verified, new,
/// relevant one and says what it queued (`None`: the orchestrator is unavailable).
pub fn receive(
    receivers: &WebhookReceivers,
    kind: &str,
    deliveries: &Deliveries,
    headers: &HeaderMap,
    body: &Bytes,
    refresh: impl FnOnce(&WebhookHint) -> Option<Queued>,
) -> (StatusCode, Value, Outcome) {
    let Some(receiver) = receivers.get(kind) else {
        let configured = receivers.kinds().join(", ");
        return (
            StatusCode::NOT_FOUND,
            crate::api::error(
                "webhooks_not_configured",
                &format!(
                    "no webhook receiver for {kind:?} (configured: {}); set the adapter's \
                     webhook secret (server.github_webhook_secret for GitHub, \
                     tracker.provider.webhook_secret for other trackers)",
                    if configured.is_empty() {
                        "none"
                    } else {
                        &configured
                    }
                ),
            ),
            Outcome::NotConfigured,
        );
    };
    let request = WebhookRequest::new(
        headers.iter().filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_owned(), v.to_owned()))
        }),
        body,
        SystemTime::now(),
    );
    let delivery = match receiver.receive(&request) {
        Ok(delivery) => delivery,
        Err(rejection) => {
            let (status, outcome) = if rejection.is_unauthenticated() {
                (StatusCode::UNAUTHORIZED, Outcome::BadSignature)
            } else {
                (StatusCode::BAD_REQUEST, Outcome::Malformed)
            };
            return (
                status,
                crate::api::error(rejection.code(), &rejection.to_string()),
                outcome,
            );
        }
    };
    let event = delivery.event.as_str();
    if let Some(id) = &delivery.id {
        if !deliveries.first(kind, id) {
            return (
                StatusCode::OK,
                json!({"accepted": false, "reason": "delivery already received", "delivery": id}),
                Outcome::Replayed,
            );
        }
    }
    if delivery.hint.is_empty() {
        return (
            StatusCode::ACCEPTED,
            json!({"accepted": true, "refresh": false, "event": event}),
            Outcome::Ignored,
        );
    }
    match refresh(&delivery.hint) {
        Some(Queued::Issues { issues, coalesced }) => (
            StatusCode::ACCEPTED,
            json!({"accepted": true, "refresh": "issues", "issues": issues,
                   "coalesced": coalesced, "event": event}),
            Outcome::Refreshed,
        ),
        Some(Queued::Poll { coalesced }) => (
            StatusCode::ACCEPTED,
            json!({"accepted": true, "refresh": "poll", "coalesced": coalesced, "event": event}),
            Outcome::Refreshed,
        ),
        Some(Queued::Reviews) => (
            StatusCode::ACCEPTED,
            json!({"accepted": true, "refresh": "reviews", "event": event}),
            Outcome::Refreshed,
        ),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            crate::api::error(
                "orchestrator_unavailable",
                "the refresh could not be queued",
            ),
            Outcome::Unavailable,
        ),
    }
}
