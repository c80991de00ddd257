//! GitHub's reports on a watched pull request (ADR 0018): its state, head and mergeability,
//! its reviews and review comments, and the check runs and statuses of other apps on its head.
//!
//! The mark is the largest id seen of each kind (`github-review-v1;r=<review>;c=<review
//! comment>;k=<check run>;s=<status>;i=<conversation comment>`): GitHub's ids only grow, so what is newer than the mark
//! is new, and asking again with an old mark gives the same feedback again. Symphony's own
//! verdicts (the `symphony/` statuses, the `Symphony gates` check run) are not feedback. Every
//! read is conditional: asking about an unchanged pull request costs no rate limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http::Method;
use serde_json::Value;
use symphony_code_host::{
    Feedback, FeedbackKind, FeedbackPlace, ReviewReport, ReviewState, WatchedChange,
};
use symphony_tracker::{TrackerError, TrackerErrorCategory};

use crate::client::Client;
use crate::config::GithubConfig;
use crate::exchange::ApiRequest;
use crate::proposal::{CHECK_NAME, STATUS_PREFIX};
use crate::reads::parse_link_header;
use crate::tools::encode_segment;

const MARK: &str = "github-review-v1";
/// Pages of one list read before giving up (100 items each).
const MAX_PAGES: usize = 20;
/// A check's summary is cut to its last this many bytes.
const CHECK_TAIL: usize = 4 * 1024;
/// Conclusions of a completed check run that ask for work.
const FAILED: &[&str] = &["failure", "timed_out", "action_required", "startup_failure"];

/// The largest id seen of each kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Mark {
    reviews: u64,
    comments: u64,
    checks: u64,
    statuses: u64,
    comments_on_pull: u64,
}

impl Mark {
    fn parse(mark: Option<&str>) -> Result<Self, TrackerError> {
        let Some(mark) = mark else {
            return Ok(Self::default());
        };
        let foreign = || {
            TrackerError::new(
                TrackerErrorCategory::Response,
                format!("{mark:?} is not a mark of GitHub's review reports"),
            )
        };
        let mut parts = mark.split(';');
        if parts.next() != Some(MARK) {
            return Err(foreign());
        }
        let mut parsed = Self::default();
        for part in parts {
            let (key, value) = part.split_once('=').ok_or_else(foreign)?;
            let value: u64 = value.parse().map_err(|_| foreign())?;
            match key {
                "r" => parsed.reviews = value,
                "c" => parsed.comments = value,
                "k" => parsed.checks = value,
                "s" => parsed.statuses = value,
                "i" => parsed.comments_on_pull = value,
                _ => return Err(foreign()),
            }
        }
        Ok(parsed)
    }

    fn render(self) -> String {
        format!(
            "{MARK};r={};c={};k={};s={};i={}",
            self.reviews, self.comments, self.checks, self.statuses, self.comments_on_pull
        )
    }
}

pub(crate) fn malformed(what: &str) -> TrackerError {
    TrackerError::new(
        TrackerErrorCategory::Response,
        format!("GitHub's answer about {what} is malformed"),
    )
}

/// Answers kept with their ETags, so asking again about an unchanged pull request is a
/// `304`, which costs GitHub's rate limit nothing: an idle watch is free.
#[derive(Default)]
pub(crate) struct Answers {
    kept: Mutex<HashMap<String, Kept>>,
}

/// One kept answer: its ETag, its JSON and its `next` link.
type Kept = (String, Arc<Value>, Option<String>);

/// Answers kept at most (a watch asks about five per pull request).
const MAX_KEPT: usize = 5_000;

impl Answers {
    fn get(&self, path: &str) -> Option<Kept> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.get(path).cloned()
    }

    fn put(&self, path: &str, answer: Kept) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= MAX_KEPT && !kept.contains_key(path) {
            kept.clear();
        }
        kept.insert(path.to_owned(), answer);
    }
}

/// One conditional GET, as JSON, with the `next` link when there is one.
async fn get(
    client: &Client,
    answers: &Answers,
    path: &str,
) -> Result<(Arc<Value>, Option<String>), TrackerError> {
    let kept = answers.get(path);
    let request = ApiRequest {
        idempotent: true,
        method: Method::GET,
        path,
        body: None,
        etag: kept.as_ref().map(|(etag, _, _)| etag.as_str()),
        graphql: false,
    };
    let response = client.send(&request).await?;
    if response.not_modified() {
        if let Some((_, value, next)) = kept {
            return Ok((value, next));
        }
    }
    let next = response
        .headers
        .get("link")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_link_header(v).remove("next"));
    let value = Arc::new(response.json()?);
    if let Some(etag) = response.etag() {
        answers.put(path, (etag, Arc::clone(&value), next.clone()));
    }
    Ok((value, next))
}

/// Every item of a paginated list (`items` finds them in a page).
pub(crate) async fn get_all(
    client: &Client,
    answers: &Answers,
    first: String,
    items: impl Fn(&Value) -> Option<&Vec<Value>>,
) -> Result<Vec<Value>, TrackerError> {
    let mut all = Vec::new();
    let mut path = first;
    for _ in 0..MAX_PAGES {
        let (page, next) = get(client, answers, &path).await?;
        all.extend(
            items(&page)
                .ok_or_else(|| malformed(&path))?
                .iter()
                .cloned(),
        );
        match next {
            Some(next) => {
                path = client.relative_path(&next).ok_or_else(|| {
                    TrackerError::new(
                        TrackerErrorCategory::Pagination,
                        format!("the next-page link {next:?} leaves the configured API"),
                    )
                })?;
            }
            None => return Ok(all),
        }
    }
    Err(TrackerError::new(
        TrackerErrorCategory::Pagination,
        format!("more than {MAX_PAGES} pages at {path}"),
    ))
}

fn id(item: &Value) -> Option<u64> {
    item.get("id").and_then(Value::as_u64)
}

fn text<'v>(item: &'v Value, pointer: &str) -> &'v str {
    item.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The last `CHECK_TAIL` bytes of `text`, on a character boundary.
fn tail(text: &str) -> String {
    let mut start = text.len().saturating_sub(CHECK_TAIL);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}

/// The number of `watched`'s pull request; a watch without one is a request error.
pub(crate) fn pull_number(watched: &WatchedChange) -> Result<u64, TrackerError> {
    watched.number.ok_or_else(|| {
        TrackerError::new(
            TrackerErrorCategory::Request,
            format!(
                "the watched change on {} has no pull request number",
                watched.branch
            ),
        )
    })
}

/// The report on `watched`, a pull request of `config`'s repository.
pub(crate) async fn report(
    client: &Client,
    answers: &Answers,
    config: &GithubConfig,
    watched: &WatchedChange,
) -> Result<ReviewReport, TrackerError> {
    let seen = Mark::parse(watched.seen.as_deref())?;
    let number = pull_number(watched)?;
    let repo = format!("/repos/{}/{}", config.owner, config.repo);
    let pulls = format!("{repo}/pulls/{number}");
    let (pull, _) = get(client, answers, &pulls).await?;
    let state = match (
        pull.get("merged").and_then(Value::as_bool),
        pull.get("state").and_then(Value::as_str),
    ) {
        (Some(true), _) => ReviewState::Merged,
        (_, Some("closed")) => ReviewState::Closed,
        (_, Some("open")) => ReviewState::Open,
        _ => return Err(malformed(&pulls)),
    };
    let mut head = pull
        .pointer("/head/sha")
        .and_then(Value::as_str)
        .map(str::to_owned);
    // GitHub moves a pull request's head a moment after the push that moved its branch: a
    // head other than Symphony's is someone else's only if the branch is not at Symphony's.
    if state == ReviewState::Open && head.as_deref() != Some(watched.head_sha.as_str()) {
        let branch = format!(
            "{repo}/git/ref/heads/{}",
            watched
                .branch
                .split('/')
                .map(encode_segment)
                .collect::<Vec<_>>()
                .join("/")
        );
        let (at, _) = get(client, answers, &branch).await?;
        if at.pointer("/object/sha").and_then(Value::as_str) == Some(watched.head_sha.as_str()) {
            head = Some(watched.head_sha.clone());
        }
    }
    let conflict = pull.get("mergeable").and_then(Value::as_bool) == Some(false)
        || pull.get("mergeable_state").and_then(Value::as_str) == Some("dirty");
    let mut mark = seen;
    let mut feedback = Vec::new();
    // Symphony opened the pull request: what its identity says there (its replies in the
    // threads a round answered) is never feedback to itself.
    let opener = text(&pull, "/user/login").to_owned();

    let reviews = get_all(
        client,
        answers,
        format!("{pulls}/reviews?per_page=100"),
        Value::as_array,
    )
    .await?;
    for review in &reviews {
        let id = id(review).ok_or_else(|| malformed("a review"))?;
        mark.reviews = mark.reviews.max(id);
        let kind = match text(review, "/state") {
            "CHANGES_REQUESTED" => FeedbackKind::ChangesRequested,
            "APPROVED" => FeedbackKind::Approved,
            // A review of inline comments only has an empty body: its comments speak.
            "COMMENTED" if !text(review, "/body").trim().is_empty() => FeedbackKind::Comment,
            _ => continue,
        };
        if id > seen.reviews && text(review, "/user/login") != opener {
            feedback.push(Feedback::new(
                format!("review-{id}"),
                kind,
                text(review, "/user/login"),
                text(review, "/body"),
            ));
        }
    }

    let comments = get_all(
        client,
        answers,
        format!("{pulls}/comments?per_page=100"),
        Value::as_array,
    )
    .await?;
    for comment in &comments {
        let id = id(comment).ok_or_else(|| malformed("a review comment"))?;
        mark.comments = mark.comments.max(id);
        if id <= seen.comments || text(comment, "/user/login") == opener {
            continue;
        }
        let line = comment
            .get("line")
            .and_then(Value::as_u64)
            .and_then(|l| u32::try_from(l).ok());
        // A thread is named by its first comment; replies point at it.
        let thread = comment
            .get("in_reply_to_id")
            .and_then(Value::as_u64)
            .unwrap_or(id);
        feedback.push(
            Feedback::new(
                format!("review-comment-{id}"),
                FeedbackKind::Comment,
                text(comment, "/user/login"),
                text(comment, "/body"),
            )
            .at(FeedbackPlace::new(
                text(comment, "/path"),
                line,
                Some(thread.to_string()),
            )),
        );
    }

    // Conversation comments that address Symphony, by anyone but Symphony itself (the
    // identity that opened the pull request).
    if let Some(mention) = watched.mention.as_deref().filter(|m| !m.trim().is_empty()) {
        let mention = mention.to_lowercase();
        let said = get_all(
            client,
            answers,
            format!("{repo}/issues/{number}/comments?per_page=100"),
            Value::as_array,
        )
        .await?;
        for comment in &said {
            let id = id(comment).ok_or_else(|| malformed("a comment"))?;
            mark.comments_on_pull = mark.comments_on_pull.max(id);
            let author = text(comment, "/user/login");
            let body = text(comment, "/body");
            if id <= seen.comments_on_pull
                || author == opener
                || !body.to_lowercase().contains(&mention)
            {
                continue;
            }
            feedback.push(Feedback::new(
                format!("issue-comment-{id}"),
                FeedbackKind::Comment,
                author,
                body,
            ));
        }
    }

    if let Some(sha) = &head {
        let runs = get_all(
            client,
            answers,
            format!("{repo}/commits/{sha}/check-runs?per_page=100"),
            |page| page.get("check_runs").and_then(Value::as_array),
        )
        .await?;
        for run in &runs {
            let id = id(run).ok_or_else(|| malformed("a check run"))?;
            mark.checks = mark.checks.max(id);
            let name = text(run, "/name");
            let conclusion = text(run, "/conclusion");
            if id <= seen.checks || name == CHECK_NAME || !FAILED.contains(&conclusion) {
                continue;
            }
            feedback.push(Feedback::new(
                format!("check-run-{id}"),
                FeedbackKind::CheckFailed {
                    check: name.to_owned(),
                    conclusion: conclusion.to_owned(),
                },
                run.pointer("/app/slug")
                    .and_then(Value::as_str)
                    .unwrap_or("an app"),
                tail(&format!(
                    "{}\n{}",
                    text(run, "/output/title"),
                    text(run, "/output/summary")
                )),
            ));
        }
        let (combined, _) = get(client, answers, &format!("{repo}/commits/{sha}/status")).await?;
        let statuses = combined
            .get("statuses")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("the combined status"))?;
        for status in statuses {
            let id = id(status).ok_or_else(|| malformed("a status"))?;
            mark.statuses = mark.statuses.max(id);
            let context = text(status, "/context");
            let state = text(status, "/state");
            if id <= seen.statuses
                || context.starts_with(STATUS_PREFIX)
                || !matches!(state, "failure" | "error")
            {
                continue;
            }
            feedback.push(Feedback::new(
                format!("status-{id}"),
                FeedbackKind::CheckFailed {
                    check: context.to_owned(),
                    conclusion: state.to_owned(),
                },
                text(status, "/creator/login"),
                text(status, "/description"),
            ));
        }
    }

    let mut report = ReviewReport::new(state, head, mark.render());
    report.conflict = conflict;
    report.feedback = feedback;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_round_trip_and_foreign_ones_are_refused() {
        let mark = Mark {
            reviews: 3,
            comments: 9,
            checks: 12,
            statuses: 4,
            comments_on_pull: 5,
        };
        assert_eq!(Mark::parse(Some(&mark.render())).unwrap(), mark);
        assert_eq!(Mark::parse(None).unwrap(), Mark::default());
        for foreign in [
            "7",
            "github-review-v1;x=1",
            "github-review-v1;r=a",
            "other;r=1",
        ] {
            assert!(Mark::parse(Some(foreign)).is_err(), "{foreign}");
        }
    }

    #[test]
    fn a_check_tail_keeps_the_end_on_a_character_boundary() {
        let long = format!("{}é{}", "a".repeat(CHECK_TAIL), "b".repeat(10));
        let cut = tail(&long);
        assert!(cut.len() <= CHECK_TAIL);
        assert!(cut.ends_with("bbbbbbbbbb"));
    }
}
