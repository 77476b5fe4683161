//! The console in a real browser: `browser-tests/console.test.mjs`, run by Node's test
//! runner with playwright-core driving Debian's headless Chromium, against `fanzha serve` on
//! the sample district.
//!
//! This test fails, never skips, when Node's packages or Chromium are missing: `.ci/run`
//! installs both (`npm ci --prefix browser-tests`, Debian's `chromium`). Screenshots are kept
//! under `target/tmp/browser-artifacts/` (the test prints where).

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PASSWORD: &str = "browser-test-passphrase";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fanzha(db: &str, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_fanzha"))
        .args(["--db", db])
        .args(args)
        .output()
        .expect("running fanzha");
    assert!(
        out.status.success() || out.status.code() == Some(2),
        "fanzha {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn add_user(db: &str, name: &str, extra: &[&str]) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fanzha"))
        .args(["--db", db, "user", "add", name])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running fanzha user add");
    writeln!(child.stdin.take().expect("stdin"), "{PASSWORD}").expect("writing the password");
    let out = child.wait_with_output().expect("fanzha user add");
    assert!(
        out.status.success(),
        "user add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The first data row of a sample-district file whose `key` column holds `value`, as a
/// map from column to value.
fn fixture_row(kind: &str, key: &str, value: &str) -> std::collections::HashMap<String, String> {
    let path = root().join(format!("fixtures/sample-district/{kind}.csv"));
    let text = std::fs::read_to_string(&path).expect("reading the fixture");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let col = header.iter().position(|c| *c == key).expect("the column");
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|cells| cells.get(col) == Some(&value))
        .map(|cells| {
            header
                .iter()
                .zip(cells)
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect()
        })
        .expect("the fixture row")
}

fn require(path: &Path, what: &str) {
    assert!(
        path.exists(),
        "{what} is missing at {}: run .ci/run, or `npm ci --prefix browser-tests` and \
         `apt-get install chromium` (set FANZHA_CHROMIUM for another browser path)",
        path.display()
    );
}

#[test]
fn the_console_in_a_real_browser() {
    let chromium =
        std::env::var("FANZHA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    require(Path::new(&chromium), "Chromium");
    require(
        &root().join("browser-tests/node_modules/playwright-core"),
        "playwright-core",
    );

    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("browser.db");
    let db = db.to_str().expect("a UTF-8 path");
    let sample = root().join("fixtures/sample-district");
    fanzha(db, &["ingest", sample.to_str().expect("a UTF-8 path")]);

    let person = fixture_row("persons", "person_id", "50010319460812373X");
    let foreign = fixture_row("accounts", "bank_code", "CCB");
    add_user(db, "analyst", &["--role", "analyst"]);
    add_user(db, "commander", &["--role", "commander"]);
    add_user(db, "auditor", &["--role", "auditor"]);
    add_user(
        db,
        "bank_operator",
        &["--role", "bank_operator", "--institution", "ICBC"],
    );

    let mut server = Command::new(env!("CARGO_BIN_EXE_fanzha"))
        .args(["--db", db, "--json", "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting fanzha serve");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("reading the URL");
    let url: serde_json::Value = serde_json::from_str(&line).expect("the URL line");
    let url = url["url"].as_str().expect("a URL").to_owned();

    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-artifacts");
    let out = Command::new("node")
        .args(["--test", "--test-reporter=spec", "console.test.mjs"])
        .current_dir(root().join("browser-tests"))
        .env("FANZHA_URL", &url)
        .env("FANZHA_ARTIFACTS", &artifacts)
        .env("FANZHA_PASSWORD", PASSWORD)
        .env("FANZHA_CHROMIUM", &chromium)
        .env("FANZHA_PERSON_ID", &person["person_id"])
        .env("FANZHA_PERSON_NAME", &person["name"])
        .env("FANZHA_FOREIGN_ACCOUNT", &foreign["account_id"])
        .output();
    let _ = server.kill();
    let _ = server.wait();
    let out = out.expect("running node (is Node.js installed?)");
    println!("screenshots: {}", artifacts.display());
    assert!(
        out.status.success(),
        "browser tests failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
