//! Cobertura XML (coverage.py's `coverage xml`, `cargo llvm-cov --cobertura`, JaCoCo converters,
//! gcovr): `<class filename=...>` holds `<lines><line number=".." hits=".."/>`; a class's
//! methods repeat some of its lines under `<methods>`, which are not counted again. A relative
//! `filename` is taken against the report's first `<source>`.

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::lines::Coverage;

fn attribute(element: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| format!("cobertura: bad attribute: {e}"))?;
        if attribute.key.as_ref() == name {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| format!("cobertura: bad attribute value: {e}"))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

pub(super) fn parse(bytes: &[u8]) -> Result<Coverage, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("cobertura: not UTF-8 ({e})"))?;
    let mut reader = Reader::from_str(text);
    let mut coverage = Coverage::default();
    let mut saw_root = false;
    let mut sources: Vec<String> = Vec::new();
    let mut in_source = false;
    let mut source_text = String::new();
    let mut class: Option<String> = None;
    let mut methods_depth = 0u32;
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "cobertura: not well-formed XML at byte {}: {e}",
                reader.buffer_position()
            )
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.local_name().as_ref() {
                    "coverage" => saw_root = true,
                    "source" if !empty => {
                        in_source = true;
                        source_text.clear();
                    }
                    "class" => {
                        let filename = attribute(e, "filename")?
                            .ok_or("cobertura: a <class> without filename")?;
                        let path = match sources.first() {
                            Some(source) if !filename.starts_with('/') => {
                                format!("{}/{filename}", source.trim_end_matches('/'))
                            }
                            _ => filename,
                        };
                        coverage.file(&path);
                        class = (!empty).then_some(path);
                    }
                    "methods" if !empty => methods_depth += 1,
                    "line" if methods_depth == 0 => {
                        let Some(path) = class.as_deref() else {
                            continue;
                        };
                        let number = attribute(e, "number")?
                            .and_then(|n| n.parse::<u32>().ok())
                            .filter(|n| *n > 0)
                            .ok_or("cobertura: a <line> without a line number")?;
                        let hits = attribute(e, "hits")?
                            .and_then(|h| h.parse::<u64>().ok())
                            .ok_or("cobertura: a <line> without hits")?;
                        coverage.record(path, number, hits);
                    }
                    _ => {}
                }
            }
            Event::Text(ref t) if in_source => {
                source_text.push_str(t);
            }
            Event::End(ref e) => match e.local_name().as_ref() {
                "source" => {
                    in_source = false;
                    sources.push(source_text.trim().to_owned());
                }
                "class" => class = None,
                "methods" => methods_depth = methods_depth.saturating_sub(1),
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err("cobertura: no <coverage> element (is this a Cobertura report?)".to_owned());
    }
    Ok(coverage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_lines_count_once_against_the_source_and_bad_xml_is_an_error() {
        let report = r#"<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage line-rate="0.5" version="7.4">
  <sources><source>/work/ws</source></sources>
  <packages><package name="app"><classes>
    <class name="a.py" filename="app/a.py" line-rate="0.5">
      <methods><method name="f"><lines><line number="1" hits="1"/></lines></method></methods>
      <lines><line number="1" hits="1"/><line number="2" hits="0"/></lines>
    </class>
    <class name="b.py" filename="/abs/b.py"><lines/></class>
  </classes></package></packages>
</coverage>"#;
        let coverage = parse(report.as_bytes()).unwrap();
        let a = coverage.lines("/work/ws/app/a.py").unwrap();
        assert_eq!(
            a.iter().map(|(l, c)| (*l, *c)).collect::<Vec<_>>(),
            [(1, 1), (2, 0)]
        );
        assert!(coverage.lines("/abs/b.py").unwrap().is_empty());
        for (bad, says) in [
            (
                "<coverage><class filename='a'><lines><line number='1' hits='1'></class>",
                "XML",
            ),
            ("<report/>", "no <coverage>"),
            (
                "<coverage><class><lines/></class></coverage>",
                "without filename",
            ),
            (
                "<coverage><class filename='a'><lines><line hits='1'/></lines></class></coverage>",
                "line number",
            ),
        ] {
            let error = parse(bad.as_bytes()).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
