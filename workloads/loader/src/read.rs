//! Input files -> records with their line numbers, or what could not be parsed (for the DLQ).

use serde_json::{Map, Value};

use ff_core::RuleCode;

/// One record of an input file.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    Record {
        line: u64,
        fields: Map<String, Value>,
    },
    Refused {
        line: u64,
        rule: RuleCode,
        message: String,
        raw: String,
    },
}

fn line_at(bytes: &[u8], pos: usize) -> u64 {
    1 + bytes[..pos.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn object_or_refused(line: u64, v: Value, raw: impl FnOnce() -> String) -> Parsed {
    match v {
        Value::Object(fields) => Parsed::Record { line, fields },
        other => Parsed::Refused {
            line,
            rule: RuleCode::InvalidJson,
            message: format!("expected a JSON object, found {}", kind(&other)),
            raw: raw(),
        },
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Profiles: one JSON array of objects, one object, or JSON Lines (one object per line).
/// A syntax error in JSON Lines refuses that line only; in an array, the rest of the array.
pub fn json_records(bytes: &[u8], json_lines: bool) -> Vec<Parsed> {
    let bytes = strip_bom(bytes);
    let start = skip_ws(bytes, 0);
    if start >= bytes.len() {
        return Vec::new();
    }
    if !json_lines && bytes[start] == b'[' {
        return array_records(bytes, start);
    }
    if !json_lines {
        if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
            let line = line_at(bytes, start);
            return vec![object_or_refused(line, v, || {
                String::from_utf8_lossy(bytes).trim().to_string()
            })];
        }
    }
    // JSON Lines (also a .json file holding one object per line)
    let mut out = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let line = i as u64 + 1;
        match serde_json::from_str::<Value>(text) {
            Ok(v) => out.push(object_or_refused(line, v, || text.to_string())),
            Err(e) => out.push(Parsed::Refused {
                line,
                rule: RuleCode::InvalidJson,
                message: format!("invalid JSON at column {}: {e}", e.column()),
                raw: text.to_string(),
            }),
        }
    }
    out
}

fn array_records(bytes: &[u8], open: usize) -> Vec<Parsed> {
    let mut out = Vec::new();
    let mut pos = skip_ws(bytes, open + 1);
    if bytes.get(pos) == Some(&b']') {
        return out;
    }
    loop {
        pos = skip_ws(bytes, pos);
        let line = line_at(bytes, pos);
        let mut stream = serde_json::Deserializer::from_slice(&bytes[pos..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v)) => {
                let end = pos + stream.byte_offset();
                let raw = || String::from_utf8_lossy(&bytes[pos..end]).into_owned();
                out.push(object_or_refused(line, v, raw));
                pos = skip_ws(bytes, end);
                match bytes.get(pos) {
                    Some(b',') => pos += 1,
                    Some(b']') => {
                        let after = skip_ws(bytes, pos + 1);
                        if after < bytes.len() {
                            out.push(refuse_rest(
                                bytes,
                                after,
                                "unexpected content after the array",
                            ));
                        }
                        return out;
                    }
                    _ => {
                        out.push(refuse_rest(
                            bytes,
                            pos,
                            "expected `,` or `]` after an array element",
                        ));
                        return out;
                    }
                }
            }
            Some(Err(e)) => {
                out.push(refuse_rest(bytes, pos, &format!("invalid JSON: {e}")));
                return out;
            }
            None => {
                out.push(refuse_rest(bytes, pos, "the array is not closed"));
                return out;
            }
        }
    }
}

fn refuse_rest(bytes: &[u8], pos: usize, message: &str) -> Parsed {
    Parsed::Refused {
        line: line_at(bytes, pos),
        rule: RuleCode::InvalidJson,
        message: format!("{message}; the rest of the file from here is refused"),
        raw: String::from_utf8_lossy(&bytes[pos.min(bytes.len())..]).into_owned(),
    }
}

/// `;` or `,`, whichever the header line uses more (outside quotes).
pub fn detect_delimiter(bytes: &[u8]) -> u8 {
    let header = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let (mut comma, mut semi, mut quoted) = (0, 0, false);
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => comma += 1,
            b';' if !quoted => semi += 1,
            _ => {}
        }
    }
    if semi > comma {
        b';'
    } else {
        b','
    }
}

/// Invoices: a CSV file with a header row, read one record at a time.
pub struct CsvRecords<'a> {
    reader: csv::Reader<&'a [u8]>,
    text: &'a [u8],
    headers: Vec<String>,
    done: bool,
}

impl<'a> CsvRecords<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, String> {
        let text = strip_bom(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(detect_delimiter(text))
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text);
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| format!("unreadable header row: {e}"))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        if headers.iter().all(|h| h.is_empty()) {
            return Err("the file has no header row".into());
        }
        Ok(Self {
            reader,
            text,
            headers,
            done: false,
        })
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }
}

impl Iterator for CsvRecords<'_> {
    type Item = Parsed;

    fn next(&mut self) -> Option<Parsed> {
        if self.done {
            return None;
        }
        let start = self.reader.position().byte() as usize;
        let mut record = csv::StringRecord::new();
        let result = self.reader.read_record(&mut record);
        let end = (self.reader.position().byte() as usize).min(self.text.len());
        let raw = String::from_utf8_lossy(&self.text[start.min(end)..end])
            .trim_end()
            .to_string();
        match result {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                if record.len() != self.headers.len() {
                    return Some(Parsed::Refused {
                        line,
                        rule: RuleCode::InvalidCsv,
                        message: format!(
                            "expected {} fields as in the header, found {}",
                            self.headers.len(),
                            record.len()
                        ),
                        raw,
                    });
                }
                let fields = self
                    .headers
                    .iter()
                    .zip(record.iter())
                    .map(|(h, v)| (h.clone(), Value::String(v.to_string())))
                    .collect();
                Some(Parsed::Record { line, fields })
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                if raw.is_empty() {
                    self.done = true;
                }
                Some(Parsed::Refused {
                    line,
                    rule: RuleCode::InvalidCsv,
                    message: format!("unreadable CSV record: {e}"),
                    raw,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(p: &[Parsed]) -> Vec<(u64, bool)> {
        p.iter()
            .map(|r| match r {
                Parsed::Record { line, .. } => (*line, true),
                Parsed::Refused { line, .. } => (*line, false),
            })
            .collect()
    }

    #[test]
    fn array_elements_keep_their_line() {
        let text = b"[\n  {\"id\": 1},\n  {\"id\": 2,\n   \"nom\": \"x\"},\n  3\n]\n";
        let p = json_records(text, false);
        assert_eq!(lines(&p), vec![(2, true), (3, true), (5, false)]);
        match &p[2] {
            Parsed::Refused { message, raw, .. } => {
                assert!(message.contains("a number"), "{message}");
                assert_eq!(raw, "3");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_array_refuses_the_rest_with_its_line() {
        let text = b"[{\"id\": 1},\n{\"id\": 2\n";
        let p = json_records(text, false);
        assert_eq!(lines(&p), vec![(1, true), (2, false)]);
    }

    #[test]
    fn single_object_and_json_lines() {
        assert_eq!(
            lines(&json_records(b"\xEF\xBB\xBF{\"id\": 7}", false)),
            vec![(1, true)]
        );
        let p = json_records(b"{\"id\": 1}\n\n{\"id\": 2\n{\"id\": 3}\n", false);
        assert_eq!(lines(&p), vec![(1, true), (3, false), (4, true)]);
        let p = json_records(b"{\"id\": 1}\n", true);
        assert_eq!(lines(&p), vec![(1, true)]);
    }

    #[test]
    fn csv_semicolon_bom_and_bad_field_count() {
        let text =
            "\u{feff} id_freelance ; montant ;date\n12; 4 500,50 € ;2025-10-01\n13;1\n".as_bytes();
        let mut r = CsvRecords::new(text).unwrap();
        assert_eq!(r.headers(), ["id_freelance", "montant", "date"]);
        let all: Vec<Parsed> = r.by_ref().collect();
        assert_eq!(lines(&all), vec![(2, true), (3, false)]);
        match &all[0] {
            Parsed::Record { fields, .. } => {
                assert_eq!(fields["montant"], "4 500,50 €");
                assert_eq!(fields["id_freelance"], "12");
            }
            other => panic!("{other:?}"),
        }
        match &all[1] {
            Parsed::Refused { rule, raw, .. } => {
                assert_eq!(*rule, RuleCode::InvalidCsv);
                assert_eq!(raw, "13;1");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn csv_comma_with_quoted_amounts() {
        let text = b"freelance, montant, date\nDupont, 4500\xE2\x82\xAC, Oct-2025\nMartin,\"1,234.50\",2025-01-02\n";
        assert_eq!(detect_delimiter(text), b',');
        let all: Vec<Parsed> = CsvRecords::new(text).unwrap().collect();
        assert_eq!(lines(&all), vec![(2, true), (3, true)]);
        if let Parsed::Record { fields, .. } = &all[1] {
            assert_eq!(fields["montant"], "1,234.50");
        }
        if let Parsed::Record { fields, .. } = &all[0] {
            assert_eq!(fields["freelance"], "Dupont");
            assert_eq!(fields["date"], "Oct-2025");
        }
    }
}
