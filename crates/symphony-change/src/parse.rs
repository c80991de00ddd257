//! Reading `git diff --unified=0` and `git log -p` output into a [`ChangeSet`].

use crate::change_set::{AddedLine, ChangeSet, ChangedFile, CommitPatch, FileChange};

/// Starts each commit in the history log; no diff line can start with it (they start with
/// `diff`, `index`, `@@`, `+`, `-`, ...).
pub(crate) const COMMIT_MARKER: &str = "symphony-commit ";

impl ChangeSet {
    /// Parses `git log -p --unified=0 --format=<COMMIT_MARKER>%H` output.
    pub fn parse_log(log: &str) -> Vec<CommitPatch> {
        let mut commits = Vec::new();
        let mut current: Option<(String, String)> = None;
        for line in log.split_inclusive('\n') {
            if let Some(id) = line.strip_prefix(COMMIT_MARKER) {
                if let Some((commit, diff)) = current.take() {
                    commits.push(CommitPatch {
                        commit,
                        files: Self::parse(&diff).files,
                    });
                }
                current = Some((id.trim().to_owned(), String::new()));
            } else if let Some((_, diff)) = current.as_mut() {
                diff.push_str(line);
            }
        }
        if let Some((commit, diff)) = current {
            commits.push(CommitPatch {
                commit,
                files: Self::parse(&diff).files,
            });
        }
        commits
    }

    /// Parses `git diff --unified=0` output.
    pub fn parse(diff: &str) -> Self {
        let mut files: Vec<ChangedFile> = Vec::new();
        let mut next_line = 0u32;
        for line in diff.lines() {
            if let Some(rest) = line.strip_prefix("diff --git ") {
                // `a/<old> b/<new>`; a rename's `rename to` line names it exactly later.
                let path = header_path(rest);
                files.push(ChangedFile {
                    path,
                    change: FileChange::Modified,
                    binary: false,
                    added: Vec::new(),
                    removed: 0,
                });
                continue;
            }
            let Some(file) = files.last_mut() else {
                continue;
            };
            if line.starts_with("new file mode") {
                file.change = FileChange::Added;
            } else if line.starts_with("deleted file mode") {
                file.change = FileChange::Deleted;
            } else if let Some(from) = line.strip_prefix("rename from ") {
                file.change = FileChange::Renamed {
                    from: unquote(from),
                };
            } else if let Some(to) = line.strip_prefix("rename to ") {
                file.path = unquote(to);
            } else if line.starts_with("Binary files ") {
                file.binary = true;
            } else if let Some(hunk) = line.strip_prefix("@@ ") {
                // `@@ -a,b +c,d @@`: added lines start at c.
                next_line = hunk
                    .split_whitespace()
                    .find_map(|part| part.strip_prefix('+'))
                    .and_then(|range| range.split(',').next())
                    .and_then(|start| start.parse().ok())
                    .unwrap_or(0);
            } else if line.starts_with("+++ ") || line.starts_with("--- ") {
                // The header named the file already (these lines end in a tab when the
                // name has a space, and say /dev/null for one side).
            } else if let Some(text) = line.strip_prefix('+') {
                file.added.push(AddedLine {
                    line: next_line,
                    text: text.to_owned(),
                });
                next_line += 1;
            } else if line.starts_with('-') {
                file.removed += 1;
            }
        }
        Self {
            files,
            ..Self::default()
        }
    }
}

/// The new path of a `diff --git` header (`a/<old> b/<new>`, each side C-quoted when unusual).
/// An unquoted name may itself contain ` b/`, so the split is not searched for: without a
/// rename both sides are the same name, which fixes where they meet (as `git apply` reads it).
fn header_path(rest: &str) -> String {
    if let Some((old, after)) = quoted_prefix(rest) {
        let new = after.strip_prefix(' ').unwrap_or(after);
        let new = quoted_prefix(new).map_or_else(|| new.to_owned(), |(n, _)| n);
        let new = new.strip_prefix("b/").map(str::to_owned);
        return new.unwrap_or_else(|| old.trim_start_matches("a/").to_owned());
    }
    if let Some(at) = rest.find(" \"b/") {
        return unquote(&rest[at + 1..]).trim_start_matches("b/").to_owned();
    }
    let half = rest.len().saturating_sub(5) / 2;
    if let (Some(old), Some(new)) = (
        rest.get(2..2 + half),
        rest.get(2 + half..).and_then(|r| r.strip_prefix(" b/")),
    ) {
        if rest.starts_with("a/") && old == new {
            return new.to_owned();
        }
    }
    // A rename with different names: its `rename to` line names the file.
    rest.rsplit_once(" b/")
        .map_or_else(|| rest.to_owned(), |(_, new)| new.to_owned())
}

/// A C-quoted string at the start of `text` (`"..."`), unquoted, and what follows it.
fn quoted_prefix(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('"')?;
    let mut escaped = false;
    for (at, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => {
                return Some((unquote(&text[..at + 2]), &body[at + 1..]));
            }
            _ => escaped = false,
        }
    }
    None
}

/// git quotes unusual paths C-style (`"a\tb"`); plain ones come as they are.
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_owned();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(b'r') => bytes.push(b'\r'),
            Some(b'a') => bytes.push(0x07),
            Some(b'b') => bytes.push(0x08),
            Some(b'f') => bytes.push(0x0c),
            Some(b'v') => bytes.push(0x0b),
            Some(b'"') => bytes.push(b'"'),
            Some(b'\\') => bytes.push(b'\\'),
            Some(d @ b'0'..=b'7') => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&n @ b'0'..=b'7') = chars.peek() {
                        value = value * 8 + u32::from(n - b'0');
                        chars.next();
                    }
                }
                bytes.push(value as u8);
            }
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/src/lib.rs b/src/lib.rs
index 1111111..2222222 100644
--- a/src/lib.rs
+++ b/src/lib.rs
@@ -3,0 +4,2 @@ fn main() {
+let a = 1;
+let b = 2;
@@ -10 +12 @@
-old
+new
diff --git a/new.txt b/new.txt
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+hello
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
index 4444444..0000000
--- a/gone.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-x
-y
diff --git a/old name.md b/new name.md
similarity index 90%
rename from old name.md
rename to new name.md
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..5555555
Binary files /dev/null and b/logo.png differ
diff --git \"a/tab\\there\" \"b/tab\\there\"
new file mode 100644
--- /dev/null
+++ \"b/tab\\there\"
@@ -0,0 +1 @@
+x
";

    #[test]
    fn unified_diffs_parse_into_files_and_added_lines() {
        let set = ChangeSet::parse(DIFF);
        let paths: Vec<&str> = set.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "src/lib.rs",
                "new.txt",
                "gone.txt",
                "new name.md",
                "logo.png",
                "tab\there"
            ]
        );
        let lib = set.file("src/lib.rs").unwrap();
        let added: Vec<(u32, &str)> = lib
            .added
            .iter()
            .map(|l| (l.line, l.text.as_str()))
            .collect();
        assert_eq!(added, [(4, "let a = 1;"), (5, "let b = 2;"), (12, "new")]);
        assert_eq!(lib.removed, 1);
        assert_eq!(set.file("new.txt").unwrap().change, FileChange::Added);
        assert_eq!(set.file("gone.txt").unwrap().change, FileChange::Deleted);
        assert_eq!(set.file("gone.txt").unwrap().removed, 2);
        assert_eq!(
            set.file("new name.md").unwrap().change,
            FileChange::Renamed {
                from: "old name.md".into()
            }
        );
        assert!(set.file("logo.png").unwrap().binary);
        assert_eq!(set.lines_added(), 5);
    }

    /// A name may contain ` b/`, spaces (git then ends `+++` lines with a tab) or control
    /// characters (quoted C-style); each file keeps its exact name.
    #[test]
    fn unusual_names_are_read_exactly() {
        let diff = "diff --git a/x b/c d b/x b/c d\nnew file mode 100644\n--- /dev/null\n+++ b/x b/c d\t\n@@ -0,0 +1 @@\n+hi\n\
diff --git \"a/f\\fv\\v\\a\\303\\251\" \"b/f\\fv\\v\\a\\303\\251\"\nnew file mode 100644\n\
diff --git a/bin b/x b/bin b/x\nnew file mode 100644\nBinary files /dev/null and b/bin b/x differ\n\
diff --git a/old b/name b/new b/name\nsimilarity index 100%\nrename from old b/name\nrename to new b/name\n";
        let paths: Vec<String> = ChangeSet::parse(diff)
            .files
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(
            paths,
            ["x b/c d", "f\u{c}v\u{b}\u{7}é", "bin b/x", "new b/name"]
        );
    }
}
