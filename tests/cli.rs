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
    static N: AtomicU32 = AtomicU32::new(0);
    let url = std::env::var("FANZHA_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!(
        "cli_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        nanos
    );
    let sep = if url.contains('?') { '&' } else { '?' };
    Db {
        target: format!("{url}{sep}schema={schema}"),
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
        assert_eq!(super::code(&db.run(&["demo", "--no-serve"])), 0);
        assert_eq!(db.stats(), first, "a second demo stores nothing new");
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
    let out = db.run(&["--json", "db", "audit"]);
    assert_eq!(code(&out), 0);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["cli.ingest", "cli.db.stats"]);
    assert!(v["chain_broken_at"].is_null());
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
    assert_eq!(first["applied_now"], serde_json::json!([1, 2, 3]));
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

    let audit = db.run(&["--json", "db", "audit"]);
    let text = String::from_utf8_lossy(&audit.stdout);
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
    assert_eq!(accounts.len(), 11, "{accounts:?}");
    let analyst = accounts
        .iter()
        .find(|a| a["username"] == "analyst")
        .unwrap();
    let body = serde_json::json!({
        "username": "analyst",
        "password": analyst["password"],
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
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(sigterm(child).success());
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
