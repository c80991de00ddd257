//! Whether the tests run under CI, where nothing may be skipped.

/// Whether this is a CI run: `CI` set to any non-empty value.
pub fn ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}
