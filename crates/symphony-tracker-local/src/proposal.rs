//! A proposed change under the local tracker: the branch stays in the local repository and
//! the proof-of-work body goes into the issue file, in one section that a later proposal
//! replaces (so proposing twice leaves one section).

use std::path::Path;

use symphony_tracker::ChangeProposal;

use crate::file::parse_issue_file;
use crate::tools::{issue_path, write_atomically};

const START: &str = "<!-- symphony:proposal -->";
const END: &str = "<!-- /symphony:proposal -->";
/// Bodies are bounded like comments: the file is read whole on every poll.
const MAX_SECTION_BYTES: usize = 96 * 1024;

/// The section for `proposal`.
fn section(proposal: &ChangeProposal) -> String {
    let mut body = proposal.body.replace(START, "").replace(END, "");
    if body.len() > MAX_SECTION_BYTES {
        let mut end = MAX_SECTION_BYTES;
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        body.truncate(end);
        body.push_str("\n…");
    }
    let short: String = proposal.head_sha.chars().take(12).collect();
    let mut checks = String::new();
    for check in &proposal.checks {
        checks.push_str(&format!(
            "- {}: {} — {}\n",
            check.name,
            check.conclusion.as_str(),
            check.summary.replace('\n', " ")
        ));
    }
    format!(
        "{START}\n## Proposed change: {}\n\nBranch `{}` at `{short}` (local), to merge into `{}`.\n\n\
         {checks}\n{}\n{END}\n",
        proposal.title.replace('\n', " "),
        proposal.branch,
        proposal.base_branch,
        body.trim_end()
    )
}

/// Writes (or replaces) the proposal section of issue `id`; `true` when it was new.
pub(crate) fn write(folder: &Path, id: &str, proposal: &ChangeProposal) -> Result<bool, String> {
    let path = issue_path(folder, id)?;
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read issue {id}: {e}"))?;
    let new_section = section(proposal);
    let (updated, created) = match (text.find(START), text.find(END)) {
        (Some(start), Some(end)) if end > start => {
            let after = &text[end + END.len()..];
            let after = after.strip_prefix('\n').unwrap_or(after);
            (format!("{}{new_section}{after}", &text[..start]), false)
        }
        _ => {
            let mut text = text;
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push('\n');
            text.push_str(&new_section);
            (text, true)
        }
    };
    parse_issue_file(id, &updated).map_err(|e| format!("refusing to write issue {id}: {e}"))?;
    write_atomically(&path, &updated)?;
    Ok(created)
}
