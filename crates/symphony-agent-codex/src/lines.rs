//! Newline-delimited reading with a cap: a line longer than the cap is skipped whole (and
//! reported), never buffered, so a runaway agent cannot exhaust memory.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// Longest protocol line accepted (SPEC §10.1 recommends 10 MB).
pub const MAX_LINE: usize = 10 * 1024 * 1024;

/// One read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line, without its newline (invalid UTF-8 replaced).
    Text(String),
    /// A line over the cap, skipped; its length.
    TooLong(usize),
}

/// Reads lines from `inner`; cancel-safe (partial lines stay in the reader).
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    cap: usize,
    /// Bytes of an oversized line skipped so far, while skipping.
    skipping: Option<usize>,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    /// A reader with the default cap.
    pub fn new(inner: R) -> Self {
        Self::with_cap(inner, MAX_LINE)
    }

    /// A reader with cap `cap`.
    pub fn with_cap(inner: R, cap: usize) -> Self {
        Self {
            inner,
            buf: Vec::new(),
            cap,
            skipping: None,
        }
    }

    /// The next line; `None` at end of input (a final unterminated line is still returned).
    pub async fn next(&mut self) -> std::io::Result<Option<Line>> {
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                if let Some(skipped) = self.skipping.take() {
                    return Ok(Some(Line::TooLong(skipped)));
                }
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(self.take_text()));
            }
            let (chunk, newline) = match available.iter().position(|&b| b == b'\n') {
                Some(at) => (&available[..at], true),
                None => (available, false),
            };
            let used = chunk.len() + usize::from(newline);
            match &mut self.skipping {
                Some(skipped) => *skipped += chunk.len(),
                None if self.buf.len() + chunk.len() > self.cap => {
                    self.skipping = Some(self.buf.len() + chunk.len());
                    self.buf = Vec::new();
                }
                None => self.buf.extend_from_slice(chunk),
            }
            self.inner.consume(used);
            if newline {
                if let Some(skipped) = self.skipping.take() {
                    return Ok(Some(Line::TooLong(skipped)));
                }
                return Ok(Some(self.take_text()));
            }
        }
    }

    fn take_text(&mut self) -> Line {
        let bytes = std::mem::take(&mut self.buf);
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Line::Text(text.strip_suffix('\r').map(str::to_owned).unwrap_or(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn long_lines_are_skipped_whole_and_the_stream_goes_on() {
        let input = format!("short\n{}\nafter\ntail", "x".repeat(100));
        let reader = tokio::io::BufReader::with_capacity(7, input.as_bytes());
        let mut lines = LineReader::with_cap(reader, 50);
        assert_eq!(
            lines.next().await.unwrap(),
            Some(Line::Text("short".into()))
        );
        assert_eq!(lines.next().await.unwrap(), Some(Line::TooLong(100)));
        assert_eq!(
            lines.next().await.unwrap(),
            Some(Line::Text("after".into()))
        );
        assert_eq!(lines.next().await.unwrap(), Some(Line::Text("tail".into())));
        assert_eq!(lines.next().await.unwrap(), None);
    }
}
