//! Every interchange kind of DATA.md through `ingest_file`: what is stored, what is
//! quarantined (file, line, field, reason), what a whole file is refused for, and that CSV,
//! XLSX and JSON lines read alike and both stores agree.
//!
//! Each test writes its small input files into a temp dir; stored values are read straight
//! from the SQLite file. PostgreSQL runs use `FANZHA_TEST_PG` (default: 127.0.0.1:5432,
//! database `test`), each in a fresh schema, and fail — never skip — when it is unreachable.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use fanzha_core::schema::Kind;
use fanzha_ingest::{ingest_file, FileError, FileReport, IngestOptions};
use fanzha_store::{QuarantineEntry, Store};
use rusqlite::types::Value as Sql;

// --- helpers -------------------------------------------------------------------------

/// Timestamps written `@0`, `@1` (a day later) and `@e` (a month earlier) in the CSV texts.
fn expand(s: &str) -> String {
    s.replace("@0", "2026-03-01T09:30:00+08:00")
        .replace("@1", "2026-03-02T09:30:00+08:00")
        .replace("@e", "2026-02-01T09:30:00+08:00")
}

/// UTC microseconds of an RFC 3339 time.
fn micros(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_micros()
}

/// A valid resident ID (ISO 7064 MOD 11-2 check character) and one with a wrong check.
const P1: &str = "11010519491231002X";
const P2: &str = "440304199001011233";
const P1_BAD_CHECK: &str = "110105194912310021";
/// A card passing Luhn, another one, and the first with its last digit changed.
const CARD: &str = "6222021234567890128";
const CARD2: &str = "6217003210000000001";
const CARD_BAD_LUHN: &str = "6222021234567890127";

struct Env {
    dir: tempfile::TempDir,
    db: PathBuf,
    store: Arc<dyn Store>,
    files: AtomicU32,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fanzha.sqlite");
    let store = fanzha_store::open(db.to_str().unwrap()).await.unwrap();
    Env {
        dir,
        db,
        store,
        files: AtomicU32::new(0),
    }
}

/// A store in a fresh PostgreSQL schema; panics when the server is unreachable.
async fn pg_store() -> Arc<dyn Store> {
    fanzha_store::testing::fresh_pg_store("ingest_kinds").await
}

impl Env {
    /// Writes `name` (its stem tells the kind) into a new subdirectory, so names repeat.
    fn file(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let sub = self
            .dir
            .path()
            .join(format!("f{}", self.files.fetch_add(1, Ordering::SeqCst)));
        std::fs::create_dir(&sub).unwrap();
        let path = sub.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// A CSV file of `kind` from a text with `@` timestamps.
    fn csv(&self, kind: &str, text: &str) -> PathBuf {
        self.file(&format!("{kind}.csv"), expand(text))
    }

    async fn ingest(&self, path: &Path) -> FileReport {
        ingest_file(&self.store, path, &IngestOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn ingest_err(&self, path: &Path) -> FileError {
        match ingest_file(&self.store, path, &IngestOptions::default()).await {
            Ok(r) => panic!("{} was accepted: {r:?}", path.display()),
            Err(e) => e,
        }
    }

    /// The quarantine entries of one file, by line.
    async fn quarantined(&self, path: &Path) -> Vec<QuarantineEntry> {
        let file = fanzha_ingest::file_id(path);
        let mut q: Vec<_> = self
            .store
            .quarantine_list()
            .await
            .unwrap()
            .into_iter()
            // Workbook rows are named `path#sheet`.
            .filter(|e| e.file == file || e.file.starts_with(&format!("{file}#")))
            .collect();
        q.sort_by_key(|e| e.line);
        q
    }

    /// Rows of a query on the SQLite file.
    fn query(&self, sql: &str) -> Vec<Vec<Sql>> {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Sql>(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// One value of the only row of `kind`'s table (or of the rows `filter` selects).
    fn value(&self, kind: &str, column: &str, filter: &str) -> Sql {
        let rows = self.query(&format!("SELECT {column} FROM {kind} WHERE {filter}"));
        assert_eq!(rows.len(), 1, "{kind} rows where {filter}: {rows:?}");
        rows[0][0].clone()
    }
}

fn text(s: &str) -> Sql {
    Sql::Text(s.to_owned())
}

fn stored_json(v: &Sql) -> serde_json::Value {
    match v {
        Sql::Text(s) => serde_json::from_str(s).unwrap(),
        other => panic!("extra is {other:?}, not JSON text"),
    }
}

/// Asserts a file of one record was refused with this field and a reason containing `why`.
async fn assert_one_rejection(
    e: &Env,
    path: &Path,
    r: &FileReport,
    field: Option<&str>,
    why: &str,
    what: &str,
) {
    assert_eq!((r.inserted, r.rejected), (0, 1), "{what}: {r:?}");
    let q = e.quarantined(path).await;
    assert_eq!(q.len(), 1, "{what}: {q:#?}");
    assert_eq!(q[0].field.as_deref(), field, "{what}: {}", q[0].reason);
    assert!(
        q[0].reason.contains(why),
        "{what}: reason `{}` lacks `{why}`",
        q[0].reason
    );
    assert_eq!(q[0].line, 2, "{what}");
}

// --- 1. minimal and full records of every kind ---------------------------------------

/// Per kind: a record with only the required fields and one with every optional field too,
/// as CSV texts with `@` timestamps. (A lead must name someone, so its minimal record has
/// one of person_id, msisdn, account_id.)
const RECORDS: [(Kind, &str, &str); 17] = [
    (
        Kind::Jurisdictions,
        "code,name,level,parent_code\nD01,某区,district,\n",
        "code,name,level,parent_code,police_station\nT0101,某镇,town,D01,某派出所\n",
    ),
    (
        Kind::Institutions,
        "code,name,kind\nICBC,工商银行,bank\n",
        "code,name,kind\nCMCC,中国移动,carrier\n",
    ),
    (
        Kind::Places,
        "place_id,kind,community_code\nCELL-1,cell,C0101\n",
        "place_id,kind,community_code,name,address,lat,lon\nH-1,hotel,C0101,某宾馆,某路1号,29.56,-106.55\n",
    ),
    (
        Kind::Persons,
        "person_id,name,community_code\n11010519491231002X,张三,C0101\n",
        "person_id,name,community_code,id_kind,phone,address,tags\n440304199001011233,李四,C0101,resident,13800138000,某路2号,elderly|lives_alone\n",
    ),
    (
        Kind::Accounts,
        "account_id,bank_code,holder_id,opened_at\nCORP-0001,ICBC,P1,@e\n",
        "account_id,bank_code,holder_id,opened_at,class,status\n6222021234567890128,ICBC,P1,@e,II,dormant\n",
    ),
    (
        Kind::Sims,
        "msisdn,carrier,holder_id,activated_at\n13800138000,china_mobile,P1,@e\n",
        "msisdn,carrier,holder_id,activated_at,kind,deactivated_at\n1440123456789,china_unicom,CO1,@e,iot,@1\n",
    ),
    (
        Kind::Balances,
        "account_id,as_of,balance_fen\n6222021234567890128,@0,0\n",
        "account_id,as_of,balance_fen\n6222021234567890128,@e,150000\n",
    ),
    (
        Kind::Transactions,
        "tx_id,ts,from_account,to_account,amount_fen,channel\nTX1,@0,6222021234567890128,6217003210000000001,50000,transfer\n",
        "tx_id,ts,from_account,to_account,amount_fen,channel,memo,device_id,ip,cell_id\nTX2,@1,6222021234567890128,6217003210000000001,120000,online_pay,投资款,DEV-1,113.204.11.8,CELL-1\n",
    ),
    (
        Kind::Calls,
        "call_id,ts,caller,callee,duration_s\nCALL1,@0,13800138000,13900139000,65\n",
        "call_id,ts,caller,callee,duration_s,kind,cell_id,imei\nCALL2,@1,+85251234567,13900139000,0,voice,CELL-1,860000000000001\n",
    ),
    (
        Kind::Sms,
        "sms_id,ts,sender,receiver\nSMS1,@0,95588,13900139000\n",
        "sms_id,ts,sender,receiver,text,cell_id\nSMS2,@1,1069000012345,13900139000,您的验证码,CELL-1\n",
    ),
    (
        Kind::Logins,
        "event_id,ts,subject,device_id\nL1,@0,6222021234567890128,DEV-1\n",
        "event_id,ts,subject,device_id,ip,cell_id\nL2,@1,13800138000,DEV-2,10.0.0.1,CELL-1\n",
    ),
    (
        Kind::AppEvents,
        "event_id,ts,msisdn,event,app\nE1,@0,13800138000,install,国家反诈中心\n",
        "event_id,ts,msisdn,event,app,risk_label\nE2,@1,13800138000,open,某投资,known_fraud_app\n",
    ),
    (
        Kind::Reports,
        "report_id,ts,victim_id,typology,loss_fen\nR1,@0,P1,order_brushing,500000\n",
        "report_id,ts,victim_id,typology,loss_fen,description,community_code,channel\nR2,@1,P2,fake_investment,1200000,网上投资被骗,C0101,walk_in\n",
    ),
    (
        Kind::ReportPayments,
        "report_id,tx_id\nR1,TX1\n",
        "report_id,tx_id\nR1,TX2\n",
    ),
    (
        Kind::Leads,
        "lead_id,ts,source,reason,account_id\nLD1,@0,bank,快进快出,6222021234567890128\n",
        "lead_id,ts,source,reason,person_id,msisdn,account_id,typology\nLD2,@1,national,涉诈号码,P1,13800138000,6222021234567890128,fake_loan\n",
    ),
    (
        Kind::Cases,
        "case_id,filed_at,report_ids\nCASE1,@0,R1\n",
        "case_id,filed_at,report_ids,solved_at,suspects_arrested,suspects_prosecuted\nCASE2,@0,R1|R2,@1,3,0\n",
    ),
    (
        Kind::ExternalFreezes,
        "account_id,authority,measure,amount_fen,registered_at\n6222021234567890128,某市公安局,freeze,500000,@0\n",
        "account_id,authority,measure,amount_fen,registered_at,expires_at,document_no\n6222021234567890128,某市公安局,stop,500000,@0,@1,冻字第1号\n",
    ),
];

#[tokio::test]
async fn minimal_and_full_records_of_every_kind_are_stored_once() {
    let listed: Vec<Kind> = RECORDS.iter().map(|(k, _, _)| *k).collect();
    assert_eq!(listed, Kind::ALL, "one entry per kind, in order");

    for (kind, minimal, full) in RECORDS {
        let e = env().await;
        let schema = kind.schema();
        let (min_path, full_path) = (e.csv(kind.as_str(), minimal), e.csv(kind.as_str(), full));
        // The minimal file's header is the required fields (plus the one named party of a lead).
        let header: Vec<&str> = minimal.lines().next().unwrap().split(',').collect();
        assert!(
            header
                .iter()
                .filter(|h| !schema.required.contains(h))
                .count()
                <= usize::from(kind == Kind::Leads),
            "{kind}: the minimal record has optional fields"
        );
        let full_header = full.lines().next().unwrap().split(',').count();
        assert_eq!(
            full_header,
            schema.required.len() + schema.optional.len(),
            "{kind}: the full record lacks a field"
        );

        for (i, path) in [&min_path, &full_path].into_iter().enumerate() {
            let r = e.ingest(path).await;
            assert_eq!(
                (r.inserted, r.updated, r.unchanged, r.rejected),
                (1, 0, 0, 0),
                "{kind} {}: {r:?}",
                path.display()
            );
            assert_eq!(r.kind, kind.as_str());
            // Only a first load into an empty table defers the read indexes and builds them.
            if kind == Kind::Transactions {
                assert_eq!(r.read_indexes_secs.is_some(), i == 0, "{r:?}");
            }
        }
        for path in [&min_path, &full_path] {
            let again = e.ingest(path).await;
            assert_eq!(
                (
                    again.inserted,
                    again.updated,
                    again.unchanged,
                    again.rejected
                ),
                (0, 0, 1, 0),
                "{kind}: re-ingest {again:?}"
            );
            assert_eq!(again.read_indexes_secs, None, "{kind}: {again:?}");
        }
        assert_eq!(e.store.counts().await.unwrap()[kind.as_str()], 2, "{kind}");
        assert_eq!(e.store.counts().await.unwrap()["quarantine"], 0, "{kind}");

        // The full record fills every stored column; the minimal one leaves the optional
        // ones empty (kinds without optional fields have two full records).
        let all_set = schema
            .columns
            .iter()
            .map(|c| format!("{} IS NOT NULL", c.name))
            .collect::<Vec<_>>()
            .join(" AND ");
        let full_rows = e.query(&format!("SELECT COUNT(*) FROM {kind} WHERE {all_set}"));
        let expected = if schema.optional.is_empty() { 2 } else { 1 };
        assert_eq!(full_rows[0][0], Sql::Integer(expected), "{kind}");
    }
}

#[tokio::test]
async fn stored_values_take_the_contract_forms() {
    let e = env().await;
    for (kind, minimal, full) in RECORDS {
        for csv in [minimal, full] {
            let r = e.ingest(&e.csv(kind.as_str(), csv)).await;
            assert_eq!(r.inserted, 1, "{kind}: {r:?}");
        }
    }
    // Instants as UTC microseconds.
    assert_eq!(
        e.value("transactions", "ts", "tx_id = 'TX1'"),
        Sql::Integer(micros("2026-03-01T01:30:00Z"))
    );
    assert_eq!(
        e.value("transactions", "amount_fen", "tx_id = 'TX2'"),
        Sql::Integer(120_000)
    );
    assert_eq!(
        e.value("transactions", "from_form", "tx_id = 'TX2'"),
        text("card")
    );
    // A person: the default id kind and the birth date from the id.
    assert_eq!(
        e.value(
            "persons",
            "id_kind || ' ' || birth_date",
            &format!("person_id = '{P1}'")
        ),
        text("resident 1949-12-31")
    );
    assert_eq!(
        e.value("persons", "tags", &format!("person_id = '{P2}'")),
        text("elderly|lives_alone")
    );
    // Coordinates as the decimal text given.
    assert_eq!(
        e.value("places", "lon", "place_id = 'H-1'"),
        text("-106.55")
    );
    // A district has no parent; a class II card account keeps its class and status.
    assert_eq!(
        e.value("jurisdictions", "parent_code", "code = 'D01'"),
        Sql::Null
    );
    assert_eq!(
        e.value(
            "accounts",
            "class || '/' || status",
            &format!("account_id = '{CARD}'")
        ),
        text("II/dormant")
    );
    assert_eq!(
        e.value("sims", "deactivated_at", "msisdn = '1440123456789'"),
        Sql::Integer(micros("2026-03-02T01:30:00Z"))
    );
    // Calls: the original, the normal form and the class of each party.
    assert_eq!(
        e.query("SELECT caller, caller_norm, caller_class, duration_s FROM calls WHERE call_id = 'CALL2'"),
        [vec![
            text("+85251234567"),
            text("+85251234567"),
            text("international"),
            Sql::Integer(0)
        ]]
    );
    assert_eq!(
        e.value("sms", "sender_class", "sms_id = 'SMS1'"),
        text("service_95")
    );
    assert_eq!(
        e.query("SELECT solved_at, suspects_arrested, suspects_prosecuted FROM cases WHERE case_id = 'CASE2'"),
        [vec![
            Sql::Integer(micros("2026-03-02T09:30:00+08:00")),
            Sql::Integer(3),
            Sql::Integer(0)
        ]]
    );
    assert_eq!(
        e.value("cases", "solved_at", "case_id = 'CASE1'"),
        Sql::Null
    );
}

// --- 2. each validation rule ---------------------------------------------------------

const TX: &str = "tx_id,ts,from_account,to_account,amount_fen,channel";
const CALL: &str = "call_id,ts,caller,callee,duration_s,kind";

/// One refused record: kind, header, row (with `@` timestamps), the field blamed and a
/// fragment of the reason.
struct Refused {
    kind: &'static str,
    header: &'static str,
    row: String,
    field: Option<&'static str>,
    why: &'static str,
}

fn refused(
    kind: &'static str,
    header: &'static str,
    row: impl Into<String>,
    field: Option<&'static str>,
    why: &'static str,
) -> Refused {
    Refused {
        kind,
        header,
        row: row.into(),
        field,
        why,
    }
}

#[rustfmt::skip]
fn refusals() -> Vec<Refused> {
    let f = Some;
    const JUR: &str = "code,name,level,parent_code";
    const PLACE: &str = "place_id,kind,community_code,lat,lon";
    const SIM: &str = "msisdn,carrier,holder_id,activated_at";
    const REPORT: &str = "report_id,ts,victim_id,typology,loss_fen";
    const FREEZE: &str = "account_id,authority,measure,amount_fen,registered_at";
    vec![
        // jurisdictions
        refused("jurisdictions", JUR, "T01,某镇,town,", f("parent_code"), "a town needs its parent"),
        refused("jurisdictions", JUR, "C01,某社区,community,", f("parent_code"), "needs its parent"),
        refused("jurisdictions", JUR, "X01,某市,city,", f("level"), "unknown jurisdiction level"),
        refused("jurisdictions", JUR, "T-01,某镇,town,D01", f("code"), "invalid character '-'"),
        refused("jurisdictions", JUR, "T01,某镇,town,D.01", f("parent_code"), "invalid character '.'"),
        refused("jurisdictions", JUR, "T01, ,town,D01", f("name"), "is empty"),
        // institutions
        refused("institutions", "code,name,kind", "SHOP1,某店,shop", f("kind"), "`shop` is not one of"),
        refused("institutions", "code,name,kind", ",某行,bank", f("code"), "is empty"),
        // places
        refused("places", PLACE, "P1,cell,C01,91,106.5", f("lat"), "between -90 and 90"),
        refused("places", PLACE, "P1,cell,C01,-90.5,106.5", f("lat"), "between -90 and 90"),
        refused("places", PLACE, "P1,cell,C01,29.5,181", f("lon"), "between -180 and 180"),
        refused("places", PLACE, "P1,cell,C01,north,106.5", f("lat"), "`north` is not a number"),
        refused("places", "place_id,kind,community_code", "P1,bar,C01", f("kind"), "`bar` is not one of"),
        refused("places", "place_id,kind,community_code", "P1,cell,", f("community_code"), "empty"),
        // persons
        refused("persons", "person_id,name,community_code,id_kind", format!("{P1},张三,C01,alien"), f("id_kind"), "unknown id kind"),
        refused("persons", "person_id,name,community_code", format!("{P1_BAD_CHECK},张三,C01"), f("person_id"), "check character"),
        refused("persons", "person_id,name,community_code,id_kind", "E12,张三,C01,passport", f("person_id"), "5 to 20 characters"),
        refused("persons", "person_id,name,community_code,id_kind", "91350100M000100Y40,某公司,C01,company", f("person_id"), "check character"),
        refused("persons", "person_id,name,community_code,tags", format!("{P1},张三,C01,elderly||student"), f("tags"), "empty tag"),
        refused("persons", "person_id,name,community_code,tags", format!("{P1},张三,C01,elderly|"), f("tags"), "empty tag"),
        refused("persons", "person_id,name,community_code,phone", format!("{P1},张三,C01,  "), f("phone"), "blank"),
        refused("persons", "person_id,name,community_code", format!("{P1},,C01"), f("name"), "is empty"),
        // accounts
        refused("accounts", "account_id,bank_code,holder_id,opened_at,class", format!("{CARD_BAD_LUHN},ICBC,P1,@0,II"), f("account_id"), "Luhn"),
        refused("accounts", "account_id,bank_code,holder_id,opened_at,class", "CORP-1,ICBC,P1,@0,I", f("account_id"), "only digits"),
        refused("accounts", "account_id,bank_code,holder_id,opened_at,status", format!("{CARD},ICBC,P1,@0,frozen"), f("status"), "unknown account status \"frozen\""),
        refused("accounts", "account_id,bank_code,holder_id,opened_at,class", format!("{CARD},ICBC,P1,@0,IV"), f("class"), "unknown account class"),
        refused("accounts", "account_id,bank_code,holder_id,opened_at", format!("{CARD},ICBC,P1,2026-03-01 09:30:00"), f("opened_at"), "no UTC offset"),
        refused("accounts", "account_id,bank_code,holder_id,opened_at", format!("{CARD},ICBC,,@0"), f("holder_id"), "is empty"),
        // sims
        refused("sims", SIM, "138001380001,china_mobile,P1,@0", f("msisdn"), "must be 11 digits"),
        refused("sims", SIM, "+8613800138000,china_mobile,P1,@0", f("msisdn"), "country code"),
        refused("sims", SIM, "12800138000,china_mobile,P1,@0", f("msisdn"), "second digit 3-9"),
        refused("sims", "msisdn,carrier,holder_id,activated_at,deactivated_at", "13800138000,china_mobile,P1,@1,@0", f("deactivated_at"), "before activated_at"),
        refused("sims", "msisdn,carrier,holder_id,activated_at,kind", "13800138000,china_mobile,P1,@0,prepaid", f("kind"), "`prepaid` is not one of"),
        // balances
        refused("balances", "account_id,as_of,balance_fen", format!("{CARD},@0,-1"), f("balance_fen"), "must not be negative"),
        refused("balances", "account_id,as_of,balance_fen", format!("{CARD},@0,12.50"), f("balance_fen"), "integer fen"),
        refused("balances", "account_id,as_of,balance_fen", format!("{CARD},yesterday,0"), f("as_of"), "not RFC 3339"),
        // transactions
        refused("transactions", TX, format!("TX1,@0,,{CARD},100,transfer"), f("from_account"), "only a cash_deposit may be"),
        refused("transactions", TX, format!("TX1,@0,{CARD},,100,transfer"), f("to_account"), "only an atm_withdrawal may be"),
        refused("transactions", TX, format!("TX1,@0,,{CARD},100,atm_withdrawal"), f("from_account"), "cash_deposit"),
        refused("transactions", TX, format!("TX1,@0,{CARD},{CARD2},0,transfer"), f("amount_fen"), "must be positive"),
        refused("transactions", TX, format!("TX1,@0,{CARD},{CARD2},-5,transfer"), f("amount_fen"), "must be positive"),
        refused("transactions", TX, format!("TX1,@0,{CARD},{CARD2},1.00,transfer"), f("amount_fen"), "integer fen"),
        refused("transactions", TX, format!("TX1,@0,{CARD},{CARD2},100,"), f("channel"), "is empty"),
        refused("transactions", TX, format!("TX1,,{CARD},{CARD2},100,transfer"), f("ts"), "is empty"),
        // calls
        refused("calls", CALL, "C1,@0,13800138000,13900139000,-1,voice", f("duration_s"), "not a whole number"),
        refused("calls", CALL, "C1,@0,13800138000,13900139000,1.5,voice", f("duration_s"), "not a whole number"),
        refused("calls", CALL, "C1,@0,13800138000,13900139000,10,fax", f("kind"), "`fax` is not one of: voice, video"),
        refused("calls", CALL, "C1,@0, ,13900139000,10,voice", f("caller"), "blank"),
        refused("calls", CALL, "C1,@0,13800138000,,10,voice", f("callee"), "blank"),
        // sms
        refused("sms", "sms_id,ts,sender,receiver", "S1,@0,95588,", f("receiver"), "blank"),
        refused("sms", "sms_id,ts,sender,receiver", "S1,2026-03-01T09:30:00,95588,13900139000", f("ts"), "no UTC offset"),
        refused("sms", "sms_id,ts,sender,receiver", ",@0,95588,13900139000", f("sms_id"), "is empty"),
        // logins
        refused("logins", "event_id,ts,subject,device_id", format!("L1,@0,{CARD},"), f("device_id"), "is empty"),
        refused("logins", "event_id,ts,subject,device_id", "L1,@0,,DEV-1", f("subject"), "is empty"),
        // app_events
        refused("app_events", "event_id,ts,msisdn,event,app", "E1,@0,13800138000,update,某App", f("event"), "`update` is not one of: install, uninstall, open"),
        refused("app_events", "event_id,ts,msisdn,event,app", "E1,@0,12345,open,某App", f("msisdn"), "must be 11 digits"),
        refused("app_events", "event_id,ts,msisdn,event,app", "E1,@0,13800138000,open,", f("app"), "is empty"),
        // reports
        refused("reports", REPORT, "R1,@0,P1,telecom,100", f("typology"), "`telecom` is not one of"),
        refused("reports", REPORT, "R1,@0,P1,romance,0", f("loss_fen"), "must be positive"),
        refused("reports", "report_id,ts,victim_id,typology,loss_fen,channel", "R1,@0,P1,romance,100,phone", f("channel"), "`phone` is not one of"),
        refused("reports", "report_id,ts,victim_id,typology,loss_fen,community_code", "R1,@0,P1,romance,100,C 01", f("community_code"), "invalid character ' '"),
        refused("reports", REPORT, "R1,@0,,romance,100", f("victim_id"), "is empty"),
        // report_payments
        refused("report_payments", "report_id,tx_id", "R1,", f("tx_id"), "is empty"),
        refused("report_payments", "report_id,tx_id", ",TX1", f("report_id"), "is empty"),
        // leads
        refused("leads", "lead_id,ts,source,reason,person_id,msisdn,account_id", "LD1,@0,bank,可疑,,,", None, "names no one"),
        refused("leads", "lead_id,ts,source,reason,account_id", format!("LD1,@0,police,可疑,{CARD}"), f("source"), "`police` is not one of"),
        refused("leads", "lead_id,ts,source,reason,msisdn", "LD1,@0,carrier,可疑,+8613800138000", f("msisdn"), "country code"),
        refused("leads", "lead_id,ts,source,reason,person_id,typology", "LD1,@0,app,可疑,P1,scam", f("typology"), "`scam` is not one of"),
        refused("leads", "lead_id,ts,source,reason,person_id", "LD1,@0,app,,P1", f("reason"), "is empty"),
        // cases
        refused("cases", "case_id,filed_at,report_ids", "K1,@0,R1||R2", f("report_ids"), "none empty"),
        refused("cases", "case_id,filed_at,report_ids", "K1,@0,R1|", f("report_ids"), "none empty"),
        refused("cases", "case_id,filed_at,report_ids", "K1,@0,", f("report_ids"), "must list report ids"),
        refused("cases", "case_id,filed_at,report_ids,solved_at", "K1,@1,R1,@0", f("solved_at"), "before filed_at"),
        refused("cases", "case_id,filed_at,report_ids,suspects_arrested", "K1,@0,R1,-1", f("suspects_arrested"), "whole number"),
        refused("cases", "case_id,filed_at,report_ids,suspects_prosecuted", "K1,@0,R1,two", f("suspects_prosecuted"), "`two`"),
        // external_freezes
        refused("external_freezes", "account_id,authority,measure,amount_fen,registered_at,expires_at", format!("{CARD},某局,freeze,100,@1,@0"), f("expires_at"), "before registered_at"),
        refused("external_freezes", FREEZE, format!("{CARD},某局,seize,100,@0"), f("measure"), "`seize` is not one of"),
        refused("external_freezes", FREEZE, format!("{CARD},某局,freeze,-100,@0"), f("amount_fen"), "must not be negative"),
        refused("external_freezes", FREEZE, format!("{CARD},,freeze,100,@0"), f("authority"), "is empty"),
    ]
}

#[tokio::test]
async fn every_validation_rule_quarantines_the_record_and_names_the_field() {
    let cases = refusals();
    let kinds: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.kind).collect();
    assert_eq!(kinds.len(), 17, "every kind has a refusal: {kinds:?}");

    let e = env().await;
    for c in &cases {
        let text = format!("{}\n{}\n", c.header, c.row);
        let path = e.csv(c.kind, &text);
        let r = e.ingest(&path).await;
        let what = format!("{}: {}", c.kind, c.row);
        assert_one_rejection(&e, &path, &r, c.field, c.why, &what).await;
        // The report carries the rejection too, and the quarantine keeps the record as read.
        assert_eq!(r.first_rejections[0].field.as_deref(), c.field, "{what}");
        let q = e.quarantined(&path).await;
        assert_eq!(q[0].kind, c.kind);
        assert_eq!(q[0].original, expand(&c.row).into_bytes(), "{what}");
    }
    let counts = e.store.counts().await.unwrap();
    assert_eq!(counts["quarantine"], cases.len() as u64);
    for kind in Kind::ALL {
        assert_eq!(
            counts[kind.as_str()],
            0,
            "{kind}: nothing refused was stored"
        );
    }
}

/// A record stored although it looks odd, and the stored values to check.
struct Kept {
    kind: &'static str,
    header: &'static str,
    row: String,
    expect: Vec<(&'static str, Sql)>,
}

fn kept(
    kind: &'static str,
    header: &'static str,
    row: impl Into<String>,
    expect: Vec<(&'static str, Sql)>,
) -> Kept {
    Kept {
        kind,
        header,
        row: row.into(),
        expect,
    }
}

#[rustfmt::skip]
fn keeps() -> Vec<Kept> {
    let t = text;
    let at0 = Sql::Integer(micros("2026-03-01T09:30:00+08:00"));
    vec![
        // A non-card account number is kept exactly, whatever its class says it is.
        kept("accounts", "account_id,bank_code,holder_id,opened_at,class", "0012-对公-8801,ICBC,CO1,@0,corporate",
            vec![("account_id", t("0012-对公-8801")), ("class", t("corporate")), ("status", Sql::Null)]),
        kept("accounts", "account_id,bank_code,holder_id,opened_at,class", format!("{CARD_BAD_LUHN},ICBC,CO1,@0,payment"),
            vec![("account_id", t(CARD_BAD_LUHN)), ("class", t("payment"))]),
        kept("accounts", "account_id,bank_code,holder_id,opened_at,class,status", format!("{CARD},ICBC,P1,@0,2,closed"),
            vec![("class", t("II")), ("status", t("closed"))]),
        // Persons of other id kinds; a landline as the phone.
        kept("persons", "person_id,name,community_code,id_kind", "E0012345,John,C01,passport",
            vec![("person_id", t("E0012345")), ("id_kind", t("passport")), ("birth_date", Sql::Null)]),
        kept("persons", "person_id,name,community_code,phone", format!("{P1},张三,C01,023-63961234"),
            vec![("phone", t("023-63961234"))]),
        // Cash: no sender for a deposit, no receiver for a withdrawal.
        kept("transactions", TX, format!("TX1,@0,,{CARD},100,cash_deposit"),
            vec![("from_account", Sql::Null), ("from_form", Sql::Null), ("to_form", t("card"))]),
        kept("transactions", TX, format!("TX1,@0,{CARD},,100,atm_withdrawal"),
            vec![("to_account", Sql::Null), ("to_form", Sql::Null)]),
        // A channel outside the list is kept; a counterparty of any form is kept and marked.
        kept("transactions", TX, format!("TX1,@0,{CARD},支付宝-商户88,100,红包"),
            vec![("channel", t("红包")), ("to_account", t("支付宝-商户88")), ("to_form", t("other")), ("from_form", t("card"))]),
        kept("transactions", TX, format!("TX1,@0,{CARD_BAD_LUHN},0012345,100,crypto_exchange"),
            vec![("from_form", t("digits")), ("to_account", t("0012345")), ("to_form", t("digits"))]),
        // Calls: foreign and virtual numbers are signals, not errors.
        kept("calls", CALL, "C1,@0,+85251234567,13900139000,30,video",
            vec![("caller_class", t("international")), ("caller_norm", t("+85251234567")), ("kind", t("video"))]),
        kept("calls", CALL, "C1,@0,17012345678,+86 139-0013-9000,30,",
            vec![("caller_class", t("virtual")), ("callee", t("+86 139-0013-9000")), ("callee_norm", t("13900139000")),
                 ("callee_class", t("mobile")), ("kind", Sql::Null)]),
        kept("calls", CALL, "C1,@0,023-63961234,4008001234,0,voice",
            vec![("caller_class", t("fixed_line")), ("caller_norm", t("02363961234")), ("callee_class", t("service_400")),
                 ("duration_s", Sql::Integer(0))]),
        kept("calls", CALL, "C1,@0,???,95588,5,voice",
            vec![("caller", t("???")), ("caller_class", t("unknown")), ("callee_class", t("service_95"))]),
        kept("sms", "sms_id,ts,sender,receiver", "S1,@0,+447700900123,1440123456789",
            vec![("sender_class", t("international")), ("receiver_class", t("iot"))]),
        // A 13-digit IoT SIM, deactivated the moment it was activated.
        kept("sims", "msisdn,carrier,holder_id,activated_at,deactivated_at", "1064812345678,china_mobile,CO1,@0,@0",
            vec![("msisdn", t("1064812345678")), ("deactivated_at", at0)]),
        // A report by the 96110 hotline; a lead naming only a number.
        kept("reports", "report_id,ts,victim_id,typology,loss_fen,channel", "R1,@0,P1,ai_face_voice,1,96110",
            vec![("channel", t("96110")), ("typology", t("ai_face_voice")), ("loss_fen", Sql::Integer(1))]),
        kept("leads", "lead_id,ts,source,reason,msisdn", "LD1,@0,carrier,呼叫异常,13800138000",
            vec![("msisdn", t("13800138000")), ("person_id", Sql::Null)]),
        // A release lifts a measure with no amount.
        kept("external_freezes", "account_id,authority,measure,amount_fen,registered_at,expires_at", format!("{CARD},某局,release,0,@0,"),
            vec![("measure", t("release")), ("amount_fen", Sql::Integer(0)), ("expires_at", Sql::Null)]),
        kept("balances", "account_id,as_of,balance_fen", "CORP-1,@0,0", vec![("balance_fen", Sql::Integer(0))]),
        kept("cases", "case_id,filed_at,report_ids,solved_at", "K1,@0,R1,@0", vec![("report_ids", t("R1"))]),
    ]
}

#[tokio::test]
async fn odd_but_valid_records_are_kept_as_given() {
    for c in keeps() {
        let e = env().await;
        let path = e.csv(c.kind, &format!("{}\n{}\n", c.header, c.row));
        let r = e.ingest(&path).await;
        assert_eq!(
            (r.inserted, r.rejected),
            (1, 0),
            "{}: {} {r:?}",
            c.kind,
            c.row
        );
        for (column, want) in c.expect {
            assert_eq!(
                e.value(c.kind, column, "1 = 1"),
                want,
                "{}.{column} of {}",
                c.kind,
                c.row
            );
        }
    }
}

// --- 3. extras -----------------------------------------------------------------------

#[tokio::test]
async fn columns_outside_the_contract_are_kept_as_extras_for_every_kind() {
    for (kind, minimal, _) in RECORDS {
        let e = env().await;
        let mut lines = minimal.lines();
        let (header, row) = (lines.next().unwrap(), lines.next().unwrap());
        // One extra with a value, one left empty, one in front of the contract's columns.
        let text = format!("来源,{header},batch_no,empty_extra\n某行,{row},B-007,\n");
        let path = e.csv(kind.as_str(), &text);
        let r = e.ingest(&path).await;
        assert_eq!((r.inserted, r.rejected), (1, 0), "{kind}: {r:?}");
        let extra = stored_json(&e.value(kind.as_str(), "extra", "1 = 1"));
        assert_eq!(
            extra,
            serde_json::json!({"来源": "某行", "batch_no": "B-007"}),
            "{kind}"
        );
        // Extras have no meaning: the record without them is the same record.
        let plain = e.csv(kind.as_str(), minimal);
        let again = e.ingest(&plain).await;
        assert_eq!(
            (again.inserted, again.unchanged, again.rejected),
            (0, 1, 0),
            "{kind}: {again:?}"
        );
    }
    let e = env().await;
    let r = e.ingest(&e.csv("transactions", RECORDS[7].1)).await;
    assert_eq!(r.inserted, 1);
    assert_eq!(e.value("transactions", "extra", "1 = 1"), Sql::Null);
}

// --- 4. header errors ----------------------------------------------------------------

#[tokio::test]
async fn a_repeated_or_missing_column_refuses_the_whole_file() {
    let e = env().await;
    for (kind, minimal, _) in RECORDS {
        let required = kind.schema().required;
        let row = minimal.lines().nth(1).unwrap();

        // A required column given twice.
        let header = format!("{},{}", required.join(","), required[0]);
        let path = e.csv(kind.as_str(), &format!("{header}\n{row},x\n"));
        let err = e.ingest_err(&path).await;
        match &err {
            FileError::BadHeader { reason, .. } => assert!(
                reason.contains(&format!("`{}` appears twice", required[0])),
                "{kind}: {reason}"
            ),
            other => panic!("{kind}: {other}"),
        }

        // Each required column missing in turn.
        for missing in required {
            let header: Vec<&str> = required.iter().copied().filter(|f| f != missing).collect();
            let path = e.csv(kind.as_str(), &format!("{}\nx\n", header.join(",")));
            match e.ingest_err(&path).await {
                FileError::MissingColumns { columns, .. } => {
                    assert_eq!(columns, [missing.to_string()], "{kind}")
                }
                other => panic!("{kind} without {missing}: {other}"),
            }
        }
    }
    // Two missing columns are both named, and the message says which.
    let path = e.csv(
        "transactions",
        "tx_id,ts,from_account,to_account\nT1,@0,a,b\n",
    );
    let err = e.ingest_err(&path).await;
    let msg = err.to_string();
    assert!(
        matches!(&err, FileError::MissingColumns { columns, .. } if columns == &["amount_fen", "channel"]),
        "{msg}"
    );
    assert!(
        msg.contains("missing required columns amount_fen, channel"),
        "{msg}"
    );
    // An optional column given twice is as bad as a required one.
    let path = e.csv(
        "calls",
        "call_id,ts,caller,callee,duration_s,kind,kind\nC1,@0,1,2,3,voice,video\n",
    );
    assert!(
        matches!(e.ingest_err(&path).await, FileError::BadHeader { reason, .. } if reason.contains("`kind`"))
    );
    // Nothing was stored by any refused file.
    let counts = e.store.counts().await.unwrap();
    assert!(counts.values().all(|n| *n == 0), "{counts:?}");
}

// --- 5. NUL characters ---------------------------------------------------------------

#[tokio::test]
async fn a_field_with_a_nul_character_is_refused() {
    let e = env().await;
    let header = format!("{TX},memo,note");
    let rows = [
        (
            format!("T\01,@0,{CARD},{CARD2},100,transfer,,"),
            Some("tx_id"),
        ),
        (
            format!("T2,@0,{CARD},{CARD2},100,transfer,a\0b,"),
            Some("memo"),
        ),
        (
            format!("T3,@0,{CARD},{CARD2},100,transfer,,x\0"),
            Some("note"),
        ),
        (format!("T4,@0,{CARD},{CARD2},100,transfer,ok,ok"), None),
    ];
    let text: String = std::iter::once(header.clone())
        .chain(rows.iter().map(|(r, _)| r.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    let path = e.csv("transactions", &text);
    let r = e.ingest(&path).await;
    assert_eq!((r.inserted, r.rejected), (1, 3), "{r:?}");
    let q = e.quarantined(&path).await;
    let got: Vec<(u64, Option<&str>)> = q.iter().map(|x| (x.line, x.field.as_deref())).collect();
    assert_eq!(
        got,
        [(2, Some("tx_id")), (3, Some("memo")), (4, Some("note"))]
    );
    assert!(q.iter().all(|x| x.reason.contains("NUL")), "{q:#?}");
    // The original keeps the NUL byte as it arrived.
    assert!(q[1].original.contains(&0));

    // In JSON lines too, written as an escape.
    let line = format!(
        r#"{{"call_id":"C1","ts":"{}","caller":"138\u0000","callee":"139","duration_s":1}}"#,
        expand("@0")
    );
    let path = e.file("calls.jsonl", line);
    let r = e.ingest(&path).await;
    assert_eq!((r.inserted, r.rejected), (0, 1), "{r:?}");
    let q = e.quarantined(&path).await;
    assert_eq!((q[0].line, q[0].field.as_deref()), (1, Some("caller")));
    assert!(q[0].reason.contains("NUL"), "{}", q[0].reason);
}

// --- 6. whitespace and leading zeros in identifiers -----------------------------------

/// Identifier fields: kind, header, a row builder around the identifier, the field, and the
/// reason fragment for a padded one.
type IdCase = (
    &'static str,
    &'static str,
    fn(&str) -> String,
    &'static str,
    &'static str,
);

#[rustfmt::skip]
fn identifier_cases() -> Vec<IdCase> {
    const WS: &str = "leading or trailing whitespace";
    vec![
        ("jurisdictions", "code,name,level,parent_code", |i| format!("{i},某区,district,"), "code", "invalid character ' '"),
        ("institutions", "code,name,kind", |i| format!("{i},某行,bank"), "code", WS),
        ("places", "place_id,kind,community_code", |i| format!("{i},atm,C01"), "place_id", WS),
        ("persons", "person_id,name,community_code,id_kind", |i| format!("{i},某人,C01,passport"), "person_id", WS),
        ("accounts", "account_id,bank_code,holder_id,opened_at", |i| format!("{i},ICBC,P1,@0"), "account_id", WS),
        ("accounts", "account_id,bank_code,holder_id,opened_at", |i| format!("CORP-1,ICBC,{i},@0"), "holder_id", WS),
        ("sims", "msisdn,carrier,holder_id,activated_at", |i| format!("13800138000,{i},P1,@0"), "carrier", WS),
        ("balances", "account_id,as_of,balance_fen", |i| format!("{i},@0,1"), "account_id", WS),
        ("transactions", TX, |i| format!("{i},@0,{CARD},{CARD2},1,transfer"), "tx_id", WS),
        ("calls", CALL, |i| format!("{i},@0,13800138000,13900139000,1,voice"), "call_id", WS),
        ("sms", "sms_id,ts,sender,receiver", |i| format!("{i},@0,95588,13900139000"), "sms_id", WS),
        ("logins", "event_id,ts,subject,device_id", |i| format!("{i},@0,{CARD},D1"), "event_id", WS),
        ("app_events", "event_id,ts,msisdn,event,app", |i| format!("{i},@0,13800138000,open,A"), "event_id", WS),
        ("reports", "report_id,ts,victim_id,typology,loss_fen", |i| format!("{i},@0,P1,other,1"), "report_id", WS),
        ("reports", "report_id,ts,victim_id,typology,loss_fen", |i| format!("R1,@0,{i},other,1"), "victim_id", WS),
        ("report_payments", "report_id,tx_id", |i| format!("R1,{i}"), "tx_id", WS),
        ("leads", "lead_id,ts,source,reason,person_id", |i| format!("{i},@0,app,x,P1"), "lead_id", WS),
        ("cases", "case_id,filed_at,report_ids", |i| format!("{i},@0,R1"), "case_id", WS),
        ("external_freezes", "account_id,authority,measure,amount_fen,registered_at", |i| format!("{i},某局,stop,1,@0"), "account_id", WS),
    ]
}

#[tokio::test]
async fn padded_identifiers_are_refused_and_leading_zeros_kept() {
    let e = env().await;
    for (kind, header, row, field, why) in identifier_cases() {
        for padded in [" 00123", "00123 ", "\"00123\t\""] {
            let text = format!("{header}\n{}\n", row(padded));
            let path = e.csv(kind, &text);
            let r = e.ingest(&path).await;
            let what = format!("{kind}.{field} = {padded:?}");
            if padded.contains('\t') {
                // A tab is whitespace to some checks and an invalid character to others.
                assert_eq!((r.inserted, r.rejected), (0, 1), "{what}: {r:?}");
                assert_eq!(
                    r.first_rejections[0].field.as_deref(),
                    Some(field),
                    "{what}"
                );
            } else {
                assert_one_rejection(&e, &path, &r, Some(field), why, &what).await;
            }
        }
    }
    for (kind, header, row, field, _) in identifier_cases() {
        let e = env().await;
        let path = e.csv(kind, &format!("{header}\n{}\n", row("00123")));
        let r = e.ingest(&path).await;
        assert_eq!((r.inserted, r.rejected), (1, 0), "{kind}.{field}: {r:?}");
        assert_eq!(
            e.value(kind, field, "1 = 1"),
            text("00123"),
            "{kind}.{field} keeps its leading zeros"
        );
    }
}

// --- 7. XLSX -------------------------------------------------------------------------

/// A cell of a generated workbook: text or a number.
enum X {
    S(&'static str),
    N(f64),
}

/// Writes one sheet; `rows[i]` goes to Excel row `first_row + i` (1-based), an empty row
/// stays empty.
fn write_sheet(path: &Path, first_row: u32, rows: &[Vec<X>]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (first_row - 1 + r as u32, c as u16);
            match cell {
                X::S(s) => ws.write_string(r, c, *s).map(|_| ()).unwrap(),
                X::N(n) => ws.write_number(r, c, *n).map(|_| ()).unwrap(),
            }
        }
    }
    wb.save(path).unwrap();
}

fn strings(cells: &[&'static str]) -> Vec<X> {
    cells.iter().map(|s| X::S(s)).collect()
}

#[tokio::test]
async fn xlsx_files_of_plain_kinds_read_like_csv() {
    use X::{N, S};
    let e = env().await;

    // Persons, from Excel row 1: a phone typed as a number, a community code with leading
    // zeros as text, a blank row, a wrong check digit and a padded passport number.
    let persons = e.file("persons.xlsx", b"");
    write_sheet(
        &persons,
        1,
        &[
            strings(&[
                "person_id",
                "name",
                "community_code",
                "id_kind",
                "phone",
                "备注",
            ]),
            vec![
                S(P1),
                S("张三"),
                S("000101"),
                S("resident"),
                N(13_800_138_000.0),
                S("x"),
            ],
            vec![],
            strings(&[P1_BAD_CHECK, "李四", "000101", "resident"]),
            strings(&[" E1234567", "John", "000101", "passport"]),
            strings(&["00E1234567", "Jane", "000101", "passport"]),
        ],
    );
    let r = e.ingest(&persons).await;
    assert_eq!((r.inserted, r.rejected), (2, 2), "{r:?}");
    assert_eq!(
        e.query(&format!(
            "SELECT community_code, phone, birth_date, extra FROM persons WHERE person_id = '{P1}'"
        )),
        [vec![
            text("000101"),
            text("13800138000"),
            text("1949-12-31"),
            text(r#"{"备注":"x"}"#)
        ]]
    );
    assert_eq!(
        e.value("persons", "name", "person_id = '00E1234567'"),
        text("Jane")
    );
    let q = e.quarantined(&persons).await;
    let got: Vec<(u64, Option<&str>)> = q.iter().map(|x| (x.line, x.field.as_deref())).collect();
    assert_eq!(
        got,
        [(4, Some("person_id")), (5, Some("person_id"))],
        "{q:#?}"
    );
    assert!(q[0].reason.contains("check character"), "{}", q[0].reason);
    assert!(q[1].reason.contains("whitespace"), "{}", q[1].reason);
    // The original keeps the cell as given, space included.
    assert!(
        q[1].original.starts_with(b" E1234567,John,"),
        "{:?}",
        q[1].original
    );
    assert!(String::from_utf8_lossy(&q[0].original).starts_with(P1_BAD_CHECK));

    // Transactions, the header on Excel row 3: amounts as numbers, a tx_id typed as a number,
    // a text id with leading zeros, a fractional amount and a padded id.
    let txs = e.file("transactions.xlsx", b"");
    let ts = "2026-03-01T09:30:00+08:00";
    write_sheet(
        &txs,
        3,
        &[
            strings(&[
                "tx_id",
                "ts",
                "from_account",
                "to_account",
                "amount_fen",
                "channel",
            ]),
            vec![
                S("007"),
                S(ts),
                S(CARD),
                S(CARD2),
                N(500_000.0),
                S("transfer"),
            ],
            vec![N(12_345.0), S(ts), S(CARD), S("00991"), N(100.0), S("pos")],
            vec![S("T3"), S(ts), S(CARD), S(CARD2), N(12.5), S("transfer")],
            vec![S("T4 "), S(ts), S(CARD), S(CARD2), N(1.0), S("transfer")],
            vec![S("T5"), S(ts), S(CARD), S(CARD2), N(0.0), S("transfer")],
        ],
    );
    let r = e.ingest(&txs).await;
    assert_eq!((r.inserted, r.rejected), (2, 3), "{r:?}");
    assert_eq!(
        e.query("SELECT tx_id, amount_fen, to_account, ts FROM transactions ORDER BY tx_id"),
        [
            vec![
                text("007"),
                Sql::Integer(500_000),
                text(CARD2),
                Sql::Integer(micros(ts))
            ],
            vec![
                text("12345"),
                Sql::Integer(100),
                text("00991"),
                Sql::Integer(micros(ts))
            ],
        ]
    );
    let q = e.quarantined(&txs).await;
    let got: Vec<(u64, Option<&str>)> = q.iter().map(|x| (x.line, x.field.as_deref())).collect();
    assert_eq!(
        got,
        [
            (6, Some("amount_fen")),
            (7, Some("tx_id")),
            (8, Some("amount_fen"))
        ],
        "{q:#?}"
    );
    assert!(q[0].reason.contains("`12.5`"), "{}", q[0].reason);

    // Re-ingesting a workbook stores nothing new.
    let again = e.ingest(&txs).await;
    assert_eq!((again.inserted, again.unchanged, again.rejected), (0, 2, 3));

    // The same records as CSV give the same verdicts.
    let csv = e.csv(
        "transactions",
        &format!(
            "tx_id,ts,from_account,to_account,amount_fen,channel\n\
             007,@0,{CARD},{CARD2},500000,transfer\n\
             12345,@0,{CARD},00991,100,pos\n\
             T3,@0,{CARD},{CARD2},12.5,transfer\n\
             T4 ,@0,{CARD},{CARD2},1,transfer\n\
             T5,@0,{CARD},{CARD2},0,transfer\n"
        ),
    );
    let r = e.ingest(&csv).await;
    assert_eq!((r.inserted, r.unchanged, r.rejected), (0, 2, 3), "{r:?}");
    let fields: Vec<_> = e
        .quarantined(&csv)
        .await
        .into_iter()
        .map(|x| x.field)
        .collect();
    assert_eq!(
        fields,
        [
            Some("amount_fen".into()),
            Some("tx_id".into()),
            Some("amount_fen".into())
        ]
    );
}

#[tokio::test]
async fn an_xlsx_without_a_required_column_is_refused() {
    let e = env().await;
    let path = e.file("sims.xlsx", b"");
    write_sheet(
        &path,
        1,
        &[
            strings(&["msisdn", "carrier", "holder_id"]),
            strings(&["13800138000", "china_mobile", "P1"]),
        ],
    );
    match e.ingest_err(&path).await {
        FileError::MissingColumns { columns, .. } => assert_eq!(columns, ["activated_at"]),
        other => panic!("{other}"),
    }
}

// --- 8. JSON lines -------------------------------------------------------------------

#[tokio::test]
async fn json_lines_take_numbers_for_amounts_not_identifiers() {
    let e = env().await;
    let t = expand("@0");
    let lines = [
        format!(
            r#"{{"tx_id":"T1","ts":"{t}","from_account":"{CARD}","to_account":"{CARD2}","amount_fen":500000,"channel":"transfer"}}"#
        ),
        format!(
            r#"{{"tx_id":123,"ts":"{t}","from_account":"{CARD}","to_account":"{CARD2}","amount_fen":1,"channel":"transfer"}}"#
        ),
        String::new(),
        "   ".to_owned(),
        "[1, 2]".to_owned(),
        r#"{"tx_id": "T5", "ts": "#.to_owned(),
        format!(
            r#"{{"tx_id":"007","ts":"{t}","from_account":"{CARD}","to_account":"00991","amount_fen":"100","channel":"pos","memo":null,"渠道号":"x"}}"#
        ),
        format!(
            r#"{{"tx_id":"T8","ts":"{t}","from_account":"{CARD}","to_account":"{CARD2}","amount_fen":1}}"#
        ),
        format!(
            r#"{{"tx_id":"T9","ts":"{t}","from_account":"{CARD}","to_account":"{CARD2}","amount_fen":12.5,"channel":"transfer"}}"#
        ),
        format!(
            r#"{{"tx_id":"T10","ts":"{t}","from_account":{CARD},"to_account":"{CARD2}","amount_fen":1,"channel":"transfer"}}"#
        ),
        format!(
            r#"{{"tx_id":"T11","ts":"{t}","from_account":"{CARD}","to_account":"{CARD2}","amount_fen":1,"channel":["transfer"]}}"#
        ),
        "42".to_owned(),
        String::new(),
    ];
    let path = e.file("transactions.jsonl", lines.join("\n"));
    let r = e.ingest(&path).await;
    assert_eq!((r.inserted, r.rejected), (2, 8), "{r:?}");
    assert_eq!(
        e.query(
            "SELECT tx_id, amount_fen, to_account, memo, extra FROM transactions ORDER BY tx_id"
        ),
        [
            vec![
                text("007"),
                Sql::Integer(100),
                text("00991"),
                Sql::Null,
                text(r#"{"渠道号":"x"}"#)
            ],
            vec![
                text("T1"),
                Sql::Integer(500_000),
                text(CARD2),
                Sql::Null,
                Sql::Null
            ],
        ]
    );
    let q = e.quarantined(&path).await;
    let got: Vec<(u64, Option<&str>)> = q.iter().map(|x| (x.line, x.field.as_deref())).collect();
    assert_eq!(
        got,
        [
            (2, Some("tx_id")),
            (5, None),
            (6, None),
            (8, Some("channel")),
            (9, Some("amount_fen")),
            (10, Some("from_account")),
            (11, Some("channel")),
            (12, None),
        ],
        "{q:#?}"
    );
    let reason = |line: u64| q.iter().find(|x| x.line == line).unwrap().reason.as_str();
    assert!(reason(2).contains("JSON number"), "{}", reason(2));
    assert!(reason(5).contains("not a JSON object"), "{}", reason(5));
    assert!(reason(6).contains("not valid JSON"), "{}", reason(6));
    assert!(
        reason(8).contains("lacks required field channel"),
        "{}",
        reason(8)
    );
    assert!(reason(9).contains("integer fen"), "{}", reason(9));
    assert!(reason(11).contains("an array"), "{}", reason(11));
    assert!(reason(12).contains("not a JSON object"), "{}", reason(12));
    assert_eq!(q[2].original, br#"{"tx_id": "T5", "ts": "#);

    // Re-ingest: nothing new, the same rejections again.
    let again = e.ingest(&path).await;
    assert_eq!((again.inserted, again.unchanged, again.rejected), (0, 2, 8));
}

// --- 9. both stores agree ------------------------------------------------------------

/// Files mixing good records, refused ones and extras.
fn mixed_files() -> Vec<(&'static str, String)> {
    let t = expand("@0");
    vec![
        (
            "transactions.csv",
            expand(&format!(
                "{TX},memo,备注\n\
                 T1,@0,{CARD},{CARD2},100,transfer,,a\n\
                 T2,@0,,{CARD},100,transfer,,\n\
                 T3,@0,,{CARD},100,cash_deposit,,\n\
                 T4,@0,{CARD},{CARD2},0,transfer,,\n\
                 T5,@0,{CARD},{CARD2},100,transfer,x\0y,\n\
                 T6 ,@0,{CARD},{CARD2},100,transfer,,\n\
                 T1,@0,{CARD},{CARD2},100,transfer,,a\n\
                 T1,@0,{CARD},{CARD2},999,transfer,,a\n\
                 007,@0,{CARD},支付宝,100,红包,,\n\
                 T9,@0,{CARD}\n"
            )),
        ),
        (
            "persons.csv",
            format!(
                "person_id,name,community_code,id_kind,tags\n\
                 {P1},张三,C01,,elderly\n\
                 {P1_BAD_CHECK},李四,C01,,\n\
                 {P2},王五,C01,alien,\n\
                 E0012345,John,C01,passport,a||b\n\
                 E0012345,John,C01,passport,\n"
            ),
        ),
        (
            "calls.csv",
            expand(&format!(
                "{CALL},imei\n\
                 C1,@0,+85251234567,13900139000,30,video,\n\
                 C2,@0,17012345678,13900139000,-1,voice,\n\
                 C3,@0,13800138000,13900139000,1,fax,\n\
                 C4,@0,13800138000,13900139000,1,,86\0\n"
            )),
        ),
        (
            "cases.csv",
            expand(
                "case_id,filed_at,report_ids,solved_at\n\
                 K1,@0,R1|R2,@1\n\
                 K2,@0,R1||R2,\n\
                 K3,@1,R1,@0\n",
            ),
        ),
        (
            "external_freezes.csv",
            expand(&format!(
                "account_id,authority,measure,amount_fen,registered_at,expires_at\n\
                 {CARD},某局,release,0,@0,\n\
                 {CARD},某局,freeze,100,@1,@0\n\
                 {CARD},某局,freeze,100,@0,@1\n"
            )),
        ),
        (
            "leads.jsonl",
            [
                format!(r#"{{"lead_id":"LD1","ts":"{t}","source":"bank","reason":"x","account_id":"{CARD}"}}"#),
                format!(r#"{{"lead_id":"LD2","ts":"{t}","source":"bank","reason":"x"}}"#),
                String::new(),
                "not json".to_owned(),
                format!(r#"{{"lead_id":3,"ts":"{t}","source":"bank","reason":"x","msisdn":"13800138000"}}"#),
            ]
            .join("\n"),
        ),
    ]
}

type Verdicts = (
    Vec<(String, u64, u64, u64, u64)>,
    Vec<(String, u64, Option<String>)>,
);

async fn verdicts(store: &Arc<dyn Store>, paths: &[PathBuf]) -> Verdicts {
    let mut reports = Vec::new();
    for p in paths {
        let r = ingest_file(store, p, &IngestOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        reports.push((r.file, r.inserted, r.updated, r.unchanged, r.rejected));
    }
    let mut q: Vec<_> = store
        .quarantine_list()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.file, e.line, e.field))
        .collect();
    q.sort();
    (reports, q)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_store_and_refuse_the_same_records() {
    let e = env().await;
    let paths: Vec<PathBuf> = mixed_files()
        .into_iter()
        .map(|(name, content)| e.file(name, content))
        .collect();
    let pg = pg_store().await;

    let lite = verdicts(&e.store, &paths).await;
    let post = verdicts(&pg, &paths).await;
    assert_eq!(lite, post);
    // What the files hold, so the comparison is not of two empty results.
    let counts: Vec<_> = lite.0.iter().map(|r| (r.1, r.2, r.3, r.4)).collect();
    assert_eq!(
        counts,
        [
            (3, 0, 1, 6),
            (2, 0, 0, 3),
            (1, 0, 0, 3),
            (1, 0, 0, 2),
            (2, 0, 0, 1),
            (1, 0, 0, 3),
        ]
    );
    assert_eq!(lite.1.len(), 18);
    assert_eq!(e.store.counts().await.unwrap(), pg.counts().await.unwrap());

    // Again: everything known, the same rejections a second time, in both.
    let lite = verdicts(&e.store, &paths).await;
    let post = verdicts(&pg, &paths).await;
    assert_eq!(lite, post);
    assert!(lite.0.iter().all(|r| r.1 == 0), "{:?}", lite.0);
}

#[tokio::test]
async fn every_sheet_of_a_workbook_is_read_and_long_numbers_are_refused() {
    let e = env().await;
    let path = e.file("transactions.xlsx", b"");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let header = [
        "tx_id",
        "ts",
        "from_account",
        "to_account",
        "amount_fen",
        "channel",
    ];
    for (name, rows) in [
        ("说明", vec![vec!["本文件为导出数据", "", "", "", "", ""]]),
        (
            "三月",
            vec![
                header.to_vec(),
                vec![
                    "T1",
                    "2026-03-01T09:00:00+08:00",
                    "A",
                    "B",
                    "100",
                    "transfer",
                ],
            ],
        ),
        (
            "四月",
            vec![
                header.to_vec(),
                vec![
                    "T2",
                    "2026-04-01T09:00:00+08:00",
                    "A",
                    "B",
                    "200",
                    "transfer",
                ],
            ],
        ),
    ] {
        let ws = wb.add_worksheet().set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    // A card typed as a number: Excel keeps 15 digits, so the stored value would be wrong.
    let ws = wb.worksheet_from_name("四月").unwrap();
    ws.write_string(2, 0, "T3").unwrap();
    ws.write_string(2, 1, "2026-04-02T09:00:00+08:00").unwrap();
    ws.write_number(2, 2, 6_222_021_234_567_890_128.0).unwrap();
    ws.write_string(2, 3, "B").unwrap();
    ws.write_number(2, 4, 300.0).unwrap();
    ws.write_string(2, 5, "transfer").unwrap();
    wb.save(&path).unwrap();

    let r = e.ingest(&path).await;
    assert_eq!((r.inserted, r.rejected), (2, 1), "{r:?}");
    let q = e.quarantined(&path).await;
    assert!(
        q[0].file.ends_with("transactions.xlsx#四月"),
        "{}",
        q[0].file
    );
    assert_eq!(
        (q[0].line, q[0].field.as_deref()),
        (3, Some("from_account"))
    );
    assert!(q[0].reason.contains("too long"), "{}", q[0].reason);
}

#[tokio::test]
async fn unnamed_trailing_columns_are_kept_not_refused() {
    let e = env().await;
    let path = e.file(
        "institutions.csv",
        "code,name,kind,,\nB1,某银行,bank,,\nB2,某支付,payment,x,\n",
    );
    let r = e.ingest(&path).await;
    assert_eq!((r.inserted, r.rejected), (2, 0), "{r:?}");
    assert_eq!(
        e.value("institutions", "extra", "code = 'B2'"),
        text(r#"{"column_4":"x"}"#)
    );
}
