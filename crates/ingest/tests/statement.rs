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
    fanzha_store::testing::fresh_pg_store("stmt").await
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

/// A one-sheet statement of `account` (given under `label`) with 交易时间, 借贷标志, 交易金额,
/// 对方账号 and 交易流水号 columns.
fn serial_sheet(label: &'static str, rows: &[[&'static str; 5]]) -> Vec<Vec<X>> {
    let mut out = vec![
        row(&[label]),
        row(&["交易时间", "借贷标志", "交易金额", "对方账号", "交易流水号"]),
    ];
    out.extend(rows.iter().map(|r| row(r)));
    out
}

#[tokio::test]
async fn serial_reuse_a_day_later_is_another_transfer() {
    // Banks that restart serials daily: S0001 on the 10th and again on the 11th, same
    // accounts, same amount. Both ends' statements.
    let e = env().await;
    let (a, b) = ("6222021234567890128", "6217003210000000001");
    let wb = e.path("reuse.xlsx");
    write_workbook(
        &wb,
        &[
            (
                "A",
                serial_sheet(
                    "账号：6222021234567890128",
                    &[
                        ["2026-03-10 10:00:00", "借", "100.00", b, "S0001"],
                        ["2026-03-11 10:00:00", "借", "100.00", b, "S0001"],
                    ],
                ),
            ),
            (
                "B",
                serial_sheet(
                    "账号：6217003210000000001",
                    &[
                        ["2026-03-10 10:00:30", "贷", "100.00", a, "S0001"],
                        ["2026-03-11 10:00:30", "贷", "100.00", a, "S0001"],
                    ],
                ),
            ),
        ],
    );
    let r = e.ingest(&wb, None).await.unwrap();
    assert_eq!((r.inserted, r.unchanged, r.rejected), (2, 2, 0), "{r:?}");
    assert_eq!(e.tx("S0001").ts, shanghai_micros("2026-03-10T10:00:00"));
    let later = e.tx("S0001-20260311");
    assert_eq!(later.ts, shanghai_micros("2026-03-11T10:00:00"));
    assert_eq!(later.extra["serial"], "S0001");
    assert!(e.store.quarantine_list().await.unwrap().is_empty());

    // Re-ingesting stores nothing new.
    let again = e.ingest(&wb, None).await.unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 4), "{again:?}");

    // The next day's statement alone, in another file: the serial is stored, a day earlier.
    let e = env().await;
    let (d1, d2) = (e.path("d1.xlsx"), e.path("d2.xlsx"));
    write_workbook(
        &d1,
        &[(
            "A",
            serial_sheet(
                "账号：6222021234567890128",
                &[["2026-03-10 10:00:00", "借", "100.00", b, "S0001"]],
            ),
        )],
    );
    write_workbook(
        &d2,
        &[(
            "A",
            serial_sheet(
                "账号：6222021234567890128",
                &[
                    ["2026-03-11 10:00:00", "借", "100.00", b, "S0001"],
                    // Reused once more the same day, hours later.
                    ["2026-03-11 18:00:00", "借", "100.00", b, "S0001"],
                ],
            ),
        )],
    );
    assert_eq!(e.ingest(&d1, None).await.unwrap().inserted, 1);
    let r = e.ingest(&d2, None).await.unwrap();
    assert_eq!((r.inserted, r.unchanged), (2, 0), "{r:?}");
    assert_eq!(e.stored().await, 3);
    assert_eq!(
        e.find("extra LIKE '%\"serial\":\"S0001\"%'").len(),
        2,
        "both later transfers keep the bank's serial"
    );
    let again = e.ingest(&d2, None).await.unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 2), "{again:?}");
}

#[tokio::test]
async fn totals_markers_inside_a_memo_do_not_drop_the_transfer() {
    let e = env().await;
    let wb = e.path("payroll.xlsx");
    write_workbook(
        &wb,
        &[(
            "明细",
            vec![
                row(&["账号：6222021234567890128"]),
                row(&["摘要", "交易时间", "借贷标志", "交易金额", "对方账号"]),
                row(&[
                    "工资汇总代发",
                    "2026-03-10 10:00:00",
                    "贷",
                    "8,000.00",
                    "6217003210000000001",
                ]),
                // A memo that is a marker, on a dated row: still a transfer.
                row(&[
                    "合计",
                    "2026-03-10 11:00:00",
                    "借",
                    "10.00",
                    "6217003210000000001",
                ]),
                row(&["合计：", "", "", "8,010.00", ""]),
                row(&["本页小计", "", "", "8,010.00", ""]),
            ],
        )],
    );
    let r = e.ingest(&wb, None).await.unwrap();
    assert_eq!((r.inserted, r.rejected), (2, 0), "{r:?}");
    let memos: Vec<String> = e.find("1 = 1").into_iter().filter_map(|t| t.memo).collect();
    assert_eq!(memos, ["工资汇总代发", "合计"]);
}

#[tokio::test]
async fn statement_card_numbers_must_pass_the_luhn_check() {
    let e = env().await;
    let b = "6217003210000000001";
    // A card label with a bad check digit, an account label with a passbook number (no check
    // digit), and a card column with one bad card.
    let bad_card = || {
        serial_sheet(
            "卡号：6222021234567890127",
            &[["2026-03-10 10:00:00", "借", "100.00", b, "C1"]],
        )
    };
    let passbook = serial_sheet(
        "账号：10012345678",
        // A counterparty of no known form is kept, never rejected.
        &[["2026-03-10 10:00:00", "借", "100.00", "X-99", "C2"]],
    );
    let column = vec![
        row(&[
            "交易时间",
            "本方卡号",
            "借贷标志",
            "交易金额",
            "对方账号",
            "交易流水号",
        ]),
        row(&["2026-03-10 10:00:00", CHEN, "借", "1.00", b, "C3"]),
        row(&[
            "2026-03-10 10:05:00",
            "6212263100001234562",
            "借",
            "1.00",
            b,
            "C4",
        ]),
    ];
    let wb = e.path("cards.xlsx");
    write_workbook(
        &wb,
        &[("坏卡", bad_card()), ("存折", passbook), ("多卡", column)],
    );
    let r = e.ingest(&wb, None).await.unwrap();
    assert_eq!((r.inserted, r.rejected), (2, 2), "{r:?}");
    assert_eq!(e.tx("C2").from.as_deref(), Some("10012345678"));
    assert_eq!(e.tx("C2").to.as_deref(), Some("X-99"));
    assert_eq!(e.tx("C3").from.as_deref(), Some(CHEN));
    let q = e.store.quarantine_list().await.unwrap();
    let sheet = q
        .iter()
        .find(|x| x.file.ends_with("#坏卡"))
        .expect("the sheet is reported");
    assert_eq!(sheet.field.as_deref(), Some("卡号"));
    assert!(
        sheet.reason.contains("卡号") && sheet.reason.contains("Luhn"),
        "{}",
        sheet.reason
    );
    let row4 = q
        .iter()
        .find(|x| x.file.ends_with("#多卡"))
        .expect("the bad card row is quarantined");
    assert_eq!((row4.line, row4.field.as_deref()), (3, Some("本方卡号")));
    assert!(row4.reason.contains("Luhn"), "{}", row4.reason);

    // With no other sheet the file is refused, saying why.
    let only = e.path("only-bad-card.xlsx");
    write_workbook(&only, &[("坏卡", bad_card())]);
    let err = e.ingest(&only, None).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, FileError::Statement { .. }) && msg.contains("卡号") && msg.contains("Luhn"),
        "{msg}"
    );
}

/// A workbook whose first sheet has a NUL in its header block and a control character in
/// its name, and whose second sheet is good.
fn control_character_workbook(path: &Path) {
    let b = "6217003210000000001";
    let mut nul = serial_sheet(
        "账号：6222021234567890128",
        &[["2026-03-10 10:00:00", "借", "100.00", b, "N1"]],
    );
    nul.insert(0, vec![X::S("户名：张\u{0}三")]);
    let good = serial_sheet(
        "账号：6222021234567890128",
        &[["2026-03-10 11:00:00", "借", "200.00", b, "N2"]],
    );
    let ctrl_name = serial_sheet(
        "账号：6222021234567890128",
        &[["2026-03-10 12:00:00", "借", "300.00", b, "N3"]],
    );
    write_workbook(
        path,
        &[("NUL", nul), ("好", good), ("坏\u{1}名", ctrl_name)],
    );
}

async fn control_characters_are_refused_by(store: &Arc<dyn Store>, wb: &Path) {
    let opts = IngestOptions {
        target: Some(Target::Statement),
        ..IngestOptions::default()
    };
    let r = ingest_file(store, wb, &opts).await.unwrap();
    assert_eq!((r.inserted, r.rejected), (1, 2), "{r:?}");
    let ids: Vec<String> = store
        .transfers_by_id(&["N1".into(), "N2".into(), "N3".into()])
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.tx_id)
        .collect();
    assert_eq!(ids, ["N2"]);
    let q = store.quarantine_list().await.unwrap();
    let nul = q
        .iter()
        .find(|x| x.file.ends_with("#NUL"))
        .expect("NUL sheet");
    assert!(nul.reason.contains("U+0000"), "{}", nul.reason);
    assert_eq!(nul.field.as_deref(), Some("户名"));
    let named = q
        .iter()
        .find(|x| x.file.ends_with("#坏\\u{1}名"))
        .unwrap_or_else(|| panic!("the sheet with a control character in its name: {q:#?}"));
    assert!(named.reason.contains("U+0001"), "{}", named.reason);
}

#[tokio::test]
async fn control_characters_in_the_header_block_make_the_sheet_unusable() {
    let e = env().await;
    let wb = e.path("nul.xlsx");
    control_character_workbook(&wb);
    control_characters_are_refused_by(&e.store, &wb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_the_header_block_are_not_fatal_in_postgres() {
    let store = pg_store().await;
    let dir = tempfile::tempdir().unwrap();
    let wb = dir.path().join("nul.xlsx");
    control_character_workbook(&wb);
    control_characters_are_refused_by(&store, &wb).await;
}

#[tokio::test]
async fn csv_line_numbers_count_blank_lines_and_multi_line_cells() {
    let e = env().await;
    let text = "账号：6222021234567890128\n\
        \n\
        交易时间,借贷标志,交易金额,对方账号,摘要\n\
        2026-03-01 09:30:00,借,100.00,6217003210000000001,\"第一行\n第二行\"\n\
        \n\
        2026-03-01 09:40:00,借,12x,6217003210000000001,坏金额\n";
    let csv = e.path("lines.csv");
    std::fs::write(&csv, text).unwrap();
    let r = e.ingest(&csv, None).await.unwrap();
    assert_eq!((r.inserted, r.rejected), (1, 1), "{r:?}");
    assert_eq!(e.find("1 = 1")[0].memo.as_deref(), Some("第一行\n第二行"));
    let q = e.store.quarantine_list().await.unwrap();
    assert_eq!(q.len(), 1);
    // Line 7 of the file: after a blank line, a two-line record and another blank line.
    assert_eq!(q[0].line, 7, "{q:#?}");
    assert!(String::from_utf8_lossy(&q[0].original).contains("12x"));
}

/// Counts the committed batches a statement ingest reports.
#[derive(Default)]
struct Commits(std::sync::Mutex<Vec<u64>>);

impl fanzha_ingest::Progress for Commits {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
    fn committed(&self, batches: u64) {
        self.0.lock().unwrap().push(batches);
    }
}

#[tokio::test]
async fn statement_batches_report_their_commits_for_kill_and_rerun() {
    let e = env().await;
    let commits = Arc::new(Commits::default());
    let opts = IngestOptions {
        target: Some(Target::Statement),
        batch_size: 2,
        progress: commits.clone(),
        ..IngestOptions::default()
    };
    let r = ingest_file(&e.store, Path::new(SAMPLE), &opts)
        .await
        .unwrap();
    assert_eq!(r.inserted, 6);
    let seen = commits.0.lock().unwrap().clone();
    // Six new rows in batches of two (the 账户2 sheet's last batch holds one).
    assert!(seen.len() >= 3, "{seen:?}");
    assert_eq!(seen, (1..=seen.len() as u64).collect::<Vec<_>>());
}

#[tokio::test]
async fn statement_reports_keep_the_shared_rejection_cap() {
    let e = env().await;
    let mut rows = vec![
        row(&["账号：6222021234567890128"]),
        row(&["交易时间", "借贷标志", "交易金额", "对方账号"]),
    ];
    for _ in 0..25 {
        rows.push(row(&[
            "2026-03-01 09:30:00",
            "借",
            "abc",
            "6217003210000000001",
        ]));
    }
    let wb = e.path("many-bad.xlsx");
    write_workbook(&wb, &[("明细", rows)]);
    let r = e.ingest(&wb, None).await.unwrap();
    assert_eq!(r.rejected, 25);
    assert_eq!(r.first_rejections.len(), 20);
}

/// A's statement split over two files: X→Y 100 at 11:00 in one, another 100 at 11:02 in the
/// other; then B's statement with both.
async fn same_side_duplicates_across_files(store: &Arc<dyn Store>, dir: &Path) {
    let (a, b) = ("6222021234567890128", "6217003210000000001");
    let opts = IngestOptions {
        target: Some(Target::Statement),
        ..IngestOptions::default()
    };
    let sheet = |label: &'static str, rows: Vec<[&'static str; 4]>| {
        let mut out = vec![
            row(&[label]),
            row(&["交易时间", "借贷标志", "交易金额", "对方账号"]),
        ];
        out.extend(rows.iter().map(|r| row(r)));
        out
    };
    let f1 = dir.join("a-1.xlsx");
    let f2 = dir.join("a-2.xlsx");
    let fb = dir.join("b.xlsx");
    let fa_again = dir.join("a-export.xlsx");
    write_workbook(
        &f1,
        &[(
            "A",
            sheet(
                "账号：6222021234567890128",
                vec![["2026-03-10 11:00:00", "借", "100.00", b]],
            ),
        )],
    );
    write_workbook(
        &f2,
        &[(
            "A",
            sheet(
                "账号：6222021234567890128",
                vec![["2026-03-10 11:02:00", "借", "100.00", b]],
            ),
        )],
    );
    write_workbook(
        &fb,
        &[(
            "B",
            sheet(
                "账号：6217003210000000001",
                vec![
                    ["2026-03-10 11:00:40", "贷", "100.00", a],
                    ["2026-03-10 11:02:40", "贷", "100.00", a],
                ],
            ),
        )],
    );
    // The first file's row exported again, in another layout with a serial: same instant.
    write_workbook(
        &fa_again,
        &[(
            "A",
            serial_sheet(
                "账号：6222021234567890128",
                &[["2026-03-10 11:00:00", "借", "100.00", b, "Q1"]],
            ),
        )],
    );
    let count = || async { store.counts().await.unwrap()["transactions"] };
    assert_eq!(ingest_file(store, &f1, &opts).await.unwrap().inserted, 1);
    let r = ingest_file(store, &f2, &opts).await.unwrap();
    assert_eq!((r.inserted, r.unchanged), (1, 0), "{r:?}");
    assert_eq!(count().await, 2);
    let r = ingest_file(store, &fb, &opts).await.unwrap();
    assert_eq!((r.inserted, r.unchanged), (0, 2), "{r:?}");
    let r = ingest_file(store, &fa_again, &opts).await.unwrap();
    assert_eq!((r.inserted, r.unchanged), (0, 1), "{r:?}");
    let r = ingest_file(store, &f2, &opts).await.unwrap();
    assert_eq!((r.inserted, r.unchanged), (0, 1), "{r:?}");
    assert_eq!(count().await, 2);
}

#[tokio::test]
async fn same_side_duplicates_in_another_file_are_not_dropped() {
    let e = env().await;
    same_side_duplicates_across_files(&e.store, e.dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_side_duplicates_in_another_file_are_not_dropped_in_postgres() {
    let store = pg_store().await;
    let dir = tempfile::tempdir().unwrap();
    same_side_duplicates_across_files(&store, dir.path()).await;
}
