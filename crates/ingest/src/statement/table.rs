//! Finding a statement's table in a sheet: the header block of labelled values above it, the
//! header row, and which column holds which field.
//!
//! Nothing here assumes positions: banks put the block, the table and the columns wherever
//! they like, so everything is found by the names the profile lists.

use std::collections::BTreeMap;

use crate::grid::{Cell, Sheet};

use super::profile::Profile;

/// A logical column of a statement table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Date,
    Time,
    DateTime,
    Amount,
    Direction,
    Debit,
    Credit,
    Balance,
    CounterpartyAccount,
    CounterpartyName,
    CounterpartyBank,
    Memo,
    Channel,
    Serial,
    Ip,
    Mac,
    Device,
    OwnerAccount,
    OwnerName,
}

impl Field {
    fn from_profile_name(name: &str) -> Option<Field> {
        Some(match name {
            "date" => Field::Date,
            "time" => Field::Time,
            "datetime" => Field::DateTime,
            "amount" => Field::Amount,
            "direction" => Field::Direction,
            "debit" => Field::Debit,
            "credit" => Field::Credit,
            "balance" => Field::Balance,
            "counterparty_account" => Field::CounterpartyAccount,
            "counterparty_name" => Field::CounterpartyName,
            "counterparty_bank" => Field::CounterpartyBank,
            "memo" => Field::Memo,
            "channel" => Field::Channel,
            "serial" => Field::Serial,
            "ip" => Field::Ip,
            "mac" => Field::Mac,
            "device" => Field::Device,
            "owner_account" => Field::OwnerAccount,
            "owner_name" => Field::OwnerName,
            _ => return None,
        })
    }
}

/// Compares names the way banks vary them: without whitespace, without a trailing colon or a
/// trailing unit in brackets (`交易金额(元)`), and without case.
pub fn normalise_name(s: &str) -> String {
    let mut t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    loop {
        let before = t.len();
        t = t.trim_end_matches([':', '：']).to_owned();
        for (open, close) in [('(', ')'), ('（', '）'), ('[', ']'), ('【', '】')] {
            if t.ends_with(close) {
                if let Some(i) = t.rfind(open) {
                    // Only a suffix: `(元)` goes, but a name that is all brackets stays.
                    if i > 0 {
                        t.truncate(i);
                    }
                }
            }
        }
        if t.len() == before {
            break;
        }
    }
    t.to_lowercase()
}

/// Column names the profile knows, normalised, to the field they name.
pub struct ColumnNames {
    names: BTreeMap<String, Field>,
}

impl ColumnNames {
    pub fn new(profile: &Profile) -> Self {
        let mut names = BTreeMap::new();
        for (field, list) in profile.columns.fields() {
            let Some(f) = Field::from_profile_name(field) else {
                continue;
            };
            for n in list {
                names.entry(normalise_name(n)).or_insert(f);
            }
        }
        ColumnNames { names }
    }

    pub fn field_of(&self, cell: &Cell) -> Option<Field> {
        match cell {
            Cell::Text(s) => self.names.get(&normalise_name(s)).copied(),
            _ => None,
        }
    }

    /// Whether a row names a date or an amount column, as every statement table's header does.
    pub fn has_anchor(&self, row: &[Cell]) -> bool {
        row.iter().filter_map(|c| self.field_of(c)).any(|f| {
            matches!(
                f,
                Field::Date
                    | Field::Time
                    | Field::DateTime
                    | Field::Amount
                    | Field::Debit
                    | Field::Credit
            )
        })
    }

    /// How many different known fields a row names.
    pub fn count_in(&self, row: &[Cell]) -> usize {
        let mut fields: Vec<Field> = row.iter().filter_map(|c| self.field_of(c)).collect();
        fields.sort_unstable();
        fields.dedup();
        fields.len()
    }
}

/// The values of the header block above the table.
#[derive(Debug, Clone, Default)]
pub struct HeaderBlock {
    pub account: Option<String>,
    pub name: Option<String>,
    pub bank: Option<String>,
    pub period: Option<String>,
    /// The label the account was given under, as the sheet writes it (`卡号`, `账号/卡号`):
    /// a card label means the value must be a card number.
    pub account_label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Account,
    Name,
    Bank,
    Period,
}

struct Labels {
    /// (normalised synonym, label), longest synonyms first so `账户名称` wins over `账户`.
    synonyms: Vec<(String, Label)>,
}

impl Labels {
    fn new(profile: &Profile) -> Self {
        let mut synonyms = Vec::new();
        for (label, list) in [
            (Label::Account, &profile.labels.account),
            (Label::Name, &profile.labels.name),
            (Label::Bank, &profile.labels.bank),
            (Label::Period, &profile.labels.period),
        ] {
            for s in list {
                let n = normalise_name(s);
                if !n.is_empty() {
                    synonyms.push((n, label));
                }
            }
        }
        synonyms.sort_by_key(|s| std::cmp::Reverse(s.0.chars().count()));
        Labels { synonyms }
    }

    /// A whole cell that is a label, possibly several names joined by `/` (`账号/卡号`).
    fn whole(&self, text: &str) -> Option<Label> {
        let n = normalise_name(text);
        if n.is_empty() {
            return None;
        }
        let exact = |part: &str| {
            self.synonyms
                .iter()
                .find(|(s, _)| s == part)
                .map(|(_, l)| *l)
        };
        exact(&n).or_else(|| {
            let parts: Vec<&str> = n
                .split(['/', '／', '、', '|'])
                .filter(|p| !p.is_empty())
                .collect();
            if parts.len() < 2 {
                return None;
            }
            // All parts must name the same label, or the cell is not one label.
            let first = exact(parts[0])?;
            parts[1..]
                .iter()
                .all(|p| exact(p) == Some(first))
                .then_some(first)
        })
    }

    /// `label：value` pairs inside one cell's text (`账号：6222… 户名：张三`), each with the
    /// label as written. A pair whose value is empty takes its value from the next cell.
    fn inline(&self, text: &str) -> Vec<(Label, String, String)> {
        let chars: Vec<char> = text.chars().collect();
        // One lower-case char per char, so positions in `lower` are positions in `chars`.
        let lower: Vec<char> = chars
            .iter()
            .map(|c| c.to_lowercase().next().unwrap_or(*c))
            .collect();
        // (start, end of the colon, label, end of the label's name)
        let mut hits: Vec<(usize, usize, Label, usize)> = Vec::new();
        let mut i = 0;
        while i < lower.len() {
            let boundary =
                i == 0 || !lower[i - 1].is_alphanumeric() || is_label_separator(lower[i - 1]);
            let mut found = None;
            if boundary {
                for (syn, label) in &self.synonyms {
                    let s: Vec<char> = syn.chars().collect();
                    if lower[i..].starts_with(&s) {
                        let mut j = i + s.len();
                        while j < lower.len() && lower[j].is_whitespace() {
                            j += 1;
                        }
                        if j < lower.len() && (lower[j] == ':' || lower[j] == '：') {
                            found = Some((i, j + 1, *label, i + s.len()));
                            break;
                        }
                    }
                }
            }
            match found {
                Some(h) => {
                    hits.push(h);
                    i = h.1;
                }
                None => i += 1,
            }
        }
        let mut out = Vec::with_capacity(hits.len());
        for (k, &(start, value_start, label, name_end)) in hits.iter().enumerate() {
            let value_end = hits.get(k + 1).map_or(chars.len(), |h| h.0);
            let value: String = chars[value_start..value_end].iter().collect();
            let name: String = chars[start..name_end].iter().collect();
            out.push((label, name, value.trim().to_owned()));
        }
        out
    }
}

fn is_label_separator(c: char) -> bool {
    matches!(c, '/' | '／' | '、' | '|')
}

impl HeaderBlock {
    fn set(&mut self, label: Label, name: &str, value: String) {
        let slot = match label {
            Label::Account => &mut self.account,
            Label::Name => &mut self.name,
            Label::Bank => &mut self.bank,
            Label::Period => &mut self.period,
        };
        // The first value wins: a page header repeated further down restates it.
        if slot.is_none() && !value.is_empty() {
            *slot = Some(value);
            if label == Label::Account {
                self.account_label = Some(name.trim().to_owned());
            }
        }
    }

    /// Reads labelled values from `rows` (those above the table).
    pub fn read(rows: &[Vec<Cell>], profile: &Profile) -> HeaderBlock {
        let labels = Labels::new(profile);
        let mut block = HeaderBlock::default();
        for row in rows {
            let texts: Vec<String> = row.iter().map(Cell::text).collect();
            let mut j = 0;
            while j < texts.len() {
                let text = &texts[j];
                if text.is_empty() {
                    j += 1;
                    continue;
                }
                let pairs = match labels.whole(text) {
                    Some(l) => vec![(l, text.clone(), String::new())],
                    None => labels.inline(text),
                };
                let mut next = j + 1;
                for (k, (label, name, value)) in pairs.iter().enumerate() {
                    if !value.is_empty() {
                        block.set(*label, name, value.clone());
                        continue;
                    }
                    if k + 1 != pairs.len() {
                        continue;
                    }
                    // `账号` | `6222…`: the value is the next non-empty cell, unless that cell
                    // is itself a label (the value was left blank).
                    if let Some(v) = (j + 1..texts.len()).find(|&v| !texts[v].is_empty()) {
                        let t = &texts[v];
                        if labels.whole(t).is_none() && labels.inline(t).is_empty() {
                            block.set(*label, name, t.clone());
                            next = v + 1;
                        }
                    }
                }
                j = next;
            }
        }
        block
    }
}

/// Where each field's column is, and the columns no field claims.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    pub at: BTreeMap<Field, usize>,
    /// Unclaimed columns: (header text, index).
    pub extras: Vec<(String, usize)>,
    /// The header text of each column.
    pub names: Vec<String>,
}

impl Columns {
    pub fn get(&self, f: Field) -> Option<usize> {
        self.at.get(&f).copied()
    }

    /// The column's name as the sheet gives it, for messages and rejections.
    pub fn name(&self, f: Field) -> Option<&str> {
        self.get(f)
            .and_then(|i| self.names.get(i))
            .map(String::as_str)
    }
}

/// What a sheet holds.
pub enum Found {
    /// No row looks like a statement table's header.
    NoTable,
    /// A table, with the header row's index.
    Table {
        header_at: usize,
        columns: Columns,
        block: HeaderBlock,
    },
}

/// Looks for the table's header row and maps its columns.
pub fn find_table(sheet: &Sheet, profile: &Profile, names: &ColumnNames) -> Found {
    let limit = sheet.rows.len().min(profile.header_search_rows.max(1));
    let candidates: Vec<usize> = (0..limit)
        .filter(|&i| names.count_in(&sheet.rows[i]) >= profile.header_min_columns)
        .collect();
    // A header block line can hold enough known names too (`卡号 | … | 户名 | … | 余额 | …`);
    // a table's header names a date or an amount. Without such a row, the first candidate is
    // taken so the missing column can be reported.
    let anchored = candidates
        .iter()
        .copied()
        .find(|&i| names.has_anchor(&sheet.rows[i]));
    let Some(header_at) = anchored.or_else(|| candidates.first().copied()) else {
        return Found::NoTable;
    };
    let header = &sheet.rows[header_at];
    let mut columns = Columns {
        names: header.iter().map(Cell::text).collect(),
        ..Columns::default()
    };
    for (i, cell) in header.iter().enumerate() {
        let text = cell.text();
        if text.is_empty() {
            continue;
        }
        match names.field_of(cell) {
            Some(f) if !columns.at.contains_key(&f) => {
                columns.at.insert(f, i);
            }
            Some(f) => {
                // Two columns for one field: the first is used and the second kept as an extra,
                // so nothing is lost and nothing is guessed.
                tracing::warn!(sheet = %fanzha_core::mask::digits_in_text(&sheet.name), column = %text, field = ?f, "a second column for the same field; kept as an extra");
                columns.extras.push((text, i));
            }
            None => columns.extras.push((text, i)),
        }
    }
    // `交易时间` may hold the time beside a date column or the whole date and time: with no date
    // column it is the latter.
    if !columns.at.contains_key(&Field::Date) && !columns.at.contains_key(&Field::DateTime) {
        if let Some(i) = columns.at.remove(&Field::Time) {
            columns.at.insert(Field::DateTime, i);
        }
    }
    let block = HeaderBlock::read(&sheet.rows[..header_at], profile);
    Found::Table {
        header_at,
        columns,
        block,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_row(cells: &[&str]) -> Vec<Cell> {
        cells
            .iter()
            .map(|s| {
                if s.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text((*s).to_owned())
                }
            })
            .collect()
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalise_name(" 交易金额（元）"), "交易金额");
        assert_eq!(normalise_name("交易 金额(元):"), "交易金额");
        assert_eq!(normalise_name("IP地址"), "ip地址");
    }

    #[test]
    fn header_block_labels_in_either_style() {
        let p = Profile::default_bundled().unwrap();
        let rows = vec![
            text_row(&["账号/卡号", "6212263100001234561", "", "户名", "陈某某"]),
            text_row(&[
                "开户行：某银行重庆渝中支行",
                "查询期间:",
                "",
                "2026-03-01 至 2026-03-03",
            ]),
        ];
        let b = HeaderBlock::read(&rows, &p);
        assert_eq!(b.account.as_deref(), Some("6212263100001234561"));
        assert_eq!(b.account_label.as_deref(), Some("账号/卡号"));
        assert_eq!(b.name.as_deref(), Some("陈某某"));
        assert_eq!(b.bank.as_deref(), Some("某银行重庆渝中支行"));
        assert_eq!(b.period.as_deref(), Some("2026-03-01 至 2026-03-03"));
    }

    #[test]
    fn a_header_block_line_with_known_names_is_not_the_table() {
        let p = Profile::default_bundled().unwrap();
        let names = ColumnNames::new(&p);
        let sheet = Sheet {
            name: "s".into(),
            first_row: 1,
            lines: None,
            rows: vec![
                text_row(&[
                    "卡号",
                    "6222021234567890128",
                    "户名",
                    "张三",
                    "余额",
                    "100.00",
                ]),
                text_row(&["交易日期", "交易金额", "借贷标志", "对方账号"]),
            ],
        };
        let Found::Table {
            header_at, block, ..
        } = find_table(&sheet, &p, &names)
        else {
            panic!("no table found")
        };
        assert_eq!(header_at, 1);
        assert_eq!(block.account.as_deref(), Some("6222021234567890128"));
    }

    #[test]
    fn several_labels_in_one_cell() {
        let p = Profile::default_bundled().unwrap();
        let rows = vec![text_row(&[
            "客户账号：6222021234567890128  账户名称：张三 开户网点：某支行",
        ])];
        let b = HeaderBlock::read(&rows, &p);
        assert_eq!(b.account.as_deref(), Some("6222021234567890128"));
        assert_eq!(b.account_label.as_deref(), Some("客户账号"));
        assert_eq!(b.name.as_deref(), Some("张三"));
        assert_eq!(b.bank.as_deref(), Some("某支行"));
    }

    #[test]
    fn a_blank_value_does_not_take_the_next_label() {
        let p = Profile::default_bundled().unwrap();
        let rows = vec![text_row(&["户名", "", "开户行", "某行"])];
        let b = HeaderBlock::read(&rows, &p);
        assert_eq!(b.name, None);
        assert_eq!(b.bank.as_deref(), Some("某行"));
    }
}
