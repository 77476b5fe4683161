//! Writing records as CSV or JSON lines with exactly the field names of DATA.md (taken from
//! `fanzha_core::schema`, so the contract has one source), fast: rows are built into byte
//! buffers with hand-written number and time formatting and no allocation per record, and
//! files are written through large buffered writers.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use fanzha_core::schema::Kind;
// Fields a JSON-lines record may carry as numbers (ingest accepts numbers only there).
use fanzha_core::schema::JSON_NUMERIC_FIELDS as NUMERIC;

use crate::clock;
use crate::config::Format;
use crate::event::*;
use crate::ident;
use crate::world::World;
use crate::SimError;

/// One kind's rows, built into a byte buffer.
pub struct Rows {
    format: Format,
    fields: Vec<&'static str>,
    numeric: Vec<bool>,
    pub buf: Vec<u8>,
    col: usize,
    pub count: u64,
    itoa: itoa::Buffer,
}

impl Rows {
    /// Rows of a data kind: its required fields, then its optional ones.
    pub fn for_kind(kind: Kind, format: Format) -> Rows {
        let s = kind.schema();
        let fields = s.required.iter().chain(s.optional).copied().collect();
        Rows::with_fields(fields, format)
    }

    pub fn with_fields(fields: Vec<&'static str>, format: Format) -> Rows {
        let numeric = fields.iter().map(|f| NUMERIC.contains(f)).collect();
        Rows {
            format,
            fields,
            numeric,
            buf: Vec::new(),
            col: 0,
            count: 0,
            itoa: itoa::Buffer::new(),
        }
    }

    /// The CSV header line (nothing for JSON lines).
    pub fn header(&self) -> Vec<u8> {
        match self.format {
            Format::Csv => {
                let mut h = self.fields.join(",").into_bytes();
                h.push(b'\n');
                h
            }
            Format::Jsonl => Vec::new(),
        }
    }

    fn open(&mut self, quoted: bool) {
        match self.format {
            Format::Csv => {
                if self.col > 0 {
                    self.buf.push(b',');
                }
            }
            Format::Jsonl => {
                self.buf.push(if self.col == 0 { b'{' } else { b',' });
                self.buf.push(b'"');
                self.buf.extend_from_slice(self.fields[self.col].as_bytes());
                self.buf.extend_from_slice(b"\":");
                if quoted {
                    self.buf.push(b'"');
                }
            }
        }
    }

    fn close(&mut self, quoted: bool) {
        if self.format == Format::Jsonl && quoted {
            self.buf.push(b'"');
        }
        self.col += 1;
    }

    /// A text field, quoted or escaped as the format needs.
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// A text field known to need no quoting or escaping (identifiers, numbers, the fixed
    /// vocabularies and texts of [`crate::event`]): the hot path skips the scan.
    pub fn plain(&mut self, s: &str) {
        debug_assert!(
            !s.bytes()
                .any(|b| matches!(b, b',' | b'"' | b'\\' | b'\n' | b'\r')),
            "{s}"
        );
        self.open(true);
        self.buf.extend_from_slice(s.as_bytes());
        self.close(true);
    }

    pub fn bytes(&mut self, s: &[u8]) {
        self.open(true);
        match self.format {
            Format::Csv => {
                if s.iter().any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
                    self.buf.push(b'"');
                    for &b in s {
                        if b == b'"' {
                            self.buf.push(b'"');
                        }
                        self.buf.push(b);
                    }
                    self.buf.push(b'"');
                } else {
                    self.buf.extend_from_slice(s);
                }
            }
            Format::Jsonl => {
                for &b in s {
                    match b {
                        b'"' => self.buf.extend_from_slice(b"\\\""),
                        b'\\' => self.buf.extend_from_slice(b"\\\\"),
                        0..=0x1F => {
                            let hex = b"0123456789abcdef";
                            self.buf.extend_from_slice(b"\\u00");
                            self.buf.push(hex[usize::from(b >> 4)]);
                            self.buf.push(hex[usize::from(b & 0xF)]);
                        }
                        _ => self.buf.push(b),
                    }
                }
            }
        }
        self.close(true);
    }

    /// An integer: a JSON number where ingest accepts one, else digits in a string.
    pub fn int(&mut self, v: i64) {
        let quoted = !self.numeric[self.col];
        self.open(quoted);
        self.buf.extend_from_slice(self.itoa.format(v).as_bytes());
        self.close(quoted);
    }

    pub fn ts(&mut self, t: i64) {
        self.open(true);
        self.buf.extend_from_slice(&clock::rfc3339(t));
        self.close(true);
    }

    pub fn opt_ts(&mut self, t: Option<i64>) {
        match t {
            Some(t) => self.ts(t),
            None => self.empty(),
        }
    }

    pub fn empty(&mut self) {
        self.open(true);
        self.close(true);
    }

    /// An id made of a prefix, the day's date and a sequence number: `T2026030100000042`.
    pub fn day_id(&mut self, prefix: &[u8], date: &[u8; 8], seq: u64) {
        self.open(true);
        self.buf.extend_from_slice(prefix);
        self.buf.extend_from_slice(date);
        let digits = self.itoa.format(seq);
        for _ in digits.len()..8 {
            self.buf.push(b'0');
        }
        self.buf.extend_from_slice(digits.as_bytes());
        self.close(true);
    }

    pub fn ip(&mut self, ip: u32) {
        if ip == 0 {
            return self.empty();
        }
        self.open(true);
        ident::write_ip(&mut self.buf, ip);
        self.close(true);
    }

    pub fn end(&mut self) {
        debug_assert_eq!(self.col, self.fields.len(), "a row must fill every field");
        if self.format == Format::Jsonl {
            self.buf.push(b'}');
        }
        self.buf.push(b'\n');
        self.col = 0;
        self.count += 1;
    }
}

/// The date part of a day's ids.
pub fn day_date(d: u32) -> [u8; 8] {
    let s = clock::yyyymmdd(clock::START + i64::from(d) * clock::DAY);
    let mut out = [b'0'; 8];
    out.copy_from_slice(&s.as_bytes()[..8]);
    out
}

fn party(w: &World, p: u32) -> &str {
    if p & EXTERNAL != 0 {
        &w.externals[(p & !EXTERNAL) as usize]
    } else {
        &w.sims[p as usize].msisdn
    }
}

fn opt_place(r: &mut Rows, w: &World, place: u32) {
    if place == NONE {
        r.empty();
    } else {
        r.plain(&w.places[place as usize].id);
    }
}

fn opt_account(r: &mut Rows, w: &World, a: u32) {
    if a == NONE {
        r.empty();
    } else {
        r.plain(&w.accounts[a as usize].id);
    }
}

fn opt_device(r: &mut Rows, w: &World, d: u32) {
    if d == NONE {
        r.empty();
    } else {
        r.plain(&w.devices[d as usize].id);
    }
}

/// One day's hot kinds, formatted.
pub struct DayRows {
    pub txs: Rows,
    pub calls: Rows,
    pub sms: Rows,
    pub logins: Rows,
    pub apps: Rows,
}

/// Formats a sorted day. Ids are the day's date and the record's position in the day, so a
/// day is formatted on its own thread without knowing how many records earlier days held.
pub fn format_day(w: &World, format: Format, d: u32, day: &Day) -> DayRows {
    let date = day_date(d);
    let mut txs = Rows::for_kind(Kind::Transactions, format);
    txs.buf.reserve(day.txs.len() * 150);
    for (i, t) in day.txs.iter().enumerate() {
        txs.day_id(b"T", &date, i as u64 + 1);
        txs.ts(t.ts);
        opt_account(&mut txs, w, t.from);
        opt_account(&mut txs, w, t.to);
        txs.int(t.amount);
        txs.plain(t.channel.as_str());
        txs.plain(MEMOS[usize::from(t.memo)]);
        opt_device(&mut txs, w, t.device);
        txs.ip(t.ip);
        opt_place(&mut txs, w, t.cell);
        txs.end();
    }
    let mut calls = Rows::for_kind(Kind::Calls, format);
    calls.buf.reserve(day.calls.len() * 120);
    for (i, c) in day.calls.iter().enumerate() {
        calls.day_id(b"C", &date, i as u64 + 1);
        calls.ts(c.ts);
        calls.plain(party(w, c.caller));
        calls.plain(party(w, c.callee));
        calls.int(i64::from(c.duration));
        calls.plain(if c.video { "video" } else { "voice" });
        opt_place(&mut calls, w, c.cell);
        if c.device == NONE {
            calls.empty();
        } else {
            calls.plain(&w.devices[c.device as usize].imei);
        }
        calls.end();
    }
    let mut sms = Rows::for_kind(Kind::Sms, format);
    sms.buf.reserve(day.sms.len() * 110);
    for (i, s) in day.sms.iter().enumerate() {
        sms.day_id(b"S", &date, i as u64 + 1);
        sms.ts(s.ts);
        sms.plain(party(w, s.sender));
        sms.plain(party(w, s.receiver));
        sms.plain(SMS_TEXTS[usize::from(s.text)]);
        opt_place(&mut sms, w, s.cell);
        sms.end();
    }
    let mut logins = Rows::for_kind(Kind::Logins, format);
    for (i, l) in day.logins.iter().enumerate() {
        logins.day_id(b"LG", &date, i as u64 + 1);
        logins.ts(l.ts);
        if l.subject & SUBJECT_SIM != 0 {
            logins.plain(&w.sims[(l.subject & !SUBJECT_SIM) as usize].msisdn);
        } else {
            logins.plain(&w.accounts[l.subject as usize].id);
        }
        opt_device(&mut logins, w, l.device);
        logins.ip(l.ip);
        opt_place(&mut logins, w, l.cell);
        logins.end();
    }
    let mut apps = Rows::for_kind(Kind::AppEvents, format);
    for (i, a) in day.apps.iter().enumerate() {
        apps.day_id(b"AE", &date, i as u64 + 1);
        apps.ts(a.ts);
        apps.plain(&w.sims[a.sim as usize].msisdn);
        apps.plain(["install", "uninstall", "open"][usize::from(a.event.min(2))]);
        let (name, label) = APPS[usize::from(a.app)];
        apps.plain(name);
        apps.plain(label);
        apps.end();
    }
    DayRows {
        txs,
        calls,
        sms,
        logins,
        apps,
    }
}

/// An output file being written.
pub struct Sink {
    pub path: PathBuf,
    out: BufWriter<File>,
    pub rows: u64,
    pub bytes: u64,
}

impl Sink {
    pub fn create(dir: &Path, stem: &str, ext: &str, header: &[u8]) -> Result<Sink, SimError> {
        let path = dir.join(format!("{stem}.{ext}"));
        let file = File::create(&path).map_err(|source| SimError::Io {
            path: path.clone(),
            source,
        })?;
        let mut s = Sink {
            path,
            out: BufWriter::with_capacity(1 << 20, file),
            rows: 0,
            bytes: 0,
        };
        s.write(header, 0)?;
        Ok(s)
    }

    pub fn write(&mut self, bytes: &[u8], rows: u64) -> Result<(), SimError> {
        self.out.write_all(bytes).map_err(|source| SimError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.rows += rows;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    pub fn write_rows(&mut self, rows: &Rows) -> Result<(), SimError> {
        self.write(&rows.buf, rows.count)
    }

    pub fn finish(mut self) -> Result<(u64, u64), SimError> {
        self.out.flush().map_err(|source| SimError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok((self.rows, self.bytes))
    }
}

/// Writes a whole small kind in one go.
pub fn write_kind(
    dir: &Path,
    kind: Kind,
    format: Format,
    fill: impl FnOnce(&mut Rows),
) -> Result<(u64, u64), SimError> {
    let mut rows = Rows::for_kind(kind, format);
    fill(&mut rows);
    let mut sink = Sink::create(dir, kind.as_str(), format.extension(), &rows.header())?;
    sink.write_rows(&rows)?;
    sink.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed_and_json_escapes() {
        let mut r = Rows::with_fields(vec!["a", "amount_fen", "c"], Format::Csv);
        r.str("x,y");
        r.int(42);
        r.str("plain");
        r.end();
        assert_eq!(r.buf, b"\"x,y\",42,plain\n");
        let mut j = Rows::with_fields(vec!["a", "amount_fen", "c"], Format::Jsonl);
        j.str("say \"hi\"");
        j.int(42);
        j.int(7);
        j.end();
        assert_eq!(
            String::from_utf8_lossy(&j.buf),
            "{\"a\":\"say \\\"hi\\\"\",\"amount_fen\":42,\"c\":\"7\"}\n"
        );
    }
}
