//! Gate kinds by name: the built-in ones and any a program registers (a plugin gate is a
//! [`GateFactory`]; WORKFLOW.md names it by `kind`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::budget::{BudgetSettings, DiffBudgetGate};
use crate::command_gate::{CommandGate, CommandSettings};
use crate::config::{CheckConfig, GatesConfig, DEFAULT_MAX_ROUNDS, DEFAULT_TIMEOUT_MS};
use crate::dependencies::{DependenciesGate, DependencySettings};
use crate::docs_gate::{DocKind, DocsGate, DocsSettings};
use crate::error::GateError;
use crate::gate::{Gate, GateRunner};
use crate::options::{ai_review_gate, builtin_options, sarif_gate, tests_gate, Options};
use crate::secrets::SecretsGate;

/// Builds gates of one kind from their WORKFLOW.md options.
pub trait GateFactory: Send + Sync {
    /// The `kind` it serves.
    fn kind(&self) -> &str;

    /// A gate from the check's own options; `base_dir` is the WORKFLOW.md's folder (relative
    /// paths in options start there). `check` carries the shared settings too.
    fn build(&self, check: &CheckConfig, base_dir: &Path) -> Result<Arc<dyn Gate>, GateError>;

    /// The JSON Schema `properties` of the kind's own options (beside the shared `kind`,
    /// `name`, `blocking`, `timeout_ms`, `paths`, `exclude`), for `symphony schema`. `None`
    /// documents nothing: editors then accept any option and only `build` checks them.
    fn options_schema(&self) -> Option<Value> {
        None
    }
}

/// The kinds a program knows.
#[derive(Clone)]
pub struct GateRegistry {
    factories: Vec<Arc<dyn GateFactory>>,
}

impl GateRegistry {
    /// `secrets`, `command`, `diff_budget`, `docs`, `dependencies`, `tests`, `sarif` and
    /// `ai_review`.
    pub fn builtin() -> Self {
        Self {
            factories: vec![
                Arc::new(Builtin("secrets")),
                Arc::new(Builtin("command")),
                Arc::new(Builtin("diff_budget")),
                Arc::new(Builtin("docs")),
                Arc::new(Builtin("dependencies")),
                Arc::new(Builtin("tests")),
                Arc::new(Builtin("sarif")),
                Arc::new(Builtin("ai_review")),
            ],
        }
    }

    /// Adds (or replaces) a kind.
    pub fn register(&mut self, factory: Arc<dyn GateFactory>) {
        self.factories.retain(|f| f.kind() != factory.kind());
        self.factories.push(factory);
    }

    /// The factories, in registration order.
    pub fn factories(&self) -> &[Arc<dyn GateFactory>] {
        &self.factories
    }

    /// The known kinds, sorted.
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.factories.iter().map(|f| f.kind().to_owned()).collect();
        kinds.sort();
        kinds
    }

    /// Every configured check, ready to run; the first bad one is the error.
    pub fn build(
        &self,
        config: &GatesConfig,
        base_dir: &Path,
    ) -> Result<Vec<GateRunner>, GateError> {
        config
            .checks
            .iter()
            .map(|check| {
                let factory = self
                    .factories
                    .iter()
                    .find(|f| f.kind() == check.kind)
                    .ok_or_else(|| {
                        GateError::Config(format!(
                            "gate {:?}: unknown kind {:?}; known kinds: {}",
                            check.settings.name,
                            check.kind,
                            self.kinds().join(", ")
                        ))
                    })?;
                let gate = factory.build(check, base_dir).map_err(|e| match e {
                    GateError::Config(message) => {
                        GateError::Config(format!("gate {:?}: {message}", check.settings.name))
                    }
                })?;
                GateRunner::new(gate, check.settings.clone())
            })
            .collect()
    }
}

struct Builtin(&'static str);

impl GateFactory for Builtin {
    fn kind(&self) -> &str {
        self.0
    }

    fn options_schema(&self) -> Option<Value> {
        Some(Value::Object(
            builtin_options(self.0)
                .iter()
                .map(|(key, schema)| ((*key).to_owned(), schema()))
                .collect(),
        ))
    }

    fn build(&self, check: &CheckConfig, base_dir: &Path) -> Result<Arc<dyn Gate>, GateError> {
        let options = &check.options;
        Ok(match self.0 {
            "secrets" => {
                let o = Options::new(options, "secrets")?;
                match o.string("rules")? {
                    None => Arc::new(SecretsGate::builtin()),
                    Some(path) => {
                        let path = base_dir.join(path);
                        let text = std::fs::read_to_string(&path).map_err(|e| {
                            GateError::Config(format!("rules file {}: {e}", path.display()))
                        })?;
                        Arc::new(SecretsGate::from_gitleaks(&text).map_err(|e| match e {
                            GateError::Config(m) => {
                                GateError::Config(format!("rules file {}: {m}", path.display()))
                            }
                        })?)
                    }
                }
            }
            "command" => {
                let o = Options::new(options, "command")?;
                let run = o
                    .string("run")?
                    .filter(|r| !r.trim().is_empty())
                    .ok_or_else(|| {
                        GateError::Config("`run` is required: the command to run".to_owned())
                    })?;
                Arc::new(CommandGate::new(CommandSettings {
                    run,
                    // The runner's limit applies too; the command's own stops the process group.
                    timeout: check
                        .settings
                        .timeout
                        .saturating_sub(Duration::from_millis(100))
                        .max(Duration::from_millis(100)),
                    sarif: o.string("sarif")?,
                }))
            }
            "diff_budget" => {
                let o = Options::new(options, "diff_budget")?;
                Arc::new(DiffBudgetGate::new(BudgetSettings {
                    max_files: o.count("max_files")?,
                    max_lines: o.count("max_lines")?,
                    protected: o.strings("protected")?,
                    lockfiles_need_manifest: o.flag("lockfiles_need_manifest", true)?,
                })?)
            }
            "docs" => {
                let o = Options::new(options, "docs")?;
                let require = o
                    .strings("require")?
                    .iter()
                    .map(|r| match r.as_str() {
                        "changelog" => Ok(DocKind::Changelog),
                        "adr" => Ok(DocKind::Adr),
                        other => Err(GateError::Config(format!(
                            "`require` lists {other:?}; expected changelog or adr"
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let defaults = DocsSettings::default();
                Arc::new(DocsGate::new(DocsSettings {
                    // The check's `paths` are the paths whose changes need documents.
                    paths: check.settings.paths.clone(),
                    require: if require.is_empty() {
                        defaults.require
                    } else {
                        require
                    },
                    changelog_dir: o.string("changelog_dir")?.unwrap_or(defaults.changelog_dir),
                    adr_dir: o.string("adr_dir")?.unwrap_or(defaults.adr_dir),
                })?)
            }
            "tests" => Arc::new(tests_gate(check, &Options::new(options, "tests")?)?),
            "sarif" => Arc::new(sarif_gate(check, &Options::new(options, "sarif")?)?),
            "ai_review" => Arc::new(ai_review_gate(check, &Options::new(options, "ai_review")?)?),
            "dependencies" => {
                let o = Options::new(options, "dependencies")?;
                let settings = DependencySettings {
                    rustsec_db: o.string("rustsec_db")?.map(|p| base_dir.join(p)),
                    osv_db: o.string("osv_db")?.map(|p| base_dir.join(p)),
                    deny_licenses: o.strings("deny_licenses")?,
                    max_age: Duration::from_secs(
                        o.count("max_age_days")?.unwrap_or(30) as u64 * 86_400,
                    ),
                };
                if settings.rustsec_db.is_none() && settings.osv_db.is_none() {
                    return Err(GateError::Config(
                        "gate dependencies: set `rustsec_db` and/or `osv_db` (a local advisory \
                         database; without one this gate could only ever say `error`)"
                            .to_owned(),
                    ));
                }
                Arc::new(DependenciesGate::new(settings))
            }
            other => return Err(GateError::Config(format!("no built-in gate {other:?}"))),
        })
    }
}

impl GateRegistry {
    /// The JSON Schema (2020-12) of the `gates` section with the check kinds this registry knows:
    /// what `from_section` and `GateRegistry::build` accept, unknown keys refused.
    pub fn section_schema(&self) -> Value {
        let strings = serde_json::json!({"anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}},
        ]});
        let kinds: Vec<Value> = self.kinds().into_iter().map(Value::String).collect();
        let per_kind: Vec<Value> = self
            .factories()
            .iter()
            .map(|factory| {
                let then = match factory.options_schema() {
                    Some(properties) => serde_json::json!({ "properties": properties }),
                    None => serde_json::json!({ "additionalProperties": true }),
                };
                serde_json::json!({
                    "if": {"properties": {"kind": {"const": factory.kind()}}, "required": ["kind"]},
                    "then": then,
                })
            })
            .collect();
        serde_json::json!({
            "description": "Extension: quality gates Symphony runs on every change after the \
                            agent's turns; failures go back to the agent.",
            "type": ["object", "null"],
            "properties": {
                "max_rounds": {
                    "description": "Rounds of gate feedback to the agent before a person decides.",
                    "type": "integer", "minimum": 0, "maximum": 20, "default": DEFAULT_MAX_ROUNDS,
                },
                "needs_human_state": {
                    "description": "The tracker state an issue goes to when the rounds are spent; unset: the run fails.",
                    "type": "string", "minLength": 1,
                },
                "feedback": {
                    "description": "Liquid template of the feedback turn.",
                    "type": "string",
                },
                "checks": {
                    "description": "The checks, run in order.",
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["kind"],
                        "properties": {
                            "kind": {"description": "The gate kind.", "enum": kinds},
                            "name": {"description": "Default: the kind.", "type": "string", "minLength": 1},
                            "blocking": {"type": "boolean", "default": true},
                            "timeout_ms": {"type": "integer", "minimum": 1, "default": DEFAULT_TIMEOUT_MS},
                            "paths": strings,
                            "exclude": strings,
                        },
                        "allOf": per_kind,
                        "unevaluatedProperties": false,
                    },
                },
            },
            "additionalProperties": false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn build(section: Value) -> Result<Vec<GateRunner>, GateError> {
        let config = GatesConfig::from_section(Some(&section))?;
        GateRegistry::builtin().build(&config, Path::new("."))
    }

    #[test]
    fn built_in_kinds_build_from_their_options() {
        let runners = build(json!({"checks": [
            {"kind": "secrets"},
            {"kind": "command", "name": "tests", "run": "cargo test"},
            {"kind": "diff_budget", "max_files": 10, "protected": [".github/**"]},
            {"kind": "docs", "require": ["changelog", "adr"]},
        ]}))
        .unwrap();
        let names: Vec<&str> = runners.iter().map(GateRunner::name).collect();
        assert_eq!(names, ["secrets", "tests", "diff_budget", "docs"]);
    }

    #[test]
    fn bad_options_name_the_gate_and_the_option() {
        for (check, expected) in [
            (
                json!({"kind": "lint"}),
                "unknown kind \"lint\"; known kinds: ai_review, command, dependencies, diff_budget, docs, sarif, secrets, tests",
            ),
            (
                json!({"kind": "command"}),
                "gate \"command\": `run` is required",
            ),
            (
                json!({"kind": "secrets", "rules": "missing.toml"}),
                "rules file ./missing.toml",
            ),
            (
                json!({"kind": "diff_budget", "max_file": 3}),
                "`max_file` is not an option",
            ),
            (
                json!({"kind": "docs", "require": ["manual"]}),
                "expected changelog or adr",
            ),
            (
                json!({"kind": "sarif", "run": "ruff check"}),
                "`output` is required",
            ),
            (
                json!({"kind": "sarif", "run": "x", "output": "../out.sarif"}),
                "no `..`",
            ),
            (
                json!({"kind": "sarif", "run": "x", "output": "o", "exit_codes": []}),
                "`exit_codes` is empty",
            ),
            (
                json!({"kind": "sarif", "run": "x", "output": "o", "min_level": "fatal"}),
                "expected note, warning or error",
            ),
        ] {
            let error = build(json!({"checks": [check]}))
                .err()
                .expect("an error")
                .to_string();
            assert!(
                error.contains(expected),
                "{error} should mention {expected}"
            );
        }
    }
}
