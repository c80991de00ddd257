use std::path::PathBuf;

use super::*;

#[test]
fn remote_urls_are_told_from_paths() {
    assert!(looks_like_url("https://github.com/o/r.git"));
    assert!(looks_like_url("file:///srv/repo"));
    assert!(looks_like_url("git@github.com:o/r.git"));
    assert!(!looks_like_url("../repo"));
    assert!(!looks_like_url("/srv/a@b:c"));
    assert!(!looks_like_url("repo"));
}

#[test]
fn normalize_removes_dot_segments_without_escaping_root() {
    assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    assert_eq!(normalize(Path::new("/../../x")), PathBuf::from("/x"));
}

#[test]
fn positive_integers_are_enforced_with_the_field_name() {
    assert_eq!(positive_u64("hooks.timeout_ms", 5).unwrap(), 5);
    let err = positive_u64("hooks.timeout_ms", 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "hooks.timeout_ms: must be a positive integer, got 0"
    );
    assert!(positive_u32("agent.max_turns", i64::from(u32::MAX) + 1).is_err());
}
