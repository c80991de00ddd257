//! Where `$VAR` and `~` get their values: the process environment, or a map in tests.

use std::collections::BTreeMap;

/// A source of environment variables for `$VAR` and `~` resolution.
pub trait Environment {
    /// The variable's value, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Environment for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// The name of a whole-value `$NAME` or `${NAME}` reference, if `value` is exactly one.
pub(crate) fn whole_reference(value: &str) -> Option<&str> {
    let name = value.strip_prefix('$')?;
    let name = match name.strip_prefix('{') {
        Some(inner) => inner.strip_suffix('}')?,
        None => name,
    };
    is_var_name(name).then_some(name)
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Expands `~` at the start and every `$NAME` / `${NAME}` in a local path value (SPEC §6.1).
///
/// Returns the name of the first unset or empty variable as the error: a path silently
/// missing a component is worse than a clear error.
pub(crate) fn expand_path(value: &str, env: &dyn Environment) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let rest = if value == "~" || value.starts_with("~/") {
        let home = env
            .var("HOME")
            .filter(|h| !h.is_empty())
            .ok_or_else(|| "HOME".to_owned())?;
        out.push_str(&home);
        &value[1..]
    } else {
        value
    };
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let tail = &rest[i + 1..];
        let (name, consumed) = if let Some(braced) = tail.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => {
                    out.push(c);
                    continue;
                }
            }
        } else {
            let len = tail
                .char_indices()
                .find(|&(j, ch)| {
                    !(ch.is_ascii_alphanumeric() || ch == '_') || (j == 0 && ch.is_ascii_digit())
                })
                .map_or(tail.len(), |(j, _)| j);
            (&tail[..len], len)
        };
        if !is_var_name(name) {
            out.push(c);
            continue;
        }
        match env.var(name).filter(|v| !v.is_empty()) {
            Some(v) => out.push_str(&v),
            None => return Err(name.to_owned()),
        }
        for _ in 0..consumed {
            chars.next();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> BTreeMap<String, String> {
        [("HOME", "/home/ada"), ("WS", "/srv/ws"), ("EMPTY", "")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn whole_references_are_recognised() {
        assert_eq!(whole_reference("$GITHUB_TOKEN"), Some("GITHUB_TOKEN"));
        assert_eq!(whole_reference("${GITHUB_TOKEN}"), Some("GITHUB_TOKEN"));
        assert_eq!(whole_reference("$1abc"), None);
        assert_eq!(whole_reference("token $X"), None);
        assert_eq!(whole_reference("ghp_literal"), None);
    }

    #[test]
    fn paths_expand_home_and_variables() {
        let env = env();
        assert_eq!(expand_path("~/w", &env).unwrap(), "/home/ada/w");
        assert_eq!(expand_path("~", &env).unwrap(), "/home/ada");
        assert_eq!(expand_path("$WS/a", &env).unwrap(), "/srv/ws/a");
        assert_eq!(expand_path("${WS}x/a", &env).unwrap(), "/srv/wsx/a");
        assert_eq!(expand_path("a/~b/$", &env).unwrap(), "a/~b/$");
        assert_eq!(expand_path("$EMPTY/a", &env).unwrap_err(), "EMPTY");
        assert_eq!(expand_path("$NOPE", &env).unwrap_err(), "NOPE");
    }
}
