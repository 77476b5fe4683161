//! The one table component of the console: every list of records is a [`Table`], so every
//! list sorts, filters, pages and exports the same way, with no JavaScript — the state lives
//! in the query string and every control is a link or a GET form.
//!
//! A page builds a table in a few lines:
//!
//! ```ignore
//! let mut t = Table::primary("users", &query, lang)
//!     .column("username", lang.t(M::Username), Align::Left)
//!     .column("created", lang.t(M::Created), Align::Left);
//! for u in users {
//!     t.row(vec![Cell::text(u.username), Cell::time(u.created_at)]);
//! }
//! if let Some(csv) = t.csv_if_requested(&query) { return Ok(csv); }
//! let html = t.render()?; // embed with {{ table|safe }}
//! ```
//!
//! Query parameters (a secondary table on the same page prefixes them with `ID.`):
//! `sort=KEY`, `dir=asc|desc`, `filter=TEXT` (case-insensitive, any cell), `page=N`
//! (1-based), `per=10|25|50|100|200`; `format=csv` exports the primary table (all filtered,
//! sorted rows, not one page), `format=csv&table=ID` another. Rows that tests or the browser
//! suite look for carry a `data-testid` ([`Table::row_with_testid`]); the export link is
//! `data-testid="csv-ID"`.
//!
//! A table whose source pages itself (the audit log) says so with
//! [`Table::paged_by_source`]: its rows are then one page, and sorting and filtering are off
//! (the page offers the source's own filters instead).

use askama::Template;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::format;
use super::i18n::{Lang, M};
use super::query::PageQuery;

/// Page sizes offered.
pub const PAGE_SIZES: [u64; 5] = [10, 25, 50, 100, 200];
pub const DEFAULT_PAGE_SIZE: u64 = 50;

/// Most rows one CSV export carries: enough for any analyst's spreadsheet, bounded so one
/// request cannot ask for the whole audit log.
pub const CSV_MAX_ROWS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone)]
struct Column {
    key: &'static str,
    label: String,
    align: Align,
    sortable: bool,
}

/// How a cell sorts: text by its characters, numbers by value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Int(i64),
    Text(String),
}

/// A small POST form in a cell (disable, revoke, review): a button and hidden fields.
#[derive(Debug, Clone)]
pub struct CellForm {
    pub action: String,
    pub button: String,
    pub fields: Vec<(String, String)>,
    pub csrf: String,
    /// The button's look: `danger` for irreversible actions.
    pub class: &'static str,
}

/// One cell: the text shown (and exported), how it sorts, and optionally a link, a CSS
/// class, or a form.
#[derive(Debug, Clone)]
pub struct Cell {
    pub text: String,
    sort: SortKey,
    pub href: Option<String>,
    pub class: Option<&'static str>,
    pub form: Option<CellForm>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        let text = text.into();
        Cell {
            sort: SortKey::Text(text.to_lowercase()),
            text,
            href: None,
            class: None,
            form: None,
        }
    }

    /// A value masked for display: marked so the page can say which values are masked.
    pub fn masked(text: impl Into<String>) -> Cell {
        Cell::text(text).with_class("masked")
    }

    pub fn count(n: u64) -> Cell {
        Cell {
            sort: SortKey::Int(i64::try_from(n).unwrap_or(i64::MAX)),
            ..Cell::text(format::count(n))
        }
    }

    pub fn int(n: i64) -> Cell {
        Cell {
            sort: SortKey::Int(n),
            ..Cell::text(n.to_string())
        }
    }

    pub fn yuan(fen: i64) -> Cell {
        Cell {
            sort: SortKey::Int(fen),
            ..Cell::text(format::yuan(fen))
        }
    }

    /// UTC microseconds shown in Beijing time.
    pub fn time(micros: i64) -> Cell {
        Cell {
            sort: SortKey::Int(micros),
            ..Cell::text(format::time(micros))
        }
    }

    pub fn empty() -> Cell {
        Cell::text("")
    }

    pub fn with_href(mut self, href: impl Into<String>) -> Cell {
        self.href = Some(href.into());
        self
    }

    pub fn with_class(mut self, class: &'static str) -> Cell {
        self.class = Some(class);
        self
    }

    /// A cell holding a POST button (the text, exported to CSV, is `text`).
    pub fn form(text: impl Into<String>, form: CellForm) -> Cell {
        Cell {
            form: Some(form),
            ..Cell::text(text)
        }
    }
}

#[derive(Debug, Clone)]
struct Row {
    cells: Vec<Cell>,
    testid: Option<String>,
}

/// The table's state as the query string gives it.
#[derive(Debug, Clone)]
struct State {
    sort: Option<String>,
    descending: bool,
    filter: Option<String>,
    page: u64,
    per: u64,
}

/// A table of records: columns, rows of cells, and the state read from the query.
pub struct Table {
    id: &'static str,
    /// `""` for the page's primary table, `"ID."` for the others.
    prefix: String,
    lang: Lang,
    query: PageQuery,
    columns: Vec<Column>,
    rows: Vec<Row>,
    state: State,
    /// Set when the source already paged the rows: how many match in all.
    source_total: Option<u64>,
    empty: String,
    /// No filter box (a short table, such as a profile's attributes).
    compact: bool,
}

impl Table {
    /// The page's main table: its parameters are unprefixed, and `format=csv` exports it.
    pub fn primary(id: &'static str, query: &PageQuery, lang: Lang) -> Table {
        Table::with_prefix(id, String::new(), query, lang)
    }

    /// Another table on the same page, with parameters prefixed `ID.`.
    pub fn secondary(id: &'static str, query: &PageQuery, lang: Lang) -> Table {
        Table::with_prefix(id, format!("{id}."), query, lang)
    }

    fn with_prefix(id: &'static str, prefix: String, query: &PageQuery, lang: Lang) -> Table {
        let p = |name: &str| format!("{prefix}{name}");
        let per = query.number(&p("per"), 1..=u64::MAX, DEFAULT_PAGE_SIZE);
        let state = State {
            sort: query.get(&p("sort")).map(str::to_owned),
            descending: query.get(&p("dir")) == Some("desc"),
            filter: query
                .get(&p("filter"))
                .map(|f| f.chars().take(100).collect::<String>().to_lowercase()),
            page: query.number(&p("page"), 1..=1_000_000, 1),
            per: if PAGE_SIZES.contains(&per) {
                per
            } else {
                DEFAULT_PAGE_SIZE
            },
        };
        Table {
            id,
            prefix,
            lang,
            query: query.clone(),
            columns: Vec::new(),
            rows: Vec::new(),
            state,
            source_total: None,
            empty: lang.t(M::NoRows).to_owned(),
            compact: false,
        }
    }

    /// Adds a sortable column; `key` names it in `sort=` and in the CSV header's order.
    pub fn column(mut self, key: &'static str, label: impl Into<String>, align: Align) -> Table {
        self.columns.push(Column {
            key,
            label: label.into(),
            align,
            sortable: true,
        });
        self
    }

    /// Adds a column that does not sort (buttons, free text).
    pub fn plain_column(mut self, key: &'static str, label: impl Into<String>) -> Table {
        self.columns.push(Column {
            key,
            label: label.into(),
            align: Align::Left,
            sortable: false,
        });
        self
    }

    /// The text shown when there are no rows.
    pub fn empty_text(mut self, text: impl Into<String>) -> Table {
        self.empty = text.into();
        self
    }

    /// Pages of `per` rows unless the query chose a size (a table beside others shows fewer).
    pub fn page_size(mut self, per: u64) -> Table {
        if self.query.get(&self.param("per")).is_none() && PAGE_SIZES.contains(&per) {
            self.state.per = per;
        }
        self
    }

    /// Leaves out the filter box: for a short table that a filter would only clutter.
    pub fn compact(mut self) -> Table {
        self.compact = true;
        self.state.filter = None;
        self
    }

    /// Sorts by `key` (descending if asked) unless the query chose a sort.
    pub fn default_sort(mut self, key: &'static str, descending: bool) -> Table {
        if self.state.sort.is_none() {
            self.state.sort = Some(key.to_owned());
            self.state.descending = descending;
        }
        self
    }

    /// The rows are one page of `per` rows out of `total` that the source selected; see the
    /// module docs.
    pub fn paged_by_source(mut self, total: u64, per: u64) -> Table {
        self.source_total = Some(total);
        self.state.per = per.max(1);
        self.state.sort = None;
        self.state.filter = None;
        self
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(Row {
            cells,
            testid: None,
        });
    }

    /// A row with a `data-testid` (tests and the browser suite find rows by it).
    pub fn row_with_testid(&mut self, testid: impl Into<String>, cells: Vec<Cell>) {
        self.rows.push(Row {
            cells,
            testid: Some(testid.into()),
        });
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    fn param(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The rows after filtering and sorting (all of them, not one page).
    fn selected(&self) -> Vec<&Row> {
        let mut rows: Vec<&Row> = match &self.state.filter {
            Some(f) => self
                .rows
                .iter()
                .filter(|r| r.cells.iter().any(|c| c.text.to_lowercase().contains(f)))
                .collect(),
            None => self.rows.iter().collect(),
        };
        let sort_col = self
            .state
            .sort
            .as_deref()
            .and_then(|key| self.columns.iter().position(|c| c.key == key && c.sortable));
        if let Some(i) = sort_col {
            let key = |r: &Row| r.cells.get(i).map(|c| c.sort.clone());
            // Stable: rows equal on the column keep the source's order.
            rows.sort_by(|a, b| {
                let o = key(a).cmp(&key(b));
                if self.state.descending {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        rows
    }

    /// The CSV export of this table if the query asks for it.
    pub fn csv_if_requested(&self, query: &PageQuery) -> Option<Response> {
        if query.get("format") != Some("csv") {
            return None;
        }
        let wanted = match query.get("table") {
            Some(t) => t == self.id,
            None => self.prefix.is_empty(),
        };
        wanted.then(|| self.csv_response())
    }

    /// All filtered, sorted rows as CSV (UTF-8 with a byte-order mark, so spreadsheet
    /// programs read the Chinese right).
    pub fn csv(&self) -> Vec<u8> {
        let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
        {
            let mut w = csv::Writer::from_writer(&mut out);
            let header: Vec<&str> = self.columns.iter().map(|c| c.label.as_str()).collect();
            // Writing to a Vec cannot fail; a failed record would only shorten the export.
            let _ = w.write_record(&header);
            for row in self.selected().into_iter().take(CSV_MAX_ROWS) {
                let _ = w.write_record(row.cells.iter().map(csv_safe));
            }
            let _ = w.flush();
        }
        out
    }

    fn csv_response(&self) -> Response {
        let disposition = format!("attachment; filename=\"{}.csv\"", self.id);
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            self.csv(),
        )
            .into_response()
    }

    /// The table as HTML, to embed in a page with `{{ table|safe }}`.
    pub fn render(&self) -> askama::Result<String> {
        self.view().render()
    }

    fn view(&self) -> TableView<'_> {
        let lang = self.lang;
        let selected = self.selected();
        let (total, rows): (u64, Vec<&Row>) = match self.source_total {
            Some(total) => (total, selected),
            None => {
                let total = selected.len() as u64;
                let start = (self.page_clamped(total) - 1).saturating_mul(self.state.per);
                let rows = selected
                    .into_iter()
                    .skip(usize::try_from(start).unwrap_or(usize::MAX))
                    .take(usize::try_from(self.state.per).unwrap_or(usize::MAX))
                    .collect();
                (total, rows)
            }
        };
        let pages = total.div_ceil(self.state.per).max(1);
        let page = self.page_clamped(total);
        let page_param = self.param("page");
        let page_href = |n: u64| {
            let n = n.to_string();
            self.query.href(&[(page_param.as_str(), Some(n.as_str()))])
        };
        let sortable = self.source_total.is_none();
        let headers = self
            .columns
            .iter()
            .map(|c| {
                let active = self.state.sort.as_deref() == Some(c.key);
                let (sort, dir) = (self.param("sort"), self.param("dir"));
                // A click on the sorted column flips it; on another, sorts ascending.
                let next_dir = if active && !self.state.descending {
                    "desc"
                } else {
                    "asc"
                };
                let href = (sortable && c.sortable).then(|| {
                    self.query.href(&[
                        (sort.as_str(), Some(c.key)),
                        (dir.as_str(), Some(next_dir)),
                        (page_param.as_str(), None),
                    ])
                });
                HeaderView {
                    label: c.label.clone(),
                    href,
                    aria_sort: match (active, self.state.descending) {
                        (false, _) => "none",
                        (true, false) => "ascending",
                        (true, true) => "descending",
                    },
                    right: c.align == Align::Right,
                }
            })
            .collect();
        let per_param = self.param("per");
        let per_links = PAGE_SIZES
            .iter()
            .map(|&n| {
                let s = n.to_string();
                (
                    s.clone(),
                    self.query
                        .href(&[(per_param.as_str(), Some(&s)), (page_param.as_str(), None)]),
                    n == self.state.per,
                )
            })
            .collect();
        let csv_href = if self.prefix.is_empty() {
            self.query.href(&[("format", Some("csv"))])
        } else {
            self.query
                .href(&[("format", Some("csv")), ("table", Some(self.id))])
        };
        let filter_param = self.param("filter");
        TableView {
            id: self.id,
            lang,
            headers,
            aligns: self
                .columns
                .iter()
                .map(|c| c.align == Align::Right)
                .collect(),
            rows,
            total_label: lang.fill(M::RowsTotal, format::count(total)),
            empty: &self.empty,
            filter: (sortable && !self.compact).then(|| FilterView {
                action: self.query.path().to_owned(),
                name: filter_param.clone(),
                value: self.query.get(&filter_param).unwrap_or("").to_owned(),
                hidden: self
                    .query
                    .keep(&[filter_param.as_str(), page_param.as_str()]),
                clear_href: self
                    .query
                    .href(&[(filter_param.as_str(), None), (page_param.as_str(), None)]),
            }),
            csv_href,
            page_label: lang.fill_all(M::PageOf, &[&page, &pages]),
            prev: (page > 1).then(|| page_href(page - 1)),
            next: (page < pages).then(|| page_href(page + 1)),
            // A source that pages itself has its own page size.
            per_links: if sortable { per_links } else { Vec::new() },
            show_pager: pages > 1 || sortable && total > PAGE_SIZES[0],
        }
    }

    /// The requested page, no further than the last one.
    fn page_clamped(&self, total: u64) -> u64 {
        let pages = total.div_ceil(self.state.per).max(1);
        self.state.page.min(pages)
    }
}

/// A cell as a spreadsheet should read it: text that a spreadsheet program would run as a
/// formula (`=`, `+`, `-`, `@` first) gets a leading apostrophe, except plain numbers.
fn csv_safe(c: &Cell) -> String {
    let t = &c.text;
    let is_number = matches!(c.sort, SortKey::Int(_));
    match t.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if !is_number => format!("'{t}"),
        _ => t.clone(),
    }
}

struct HeaderView {
    label: String,
    href: Option<String>,
    aria_sort: &'static str,
    right: bool,
}

struct FilterView {
    action: String,
    name: String,
    value: String,
    hidden: Vec<(String, String)>,
    clear_href: String,
}

#[derive(Template)]
#[template(path = "table.html")]
struct TableView<'a> {
    id: &'static str,
    lang: Lang,
    headers: Vec<HeaderView>,
    aligns: Vec<bool>,
    rows: Vec<&'a Row>,
    total_label: String,
    empty: &'a str,
    filter: Option<FilterView>,
    csv_href: String,
    page_label: String,
    prev: Option<String>,
    next: Option<String>,
    per_links: Vec<(String, String, bool)>,
    show_pager: bool,
}

impl TableView<'_> {
    fn right(&self, i: &usize) -> bool {
        self.aligns.get(*i).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(query: &str) -> Table {
        let q = PageQuery::parse("/console/x", Some(query));
        let mut t = Table::primary("x", &q, Lang::En)
            .column("name", "Name", Align::Left)
            .column("n", "N", Align::Right);
        for (name, n) in [("b", 10), ("a", 2), ("c", 100), ("=cmd", -1)] {
            t.row(vec![Cell::text(name), Cell::int(n)]);
        }
        t
    }

    fn names(t: &Table) -> Vec<String> {
        t.selected()
            .iter()
            .map(|r| r.cells[0].text.clone())
            .collect()
    }

    #[test]
    fn sorts_numbers_by_value_and_text_by_characters() {
        assert_eq!(names(&table("sort=n")), ["=cmd", "a", "b", "c"]);
        assert_eq!(names(&table("sort=n&dir=desc")), ["c", "b", "a", "=cmd"]);
        assert_eq!(names(&table("sort=name")), ["=cmd", "a", "b", "c"]);
        assert_eq!(names(&table("sort=nope")), ["b", "a", "c", "=cmd"]);
    }

    #[test]
    fn filters_on_any_cell_case_insensitively() {
        assert_eq!(names(&table("filter=B")), ["b"]);
        assert_eq!(names(&table("filter=10")), ["b", "c"]);
    }

    #[test]
    fn pages_and_links_keep_the_state() {
        let q = PageQuery::parse("/console/x", Some("per=25&page=2&q=z"));
        let mut t = Table::primary("x", &q, Lang::En).column("i", "I", Align::Right);
        for i in 0..60 {
            t.row(vec![Cell::int(i)]);
        }
        let html = t.render().unwrap();
        assert!(html.contains(">25<"), "{html}");
        assert!(!html.contains(">24<"), "page 2 starts at row 25");
        assert!(
            html.contains("href=\"/console/x?per=25&#38;q=z&#38;page=3\""),
            "{html}"
        );
        assert!(
            html.contains("/console/x?per=25&#38;page=2&#38;q=z&#38;format=csv"),
            "{html}"
        );
        // A page past the end shows the last one.
        let q = PageQuery::parse("/console/x", Some("page=99"));
        let mut t = Table::primary("x", &q, Lang::En).column("i", "I", Align::Right);
        t.row(vec![Cell::int(7)]);
        assert!(t.render().unwrap().contains(">7<"));
    }

    #[test]
    fn csv_exports_everything_selected_and_defuses_formulas() {
        let csv = String::from_utf8(table("sort=n&per=25").csv()).unwrap();
        assert_eq!(csv, "\u{feff}Name,N\n'=cmd,-1\na,2\nb,10\nc,100\n");
    }

    #[test]
    fn secondary_tables_read_their_own_parameters() {
        let q = PageQuery::parse("/e", Some("sort=n&h.sort=name&format=csv&table=h"));
        let mut t = Table::secondary("h", &q, Lang::En).column("name", "Name", Align::Left);
        t.row(vec![Cell::text("z")]);
        t.row(vec![Cell::text("y")]);
        assert_eq!(names(&t), ["y", "z"]);
        assert!(t.csv_if_requested(&q).is_some());
        let primary = Table::primary("p", &q, Lang::En);
        assert!(
            primary.csv_if_requested(&q).is_none(),
            "the query asked for table h"
        );
    }

    #[test]
    fn cell_text_is_escaped() {
        let q = PageQuery::parse("/x", None);
        let mut t = Table::primary("x", &q, Lang::Zh).column("a", "A", Align::Left);
        t.row(vec![Cell::text("<b>").with_href("/x?a=1&b=\"2\"")]);
        let html = t.render().unwrap();
        assert!(
            html.contains("&#60;b&#62;") && !html.contains("<b>"),
            "{html}"
        );
        assert!(html.contains("b=&#34;2&#34;"), "{html}");
    }
}
