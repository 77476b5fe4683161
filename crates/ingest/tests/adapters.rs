//! The public-benchmark adapters on the hand-written fixtures in `fixtures/public/`
//! (see its README for what each line tests): what they write, what they reject and why,
//! that they never panic on damaged input, and that what they write loads with
//! `ingest_file` into a fresh SQLite store without a single rejection.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fanzha_ingest::adapters::{amlsim, amlworld, roles, ConvertError, ConvertReport, Rates};
use fanzha_ingest::{ingest_file, IngestOptions, NoProgress};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/public")
}

fn utc() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(0).unwrap()
}

fn amlworld_opts(out: &Path) -> amlworld::Options {
    let trans = fixtures().join("amlworld/HI-Tiny_Trans.csv");
    amlworld::Options {
        patterns: amlworld::patterns_beside(&trans),
        trans,
        out: out.to_owned(),
        tz: utc(),
        rates: Rates::default(),
    }
}

fn amlsim_opts(out: &Path) -> amlsim::Options {
    amlsim::Options {
        dir: fixtures().join("amlsim"),
        out: out.to_owned(),
        tz: utc(),
        base_date: chrono::NaiveDate::from_ymd_opt(2017, 1, 1).unwrap(),
        currency: "USD".into(),
        rates: Rates::default(),
    }
}

/// A written CSV as maps of column → value, one per row.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn find<'a>(
    rows: &'a [BTreeMap<String, String>],
    col: &str,
    v: &str,
) -> &'a BTreeMap<String, String> {
    rows.iter()
        .find(|r| r[col] == v)
        .unwrap_or_else(|| panic!("no row with {col} = {v}"))
}

/// (line, field) of every rejection, and each reason, from `convert/rejections.csv`.
fn rejections(out: &Path) -> Vec<(String, u64, String, String)> {
    rows(&out.join("convert/rejections.csv"))
        .into_iter()
        .map(|r| {
            let file = Path::new(&r["file"])
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (
                file,
                r["line"].parse().unwrap(),
                r["field"].clone(),
                r["reason"].clone(),
            )
        })
        .collect()
}

fn rows_written(report: &ConvertReport, name: &str) -> u64 {
    report
        .files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} not written"))
        .rows
}

/// Ingests every data file of `dir` into a fresh SQLite store: (file stem → inserted, total
/// rejected).
async fn ingest_dir(dir: &Path) -> (BTreeMap<String, u64>, u64) {
    let db = tempfile::tempdir().unwrap();
    let store = fanzha_store::open(db.path().join("f.db").to_str().unwrap())
        .await
        .unwrap();
    let mut inserted = BTreeMap::new();
    let mut rejected = 0;
    let paths = fanzha_ingest::expand_paths(&[dir.to_owned()]);
    assert!(
        paths.iter().all(|p| p.parent() == Some(dir)),
        "labels/ and convert/ must not be picked up: {paths:?}"
    );
    for path in paths {
        let r = ingest_file(&store, &path, &IngestOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for rej in &r.first_rejections {
            eprintln!(
                "{}: line {} {:?}: {}",
                r.file, rej.origin.line, rej.field, rej.reason
            );
        }
        rejected += r.rejected;
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        inserted.insert(stem, r.inserted);
    }
    (inserted, rejected)
}

// --- AMLworld ------------------------------------------------------------------------

#[test]
fn amlworld_fixture_converts_with_each_bad_line_named() {
    let out = tempfile::tempdir().unwrap();
    let report = amlworld::convert(&amlworld_opts(out.path()), &NoProgress).unwrap();
    assert_eq!(report.read, 27);
    assert_eq!(rows_written(&report, "transactions.csv"), 20);
    assert_eq!(rows_written(&report, "accounts.csv"), 22);
    assert_eq!(rows_written(&report, "institutions.csv"), 21);
    assert_eq!(report.laundering, 11);
    assert_eq!(report.rings, 3);
    assert_eq!(report.unattributed, 1);
    assert_eq!(report.unmatched_pattern_lines, 1);

    let rej = rejections(out.path());
    let t = "HI-Tiny_Trans.csv";
    let p = "HI-Tiny_Patterns.txt";
    let got: Vec<(&str, u64, &str)> = rej
        .iter()
        .map(|(f, l, c, _)| (f.as_str(), *l, c.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (p, 21, ""),
            (t, 12, "Timestamp"),
            (t, 13, "Amount Paid"),
            (t, 14, "Amount Paid"),
            (t, 15, "Payment Currency"),
            (t, 24, ""),
            (t, 25, "Is Laundering"),
            (t, 26, "Amount Paid"),
        ]
    );
    let reason = |line: u64| &rej.iter().find(|r| r.0 == t && r.1 == line).unwrap().3;
    assert!(reason(12).contains("2022/09/31 03:00"), "{}", reason(12));
    assert!(reason(13).contains("negative"), "{}", reason(13));
    assert!(reason(14).contains("unexpected `O`"), "{}", reason(14));
    assert!(
        reason(15).contains("unknown currency `Zloty`"),
        "{}",
        reason(15)
    );
    assert!(
        reason(24).contains("10 fields where the header has 11"),
        "{}",
        reason(24)
    );
    assert!(reason(26).contains("less than one fen"), "{}", reason(26));
    assert_eq!(report.rejected, 8);
    assert_eq!(report.first_rejections.len(), 8);
    assert!(report.first_rejections[1]
        .to_string()
        .contains("line 12: `Timestamp`"));
}

#[test]
fn amlworld_rows_map_ids_amounts_times_and_channels() {
    let out = tempfile::tempdir().unwrap();
    amlworld::convert(&amlworld_opts(out.path()), &NoProgress).unwrap();
    let tx = rows(&out.path().join("transactions.csv"));
    // A self-transfer (reinvestment), kept; its exact repeat on line 28 is another tx.
    let r = find(&tx, "tx_id", "HI-Tiny_Trans:2");
    assert_eq!(r["from_account"], "10:8000EBD30");
    assert_eq!(r["to_account"], "10:8000EBD30");
    assert_eq!(r["ts"], "2022-09-01T00:20:00+00:00");
    assert_eq!(r["amount_fen"], "2551165");
    assert_eq!(r["channel"], "reinvestment");
    assert_eq!(
        find(&tx, "tx_id", "HI-Tiny_Trans:28")["amount_fen"],
        "2551165"
    );
    // The same hexadecimal account at banks 011 and 0220 is two accounts; `11` is bank 011.
    let r = find(&tx, "tx_id", "HI-Tiny_Trans:4");
    assert_eq!(
        (r["from_account"].as_str(), r["to_account"].as_str()),
        ("11:80004A1B0", "220:80004A1B0")
    );
    assert_eq!(
        find(&tx, "tx_id", "HI-Tiny_Trans:6")["from_account"],
        "11:80004A1B0"
    );
    // Cross-currency: paid in dollars, received in euros, both kept as given.
    let r = find(&tx, "tx_id", "HI-Tiny_Trans:21");
    assert_eq!(r["amount_fen"], "1400700");
    assert_eq!(
        (r["orig_amount"].as_str(), r["orig_currency"].as_str()),
        ("2030.00", "US Dollar")
    );
    assert_eq!(
        (
            r["received_amount"].as_str(),
            r["received_currency"].as_str()
        ),
        ("2031.50", "Euro")
    );
    assert_eq!(r["memo"], "Wire");
    let r = find(&tx, "tx_id", "HI-Tiny_Trans:7");
    assert_eq!(
        (r["channel"].as_str(), r["amount_fen"].as_str()),
        ("crypto_exchange", "16440")
    );
    assert_eq!(find(&tx, "tx_id", "HI-Tiny_Trans:6")["channel"], "pos");
    assert_eq!(find(&tx, "tx_id", "HI-Tiny_Trans:8")["channel"], "cash");
    assert_eq!(find(&tx, "tx_id", "HI-Tiny_Trans:3")["amount_fen"], "7");
    assert!(tx
        .iter()
        .all(|r| !r.contains_key("Is Laundering") && !r.contains_key("is_laundering")));

    let accounts = rows(&out.path().join("accounts.csv"));
    let a = find(&accounts, "account_id", "1:8000F5340");
    assert_eq!(a["bank_code"], "AMLW-1");
    assert_eq!(a["holder_id"], "AMLW-HOLDER-1:8000F5340");
    assert_eq!(
        a["opened_at"], "2022-09-01T00:20:00+00:00",
        "opened at its first transaction"
    );
    let inst = rows(&out.path().join("institutions.csv"));
    assert_eq!(find(&inst, "code", "AMLW-3208")["kind"], "bank");
}

#[test]
fn amlworld_labels_follow_the_pattern_file() {
    let out = tempfile::tempdir().unwrap();
    amlworld::convert(&amlworld_opts(out.path()), &NoProgress).unwrap();
    let labels = out.path().join("labels");
    let rings = rows(&labels.join("rings.csv"));
    let got: Vec<(&str, &str, &str, &str)> = rings
        .iter()
        .map(|r| {
            (
                r["ring_id"].as_str(),
                r["members"].as_str(),
                r["pattern"].as_str(),
                r["detail"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("AMLW-R1", "4", "fan_out", "Max 3-degree Fan-Out"),
            // Written `80` and `9000.0` in the pattern file, `080` and `9000.00` in the CSV.
            ("AMLW-R2", "3", "cycle", "Max 3 hops"),
            ("AMLW-R3", "5", "gather_scatter", "Max 2-degree Fan-In"),
        ]
    );
    assert!(
        rings.iter().all(|r| r["typologies"].is_empty()),
        "a laundering pattern is not a typology"
    );

    let entities = rows(&labels.join("entities.csv"));
    let role = |id: &str| {
        let r = find(&entities, "entity_id", id);
        assert_eq!(r["entity_type"], "account");
        (r["role"].clone(), r["ring_id"].clone())
    };
    assert_eq!(
        role("70:8100A0010"),
        (roles::SOURCE.into(), "AMLW-R1".into())
    );
    assert_eq!(role("72:8100B0002"), (roles::EXIT.into(), "AMLW-R1".into()));
    assert_eq!(role("80:8200C0001").0, roles::SOURCE);
    assert_eq!(role("81:8200D0001").0, roles::MULE_L1);
    assert_eq!(role("82:8200E0001").0, roles::MULE_L2);
    assert_eq!(role("91:8300F0002").0, roles::SOURCE);
    assert_eq!(role("93:8300H0000").0, roles::MULE_L1);
    assert_eq!(role("95:8300J0002").0, roles::EXIT);
    assert_eq!(role("40:8004D0001"), (roles::PARTY.into(), String::new()));
    assert_eq!(entities.len(), 4 + 3 + 5 + 2);

    let flows = rows(&labels.join("flows.csv"));
    assert_eq!(flows.len(), 11);
    let hop = |tx: &str| {
        let f = find(&flows, "tx_id", tx);
        (f["ring_id"].clone(), f["hop"].clone())
    };
    assert_eq!(hop("HI-Tiny_Trans:11"), ("AMLW-R1".into(), "0".into()));
    assert_eq!(hop("HI-Tiny_Trans:18"), ("AMLW-R2".into(), "2".into()));
    assert_eq!(hop("HI-Tiny_Trans:22"), ("AMLW-R3".into(), "1".into()));
    assert_eq!(hop("HI-Tiny_Trans:23"), (String::new(), String::new()));
}

#[test]
fn amlworld_without_patterns_still_labels_every_laundering_transaction() {
    let out = tempfile::tempdir().unwrap();
    let mut opts = amlworld_opts(out.path());
    opts.patterns = None;
    let report = amlworld::convert(&opts, &NoProgress).unwrap();
    assert_eq!(
        (report.laundering, report.rings, report.unattributed),
        (11, 0, 11)
    );
    let entities = rows(&out.path().join("labels/entities.csv"));
    assert!(entities
        .iter()
        .all(|e| e["role"] == roles::PARTY && e["ring_id"].is_empty()));
    assert_eq!(
        report.rejected, 7,
        "the pattern file's stray line is not read"
    );
}

#[test]
fn amlworld_tz_and_rates_are_the_operators() {
    let out = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rates = dir.path().join("rates.csv");
    std::fs::write(&rates, "currency,yuan_per_unit\nUS Dollar,7\nZloty,1.75\n").unwrap();
    let mut opts = amlworld_opts(out.path());
    opts.tz = "+08:00".parse().unwrap();
    opts.rates = Rates::with_overrides(&rates).unwrap();
    let report = amlworld::convert(&opts, &NoProgress).unwrap();
    assert_eq!(report.rejected, 7, "Zloty is known now");
    let tx = rows(&out.path().join("transactions.csv"));
    let r = find(&tx, "tx_id", "HI-Tiny_Trans:2");
    assert_eq!(r["ts"], "2022-09-01T00:20:00+08:00");
    assert_eq!(r["amount_fen"], "2588138");
    assert_eq!(
        find(&tx, "tx_id", "HI-Tiny_Trans:15")["amount_fen"],
        "17325"
    );
}

#[test]
fn amlworld_conversion_is_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    amlworld::convert(&amlworld_opts(a.path()), &NoProgress).unwrap();
    amlworld::convert(&amlworld_opts(b.path()), &NoProgress).unwrap();
    for f in [
        "transactions.csv",
        "accounts.csv",
        "institutions.csv",
        "labels/entities.csv",
        "labels/flows.csv",
        "labels/rings.csv",
    ] {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn amlworld_unusable_files_stop_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let trans = dir.path().join("X_Trans.csv");
    std::fs::write(
        &trans,
        "Timestamp,From Bank,Account,To Bank,Amount Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format\n",
    )
    .unwrap();
    let opts = amlworld::Options {
        trans: trans.clone(),
        patterns: None,
        out: out.path().to_owned(),
        tz: utc(),
        rates: Rates::default(),
    };
    let e = amlworld::convert(&opts, &NoProgress).unwrap_err();
    assert!(matches!(e, ConvertError::MissingColumns { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("X_Trans.csv") && msg.contains("Is Laundering") && msg.contains("receiver"),
        "{msg}"
    );

    std::fs::write(&trans, "").unwrap();
    let e = amlworld::convert(&opts, &NoProgress).unwrap_err();
    assert!(matches!(e, ConvertError::Empty { .. }), "{e}");
    let opts = amlworld::Options {
        trans: dir.path().join("absent.csv"),
        ..opts
    };
    assert!(matches!(
        amlworld::convert(&opts, &NoProgress),
        Err(ConvertError::Read { .. })
    ));
}

/// A tiny deterministic generator: the damage is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

#[test]
fn damaged_input_is_rejected_line_by_line_never_panics() {
    let trans = std::fs::read(fixtures().join("amlworld/HI-Tiny_Trans.csv")).unwrap();
    let sim = std::fs::read(fixtures().join("amlsim/transactions.csv")).unwrap();
    let junk: &[&[u8]] = &[
        b",",
        b"\"",
        b"\n",
        b"\xff",
        b"-",
        b"e",
        b"9999999999999999999999",
        b"",
        b"\r\n",
    ];
    let mut rng = Lcg(7);
    for round in 0..150 {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut damage = |src: &[u8]| {
            let mut bytes = src.to_vec();
            for _ in 0..1 + rng.next() % 6 {
                // Keep the header, damage the body.
                let at = 240 + (rng.next() as usize) % (bytes.len() - 240);
                let j = junk[(rng.next() as usize) % junk.len()];
                bytes.splice(
                    at..at + (rng.next() as usize % 3).min(bytes.len() - at),
                    j.iter().copied(),
                );
            }
            bytes
        };
        let t = dir.path().join("D_Trans.csv");
        std::fs::write(&t, damage(&trans)).unwrap();
        let opts = amlworld::Options {
            trans: t,
            patterns: None,
            out: out.path().join("w"),
            tz: utc(),
            rates: Rates::default(),
        };
        let r =
            amlworld::convert(&opts, &NoProgress).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(
            r.read,
            rows_written(&r, "transactions.csv") + r.rejected,
            "round {round}: every record is written or rejected"
        );
        std::fs::write(dir.path().join("transactions.csv"), damage(&sim)).unwrap();
        let mut o = amlsim_opts(&out.path().join("s"));
        o.dir = dir.path().to_owned();
        let r = amlsim::convert(&o, &NoProgress).unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(
            r.read,
            rows_written(&r, "transactions.csv") + r.rejected,
            "round {round}"
        );
    }
}

// --- AMLSim --------------------------------------------------------------------------

#[test]
fn amlsim_fixture_converts_with_each_bad_line_named() {
    let out = tempfile::tempdir().unwrap();
    let report = amlsim::convert(&amlsim_opts(out.path()), &NoProgress).unwrap();
    assert_eq!(rows_written(&report, "accounts.csv"), 7);
    assert_eq!(rows_written(&report, "balances.csv"), 7);
    assert_eq!(rows_written(&report, "transactions.csv"), 14);
    assert_eq!(rows_written(&report, "institutions.csv"), 2);
    assert_eq!(
        (report.laundering, report.rings, report.unattributed),
        (8, 2, 1)
    );
    let got: Vec<(String, u64, String)> = rejections(out.path())
        .into_iter()
        .map(|(f, l, c, _)| (f, l, c))
        .collect();
    let w = |f: &str, l: u64, c: &str| (f.to_owned(), l, c.to_owned());
    assert_eq!(
        got,
        vec![
            w("accounts.csv", 9, "initial_deposit"),
            w("transactions.csv", 15, "tran_timestamp"),
            w("transactions.csv", 16, "base_amt"),
            w("transactions.csv", 17, "is_sar"),
        ]
    );

    let tx = rows(&out.path().join("transactions.csv"));
    let r = find(&tx, "tx_id", "5");
    assert_eq!(
        (
            r["ts"].as_str(),
            r["amount_fen"].as_str(),
            r["channel"].as_str(),
            r["memo"].as_str()
        ),
        ("2017-01-04T00:00:00+00:00", "1138500", "transfer", "WIRE")
    );
    assert_eq!(find(&tx, "tx_id", "11")["channel"], "cheque");
    assert_eq!(
        find(&tx, "tx_id", "17")["ts"],
        "2017-01-13T00:00:00+00:00",
        "day 12 of the simulation"
    );
    let accounts = rows(&out.path().join("accounts.csv"));
    let a = find(&accounts, "account_id", "3");
    assert_eq!(
        (
            a["bank_code"].as_str(),
            a["holder_id"].as_str(),
            a["opened_at"].as_str()
        ),
        ("AMLSIM-bank_a", "AMLSIM-P3", "2017-01-01T00:00:00+00:00")
    );
    assert_eq!(find(&accounts, "account_id", "7")["status"], "closed");
    let balances = rows(&out.path().join("balances.csv"));
    assert_eq!(
        find(&balances, "account_id", "6")["balance_fen"],
        "48300000",
        "in its own currency, EUR"
    );
    assert_eq!(find(&balances, "account_id", "7")["balance_fen"], "0");

    let entities = rows(&out.path().join("labels/entities.csv"));
    let role = |id: &str, ring: &str| {
        entities
            .iter()
            .find(|e| e["entity_id"] == id && e["ring_id"] == ring)
            .map(|e| e["role"].clone())
    };
    assert_eq!(role("3", "AMLSIM-3").as_deref(), Some(roles::SOURCE));
    assert_eq!(role("5", "AMLSIM-3").as_deref(), Some(roles::MULE_L1));
    assert_eq!(role("7", "AMLSIM-3").as_deref(), Some(roles::EXIT));
    assert_eq!(role("7", "AMLSIM-7").as_deref(), Some(roles::SOURCE));
    assert_eq!(role("3", "AMLSIM-7").as_deref(), Some(roles::MULE_L2));
    assert_eq!(role("9002", "").as_deref(), Some(roles::PARTY));
    assert_eq!(
        role("1", "AMLSIM-9"),
        None,
        "a false alert is not laundering"
    );
    let rings = rows(&out.path().join("labels/rings.csv"));
    assert_eq!(find(&rings, "ring_id", "AMLSIM-3")["pattern"], "fan_in");
    assert_eq!(find(&rings, "ring_id", "AMLSIM-7")["members"], "3");
}

#[test]
fn amlsim_without_transactions_is_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut o = amlsim_opts(out.path());
    o.dir = dir.path().to_owned();
    let e = amlsim::convert(&o, &NoProgress).unwrap_err().to_string();
    assert!(e.contains("neither transactions.csv nor tx.csv"), "{e}");
    std::fs::write(
        dir.path().join("tx.csv"),
        "tran_id,orig_acct,bene_acct\n1,2,3\n",
    )
    .unwrap();
    let e = amlsim::convert(&o, &NoProgress).unwrap_err().to_string();
    assert!(
        e.contains("tx.csv") && e.contains("base_amt, tran_timestamp"),
        "{e}"
    );
}

// --- round trip through ingest -------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converted_amlworld_ingests_with_no_rejection() {
    let out = tempfile::tempdir().unwrap();
    let report = amlworld::convert(&amlworld_opts(out.path()), &NoProgress).unwrap();
    let (inserted, rejected) = ingest_dir(out.path()).await;
    assert_eq!(rejected, 0);
    for f in ["transactions", "accounts", "institutions"] {
        assert_eq!(
            inserted[f],
            rows_written(&report, &format!("{f}.csv")),
            "{f}"
        );
    }
    assert_eq!(inserted.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converted_amlsim_ingests_with_no_rejection() {
    let out = tempfile::tempdir().unwrap();
    let report = amlsim::convert(&amlsim_opts(out.path()), &NoProgress).unwrap();
    let (inserted, rejected) = ingest_dir(out.path()).await;
    assert_eq!(rejected, 0);
    for f in ["transactions", "accounts", "balances", "institutions"] {
        assert_eq!(
            inserted[f],
            rows_written(&report, &format!("{f}.csv")),
            "{f}"
        );
    }
}
