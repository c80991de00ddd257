//! lcov's tracefile format (geninfo(1), "TRACEFILE FORMAT"): per source file `SF:<path>`,
//! `DA:<line>,<count>[,<checksum>]` per executable line, `end_of_record`. Other records
//! (functions, branches, summaries) are not line coverage and are skipped.

use super::lines::Coverage;

pub(super) fn parse(bytes: &[u8]) -> Result<Coverage, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("lcov: not UTF-8 ({e})"))?;
    let mut coverage = Coverage::default();
    let mut file: Option<String> = None;
    let mut records = 0usize;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        let at = || format!("lcov line {}", n + 1);
        if let Some(path) = line.strip_prefix("SF:") {
            if file.is_some() {
                return Err(format!("{}: SF before the previous end_of_record", at()));
            }
            coverage.file(path);
            file = Some(path.to_owned());
        } else if let Some(data) = line.strip_prefix("DA:") {
            let path = file
                .as_deref()
                .ok_or_else(|| format!("{}: DA outside an SF record", at()))?;
            let mut fields = data.split(',');
            let (Some(number), Some(count)) = (fields.next(), fields.next()) else {
                return Err(format!("{}: DA needs <line>,<count>", at()));
            };
            let number: u32 = number
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{}: {number:?} is not a line number", at()))?;
            // Some tools write counts as decimals (`1.0e+00`) or negative on overflow.
            let count = count
                .parse::<u64>()
                .or_else(|_| count.parse::<f64>().map(|c| c.max(0.0) as u64))
                .map_err(|_| format!("{}: {count:?} is not a count", at()))?;
            coverage.record(path, number, count);
        } else if line == "end_of_record" {
            if file.take().is_none() {
                return Err(format!("{}: end_of_record without SF", at()));
            }
            records += 1;
        }
    }
    if file.is_some() {
        return Err("lcov: the last record has no end_of_record".to_owned());
    }
    if records == 0 {
        return Err("lcov: no SF record (is this an lcov tracefile?)".to_owned());
    }
    Ok(coverage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_counts_per_file_and_clear_errors() {
        let report = "TN:\nSF:src/a.rs\nFN:1,main\nDA:1,1\nDA:2,0\nDA:3,2,abc\nLF:3\nLH:2\n\
                      end_of_record\nSF:src/b.rs\nDA:7,1.0e+00\nend_of_record\nSF:src/a.rs\nDA:2,4\nend_of_record\n";
        let coverage = parse(report.as_bytes()).unwrap();
        let a = coverage.lines("src/a.rs").unwrap();
        assert_eq!(
            a.iter().map(|(l, c)| (*l, *c)).collect::<Vec<_>>(),
            [(1, 1), (2, 4), (3, 2)]
        );
        assert_eq!(coverage.lines("src/b.rs").unwrap()[&7], 1);
        for (bad, says) in [
            ("", "no SF record"),
            ("DA:1,1\n", "outside an SF"),
            ("SF:a\nDA:x,1\nend_of_record\n", "not a line number"),
            ("SF:a\nDA:1\nend_of_record\n", "<line>,<count>"),
            ("SF:a\nDA:1,1\n", "no end_of_record"),
        ] {
            let error = parse(bad.as_bytes()).unwrap_err();
            assert!(error.contains(says), "{bad:?}: {error}");
        }
    }
}
