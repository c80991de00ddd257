//! `POST /webhooks/github`: a delivery is verified (`X-Hub-Signature-256`, the GitHub
//! adapter's verifier), de-duplicated by `X-GitHub-Delivery` (a replayed delivery changes
//! nothing), and turned into an immediate refresh when it concerns issues. Bad signatures get
//! 401 and are counted; nothing about the body is trusted before the signature is.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use symphony_tracker_github::webhook::{parse_event, verify_signature, RefreshHint, WebhookError};

/// Delivery ids remembered for replay detection.
const REMEMBERED: usize = 4096;

/// Recent delivery ids, oldest first out.
#[derive(Debug, Default)]
pub struct Deliveries {
    seen: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl Deliveries {
    /// `true` the first time `id` is seen.
    fn first(&self, id: &str) -> bool {
        let mut guard = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let (set, order) = &mut *guard;
        if !set.insert(id.to_owned()) {
            return false;
        }
        order.push_back(id.to_owned());
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
    /// Missing or wrong signature.
    BadSignature,
    /// Signed, but not a JSON object.
    Malformed,
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

/// Judges one delivery; `refresh` is called only for a verified, new, relevant one and says
/// what it queued (`None`: the orchestrator is unavailable).
pub fn receive(
    secret: &[u8],
    deliveries: &Deliveries,
    headers: &HeaderMap,
    body: &Bytes,
    refresh: impl FnOnce(&RefreshHint) -> Option<Queued>,
) -> (StatusCode, Value, Outcome) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Err(e) = verify_signature(secret, body, header("x-hub-signature-256")) {
        let code = match e {
            WebhookError::MissingSignature => "missing_signature",
            _ => "bad_signature",
        };
        return (
            StatusCode::UNAUTHORIZED,
            crate::api::error(code, &e.to_string()),
            Outcome::BadSignature,
        );
    }
    let delivery = header("x-github-delivery").unwrap_or_default();
    if !delivery.is_empty() && !deliveries.first(delivery) {
        return (
            StatusCode::OK,
            json!({"accepted": false, "reason": "delivery already received", "delivery": delivery}),
            Outcome::Replayed,
        );
    }
    let event = header("x-github-event").unwrap_or_default();
    let hint = match parse_event(event, body) {
        Ok(hint) => hint,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                crate::api::error("malformed_delivery", &e.to_string()),
                Outcome::Malformed,
            )
        }
    };
    if hint.is_empty() {
        return (
            StatusCode::ACCEPTED,
            json!({"accepted": true, "refresh": false, "event": event}),
            Outcome::Ignored,
        );
    }
    match refresh(&hint) {
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
