//! A workflow edit reaches what happens next: new workspaces run the new hook, prompts use the
//! new template, existing workspaces are left alone (SPEC §6.2 "reloaded config applies to
//! future ... hook execution").

use std::sync::Arc;

use symphony_core::Issue;
use symphony_workflow::{
    ConfigRegistry, PromptTemplate, ProviderConfig, ReloadOutcome, TrackerProfile, WorkflowSource,
};
use symphony_workspace::WorkspaceManager;

struct FolderProfile;

impl TrackerProfile for FolderProfile {
    fn kind(&self) -> &'static str {
        "folder"
    }
    fn path_keys(&self) -> &'static [&'static str] {
        &["path"]
    }
    fn default_active_states(&self) -> Option<Vec<String>> {
        Some(vec!["todo".into()])
    }
    fn default_terminal_states(&self) -> Option<Vec<String>> {
        Some(vec!["done".into()])
    }
    fn validate_provider(
        &self,
        provider: &ProviderConfig,
    ) -> Result<(), symphony_workflow::SectionError> {
        provider
            .get_str("path")
            .map(drop)
            .ok_or_else(|| "path is required".into())
    }
}

fn workflow(marker: &str, prompt: &str) -> String {
    format!(
        "---\ntracker:\n  kind: folder\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\nhooks:\n  after_create: echo {marker} > created-by\n---\n{prompt}\n"
    )
}

fn issue(identifier: &str) -> Issue {
    serde_json::from_value(serde_json::json!({
        "id": identifier, "identifier": identifier, "title": "Do it", "state": "todo"
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_edit_applies_to_future_workspaces_and_prompts_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("WORKFLOW.md");
    std::fs::write(&path, workflow("v1", "First {{ issue.identifier }}")).unwrap();
    let registry = ConfigRegistry::new().with(Arc::new(FolderProfile));
    let env: Arc<std::collections::BTreeMap<String, String>> = Arc::default();
    let source = WorkflowSource::open(&path, registry, env).unwrap();

    let current = source.current();
    let manager = WorkspaceManager::from_config(&current.config);
    let one = manager.ensure("ONE-1").await.unwrap();
    assert_eq!(
        std::fs::read_to_string(one.path.join("created-by")).unwrap(),
        "v1\n"
    );
    assert_eq!(
        one.path.parent().unwrap(),
        dir.path().join("ws").canonicalize().unwrap()
    );

    std::fs::write(&path, workflow("v2", "Second {{ issue.identifier }}")).unwrap();
    assert!(matches!(source.refresh(), ReloadOutcome::Reloaded(_)));
    let current = source.current();
    let manager = WorkspaceManager::from_config(&current.config);
    let two = manager.ensure("TWO-2").await.unwrap();
    assert_eq!(
        std::fs::read_to_string(two.path.join("created-by")).unwrap(),
        "v2\n"
    );
    // The existing workspace is reused as it was.
    let again = manager.ensure("ONE-1").await.unwrap();
    assert!(!again.created_now);
    assert_eq!(
        std::fs::read_to_string(again.path.join("created-by")).unwrap(),
        "v1\n"
    );

    let template = PromptTemplate::compile(&current.definition.prompt_template).unwrap();
    assert_eq!(
        template.render(&issue("TWO-2"), None).unwrap(),
        "Second TWO-2"
    );

    // A broken edit changes nothing that comes next.
    std::fs::write(&path, "---\nhooks: [\n---\n").unwrap();
    assert!(matches!(source.refresh(), ReloadOutcome::Rejected { .. }));
    let manager = WorkspaceManager::from_config(&source.current().config);
    let three = manager.ensure("THREE-3").await.unwrap();
    assert_eq!(
        std::fs::read_to_string(three.path.join("created-by")).unwrap(),
        "v2\n"
    );
}
