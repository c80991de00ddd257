//! Code-host kinds by name, and which one a workflow selects: its `code_host:` section, or, when
//! there is none, the host of the tracker's own kind (GitHub issues get GitHub pull requests,
//! local issues local branches).

use std::sync::Arc;

use serde_json::{json, Map, Value};
use symphony_workflow::ServiceConfig;

use crate::code_host::CodeHost;
use crate::error::{CodeHostError, CodeHostErrorCategory};

/// The top-level WORKFLOW.md key.
pub const SECTION: &str = "code_host";

/// What building a code host may look at besides its own options: the resolved configuration
/// (a code host of the tracker's own kind takes its defaults — repository, token — from
/// `config.tracker`), the workflow's folder and the environment. The same context every
/// WORKFLOW.md section is validated with.
pub type CodeHostContext<'a> = symphony_workflow::SectionContext<'a>;

/// One code-host kind: its options and how to build it.
pub trait CodeHostFactory: Send + Sync {
    /// The `code_host.kind` it serves.
    fn kind(&self) -> &str;

    /// Whether, with no `code_host:` section, it is the host of issues from `tracker_kind`.
    fn serves_tracker(&self, tracker_kind: &str) -> bool;

    /// JSON Schema properties of its options (the keys beside `kind`); others are refused.
    fn options_schema(&self) -> Map<String, Value>;

    /// Checks `options` as [`Self::build`] reads them, without building (no network, no
    /// runtime): run at load and on every reload.
    fn validate(
        &self,
        options: &Map<String, Value>,
        context: &CodeHostContext<'_>,
    ) -> Result<(), CodeHostError>;

    /// The code host for `options`.
    fn build(
        &self,
        options: &Map<String, Value>,
        context: &CodeHostContext<'_>,
    ) -> Result<Arc<dyn CodeHost>, CodeHostError>;
}

/// The code-host kinds a build can be configured with.
#[derive(Clone, Default)]
pub struct CodeHostRegistry {
    factories: Vec<Arc<dyn CodeHostFactory>>,
}

impl std::fmt::Debug for CodeHostRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.kinds()).finish()
    }
}

/// The kind a workflow selected and its options.
pub struct Selection<'r> {
    /// The factory of the selected kind.
    pub factory: &'r Arc<dyn CodeHostFactory>,
    /// Its options (the section without `kind`; empty when defaulted from the tracker).
    pub options: Map<String, Value>,
}

impl CodeHostRegistry {
    /// An empty registry: no workflow can select a code host until kinds are registered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the factory of its kind.
    pub fn register(&mut self, factory: Arc<dyn CodeHostFactory>) {
        self.factories.retain(|f| f.kind() != factory.kind());
        self.factories.push(factory);
    }

    /// The registry with `factory` added.
    pub fn with(mut self, factory: Arc<dyn CodeHostFactory>) -> Self {
        self.register(factory);
        self
    }

    /// The registered kinds, in registration order.
    pub fn kinds(&self) -> Vec<String> {
        self.factories.iter().map(|f| f.kind().to_owned()).collect()
    }

    /// What `config` selects: its `code_host:` section, else the host of the tracker's kind;
    /// `None` when neither names a registered code host (nothing can be proposed for review).
    pub fn select(&self, config: &ServiceConfig) -> Result<Option<Selection<'_>>, CodeHostError> {
        let invalid =
            |message: String| CodeHostError::new(CodeHostErrorCategory::InvalidConfig, message);
        match config.extensions.get(SECTION) {
            None | Some(Value::Null) => Ok(self
                .factories
                .iter()
                .find(|f| f.serves_tracker(&config.tracker.kind))
                .map(|factory| Selection {
                    factory,
                    options: Map::new(),
                })),
            Some(Value::Object(section)) => {
                let kind = match section.get("kind") {
                    Some(Value::String(kind)) => kind,
                    Some(_) => return Err(invalid("`code_host.kind` must be a string".into())),
                    None => {
                        return Err(invalid(format!(
                            "`code_host.kind` is required: one of {}",
                            self.kinds().join(", ")
                        )))
                    }
                };
                let factory = self
                    .factories
                    .iter()
                    .find(|f| f.kind() == kind)
                    .ok_or_else(|| {
                        CodeHostError::new(
                            CodeHostErrorCategory::UnsupportedKind,
                            format!(
                                "code_host.kind {kind:?} has no implementation in this build \
                                 (known: {})",
                                self.kinds().join(", ")
                            ),
                        )
                    })?;
                let mut options = section.clone();
                options.remove("kind");
                let known = factory.options_schema();
                if let Some(unknown) = options.keys().find(|k| !known.contains_key(*k)) {
                    return Err(invalid(format!(
                        "`code_host.{unknown}` is not an option of kind {kind:?} (known: {})",
                        known.keys().cloned().collect::<Vec<_>>().join(", ")
                    )));
                }
                Ok(Some(Selection { factory, options }))
            }
            Some(_) => Err(invalid(
                "`code_host` must be a map with `kind` and that kind's options".into(),
            )),
        }
    }

    /// Checks what `context.config` selects, as [`Self::build`] would read it.
    pub fn validate(&self, context: &CodeHostContext<'_>) -> Result<(), CodeHostError> {
        match self.select(context.config)? {
            Some(selection) => selection.factory.validate(&selection.options, context),
            None => Ok(()),
        }
    }

    /// The code host `context.config` selects, built; `None` when it selects none.
    pub fn build(
        &self,
        context: &CodeHostContext<'_>,
    ) -> Result<Option<Arc<dyn CodeHost>>, CodeHostError> {
        match self.select(context.config)? {
            Some(selection) => selection
                .factory
                .build(&selection.options, context)
                .map(Some),
            None => Ok(None),
        }
    }

    /// The JSON Schema of the `code_host` section for the registered kinds.
    pub fn section_schema(&self) -> Value {
        let per_kind: Vec<Value> = self
            .factories
            .iter()
            .map(|factory| {
                let mut properties = factory.options_schema();
                properties.insert("kind".into(), json!({"const": factory.kind()}));
                json!({
                    "if": {"properties": {"kind": {"const": factory.kind()}}, "required": ["kind"]},
                    "then": {"properties": properties, "additionalProperties": false},
                })
            })
            .collect();
        json!({
            "description": "Extension: where changes are proposed for review and gate verdicts \
                            published (pull requests). Absent: the host of the tracker's own \
                            kind.",
            "type": ["object", "null"],
            "properties": {
                "kind": {"enum": self.kinds(), "description": "Which code host."},
            },
            "required": ["kind"],
            "allOf": per_kind,
        })
    }
}
