//! `symphony prompt`: preview the rendered prompt for one issue.

use std::io::Read as _;
use std::path::Path;

use symphony_core::Issue;
use symphony_workflow::{PromptTemplate, WorkflowDefinition};

use crate::failure::Failure;

/// Largest issue file accepted; real normalized issues are a few kilobytes.
const MAX_ISSUE_BYTES: u64 = 4 * 1024 * 1024;

pub fn run(path: &Path, issue_file: &Path, attempt: Option<u32>) -> Result<(), Failure> {
    // Only the template matters for a preview, so a workflow whose tracker is not configured
    // yet can still be previewed.
    let definition = WorkflowDefinition::load(path)?;
    let template = PromptTemplate::compile(&definition.prompt_template)?;
    let issue = read_issue(issue_file)?;
    print!("{}", template.render(&issue, attempt)?);
    println!();
    Ok(())
}

fn read_issue(file: &Path) -> Result<Issue, Failure> {
    let shown = file.display();
    let mut bytes = Vec::new();
    let read = if file == Path::new("-") {
        std::io::stdin()
            .take(MAX_ISSUE_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(MAX_ISSUE_BYTES + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| {
        Failure::new(
            "invalid_issue",
            format!("cannot read issue file {shown}: {e}"),
        )
    })?;
    if bytes.len() as u64 > MAX_ISSUE_BYTES {
        return Err(Failure::new(
            "invalid_issue",
            format!("issue file {shown} is larger than 4 MiB"),
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        // serde_json ends its message with the position, which leads the line here instead.
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message);
        Failure::new(
            "invalid_issue",
            format!(
                "{shown}:{}:{}: not a normalized issue: {message} (required: id, identifier, title, state)",
                e.line(),
                e.column()
            ),
        )
    })
}
