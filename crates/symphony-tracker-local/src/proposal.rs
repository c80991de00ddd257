//! A proposed change under the local code host: the branch stays in the local repository, and
//! the proof-of-work body and the gate verdicts go into the issue's Markdown file, each in one
//! marked block that a later proposal (or round of verdicts) replaces — proposing twice leaves
//! one block.

use std::path::{Path, PathBuf};

use symphony_code_host::{ChangeProposal, CheckResult, LineComment};

use crate::file::parse_issue_file;
use crate::review::{next_id, review_block, Verdict};
use crate::tools::{issue_path, write_atomically};

/// The proposal block.
const PROPOSAL: (&str, &str) = ("<!-- symphony:proposal -->", "<!-- /symphony:proposal -->");
/// The verdicts block.
const CHECKS: (&str, &str) = ("<!-- symphony:checks -->", "<!-- /symphony:checks -->");
/// The reviewer's remarks block (findings that did not block, on their lines).
const REMARKS: (&str, &str) = ("<!-- symphony:remarks -->", "<!-- /symphony:remarks -->");
/// Blocks are bounded like comments: the file is read whole on every poll.
const MAX_SECTION_BYTES: usize = 96 * 1024;

/// Where proposals go.
#[derive(Debug, Clone)]
pub(crate) enum Files {
    /// The local tracker's own issue files: an issue that no longer exists is not written.
    Issues(PathBuf),
    /// A folder of proposal files (`<issue id>.md`), created as needed, for issues that live
    /// elsewhere.
    Proposals(PathBuf),
}

/// `text` without the markers of any block (review markers defused), cut to the bound.
fn bounded(text: &str) -> String {
    let mut text = crate::review::defused(text);
    for marker in [
        PROPOSAL.0, PROPOSAL.1, CHECKS.0, CHECKS.1, REMARKS.0, REMARKS.1,
    ] {
        text = text.replace(marker, "");
    }
    if text.len() > MAX_SECTION_BYTES {
        let mut end = MAX_SECTION_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("\n…");
    }
    text
}

/// The block for `proposal`.
fn proposal_block(proposal: &ChangeProposal) -> String {
    let short: String = proposal.head_sha.chars().take(12).collect();
    format!(
        "{}\n## Proposed change: {}\n\nBranch `{}` at `{short}` (local), to merge into `{}`.\n\n{}\n{}\n",
        PROPOSAL.0,
        bounded(&proposal.title).replace('\n', " "),
        bounded(&proposal.branch).replace('\n', " "),
        bounded(&proposal.base_branch).replace('\n', " "),
        bounded(&proposal.body).trim_end(),
        PROPOSAL.1,
    )
}

/// The block for the verdicts on `head_sha`.
fn checks_block(head_sha: &str, checks: &[CheckResult]) -> String {
    let short: String = head_sha.chars().take(12).collect();
    let mut lines = String::new();
    for check in checks {
        lines.push_str(&format!(
            "- {}: {} — {}\n",
            check.name,
            check.conclusion.as_str(),
            check.summary.replace('\n', " ")
        ));
    }
    format!(
        "{}\n## Checks on `{short}`\n\n{}{}\n",
        CHECKS.0,
        bounded(&lines),
        CHECKS.1
    )
}

/// A remark's key marker: `remarks` finds the ones already written by it.
fn remark_key(key: &str) -> String {
    format!("<!-- remark:{} -->", key.replace("--", ""))
}

/// The block for the reviewer's `remarks`, headed by `summary`.
fn remarks_block(summary: &str, remarks: &[LineComment]) -> String {
    let mut lines = String::new();
    for remark in remarks {
        lines.push_str(&format!(
            "- `{}:{}`: {} {}\n",
            bounded(&remark.path).replace('\n', " "),
            remark.line,
            bounded(&remark.body).replace('\n', " "),
            remark_key(&remark.key)
        ));
    }
    format!(
        "{}\n## Reviewer remarks\n\n{}\n\n{}{}\n",
        REMARKS.0,
        bounded(summary).trim_end(),
        lines,
        REMARKS.1
    )
}

/// `text` with `block` in place of the one between `markers`, or appended; and whether it
/// was appended.
fn replace_block(text: String, markers: (&str, &str), block: &str) -> (String, bool) {
    match (text.find(markers.0), text.find(markers.1)) {
        (Some(start), Some(end)) if end > start => {
            let after = &text[end + markers.1.len()..];
            let after = after.strip_prefix('\n').unwrap_or(after);
            (format!("{}{block}{after}", &text[..start]), false)
        }
        _ => {
            let mut text = text;
            if !text.is_empty() {
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push('\n');
            }
            text.push_str(block);
            (text, true)
        }
    }
}

impl Files {
    /// Writes (or replaces) the block between `markers` of issue `id`; `true` when it was new.
    fn write(&self, id: &str, markers: (&str, &str), block: &str) -> Result<bool, String> {
        let (path, text) = match self {
            Self::Issues(folder) => {
                let path = issue_path(folder, id)?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read issue {id}: {e}"))?;
                (path, text)
            }
            Self::Proposals(folder) => {
                let path = proposal_path(folder, id)?;
                let text = match std::fs::read_to_string(&path) {
                    Ok(text) => text,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                    Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
                };
                (path, text)
            }
        };
        let (updated, created) = replace_block(text, markers, block);
        if let Self::Issues(_) = self {
            parse_issue_file(id, &updated)
                .map_err(|e| format!("refusing to write issue {id}: {e}"))?;
        } else {
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
                .map_err(|e| format!("cannot create the proposals folder: {e}"))?;
        }
        write_atomically(&path, &updated)?;
        Ok(created)
    }

    /// The text where issue `id`'s proposal and reviews are (empty when nothing was written
    /// for it yet in a proposals folder).
    pub(crate) fn read(&self, id: &str) -> Result<String, String> {
        let path = match self {
            Self::Issues(folder) => issue_path(folder, id)?,
            Self::Proposals(folder) => proposal_path(folder, id)?,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(text),
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && matches!(self, Self::Proposals(_)) =>
            {
                Ok(String::new())
            }
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Appends a review of issue `id` by `by` (a person) with `verdict` and `body`; its id.
    pub(crate) fn add_review(
        &self,
        id: &str,
        by: &str,
        verdict: Verdict,
        body: &str,
    ) -> Result<u64, String> {
        let mut text = self.read(id)?;
        let review = next_id(&text)?;
        if !text.is_empty() {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push('\n');
        }
        text.push_str(&review_block(review, by, verdict, body));
        let path = match self {
            Self::Issues(folder) => {
                parse_issue_file(id, &text)
                    .map_err(|e| format!("refusing to write issue {id}: {e}"))?;
                issue_path(folder, id)?
            }
            Self::Proposals(folder) => {
                std::fs::create_dir_all(folder)
                    .map_err(|e| format!("cannot create the proposals folder: {e}"))?;
                proposal_path(folder, id)?
            }
        };
        write_atomically(&path, &text)?;
        Ok(review)
    }

    /// Writes (or replaces) the proposal of issue `id`; `true` when it was new.
    pub(crate) fn propose(&self, id: &str, proposal: &ChangeProposal) -> Result<bool, String> {
        self.write(id, PROPOSAL, &proposal_block(proposal))
    }

    /// Writes (or replaces) the verdicts on `head_sha` for issue `id`.
    /// Writes the reviewer's remarks (replacing earlier ones); how many were new, and how
    /// many were there already.
    pub(crate) fn remarks(
        &self,
        id: &str,
        summary: &str,
        remarks: &[LineComment],
    ) -> Result<(u32, u32), String> {
        let before = self.read(id)?;
        let already = remarks
            .iter()
            .filter(|r| before.contains(&remark_key(&r.key)))
            .count();
        self.write(id, REMARKS, &remarks_block(summary, remarks))?;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok((count(remarks.len() - already), count(already)))
    }

    pub(crate) fn checks(
        &self,
        id: &str,
        head_sha: &str,
        checks: &[CheckResult],
    ) -> Result<(), String> {
        self.write(id, CHECKS, &checks_block(head_sha, checks))
            .map(drop)
    }
}

/// `<folder>/<id>.md`, for an id that names a plain file there.
fn proposal_path(folder: &Path, id: &str) -> Result<PathBuf, String> {
    let plain = !id.is_empty()
        && !id.starts_with('.')
        && !id.contains(['/', '\\', '\0'])
        && id.len() <= 200;
    if !plain {
        return Err(format!(
            "issue id {id:?} does not name a file in the proposals folder"
        ));
    }
    Ok(folder.join(format!("{id}.md")))
}
