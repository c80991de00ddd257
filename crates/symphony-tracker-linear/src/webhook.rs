//! Linear's deliveries through the webhook seam (`POST /webhooks/linear`), checked as
//! Linear's own SDK checks them (`@linear/sdk` `LinearWebhookClient`): `Linear-Signature` is
//! the hex HMAC-SHA256 of the raw body under the webhook's secret, and the body's
//! `webhookTimestamp` (epoch milliseconds) must be within a minute of now. Only then is the
//! body read: an issue or comment event names its issue; a label or workflow-state change
//! may move many issues, so it asks for a poll.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;
use symphony_tracker::webhook::verify_hmac_sha256_hex;
use symphony_tracker::{
    WebhookDelivery, WebhookHint, WebhookReceiver, WebhookRejection, WebhookRequest,
};

use crate::config::LinearConfig;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "Linear-Signature";
/// How far a delivery's timestamp may be from now (Linear's SDK allows one minute).
pub const MAX_SKEW: Duration = Duration::from_secs(60);

/// Verifies and reads Linear deliveries for one team/project scope.
pub struct LinearWebhookReceiver {
    secret: Vec<u8>,
    team: Option<String>,
}

impl std::fmt::Debug for LinearWebhookReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinearWebhookReceiver { secret: ******** }")
    }
}

impl LinearWebhookReceiver {
    /// A receiver for deliveries signed with `secret`; deliveries about other teams than
    /// `team` (when set) are ignored.
    pub fn new(secret: impl Into<Vec<u8>>, team: Option<String>) -> Self {
        Self {
            secret: secret.into(),
            team,
        }
    }

    /// The receiver `config` asks for (`webhook_secret` set), if any.
    pub fn from_config(config: &LinearConfig) -> Option<Self> {
        config
            .webhook_secret
            .as_ref()
            .map(|secret| Self::new(secret.as_bytes(), config.team.clone()))
    }
}

impl WebhookReceiver for LinearWebhookReceiver {
    fn kind(&self) -> &str {
        crate::KIND
    }

    fn receive(&self, request: &WebhookRequest<'_>) -> Result<WebhookDelivery, WebhookRejection> {
        let signature = request
            .header(SIGNATURE_HEADER)
            .ok_or(WebhookRejection::MissingSignature(SIGNATURE_HEADER))?;
        verify_hmac_sha256_hex(&self.secret, request.body, signature, SIGNATURE_HEADER)?;
        let payload: Value = serde_json::from_slice(request.body)
            .map_err(|e| WebhookRejection::Malformed(e.to_string()))?;
        if !payload.is_object() {
            return Err(WebhookRejection::Malformed("expected an object".to_owned()));
        }
        let sent = payload
            .get("webhookTimestamp")
            .and_then(Value::as_u64)
            .ok_or_else(|| WebhookRejection::Stale("no numeric `webhookTimestamp`".to_owned()))?;
        let now = request
            .received_at
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let skew = Duration::from_millis(now.abs_diff(sent));
        if skew > MAX_SKEW {
            return Err(WebhookRejection::Stale(format!(
                "signed {} s from now; at most {} s is accepted",
                skew.as_secs(),
                MAX_SKEW.as_secs()
            )));
        }
        let kind = payload
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let event = request.header("linear-event").unwrap_or(kind).to_owned();
        let data = payload.get("data");
        let field = |name: &str| data.and_then(|d| d.get(name)).and_then(Value::as_str);
        let foreign = |team_key: Option<&str>| match (&self.team, team_key) {
            (Some(ours), Some(theirs)) => !ours.eq_ignore_ascii_case(theirs),
            _ => false,
        };
        let hint = match kind {
            "Issue"
                if !foreign(
                    data.and_then(|d| d.pointer("/team/key"))
                        .and_then(Value::as_str),
                ) =>
            {
                WebhookHint::issues(field("id").map(str::to_owned))
            }
            "Comment" => WebhookHint::issues(field("issueId").map(str::to_owned)),
            // A relation changes whether its issues are blocked.
            "IssueRelation" => WebhookHint::issues(
                ["issueId", "relatedIssueId"]
                    .into_iter()
                    .filter_map(field)
                    .map(str::to_owned),
            ),
            "IssueLabel" | "WorkflowState" | "Project" => WebhookHint::poll(),
            _ => WebhookHint::none(),
        };
        Ok(WebhookDelivery::new(
            request.header("linear-delivery").map(str::to_owned),
            event,
            hint,
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use serde_json::json;
    use symphony_tracker::webhook::hmac_sha256_hex;

    const SECRET: &[u8] = b"lin_wh_test_secret";

    fn deliver(
        body: &Value,
        at: SystemTime,
        signature: Option<String>,
    ) -> Result<WebhookDelivery, WebhookRejection> {
        let raw = serde_json::to_vec(body).unwrap();
        let mut headers = vec![("Linear-Delivery".to_owned(), "d-1".to_owned())];
        let signature = signature.unwrap_or_else(|| hmac_sha256_hex(SECRET, &raw));
        headers.push(("Linear-Signature".to_owned(), signature));
        let request = WebhookRequest::new(headers, &raw, at);
        LinearWebhookReceiver::new(SECRET, Some("ENG".into())).receive(&request)
    }

    fn issue_event(at: SystemTime, team: &str) -> Value {
        let ms = at.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        json!({"action": "update", "type": "Issue", "webhookTimestamp": ms,
               "data": {"id": "issue-uuid", "team": {"key": team}}})
    }

    #[test]
    fn a_signed_fresh_issue_event_names_its_issue() {
        let now = SystemTime::now();
        let delivery = deliver(&issue_event(now, "ENG"), now, None).unwrap();
        assert_eq!(delivery.hint.issue_ids, ["issue-uuid"]);
        assert_eq!(delivery.id.as_deref(), Some("d-1"));
        assert_eq!(delivery.event, "Issue");
        let other_team = deliver(&issue_event(now, "OPS"), now, None).unwrap();
        assert!(
            other_team.hint.is_empty(),
            "another team's issue is not ours"
        );
    }

    #[test]
    fn forged_stale_and_unsigned_deliveries_are_refused() {
        let now = SystemTime::now();
        let forged = deliver(&issue_event(now, "ENG"), now, Some("ab".repeat(32)));
        assert_eq!(forged.unwrap_err(), WebhookRejection::BadSignature);
        let old = now - Duration::from_secs(61);
        let stale = deliver(&issue_event(old, "ENG"), now, None).unwrap_err();
        assert!(matches!(stale, WebhookRejection::Stale(_)), "{stale}");
        assert!(
            stale.is_unauthenticated(),
            "a replay outside the window is refused as such"
        );
        let request = WebhookRequest::new(Vec::new(), b"{}", now);
        assert_eq!(
            LinearWebhookReceiver::new(SECRET, None)
                .receive(&request)
                .unwrap_err(),
            WebhookRejection::MissingSignature(SIGNATURE_HEADER)
        );
    }

    #[test]
    fn comments_relations_and_labels_become_the_right_hints() {
        let now = SystemTime::now();
        let ms = now.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let comment =
            json!({"type": "Comment", "webhookTimestamp": ms, "data": {"issueId": "i-9"}});
        assert_eq!(
            deliver(&comment, now, None).unwrap().hint.issue_ids,
            ["i-9"]
        );
        let label = json!({"type": "IssueLabel", "webhookTimestamp": ms, "data": {"id": "l"}});
        assert!(deliver(&label, now, None).unwrap().hint.poll);
        let reaction = json!({"type": "Reaction", "webhookTimestamp": ms, "data": {}});
        assert!(deliver(&reaction, now, None).unwrap().hint.is_empty());
    }
}
