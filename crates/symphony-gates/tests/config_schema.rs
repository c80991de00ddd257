//! The `gates:` schema `symphony schema` publishes says what the loader says: every section the
//! loader accepts validates, and what it refuses (an unknown key, an option of another kind,
//! an unknown kind) does not.

use std::path::Path;

use serde_json::{json, Value};
use symphony_gates::{GateRegistry, GatesConfig};

fn loader_accepts(section: &Value) -> bool {
    GatesConfig::from_section(Some(section))
        .and_then(|config| GateRegistry::builtin().build(&config, Path::new(".")))
        .is_ok()
}

fn schema_accepts(section: &Value) -> bool {
    let schema = GateRegistry::builtin().section_schema();
    jsonschema::draft202012::new(&schema)
        .expect("the gates schema compiles")
        .is_valid(section)
}

#[test]
fn the_schema_and_the_loader_agree() {
    let accepted = [
        json!(null),
        json!({"max_rounds": 2, "needs_human_state": "needs-human", "feedback": "fix {{ gates }}",
               "checks": [
            {"kind": "secrets"},
            {"kind": "command", "name": "tests", "run": "cargo test", "sarif": "out.sarif",
             "timeout_ms": 1000, "blocking": false, "paths": "src/**", "exclude": ["a", "b"]},
            {"kind": "diff_budget", "max_files": 3, "max_lines": 10, "protected": ".github/**",
             "lockfiles_need_manifest": false},
            {"kind": "docs", "require": ["changelog", "adr"], "changelog_dir": "c", "adr_dir": "d"},
            {"kind": "dependencies", "osv_db": "osv", "rustsec_db": "rs",
             "deny_licenses": ["GPL-3.0"], "max_age_days": 10},
        ]}),
    ];
    for section in &accepted {
        assert!(loader_accepts(section), "loader refuses {section}");
        assert!(schema_accepts(section), "schema refuses {section}");
    }
    let refused = [
        json!({"chekcs": []}),
        json!({"max_rounds": 21}),
        json!({"checks": [{"kind": "lint"}]}),
        json!({"checks": [{"name": "no kind"}]}),
        json!({"checks": [{"kind": "secrets", "run": "x"}]}),
        json!({"checks": [{"kind": "diff_budget", "max_file": 3}]}),
        json!({"checks": [{"kind": "docs", "require": ["manual"]}]}),
        json!(["secrets"]),
    ];
    for section in &refused {
        assert!(!loader_accepts(section), "loader accepts {section}");
        assert!(!schema_accepts(section), "schema accepts {section}");
    }
}
