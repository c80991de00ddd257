//! Run history, agent events, the per-run log and recent decisions, served from a real SQLite
//! state store: every response shape (insta), the errors (unknown run, bad limit, no store),
//! and the dashboard's "recent gate verdicts and hand-offs".

mod client;

use std::sync::Arc;

use async_trait::async_trait;
use client::request;
use serde_json::json;
use symphony_orchestrator::{RefreshQueued, ServiceMetrics, Snapshot, SnapshotError, Totals};
use symphony_server::{Orchestrator, Server, ServerConfig};
use symphony_store::{
    AuditRecord, Change, ClaimOutcome, Instance, ReviewWatch, RunOutcome, RunStart, SqliteStore,
    Store, StoreOptions,
};

/// 2026-11-24T10:00:00Z in store time.
const T0: u64 = 1_795_514_400_000;

struct WithStore {
    store: Option<Arc<dyn Store>>,
    metrics: Arc<ServiceMetrics>,
}

#[async_trait]
impl Orchestrator for WithStore {
    async fn snapshot(&self) -> Result<Snapshot, SnapshotError> {
        Ok(Snapshot {
            running: vec![],
            retrying: vec![],
            totals: Totals::default(),
            seconds_running: 0.0,
            rate_limits: None,
            config_error: None,
            store_error: None,
            day: Default::default(),
            backlog: vec![],
        })
    }

    fn request_refresh(&self) -> Result<RefreshQueued, SnapshotError> {
        Ok(RefreshQueued { coalesced: false })
    }

    fn metrics(&self) -> Arc<ServiceMetrics> {
        Arc::clone(&self.metrics)
    }

    fn store(&self) -> Option<Arc<dyn Store>> {
        self.store.clone()
    }
}

/// A store with one failed run of `widgets#7` (three events, tokens) and its decisions.
async fn recorded(dir: &std::path::Path) -> Arc<dyn Store> {
    let instance = Instance {
        id: "instance-1".into(),
        host: "build-host".into(),
        pid: 4242,
        pid_start: None,
    };
    let store = SqliteStore::open_as(dir, StoreOptions::default(), instance).unwrap();
    let ClaimOutcome::Started { run_id } = store
        .claim_and_start(RunStart {
            issue_id: "id-7".into(),
            identifier: "widgets#7".into(),
            attempt: None,
            workspace: Some("/srv/ws/widgets_7".into()),
            at_ms: T0,
        })
        .await
        .unwrap()
    else {
        panic!("the claim is free")
    };
    let audit = |at_ms, kind: &str, detail| {
        Change::Audit(AuditRecord {
            at_ms,
            kind: kind.into(),
            issue_id: Some("id-7".into()),
            identifier: Some("widgets#7".into()),
            detail,
        })
    };
    let event = |at_ms, kind: &str, message: &str| Change::Event {
        run_id,
        at_ms,
        kind: kind.into(),
        message: Some(message.into()),
    };
    store
        .apply(vec![
            event(T0 + 1_000, "session_started", "thread-1"),
            event(
                T0 + 2_000,
                "notification",
                "editing settings.ini\nsecond line",
            ),
            audit(
                T0 + 3_000,
                "gate_verdict",
                json!({"gate": "secrets", "status": "fail", "summary": "1 secret in settings.ini"}),
            ),
            event(T0 + 4_000, "turn_completed", "turn 2"),
            Change::Tokens {
                run_id,
                at_ms: T0 + 4_500,
                usage: symphony_store::Usage::tokens(1200, 300, 1500),
            },
            audit(
                T0 + 5_000,
                "handed_off",
                json!({"state": "human review", "url": "https://github.test/acme/widgets/pull/8"}),
            ),
            Change::RunEnded {
                run_id,
                at_ms: T0 + 6_000,
                outcome: RunOutcome::Failed,
                error: Some("worker exited: agent turn error".into()),
            },
            audit(
                T0 + 6_000,
                "retry_scheduled",
                json!({"attempt": 1, "reason": "failure"}),
            ),
        ])
        .await
        .unwrap();
    Arc::new(store)
}

async fn serve(store: Option<Arc<dyn Store>>) -> std::net::SocketAddr {
    let config = ServerConfig {
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        auth_token: None,
        github_webhook_secret: None,
    };
    let orchestrator = WithStore {
        store,
        metrics: Arc::new(ServiceMetrics::default()),
    };
    let server = Server::bind(&config, Arc::new(orchestrator), Default::default())
        .await
        .unwrap();
    let addr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

fn shape(answer: &client::Answer) -> String {
    format!("{} {}\n{}", answer.status, answer.content_type, answer.body)
}

#[tokio::test]
async fn runs_events_and_the_run_log_come_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let addr = serve(Some(recorded(dir.path()).await)).await;

    let runs = request(addr, "GET", "/api/v1/runs?issue=widgets%237&limit=5", None).await;
    insta::assert_snapshot!("runs", shape(&runs));
    let none = request(addr, "GET", "/api/v1/runs?issue=widgets%239", None).await;
    assert_eq!(none.body.replace([' ', '\n'], ""), r#"{"runs":[]}"#);

    let run = request(addr, "GET", "/api/v1/runs/1", None).await;
    insta::assert_snapshot!("run_detail", shape(&run));
    let log = request(addr, "GET", "/api/v1/runs/1/log", None).await;
    insta::assert_snapshot!("run_log", shape(&log));

    let reviews = request(
        addr,
        "GET",
        "/api/v1/events?kind=gate_verdict,handed_off&limit=10",
        None,
    )
    .await;
    insta::assert_snapshot!("review_events", shape(&reviews));
    let newest = request(addr, "GET", "/api/v1/events?limit=1", None).await;
    let newest: serde_json::Value = serde_json::from_str(&newest.body).unwrap();
    assert_eq!(newest["events"][0]["kind"], "retry_scheduled");
    assert_eq!(newest["events"].as_array().unwrap().len(), 1);

    for (path, status, code) in [
        ("/api/v1/runs/999", 404, "run_not_found"),
        ("/api/v1/runs/not-a-number/log", 404, "run_not_found"),
        ("/api/v1/runs?limit=0", 400, "invalid_limit"),
        ("/api/v1/events?limit=many", 400, "invalid_limit"),
    ] {
        let answer = request(addr, "GET", path, None).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
        assert!(answer.body.contains(code), "{path}: {}", answer.body);
    }
    assert_eq!(
        request(addr, "POST", "/api/v1/runs", None).await.status,
        405
    );

    let page = request(addr, "GET", "/", None).await;
    assert!(page.body.contains("nothing under review"), "{}", page.body);
    assert!(
        page.body.contains("<table id=\"reviews\">"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("secrets: fail — 1 secret in settings.ini"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("<tr data-kind=\"retry_scheduled\">"),
        "only verdicts and hand-offs are shown"
    );
}

#[tokio::test]
async fn changes_in_review_are_listed_with_their_round_and_what_they_await() {
    let dir = tempfile::tempdir().unwrap();
    let store = recorded(dir.path()).await;
    let mut waiting = ReviewWatch::new(
        "I_7",
        "widgets#7",
        "symphony/widgets-7",
        "main",
        "a".repeat(40),
        T0,
    );
    waiting.number = Some(12);
    waiting.url = Some("https://github.example/acme/widgets/pull/12".into());
    let mut hostile = ReviewWatch::new(
        "I_8",
        "<b>widgets#8</b>",
        "symphony/x",
        "main",
        "b".repeat(40),
        T0 + 1,
    );
    hostile.url = Some("javascript:alert(1)".into());
    store
        .apply(vec![
            Change::ReviewWatched(waiting),
            Change::ReviewWatched(hostile),
            Change::ReviewFeedbackTaken {
                issue_id: "I_7".into(),
                after: None,
                seen: "m1".into(),
                pending: r#"{"round":1,"feedback":[{"id":"r1"},{"id":"c1"}],"conflict":false}"#
                    .into(),
                at_ms: T0 + 5_000,
            },
        ])
        .await
        .unwrap();
    let addr = serve(Some(store)).await;
    let answer = request(addr, "GET", "/api/v1/reviews", None).await;
    insta::assert_snapshot!("in_review", shape(&answer));
    let page = request(addr, "GET", "/", None).await;
    assert!(
        page.body.contains(
            "<a href=\"https://github.example/acme/widgets/pull/12\">symphony/widgets-7</a>"
        ) && page.body.contains("the agent (2 item(s) of feedback)"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("javascript:alert"),
        "only web links are links"
    );
    assert!(
        page.body.contains("&lt;b&gt;widgets#8&lt;/b&gt;"),
        "escaped"
    );
}

#[tokio::test]
async fn without_a_store_history_says_so() {
    let addr = serve(None).await;
    for path in [
        "/api/v1/runs",
        "/api/v1/runs/1",
        "/api/v1/events",
        "/api/v1/reviews",
    ] {
        let answer = request(addr, "GET", path, None).await;
        assert_eq!(answer.status, 404, "{path}");
        assert!(answer.body.contains("history_not_kept"), "{}", answer.body);
    }
    let page = request(addr, "GET", "/", None).await;
    assert!(
        !page.body.contains("<div id=\"reviews-live\">"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn usage_over_time_charts_and_an_issue_page_come_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = recorded(dir.path()).await;
    // A run today (the usage view ends today), priced, with a passing gate.
    let now = symphony_store::wall_clock_ms();
    let ClaimOutcome::Started { run_id } = store
        .claim_and_start(RunStart {
            issue_id: "id-9".into(),
            identifier: "widgets#9".into(),
            attempt: None,
            workspace: None,
            at_ms: now,
        })
        .await
        .unwrap()
    else {
        panic!("the claim is free")
    };
    store
        .apply(vec![
            Change::Tokens {
                run_id,
                at_ms: now,
                usage: symphony_store::Usage::tokens(600, 100, 700).with_cost_usd(0.25),
            },
            Change::Audit(AuditRecord {
                at_ms: now,
                kind: "gate_verdict".into(),
                issue_id: Some("id-9".into()),
                identifier: Some("widgets#9".into()),
                detail: json!({"gate": "secrets", "status": "pass", "summary": "clean"}),
            }),
            Change::RunEnded {
                run_id,
                at_ms: now,
                outcome: RunOutcome::Succeeded,
                error: None,
            },
        ])
        .await
        .unwrap();
    let addr = serve(Some(store)).await;
    let usage = request(addr, "GET", "/api/v1/usage?days=3", None).await;
    assert_eq!(usage.status, 200, "{}", usage.body);
    let usage: serde_json::Value = serde_json::from_str(&usage.body).unwrap();
    let days = usage["days"].as_array().unwrap();
    assert_eq!(days.len(), 3);
    // The day of the run, wherever it falls in the window (a test crossing midnight).
    let day_of_run = chrono::DateTime::from_timestamp_millis(now as i64)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let today = days
        .iter()
        .find(|d| d["utc_day"] == day_of_run.as_str())
        .unwrap();
    assert_eq!(today["tokens"], 700, "{usage}");
    assert_eq!(today["cost_usd"], 0.25, "{usage}");
    assert_eq!(today["runs"]["succeeded"], 1, "{usage}");
    assert_eq!(usage["hours"].as_array().unwrap().len(), 24);
    assert!(
        usage["hours"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["tokens"] == 700),
        "{usage}"
    );
    let secrets = usage["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["gate"] == "secrets")
        .unwrap();
    assert_eq!(secrets["verdicts"], json!({"fail": 1, "pass": 1}));
    for (path, status) in [
        ("/api/v1/usage?days=0", 400),
        ("/api/v1/usage?days=91", 400),
    ] {
        assert_eq!(
            request(addr, "GET", path, None).await.status,
            status,
            "{path}"
        );
    }

    // The dashboard draws the same data.
    let page = request(addr, "GET", "/", None).await;
    for part in [
        "id=\"chart-spend-days\"",
        "Spend per UTC day (US dollars)",
        "id=\"chart-runs\"",
        "data-part=\"succeeded\"",
        "id=\"chart-gates\"",
        "secrets 50%",
        "id=\"chart-spend-hours\"",
        "<div id=\"backlog-live\">",
    ] {
        assert!(page.body.contains(part), "{part} missing:\n{}", page.body);
    }

    // The issue's page: its runs with their logs, its pull request, its decisions.
    let issue = request(addr, "GET", "/issues/widgets%237", None).await;
    assert_eq!(issue.status, 200);
    assert_eq!(issue.content_type, "text/html; charset=utf-8");
    for part in [
        "<h1>widgets#7</h1>",
        "<tr data-run=\"1\">",
        "<td class=\"outcome\">failed</td>",
        "<a href=\"/api/v1/runs/1/log\">log</a>",
        "<a href=\"https://github.test/acme/widgets/pull/8\">",
        "gate_verdict",
        "Not running and not among the last candidates read",
    ] {
        assert!(issue.body.contains(part), "{part} missing:\n{}", issue.body);
    }
    let hostile = request(addr, "GET", "/issues/%3Cscript%3Ex", None).await;
    assert!(!hostile.body.contains("<script>x"), "{}", hostile.body);
    assert!(
        hostile.body.contains("no runs recorded"),
        "{}",
        hostile.body
    );
}
