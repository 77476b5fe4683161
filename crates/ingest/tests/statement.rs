//! Bank statements (调单) end to end: workbooks and CSV files through profiles into a fresh
//! SQLite store, read back from the store.
//!
//! Apart from the shared sample (copied into `fixtures/statements/`), every workbook is
//! written here with rust_xlsxwriter, dates as real Excel serial numbers with a date format,
//! so the fixtures are reproducible and each test shows the layout it feeds in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fanzha_ingest::{ingest_file, FileError, FileReport, IngestOptions, Target};
use fanzha_store::Store;
use rust_xlsxwriter::{Format, Workbook};

const SAMPLE: &str = "tests/fixtures/statements/bank-statement-sample.xlsx";

/// A cell of a generated workbook.
enum X {
    S(&'static str),
    N(f64),
    /// An Excel serial date (days since 1899-12-30) shown with a date format.
    Day(f64),
    /// An Excel time of day (a fraction of a day) shown with a time format.
    Clock(f64),
    E,
}

fn write_workbook(path: &Path, sheets: &[(&str, Vec<Vec<X>>)]) {
    let mut wb = Workbook::new();
    let day = Format::new().set_num_format("yyyy-mm-dd");
    let clock = Format::new().set_num_format("hh:mm:ss");
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    X::S(s) => {
                        ws.write_string(r, c, *s).unwrap();
                    }
                    X::N(n) => {
                        ws.write_number(r, c, *n).unwrap();
                    }
                    X::Day(n) => {
                        ws.write_number_with_format(r, c, *n, &day).unwrap();
                    }
                    X::Clock(n) => {
                        ws.write_number_with_format(r, c, *n, &clock).unwrap();
                    }
                    X::E => {}
                }
            }
        }
    }
    wb.save(path).unwrap();
}

fn row(cells: &[&'static str]) -> Vec<X> {
    cells
        .iter()
        .map(|s| if s.is_empty() { X::E } else { X::S(s) })
        .collect()
}

/// Excel's serial number of a day.
fn serial(y: i32, m: u32, d: u32) -> f64 {
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
    (chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap() - base).num_days() as f64
}

/// UTC microseconds of a Beijing wall-clock time.
fn shanghai_micros(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(&format!("{s}+08:00"))
        .unwrap()
        .timestamp_micros()
}

struct Env {
    dir: tempfile::TempDir,
    db: PathBuf,
    store: Arc<dyn Store>,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fanzha.sqlite");
    let store = fanzha_store::open(db.to_str().unwrap()).await.unwrap();
    Env { dir, db, store }
}

impl Env {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn ingest(&self, path: &Path, profile: Option<&str>) -> Result<FileReport, FileError> {
        let opts = IngestOptions {
            target: Some(Target::Statement),
            profile: profile.map(str::to_owned),
            ..IngestOptions::default()
        };
        ingest_file(&self.store, path, &opts).await
    }

    async fn stored(&self) -> u64 {
        self.store.counts().await.unwrap()["transactions"]
    }

    /// One stored transaction by id, read straight from the SQLite file.
    fn tx(&self, id: &str) -> Stored {
        self.find(&format!("tx_id = '{id}'"))
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no transaction {id}"))
    }

    fn find(&self, filter: &str) -> Vec<Stored> {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        let sql = format!(
            "SELECT tx_id, ts, from_account, to_account, amount_fen, channel, memo, device_id, ip, from_form, to_form, extra \
             FROM transactions WHERE {filter} ORDER BY ts, tx_id"
        );
        let mut stmt = conn.prepare(&sql).unwrap();
        stmt.query_map([], |r| {
            Ok(Stored {
                tx_id: r.get(0)?,
                ts: r.get(1)?,
                from: r.get(2)?,
                to: r.get(3)?,
                amount_fen: r.get(4)?,
                channel: r.get(5)?,
                memo: r.get(6)?,
                device_id: r.get(7)?,
                ip: r.get(8)?,
                from_form: r.get(9)?,
                to_form: r.get(10)?,
                extra: serde_json::from_str(&r.get::<_, String>(11)?).unwrap(),
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }
}

#[derive(Debug)]
#[allow(dead_code)]
struct Stored {
    tx_id: String,
    ts: i64,
    from: Option<String>,
    to: Option<String>,
    amount_fen: i64,
    channel: String,
    memo: Option<String>,
    device_id: Option<String>,
    ip: Option<String>,
    from_form: Option<String>,
    to_form: Option<String>,
    extra: serde_json::Value,
}

const CHEN: &str = "6212263100001234561";
const HUANG: &str = "6228481234005678903";

#[tokio::test]
async fn the_shared_sample_is_stored_with_the_duplicate_transfer_once() {
    let e = env().await;
    let report = e.ingest(Path::new(SAMPLE), None).await.unwrap();
    // 4 rows in 账户1 and 3 in 账户2; P2026030100002 is in both.
    assert_eq!(
        (report.inserted, report.unchanged, report.rejected),
        (6, 1, 0),
        "{report:?}"
    );
    assert_eq!(e.stored().await, 7 - 1);
    assert!(e.store.quarantine_list().await.unwrap().is_empty());
    assert_eq!(report.kind, "transactions");

    // A 贷 row: the counterparty sent the money; the date is the serial 46082 (2026-03-01) and
    // the time the text 093015, Beijing time.
    let t = e.tx("P2026030100001");
    assert_eq!(t.ts, shanghai_micros("2026-03-01T09:30:15"));
    assert_eq!(
        t.ts,
        chrono::DateTime::parse_from_rfc3339("2026-03-01T01:30:15Z")
            .unwrap()
            .timestamp_micros()
    );
    assert_eq!(
        (t.from.as_deref(), t.to.as_deref()),
        (Some("6217003210000000001"), Some(CHEN))
    );
    assert_eq!(t.amount_fen, 5_000_000);
    assert_eq!(t.channel, "transfer");
    assert_eq!(t.ip.as_deref(), Some("113.204.11.8"));
    assert_eq!(t.extra["mac"], "00-1A-2B-3C-4D-5E");
    assert_eq!(t.extra["counterparty_name"], "刘某");
    assert_eq!(t.extra["balance_fen"], 5_100_000);
    assert_eq!(t.extra["statement_name"], "陈某某");
    assert_eq!(t.extra["statement_bank"], "某银行重庆渝中支行");
    assert_eq!(t.extra["sheet"], "账户1");
    assert_eq!(t.extra["channel_text"], "手机银行");
    assert_eq!(t.extra["序号"], "1");
    assert_eq!(t.to_form.as_deref(), Some("card"));

    // The transfer between the two requested accounts, 借 in 账户1 and 贷 in 账户2: once.
    let t = e.tx("P2026030100002");
    assert_eq!(
        (t.from.as_deref(), t.to.as_deref()),
        (Some(CHEN), Some(HUANG))
    );
    assert_eq!(t.amount_fen, 4_980_000);
    assert_eq!(t.ts, shanghai_micros("2026-03-01T09:45:02"));
    assert_eq!(t.ip.as_deref(), Some("183.230.9.41"));

    // Amounts with thousands separators and fen.
    assert_eq!(e.tx("P2026030200003").amount_fen, 120_050);
    assert_eq!(e.tx("P2026030100006").amount_fen, 2_900_000);

    // No counterparty: cash. ATM out is a withdrawal; the counter (柜面) deposit has no sender.
    let atm = e.tx("P2026030300004");
    assert_eq!(
        (atm.channel.as_str(), atm.from.as_deref(), atm.to.as_deref()),
        ("atm_withdrawal", Some(CHEN), None)
    );
    assert_eq!(atm.ts, shanghai_micros("2026-03-03T20:15:00"));
    let counter = e.tx("P2026030200003");
    assert_eq!(
        (
            counter.channel.as_str(),
            counter.from.as_deref(),
            counter.to.as_deref()
        ),
        ("cash_deposit", None, Some(CHEN))
    );
    assert!(counter.extra["cash_inferred"]
        .as_str()
        .unwrap()
        .contains("柜面"));

    assert_eq!(e.tx("P2026030100005").channel, "online_pay");
}

#[tokio::test]
async fn re_ingesting_the_same_workbook_stores_nothing_new() {
    let e = env().await;
    e.ingest(Path::new(SAMPLE), None).await.unwrap();
    let again = e.ingest(Path::new(SAMPLE), None).await.unwrap();
    assert_eq!(
        (again.inserted, again.updated, again.rejected),
        (0, 0, 0),
        "{again:?}"
    );
    assert_eq!(again.unchanged, 7);
    assert_eq!(e.stored().await, 6);
    assert!(e.store.quarantine_list().await.unwrap().is_empty());
}

/// Statements of accounts A and B, without serial numbers: A sends B 10,000 once and 500
/// twice (two real transfers two minutes apart); B's bank stamps each 40 s later.
fn both_sides() -> (Vec<Vec<X>>, Vec<Vec<X>>) {
    let header = || {
        row(&[
            "交易时间",
            "借贷标志",
            "交易金额",
            "对方账号",
            "对方户名",
            "摘要",
            "交易渠道",
        ])
    };
    let a = vec![
        row(&["账号：6222021234567890128", "", "户名：甲"]),
        header(),
        row(&[
            "2026-03-10 10:00:00",
            "借",
            "10,000.00",
            "6217003210000000001",
            "乙",
            "转账",
            "网银",
        ]),
        row(&[
            "2026-03-10 11:00:00",
            "借",
            "500.00",
            "6217003210000000001",
            "乙",
            "转账",
            "网银",
        ]),
        row(&[
            "2026-03-10 11:02:00",
            "借",
            "500.00",
            "6217003210000000001",
            "乙",
            "转账",
            "网银",
        ]),
    ];
    let b = vec![
        row(&["账号：6217003210000000001", "", "户名：乙"]),
        header(),
        row(&[
            "2026-03-10 10:00:40",
            "贷",
            "10,000.00",
            "6222021234567890128",
            "甲",
            "转账",
            "手机银行",
        ]),
        row(&[
            "2026-03-10 11:00:40",
            "贷",
            "500.00",
            "6222021234567890128",
            "甲",
            "转账",
            "手机银行",
        ]),
        row(&[
            "2026-03-10 11:02:40",
            "贷",
            "500.00",
            "6222021234567890128",
            "甲",
            "转账",
            "手机银行",
        ]),
    ];
    (a, b)
}

#[tokio::test]
async fn a_transfer_seen_from_both_sides_without_serials_is_stored_once() {
    // Two sheets of one workbook.
    let e = env().await;
    let (a, b) = both_sides();
    let wb = e.path("both.xlsx");
    write_workbook(&wb, &[("A", a), ("B", b)]);
    let r = e.ingest(&wb, None).await.unwrap();
    assert_eq!((r.inserted, r.unchanged, r.rejected), (3, 3, 0), "{r:?}");
    let all = e.find("1 = 1");
    assert_eq!(all.len(), 3);
    assert!(all
        .iter()
        .all(|t| t.tx_id.starts_with("stmt-") && t.from.as_deref() == Some("6222021234567890128")));
    // The first statement read is the one stored: A's times.
    assert_eq!(all[0].ts, shanghai_micros("2026-03-10T10:00:00"));
    assert_eq!(all[0].amount_fen, 1_000_000);

    // Re-ingesting the workbook: nothing new, in either order of matching.
    let again = e.ingest(&wb, None).await.unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 6), "{again:?}");
    assert_eq!(e.stored().await, 3);

    // Two files, B's first, ingested one after the other.
    let e = env().await;
    let (a, b) = both_sides();
    let (fa, fb) = (e.path("a.xlsx"), e.path("b.xlsx"));
    write_workbook(&fa, &[("明细", a)]);
    write_workbook(&fb, &[("明细", b)]);
    let rb = e.ingest(&fb, None).await.unwrap();
    assert_eq!(rb.inserted, 3);
    let ra = e.ingest(&fa, None).await.unwrap();
    assert_eq!((ra.inserted, ra.unchanged), (0, 3), "{ra:?}");
    assert_eq!(e.stored().await, 3);
    assert_eq!(
        e.find("1 = 1")[0].ts,
        shanghai_micros("2026-03-10T10:00:40")
    );
}

#[tokio::test]
async fn a_time_outside_the_window_is_another_transfer() {
    let e = env().await;
    let header = || row(&["交易时间", "借贷标志", "交易金额", "对方账号"]);
    let a = vec![
        row(&["账号：6222021234567890128"]),
        header(),
        row(&["2026-03-10 10:00:00", "借", "100.00", "6217003210000000001"]),
    ];
    let b = vec![
        row(&["账号：6217003210000000001"]),
        header(),
        row(&["2026-03-10 10:10:00", "贷", "100.00", "6222021234567890128"]),
    ];
    let wb = e.path("far.xlsx");
    write_workbook(&wb, &[("A", a), ("B", b)]);
    let r = e.ingest(&wb, None).await.unwrap();
    assert_eq!(
        r.inserted, 2,
        "10 minutes apart is beyond the default 300 s window: {r:?}"
    );
}

/// A bank with its own words for everything, Excel dates and times, and 收/付 flags.
fn foreign_sheet() -> Vec<Vec<X>> {
    vec![
        row(&["某农村商业银行 客户交易流水"]),
        row(&["客户名称：王某某"]),
        vec![
            X::S("查询账号:"),
            X::E,
            X::S("6222021234567890128"),
            X::E,
            X::S("开户机构"),
            X::S("某农商行营业部"),
        ],
        vec![],
        row(&[
            "记账日期",
            "记账时间",
            "资金方向",
            "发生金额(元)",
            "对手方账号",
            "对手方名称",
            "用途",
            "渠道",
            "交易终端",
            "核心流水",
            "余额",
            "柜员号",
        ]),
        vec![
            X::Day(serial(2026, 3, 5)),
            X::S("14:05:09"),
            X::S("付"),
            X::S("¥12,345.60"),
            X::S("6217000011112222333"),
            X::S("钱某"),
            X::S("投资款"),
            X::S("快捷支付"),
            X::S("DEV-001"),
            X::S("H0001"),
            X::N(1000.0),
            X::S("T09"),
        ],
        vec![
            X::Day(serial(2026, 3, 6)),
            X::Clock(0.5),
            X::S("收"),
            X::N(800.0),
            X::S("6217000011112222333"),
            X::S("钱某"),
            X::S("返利"),
            X::S("POS"),
            X::E,
            X::S("H0002"),
            X::N(1800.0),
        ],
        // A page break repeats the header row.
        row(&[
            "记账日期",
            "记账时间",
            "资金方向",
            "发生金额(元)",
            "对手方账号",
            "对手方名称",
            "用途",
            "渠道",
            "交易终端",
            "核心流水",
            "余额",
        ]),
        vec![
            X::Day(serial(2026, 3, 7)),
            X::N(93015.0),
            X::S("付"),
            X::N(2.675),
            X::S("6217000011112222333"),
            X::E,
            X::E,
            X::S("云闪付"),
            X::E,
            X::S("H0003"),
        ],
        vec![],
        vec![X::S("本页小计"), X::E, X::E, X::S("13,148.28")],
        row(&["说明：本流水仅供公安机关办案使用"]),
    ]
}

const FOREIGN_PROFILE: &str = r#"
# Only the names this bank uses; everything else comes from police-return.
[columns]
date = ["记账日期"]
time = ["记账时间"]
direction = ["资金方向"]
amount = ["发生金额"]
counterparty_account = ["对手方账号"]
counterparty_name = ["对手方名称"]
device = ["交易终端"]
serial = ["核心流水"]
"#;

#[tokio::test]
async fn a_foreign_layout_reads_through_a_custom_profile() {
    let e = env().await;
    let wb = e.path("foreign.xlsx");
    write_workbook(&wb, &[("流水", foreign_sheet())]);

    // The default profile finds the table (用途, 渠道, 余额) but not its amount.
    let err = e.ingest(&wb, None).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, FileError::Statement { .. })
            && msg.contains("交易金额")
            && msg.contains("流水"),
        "{msg}"
    );

    let profile = e.path("rural-bank.toml");
    std::fs::write(&profile, FOREIGN_PROFILE).unwrap();
    let r = e
        .ingest(&wb, Some(profile.to_str().unwrap()))
        .await
        .unwrap();
    assert_eq!((r.inserted, r.rejected), (3, 0), "{r:?}");

    let t = e.tx("H0001");
    assert_eq!(t.ts, shanghai_micros("2026-03-05T14:05:09"));
    assert_eq!(
        (t.from.as_deref(), t.to.as_deref()),
        (Some("6222021234567890128"), Some("6217000011112222333"))
    );
    assert_eq!(t.amount_fen, 1_234_560);
    assert_eq!(t.channel, "online_pay");
    assert_eq!(t.device_id.as_deref(), Some("DEV-001"));
    assert_eq!(t.memo.as_deref(), Some("投资款"));
    assert_eq!(t.extra["statement_name"], "王某某");
    assert_eq!(t.extra["statement_bank"], "某农商行营业部");
    assert_eq!(t.extra["counterparty_name"], "钱某");
    assert_eq!(t.extra["balance_fen"], 100_000);
    assert_eq!(t.extra["柜员号"], "T09");

    // An Excel time of day (0.5) beside an Excel date; 收 is money in.
    let t = e.tx("H0002");
    assert_eq!(t.ts, shanghai_micros("2026-03-06T12:00:00"));
    assert_eq!(
        (t.from.as_deref(), t.to.as_deref()),
        (Some("6217000011112222333"), Some("6222021234567890128"))
    );
    assert_eq!((t.amount_fen, t.channel.as_str()), (80_000, "pos"));

    // A time stored as the number 93015 (09:30:15); 2.675 yuan rounds half away to 268 fen;
    // a channel the profile does not know is kept as given.
    let t = e.tx("H0003");
    assert_eq!(t.ts, shanghai_micros("2026-03-07T09:30:15"));
    assert_eq!(t.amount_fen, 268);
    assert_eq!(t.channel, "云闪付");
}

#[tokio::test]
async fn bad_rows_are_quarantined_and_a_sheet_without_amounts_is_named() {
    let e = env().await;
    let header = || {
        row(&[
            "交易日期",
            "交易时间",
            "借贷标志",
            "交易金额",
            "对方账号",
            "交易渠道",
            "交易流水号",
        ])
    };
    let good = vec![
        row(&["账号：6222021234567890128"]),
        header(),
        row(&[
            "2026-03-01",
            "09:00:00",
            "借",
            "100.00",
            "6217003210000000001",
            "网银",
            "S1",
        ]),
        row(&[
            "2026-02-30",
            "09:00:00",
            "借",
            "100.00",
            "6217003210000000001",
            "网银",
            "S2",
        ]),
        row(&[
            "2026-03-01",
            "09:10:00",
            "借",
            "12,34.5x",
            "6217003210000000001",
            "网银",
            "S3",
        ]),
        row(&[
            "2026-03-01",
            "09:20:00",
            "借",
            "0.00",
            "6217003210000000001",
            "网银",
            "S4",
        ]),
        row(&[
            "2026-03-01",
            "09:30:00",
            "转",
            "100.00",
            "6217003210000000001",
            "网银",
            "S5",
        ]),
        row(&["2026-03-01", "09:40:00", "借", "100.00", "", "网银", "S6"]),
        row(&["2026-03-01", "09:50:00", "贷", "300.00", "", "ATM", "S7"]),
        row(&[
            "2026-03-02",
            "10:00:00",
            "贷",
            "-50.00",
            "6217003210000000001",
            "手机银行",
            "S8",
        ]),
    ];
    let no_amount = vec![
        row(&["账号：6217003210000000001"]),
        row(&["交易日期", "交易时间", "借贷标志", "对方账号", "摘要"]),
        row(&[
            "2026-03-01",
            "09:00:00",
            "贷",
            "6222021234567890128",
            "转账",
        ]),
    ];
    let wb = e.path("bad.xlsx");
    write_workbook(&wb, &[("明细", good), ("缺金额", no_amount)]);
    let r = e.ingest(&wb, None).await.unwrap();
    assert_eq!((r.inserted, r.rejected), (3, 6), "{r:?}");
    assert_eq!(
        e.find("1 = 1")
            .iter()
            .map(|t| t.tx_id.as_str())
            .collect::<Vec<_>>(),
        ["S1", "S7", "S8"]
    );
    assert_eq!(e.tx("S7").channel, "cash_deposit");
    // A flagged amount's sign is not its direction.
    assert_eq!(
        (e.tx("S8").amount_fen, e.tx("S8").to.as_deref()),
        (5_000, Some("6222021234567890128"))
    );

    let q = e.store.quarantine_list().await.unwrap();
    let file = fanzha_ingest::file_id(&wb);
    let at = |line: u64| {
        q.iter()
            .find(|x| x.line == line)
            .unwrap_or_else(|| panic!("nothing quarantined at line {line}: {q:#?}"))
    };
    let date = at(4);
    assert_eq!(
        (date.file.as_str(), date.field.as_deref()),
        (format!("{file}#明细").as_str(), Some("交易日期"))
    );
    assert!(date.reason.contains("2026-02-30"), "{}", date.reason);
    assert!(String::from_utf8_lossy(&date.original).contains("S2"));
    let amount = at(5);
    assert_eq!(amount.field.as_deref(), Some("交易金额"));
    assert!(amount.reason.contains("12,34.5x"), "{}", amount.reason);
    assert_eq!(at(6).field.as_deref(), Some("交易金额"));
    assert!(at(6).reason.contains("zero"));
    assert_eq!(at(7).field.as_deref(), Some("借贷标志"));
    assert!(at(7).reason.contains("`转`"), "{}", at(7).reason);
    assert_eq!(at(8).field.as_deref(), Some("对方账号"));
    assert!(at(8).reason.contains("cash"), "{}", at(8).reason);
    // The sheet without an amount column: one rejection at its header row, naming the column.
    let sheet = q
        .iter()
        .find(|x| x.file.ends_with("#缺金额"))
        .expect("the sheet is reported");
    assert_eq!(sheet.line, 2);
    assert!(sheet.field.as_deref().unwrap().contains("交易金额"));
    assert!(
        sheet.reason.contains("amount") && sheet.reason.contains("交易金额"),
        "{}",
        sheet.reason
    );

    // A workbook with only that sheet is refused as a whole, naming the column.
    let only = e.path("only.xlsx");
    write_workbook(
        &only,
        &[(
            "缺金额",
            both_sides()
                .0
                .into_iter()
                .take(1)
                .chain([row(&["交易日期", "借贷标志", "对方账号"])])
                .collect(),
        )],
    );
    let err = e.ingest(&only, None).await.unwrap_err().to_string();
    assert!(err.contains("交易金额") && err.contains("缺金额"), "{err}");

    // A workbook with no table at all names what was looked for.
    let none = e.path("none.xlsx");
    write_workbook(&none, &[("封面", vec![row(&["协助查询财产通知书回执"])])]);
    let err = e.ingest(&none, None).await.unwrap_err().to_string();
    assert!(
        err.contains("no statement table") && err.contains("封面") && err.contains("交易日期"),
        "{err}"
    );
}

#[tokio::test]
async fn a_gbk_csv_statement() {
    let e = env().await;
    let text = "账户交易明细\n\
        卡号：6222021234567890128,,,,,,,,\n\
        户名：李四,,,,,,,,\n\
        交易时间,支出金额,收入金额,余额,对方账号,对方户名,摘要,交易渠道,流水号\n\
        20260301 093000,\"1,000.00\",,\"9,000.00\",6217003210000000001,赵五,转账,手机银行,\n\
        20260302 101500,,500.50,\"9,500.50\",6217003210000000001,赵五,退款,网银,\n\
        合计,\"1,000.00\",500.50,,,,,,\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the fixture must really be GBK"
    );
    let csv = e.path("李四-调单.csv");
    std::fs::write(&csv, &bytes).unwrap();

    let r = e.ingest(&csv, None).await.unwrap();
    assert_eq!((r.inserted, r.rejected), (2, 0), "{r:?}");
    let all = e.find("1 = 1");
    let (out, back) = (&all[0], &all[1]);
    assert_eq!(out.ts, shanghai_micros("2026-03-01T09:30:00"));
    assert_eq!(
        (out.from.as_deref(), out.to.as_deref()),
        (Some("6222021234567890128"), Some("6217003210000000001"))
    );
    assert_eq!(out.amount_fen, 100_000);
    assert!(out.tx_id.starts_with("stmt-") && out.tx_id.len() == 5 + 32);
    assert_eq!(out.extra["statement_name"], "李四");
    assert_eq!(out.extra["counterparty_name"], "赵五");
    assert_eq!(back.ts, shanghai_micros("2026-03-02T10:15:00"));
    assert_eq!(
        (back.from.as_deref(), back.to.as_deref()),
        (Some("6217003210000000001"), Some("6222021234567890128"))
    );
    assert_eq!(back.amount_fen, 50_050);

    // Idempotent too.
    let again = e.ingest(&csv, None).await.unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 2));
}

#[tokio::test]
async fn profile_errors_name_the_problem() {
    let e = env().await;
    let bad = e.path("bad.toml");
    std::fs::write(&bad, "[columns]\namout = [\"发生额\"]\n").unwrap();
    let err = e
        .ingest(Path::new(SAMPLE), Some(bad.to_str().unwrap()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, FileError::Profile { reason, .. } if reason.contains("amout")),
        "{err}"
    );
    let err = e
        .ingest(Path::new(SAMPLE), Some("no-such-profile"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, FileError::Profile { reason, .. } if reason.contains("police-return")),
        "{err}"
    );
    // The bundled profile by name works like the default.
    let r = e
        .ingest(Path::new(SAMPLE), Some("police-return"))
        .await
        .unwrap();
    assert_eq!(r.inserted, 6);
}

#[tokio::test]
async fn a_serial_stored_with_other_accounts_is_a_conflict_not_a_silent_drop() {
    let e = env().await;
    e.ingest(Path::new(SAMPLE), None).await.unwrap();
    let wb = e.path("clash.xlsx");
    write_workbook(
        &wb,
        &[(
            "X",
            vec![
                row(&["账号：6222021234567890128"]),
                row(&["交易时间", "借贷标志", "交易金额", "对方账号", "交易流水号"]),
                row(&[
                    "2026-03-01 09:45:02",
                    "借",
                    "49,800.00",
                    HUANG,
                    "P2026030100002",
                ]),
            ],
        )],
    );
    let r = e.ingest(&wb, None).await.unwrap();
    assert_eq!((r.inserted, r.rejected), (0, 1), "{r:?}");
    assert_eq!(r.first_rejections[0].field.as_deref(), Some("from_account"));
    assert_eq!(e.tx("P2026030100002").from.as_deref(), Some(CHEN));
}

/// A store in a fresh PostgreSQL schema at `FANZHA_TEST_PG` (default: 127.0.0.1:5432,
/// database `test`); fails, never skips, when the server is unreachable.
async fn pg_store() -> Arc<dyn Store> {
    let url = std::env::var("FANZHA_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("stmt_{}_{nanos}", std::process::id());
    let store = fanzha_store::postgres::PgStore::connect_in_schema(&url, &schema)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} is unreachable: {e}"));
    let store: Arc<dyn Store> = Arc::new(store);
    store.migrate().await.unwrap();
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_seen_from_both_sides_is_stored_once_in_postgres() {
    let store = pg_store().await;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = both_sides();
    let wb = dir.path().join("both.xlsx");
    write_workbook(&wb, &[("A", a), ("B", b)]);
    let opts = IngestOptions {
        target: Some(Target::Statement),
        ..IngestOptions::default()
    };

    let r = ingest_file(&store, &wb, &opts).await.unwrap();
    assert_eq!((r.inserted, r.unchanged, r.rejected), (3, 3, 0), "{r:?}");
    assert_eq!(store.counts().await.unwrap()["transactions"], 3);
    assert!(store.quarantine_list().await.unwrap().is_empty());

    // The 10,000 transfer, 借 in A's statement and 贷 in B's, is one stored row with A's time.
    let (from, to) = ("6222021234567890128", "6217003210000000001");
    let day = (
        shanghai_micros("2026-03-10T00:00:00"),
        shanghai_micros("2026-03-10T23:59:59"),
    );
    let big = store
        .transfers_matching(from, to, 1_000_000, day.0, day.1)
        .await
        .unwrap();
    assert_eq!(big.len(), 1, "{big:?}");
    assert_eq!(big[0].ts, shanghai_micros("2026-03-10T10:00:00"));
    // The two real 500 transfers two minutes apart stay two.
    let small = store
        .transfers_matching(from, to, 50_000, day.0, day.1)
        .await
        .unwrap();
    assert_eq!(small.len(), 2, "{small:?}");

    // Re-ingesting stores nothing new.
    let again = ingest_file(&store, &wb, &opts).await.unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 6), "{again:?}");
    assert_eq!(store.counts().await.unwrap()["transactions"], 3);
}
