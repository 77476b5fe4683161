//! Two-card risk warnings over the API, on both stores: the queue's filters and scope,
//! masking, handles that open both the warning and the profile, institutions' answers and
//! precision, and the audit trail they leave.

mod common;

use common::*;
use fanzha_core::vocab::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The masked ids of a list answer's warnings, as `kind:id_masked`.
fn listed(body: &Value) -> Vec<String> {
    let mut out: Vec<String> = body["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("no warnings in {body}"))
        .iter()
        .map(|w| {
            format!(
                "{}:{}",
                w["entity_type"].as_str().unwrap(),
                w["entity"]["id_masked"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

fn key(kind: &str, id: &str) -> String {
    let mask_kind = if kind == "number" { "sim" } else { kind };
    format!("{kind}:{}", masked_id(mask_kind, id))
}

fn keys(items: &[(&str, &str)]) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|(k, id)| key(k, id)).collect();
    out.sort();
    out
}

/// The handle of the listed warning about `id`, as `caller` lists it.
async fn warning_handle(app: &TestApp, caller: &Caller, kind: &str, id: &str) -> String {
    let (status, body) = app.get("/api/v1/warnings", caller).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let want = key(kind, id);
    body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| {
            format!(
                "{}:{}",
                w["entity_type"].as_str().unwrap(),
                w["entity"]["id_masked"].as_str().unwrap()
            ) == want
        })
        .and_then(|w| w["entity"]["handle"].as_str())
        .unwrap_or_else(|| panic!("{want} not in {body}"))
        .to_owned()
}

async fn the_queue_filters_scopes_and_masks(app: TestApp) {
    let analyst = app.role(Role::Analyst);
    let (status, all) = app.get("/api/v1/warnings", &analyst).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_masked("queue", &all);
    assert_eq!(
        listed(&all),
        keys(&[
            ("account", ACCOUNT_A),
            ("account", ACCOUNT_A2),
            ("account", ACCOUNT_B),
            ("sim", PHONE_A),
            ("sim", PHONE_B),
        ])
    );
    assert_eq!(
        (all["page"].as_u64(), all["has_more"].as_bool()),
        (Some(1), Some(false))
    );
    let first = &all["warnings"][0];
    for field in [
        "score",
        "level",
        "pattern",
        "status",
        "measure",
        "institution_code",
    ] {
        assert!(!first[field].is_null(), "{field} in {first}");
    }
    assert!(first["first_warned_at"]["shanghai"]
        .as_str()
        .unwrap()
        .ends_with("+08:00"));

    for (query, want) in [
        (
            "level=red",
            keys(&[("account", ACCOUNT_A), ("sim", PHONE_A)]),
        ),
        ("pattern=runner", keys(&[("account", ACCOUNT_B)])),
        (
            "entity_type=sim",
            keys(&[("sim", PHONE_A), ("sim", PHONE_B)]),
        ),
        ("status=confirmed", Vec::new()),
        (
            "level=orange&entity_type=account&status=open&page=1",
            keys(&[("account", ACCOUNT_A2), ("account", ACCOUNT_B)]),
        ),
        ("level=&pattern=", listed(&all)),
        ("page=2", Vec::new()),
    ] {
        let (status, body) = app
            .get(&format!("/api/v1/warnings?{query}"), &analyst)
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert_eq!(listed(&body), want, "{query}");
    }
    for (query, field) in [
        ("level=purple", "level"),
        ("status=closed", "status"),
        ("entity_type=device", "entity_type"),
        ("pattern=Mule%27%20OR%201%3D1", "pattern"),
        ("page=0", "page"),
        ("page=abc", "page"),
    ] {
        let (status, body) = app
            .get(&format!("/api/v1/warnings?{query}"), &analyst)
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{query}: {body}"
        );
    }

    // Each remit sees its own: a station its town's holders, a bank and a carrier what
    // they own.
    for (role, want) in [
        (
            Role::StationOfficer,
            keys(&[
                ("account", ACCOUNT_A),
                ("account", ACCOUNT_A2),
                ("sim", PHONE_A),
            ]),
        ),
        (Role::BankOperator, keys(&[("account", ACCOUNT_A)])),
        (Role::CarrierOperator, keys(&[("sim", PHONE_A)])),
    ] {
        let (status, body) = app.get("/api/v1/warnings", &app.role(role)).await;
        assert_eq!(status, StatusCode::OK, "{role}: {body}");
        assert_eq!(listed(&body), want, "{role}");
    }
    // Every page listed is on record.
    let log = app.store.audit_list().await.unwrap();
    assert!(log.iter().any(|e| e.action == "warnings.list"
        && e.actor == "user:analyst"
        && e.detail.contains("\"level\":\"red\"")));
}

async fn a_handle_opens_the_warning_and_the_profile(app: TestApp) {
    let analyst = app.role(Role::Analyst);
    let handle = warning_handle(&app, &analyst, "account", ACCOUNT_A).await;
    let (status, w) = app
        .get(&format!("/api/v1/warnings/{handle}"), &analyst)
        .await;
    assert_eq!(status, StatusCode::OK, "{w}");
    assert_masked("warning", &w);
    assert_eq!(w["entity"]["id_masked"], masked_id("account", ACCOUNT_A));
    assert_eq!(
        (
            w["score"].as_u64(),
            w["level"].as_str(),
            w["pattern"].as_str(),
            w["measure"].as_str(),
            w["status"].as_str(),
            w["version"].as_i64(),
            w["institution_code"].as_str(),
            w["rules_version"].as_str(),
            w["can_answer"].as_bool(),
        ),
        (
            Some(92),
            Some("red"),
            Some("mule"),
            Some("limit_non_counter"),
            Some("open"),
            Some(1),
            Some(BANK_A),
            Some("rules-abc123"),
            Some(false),
        )
    );
    let reasons = w["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 2);
    assert_eq!(reasons[0]["code"], "acct_pass_through_fast");
    assert_eq!(reasons[0]["source"], "rule");
    assert!(reasons[0]["text_zh"].as_str().unwrap().contains("快进快出"));
    assert!(reasons[0]["text_en"]
        .as_str()
        .unwrap()
        .contains("straight out"));
    assert_eq!(reasons[0]["contribution"].as_f64(), Some(0.62));
    assert_eq!(w["first_warned_at"]["micros"].as_i64(), Some(T0 + 4 * HOUR));
    assert_eq!(w["updated_at"]["micros"].as_i64(), Some(T0 + 5 * HOUR));
    // The same handle opens the entity's profile.
    let (status, profile) = app
        .get(
            &format!(
                "/api/v1/entities/{}",
                w["entity"]["handle"].as_str().unwrap()
            ),
            &analyst,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["entity"]["kind"], "account");
    // A SIM's warning opens from the SIM's search handle too.
    let sim = app.handle_of("sim", PHONE_A).await;
    let (status, w) = app.get(&format!("/api/v1/warnings/{sim}"), &analyst).await;
    assert_eq!(
        (status, w["pattern"].as_str()),
        (StatusCode::OK, Some("scam_caller_sim"))
    );

    // A person has no warning; a forged handle is refused naming the field.
    let person = app.handle_of("person", PERSON_A).await;
    let (status, body) = app
        .get(&format!("/api/v1/warnings/{person}"), &analyst)
        .await;
    assert_eq!(
        (status, body["code"].as_str(), body["field"].as_str()),
        (
            StatusCode::NOT_FOUND,
            Some("warning_not_found"),
            Some("handle")
        )
    );
    let (status, body) = app.get("/api/v1/warnings/not-a-handle", &analyst).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("handle"))
    );

    // Another town's warning answers a station exactly like a missing one, and the trail
    // tells the two apart.
    let foreign = app.handle_of("account", ACCOUNT_B).await;
    let officer = app.role(Role::StationOfficer);
    let (status, body) = app
        .get(&format!("/api/v1/warnings/{foreign}"), &officer)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("warning_not_found"))
    );
    let log = app.store.audit_list().await.unwrap();
    let lookups: Vec<Value> = log
        .iter()
        .filter(|e| e.action == "lookup.warning")
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect();
    assert!(lookups.iter().any(|d| d["id"] == ACCOUNT_A
        && d["found"] == true
        && d["in_scope"] == true
        && d["community"] == COMMUNITY_A));
    assert!(lookups
        .iter()
        .any(|d| d["id"] == ACCOUNT_B && d["found"] == true && d["in_scope"] == false));
    assert!(lookups
        .iter()
        .any(|d| d["id"] == PERSON_A && d["found"] == false));
    // The auditor reads those entries masked.
    let (status, page) = app
        .get(
            "/api/v1/audit?action=lookup.warning",
            &app.role(Role::Auditor),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page["total"].as_u64().unwrap() >= 4, "{page}");
    assert_masked("audit page", &page);
}

async fn answers_move_the_status_and_count_towards_precision(app: TestApp) {
    let bank = app.role(Role::BankOperator);
    let handle = warning_handle(&app, &bank, "account", ACCOUNT_A).await;
    let path = format!("/api/v1/warnings/{handle}/feedback");

    // Refused answers change nothing.
    for (body, status, field) in [
        (
            json!({ "verdict": "maybe" }),
            StatusCode::BAD_REQUEST,
            "verdict",
        ),
        (json!({ "verdict": "" }), StatusCode::BAD_REQUEST, "verdict"),
        (
            json!({ "verdict": "confirmed", "extra": 1 }),
            StatusCode::BAD_REQUEST,
            "extra",
        ),
        (
            json!({ "verdict": "confirmed", "note": "长".repeat(501) }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "note",
        ),
    ] {
        let (got, answer) = app.post(&path, &bank, Some(&body)).await;
        assert_eq!(
            (got, answer["field"].as_str()),
            (status, Some(field)),
            "{body}: {answer}"
        );
    }
    let (status, body) = app.post(&path, &bank, None).await;
    assert!(
        status.is_client_error() && status != StatusCode::NOT_FOUND,
        "{body}"
    );

    let (status, w) = app
        .post(
            &path,
            &bank,
            Some(&json!({ "verdict": "confirmed", "note": "客户承认出借账户" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{w}");
    assert_eq!(
        (w["status"].as_str(), w["can_answer"].as_bool()),
        (Some("confirmed"), Some(true))
    );
    let (_, confirmed) = app
        .get(
            "/api/v1/warnings?status=confirmed",
            &app.role(Role::Analyst),
        )
        .await;
    assert_eq!(listed(&confirmed), keys(&[("account", ACCOUNT_A)]));
    // A second answer replaces the first.
    let (status, w) = app
        .post(&path, &bank, Some(&json!({ "verdict": "action_taken" })))
        .await;
    assert_eq!(
        (status, w["status"].as_str()),
        (StatusCode::OK, Some("action_taken"))
    );
    let carrier = app.role(Role::CarrierOperator);
    let sim = warning_handle(&app, &carrier, "sim", PHONE_A).await;
    let (status, w) = app
        .post(
            &format!("/api/v1/warnings/{sim}/feedback"),
            &carrier,
            Some(&json!({ "verdict": "false_alarm", "note": "外卖骑手正常来电" })),
        )
        .await;
    assert_eq!(
        (status, w["status"].as_str()),
        (StatusCode::OK, Some("false_alarm"))
    );

    // Another bank's warning is not the caller's to answer: 404 like a missing one.
    let foreign = app.handle_of("account", ACCOUNT_B).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/warnings/{foreign}/feedback"),
            &bank,
            Some(&json!({ "verdict": "false_alarm" })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("warning_not_found"))
    );
    // Only the owner answers: the centre reads.
    let (status, _) = app
        .post(
            &path,
            &app.role(Role::Analyst),
            Some(&json!({ "verdict": "confirmed" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An API key answers for its institution like its operators do.
    let (_, secret) = app.key(BANK_B, Role::BankOperator).await;
    let ccb = Caller::Key(secret);
    let ccb_handle = warning_handle(&app, &ccb, "account", ACCOUNT_B).await;
    let (status, w) = app
        .post(
            &format!("/api/v1/warnings/{ccb_handle}/feedback"),
            &ccb,
            Some(&json!({ "verdict": "confirmed" })),
        )
        .await;
    assert_eq!(
        (status, w["status"].as_str()),
        (StatusCode::OK, Some("confirmed"))
    );

    // Precision counts the answers (a replaced answer once).
    let analyst = app.role(Role::Analyst);
    let (status, p) = app.get("/api/v1/warnings/precision", &analyst).await;
    assert_eq!(
        (status, p["by"].as_str()),
        (StatusCode::OK, Some("pattern")),
        "{p}"
    );
    let row = |p: &Value, key: &str| {
        p["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("no {key} in {p}"))
    };
    let mule = row(&p, "mule");
    assert_eq!(
        (
            mule["action_taken"].as_u64(),
            mule["answered"].as_u64(),
            mule["precision"].as_f64()
        ),
        (Some(1), Some(1), Some(1.0))
    );
    assert_eq!(row(&p, "scam_caller_sim")["precision"].as_f64(), Some(0.0));
    let (_, by_inst) = app
        .get("/api/v1/warnings/precision?by=institution", &analyst)
        .await;
    assert_eq!(row(&by_inst, BANK_B)["confirmed"].as_u64(), Some(1));
    let (_, by_rule) = app
        .get("/api/v1/warnings/precision?by=rule", &analyst)
        .await;
    assert_eq!(by_rule["by"], "rule");
    assert_eq!(
        row(&by_rule, "acct_pass_through_fast")["answered"].as_u64(),
        Some(3)
    );
    let (status, body) = app
        .get("/api/v1/warnings/precision?by=typology", &analyst)
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("by"))
    );

    // Each answer is on record after it succeeded, and only those.
    let log = app.store.audit_list().await.unwrap();
    let answers: Vec<Value> = log
        .iter()
        .filter(|e| e.action == "warning.feedback")
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect();
    assert_eq!(answers.len(), 4, "{answers:?}");
    assert_eq!(
        (
            answers[0]["id"].as_str(),
            answers[0]["verdict"].as_str(),
            answers[0]["institution"].as_str()
        ),
        (Some(ACCOUNT_A), Some("confirmed"), Some(BANK_A))
    );
    assert!(log.iter().any(|e| e.action == "lookup.warning"
        && e.actor == "user:bank_operator"
        && e.detail.contains(ACCOUNT_B)
        && e.detail.contains("\"in_scope\":false")));
}

macro_rules! both {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(spawn().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(spawn_on(Some(pg_target())).await).await;
            }
        }
    };
}

both!(the_queue_filters_scopes_and_masks);
both!(a_handle_opens_the_warning_and_the_profile);
both!(answers_move_the_status_and_count_towards_precision);
