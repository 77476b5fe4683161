//! The `fanzha` binary driven as an operator drives it, on both stores: exit codes, what is
//! stored, what is quarantined, and that a killed ingest completes on rerun.
//!
//! PostgreSQL runs use `FANZHA_TEST_PG` (default: 127.0.0.1:5432, database `test`), each in
//! its own schema, and fail when the server is unreachable.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(rel: &str) -> String {
    root().join("fixtures").join(rel).display().to_string()
}

/// A fresh store target and the temp dir that backs it.
struct Db {
    target: String,
    dir: tempfile::TempDir,
}

fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    Db {
        target: dir.path().join("f.db").display().to_string(),
        dir,
    }
}

fn postgres() -> Db {
    Db {
        target: fanzha_store::testing::fresh_pg_target("cli"),
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Db {
    fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fanzha"));
        cmd.arg("--db")
            .arg(&self.target)
            .args(args)
            .current_dir(self.dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn stats(&self) -> Value {
        let out = self.run(&["--json", "db", "stats"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn count(&self, kind: &str) -> u64 {
        self.stats()[kind].as_u64().unwrap()
    }

    /// Runs SQL on the store behind the CLI's back, as someone with database access would
    /// (SQLite through rusqlite, PostgreSQL through psql in the store's schema).
    fn sql(&self, sql: &str) {
        match pg_parts(&self.target) {
            None => {
                let conn = rusqlite::Connection::open(&self.target).unwrap();
                conn.execute_batch(sql).unwrap();
            }
            Some((url, schema)) => {
                let out = Command::new("psql")
                    .args(["-v", "ON_ERROR_STOP=1", "-q", "-d", &url, "-c"])
                    .arg(format!("SET search_path TO {schema}; {sql}"))
                    .output()
                    .expect("psql runs");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }

    fn quarantine(&self) -> Vec<Value> {
        let out = self.run(&["--json", "quarantine", "list"]);
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }
}

/// A PostgreSQL target's URL without its `schema=` parameter, and the schema.
fn pg_parts(target: &str) -> Option<(String, String)> {
    if !target.starts_with("postgres") {
        return None;
    }
    let (url, query) = target.split_once('?')?;
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|p| match p.strip_prefix("schema=") {
            Some(s) => {
                schema = Some(s.to_owned());
                false
            }
            None => true,
        })
        .collect();
    let url = if rest.is_empty() {
        url.to_owned()
    } else {
        format!("{url}?{}", rest.join("&"))
    };
    Some((url, schema?))
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn ingest_json(db: &Db, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--json", "ingest"];
    all.extend_from_slice(args);
    let out = db.run(&all);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code(&out), v)
}

macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[test]
            fn sqlite() {
                ($body)(super::sqlite());
            }

            #[test]
            fn postgres() {
                ($body)(super::postgres());
            }
        }
    };
}

both!(
    mixed_file_stores_the_good_and_quarantines_the_bad,
    |db: super::Db| {
        let (code, v) = super::ingest_json(
            &db,
            &[
                "--kind",
                "transactions",
                &super::fixture("bad/transactions_mixed.csv"),
            ],
        );
        assert_eq!(code, 1, "some records rejected: exit 1");
        assert_eq!(
            (v["inserted"].as_u64(), v["rejected"].as_u64()),
            (Some(14), Some(6))
        );
        assert_eq!(db.count("transactions"), 14);
        let q = db.quarantine();
        assert_eq!(q.len(), 6);
        for e in &q {
            for k in [
                "file",
                "line",
                "kind",
                "field",
                "reason",
                "original_base64",
                "original_text",
            ] {
                assert!(e.get(k).is_some(), "{k} missing in {e}");
            }
            assert!(e["file"]
                .as_str()
                .unwrap()
                .ends_with("transactions_mixed.csv"));
        }
        let line7 = q
            .iter()
            .find(|e| e["line"] == 7)
            .expect("line 7 quarantined");
        assert_eq!(line7["field"], "amount_fen");
        assert!(line7["original_text"].as_str().unwrap().contains("12.50"));
        let line15 = q
            .iter()
            .find(|e| e["line"] == 15)
            .expect("short row quarantined");
        assert!(
            line15["reason"].as_str().unwrap().contains("5 fields"),
            "{line15}"
        );

        // Again: nothing new stored, nothing quarantined twice.
        let (code, v) = super::ingest_json(
            &db,
            &[
                "--kind",
                "transactions",
                &super::fixture("bad/transactions_mixed.csv"),
            ],
        );
        assert_eq!(
            (code, v["inserted"].as_u64(), v["unchanged"].as_u64()),
            (1, Some(0), Some(14))
        );
        assert_eq!(db.quarantine().len(), 6);
    }
);

both!(updates_and_conflicts, |db: super::Db| {
    let (code, _) = super::ingest_json(
        &db,
        &["--kind", "accounts", &super::fixture("bad/accounts_v1.csv")],
    );
    assert_eq!(code, 0);
    let (code, v) = super::ingest_json(
        &db,
        &["--kind", "accounts", &super::fixture("bad/accounts_v2.csv")],
    );
    assert_eq!(code, 1);
    let got = ["inserted", "updated", "unchanged", "rejected"].map(|k| v[k].as_u64().unwrap());
    assert_eq!(got, [0, 2, 2, 1]);
    let q = db.quarantine();
    assert_eq!(
        (q.len(), q[0]["line"].as_u64(), q[0]["field"].as_str()),
        (1, Some(5), Some("holder_id"))
    );
});

both!(
    a_killed_ingest_completes_on_rerun_without_duplicates,
    |db: super::Db| {
        let csv = super::generated_transactions(db.dir.path(), 5_000);
        // Abort (as a kill would: no cleanup) right after the third committed batch of 500.
        let out = db.run_env(
            &["ingest", "--batch-size", "500", &csv],
            &[("FANZHA_ABORT_AFTER_BATCHES", "3")],
        );
        assert!(!out.status.success(), "the process was meant to die");
        assert_eq!(
            db.count("transactions"),
            1_500,
            "exactly the committed batches survive"
        );
        let (code, v) = super::ingest_json(&db, &["--batch-size", "500", &csv]);
        assert_eq!(code, 0);
        assert_eq!(
            (v["inserted"].as_u64(), v["unchanged"].as_u64()),
            (Some(3_500), Some(1_500))
        );
        assert_eq!(db.count("transactions"), 5_000);
    }
);

both!(
    the_demo_loads_every_kind_and_reruns_clean,
    |db: super::Db| {
        let out = db.run(&["demo", "--no-serve"]);
        assert_eq!(
            super::code(&out),
            0,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let first = db.stats();
        for kind in super::fanzha_kinds() {
            assert!(
                first[kind].as_u64().unwrap() > 0,
                "{kind} is empty after the demo"
            );
        }
        assert_eq!(first["quarantine"], 0);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("两卡预警 two-card warnings"), "{stdout}");
        let warnings = db.run(&["--json", "risk", "warnings"]);
        let warnings: serde_json::Value = serde_json::from_slice(&warnings.stdout).unwrap();
        let n = warnings.as_array().unwrap().len();
        assert!(n > 0, "the demo's district has warnings");
        assert_eq!(super::code(&db.run(&["demo", "--no-serve"])), 0);
        assert_eq!(db.stats(), first, "a second demo stores nothing new");
        let again = db.run(&["--json", "risk", "warnings"]);
        let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(again.as_array().unwrap().len(), n, "one warning per entity");
    }
);

fn fanzha_kinds() -> impl Iterator<Item = &'static str> {
    fanzha_core::schema::Kind::ALL
        .into_iter()
        .map(|k| k.as_str())
}

#[test]
fn a_sigkilled_ingest_completes_on_rerun() {
    let db = sqlite();
    let csv = generated_transactions(db.dir.path(), 60_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_fanzha"))
        .args(["--db", &db.target, "ingest", "--batch-size", "1000", &csv])
        .spawn()
        .unwrap();
    // Kill it at a random point once something is committed (or when it has finished).
    let conn = loop {
        if let Ok(c) = rusqlite::Connection::open(&db.target) {
            break c;
        }
    };
    loop {
        let n: i64 = conn
            .query_row("SELECT count(*) FROM transactions", [], |r| r.get(0))
            .unwrap_or(0);
        if n > 0 || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let before = db.count("transactions");
    assert_eq!(
        before % 1000,
        0,
        "only whole batches are ever committed, got {before}"
    );
    let out = db.run(&["ingest", &csv]);
    assert_eq!(code(&out), 0);
    assert_eq!(db.count("transactions"), 60_000);
}

#[test]
fn gbk_is_detected_and_originals_are_kept() {
    let db = sqlite();
    let (code, v) = ingest_json(
        &db,
        &["--kind", "accounts", &fixture("bad/accounts_gbk.csv")],
    );
    assert_eq!(
        (code, v["inserted"].as_u64(), v["rejected"].as_u64()),
        (1, Some(5), Some(1))
    );
    let q = db.quarantine();
    assert_eq!(q[0]["line"], 5);
    assert_eq!(q[0]["field"], "account_id");
    assert!(
        q[0]["reason"].as_str().unwrap().contains("Luhn"),
        "{}",
        q[0]
    );
    // The original is the GBK bytes as they arrived, shown decoded.
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(q[0]["original_base64"].as_str().unwrap())
        .unwrap();
    assert!(
        std::str::from_utf8(&raw).is_err(),
        "kept as GBK bytes, not re-encoded"
    );
    assert!(q[0]["original_text"]
        .as_str()
        .unwrap()
        .chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
    // --encoding gbk names the same thing explicitly.
    let db2 = sqlite();
    let (code, v) = ingest_json(
        &db2,
        &[
            "--kind",
            "accounts",
            "--encoding",
            "gbk",
            &fixture("bad/accounts_gbk.csv"),
        ],
    );
    assert_eq!((code, v["inserted"].as_u64()), (1, Some(5)));
}

#[test]
fn a_missing_column_rejects_the_file_and_other_files_still_load() {
    let db = sqlite();
    let out = db.run(&[
        "ingest",
        "--kind",
        "transactions",
        &fixture("bad/transactions_missing_column.csv"),
        &fixture("sample-district/transactions.csv"),
    ]);
    assert_eq!(code(&out), 2, "an unusable file: exit 2");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("amount_fen") && err.contains("transactions_missing_column.csv"),
        "{err}"
    );
    assert_eq!(
        db.count("transactions"),
        326,
        "the usable file was processed"
    );
    assert!(
        db.quarantine().is_empty(),
        "a whole-file rejection quarantines no rows"
    );
}

#[test]
fn json_lines_refuse_numeric_identifiers() {
    let db = sqlite();
    let (code, v) = ingest_json(&db, &[&fixture("bad/calls.jsonl")]);
    assert_eq!(
        (code, v["inserted"].as_u64(), v["rejected"].as_u64()),
        (1, Some(4), Some(2))
    );
    let q = db.quarantine();
    let l3 = q.iter().find(|e| e["line"] == 3).unwrap();
    assert_eq!(l3["field"], "call_id");
}

#[test]
fn person_ids_are_checked_by_kind() {
    let db = sqlite();
    let (code, v) = ingest_json(&db, &["--kind", "persons", &fixture("bad/persons_bad.csv")]);
    assert_eq!(
        (code, v["inserted"].as_u64(), v["rejected"].as_u64()),
        (1, Some(6), Some(6))
    );
    let lines: Vec<u64> = db
        .quarantine()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 4, 7, 9, 11, 13]);
}

#[test]
fn an_unknown_kind_is_a_clear_error() {
    let db = sqlite();
    let path = db.dir.path().join("stuff.csv");
    std::fs::write(&path, "a,b\n1,2\n").unwrap();
    let out = db.run(&["ingest", path.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stuff") && err.contains("--kind"), "{err}");
}

#[test]
fn a_statement_workbook_is_ingested_with_the_default_profile() {
    let db = sqlite();
    let sample = root().join("crates/ingest/tests/fixtures/statements/bank-statement-sample.xlsx");
    let (code, v) = ingest_json(&db, &[sample.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["files"][0]["kind"], "transactions");
    assert_eq!(db.count("transactions"), v["inserted"].as_u64().unwrap());
    assert!(
        v["unchanged"].as_u64().unwrap() >= 1,
        "the transfer seen from both sides is stored once"
    );
}

#[test]
fn quarantine_show_and_a_missing_id() {
    let db = sqlite();
    ingest_json(
        &db,
        &[
            "--kind",
            "transactions",
            &fixture("bad/transactions_mixed.csv"),
        ],
    );
    let id = db.quarantine()[0]["id"].as_i64().unwrap().to_string();
    let out = db.run(&["--json", "quarantine", "show", &id]);
    assert_eq!(code(&out), 0);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["line"], 4);
    let out = db.run(&["quarantine", "show", "999999"]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("999999"));
}

#[test]
fn every_run_is_in_the_audit_trail() {
    let db = sqlite();
    ingest_json(&db, &[&fixture("sample-district/persons.csv")]);
    db.stats();
    let out = db.run(&["--json", "audit", "list"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["cli.db.stats", "cli.ingest"], "newest first");
    assert_eq!(v["total"], 2);
    // The listing itself is on record, and the trail verifies.
    let verify = db.run(&["--json", "audit", "verify"]);
    assert_eq!(code(&verify), 0);
    let v: Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(
        (v["entries"].as_u64(), v["verified"].as_bool()),
        (Some(3), Some(true))
    );
}

#[test]
fn stats_json_maps_each_kind_to_its_count() {
    let db = sqlite();
    let v = db.stats();
    for kind in fanzha_kinds() {
        assert_eq!(v[kind], 0, "{kind}");
    }
}

/// Writes `n` valid transactions to a CSV in `dir`.
fn generated_transactions(dir: &Path, n: usize) -> String {
    let path = dir.join("transactions.csv");
    let mut s = String::from("tx_id,ts,from_account,to_account,amount_fen,channel\n");
    for i in 0..n {
        s.push_str(&format!(
            "T{i:08},2026-03-01T09:{:02}:{:02}+08:00,ACC{},ACC{},{},transfer\n",
            (i / 60) % 60,
            i % 60,
            i % 97,
            i % 89,
            100 + i
        ));
    }
    std::fs::write(&path, s).unwrap();
    path.display().to_string()
}

#[test]
fn a_database_password_never_reaches_the_output() {
    let db = Db {
        target: "postgres://fz:s3cret@127.0.0.1:1/test".to_owned(),
        dir: tempfile::tempdir().unwrap(),
    };
    let out = db.run(&["db", "stats"]);
    assert_eq!(code(&out), 2);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("s3cret"), "{all}");
    assert!(all.contains("fz:***@"), "the target is still named: {all}");
}

#[test]
fn migrate_reports_what_it_applied() {
    let db = sqlite();
    let first: Value =
        serde_json::from_slice(&db.run(&["--json", "db", "migrate"]).stdout).unwrap();
    let all: Vec<u32> = fanzha_store::MIGRATIONS.iter().map(|(v, _)| *v).collect();
    assert_eq!(first["applied_now"], serde_json::json!(all));
    let again: Value =
        serde_json::from_slice(&db.run(&["--json", "db", "migrate"]).stdout).unwrap();
    assert_eq!(again["applied_now"], serde_json::json!([]));
}

#[test]
fn a_closed_pipe_ends_the_output_without_a_panic() {
    let db = sqlite();
    ingest_json(
        &db,
        &[
            "--kind",
            "transactions",
            &fixture("bad/transactions_mixed.csv"),
        ],
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_fanzha"))
        .args(["--db", &db.target, "quarantine", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end at once, as `| head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_ne!(out.status.code(), Some(101), "a panic's exit code");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn sim_writes_a_district_that_ingests_clean_and_refuses_a_bad_scale() {
    let db = sqlite();
    let out_dir = db.dir.path().join("district");
    let out_arg = out_dir.display().to_string();
    let out = db.run(&[
        "--json", "sim", "--seed", "5", "--scale", "small", "--days", "2", "--out", &out_arg,
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(summary["victims"].as_u64().unwrap() > 0, "{summary}");
    assert!(out_dir.join("labels/holdings.csv").is_file());
    // The directory's data files, not labels/, ingest with zero rejects.
    let (code_ingest, report) = ingest_json(&db, &[&out_arg]);
    assert_eq!(code_ingest, 0, "{report}");
    assert_eq!(report["rejected"].as_u64(), Some(0));
    assert_eq!(
        db.count("transactions"),
        summary["files"]["transactions"]["rows"].as_u64().unwrap()
    );
    let bad = db.run(&["sim", "--scale", "galaxy", "--out", &out_arg]);
    assert_eq!(code(&bad), 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("small, district or city"));
    let long = db.run(&["sim", "--days", "40000", "--out", &out_arg]);
    assert_eq!(
        code(&long),
        2,
        "a mistyped --days is refused, not run for hours"
    );
    assert!(String::from_utf8_lossy(&long.stderr).contains("at most 366"));
}

/// One HTTP/1.1 request on a fresh connection; the whole answer, head and body.
fn http(addr: &str, request: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}

/// `fanzha serve` on port 0; the child and the address it listens on.
fn serve(db: &Db) -> (std::process::Child, String) {
    use std::io::{BufRead as _, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fanzha"))
        .args([
            "--db",
            &db.target,
            "--json",
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let url = v["url"].as_str().unwrap();
    (child, url.strip_prefix("http://").unwrap().to_owned())
}

fn sigterm(mut child: std::process::Child) -> std::process::ExitStatus {
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
    child.wait().unwrap()
}

both!(serve_answers_and_stops_on_sigterm, |db: super::Db| {
    let (child, addr) = super::serve(&db);
    let answer = super::http(
        &addr,
        "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("{\"status\":\"ok\"}"), "{answer}");
    let status = super::sigterm(child);
    assert!(status.success(), "a SIGTERM is a clean stop: {status:?}");
});

#[test]
fn a_user_added_by_the_cli_logs_in_to_the_server() {
    use std::io::Write as _;
    let db = sqlite();
    let add = |name: &str, role: &str, password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fanzha"))
            .args(["--db", &db.target, "user", "add", name, "--role", role])
            .args(if role == "station_officer" {
                &["--jurisdiction", "500103001"][..]
            } else {
                &[]
            })
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{password}").unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    };
    let password = "correct horse battery staple";
    assert_eq!(code(&add("wang", "station_officer", password)), 0);
    let taken = add("wang", "analyst", password);
    assert_eq!(code(&taken), 2);
    assert!(String::from_utf8_lossy(&taken.stderr).contains("taken"));
    assert_eq!(code(&add("li", "analyst", "short")), 2);
    assert_eq!(code(&add("zhao", "sheriff", password)), 2);

    let (child, addr) = serve(&db);
    let body = format!("{{\"username\":\"wang\",\"password\":\"{password}\"}}");
    let answer = http(
        &addr,
        &format!(
            "POST /api/v1/login HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"role\":\"station_officer\""), "{answer}");
    assert!(sigterm(child).success());

    let audit = db.run(&["--json", "audit", "list", "--limit", "1000"]);
    let text = String::from_utf8_lossy(&audit.stdout);
    assert!(text.contains("cli.user.add"), "{text}");
    assert!(
        !text.contains(password),
        "the password reached the audit trail"
    );
}

#[test]
fn the_demo_serves_with_an_account_per_role() {
    use std::io::{BufRead as _, BufReader};
    let db = sqlite();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fanzha"))
        .args([
            "--db",
            &db.target,
            "--json",
            "demo",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _counts = lines.next().unwrap().unwrap();
    let v: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let addr = v["url"].as_str().unwrap().strip_prefix("http://").unwrap();
    let accounts = v["accounts"].as_array().unwrap();
    assert_eq!(
        accounts.len(),
        12,
        "one per role and a second bank operator"
    );
    let account = |name: &str| {
        accounts
            .iter()
            .find(|a| a["username"] == name)
            .unwrap_or_else(|| panic!("no demo account {name}"))
            .clone()
    };
    for name in ["analyst", "bank_operator_2"] {
        let body = serde_json::json!({
            "username": name,
            "password": account(name)["password"],
        })
        .to_string();
        let answer = http(
            addr,
            &format!(
                "POST /api/v1/login HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        );
        assert!(answer.starts_with("HTTP/1.1 200"), "{name}: {answer}");
    }
    // The first bank's key asks for a real-time decision.
    let key = v["decision_key"]["key"].as_str().unwrap();
    let body =
        r#"{"payer_account":"CORP-1","payee_account":"6222021234567890102","amount_fen":100}"#;
    let answer = http(
        addr,
        &format!(
            "POST /api/v1/decisions/payment HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
             Authorization: Bearer {key}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"decision\":\"allow\""), "{answer}");
    assert!(sigterm(child).success());

    // Each scoped account works in a real part of the loaded district, so its scope matches
    // data: its bank holds accounts, its carrier (as sims.carrier spells it) holds SIMs, its
    // town and community hold people.
    let conn = rusqlite::Connection::open(&db.target).unwrap();
    let rows = |sql: &str, code: &Value| -> i64 {
        conn.query_row(sql, [code.as_str().unwrap()], |r| r.get(0))
            .unwrap()
    };
    let (bank1, bank2) = (
        account("bank_operator")["institution"].clone(),
        account("bank_operator_2")["institution"].clone(),
    );
    assert_ne!(
        bank1, bank2,
        "the second bank operator works for another bank"
    );
    for bank in [&bank1, &bank2] {
        assert!(
            rows("SELECT count(*) FROM accounts WHERE bank_code = ?1", bank) > 0,
            "{bank}"
        );
    }
    let carrier = account("carrier_operator")["institution"].clone();
    assert!(
        rows("SELECT count(*) FROM sims WHERE carrier = ?1", &carrier) > 0,
        "{carrier}"
    );
    let town = account("station_officer")["jurisdiction"].clone();
    assert_eq!(account("station_leader")["jurisdiction"], town);
    let community = account("community_worker")["jurisdiction"].clone();
    assert!(
        community
            .as_str()
            .unwrap()
            .starts_with(town.as_str().unwrap()),
        "the community worker's community lies in the station's town: {community} {town}"
    );
    assert_eq!(
        rows(
            "SELECT count(*) FROM jurisdictions WHERE code = ?1 AND level = 'town'",
            &town
        ),
        1
    );
    assert!(
        rows(
            "SELECT count(*) FROM persons WHERE community_code = ?1",
            &community
        ) > 0,
        "{community}"
    );
    for centre in ["analyst", "commander", "auditor"] {
        let a = account(centre);
        assert!(
            a["institution"].is_null() && a["jurisdiction"].is_null(),
            "{a}"
        );
    }
}

#[test]
fn a_user_gets_exactly_the_remit_of_its_role() {
    use std::io::Write as _;
    let db = sqlite();
    let add = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fanzha"))
            .args(["--db", &db.target, "--json", "user", "add"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "correct horse battery staple").unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    };
    let refused = |args: &[&str], flag: &str| {
        let out = add(args);
        assert_eq!(code(&out), 2, "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag), "{args:?}: {err}");
    };
    refused(&["b", "--role", "bank_operator"], "--institution");
    refused(
        &["c", "--role", "carrier_operator", "--jurisdiction", "5001"],
        "--institution",
    );
    refused(&["s", "--role", "station_officer"], "--jurisdiction");
    refused(
        &["w", "--role", "community_worker", "--institution", "ICBC"],
        "--jurisdiction",
    );
    refused(
        &["a", "--role", "analyst", "--jurisdiction", "5001"],
        "neither",
    );

    let out = add(&["b", "--role", "bank_operator", "--institution", "ICBC"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["institution"].as_str(), v["jurisdiction"].as_str()),
        (Some("ICBC"), None)
    );
    let out = add(&[
        "w",
        "--role",
        "community_worker",
        "--jurisdiction",
        "330199001001",
    ]);
    assert_eq!(code(&out), 0);
    // Stored, not just printed: the server scopes by what the store holds.
    let conn = rusqlite::Connection::open(&db.target).unwrap();
    let stored: (Option<String>, Option<String>) = conn
        .query_row(
            "SELECT institution_code, jurisdiction_code FROM users WHERE username = 'w'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(stored, (None, Some("330199001001".to_owned())));
}

both!(keys_are_shown_once_listed_and_revoked, |db: super::Db| {
    let out = db.run(&[
        "--json",
        "key",
        "add",
        "--institution",
        "ICBC",
        "--role",
        "bank_operator",
        "--label",
        "core",
    ]);
    assert_eq!(
        super::code(&out),
        0,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = made["key"].as_str().unwrap();
    assert!(key.starts_with("fzk_"));
    let id = made["id"].as_i64().unwrap().to_string();
    let refused = db.run(&["key", "add", "--institution", "ICBC", "--role", "analyst"]);
    assert_eq!(super::code(&refused), 2);

    let list = db.run(&["--json", "key", "list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("\"institution_code\": \"ICBC\""), "{text}");
    assert!(!text.contains(&key[4..]), "the key is never shown again");
    assert_eq!(super::code(&db.run(&["key", "revoke", &id])), 0);
    assert_eq!(
        super::code(&db.run(&["key", "revoke", &id])),
        2,
        "already revoked"
    );
    let list = db.run(&["--json", "key", "list"]);
    let keys: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(keys[0]["revoked_at"].is_i64());
});

/// `audit verify --json`: its exit code and answer.
fn verify(db: &Db) -> (i32, Value) {
    let out = db.run(&["--json", "audit", "verify"]);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (code(&out), v)
}

both!(
    audit_verify_names_the_first_altered_or_deleted_entry,
    |db: super::Db| {
        for _ in 0..5 {
            db.stats();
        }
        // Entries 1-5 are the stats runs; each verify adds its own entry after checking.
        let (code, v) = super::verify(&db);
        assert_eq!((code, v["verified"].as_bool()), (0, Some(true)), "{v}");
        assert_eq!(v["entries"], 5);

        // An altered entry: the link from it to the one before no longer holds.
        db.sql("UPDATE audit_log SET actor = 'cli:nobody' WHERE id = 3");
        let (code, v) = super::verify(&db);
        assert_eq!(code, 1, "a broken trail exits 1: {v}");
        assert_eq!(v["first_broken_id"], 3);
        assert_eq!(v["broken"]["kind"], "link");
    }
);

both!(
    audit_verify_catches_a_deleted_middle_entry,
    |db: super::Db| {
        for _ in 0..5 {
            db.stats();
        }
        db.sql("DELETE FROM audit_log WHERE id = 2");
        let (code, v) = super::verify(&db);
        assert_eq!(code, 1, "{v}");
        assert_eq!(
            v["first_broken_id"], 3,
            "the entry after the gap no longer chains"
        );
    }
);

both!(
    audit_verify_catches_deleted_newest_entries,
    |db: super::Db| {
        for _ in 0..5 {
            db.stats();
        }
        // The hash chain alone cannot see this: what is left chains perfectly.
        db.sql("DELETE FROM audit_log WHERE id = 5");
        let (code, v) = super::verify(&db);
        assert_eq!(code, 1, "{v}");
        assert_eq!(v["broken"]["kind"], "truncated");
        assert_eq!(v["first_broken_id"], 5);
        assert_eq!(v["broken"]["last_id"], 4);
        // That verify run appended an entry; it chains to the deleted one, so the trail
        // stays broken rather than healing over the gap.
        let (code, v) = super::verify(&db);
        assert_eq!(code, 1, "{v}");
        assert_eq!(v["broken"]["kind"], "link");

        // Deleting every entry is caught too.
        db.sql("DELETE FROM audit_log");
        let (code, v) = super::verify(&db);
        assert_eq!(
            (code, v["broken"]["kind"].as_str()),
            (1, Some("truncated")),
            "{v}"
        );
    }
);

impl Db {
    /// An empty store of the same backend for a restore to land in: a new SQLite path, or a
    /// new PostgreSQL database (dropped when the returned guard goes) with another schema
    /// name than this store's.
    fn fresh(&self) -> (Db, Option<PgDatabase>) {
        let Some((url, _)) = pg_parts(&self.target) else {
            return (sqlite(), None);
        };
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "drill_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b.to_owned(), format!("?{q}")),
            None => (url.clone(), String::new()),
        };
        let (server, _db) = base.rsplit_once('/').unwrap();
        let guard = PgDatabase {
            admin_url: url.clone(),
            name: name.clone(),
        };
        guard.psql(&format!("CREATE DATABASE {name}"));
        let sep = if query.is_empty() { '?' } else { '&' };
        let target = format!("{server}/{name}{query}{sep}schema=restored");
        (
            Db {
                target,
                dir: tempfile::tempdir().unwrap(),
            },
            Some(guard),
        )
    }
}

/// A PostgreSQL database made for one test, dropped at its end.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    fn psql(&self, sql: &str) {
        let out = Command::new("psql")
            .args([
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-d",
                &self.admin_url,
                "-c",
                sql,
            ])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-q", "-d", &self.admin_url, "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

/// `fanzha user add NAME --role analyst` with this password.
fn add_analyst(db: &Db, name: &str, password: &str) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_fanzha"))
        .args(["--db", &db.target, "user", "add", name, "--role", "analyst"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{password}").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
}

/// A login attempt's status line.
fn login(addr: &str, username: &str, password: &str) -> String {
    let body = serde_json::json!({ "username": username, "password": password }).to_string();
    let answer = http(
        addr,
        &format!(
            "POST /api/v1/login HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    answer.lines().next().unwrap_or_default().to_owned()
}

both!(
    a_backup_taken_under_load_restores_to_a_store_that_verifies_and_serves,
    |db: super::Db| {
        super::restore_drill(db);
    }
);

fn restore_drill(db: Db) {
    use std::sync::atomic::{AtomicBool, AtomicUsize};
    use std::sync::Arc;

    // What is committed before the backup begins.
    let (c, _) = ingest_json(&db, &[&fixture("sample-district")]);
    assert_eq!(c, 0);
    let password = "correct horse battery staple";
    add_analyst(&db, "drill", password);
    let before = db.stats();
    let (c, v) = verify(&db);
    assert_eq!(c, 0, "{v}");
    let audit_before = v["entries"].as_u64().unwrap();
    let batches = generated_transactions(db.dir.path(), 20_000);

    // Load: the server answering health checks and logins, the CLI writing audit entries,
    // and an ingest committing batches, all while the backup is taken.
    let (server, addr) = serve(&db);
    let stop = Arc::new(AtomicBool::new(false));
    let health = Arc::new(AtomicUsize::new(0));
    let cli_runs = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for _ in 0..2 {
        let (stop, health, addr) = (stop.clone(), health.clone(), addr.clone());
        load.push(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let answer = http(
                    &addr,
                    "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                );
                assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
                health.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    {
        let (stop, addr) = (stop.clone(), addr.clone());
        load.push(std::thread::spawn(move || {
            // Failed logins are audited; the address's limit (30) is kept clear of so the
            // good logins keep making sessions.
            let mut failures = 0;
            while !stop.load(Ordering::SeqCst) {
                assert_eq!(login(&addr, "drill", password), "HTTP/1.1 200 OK");
                if failures < 10 {
                    let status = login(&addr, &format!("ghost{failures}"), "wrong password 123");
                    assert!(status.starts_with("HTTP/1.1 401"), "{status}");
                    failures += 1;
                }
            }
        }));
    }
    {
        let (stop, cli_runs, target) = (stop.clone(), cli_runs.clone(), db.target.clone());
        load.push(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let out = Command::new(env!("CARGO_BIN_EXE_fanzha"))
                    .args(["--db", &target, "db", "stats"])
                    .output()
                    .unwrap();
                assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
                cli_runs.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    let ingest = Command::new(env!("CARGO_BIN_EXE_fanzha"))
        .args([
            "--db",
            &db.target,
            "ingest",
            "--batch-size",
            "500",
            &batches,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    while health.load(Ordering::SeqCst) < 20 || cli_runs.load(Ordering::SeqCst) < 1 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }

    let file = db.dir.path().join("fanzha.backup");
    let file_arg = file.display().to_string();
    let out = db.run(&["--json", "db", "backup", &file_arg]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let again = db.run(&["db", "backup", &file_arg]);
    assert_eq!(code(&again), 2, "an existing backup is not overwritten");
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    stop.store(true, Ordering::SeqCst);
    for t in load {
        t.join().unwrap();
    }
    let ingest = ingest.wait_with_output().unwrap();
    assert_eq!(code(&ingest), 0);
    assert!(sigterm(server).success());
    let after = db.stats();

    // The drill: restore into a fresh store, verify, serve.
    let (fresh, _guard) = db.fresh();
    let out = fresh.run(&["--json", "db", "restore", &file_arg]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let restored_report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        restored_report["audit_broken"].is_null(),
        "{restored_report}"
    );
    let (c, v) = verify(&fresh);
    assert_eq!(c, 0, "the restored trail verifies: {v}");
    assert!(
        v["entries"].as_u64().unwrap() > audit_before,
        "every entry committed before the backup is there: {v}"
    );
    let restored = fresh.stats();
    for kind in fanzha_kinds() {
        let (b, r, a) = (
            before[kind].as_u64().unwrap(),
            restored[kind].as_u64().unwrap(),
            after[kind].as_u64().unwrap(),
        );
        assert!(
            b <= r && r <= a,
            "{kind}: {b} before, {r} restored, {a} after"
        );
    }
    let new_tx =
        restored["transactions"].as_u64().unwrap() - before["transactions"].as_u64().unwrap();
    assert_eq!(
        new_tx % 500,
        0,
        "a snapshot holds whole batches only, got {new_tx}"
    );

    let (server, addr) = serve(&fresh);
    let answer = http(
        &addr,
        "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(
        login(&addr, "drill", password),
        "HTTP/1.1 200 OK",
        "users came back with the data"
    );
    assert!(sigterm(server).success());

    // A store that now holds data is not overwritten without --force, and a file that is
    // not a backup is refused before anything is touched.
    let refused = fresh.run(&["db", "restore", &file_arg]);
    assert_eq!(code(&refused), 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    let junk = db.dir.path().join("junk.backup");
    std::fs::write(&junk, "not a backup\n").unwrap();
    let (other, _guard2) = db.fresh();
    let refused = other.run(&["db", "restore", junk.to_str().unwrap()]);
    assert_eq!(code(&refused), 2);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not a Fanzha backup"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let forced = fresh.run(&["db", "restore", "--force", &file_arg]);
    assert_eq!(
        code(&forced),
        0,
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
}

#[test]
fn audit_insiders_flags_a_stray_look_up_once() {
    let db = sqlite();
    add_analyst(&db, "li", "correct horse battery staple");
    // A look-up as the server records it: the person was outside li's scope.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = fanzha_store::open(&db.target).await.unwrap();
        let detail = serde_json::json!({
            "id": "330102199001011234", "community": "330199002001", "found": true, "in_scope": false,
        });
        store
            .audit_append("user:li", "lookup.person", &detail.to_string())
            .await
            .unwrap();
    });
    let run = || {
        let out = db.run(&["--json", "audit", "insiders"]);
        assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = run();
    let raised = first["raised"].as_array().unwrap();
    assert_eq!(raised.len(), 1, "{first}");
    assert_eq!(
        (raised[0]["username"].as_str(), raised[0]["rule"].as_str()),
        (Some("li"), Some("out_of_scope"))
    );
    let second = run();
    assert_eq!(
        second["raised"],
        serde_json::json!([]),
        "a rerun raises nothing"
    );
    assert_eq!(second["flags"].as_array().unwrap().len(), 1);

    // The auditors' alert is in the trail, and the trail still verifies.
    let out = db.run(&["--json", "audit", "list", "--action", "insider."]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["entries"][0]["actor"], "system:insider");
    assert_eq!(verify(&db).0, 0);
    // Filters: by actor, and a limit.
    let out = db.run(&[
        "--json", "audit", "list", "--actor", "user:li", "--limit", "5",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["entries"][0]["action"], "lookup.person");
    assert_eq!(v["total"], 1);
}

both!(
    risk_run_warns_the_owners_of_scam_caller_sims_and_reruns_idempotently,
    |db: super::Db| {
        use super::*;
        let out_dir = db.dir.path().join("district");
        let out_arg = out_dir.display().to_string();
        let out = db.run(&[
            "sim", "--seed", "7", "--scale", "small", "--days", "3", "--out", &out_arg,
        ]);
        assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
        let (c, _) = ingest_json(&db, &[&out_arg]);
        assert_eq!(c, 0);

        let run = |args: &[&str]| -> Value {
            let out = db.run(args);
            assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
            serde_json::from_slice(&out.stdout).unwrap()
        };
        let first = run(&["--json", "risk", "run"]);
        let report = &first["report"];
        assert_eq!(
            report["events"]["transactions"].as_u64(),
            Some(db.count("transactions")),
            "every transfer applied: {report}"
        );
        let warned = report["warned"].as_u64().unwrap();
        assert!(warned > 0, "{report}");
        let stored = report["new_versions"].as_u64().unwrap();
        assert!(stored > 0, "{report}");

        let warnings = run(&["--json", "risk", "warnings"]);
        let warnings = warnings.as_array().unwrap();
        assert!(!warnings.is_empty());
        for w in warnings {
            for field in [
                "entity_type",
                "entity_id",
                "score",
                "level",
                "pattern",
                "reasons",
                "first_warned_at",
            ] {
                assert!(!w[field].is_null(), "{field} missing in {w}");
            }
            assert!(w["score"].as_u64().unwrap() <= 100, "{w}");
            assert!(!w["reasons"].as_array().unwrap().is_empty(), "{w}");
            assert!(
                w["first_warned_at"].as_str().unwrap().ends_with("+08:00"),
                "{w}"
            );
        }
        // The labelled scam-caller SIMs are among the warned SIMs (the simulator's truth,
        // read from labels/, which nothing ingests).
        let labels = std::fs::read_to_string(out_dir.join("labels/entities.csv")).unwrap();
        let callers: std::collections::HashSet<&str> = labels
            .lines()
            .filter(|l| l.starts_with("sim,") && l.contains(",caller_sim,"))
            .filter_map(|l| l.split(',').nth(1))
            .collect();
        let warned_callers = warnings
            .iter()
            .filter(|w| w["pattern"] == "scam_caller_sim")
            .filter(|w| callers.contains(w["entity_id"].as_str().unwrap()))
            .count();
        assert!(
            warned_callers > 0,
            "no labelled caller SIM warned: {callers:?}"
        );

        // Scored against the labels: the figures are there and consistent.
        let labels_dir = out_dir.join("labels").display().to_string();
        let eval = run(&["--json", "eval", "risk", "--labels", &labels_dir]);
        for kind in ["account", "sim"] {
            let r = &eval[kind];
            let (tp, fp, warned) = (
                r["true_positives"].as_u64().unwrap(),
                r["false_positives"].as_u64().unwrap(),
                r["warned"].as_u64().unwrap(),
            );
            assert!(tp + fp <= warned, "{eval}");
            for f in ["precision", "recall", "f1", "average_precision"] {
                let v = r[f].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&v), "{kind} {f}: {eval}");
            }
        }
        assert_eq!(
            eval["sim"]["true_positives"].as_u64(),
            Some(warned_callers as u64),
            "the eval counts the same caller SIMs: {eval}"
        );
        assert!(eval["sim"]["median_delay_hours"].is_number(), "{eval}");

        // The same data again: the same evidence, no new version, nothing queued twice.
        let again = run(&["--json", "risk", "run"]);
        assert_eq!(again["report"]["new_versions"].as_u64(), Some(0), "{again}");
        assert_eq!(
            run(&["--json", "risk", "warnings"])
                .as_array()
                .unwrap()
                .len(),
            warnings.len()
        );

        // A broken rule file is refused with its place, and nothing is stored.
        let rules = db.dir.path().join("rules");
        std::fs::create_dir_all(&rules).unwrap();
        std::fs::write(
            rules.join("bad.toml"),
            "version = \"1\"\n\n[[rule]]\ncode = \"x\"\nentity = \"account\"\nexpr = \"no_such_feature > 1\"\ntext_zh = \"x\"\ntext_en = \"x\"\n",
        )
        .unwrap();
        let out = db.run(&["risk", "run", "--rules", &rules.display().to_string()]);
        assert_ne!(code(&out), 0);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("bad.toml") && err.contains(":6:"), "{err}");
        assert_eq!(
            run(&["--json", "risk", "warnings"])
                .as_array()
                .unwrap()
                .len(),
            warnings.len(),
            "a refused rule set changes nothing"
        );

        // Rules without account patterns: the account warnings lose their evidence and are
        // withdrawn (their owners told); the SIM warnings stand.
        std::fs::remove_file(rules.join("bad.toml")).unwrap();
        std::fs::copy(
            super::root().join("rules/numbers.toml"),
            rules.join("numbers.toml"),
        )
        .unwrap();
        let numbers_only = run(&[
            "--json",
            "risk",
            "run",
            "--rules",
            &rules.display().to_string(),
        ]);
        let accounts = warnings
            .iter()
            .filter(|w| w["entity_type"] == "account" && w["status"] == "open")
            .count() as u64;
        assert_eq!(
            numbers_only["report"]["withdrawn"].as_u64(),
            Some(accounts),
            "{numbers_only}"
        );
        let after = run(&["--json", "risk", "warnings"]);
        for w in after.as_array().unwrap() {
            let withdrawn = w["status"] == "withdrawn";
            assert_eq!(withdrawn, w["entity_type"] == "account", "{w}");
        }
        let eval = run(&["--json", "eval", "risk", "--labels", &labels_dir]);
        assert_eq!(
            eval["account"]["warned"].as_u64(),
            Some(0),
            "withdrawn warnings are not scored"
        );
    }
);

#[test]
fn a_converted_amlworld_file_ingests_clean_and_is_scored_against_its_labels() {
    let db = sqlite();
    let out_dir = db.dir.path().join("aw");
    let out_arg = out_dir.display().to_string();
    let input = fixture("public/amlworld/HI-Tiny_Trans.csv");
    let out = db.run(&["convert", "amlworld", &input, "--out", &out_arg]);
    // The fixture holds deliberately broken lines: named, set aside, the rest converted.
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("HI-Tiny_Trans.csv line 14"), "{said}");
    assert!(out_dir.join("convert/rejections.csv").is_file());

    let (c, report) = ingest_json(&db, &[&out_arg]);
    assert_eq!(c, 0, "{report}");
    assert_eq!(report["rejected"].as_u64(), Some(0), "{report}");
    let run = db.run(&["--json", "risk", "run"]);
    assert_eq!(code(&run), 0, "{}", String::from_utf8_lossy(&run.stderr));
    let labels = out_dir.join("labels").display().to_string();
    let eval = db.run(&["--json", "eval", "risk", "--labels", &labels]);
    // Scored or told clearly that nothing was warned; never a crash.
    let said = String::from_utf8_lossy(&eval.stderr);
    assert!(code(&eval) == 0 || said.contains("no warnings"), "{said}");
}

#[test]
fn risk_train_stores_a_model_with_its_card_and_risk_models_lists_it() {
    let db = sqlite();
    let dir = db.dir.path().join("d");
    let out_arg = dir.display().to_string();
    let out = db.run(&[
        "sim", "--scale", "small", "--days", "3", "--seed", "3", "--out", &out_arg,
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let (c, report) = ingest_json(&db, &[&out_arg]);
    assert_eq!(c, 0, "{report}");

    let labels = dir.join("labels").display().to_string();
    let out = db.run(&[
        "--json",
        "risk",
        "train",
        "--labels",
        &labels,
        "--note",
        "sim small seed 3",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let trained: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(trained["stored"], true, "{trained}");
    let card = &trained["card"];
    let version = card["version"].as_str().unwrap().to_owned();
    assert_eq!(card["training"]["note"], "sim small seed 3");
    for (kind, features) in [("account", 66), ("sim", 49)] {
        let k = &card["kinds"][kind];
        assert_eq!(k["trained"], true, "{kind}: {k}");
        assert!(k["targets_train"].as_u64().unwrap() > 0, "{kind}: {k}");
        assert_eq!(
            k["importances"].as_array().unwrap().len(),
            features,
            "{kind}"
        );
        assert!(
            k["evaluation"]["average_precision"].is_number(),
            "{kind}: {k}"
        );
    }

    let out = db.run(&["--json", "risk", "models"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let models: Value = serde_json::from_slice(&out.stdout).unwrap();
    let models = models.as_array().unwrap();
    assert_eq!(models.len(), 1);
    assert_eq!(models[0]["version"], version.as_str());
    assert_eq!(models[0]["card"]["version"], version.as_str());
    let out = db.run(&["risk", "models"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&version));

    // The model goes to another district's store and `risk run` combines it with the rules.
    let file = db.dir.path().join("model.json");
    let file_arg = file.display().to_string();
    let out = db.run(&["risk", "export-model", "--out", &file_arg]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let other = sqlite();
    let other_dir = other.dir.path().join("d");
    let other_arg = other_dir.display().to_string();
    let out = other.run(&[
        "sim", "--scale", "small", "--days", "3", "--seed", "4", "--out", &other_arg,
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    ingest_json(&other, &[&other_arg]);
    let run = |args: &[&str]| -> Value {
        let out = other.run(args);
        assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let rules_only = run(&["--json", "risk", "run"]);
    assert!(
        rules_only["report"]["model_version"].is_null(),
        "{rules_only}"
    );
    let out = other.run(&["risk", "import-model", &file_arg]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let combined = run(&["--json", "risk", "run"]);
    let report = &combined["report"];
    assert_eq!(report["model_version"], version.as_str(), "{combined}");
    assert!(
        report["warned"].as_u64() >= rules_only["report"]["warned"].as_u64(),
        "the model only adds to the rules' evidence: {combined} vs {rules_only}"
    );
    if report["by_model"].as_u64().unwrap() > 0 {
        let warnings = run(&["--json", "risk", "warnings"]);
        assert!(
            warnings.as_array().unwrap().iter().any(|w| w["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["code"].as_str().unwrap().starts_with("MODEL:"))),
            "a score the model set carries the model's reasons: {warnings}"
        );
    }
    let none = run(&["--json", "risk", "run", "--model", "none"]);
    assert!(none["report"]["model_version"].is_null(), "{none}");

    // Bad input: an unknown version, a file that is not a model.
    let out = other.run(&["risk", "run", "--model", "19700101T000000Z-00000000"]);
    assert_ne!(code(&out), 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--model"));
    let junk = other.dir.path().join("junk.json");
    std::fs::write(&junk, "{\"format\": 1}").unwrap();
    let out = other.run(&["risk", "import-model", &junk.display().to_string()]);
    assert_ne!(code(&out), 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("junk.json"));
}

#[test]
fn deliver_resend_requeues_dead_letters_with_their_keys() {
    let db = sqlite();
    assert_eq!(code(&db.run(&["db", "migrate"])), 0);
    db.sql(
        "INSERT INTO warning_outbox (institution_code, entity_type, entity_id, warning_version, \
         idempotency_key, payload, attempts, next_attempt_at, state, last_error, created_at) \
         VALUES ('ICBC', 'account', '6222021234567890128', 1, 'fzw1-dead', '{}', 5, 0, 'dead', \
         'HTTP 500', 0)",
    );
    // Saying what to resend is required.
    assert_ne!(code(&db.run(&["deliver", "resend"])), 0);
    let out = db.run(&["--json", "deliver", "resend", "--dead"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["requeued"], 1, "{v}");
    let out = db.run(&["--json", "deliver", "status"]);
    let lines: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (lines[0]["pending"].as_u64(), lines[0]["dead"].as_u64()),
        (Some(1), Some(0)),
        "{lines}"
    );
    let out = db.run(&["--json", "deliver", "resend", "--dead"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["requeued"], 0);
}

#[test]
fn risk_run_applies_the_threshold_decisions_in_effect() {
    let db = sqlite();
    assert_eq!(code(&db.run(&["db", "migrate"])), 0);
    let plain = db.run(&["--json", "risk", "run"]);
    assert_eq!(
        code(&plain),
        0,
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let plain: Value = serde_json::from_slice(&plain.stdout).unwrap();
    db.sql(
        "INSERT INTO risk_decisions_log (at, actor, pattern, old_threshold, new_threshold, \
         reason, evaluation, level, effective_at) VALUES (0, 'user:commander', 'mule', 50, 55, \
         'x', '{}', 'yellow', 0), (0, 'user:commander', 'mule', 55, 60, 'later', '{}', 'yellow', \
         4000000000000000)",
    );
    let out = db.run(&["--json", "risk", "run"]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(code(&out), 0, "{said}");
    assert!(
        said.contains("mule: cut-offs") && said.contains("yellow 55"),
        "{said}"
    );
    let governed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(
        governed["report"]["rules_version"], plain["report"]["rules_version"],
        "warnings scored with other cut-offs carry another label"
    );
    let out = db.run(&["--json", "risk", "thresholds"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let t: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mule = t["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pattern"] == "mule")
        .unwrap();
    assert_eq!(mule["yellow"].as_f64(), Some(55.0), "{t}");
    assert_eq!(
        (
            t["decisions"].as_array().unwrap().len(),
            t["pending"].clone()
        ),
        (2, serde_json::json!([2]))
    );
    // A decision that leaves the cut-offs out of order stops the run, naming it.
    db.sql(
        "INSERT INTO risk_decisions_log (at, actor, pattern, old_threshold, new_threshold, \
         reason, evaluation, level, effective_at) VALUES (0, 'user:commander', 'mule', 55, 99, \
         'x', '{}', 'yellow', 1)",
    );
    let out = db.run(&["risk", "run"]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(code(&out), 0);
    assert!(said.contains("#3"), "{said}");
}

/// The simulator's labelled FIFO holdings on district accounts: (account, report, fen).
fn inside_holdings(district: &Path) -> Vec<(String, String, i64)> {
    let accounts: std::collections::HashSet<String> =
        csv::Reader::from_path(district.join("accounts.csv"))
            .unwrap()
            .records()
            .map(|r| r.unwrap()[0].to_owned())
            .collect();
    csv::Reader::from_path(district.join("labels/holdings.csv"))
        .unwrap()
        .deserialize::<(String, String, i64)>()
        .map(|r| r.unwrap())
        .filter(|(a, r, _)| accounts.contains(a) && r.starts_with('R'))
        .collect()
}

#[test]
fn trace_follows_a_report_and_returns_plan_allocates_what_reached_an_account() {
    let db = sqlite();
    let dir = db.dir.path().join("district");
    let dir_arg = dir.display().to_string();
    let out = db.run(&["sim", "--seed", "21", "--scale", "small", "--out", &dir_arg]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(ingest_json(&db, &[&dir_arg]).0, 0);
    let labelled = inside_holdings(&dir);
    let (account, report, fen) = labelled.first().expect("a labelled holding").clone();

    let json = |args: &[&str]| -> Value {
        let out = db.run(args);
        assert_eq!(
            code(&out),
            0,
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let fifo = json(&["--json", "trace", "--report", &report, "--rule", "fifo"]);
    assert_eq!(fifo["report"], report.as_str());
    assert_eq!(fifo["rule"], "fifo");
    let held: Vec<(&str, i64)> = fifo["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["account"].as_str().unwrap(),
                h["amount_fen"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        held.contains(&(account.as_str(), fen)),
        "{held:?} lacks the label's holding"
    );
    let sum = |v: &Value, k: &str| -> i64 {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x["amount_fen"].as_i64().unwrap())
            .sum()
    };
    assert_eq!(
        sum(&fifo, "holdings") + sum(&fifo, "exits"),
        fifo["paid_fen"].as_i64().unwrap(),
        "money is conserved"
    );
    let first_path = &fifo["holdings"][0]["paths"][0];
    assert!(
        first_path.as_array().is_some_and(|p| !p.is_empty()),
        "{fifo}"
    );
    // Poison reaches at least every account a conserving rule leaves money on.
    let poison = json(&["--json", "trace", "--report", &report, "--rule", "poison"]);
    let reached: Vec<&str> = poison["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["account"].as_str().unwrap())
        .collect();
    for rule in ["lifo", "pro-rata", "libr", "fifo"] {
        let t = json(&["--json", "trace", "--report", &report, "--rule", rule]);
        for h in t["holdings"].as_array().unwrap() {
            assert!(
                reached.contains(&h["account"].as_str().unwrap()),
                "{rule}: {h}"
            );
        }
    }
    // Before the first payment there is nothing to follow.
    let early = json(&[
        "--json",
        "trace",
        "--report",
        &report,
        "--as-of",
        "2026-02-01T00:00:00+08:00",
    ]);
    assert_eq!(early["paid_fen"], 0);

    let plan = json(&["--json", "returns", "plan", "--account", &account]);
    let allocated: i64 = plan["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["amount_fen"].as_i64().unwrap())
        .sum();
    assert!(allocated <= plan["frozen_fen"].as_i64().unwrap(), "{plan}");
    assert!(
        plan["allocations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["report"] == report.as_str()),
        "{report}'s money is on {account}: {plan}"
    );
    assert!(
        plan["claims"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["report"] == report.as_str() && c["held_fen"] == fen),
        "the claim shows the FIFO holding the allocation starts from: {plan}"
    );
    assert_eq!(plan["funds_from"], "balance");

    for (args, says) in [
        (
            vec!["trace", "--report", "R-NOPE"],
            "report R-NOPE does not exist",
        ),
        (
            vec!["trace", "--report", &report, "--rule", "haircut"],
            "pro-rata",
        ),
        (
            vec!["trace", "--report", &report, "--as-of", "yesterday"],
            "--as-of",
        ),
        (
            vec!["returns", "plan", "--account", "NOPE"],
            "not one of the district's accounts",
        ),
    ] {
        let out = db.run(&args);
        assert_eq!(code(&out), 2, "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let audit = json(&["--json", "audit", "list", "--action", "cli.trace"]);
    assert!(
        audit["total"].as_u64().unwrap() >= 6,
        "every trace is on record: {audit}"
    );

    // The stop plan sizes each order to the traced holding, most urgent first.
    let plan = json(&["--json", "stop", "plan", "--report", &report]);
    let orders = plan["orders"].as_array().unwrap();
    let planned: i64 = orders
        .iter()
        .map(|o| o["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(planned, sum(&fifo, "holdings"), "{plan}");
    assert!(orders.iter().all(|o| o["basis"] == "traced_holding"));
    let first = orders[0]["account"].as_str().unwrap().to_owned();
    let whole = json(&[
        "--json",
        "stop",
        "plan",
        "--report",
        &report,
        "--whole-account",
        &first,
        "--reason",
        "the holder is the ring's card dealer, arrested today",
    ]);
    assert_eq!(whole["orders"][0]["basis"], "whole_account");
    // --draft stores each line as a draft stop-payment order.
    let drafted = json(&["--json", "stop", "plan", "--report", &report, "--draft"]);
    for o in drafted["orders"].as_array().unwrap() {
        assert!(o["order_id"].as_i64().is_some(), "{drafted}");
    }
    assert_eq!(
        whole["orders"][0]["amount_fen"],
        whole["orders"][0]["balance_fen"]
    );
    for (args, says) in [
        (
            vec!["stop", "plan", "--report", &report, "--rule", "poison"],
            "reach, not amounts",
        ),
        (
            vec![
                "stop",
                "plan",
                "--report",
                &report,
                "--whole-account",
                &first,
            ],
            "--reason",
        ),
        (
            vec![
                "stop",
                "plan",
                "--report",
                &report,
                "--whole-account",
                &first,
                "--reason",
                "short",
            ],
            "10 to 500 characters",
        ),
    ] {
        let out = db.run(&args);
        assert_eq!(code(&out), 2, "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }

    // The freeze registry of an account other authorities froze: what is held never
    // exceeds the balance; the rest of their requests queues.
    let frozen = csv::Reader::from_path(dir.join("external_freezes.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap()[0].to_owned())
        .next()
        .expect("the district has external freezes");
    let reg = json(&["--json", "freezes", "show", "--account", &frozen]);
    assert!(
        reg["active_fen"].as_i64().unwrap() <= reg["balance_fen"].as_i64().unwrap(),
        "{reg}"
    );
    assert!(!reg["measures"].as_array().unwrap().is_empty(), "{reg}");
    for m in reg["measures"].as_array().unwrap() {
        assert_eq!(
            m["active_fen"].as_i64().unwrap() + m["queued_fen"].as_i64().unwrap(),
            m["requested_fen"].as_i64().unwrap(),
            "{m}"
        );
    }

    // Orders: no freeze before the case is filed; then a freeze for the traced holding moves
    // draft → pending → approved (numbered) → sent → executed, and joins the registry.
    let fen_arg = fen.to_string();
    let draft = [
        "--json",
        "order",
        "draft",
        "--kind",
        "freeze",
        "--account",
        &account,
        "--amount-fen",
        &fen_arg,
        "--report",
        &report,
    ];
    let early = db.run(&draft);
    assert_eq!(code(&early), 2);
    assert!(String::from_utf8_lossy(&early.stderr).contains("filed case"));
    json(&[
        "--json",
        "case",
        "file",
        "--case",
        "C-T1",
        "--filing-no",
        "立〔2026〕9号",
        "--reports",
        &report,
    ]);
    let again = db.run(&[
        "case",
        "file",
        "--case",
        "C-T1",
        "--filing-no",
        "x",
        "--reports",
        &report,
    ]);
    assert_eq!(code(&again), 2, "a case is filed once");
    let mut with_case = draft.to_vec();
    with_case.extend(["--case", "C-T1"]);
    let o = json(&with_case);
    assert_eq!(
        (o["status"].as_str(), o["level"].as_str()),
        (Some("draft"), Some("county"))
    );
    let id = o["id"].as_i64().unwrap().to_string();
    for (step, status) in [
        (vec!["submit", &id], "pending"),
        (vec!["approve", &id, "--level", "county"], "approved"),
        (vec!["send", &id], "sent"),
        (vec!["answer", &id, "--executed", &fen_arg], "executed"),
    ] {
        let mut args = vec!["--json", "order"];
        args.extend(step);
        let o = json(&args);
        assert_eq!(o["status"], status, "{o}");
    }
    let list = json(&["--json", "order", "list", "--account", &account]);
    let o = list
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"].as_i64().map(|i| i.to_string()).as_deref() == Some(id.as_str()))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        o["document_no"].as_str().unwrap().starts_with("冻结〔"),
        "{o}"
    );
    assert_eq!(o["document"], "协助冻结财产通知书");
    assert!(o["expires_at"].is_string());
    // The periods are configuration: a file shortening the stop to 24 hours is obeyed, and
    // a file with an error stops the command, naming its line.
    std::fs::write(
        db.dir.path().join("bad.toml"),
        "[periods]\nstop_hour = 24\n",
    )
    .unwrap();
    let bad = db.run_env(&["order", "list"], &[("FANZHA_LINKAGE_RULES", "bad.toml")]);
    assert_eq!(code(&bad), 2);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("bad.toml") && err.contains("line 2"), "{err}");
    std::fs::write(
        db.dir.path().join("short.toml"),
        "[periods]\nstop_hours = 24\n",
    )
    .unwrap();
    let short = [("FANZHA_LINKAGE_RULES", "short.toml")];
    let drafted = db.run_env(
        &[
            "--json",
            "order",
            "draft",
            "--kind",
            "stop",
            "--account",
            &account,
            "--amount-fen",
            "100",
        ],
        &short,
    );
    assert_eq!(
        code(&drafted),
        0,
        "{}",
        String::from_utf8_lossy(&drafted.stderr)
    );
    let sid = serde_json::from_slice::<serde_json::Value>(&drafted.stdout).unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    for step in [
        vec!["submit", &sid],
        vec!["approve", &sid, "--level", "county"],
        vec!["send", &sid],
    ] {
        let mut args = vec!["order"];
        args.extend(step);
        assert_eq!(code(&db.run_env(&args, &short)), 0);
    }
    let answered = db.run_env(
        &["--json", "order", "answer", &sid, "--executed", "100"],
        &short,
    );
    let o: serde_json::Value = serde_json::from_slice(&answered.stdout).unwrap();
    let hours = |k: &str| {
        chrono::DateTime::parse_from_rfc3339(o[k].as_str().unwrap())
            .unwrap()
            .timestamp()
    };
    assert_eq!(
        hours("expires_at") - hours("effective_at"),
        24 * 3600,
        "{o}"
    );
    let withdraw = db.run(&["order", "lift", &sid]);
    assert_eq!(
        code(&withdraw),
        0,
        "{}",
        String::from_utf8_lossy(&withdraw.stderr)
    );
    // The screening (甄别) is recorded once.
    let o = json(&["--json", "order", "dispose", &id, "--finding", "related"]);
    assert!(
        o["disposition"].as_str().unwrap().contains("related"),
        "{o}"
    );
    let again = db.run(&["order", "dispose", &id, "--finding", "unrelated"]);
    assert_eq!(code(&again), 2);
    assert!(String::from_utf8_lossy(&again.stderr).contains("screened already"));
    // The order's document names the account in full, the amount in words and the case.
    let doc = db.run(&["order", "document", &id]);
    assert_eq!(code(&doc), 0, "{}", String::from_utf8_lossy(&doc.stderr));
    let doc = String::from_utf8_lossy(&doc.stdout);
    for needle in [
        "协助冻结财产通知书",
        account.as_str(),
        "立〔2026〕9号",
        "大写：",
        "已执行",
    ] {
        assert!(doc.contains(needle), "{needle} missing from {doc}");
    }
    // The case's bulk freeze: the report's traced holdings, summed per account, every
    // fen of them on a line; the account already frozen in the case is not drafted twice.
    let traced = json(&["--json", "trace", "--report", &report]);
    let plan = json(&["--json", "case", "freeze", "--case", "C-T1", "--draft"]);
    let sum = |key: &str| -> i64 {
        plan[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["amount_fen"].as_i64().unwrap())
            .sum()
    };
    assert_eq!(
        sum("lines") + sum("outside"),
        traced["held_fen"].as_i64().unwrap(),
        "{plan}"
    );
    for l in plan["lines"].as_array().unwrap() {
        let again = l["account"] == account.as_str();
        assert_eq!(l["not_drafted"].is_string(), again, "{l}");
        assert_eq!(l["order_id"].is_i64(), !again, "{l}");
    }
    assert_eq!(plan["level"], "county");
    // A round of returns from the executed freeze, decided at prefecture level only, and
    // not before the objection period when a share is split pro rata.
    let round = json(&[
        "--json",
        "returns",
        "open",
        "--account",
        &account,
        "--case",
        "C-T1",
    ]);
    assert_eq!(round["round"], 1, "{round}");
    let shares: i64 = round["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["amount_fen"].as_i64().unwrap())
        .sum();
    assert!(shares > 0 && shares <= fen, "{round}");
    let rid = round["id"].as_i64().unwrap().to_string();
    let county = db.run(&["returns", "decide", "--round", &rid, "--level", "county"]);
    assert_eq!(code(&county), 2);
    assert!(String::from_utf8_lossy(&county.stderr).contains("prefecture"));
    let pro_rata = round["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["basis"] == "pro_rata");
    let decide = [
        "--json",
        "returns",
        "decide",
        "--round",
        &rid,
        "--level",
        "prefecture",
    ];
    if pro_rata {
        let early = db.run(&decide);
        assert_eq!(code(&early), 2);
        assert!(String::from_utf8_lossy(&early.stderr).contains("objection period"));
    } else {
        let d = json(&decide);
        assert_eq!(
            d["orders"].as_array().unwrap().len(),
            round["allocations"].as_array().unwrap().len(),
            "{d}"
        );
    }
    let doc = db.run(&["returns", "document", "--round", &rid]);
    assert_eq!(code(&doc), 0, "{}", String::from_utf8_lossy(&doc.stderr));
    let doc = String::from_utf8_lossy(&doc.stdout);
    let title = if pro_rata {
        "冻结资金返还公告"
    } else {
        "冻结资金返还决定书"
    };
    assert!(
        doc.contains(title) && doc.contains(account.as_str()),
        "{doc}"
    );
    let ratio = json(&["--json", "returns", "ratio"]);
    assert!(
        ratio["by_case"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["key"] == "C-T1"),
        "{ratio}"
    );
    let resend = db.run(&["order", "send", &id]);
    assert_eq!(code(&resend), 2);
    assert!(String::from_utf8_lossy(&resend.stderr).contains("cannot be sent"));
    let unknown = db.run(&[
        "order",
        "draft",
        "--kind",
        "stop",
        "--account",
        "NOPE",
        "--amount-fen",
        "100",
    ]);
    assert_eq!(code(&unknown), 2);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not one of the district's accounts"));
    // At most two stop-payments on one account.
    let stop = [
        "--json",
        "order",
        "draft",
        "--kind",
        "stop",
        "--account",
        &account,
        "--amount-fen",
        "100",
    ];
    let mut placed = 0;
    loop {
        let out = db.run(&stop);
        if code(&out) != 0 {
            assert_eq!(code(&out), 2);
            assert!(String::from_utf8_lossy(&out.stderr).contains("2 stop-payments"));
            break;
        }
        placed += 1;
        assert!(placed <= 2, "a third stop on one account was drafted");
    }
    // The executed freeze holds the account's money in the registry from now on.
    let soon = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let reg = json(&[
        "--json",
        "freezes",
        "show",
        "--account",
        &account,
        "--as-of",
        &soon,
    ]);
    let ours = reg["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["authority"] == "本辖区 (this district)")
        .unwrap_or_else(|| panic!("{reg}"));
    assert_eq!(ours["requested_fen"].as_i64(), Some(fen), "{reg}");
    // Its renewal is due 10 days before it lapses, six months on; it was screened, so no
    // screening is due.
    let due = json(&["--json", "freezes", "due", "--within-days", "200"]);
    let whats: Vec<&str> = due
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["order"].as_i64().map(|i| i.to_string()).as_deref() == Some(id.as_str()))
        .map(|d| d["what"].as_str().unwrap())
        .collect();
    assert_eq!(whats, ["renewal_due", "freeze_lapses"], "{due}");
    let soon_due = json(&["--json", "freezes", "due", "--within-days", "10"]);
    assert!(
        !soon_due
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["what"] == "renewal_due"),
        "{soon_due}"
    );
    // The return plan now allocates what the district froze there.
    let plan = json(&[
        "--json",
        "returns",
        "plan",
        "--account",
        &account,
        "--as-of",
        &soon,
    ]);
    assert_eq!(plan["funds_from"], "freeze", "{plan}");
    assert_eq!(
        plan["frozen_fen"].as_i64(),
        ours["active_fen"].as_i64(),
        "{plan}"
    );
}
