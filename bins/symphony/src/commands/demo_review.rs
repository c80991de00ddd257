//! The demo's reviewer: it reviews DEMO-2 as a person would with `symphony review` — asks for
//! a change once the change is handed off, merges it once the round is answered — so the demo
//! shows the review loop (ADR 0018) offline.

use std::path::Path;

use symphony_core::Issue;
use symphony_tracker_local::{LocalCodeHost, Verdict};

/// The issue the demo reviews.
pub const REVIEWED: &str = "DEMO-2";
/// Who reviews.
const REVIEWER: &str = "demo-reviewer";
/// The review asking for a change, with one inline comment.
const REQUEST: &str = "Please say how to run the script.\n\n\
                       - README.md: say which shell runs `check.sh`";

/// Where the demo's review of DEMO-2 stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Review {
    /// Not handed off yet, or the review round is under way.
    Waiting,
    /// Merged and done.
    Done,
}

/// Takes the reviewer's next step on `issue` (DEMO-2), whose file is in `folder`.
pub async fn step(folder: &Path, issue: &Issue) -> Review {
    if issue.state == "done" {
        return Review::Done;
    }
    if issue.state != "human review" {
        return Review::Waiting;
    }
    let text = std::fs::read_to_string(folder.join(format!("{REVIEWED}.md"))).unwrap_or_default();
    let reviews = text.matches("<!-- symphony:review ").count();
    let host = LocalCodeHost::in_issue_files(folder);
    let next = match reviews {
        0 => Some((Verdict::ChangesRequested, REQUEST)),
        // The round's hand-off says it addressed the review: merge.
        1 if text.contains("addressed review round 1") => Some((Verdict::Merged, "")),
        _ => None,
    };
    if let Some((verdict, body)) = next {
        if let Err(e) = host.add_review(issue, REVIEWER, verdict, body).await {
            eprintln!("demo reviewer: cannot write the review of {REVIEWED}: {e}");
        }
    }
    Review::Waiting
}
