//! Sources: turning a file's bytes into raw records (a line number, the original bytes and
//! the field values by column), whatever the encoding or format.
//!
//! CSV is read as bytes and each field decoded afterwards: GBK's trail bytes never fall in
//! ASCII's range, so the CSV structure of a GBK file is found correctly before decoding.

use std::borrow::Cow;
use std::io::{self, BufRead, Read};
use std::sync::{Arc, Mutex, MutexGuard};

/// The text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Gbk,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gbk => "gbk",
        }
    }

    /// Guesses from a file's first bytes: valid UTF-8 (a character cut off at the end of
    /// the sample is fine) means UTF-8, anything else GBK, as Chinese bank systems export.
    pub fn detect(sample: &[u8]) -> Encoding {
        match std::str::from_utf8(sample) {
            Ok(_) => Encoding::Utf8,
            Err(e) if e.error_len().is_none() => Encoding::Utf8,
            Err(_) => Encoding::Gbk,
        }
    }

    /// Decodes one field; `None` when the bytes are not valid in this encoding.
    pub fn decode<'a>(self, bytes: &'a [u8]) -> Option<Cow<'a, str>> {
        match self {
            Encoding::Utf8 => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
            Encoding::Gbk => {
                encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes)
            }
        }
    }
}

impl std::str::FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb2312" | "gb18030" | "cp936" => Ok(Encoding::Gbk),
            other => Err(format!("unknown encoding `{other}`; expected utf-8 or gbk")),
        }
    }
}

/// One record as read: where it starts and the exact bytes it was made of.
pub struct RawRecord {
    pub line: u64,
    pub original: Vec<u8>,
    pub fields: Vec<String>,
}

/// Keeps the bytes the CSV parser has read but not yet consumed, so each record's original
/// bytes can be cut out by the parser's byte positions without reading the file twice.
struct Tee<R> {
    inner: R,
    window: Arc<Mutex<Window>>,
}

#[derive(Default)]
struct Window {
    /// File offset of `bytes[0]`.
    base: u64,
    bytes: Vec<u8>,
}

impl Window {
    fn slice(&self, start: u64, end: u64) -> Vec<u8> {
        let s = (start.saturating_sub(self.base)) as usize;
        let e = (end.saturating_sub(self.base) as usize).min(self.bytes.len());
        self.bytes.get(s..e).map(<[u8]>::to_vec).unwrap_or_default()
    }

    /// Forgets bytes before `offset`, in large steps so the copy stays cheap.
    fn release(&mut self, offset: u64) {
        let n = offset.saturating_sub(self.base) as usize;
        if n >= 1 << 20 && n <= self.bytes.len() {
            self.bytes.drain(..n);
            self.base = offset;
        }
    }
}

/// The window is only ever touched by the thread that reads the file; the mutex is there
/// to make the source `Send`, and a poisoned one still holds consistent bytes.
fn lock(w: &Mutex<Window>) -> MutexGuard<'_, Window> {
    w.lock().unwrap_or_else(|p| p.into_inner())
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        lock(&self.window).bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Streams CSV records with their original bytes.
pub struct CsvSource<R: Read> {
    reader: csv::Reader<Tee<R>>,
    window: Arc<Mutex<Window>>,
    record: csv::ByteRecord,
    encoding: Encoding,
    pub header: Vec<String>,
}

/// A record-level problem found while reading (the file as a whole is still usable).
pub struct ReadReject {
    pub line: u64,
    pub original: Vec<u8>,
    /// The field to blame, when one is.
    pub field: Option<String>,
    pub reason: String,
}

impl<R: Read> CsvSource<R> {
    /// Reads the header row. `Ok(None)` for an empty file.
    pub fn new(inner: R, encoding: Encoding) -> Result<Option<Self>, String> {
        let window = Arc::new(Mutex::new(Window::default()));
        let tee = Tee {
            inner,
            window: Arc::clone(&window),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(tee);
        let mut record = csv::ByteRecord::new();
        let got = reader
            .read_byte_record(&mut record)
            .map_err(|e| e.to_string())?;
        if !got {
            return Ok(None);
        }
        let mut header = Vec::with_capacity(record.len());
        for (i, f) in record.iter().enumerate() {
            // A UTF-8 byte-order mark is an encoding detail, not part of the first name.
            let f = if i == 0 {
                f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
            } else {
                f
            };
            let name = encoding
                .decode(f)
                .ok_or_else(|| format!("column {} is not valid {}", i + 1, encoding.as_str()))?;
            header.push(name.trim().to_owned());
        }
        Ok(Some(CsvSource {
            reader,
            window,
            record,
            encoding,
            header,
        }))
    }

    /// The next record, or a reason it is unreadable; `None` at the end.
    pub fn next_record(&mut self) -> Option<Result<RawRecord, ReadReject>> {
        let start = self.reader.position().byte();
        let mut line = self.reader.position().line();
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let end = self.reader.position().byte();
                let original = {
                    let mut w = lock(&self.window);
                    let o = w.slice(start, end);
                    w.release(end);
                    o
                };
                let (original, breaks) = trim_record(original);
                line += breaks;
                if self.record.len() != self.header.len() {
                    return Some(Err(ReadReject {
                        line,
                        original,
                        field: None,
                        reason: format!(
                            "has {} fields, the header has {}",
                            self.record.len(),
                            self.header.len()
                        ),
                    }));
                }
                let mut fields = Vec::with_capacity(self.record.len());
                for (i, f) in self.record.iter().enumerate() {
                    match self.encoding.decode(f) {
                        Some(s) => fields.push(s.into_owned()),
                        None => {
                            return Some(Err(ReadReject {
                                line,
                                original,
                                field: Some(self.header[i].clone()),
                                reason: format!(
                                    "field `{}` is not valid {}",
                                    self.header[i],
                                    self.encoding.as_str()
                                ),
                            }))
                        }
                    }
                }
                Some(Ok(RawRecord {
                    line,
                    original,
                    fields,
                }))
            }
            Err(e) => {
                let end = self.reader.position().byte();
                let (original, breaks) = trim_record(lock(&self.window).slice(start, end));
                Some(Err(ReadReject {
                    line: line + breaks,
                    original,
                    field: None,
                    reason: e.to_string(),
                }))
            }
        }
    }

    /// Bytes consumed so far, for progress.
    pub fn position(&self) -> u64 {
        self.reader.position().byte()
    }
}

/// Drops line terminators around a record: the parser's positions may include the previous
/// record's terminator (the `\n` of a CRLF) or blank lines before the record, none of which is
/// part of it. Returns the record and how many line breaks preceded it.
fn trim_record(mut v: Vec<u8>) -> (Vec<u8>, u64) {
    while matches!(v.last(), Some(b'\n' | b'\r')) {
        v.pop();
    }
    let lead = v.iter().take_while(|b| matches!(b, b'\n' | b'\r')).count();
    let breaks = v[..lead].iter().filter(|b| **b == b'\n').count() as u64;
    v.drain(..lead);
    (v, breaks)
}

/// Streams JSON-lines records. Identifiers must be strings (a number would have lost its
/// leading zeros before we saw it); counts and amounts may be numbers.
pub struct JsonlSource<R: BufRead> {
    reader: R,
    schema: &'static fanzha_core::schema::Schema,
    /// The last line read (1-based).
    pub line: u64,
    /// Bytes read so far.
    pub position: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> JsonlSource<R> {
    /// A source of `kind` records: the contract says which fields must be strings.
    pub fn new(reader: R, kind: fanzha_core::schema::Kind) -> Self {
        JsonlSource {
            reader,
            schema: kind.schema(),
            line: 0,
            position: 0,
            buf: Vec::new(),
        }
    }

    /// The next non-blank line as (field name, value) pairs.
    #[allow(clippy::type_complexity)]
    pub fn next_object(
        &mut self,
    ) -> Option<io::Result<Result<(u64, Vec<u8>, Vec<(String, String)>), ReadReject>>> {
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(n) => {
                    self.line += 1;
                    self.position += n as u64;
                }
                Err(e) => return Some(Err(e)),
            }
            let (mut original, _) = trim_record(std::mem::take(&mut self.buf));
            if self.line == 1 && original.starts_with(b"\xEF\xBB\xBF") {
                // A byte-order mark is an encoding detail, not part of the first record.
                original.drain(..3);
            }
            if original.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line = self.line;
            let reject = |field: Option<&str>, reason: String| {
                Some(Ok(Err(ReadReject {
                    line,
                    original: original.clone(),
                    field: field.map(str::to_owned),
                    reason,
                })))
            };
            let value: serde_json::Value = match serde_json::from_slice(&original) {
                Ok(v) => v,
                Err(e) => return reject(None, format!("is not valid JSON: {e}")),
            };
            let serde_json::Value::Object(map) = value else {
                return reject(None, "is not a JSON object".to_owned());
            };
            let mut fields = Vec::with_capacity(map.len());
            for (k, v) in map {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => String::new(),
                    // Columns outside the contract have no meaning and are kept as given.
                    other if !self.schema.is_known_field(&k) => other.to_string(),
                    serde_json::Value::Number(n) if fanzha_core::schema::JSON_NUMERIC_FIELDS.contains(&k.as_str()) => n.to_string(),
                    serde_json::Value::Number(_) => {
                        return reject(Some(&k), format!(
                            "field `{k}` is a JSON number; identifiers must be strings (a number loses leading zeros)"
                        ))
                    }
                    other => {
                        return reject(Some(&k), format!("field `{k}` must be a string, got {}", json_type(&other)))
                    }
                };
                fields.push((k, text));
            }
            return Some(Ok(Ok((line, original, fields))));
        }
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn originals_are_cut_exactly_even_with_quoted_newlines() {
        let data = b"a,b\n1,\"x\ny\"\n2,z\r\n3,w";
        let mut src = CsvSource::new(&data[..], Encoding::Utf8).unwrap().unwrap();
        let r1 = src.next_record().unwrap().ok().unwrap();
        assert_eq!((r1.line, r1.original.as_slice()), (2, &b"1,\"x\ny\""[..]));
        assert_eq!(r1.fields, vec!["1", "x\ny"]);
        let r2 = src.next_record().unwrap().ok().unwrap();
        assert_eq!((r2.line, r2.original.as_slice()), (4, &b"2,z"[..]));
        let r3 = src.next_record().unwrap().ok().unwrap();
        assert_eq!(r3.original, b"3,w");
        assert!(src.next_record().is_none());
    }

    #[test]
    fn line_numbers_survive_crlf_and_blank_lines() {
        let lines = |data: &[u8]| {
            let mut src = CsvSource::new(data, Encoding::Utf8).unwrap().unwrap();
            let mut v = Vec::new();
            while let Some(Ok(r)) = src.next_record() {
                v.push((r.line, String::from_utf8(r.original).unwrap()));
            }
            v
        };
        let want = vec![(2, "1,x".to_owned()), (3, "2,y".to_owned())];
        assert_eq!(lines(b"a,b\n1,x\n2,y\n"), want);
        assert_eq!(lines(b"a,b\r\n1,x\r\n2,y\r\n"), want);
        assert_eq!(
            lines(b"a,b\n\n\n1,x\n\n2,y\n"),
            vec![(4, "1,x".to_owned()), (6, "2,y".to_owned())]
        );
        assert_eq!(lines(b"a,b\r\n\r\n1,x\r\n"), vec![(3, "1,x".to_owned())]);
    }

    #[test]
    fn gbk_is_detected_and_decoded() {
        let (bytes, _, _) = encoding_rs::GBK.encode("户名,金额\n张三,100\n");
        assert_eq!(Encoding::detect(&bytes), Encoding::Gbk);
        let mut src = CsvSource::new(&bytes[..], Encoding::Gbk).unwrap().unwrap();
        assert_eq!(src.header, vec!["户名", "金额"]);
        let r = src.next_record().unwrap().ok().unwrap();
        assert_eq!(r.fields, vec!["张三", "100"]);
    }

    #[test]
    fn a_cut_utf8_character_at_the_sample_end_is_still_utf8() {
        let s = "张三".as_bytes();
        assert_eq!(Encoding::detect(&s[..4]), Encoding::Utf8);
    }

    #[test]
    fn json_numbers_are_refused_for_identifiers() {
        let data = b"\xEF\xBB\xBF{\"tx_id\": 123, \"amount_fen\": 5}\n\n{\"tx_id\": \"007\", \"amount_fen\": 5, \"note\": 7}\n";
        let mut src = JsonlSource::new(&data[..], fanzha_core::schema::Kind::Transactions);
        let Some(Ok(Err(r))) = src.next_object() else {
            panic!("expected a rejection")
        };
        assert!(r.reason.contains("tx_id"), "{}", r.reason);
        let Some(Ok(Ok((line, _, fields)))) = src.next_object() else {
            panic!("expected a record")
        };
        assert_eq!(line, 3);
        assert!(fields.contains(&("tx_id".to_owned(), "007".to_owned())));
        assert!(
            fields.contains(&("note".to_owned(), "7".to_owned())),
            "an extra is kept whatever its type"
        );
        assert!(
            fields.contains(&("note".to_owned(), "7".to_owned())),
            "an extra is kept whatever its type"
        );
    }
}
