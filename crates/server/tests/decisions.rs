//! Real-time decisions and account-opening checks over HTTP, on both stores: the live state
//! warmed from a seeded store (stored warnings on person A's and B's cards), institutions'
//! keys, request signals for unknown parties, 400s naming the field, 401/403.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use fanzha_core::schema::{Kind, Value};
use fanzha_core::vocab::Role;
use fanzha_server::{Application, LiveSettings, Settings};
use fanzha_store::{RiskEntity, Store, WarningLevel};
use reqwest::StatusCode;
use serde_json::{json, Value as Json};

/// Person C: a valid resident id holding five CMCC SIMs (the carrier's cap).
const PERSON_C: &str = "500103198001011238";
/// Person D: a valid resident id holding one ICBC account with a red warning.
const PERSON_D: &str = "500103199102023451";
const ACCOUNT_D: &str = "6222025555666677776";
/// A valid resident id nobody in the store holds anything under.
const PERSON_NEW: &str = "500103200003034564";
const UNKNOWN_CARD: &str = "6222021234567890102";
/// A card with an orange warning (the common district's other cards fail their check digit,
/// which the decision API refuses).
const ORANGE_CARD: &str = "6222025555666688880";

struct Live {
    base: String,
    store: Arc<dyn Store>,
    client: reqwest::Client,
    key: String,
    _dir: tempfile::TempDir,
}

impl Live {
    async fn post(&self, path: &str, auth: Option<&str>, body: &str) -> (StatusCode, Json) {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_owned());
        if let Some(k) = auth {
            req = req.bearer_auth(k);
        }
        read(req.send().await.unwrap()).await
    }

    async fn decide(&self, path: &str, body: Json) -> Json {
        let (status, body) = self.post(path, Some(&self.key), &body.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Waits until the live state has replayed the store.
    async fn ready(&self) {
        for _ in 0..300 {
            let body = self
                .decide(
                    "/api/v1/decisions/call",
                    json!({ "caller": PHONE_B, "callee": PHONE_A }),
                )
                .await;
            if body["state"] == "ready" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the live state never became ready");
    }
}

/// A store seeded with the common district, its warnings and persons C and D, then the
/// server started on it (so warm-up reads all of it), and a key for bank A.
async fn start(db: Option<String>) -> Live {
    start_with(db, fast()).await
}

/// The live state tailing every 100 ms.
fn fast() -> LiveSettings {
    LiveSettings {
        tail_every: Duration::from_millis(100),
        ..LiveSettings::default()
    }
}

async fn start_with(db: Option<String>, live: LiveSettings) -> Live {
    let dir = tempfile::tempdir().unwrap();
    let db = db.unwrap_or_else(|| dir.path().join("fanzha.db").to_str().unwrap().to_owned());
    let store = fanzha_store::open(&db).await.unwrap();
    seed(&*store).await;
    seed_warnings(&*store).await;
    let t = |s: &str| Value::Text(s.to_owned());
    let sims = (0..5)
        .map(|i| {
            vec![
                t(&format!("1391234567{i}")),
                Value::Int(T0 - 100 * 24 * HOUR),
                t(CARRIER_A),
                t(PERSON_C),
                t("personal"),
                Value::Null,
            ]
        })
        .collect();
    write(&*store, Kind::Sims, sims).await;
    write(
        &*store,
        Kind::Accounts,
        vec![vec![
            t(ACCOUNT_D),
            t(BANK_A),
            t(PERSON_D),
            Value::Int(T0 - 10 * 24 * HOUR),
            t("II"),
            t("active"),
        ]],
    )
    .await;
    let w = new_warning(
        RiskEntity::Account,
        ORANGE_CARD,
        BANK_B,
        70,
        WarningLevel::Orange,
        "runner",
    );
    store.warning_upsert(&w).await.unwrap();
    let w = new_warning(
        RiskEntity::Account,
        ACCOUNT_D,
        BANK_A,
        90,
        WarningLevel::Red,
        "mule",
    );
    store.warning_upsert(&w).await.unwrap();
    let (_, key) = fanzha_server::auth::add_api_key(&*store, BANK_A, Role::BankOperator, "t")
        .await
        .unwrap();
    let app = Application::build_with(
        Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            db: db.clone(),
        },
        live,
    )
    .await
    .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let store = app.store();
    tokio::spawn(app.run_until_stopped());
    Live {
        base,
        store,
        client: reqwest::Client::new(),
        key,
        _dir: dir,
    }
}

fn codes(body: &Json) -> Vec<String> {
    body["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_masked(body: &Json) {
    let text = body.to_string();
    for s in SECRETS
        .iter()
        .chain(&[ACCOUNT_D, UNKNOWN_CARD, PERSON_C, PERSON_D])
    {
        assert!(!text.contains(s), "{s} leaked in {text}");
    }
}

async fn decisions_from_the_live_state(live: &Live) {
    live.ready().await;
    // Money to person A's red mule account is blocked, with the stored warning's reasons.
    let body = live
        .decide(
            "/api/v1/decisions/payment",
            json!({ "payer_account": "CORP-0003", "payee_account": ACCOUNT_A, "amount_fen": 12_345,
                    "ts": "2026-03-10T10:00:00+08:00" }),
        )
        .await;
    assert_eq!(body["decision"], "block", "{body}");
    assert!(codes(&body).contains(&"acct_pass_through_fast".to_owned()));
    let payee = &body["entities"][1];
    assert_eq!(payee["role"], "payee");
    assert_eq!(payee["level"], "red");
    assert_eq!(payee["known"], true);
    assert!(payee["id"].as_str().unwrap().ends_with("0128"));
    assert!(body["rules_version"].as_str().unwrap().contains("sha256:"));
    assert_masked(&body);

    // An orange payer is held.
    let body = live
        .decide(
            "/api/v1/decisions/payment",
            json!({ "payer_account": ORANGE_CARD, "payee_account": "CORP-0002", "amount_fen": 100,
                    "ts": "2026-03-10T11:00:00+08:00" }),
        )
        .await;
    assert_eq!(body["decision"], "hold", "{body}");
    assert!(codes(&body).contains(&"PAY-PAYEE-UNSEEN".to_owned()));
    assert_eq!(body["entities"][1]["known"], false);

    // A call from person B's yellow SIM warns; the red callee does not count.
    let body = live
        .decide(
            "/api/v1/decisions/call",
            json!({ "caller": PHONE_B, "callee": PHONE_A }),
        )
        .await;
    assert_eq!(body["decision"], "warn", "{body}");
    assert_eq!(body["entities"][1]["counted"], false);
    assert_masked(&body);

    // Unknown parties still get a decision, from the request's own signals.
    let body = live
        .decide(
            "/api/v1/decisions/payment",
            json!({ "payer_account": "CORP-0001", "payee_account": UNKNOWN_CARD,
                    "amount_fen": 2_000_000, "ts": "2026-03-10T03:00:00+08:00" }),
        )
        .await;
    assert_eq!(
        body["decision"], "warn",
        "new payee, round, at night: {body}"
    );
    let c = codes(&body);
    for code in ["PAY-PAYEE-UNSEEN", "PAY-ROUND-LARGE", "PAY-NIGHT"] {
        assert!(c.contains(&code.to_owned()), "{code} in {body}");
    }
    let body = live
        .decide(
            "/api/v1/decisions/call",
            json!({ "caller": "+63 917 555 0101", "callee": PHONE_A }),
        )
        .await;
    assert_eq!(body["decision"], "warn", "{body}");
    assert!(codes(&body).contains(&"CALL-INTL-CALLER".to_owned()));
    let body = live
        .decide(
            "/api/v1/decisions/sms",
            json!({ "sender": "13700001111", "recipient": PHONE_A, "text": "您好，明天见" }),
        )
        .await;
    assert_eq!(body["decision"], "allow", "{body}");
    assert_eq!(body["score"], 0);

    // Every decision is counted.
    let res = live
        .client
        .get(format!("{}/metrics", live.base))
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert!(
        text.contains("fanzha_decisions_total{kind=\"payment\",decision=\"block\"} 1"),
        "{text}"
    );
    assert!(text.contains("fanzha_decisions_total{kind=\"sms\",decision=\"allow\"} 1"));

    // Account opening: five CMCC SIMs are the cap; a red card held refuses a bank card.
    let (status, body) = live
        .post(
            "/api/v1/checks/account-opening",
            Some(&live.key),
            &json!({ "resident_id": PERSON_D, "institution": BANK_A, "kind": "bank_card" })
                .to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["decision"], "refuse", "{body}");
    assert!(codes(&body).contains(&"OPEN-LINK-RED".to_owned()));
    assert_eq!(body["flagged"][0]["level"], "red");
    assert_masked(&body);
    let (status, body) = live
        .post(
            "/api/v1/checks/account-opening",
            Some(&live.key),
            &json!({ "resident_id": PERSON_NEW, "institution": BANK_A, "kind": "bank_card" })
                .to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["decision"], "allow", "{body}");
    let (_, carrier_key) =
        fanzha_server::auth::add_api_key(&*live.store, CARRIER_A, Role::CarrierOperator, "t")
            .await
            .unwrap();
    let (status, body) = live
        .post(
            "/api/v1/checks/account-opening",
            Some(&carrier_key),
            &json!({ "resident_id": PERSON_C, "institution": CARRIER_A, "kind": "sim" })
                .to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["decision"], "refuse", "{body}");
    assert!(codes(&body).contains(&"OPEN-SIM-CAP".to_owned()));
    assert_eq!(body["holdings"]["sims_here"], 5);
    // The check is audited.
    let trail = live.store.audit_list().await.unwrap();
    assert!(trail.iter().any(|e| e.action == "check.account_opening"));
}

#[tokio::test]
async fn decisions_on_sqlite() {
    let live = start(None).await;
    decisions_from_the_live_state(&live).await;
}

#[tokio::test]
async fn decisions_on_postgres() {
    let live = start(Some(pg_target())).await;
    decisions_from_the_live_state(&live).await;
}

#[tokio::test]
async fn malformed_bodies_are_400_with_the_field_named() {
    let live = start(None).await;
    let pay = "/api/v1/decisions/payment";
    let cases: &[(&str, &str, Option<&str>)] = &[
        (pay, "{not json", None),
        (
            pay,
            r#"{"payer_account":"6222021234567890128","amount_fen":100}"#,
            Some("payee_account"),
        ),
        (
            pay,
            r#"{"payer_account":"6222021234567890128","payee_account":"6222021234567890102","amount_fen":"lots"}"#,
            Some("amount_fen"),
        ),
        (
            pay,
            r#"{"payer_account":"6222021234567890128","payee_account":"6222021234567890102","amount_fen":-5}"#,
            Some("amount_fen"),
        ),
        (
            pay,
            r#"{"payer_account":"6222021234567890129","payee_account":"6222021234567890102","amount_fen":5}"#,
            Some("payer_account"),
        ),
        (
            pay,
            r#"{"payer_account":"6222021234567890128","payee_account":"6222021234567890102","amount_fen":5,"ts":"yesterday"}"#,
            Some("ts"),
        ),
        (
            pay,
            r#"{"payer_account":"6222021234567890128","payee_account":"6222021234567890102","amount_fen":5,"ip":"10.0.0.999"}"#,
            Some("ip"),
        ),
        (
            "/api/v1/decisions/call",
            r#"{"caller":"   ","callee":"13812345678"}"#,
            Some("caller"),
        ),
        (
            "/api/v1/decisions/sms",
            r#"{"sender":"13812345678"}"#,
            Some("recipient"),
        ),
        (
            "/api/v1/checks/account-opening",
            r#"{"resident_id":"500103199001011234","institution":"ICBC","kind":"bank_card"}"#,
            Some("resident_id"),
        ),
        (
            "/api/v1/checks/account-opening",
            r#"{"resident_id":"500103198001011238","institution":"ICBC","kind":"car"}"#,
            Some("kind"),
        ),
    ];
    for (path, body, field) in cases {
        let (status, answer) = live.post(path, Some(&live.key), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {answer}");
        assert_eq!(answer["code"], "malformed_body", "{answer}");
        if let Some(f) = field {
            assert_eq!(answer["field"], *f, "{path} {body}: {answer}");
        }
        // The refused card number is not echoed in full.
        assert!(!answer.to_string().contains("6222021234567890129"));
    }
}

#[tokio::test]
async fn decisions_need_an_institutions_key() {
    let live = start(None).await;
    let body = json!({ "caller": PHONE_B, "callee": PHONE_A }).to_string();
    let call = "/api/v1/decisions/call";
    let (status, _) = live.post(call, None, &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = live
        .post(call, Some(&format!("fzk_{}", "0".repeat(64))), &body)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, analyst) = fanzha_server::auth::add_api_key(&*live.store, BANK_A, Role::Analyst, "t")
        .await
        .unwrap();
    let (status, answer) = live.post(call, Some(&analyst), &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    // A bank checks applications to itself only.
    let (status, answer) = live
        .post(
            "/api/v1/checks/account-opening",
            Some(&live.key),
            &json!({ "resident_id": PERSON_C, "institution": BANK_B, "kind": "bank_card" })
                .to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
}

#[tokio::test]
async fn the_openapi_document_lists_the_decision_endpoints() {
    let live = start(None).await;
    let doc: Json = live
        .client
        .get(format!("{}/api/openapi.json", live.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in [
        "/api/v1/decisions/payment",
        "/api/v1/decisions/call",
        "/api/v1/decisions/sms",
        "/api/v1/checks/account-opening",
    ] {
        let op = &doc["paths"][p]["post"];
        assert!(op.is_object(), "missing {p}");
        for status in ["200", "400", "401", "403"] {
            assert!(op["responses"][status].is_object(), "{p} {status}");
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "PaymentRequest",
        "DecisionView",
        "OpeningRequest",
        "OpeningView",
    ] {
        assert!(schemas.contains_key(s), "missing schema {s}");
    }
}

#[tokio::test]
async fn serve_reloads_rules_without_a_restart_and_keeps_them_on_an_error() {
    let rules = tempfile::tempdir().unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    for f in ["accounts.toml", "numbers.toml"] {
        std::fs::copy(repo.join(f), rules.path().join(f)).unwrap();
    }
    let live = start_with(
        None,
        LiveSettings {
            rules_dir: Some(rules.path().to_owned()),
            ..fast()
        },
    )
    .await;
    live.ready().await;
    let version = |body: &Json| body["rules_version"].as_str().unwrap().to_owned();
    let call = json!({ "caller": PHONE_B, "callee": PHONE_A });
    let first = version(&live.decide("/api/v1/decisions/call", call.clone()).await);
    assert!(first.contains("accounts.toml@2026"), "{first}");

    // Asks up to `tries` times, 50 ms apart, until the rules version differs from `from`.
    let changed = |from: String, tries: u32| {
        let live = &live;
        let call = call.clone();
        async move {
            for _ in 0..tries {
                let v = version(&live.decide("/api/v1/decisions/call", call.clone()).await);
                if v != from {
                    return Some(v);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            None
        }
    };
    let accounts = std::fs::read_to_string(rules.path().join("accounts.toml")).unwrap();
    // A broken file: refused, the previous set still decides. A good edit after it is
    // taken, so the broken one was seen and refused rather than not yet read.
    std::fs::write(
        rules.path().join("accounts.toml"),
        accounts.replacen("expr = \"", "expr = \"payers_24h >= && ", 1),
    )
    .unwrap();
    assert_eq!(
        changed(first.clone(), 20).await,
        None,
        "a broken set is never active"
    );
    std::fs::write(
        rules.path().join("accounts.toml"),
        accounts.replacen("version = \"", "version = \"7-", 1),
    )
    .unwrap();
    let now = changed(first, 200)
        .await
        .expect("the fixed set is taken without a restart");
    assert!(now.contains("accounts.toml@7-"), "{now}");
}

#[tokio::test]
async fn a_rules_directory_that_does_not_load_stops_the_start() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("bad.toml"),
        "version = \"1\"\n[[rule]]\ncode = \"X\"\nentity = \"account\"\nexpr = \"nope >= 1.0\"\ntext_zh = \"x\"\ntext_en = \"x\"\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let built = Application::build_with(
        Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            db: dir.path().join("f.db").to_str().unwrap().to_owned(),
        },
        LiveSettings {
            rules_dir: Some(rules.path().to_owned()),
            ..LiveSettings::default()
        },
    )
    .await;
    let Err(e) = built else {
        panic!("a broken rules directory was accepted")
    };
    let text = format!("{e}");
    assert!(text.contains("bad.toml:5:"), "{text}");
}

#[tokio::test]
async fn a_late_file_of_older_events_is_taken_by_a_rebuild() {
    let live = start_with(
        None,
        LiveSettings {
            late_check_every: Duration::from_millis(200),
            ..fast()
        },
    )
    .await;
    live.ready().await;
    let pay_to = |payee: &str| json!({ "payer_account": ACCOUNT_A, "payee_account": payee, "amount_fen": 100 });
    let body = live
        .decide("/api/v1/decisions/payment", pay_to(UNKNOWN_CARD))
        .await;
    assert_eq!(body["entities"][1]["known"], false);
    // A transfer from the unknown card an hour before the district's first one, stored now.
    let t = |s: &str| Value::Text(s.to_owned());
    write(
        &*live.store,
        Kind::Transactions,
        vec![vec![
            t("TX-LATE"),
            Value::Int(T0 - HOUR),
            t(UNKNOWN_CARD),
            t(ACCOUNT_A),
            Value::Int(10_000),
            t("mobile"),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            t("card"),
            t("card"),
        ]],
    )
    .await;
    for _ in 0..200 {
        let body = live
            .decide("/api/v1/decisions/payment", pay_to(UNKNOWN_CARD))
            .await;
        if body["entities"][1]["known"] == true {
            assert_eq!(body["state"], "ready");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the late transfer never reached the live state");
}
