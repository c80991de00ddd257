//! Newline-delimited reading of an agent's output with a cap, shared by every backend: a line
//! longer than the cap is never buffered past it, so a runaway agent cannot exhaust memory.
//! Its length is reported, and — for backends that show output to people — its head kept.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// Longest protocol line accepted (SPEC §10.1 recommends 10 MB).
pub const MAX_LINE: usize = 10 * 1024 * 1024;

/// One line read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line, without its newline (a trailing `\r` removed, invalid UTF-8 replaced).
    Text(String),
    /// A line over the cap: its length, and its first `cap` bytes when the reader keeps heads
    /// ([`LineReader::keeping_heads`]; empty otherwise).
    TooLong {
        /// The whole line's length in bytes.
        len: usize,
        /// Its start (invalid UTF-8 replaced), or empty.
        head: String,
    },
}

/// Reads lines from `inner`. Cancel-safe: a partial line stays in the reader, so it can sit in
/// a `select!` beside timers.
pub struct LineReader<R> {
    inner: R,
    line: Assembler,
}

/// The line being put together from what the reader has taken so far.
struct Assembler {
    buf: Vec<u8>,
    cap: usize,
    keep_heads: bool,
    /// Length so far of the oversized line being passed over.
    overlong: Option<usize>,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    /// A reader with the default cap, [`MAX_LINE`].
    pub fn new(inner: R) -> Self {
        Self::with_cap(inner, MAX_LINE)
    }

    /// A reader with cap `cap`.
    pub fn with_cap(inner: R, cap: usize) -> Self {
        Self {
            inner,
            line: Assembler {
                buf: Vec::new(),
                cap,
                keep_heads: false,
                overlong: None,
            },
        }
    }

    /// Keeps the first `cap` bytes of an oversized line in [`Line::TooLong`].
    pub fn keeping_heads(mut self) -> Self {
        self.line.keep_heads = true;
        self
    }

    /// The next line; `None` at end of input (a final unterminated line is still returned).
    pub async fn next(&mut self) -> std::io::Result<Option<Line>> {
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                return Ok(self.line.finish());
            }
            let (used, line) = self.line.absorb(available);
            self.inner.consume(used);
            if line.is_some() {
                return Ok(line);
            }
        }
    }

    /// Waits for output once and appends the complete lines it holds to `lines`. `Ok(false)`
    /// at end of input (with the final unterminated line appended); `Ok(true)` whenever bytes
    /// came, complete lines or not — output is activity even mid-line.
    pub async fn read_available(&mut self, lines: &mut Vec<Line>) -> std::io::Result<bool> {
        let available = self.inner.fill_buf().await?;
        if available.is_empty() {
            lines.extend(self.line.finish());
            return Ok(false);
        }
        let mut at = 0;
        while at < available.len() {
            let (used, line) = self.line.absorb(&available[at..]);
            at += used;
            lines.extend(line);
        }
        self.inner.consume(at);
        Ok(true)
    }

    /// Takes the line in progress, if any: what came before a read error is not lost.
    pub fn take_partial(&mut self) -> Option<Line> {
        self.line.finish()
    }
}

impl Assembler {
    /// Takes `available` up to and including its first newline: how much was used, and the
    /// line that newline ended.
    fn absorb(&mut self, available: &[u8]) -> (usize, Option<Line>) {
        let (chunk, newline) = match memchr::memchr(b'\n', available) {
            Some(at) => (&available[..at], true),
            None => (available, false),
        };
        if newline && self.buf.is_empty() && self.overlong.is_none() && chunk.len() <= self.cap {
            // The whole line is in the reader's buffer (the common case): one copy into a
            // string of its size, rather than growing the assembly buffer line after line.
            let used = chunk.len() + 1;
            let chunk = chunk.strip_suffix(b"\r").unwrap_or(chunk);
            return (used, Some(Line::Text(text(chunk.to_vec()))));
        }
        match &mut self.overlong {
            Some(len) => *len += chunk.len(),
            None if self.buf.len() + chunk.len() > self.cap => {
                self.overlong = Some(self.buf.len() + chunk.len());
                if self.keep_heads {
                    let room = self.cap.saturating_sub(self.buf.len());
                    self.buf.extend_from_slice(&chunk[..room.min(chunk.len())]);
                } else {
                    self.buf = Vec::new();
                }
            }
            None => self.buf.extend_from_slice(chunk),
        }
        let used = chunk.len() + usize::from(newline);
        (used, newline.then(|| self.take_line()))
    }

    /// The line in progress at end of input, if any.
    fn finish(&mut self) -> Option<Line> {
        (self.overlong.is_some() || !self.buf.is_empty()).then(|| self.take_line())
    }

    fn take_line(&mut self) -> Line {
        let text = text(std::mem::take(&mut self.buf));
        match self.overlong.take() {
            Some(len) => Line::TooLong { len, head: text },
            None => Line::Text(text.strip_suffix('\r').map(str::to_owned).unwrap_or(text)),
        }
    }
}

fn text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn too_long(len: usize, head: &str) -> Option<Line> {
        Some(Line::TooLong {
            len,
            head: head.to_owned(),
        })
    }

    #[tokio::test]
    async fn long_lines_are_skipped_whole_and_the_stream_goes_on() {
        let input = format!("short\n{}\nafter\ntail", "x".repeat(100));
        let reader = tokio::io::BufReader::with_capacity(7, input.as_bytes());
        let mut lines = LineReader::with_cap(reader, 50);
        assert_eq!(
            lines.next().await.unwrap(),
            Some(Line::Text("short".into()))
        );
        assert_eq!(lines.next().await.unwrap(), too_long(100, ""));
        assert_eq!(
            lines.next().await.unwrap(),
            Some(Line::Text("after".into()))
        );
        assert_eq!(lines.next().await.unwrap(), Some(Line::Text("tail".into())));
        assert_eq!(lines.next().await.unwrap(), None);
    }

    #[tokio::test]
    async fn heads_are_kept_up_to_the_cap_when_asked() {
        let input = format!(
            "{}{}\r\nok\r\n{}",
            "a".repeat(30),
            "b".repeat(70),
            "c".repeat(60)
        );
        let reader = tokio::io::BufReader::with_capacity(7, input.as_bytes());
        let mut lines = LineReader::with_cap(reader, 50).keeping_heads();
        let head = format!("{}{}", "a".repeat(30), "b".repeat(20));
        assert_eq!(lines.next().await.unwrap(), too_long(101, &head));
        assert_eq!(lines.next().await.unwrap(), Some(Line::Text("ok".into())));
        assert_eq!(lines.next().await.unwrap(), too_long(60, &"c".repeat(50)));
        assert_eq!(lines.next().await.unwrap(), None);
    }

    #[tokio::test]
    async fn each_read_hands_over_its_complete_lines_and_says_when_bytes_came() {
        let (mut writer, reader) = tokio::io::duplex(64);
        let mut lines = LineReader::with_cap(tokio::io::BufReader::new(reader), 50);
        use tokio::io::AsyncWriteExt;
        let mut got = Vec::new();
        writer.write_all(b"one\ntw").await.unwrap();
        assert!(lines.read_available(&mut got).await.unwrap());
        assert_eq!(got, [Line::Text("one".into())]);
        writer.write_all(b"o\nthree\nfour").await.unwrap();
        drop(writer);
        got.clear();
        assert!(lines.read_available(&mut got).await.unwrap());
        assert_eq!(got, [Line::Text("two".into()), Line::Text("three".into())]);
        got.clear();
        assert!(!lines.read_available(&mut got).await.unwrap(), "the end");
        assert_eq!(got, [Line::Text("four".into())]);
    }

    /// The lines of `input` as the reader must give them, whatever its buffer size.
    fn expected(input: &[u8], cap: usize) -> Vec<Line> {
        let mut parts: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        if parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
        parts
            .into_iter()
            .map(|part| {
                if part.len() > cap {
                    Line::TooLong {
                        len: part.len(),
                        head: String::new(),
                    }
                } else {
                    let part = part.strip_suffix(b"\r").unwrap_or(part);
                    Line::Text(String::from_utf8_lossy(part).into_owned())
                }
            })
            .collect()
    }

    proptest::proptest! {
        /// Whole lines in the buffer (the fast path) and lines pieced together across reads
        /// give the same lines.
        #[test]
        fn any_buffer_size_reads_the_same_lines(
            input in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b'\n', b'\r', 0xc3, 0xa9, b'{']),
                0..200,
            ),
            capacity in 1usize..40,
            cap in 1usize..30,
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let got = runtime.block_on(async {
                let reader = tokio::io::BufReader::with_capacity(capacity, &input[..]);
                let mut lines = LineReader::with_cap(reader, cap);
                let mut got = Vec::new();
                while let Some(line) = lines.next().await.unwrap() {
                    got.push(line);
                }
                got
            });
            proptest::prop_assert_eq!(got, expected(&input, cap));
        }
    }
}
