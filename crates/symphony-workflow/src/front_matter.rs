//! Splitting `WORKFLOW.md` into YAML front matter and the prompt body (SPEC §5.2).

/// The two parts of a workflow file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Split<'a> {
    /// The YAML between the `---` fences, if the file has front matter.
    pub yaml: Option<&'a str>,
    /// 1-based line of the file on which the YAML starts (for error positions).
    pub yaml_first_line: usize,
    /// Everything after the closing fence (or the whole file), untrimmed.
    pub body: &'a str,
}

fn is_fence(line: &str) -> bool {
    line.trim_end() == "---"
}

/// Splits `text`; the only failure is an opening fence that is never closed.
pub(crate) fn split(text: &str) -> Result<Split<'_>, &'static str> {
    let mut lines = text.split_inclusive('\n');
    let Some(first) = lines.next() else {
        return Ok(Split {
            yaml: None,
            yaml_first_line: 1,
            body: text,
        });
    };
    if !is_fence(first) {
        return Ok(Split {
            yaml: None,
            yaml_first_line: 1,
            body: text,
        });
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    for line in lines {
        if is_fence(line) {
            return Ok(Split {
                yaml: Some(&text[yaml_start..offset]),
                yaml_first_line: 2,
                body: &text[offset + line.len()..],
            });
        }
        offset += line.len();
    }
    Err("the front matter opened with '---' on line 1 is never closed by a '---' line")
}

/// Splits a Markdown document with optional `---` YAML front matter into the YAML text (if
/// any) and the body. Shared by every format in Symphony that uses front matter (workflows,
/// local issue files). The error says why the front matter is unusable.
pub fn split_front_matter(text: &str) -> Result<(Option<&str>, &str), &'static str> {
    split(text).map(|s| (s.yaml, s.body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_without_front_matter_is_all_prompt() {
        let s = split("Hello {{ issue.title }}\n").unwrap();
        assert_eq!(s.yaml, None);
        assert_eq!(s.body, "Hello {{ issue.title }}\n");
    }

    #[test]
    fn front_matter_and_body_are_separated() {
        let s = split("---\na: 1\nb: 2\n---\n\nPrompt\n").unwrap();
        assert_eq!(s.yaml, Some("a: 1\nb: 2\n"));
        assert_eq!(s.body, "\nPrompt\n");
    }

    #[test]
    fn crlf_and_trailing_spaces_on_fences_are_accepted() {
        let s = split("--- \r\na: 1\r\n---\r\nBody").unwrap();
        assert_eq!(s.yaml, Some("a: 1\r\n"));
        assert_eq!(s.body, "Body");
    }

    #[test]
    fn empty_front_matter_and_no_body() {
        let s = split("---\n---").unwrap();
        assert_eq!(s.yaml, Some(""));
        assert_eq!(s.body, "");
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        assert!(split("---\na: 1\n").is_err());
    }

    #[test]
    fn a_fence_later_in_the_file_is_just_markdown() {
        let s = split("Intro\n---\nmore\n").unwrap();
        assert_eq!(s.yaml, None);
    }
}
