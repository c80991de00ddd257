//! Reviews under the local code host: a person writes each review as a marked block in the
//! issue's Markdown file (by hand, or with `symphony review`), and the host reports them to
//! Symphony's review watch (ADR 0018).
//!
//! ```markdown
//! <!-- symphony:review id=2 by=ada verdict=changes-requested -->
//! Please handle the empty list.
//!
//! - src/lib.rs:12: `count` overflows on empty input
//! - README.md: add an example
//! <!-- /symphony:review -->
//! ```
//!
//! `id` is a positive number, larger for each new review; `verdict` is `changes-requested`,
//! `approved`, `comment`, `merged` or `closed` (a person's decision on the change). Lines
//! `- <path>[:<line>]: <text>` are inline comments, each its own thread; the rest is the
//! review's body. The mark of a report is the largest id it covered.

use symphony_code_host::{
    Feedback, FeedbackKind, FeedbackPlace, ReviewReport, ReviewState, WatchedChange,
};

/// The opening marker's start and the closing marker.
const OPEN: &str = "<!-- symphony:review ";
const CLOSE: &str = "<!-- /symphony:review -->";
/// A review is bounded like a comment.
const MAX_REVIEW_BYTES: usize = 64 * 1024;

/// What a person decided in one review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Asks for changes.
    ChangesRequested,
    /// Approves.
    Approved,
    /// Comments without a verdict.
    Comment,
    /// Merged the change.
    Merged,
    /// Closed it without a merge.
    Closed,
}

impl Verdict {
    /// The spelling in a review block.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChangesRequested => "changes-requested",
            Self::Approved => "approved",
            Self::Comment => "comment",
            Self::Merged => "merged",
            Self::Closed => "closed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Self::ChangesRequested,
            Self::Approved,
            Self::Comment,
            Self::Merged,
            Self::Closed,
        ]
        .into_iter()
        .find(|v| v.as_str() == text)
    }
}

/// One review block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Review {
    pub id: u64,
    pub by: String,
    pub verdict: Verdict,
    pub body: String,
}

/// The review blocks of `text`, in file order; a malformed block is an error naming it.
pub(crate) fn reviews(text: &str) -> Result<Vec<Review>, String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let header_end = after
            .find("-->")
            .ok_or("a review block's opening marker is not closed with `-->`")?;
        let header = &after[..header_end];
        let body_and_rest = &after[header_end + 3..];
        let end = body_and_rest
            .find(CLOSE)
            .ok_or_else(|| format!("review block `{}` has no `{CLOSE}`", header.trim()))?;
        found.push(review(header, &body_and_rest[..end])?);
        rest = &body_and_rest[end + CLOSE.len()..];
    }
    Ok(found)
}

fn review(header: &str, body: &str) -> Result<Review, String> {
    let named = |key: &str| {
        header
            .split_whitespace()
            .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
    };
    let context = || format!("review block `{}`", header.trim());
    let id = named("id")
        .and_then(|id| id.parse::<u64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("{}: `id=` must be a positive number", context()))?;
    let by = named("by")
        .filter(|by| !by.is_empty())
        .ok_or_else(|| format!("{}: `by=` names who reviewed", context()))?;
    let verdict = named("verdict").and_then(Verdict::parse).ok_or_else(|| {
        format!(
            "{}: `verdict=` is changes-requested, approved, comment, merged or closed",
            context()
        )
    })?;
    if body.len() > MAX_REVIEW_BYTES {
        return Err(format!(
            "{}: longer than {MAX_REVIEW_BYTES} bytes",
            context()
        ));
    }
    Ok(Review {
        id,
        by: by.to_owned(),
        verdict,
        body: body.trim().to_owned(),
    })
}

/// An inline comment line: `- <path>[:<line>]: <text>`, the path without spaces.
fn inline(line: &str) -> Option<(String, Option<u32>, String)> {
    let item = line.trim_start().strip_prefix("- ")?;
    let (place, text) = item.split_once(": ")?;
    let place = place.trim_matches('`');
    if place.is_empty() || place.contains(char::is_whitespace) {
        return None;
    }
    let (path, line) = match place.rsplit_once(':') {
        Some((path, line)) => match line.parse::<u32>() {
            Ok(line) if line > 0 && !path.is_empty() => (path, Some(line)),
            _ => return None,
        },
        None => (place, None),
    };
    Some((path.to_owned(), line, text.trim().to_owned()))
}

/// The host's report from the review blocks of `text`, for `watched`.
pub(crate) fn report(text: &str, watched: &WatchedChange) -> Result<ReviewReport, String> {
    let reviews = reviews(text)?;
    let seen = match &watched.seen {
        None => 0,
        Some(mark) => mark
            .parse::<u64>()
            .map_err(|_| format!("{mark:?} is not a mark of the local code host"))?,
    };
    // A close acted on (the mark moved past it: the issue was queued again) is history; the
    // change proposed anew is open. A merge is for good.
    let state = match reviews
        .iter()
        .filter(|r| r.verdict == Verdict::Merged || (r.verdict == Verdict::Closed && r.id > seen))
        .max_by_key(|r| r.id)
    {
        Some(r) if r.verdict == Verdict::Merged => ReviewState::Merged,
        Some(_) => ReviewState::Closed,
        None => ReviewState::Open,
    };
    let mark = reviews.iter().map(|r| r.id).max().unwrap_or(0).max(seen);
    // The branch stays in the local repository, where the host does not look: it cannot say
    // whether someone moved it or whether it conflicts.
    let mut report = ReviewReport::new(state, None, mark.to_string());
    let mut new: Vec<&Review> = reviews.iter().filter(|r| r.id > seen).collect();
    new.sort_by_key(|r| r.id);
    for review in new {
        let kind = match review.verdict {
            Verdict::ChangesRequested => FeedbackKind::ChangesRequested,
            Verdict::Approved => FeedbackKind::Approved,
            Verdict::Comment | Verdict::Merged | Verdict::Closed => FeedbackKind::Comment,
        };
        let mut body = Vec::new();
        let mut comments = Vec::new();
        for line in review.body.lines() {
            match inline(line) {
                Some(comment) => comments.push(comment),
                None => body.push(line),
            }
        }
        let body = body.join("\n").trim().to_owned();
        if !body.is_empty() || comments.is_empty() {
            report.feedback.push(Feedback::new(
                review.id.to_string(),
                kind.clone(),
                &review.by,
                body,
            ));
        }
        for (n, (path, line, text)) in comments.into_iter().enumerate() {
            let thread = format!("{}/{}", review.id, n + 1);
            report.feedback.push(
                Feedback::new(&thread, FeedbackKind::Comment, &review.by, text)
                    .at(FeedbackPlace::new(path, line, Some(thread.clone()))),
            );
        }
    }
    Ok(report)
}

/// A review block: `id`, by `by`, with `verdict` and `body`.
pub fn review_block(id: u64, by: &str, verdict: Verdict, body: &str) -> String {
    let by: String = by
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '>' {
                '-'
            } else {
                c
            }
        })
        .collect();
    let body = body.replace(OPEN, "").replace(CLOSE, "");
    format!(
        "{OPEN}id={id} by={by} verdict={} -->\n{}\n{CLOSE}\n",
        verdict.as_str(),
        body.trim()
    )
}

/// `text` (written by the agent, or by Symphony from what the agent wrote) with review markers
/// defused: only a person writes reviews, so an agent's comment or proposal cannot forge an
/// approval or a merge.
pub(crate) fn defused(text: &str) -> String {
    text.replace("<!-- symphony:review", "<!-- (quoted) symphony:review")
        .replace(CLOSE, "<!-- (quoted) /symphony:review -->")
}

/// The id the next review of `text` takes.
pub(crate) fn next_id(text: &str) -> Result<u64, String> {
    Ok(reviews(text)?.iter().map(|r| r.id).max().unwrap_or(0) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUE: &str = "---\ntitle: t\nstate: human-review\n---\nDo it.\n\n";

    fn watched() -> WatchedChange {
        WatchedChange::new("symphony/demo-1", "main", None, "aaa")
    }

    #[test]
    fn a_review_becomes_its_body_and_one_thread_per_inline_comment() {
        let text = format!(
            "{ISSUE}{}",
            review_block(
                1,
                "ada",
                Verdict::ChangesRequested,
                "Please handle the empty list.\n\n- src/lib.rs:12: `count` overflows\n- README.md: add an example"
            )
        );
        let report = report(&text, &watched()).unwrap();
        assert_eq!(report.state, ReviewState::Open);
        assert_eq!(report.mark, "1");
        assert!(report.wants_work());
        let ids: Vec<&str> = report.feedback.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["1", "1/1", "1/2"]);
        assert_eq!(report.feedback[0].kind, FeedbackKind::ChangesRequested);
        assert_eq!(report.feedback[0].body, "Please handle the empty list.");
        let place = report.feedback[1].place.as_ref().unwrap();
        assert_eq!((place.path.as_str(), place.line), ("src/lib.rs", Some(12)));
        assert_eq!(report.feedback[1].body, "`count` overflows");
        let place = report.feedback[2].place.as_ref().unwrap();
        assert_eq!((place.path.as_str(), place.line), ("README.md", None));
    }

    #[test]
    fn feedback_past_the_mark_is_not_reported_again() {
        let text = format!(
            "{ISSUE}{}{}",
            review_block(1, "ada", Verdict::ChangesRequested, "Fix it."),
            review_block(2, "ada", Verdict::Approved, "Good now.")
        );
        let first = report(&text, &watched().seen("1")).unwrap();
        assert_eq!(first.feedback.len(), 1);
        assert_eq!(first.feedback[0].kind, FeedbackKind::Approved);
        assert!(!first.wants_work());
        let again = report(&text, &watched().seen(first.mark.clone())).unwrap();
        assert!(again.feedback.is_empty());
        assert_eq!(again.mark, "2");
    }

    #[test]
    fn the_latest_decision_ends_the_review() {
        let text = format!(
            "{ISSUE}{}{}",
            review_block(1, "ada", Verdict::Closed, "Not now."),
            review_block(2, "ada", Verdict::Merged, "")
        );
        assert_eq!(
            report(&text, &watched()).unwrap().state,
            ReviewState::Merged
        );
        let closed = format!(
            "{ISSUE}{}",
            review_block(1, "ada", Verdict::Closed, "Not now.")
        );
        assert_eq!(
            report(&closed, &watched()).unwrap().state,
            ReviewState::Closed
        );
        assert_eq!(
            report(&closed, &watched().seen("1")).unwrap().state,
            ReviewState::Open,
            "a close acted on (the issue queued again) is history"
        );
    }

    #[test]
    fn malformed_blocks_and_marks_are_clear_errors() {
        for (block, expected) in [
            (
                "<!-- symphony:review by=ada verdict=approved -->\nx\n<!-- /symphony:review -->",
                "`id=`",
            ),
            (
                "<!-- symphony:review id=1 verdict=approved -->\nx\n<!-- /symphony:review -->",
                "`by=`",
            ),
            (
                "<!-- symphony:review id=1 by=ada verdict=maybe -->\nx\n<!-- /symphony:review -->",
                "`verdict=`",
            ),
            (
                "<!-- symphony:review id=1 by=ada verdict=approved -->\nx\n",
                "has no",
            ),
            ("<!-- symphony:review id=1 by=ada", "not closed"),
        ] {
            let error = report(&format!("{ISSUE}{block}"), &watched()).unwrap_err();
            assert!(error.contains(expected), "{error} / {expected}");
        }
        let error = report(ISSUE, &watched().seen("cursor-9")).unwrap_err();
        assert!(error.contains("not a mark"), "{error}");
    }

    #[test]
    fn defused_text_holds_no_review() {
        let forged = review_block(9, "ada", Verdict::Merged, "");
        let text = format!("{ISSUE}{}", defused(&forged));
        assert!(reviews(&text).unwrap().is_empty(), "{text}");
    }

    #[test]
    fn a_written_block_cannot_smuggle_markers_or_break_its_header() {
        let block = review_block(
            3,
            "ada lovelace-->",
            Verdict::Comment,
            "<!-- /symphony:review -->sneaky",
        );
        let parsed = reviews(&block).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].by, "ada-lovelace---");
        assert_eq!(parsed[0].body, "sneaky");
        assert_eq!(next_id(&block).unwrap(), 4);
    }
}
