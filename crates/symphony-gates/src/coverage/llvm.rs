//! `llvm-cov export -format=text` JSON (also what `cargo llvm-cov --json` writes): per file, a
//! list of segments `[line, column, count, has_count, is_region_entry, is_gap_region?]`. Line
//! counts follow LLVM's own rule (`LineCoverageStats` in llvm/lib/ProfileData/Coverage/
//! CoverageMapping.cpp): a line is executable when a region starts on it, or when a region
//! with a count is still open from an earlier line, unless a skipped region starts it; its
//! count is the largest of the regions starting on it and the one carried in from the last
//! segment of an earlier line.

use serde_json::Value;

use super::lines::Coverage;

/// The largest line number taken from a report.
const MAX_LINE: u32 = 10_000_000;

/// One segment, as the export writes it.
#[derive(Debug, Clone, Copy)]
struct Segment {
    line: u32,
    count: u64,
    has_count: bool,
    region_entry: bool,
    gap: bool,
}

fn segment(value: &Value) -> Option<Segment> {
    let fields = value.as_array()?;
    Some(Segment {
        line: u32::try_from(fields.first()?.as_u64()?).ok()?,
        count: fields.get(2)?.as_u64()?,
        has_count: fields.get(3)?.as_bool()?,
        region_entry: fields.get(4)?.as_bool()?,
        gap: fields.get(5).and_then(Value::as_bool).unwrap_or(false),
    })
}

pub(super) fn parse(bytes: &[u8]) -> Result<Coverage, String> {
    let export: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("llvm-cov JSON: not JSON ({e})"))?;
    let data = export
        .get("data")
        .and_then(Value::as_array)
        .ok_or("llvm-cov JSON: no `data` list (is this `llvm-cov export` output?)")?;
    let mut coverage = Coverage::default();
    for unit in data {
        let files = unit
            .get("files")
            .and_then(Value::as_array)
            .ok_or("llvm-cov JSON: a `data` entry without `files`")?;
        for file in files {
            let path = file
                .get("filename")
                .and_then(Value::as_str)
                .ok_or("llvm-cov JSON: a file without `filename`")?;
            let segments = file
                .get("segments")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("llvm-cov JSON: {path} has no `segments`"))?
                .iter()
                .map(|s| {
                    segment(s).ok_or_else(|| format!("llvm-cov JSON: {path}: bad segment {s}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            // Sorted by position as the export writes them, and lines a source file can have:
            // the walk below goes line by line.
            if segments.windows(2).any(|w| w[1].line < w[0].line)
                || segments.iter().any(|s| s.line == 0 || s.line > MAX_LINE)
            {
                return Err(format!(
                    "llvm-cov JSON: {path}: segments out of order or past line {MAX_LINE}"
                ));
            }
            coverage.file(path);
            for (line, count) in line_counts(&segments) {
                coverage.record(path, line, count);
            }
        }
    }
    Ok(coverage)
}

/// The executable lines among `segments` (sorted as the export writes them) and their counts.
fn line_counts(segments: &[Segment]) -> Vec<(u32, u64)> {
    let mut counts = Vec::new();
    let (Some(first), Some(last)) = (segments.first(), segments.last()) else {
        return counts;
    };
    let mut wrapped: Option<Segment> = None;
    let mut next = 0;
    for line in first.line..=last.line {
        let start = next;
        while next < segments.len() && segments[next].line == line {
            next += 1;
        }
        let on_line = &segments[start..next];
        let starts_region = |s: &&Segment| !s.gap && s.has_count && s.region_entry;
        let regions = on_line.iter().filter(starts_region).count();
        let skipped = on_line
            .first()
            .is_some_and(|s| !s.has_count && s.region_entry);
        let mapped = !skipped && (wrapped.is_some_and(|w| w.has_count) || regions > 0)
            || on_line.iter().any(|s| s.region_entry && s.has_count);
        if mapped {
            let carried = wrapped.map_or(0, |w| w.count);
            let count = on_line
                .iter()
                .filter(starts_region)
                .map(|s| s.count)
                .fold(carried, u64::max);
            counts.push((line, count));
        }
        if let Some(last_on_line) = on_line.last() {
            wrapped = Some(*last_on_line);
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_become_line_counts_as_llvm_counts_them() {
        // fn main() {            line 1: a region starts, count 1
        //     if false {        line 2: the condition ran (1); the block's region (0) starts
        //         never();      line 3: inside the block: 0
        //     }                 line 4: the block's count carried in (0), nothing starts
        // }                     line 5: the function's count carried in (1)
        let export = serde_json::json!({"data": [{"files": [{
            "filename": "/ws/src/main.rs",
            "segments": [
                [1, 11, 1, true, true, false],
                [2, 14, 0, true, true, false],
                [4, 6, 1, true, false, false],
                [5, 2, 0, false, false, false]
            ]
        }]}], "type": "llvm.coverage.json.export", "version": "2.0.1"});
        let coverage = parse(export.to_string().as_bytes()).unwrap();
        let lines = coverage.lines("/ws/src/main.rs").unwrap();
        assert_eq!(
            lines.iter().map(|(l, c)| (*l, *c)).collect::<Vec<_>>(),
            [(1, 1), (2, 1), (3, 0), (4, 0), (5, 1)]
        );
        for (bad, says) in [
            ("{}", "no `data`"),
            ("[", "not JSON"),
            (
                r#"{"data":[{"files":[{"filename":"a","segments":[[1]]}]}]}"#,
                "bad segment",
            ),
            (
                r#"{"data":[{"files":[{"filename":"a","segments":[[4000000000,1,1,true,true]]}]}]}"#,
                "past line",
            ),
            (
                r#"{"data":[{"files":[{"filename":"a","segments":[[5,1,1,true,true],[2,1,1,true,true]]}]}]}"#,
                "out of order",
            ),
        ] {
            let error = parse(bad.as_bytes()).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
