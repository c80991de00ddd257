//! The HTTP surface on a real loopback socket: every API response shape (insta), the JSON
//! 404/405 envelopes, bearer auth on a token-protected server, metrics and the dashboard.
//! A fixed snapshot stands in for the orchestrator here; `tests/service.rs` runs the real one.

mod client;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use client::{request, Answer};
use serde_json::json;
use symphony_orchestrator::{
    BacklogRow, DayBudget, DayLimits, IssueLimits, Limit, RefreshQueued, RetryRow, RunningRow,
    ServiceMetrics, Snapshot, SnapshotError, Spend, Totals, TrackerOutcome,
};
use symphony_server::{Orchestrator, Server, ServerConfig};
use symphony_store::Usage;

const WEBHOOK_SECRET: &str = "webhook-secret-for-tests";
const LINEAR_SECRET: &str = "lin_wh_secret-for-tests";

struct Fixed {
    snapshot: Option<Snapshot>,
    refreshes: AtomicU32,
    metrics: Arc<ServiceMetrics>,
    /// Issue ids webhooks asked to look at.
    hinted: std::sync::Mutex<Vec<String>>,
    /// Times webhooks woke the review watch.
    review_wakes: AtomicU32,
}

#[async_trait]
impl Orchestrator for Fixed {
    async fn snapshot(&self) -> Result<Snapshot, SnapshotError> {
        self.snapshot.clone().ok_or(SnapshotError::Timeout)
    }

    fn request_refresh(&self) -> Result<RefreshQueued, SnapshotError> {
        let n = self.refreshes.fetch_add(1, Ordering::SeqCst);
        Ok(RefreshQueued { coalesced: n > 0 })
    }

    fn metrics(&self) -> Arc<ServiceMetrics> {
        Arc::clone(&self.metrics)
    }

    fn refresh_issues(&self, issue_ids: Vec<String>) -> Result<RefreshQueued, SnapshotError> {
        self.hinted.lock().unwrap().extend(issue_ids);
        Ok(RefreshQueued { coalesced: false })
    }

    fn wake_reviews(&self, _pull_numbers: Vec<u64>) {
        self.review_wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// Some recorded work: a gate whose name needs escaping, a tracker call, two ticks.
fn recorded_work() -> ServiceMetrics {
    let metrics = ServiceMetrics::default();
    metrics.dispatched();
    metrics.gate("lint \"strict\"", "fail");
    metrics.tracker_call(
        "fetch_issues_by_states",
        TrackerOutcome::Ok,
        Duration::from_millis(20),
        Some(4999),
    );
    metrics.tick(Duration::from_millis(3));
    metrics.tick(Duration::from_millis(30));
    metrics
}

fn snapshot() -> Snapshot {
    Snapshot {
        running: vec![RunningRow {
            issue_id: "id-7".into(),
            identifier: "widgets#7".into(),
            state: "in-progress".into(),
            url: Some("https://github.example/acme/widgets/issues/7".into()),
            session_id: Some("thread-1-turn-3".into()),
            turn_count: 3,
            attempt: Some(2),
            running_ms: 65_000,
            last_event: Some("notification".into()),
            last_event_ms_ago: Some(1_000),
            gating: false,
            last_message: Some("Working on tests".into()),
            tokens: Usage::tokens(1200, 800, 2000).with_cost_usd(0.31),
            stopping: None,
            spend: Spend {
                usage: Usage::tokens(5200, 1800, 7000).with_cost_usd(1.31),
                turns: 5,
                rounds: 1,
                attempts: 2,
                agent_ms: 600_000,
            },
            limits: IssueLimits {
                tokens: Limit {
                    soft: Some(5_000),
                    hard: Some(10_000),
                },
                cost_micros: Limit::hard(2_000_000),
                ..IssueLimits::default()
            },
        }],
        retrying: vec![RetryRow {
            issue_id: "id-9".into(),
            identifier: "widgets#9".into(),
            attempt: 3,
            due_in_ms: 30_000,
            error: Some("agent turn error [turn_timeout]: no answer in 3600 s".into()),
            url: Some("https://github.example/acme/widgets/issues/9".into()),
        }],
        // As the scheduler keeps them: the running session's 1200/800/2000 are included.
        totals: Totals {
            usage: Usage::tokens(6200, 3200, 9400)
                .with_cache(4000, 300)
                .with_cost_usd(1.25),
            ended_runtime_ms: 1_769_000,
        },
        seconds_running: 1834.2,
        rate_limits: Some(json!({"primary": {"used_percent": 12}})),
        config_error: None,
        store_error: None,
        day: DayBudget {
            day: Some(20_000),
            usage: Usage::tokens(60_000, 9_000, 69_000).with_cost_usd(9.5),
            limits: DayLimits {
                cost_micros: Limit {
                    soft: Some(8_000_000),
                    hard: Some(10_000_000),
                },
                ..DayLimits::default()
            },
            held: None,
        },
        backlog: vec![
            BacklogRow {
                issue_id: "id-11".into(),
                identifier: "widgets#11".into(),
                title: "Next up".into(),
                state: "todo".into(),
                priority: Some(1),
                url: Some("https://github.example/acme/widgets/issues/11".into()),
                waiting: "next",
                why: None,
                limits: IssueLimits::default(),
                spent: None,
            },
            BacklogRow {
                issue_id: "id-12".into(),
                identifier: "widgets#12".into(),
                title: "Blocked <one>".into(),
                state: "todo".into(),
                priority: None,
                url: None,
                waiting: "blocked",
                why: Some("blocked by widgets#11".into()),
                limits: IssueLimits {
                    tokens: Limit::hard(10_000),
                    ..IssueLimits::default()
                },
                spent: Some(Spend {
                    usage: Usage::tokens(2_000, 500, 2_500),
                    attempts: 1,
                    ..Spend::default()
                }),
            },
        ],
    }
}

async fn serve(snapshot: Option<Snapshot>, token: Option<&str>) -> std::net::SocketAddr {
    let config = ServerConfig {
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        auth_token: token.map(str::to_owned),
        github_webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
    };
    let server = Server::bind(
        &config,
        Arc::new(Fixed {
            snapshot,
            refreshes: AtomicU32::new(0),
            metrics: Arc::new(recorded_work()),
            hinted: std::sync::Mutex::default(),
            review_wakes: AtomicU32::new(0),
        }),
        symphony_tracker::WebhookReceivers::new()
            .with(Arc::new(
                symphony_tracker_github::GithubWebhookReceiver::new(WEBHOOK_SECRET),
            ))
            .with(Arc::new(
                symphony_tracker_linear::LinearWebhookReceiver::new(
                    LINEAR_SECRET,
                    Some("ENG".to_owned()),
                ),
            )),
    )
    .await
    .unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

/// Times depend on the clock; everything else is exact.
fn shape(answer: &Answer) -> String {
    let time = regex_lite_times(&answer.body);
    format!("{} {}\n{time}", answer.status, answer.content_type)
}

fn regex_lite_times(text: &str) -> String {
    // `YYYY-MM-DDTHH:MM:SSZ` → `[time]`, without a regex dependency.
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let window = bytes.get(i..i + 20);
        let is_time = window.is_some_and(|w| {
            w.iter().enumerate().all(|(k, b)| match k {
                4 | 7 => *b == b'-',
                10 => *b == b'T',
                13 | 16 => *b == b':',
                19 => *b == b'Z',
                _ => b.is_ascii_digit(),
            })
        });
        if is_time {
            out.push_str("[time]");
            i += 20;
        } else {
            out.push(bytes[i] as char);
            i += 1;
        }
    }
    out
}

#[tokio::test]
async fn every_api_response_has_the_documented_shape() {
    let addr = serve(Some(snapshot()), None).await;
    insta::assert_snapshot!(
        "state",
        shape(&request(addr, "GET", "/api/v1/state", None).await)
    );
    insta::assert_snapshot!(
        "issue_running",
        shape(&request(addr, "GET", "/api/v1/widgets%237", None).await)
    );
    insta::assert_snapshot!(
        "issue_retrying",
        shape(&request(addr, "GET", "/api/v1/widgets%239", None).await)
    );
    insta::assert_snapshot!(
        "issue_not_found",
        shape(&request(addr, "GET", "/api/v1/widgets%2342", None).await)
    );
    insta::assert_snapshot!(
        "refresh_first",
        shape(&request(addr, "POST", "/api/v1/refresh", Some("{}")).await)
    );
    insta::assert_snapshot!(
        "refresh_coalesced",
        shape(&request(addr, "POST", "/api/v1/refresh", None).await)
    );
    insta::assert_snapshot!(
        "method_not_allowed",
        shape(&request(addr, "DELETE", "/api/v1/state", None).await)
    );
    insta::assert_snapshot!(
        "refresh_by_get",
        shape(&request(addr, "GET", "/api/v1/refresh", None).await)
    );
    insta::assert_snapshot!(
        "unknown_route",
        shape(&request(addr, "GET", "/api/v2/state", None).await)
    );
    insta::assert_snapshot!(
        "healthz",
        shape(&request(addr, "GET", "/healthz", None).await)
    );
    insta::assert_snapshot!(
        "readyz",
        shape(&request(addr, "GET", "/readyz", None).await)
    );
}

#[tokio::test]
async fn an_unanswering_orchestrator_is_a_503_not_a_crash() {
    let addr = serve(None, None).await;
    let state = request(addr, "GET", "/api/v1/state", None).await;
    assert_eq!(state.status, 503);
    assert!(
        state.body.contains("orchestrator_unavailable"),
        "{}",
        state.body
    );
    assert_eq!(request(addr, "GET", "/readyz", None).await.status, 503);
    assert_eq!(request(addr, "GET", "/healthz", None).await.status, 200);
    let page = request(addr, "GET", "/", None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Orchestrator unavailable"),
        "{}",
        page.body
    );
    let metrics = request(addr, "GET", "/metrics", None).await;
    assert!(
        metrics.body.contains("symphony_orchestrator_up 0"),
        "{}",
        metrics.body
    );
}

#[tokio::test]
async fn a_token_protected_server_refuses_everything_but_healthz_without_it() {
    let token = "a-long-enough-test-token";
    let addr = serve(Some(snapshot()), Some(token)).await;
    assert_eq!(request(addr, "GET", "/healthz", None).await.status, 200);
    for path in [
        "/",
        "/api/v1/state",
        "/metrics",
        "/readyz",
        "/api/v1/widgets%237",
    ] {
        let answer = request(addr, "GET", path, None).await;
        assert_eq!(answer.status, 401, "{path}");
        assert!(answer.body.contains("\"unauthorized\""), "{}", answer.body);
    }
    let wrong = client::request_with(
        addr,
        "GET",
        "/api/v1/state",
        None,
        Some("a-long-enough-test-tokeN"),
    )
    .await;
    assert_eq!(wrong.status, 401);
    let right = client::request_with(addr, "GET", "/api/v1/state", None, Some(token)).await;
    assert_eq!(right.status, 200);
    let metrics = client::request_with(addr, "GET", "/metrics", None, Some(token)).await;
    assert!(
        metrics.body.contains("symphony_http_unauthorized_total 6"),
        "{}",
        metrics.body
    );
}

#[tokio::test]
async fn metrics_and_the_dashboard_show_the_snapshot() {
    let addr = serve(Some(snapshot()), None).await;
    request(addr, "GET", "/api/v1/state", None).await;
    request(addr, "POST", "/api/v1/refresh", None).await;
    request(addr, "POST", "/api/v1/refresh", None).await;
    let metrics = request(addr, "GET", "/metrics", None).await;
    assert_eq!(
        metrics.content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(metrics.body.ends_with("# EOF\n"), "{}", metrics.body);
    for line in [
        "symphony_orchestrator_up 1",
        "symphony_running_sessions 1",
        "symphony_retry_queue_length 1",
        "symphony_tokens_total{kind=\"input\"} 6200",
        "symphony_prompt_cache_tokens_total{kind=\"read\"} 4000",
        "symphony_prompt_cache_tokens_total{kind=\"write\"} 300",
        "symphony_agent_cost_usd_total 1.25",
        "symphony_budget_day_tokens 69000",
        "symphony_budget_day_cost_usd 9.5",
        "symphony_budget_day_remaining_cost_usd 0.5",
        "symphony_budget_dispatch_held 0",
        "symphony_http_requests_total{route=\"/api/v1/state\",status=\"200\"} 1",
        "symphony_refresh_requests_total{coalesced=\"false\"} 1",
        "symphony_refresh_requests_total{coalesced=\"true\"} 1",
        "symphony_dispatches_total 1",
        "symphony_gate_outcomes_total{gate=\"lint \\\"strict\\\"\",status=\"fail\"} 1",
        "symphony_tracker_requests_total{operation=\"fetch_issues_by_states\",outcome=\"ok\"} 1",
        "symphony_tracker_rate_limit_remaining 4999",
        "# TYPE symphony_tick_duration_seconds histogram",
        "symphony_tick_duration_seconds_bucket{le=\"0.005\"} 1",
        "symphony_tick_duration_seconds_bucket{le=\"0.05\"} 2",
        "symphony_tick_duration_seconds_bucket{le=\"+Inf\"} 2",
        "symphony_tick_duration_seconds_count 2",
    ] {
        assert!(
            metrics.body.lines().any(|l| l == line),
            "{line} missing:\n{}",
            metrics.body
        );
    }
    let page = request(addr, "GET", "/", None).await;
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    assert!(
        page.body.contains("<tr data-issue=\"widgets#7\">"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Working on tests"), "{}", page.body);
    assert!(
        page.body.contains("<tr data-issue=\"widgets#9\">"),
        "{}",
        page.body
    );
    assert!(page.body.contains("turn_timeout"), "{}", page.body);
}

async fn deliver(
    addr: std::net::SocketAddr,
    event: &str,
    delivery: &str,
    body: &str,
    signature: Option<String>,
) -> Answer {
    let mut headers = vec![
        ("X-GitHub-Event".to_owned(), event.to_owned()),
        ("X-GitHub-Delivery".to_owned(), delivery.to_owned()),
    ];
    if let Some(signature) = signature {
        headers.push(("X-Hub-Signature-256".to_owned(), signature));
    }
    client::request_full(addr, "POST", "/webhooks/github", Some(body), None, &headers).await
}

#[tokio::test]
async fn webhooks_are_verified_deduplicated_and_turned_into_refreshes() {
    use symphony_tracker_github::webhook::sign;
    // Token-protected: the signed webhook needs no bearer token, everything else does.
    let token = "a-long-enough-test-token";
    let addr = serve(Some(snapshot()), Some(token)).await;
    let body = r#"{"action": "labeled", "issue": {"node_id": "I_kwDO1", "number": 7}, "repository": {"full_name": "acme/widgets"}}"#;
    let good = || Some(sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes()));

    let valid = deliver(addr, "issues", "d-1", body, good()).await;
    assert_eq!(valid.status, 202, "{}", valid.body);
    // An issue event names its issue: only that one is looked at.
    assert!(
        valid.body.contains("\"refresh\": \"issues\""),
        "{}",
        valid.body
    );
    assert!(valid.body.contains("\"issues\": 1"), "{}", valid.body);
    // A label event can touch any issue: a full poll.
    let label = r#"{"action": "edited", "label": {"name": "symphony:todo"}}"#;
    let relabel = deliver(
        addr,
        "label",
        "d-label",
        label,
        Some(sign(WEBHOOK_SECRET.as_bytes(), label.as_bytes())),
    )
    .await;
    assert_eq!(relabel.status, 202, "{}", relabel.body);
    assert!(
        relabel.body.contains("\"refresh\": \"poll\""),
        "{}",
        relabel.body
    );
    assert!(
        valid.body.contains("\"coalesced\": false"),
        "{}",
        valid.body
    );

    let replayed = deliver(addr, "issues", "d-1", body, good()).await;
    assert_eq!(replayed.status, 200, "{}", replayed.body);
    assert!(
        replayed.body.contains("delivery already received"),
        "{}",
        replayed.body
    );

    let forged = deliver(
        addr,
        "issues",
        "d-2",
        body,
        Some(sign(b"wrong-secret", body.as_bytes())),
    )
    .await;
    assert_eq!(forged.status, 401, "{}", forged.body);
    assert!(forged.body.contains("bad_signature"), "{}", forged.body);
    let tampered = deliver(addr, "issues", "d-3", &body.replace("7", "8"), good()).await;
    assert_eq!(
        tampered.status, 401,
        "a body changed after signing: {}",
        tampered.body
    );
    let unsigned = deliver(addr, "issues", "d-4", body, None).await;
    assert_eq!(unsigned.status, 401);
    assert!(
        unsigned.body.contains("missing_signature"),
        "{}",
        unsigned.body
    );

    // A review on a pull request wakes the review watch, and polls nothing.
    let review = r#"{"action": "submitted", "review": {"state": "changes_requested"}, "pull_request": {"number": 9}}"#;
    let reviewed = deliver(
        addr,
        "pull_request_review",
        "d-review",
        review,
        Some(sign(WEBHOOK_SECRET.as_bytes(), review.as_bytes())),
    )
    .await;
    assert_eq!(reviewed.status, 202, "{}", reviewed.body);
    assert!(
        reviewed.body.contains("\"refresh\": \"reviews\""),
        "{}",
        reviewed.body
    );

    let ping = r#"{"zen": "Keep it logically awesome."}"#;
    let ignored = deliver(
        addr,
        "ping",
        "d-5",
        ping,
        Some(sign(WEBHOOK_SECRET.as_bytes(), ping.as_bytes())),
    )
    .await;
    assert_eq!(ignored.status, 202);
    assert!(
        ignored.body.contains("\"refresh\": false"),
        "{}",
        ignored.body
    );
    let garbage = "[1, 2";
    let malformed = deliver(
        addr,
        "issues",
        "d-6",
        garbage,
        Some(sign(WEBHOOK_SECRET.as_bytes(), garbage.as_bytes())),
    )
    .await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);

    // A kind no receiver is registered for is refused, whatever it carries, and counted
    // without growing a series per path.
    let unknown = client::request_full(
        addr,
        "POST",
        "/webhooks/jira",
        Some(body),
        None,
        &[("X-Hub-Signature".to_owned(), "00".repeat(32))],
    )
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(
        unknown.body.contains("webhooks_not_configured") && unknown.body.contains("github, linear"),
        "the refusal names what is configured: {}",
        unknown.body
    );

    let metrics = client::request_with(addr, "GET", "/metrics", None, Some(token)).await;
    for line in [
        "symphony_webhook_deliveries_total{kind=\"unknown\",outcome=\"not_configured\"} 1",
        "symphony_webhook_deliveries_total{kind=\"github\",outcome=\"refreshed\"} 3",
        "symphony_webhook_deliveries_total{kind=\"github\",outcome=\"replayed\"} 1",
        "symphony_webhook_deliveries_total{kind=\"github\",outcome=\"bad_signature\"} 3",
        "symphony_webhook_deliveries_total{kind=\"github\",outcome=\"ignored\"} 1",
        "symphony_webhook_deliveries_total{kind=\"github\",outcome=\"malformed\"} 1",
        "symphony_http_unauthorized_total 0",
    ] {
        assert!(
            metrics.body.lines().any(|l| l == line),
            "{line} missing:\n{}",
            metrics.body
        );
    }
}

/// The same route serves every registered kind: Linear's deliveries are verified by Linear's
/// rules (hex HMAC, a signed timestamp within a minute) and become the same refreshes.
#[tokio::test]
async fn linear_deliveries_go_to_the_linear_receiver() {
    use symphony_tracker::webhook::hmac_sha256_hex;
    let addr = serve(Some(snapshot()), None).await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let send = |body: String, signature: String, delivery: &'static str| async move {
        let headers = [
            ("Linear-Signature".to_owned(), signature),
            ("Linear-Delivery".to_owned(), delivery.to_owned()),
            ("Linear-Event".to_owned(), "Issue".to_owned()),
        ];
        client::request_full(
            addr,
            "POST",
            "/webhooks/linear",
            Some(&body),
            None,
            &headers,
        )
        .await
    };
    let fresh = format!(
        r#"{{"action":"update","type":"Issue","webhookTimestamp":{now_ms},"data":{{"id":"lin-1","team":{{"key":"ENG"}}}}}}"#
    );
    let signed = hmac_sha256_hex(LINEAR_SECRET.as_bytes(), fresh.as_bytes());
    let accepted = send(fresh.clone(), signed.clone(), "l-1").await;
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    assert!(
        accepted.body.contains("\"refresh\": \"issues\""),
        "{}",
        accepted.body
    );
    let replayed = send(fresh.clone(), signed, "l-1").await;
    assert_eq!(replayed.status, 200, "{}", replayed.body);
    // A GitHub signature on the Linear route is not Linear's.
    let github = symphony_tracker_github::webhook::sign(LINEAR_SECRET.as_bytes(), fresh.as_bytes());
    let wrong = send(fresh, github, "l-2").await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    let old = format!(
        r#"{{"type":"Issue","webhookTimestamp":{},"data":{{"id":"lin-1"}}}}"#,
        now_ms - 120_000
    );
    let stale = send(
        old.clone(),
        hmac_sha256_hex(LINEAR_SECRET.as_bytes(), old.as_bytes()),
        "l-3",
    )
    .await;
    assert_eq!(stale.status, 401, "{}", stale.body);
    assert!(stale.body.contains("stale_delivery"), "{}", stale.body);
}
