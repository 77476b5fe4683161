//! Governance over the API, on both stores: appeals filed within a scope and decided by the
//! approver (a cleared measure lifted at once and the owner told), threshold decisions,
//! the rule set, model cards, drift, institutions' answers, false alarms by age group,
//! the warning's timeline, and the delivery operations.

mod common;

use common::*;
use fanzha_core::vocab::Role;
use fanzha_store::{OutboxState, RiskEntity, RiskModel, Scope, WarnedEntity, WarningStatus};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The handle of `id`'s warning as `caller` lists it.
async fn warning_handle(app: &TestApp, caller: &Caller, kind: &str, id: &str) -> String {
    let (status, body) = app.get("/api/v1/warnings", caller).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mask_kind = if kind == "number" { "sim" } else { kind };
    let want = masked_id(mask_kind, id);
    body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["entity_type"] == kind && w["entity"]["id_masked"] == want.as_str())
        .and_then(|w| w["entity"]["handle"].as_str())
        .unwrap_or_else(|| panic!("{kind} {id} not in {body}"))
        .to_owned()
}

fn refused(status: StatusCode, body: &Value) -> (StatusCode, Option<&str>) {
    (status, body["field"].as_str())
}

async fn appeals_are_filed_reviewed_and_lift_the_measure(app: TestApp) {
    let bank = app.role(Role::BankOperator);
    let handle = warning_handle(&app, &bank, "account", ACCOUNT_A).await;
    let path = format!("/api/v1/warnings/{handle}/appeals");

    // Refused appeals change nothing.
    for (body, status, field) in [
        (
            json!({ "appellant": "", "grounds": "工资卡" }),
            StatusCode::BAD_REQUEST,
            "appellant",
        ),
        (
            json!({ "appellant": "本人", "grounds": "  " }),
            StatusCode::BAD_REQUEST,
            "grounds",
        ),
        (
            json!({ "appellant": "本人", "grounds": "x", "extra": 1 }),
            StatusCode::BAD_REQUEST,
            "extra",
        ),
        (
            json!({ "appellant": "本人", "grounds": "长".repeat(1_001) }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "grounds",
        ),
    ] {
        let (got, answer) = app.post(&path, &bank, Some(&body)).await;
        assert_eq!(
            refused(got, &answer),
            (status, Some(field)),
            "{body}: {answer}"
        );
    }
    // The commander directs operations and takes no complaints; a community worker sees
    // no warnings.
    for role in [Role::Commander, Role::CommunityWorker, Role::Auditor] {
        let (status, _) = app
            .post(
                &path,
                &app.role(role),
                Some(&json!({ "appellant": "本人", "grounds": "x" })),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
    }
    // Another bank's warning is not in the caller's scope.
    let foreign = app.handle_of("account", ACCOUNT_B).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/warnings/{foreign}/appeals"),
            &bank,
            Some(&json!({ "appellant": "本人", "grounds": "x" })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("warning_not_found"))
    );

    let (status, a) = app
        .post(
            &path,
            &bank,
            Some(&json!({
                "appellant": "持卡人本人（柜面递交）",
                "grounds": "该卡为工资卡，卡号 6222021234567890128 的进出为工程款结算"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_masked("appeal", &a);
    assert_eq!(
        (a["status"].as_str(), a["entity_type"].as_str()),
        (Some("open"), Some("account"))
    );
    let id = a["id"].as_i64().unwrap();
    let (status, body) = app
        .post(
            &path,
            &bank,
            Some(&json!({ "appellant": "本人", "grounds": "再次申诉" })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let (_, w) = app.get(&format!("/api/v1/warnings/{handle}"), &bank).await;
    assert_eq!(
        (w["status"].as_str(), w["can_appeal"].as_bool()),
        (Some("appealed"), Some(false))
    );
    assert_eq!(w["appeals"][0]["id"].as_i64(), Some(id));

    // The queue: the reviewer and the centre see it, oldest first, with its age.
    let approver = app.role(Role::Approver);
    let (status, q) = app.get("/api/v1/appeals", &approver).await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_masked("appeals", &q);
    assert_eq!(q["status"], "open");
    assert_eq!(q["appeals"].as_array().unwrap().len(), 1);
    assert!(q["appeals"][0]["age_hours"].as_i64().unwrap() >= 0);
    // The queue's handle opens the warning.
    let queued = q["appeals"][0]["entity"]["handle"].as_str().unwrap();
    let (status, _) = app
        .get(&format!("/api/v1/warnings/{queued}"), &approver)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get("/api/v1/appeals", &bank).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app.get("/api/v1/appeals?status=pending", &approver).await;
    assert_eq!(
        refused(status, &body),
        (StatusCode::BAD_REQUEST, Some("status"))
    );

    // Only the approver decides, with a decision from the list and reasons.
    let decide = format!("/api/v1/appeals/{id}/decision");
    let (status, _) = app
        .post(
            &decide,
            &app.role(Role::Analyst),
            Some(&json!({ "decision": "clear", "reason": "x" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (body, status, field) in [
        (
            json!({ "decision": "maybe", "reason": "x" }),
            StatusCode::BAD_REQUEST,
            "decision",
        ),
        (
            json!({ "decision": "clear", "reason": "" }),
            StatusCode::BAD_REQUEST,
            "reason",
        ),
    ] {
        let (got, answer) = app.post(&decide, &approver, Some(&body)).await;
        assert_eq!(refused(got, &answer), (status, Some(field)), "{answer}");
    }
    let (status, body) = app
        .post(
            "/api/v1/appeals/999999/decision",
            &approver,
            Some(&json!({ "decision": "clear", "reason": "x" })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("appeal_not_found"))
    );
    let (status, body) = app
        .post(
            "/api/v1/appeals/abc/decision",
            &approver,
            Some(&json!({ "decision": "clear", "reason": "x" })),
        )
        .await;
    assert_eq!(
        refused(status, &body),
        (StatusCode::BAD_REQUEST, Some("id"))
    );

    let (status, a) = app
        .post(
            &decide,
            &approver,
            Some(&json!({ "decision": "clear", "reason": "经核实为工程款结算，资金来源合法" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(
        (a["status"].as_str(), a["decided_by"].as_str()),
        (Some("lifted"), Some("user:approver"))
    );
    let (status, _) = app
        .post(
            &decide,
            &approver,
            Some(&json!({ "decision": "uphold", "reason": "again" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The measure is lifted at once: a new version, queued to the bank.
    let entity = WarnedEntity::new(RiskEntity::Account, ACCOUNT_A);
    let w = app
        .store
        .warning_get(&Scope::All, &entity)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((w.status, w.version), (WarningStatus::Lifted, 2));
    let queued = app
        .store
        .outbox_list(Some(OutboxState::Pending), 100)
        .await
        .unwrap();
    let lift = queued
        .iter()
        .find(|o| o.entity == entity && o.warning_version == 2)
        .expect("the lift is queued");
    assert_eq!(lift.institution_code, BANK_A);
    let payload: Value = serde_json::from_str(&lift.payload).unwrap();
    assert_eq!(payload["status"], "lifted");
    // The warning's page shows both versions, and no appeal is possible any more.
    let (_, w) = app.get(&format!("/api/v1/warnings/{handle}"), &bank).await;
    let history: Vec<(i64, &str)> = w["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(history, [(1, "open"), (2, "lifted")]);
    assert_eq!(w["can_appeal"].as_bool(), Some(false));
    let (status, _) = app
        .post(
            &path,
            &bank,
            Some(&json!({ "appellant": "本人", "grounds": "x" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // An upheld appeal returns the warning to its status before it.
    let officer = app.role(Role::StationOfficer);
    let sim = warning_handle(&app, &officer, "sim", PHONE_A).await;
    let (status, a) = app
        .post(
            &format!("/api/v1/warnings/{sim}/appeals"),
            &officer,
            Some(&json!({ "appellant": "机主本人（派出所窗口）", "grounds": "号码自用" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let (status, _) = app
        .post(
            &format!("/api/v1/appeals/{}/decision", a["id"]),
            &approver,
            Some(&json!({ "decision": "uphold", "reason": "通话记录与诈骗报案吻合" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, w) = app.get(&format!("/api/v1/warnings/{sim}"), &officer).await;
    assert_eq!(w["status"], "open");
    let (_, all) = app.get("/api/v1/appeals?status=all", &approver).await;
    assert_eq!(all["appeals"].as_array().unwrap().len(), 2);
    let (_, open) = app.get("/api/v1/appeals", &approver).await;
    assert!(open["appeals"].as_array().unwrap().is_empty());

    // Every step is on record.
    let log = app.store.audit_list().await.unwrap();
    let actions: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    for want in [
        ("warning.appeal", "user:bank_operator"),
        ("warning.appeal", "user:station_officer"),
        ("appeal.decision", "user:approver"),
        ("appeals.list", "user:approver"),
    ] {
        assert!(actions.contains(&want), "{want:?} not in the trail");
    }
    let decision = log
        .iter()
        .find(|e| e.action == "appeal.decision")
        .map(|e| serde_json::from_str::<Value>(&e.detail).unwrap())
        .unwrap();
    assert_eq!(
        (decision["decision"].as_str(), decision["id"].as_str()),
        (Some("clear"), Some(ACCOUNT_A))
    );
}

async fn thresholds_change_only_by_recorded_decision(app: TestApp) {
    let commander = app.role(Role::Commander);
    let analyst = app.role(Role::Analyst);
    let path = "/api/v1/governance/thresholds";
    let (status, before) = app.get(path, &analyst).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    let mule = |v: &Value| {
        v["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["pattern"] == "mule")
            .cloned()
            .unwrap()
    };
    let files_yellow = mule(&before)["files_yellow"].as_f64().unwrap();
    let red = mule(&before)["red"].as_f64().unwrap();
    assert_eq!(mule(&before)["yellow"].as_f64(), Some(files_yellow));

    let good = json!({
        "pattern": "mule",
        "level": "yellow",
        "new_threshold": 55,
        "reason": "黄色预警误报率偏高",
        "evaluation": { "precision": 0.93, "recall": 0.86 }
    });
    for (change, status, field) in [
        (
            json!({ "pattern": "typology" }),
            StatusCode::BAD_REQUEST,
            "pattern",
        ),
        (
            json!({ "level": "purple" }),
            StatusCode::BAD_REQUEST,
            "level",
        ),
        (
            json!({ "new_threshold": 0 }),
            StatusCode::BAD_REQUEST,
            "new_threshold",
        ),
        (
            json!({ "new_threshold": 101 }),
            StatusCode::BAD_REQUEST,
            "new_threshold",
        ),
        (json!({ "reason": " " }), StatusCode::BAD_REQUEST, "reason"),
        (
            json!({ "effective_at": "tomorrow" }),
            StatusCode::BAD_REQUEST,
            "effective_at",
        ),
        (
            json!({ "evaluation": [1, 2] }),
            StatusCode::BAD_REQUEST,
            "evaluation",
        ),
        (
            json!({ "new_threshold": red as i64 + 1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "new_threshold",
        ),
    ] {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (got, answer) = app.post(path, &commander, Some(&body)).await;
        assert_eq!(
            refused(got, &answer),
            (status, Some(field)),
            "{body}: {answer}"
        );
    }
    for role in [Role::Analyst, Role::Approver, Role::BankOperator] {
        let (status, _) = app.post(path, &app.role(role), Some(&good)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
    }
    assert!(app.store.threshold_decisions().await.unwrap().is_empty());

    // ICBC confirmed its mule warning (score 92): the evaluation counts it at both cut-offs.
    let bank = app.role(Role::BankOperator);
    let h = warning_handle(&app, &bank, "account", ACCOUNT_A).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/warnings/{h}/feedback"),
            &bank,
            Some(&json!({ "verdict": "confirmed" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, d) = app.post(path, &commander, Some(&good)).await;
    assert_eq!(status, StatusCode::CREATED, "{d}");
    let answers = &d["evaluation"]["answers"];
    assert_eq!(
        (
            answers["at_new"]["cut_off"].as_f64(),
            answers["at_new"]["answered"].as_u64(),
            answers["at_new"]["precision"].as_f64(),
            answers["at_old"]["answered"].as_u64(),
        ),
        (Some(55.0), Some(1), Some(1.0), Some(1)),
        "{answers}"
    );
    assert_eq!(
        (
            d["old_threshold"].as_i64(),
            d["new_threshold"].as_i64(),
            d["in_effect"].as_bool(),
            d["actor"].as_str(),
            d["level"].as_str(),
        ),
        (
            Some(files_yellow as i64),
            Some(55),
            Some(true),
            Some("user:commander"),
            Some("yellow")
        )
    );
    assert_eq!(d["evaluation"]["submitted"]["recall"].as_f64(), Some(0.86));
    // A later decision, not yet in effect, is listed but does not apply.
    let mut later = good.clone();
    later["new_threshold"] = json!(60);
    later["effective_at"] = json!("2099-01-01T00:00:00+08:00");
    let (status, d2) = app.post(path, &commander, Some(&later)).await;
    assert_eq!(status, StatusCode::CREATED, "{d2}");
    assert_eq!(
        (d2["old_threshold"].as_i64(), d2["in_effect"].as_bool()),
        (Some(55), Some(false))
    );

    // A cut-off valid only once a later decision applies is refused: a run in between
    // would find them out of order.
    let mut red_up = good.clone();
    red_up["level"] = json!("red");
    red_up["new_threshold"] = json!(98);
    red_up["effective_at"] = json!("2099-06-01T00:00:00+08:00");
    let (status, body) = app.post(path, &commander, Some(&red_up)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut orange_early = good.clone();
    orange_early["level"] = json!("orange");
    orange_early["new_threshold"] = json!(red as i64 + 5);
    orange_early["effective_at"] = json!("2099-03-01T00:00:00+08:00");
    let (status, body) = app.post(path, &commander, Some(&orange_early)).await;
    assert_eq!(
        refused(status, &body),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("new_threshold")),
        "{body}"
    );

    let (_, after) = app.get(path, &app.role(Role::Auditor)).await;
    assert_eq!(mule(&after)["yellow"].as_f64(), Some(55.0));
    assert_eq!(mule(&after)["decisions"], json!([d["id"]]));
    assert_eq!(after["decisions"].as_array().unwrap().len(), 3);
    let (status, _) = app.get(path, &app.role(Role::BankOperator)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The rules page shows the cut-off in effect.
    let (_, rules) = app.get("/api/v1/governance/rules", &analyst).await;
    let p = rules["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "mule")
        .unwrap();
    assert_eq!(p["yellow"].as_f64(), Some(55.0));

    let log = app.store.audit_list().await.unwrap();
    let recorded: Vec<Value> = log
        .iter()
        .filter(|e| e.action == "threshold.decision")
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect();
    assert_eq!(recorded.len(), 3);
    assert_eq!(
        (recorded[0]["new"].as_i64(), recorded[0]["pattern"].as_str()),
        (Some(55), Some("mule"))
    );
}

async fn figures_name_no_one_and_follow_the_answers(app: TestApp) {
    // Answers: ICBC confirms, CCB calls its two warnings false alarms.
    let bank = app.role(Role::BankOperator);
    let h = warning_handle(&app, &bank, "account", ACCOUNT_A).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/warnings/{h}/feedback"),
            &bank,
            Some(&json!({ "verdict": "confirmed" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, secret) = app.key(BANK_B, Role::BankOperator).await;
    let ccb = Caller::Key(secret);
    for id in [ACCOUNT_A2, ACCOUNT_B] {
        let h = warning_handle(&app, &ccb, "account", id).await;
        let (status, body) = app
            .post(
                &format!("/api/v1/warnings/{h}/feedback"),
                &ccb,
                Some(&json!({ "verdict": "false_alarm" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let analyst = app.role(Role::Analyst);

    let (status, inst) = app.get("/api/v1/governance/institutions", &analyst).await;
    assert_eq!(status, StatusCode::OK, "{inst}");
    let row = |code: &str| {
        inst.as_array()
            .unwrap()
            .iter()
            .find(|r| r["institution_code"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("no {code} in {inst}"))
    };
    let ccb_row = row(BANK_B);
    assert_eq!(
        (
            ccb_row["warnings"].as_u64(),
            ccb_row["answered"].as_u64(),
            ccb_row["false_alarm"].as_u64(),
            ccb_row["false_alarm_rate"].as_f64()
        ),
        (Some(2), Some(2), Some(2), Some(1.0))
    );
    let cucc = row(CARRIER_B);
    assert_eq!(
        (
            cucc["unanswered"].as_u64(),
            cucc["false_alarm_rate"].as_f64()
        ),
        (Some(1), None)
    );

    // By age group: every answered holder was born in 1990 or 1985.
    let (status, ages) = app
        .get("/api/v1/warnings/precision?by=age_group", &analyst)
        .await;
    assert_eq!(status, StatusCode::OK, "{ages}");
    assert_eq!(ages["by"], "age_group");
    let answered: u64 = ages["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["answered"].as_u64().unwrap())
        .sum();
    assert_eq!(answered, 3, "{ages}");
    for r in ages["rows"].as_array().unwrap() {
        assert!(
            ["under_25", "25_39", "40_59", "60_plus", "unknown"]
                .contains(&r["key"].as_str().unwrap()),
            "{r}"
        );
    }
    let (_, by_inst) = app
        .get("/api/v1/warnings/precision?by=institution", &analyst)
        .await;
    assert!(by_inst["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["key"] == BANK_B && r["false_alarm_rate"].as_f64() == Some(1.0)));

    // The rule set with per-rule answers.
    let (status, rules) = app.get("/api/v1/governance/rules", &analyst).await;
    assert_eq!(status, StatusCode::OK);
    let first = &rules["rules"][0];
    for field in ["code", "entity", "expr", "text_zh", "text_en", "file"] {
        assert!(first[field].is_string(), "{field} in {first}");
    }
    let mule = rules["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "mule")
        .unwrap();
    assert!(!mule["terms"].as_array().unwrap().is_empty());
    assert_eq!(mule["answers"]["confirmed"].as_u64(), Some(1));

    // Drift: the seeded warnings were scored by the rules alone.
    let (status, drift) = app.get("/api/v1/governance/drift", &analyst).await;
    assert_eq!(status, StatusCode::OK, "{drift}");
    assert_eq!(drift["rows"][0]["model_version"], Value::Null);
    assert_eq!(drift["rows"][0]["warnings"].as_u64(), Some(5));
    assert_eq!(drift["rows"][0]["bins"].as_array().unwrap().len(), 11);

    // Model cards.
    app.store
        .model_put(&RiskModel {
            version: "20261129T101500Z-1a2b3c4d".into(),
            created_at: T0,
            artefact: vec![1, 2, 3],
            card: json!({
                "library": "perpetual",
                "training": { "seed": 7, "profile": "default" },
                "kinds": { "account": { "evaluation": { "precision": 0.91, "recall": 0.87 },
                    "importances": [{ "feature": "pass_through_24h", "gain_share": 0.4 }] } }
            })
            .to_string(),
        })
        .await
        .unwrap();
    let (status, models) = app.get("/api/v1/governance/models", &analyst).await;
    assert_eq!(status, StatusCode::OK, "{models}");
    assert_eq!(models[0]["version"], "20261129T101500Z-1a2b3c4d");
    assert_eq!(models[0]["card"]["training"]["seed"].as_u64(), Some(7));
    let (_, drift) = app.get("/api/v1/governance/drift", &analyst).await;
    assert_eq!(drift["unused_models"], json!(["20261129T101500Z-1a2b3c4d"]));

    for path in [
        "/api/v1/governance/rules",
        "/api/v1/governance/models",
        "/api/v1/governance/drift",
        "/api/v1/governance/institutions",
    ] {
        let (status, body) = app.get(path, &app.role(Role::Auditor)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_masked(path, &body);
        let (status, _) = app.get(path, &bank).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
}

async fn operators_count_and_resend_dead_letters(app: TestApp) {
    let admin = app.role(Role::Admin);
    // Two deliveries die.
    let t0 = 4_000_000_000_000_000;
    let claimed = app.store.outbox_claim_due(t0, 2, 1).await.unwrap();
    assert_eq!(claimed.len(), 2);
    for o in &claimed {
        app.store
            .outbox_failed(o.id, "HTTP 500", t0, 1)
            .await
            .unwrap();
    }
    let (status, ops) = app.get("/api/v1/admin/operations", &admin).await;
    assert_eq!(status, StatusCode::OK, "{ops}");
    let count = |list: &Value, key: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == key)
            .and_then(|c| c["count"].as_u64())
    };
    assert_eq!(count(&ops["outbox_by_state"], "dead"), Some(2));
    assert_eq!(count(&ops["outbox_by_state"], "pending"), Some(3));
    assert_eq!(count(&ops["warnings_by_status"], "open"), Some(5));
    for role in [Role::Analyst, Role::Auditor, Role::BankOperator] {
        let (status, _) = app.get("/api/v1/admin/operations", &app.role(role)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
        let (status, _) = app
            .post("/api/v1/admin/outbox/resend-dead", &app.role(role), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
    }
    let (status, r) = app
        .post("/api/v1/admin/outbox/resend-dead", &admin, None)
        .await;
    assert_eq!(
        (status, r["requeued"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{r}"
    );
    let pending = app
        .store
        .outbox_list(Some(OutboxState::Pending), 100)
        .await
        .unwrap();
    for o in &claimed {
        let again = pending.iter().find(|p| p.id == o.id).expect("re-queued");
        assert_eq!(again.idempotency_key, o.idempotency_key);
        assert_eq!(again.attempts, 0);
    }
    let log = app.store.audit_list().await.unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "outbox.resend_dead" && e.detail.contains("\"requeued\":2")));
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

both!(appeals_are_filed_reviewed_and_lift_the_measure);
both!(thresholds_change_only_by_recorded_decision);
both!(figures_name_no_one_and_follow_the_answers);
both!(operators_count_and_resend_dead_letters);
