//! Spreadsheets as grids of cells: every sheet of an XLSX workbook (via calamine), or a CSV
//! file seen as a one-sheet grid, so statement profiles read either the same way.

use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};

/// One cell, typed as the workbook typed it. Numbers stay numbers: whether one is an
/// amount or an Excel serial date is for the reader of the column to decide.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// An Excel serial date-time (days since 1899-12-30), as the cell was formatted.
    Date(f64),
    Bool(bool),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// A number cell with more digits than a spreadsheet keeps exactly (15 significant
    /// digits): whatever it once was, its last digits are gone.
    pub fn is_inexact_number(&self) -> bool {
        matches!(self, Cell::Number(n) if n.abs() >= 1e15)
    }

    /// The cell as text: whole numbers without a decimal point (so an account number typed
    /// as a number is not turned into `6.2e18`-style or `123.0` text).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_owned(),
            Cell::Number(n) | Cell::Date(n) => format_number(*n),
            Cell::Bool(b) => b.to_string(),
        }
    }

    /// Like [`Cell::text`], but a text cell exactly as given, spaces included: what a
    /// record of a plain kind holds, so a workbook is checked as strictly as a CSV file
    /// (an identifier padded with spaces is refused, not silently trimmed).
    pub fn exact_text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            other => other.text(),
        }
    }
}

pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A sheet: its name and rows of cells; `first_row` is the 1-based row number of `rows[0]`.
///
/// A workbook's rows follow one another, so row `i` is on line `first_row + i`. A CSV file's
/// records do not: the reader skips blank lines and a quoted cell may span several lines, so a
/// sheet read from CSV carries each row's own 1-based line in `lines`.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: String,
    pub first_row: u64,
    pub rows: Vec<Vec<Cell>>,
    /// The 1-based line each row starts on, when rows are not consecutive lines (CSV).
    pub lines: Option<Vec<u64>>,
}

impl Sheet {
    /// A row as it would look in a CSV file: what the quarantine keeps as the original.
    pub fn row_as_csv(&self, index: usize) -> Vec<u8> {
        let cells: Vec<String> = self
            .rows
            .get(index)
            .map(|r| r.iter().map(Cell::text).collect())
            .unwrap_or_default();
        fields_as_csv(&cells)
    }

    /// The 1-based line (a workbook's row number, a CSV file's line) of row `index`.
    pub fn line_of(&self, index: usize) -> u64 {
        match self.lines.as_ref().and_then(|l| l.get(index)) {
            Some(&line) => line,
            None => self.first_row + index as u64,
        }
    }
}

/// Fields as one CSV line, without its terminator.
pub fn fields_as_csv(fields: &[String]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(fields);
    let mut out = w.into_inner().unwrap_or_default();
    if out.last() == Some(&b'\n') {
        out.pop();
    }
    out
}

/// Reads every sheet of a workbook (xlsx, xls, ods).
pub fn read_workbook(path: &Path) -> Result<Vec<Sheet>, String> {
    let mut wb = open_workbook_auto(path).map_err(|e| format!("not a readable workbook: {e}"))?;
    let names = wb.sheet_names().to_vec();
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| format!("sheet `{name}`: {e}"))?;
        let first_row = range.start().map_or(1, |(r, _)| u64::from(r) + 1);
        let first_col = range.start().map_or(0, |(_, c)| c as usize);
        let rows = range
            .rows()
            .map(|r| {
                // Keep column positions absolute so a table that starts in column B lines up.
                let mut cells = vec![Cell::Empty; first_col];
                cells.extend(r.iter().map(to_cell));
                cells
            })
            .collect();
        sheets.push(Sheet {
            name,
            first_row,
            rows,
            lines: None,
        });
    }
    Ok(sheets)
}

fn to_cell(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => Cell::Date(dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

/// A CSV file (already decoded) as a one-sheet grid of text cells.
pub fn csv_as_sheet(name: &str, text: &str) -> Result<Sheet, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    // Where each record starts: blank lines are skipped and a quoted cell may hold line
    // breaks, so a record's index is not its line. csv gives a record's position before the
    // blank lines it skips, so the line is counted here from the record's byte offset.
    let bytes = text.as_bytes();
    let (mut at, mut line) = (0usize, 1u64);
    let advance = |to: usize, at: &mut usize, line: &mut u64| {
        let to = to.clamp(*at, bytes.len());
        *line += bytes[*at..to].iter().filter(|&&b| b == b'\n').count() as u64;
        *at = to;
    };
    for rec in reader.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let start = rec.position().map_or(at, |p| p.byte() as usize);
        advance(start, &mut at, &mut line);
        let first = bytes
            .get(at..)
            .and_then(|rest| rest.iter().position(|&b| b != b'\n' && b != b'\r'))
            .map_or(bytes.len(), |k| at + k);
        advance(first, &mut at, &mut line);
        lines.push(line);
        rows.push(
            rec.iter()
                .map(|s| {
                    if s.is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(s.to_owned())
                    }
                })
                .collect(),
        );
    }
    Ok(Sheet {
        name: name.to_owned(),
        first_row: 1,
        rows,
        lines: Some(lines),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_their_lines() {
        let sheet = csv_as_sheet("s", "a,b\n\nc,\"x\ny\"\nd,e\n").unwrap();
        assert_eq!(sheet.rows.len(), 3);
        assert_eq!(
            (sheet.line_of(0), sheet.line_of(1), sheet.line_of(2)),
            (1, 3, 5)
        );
    }
}
