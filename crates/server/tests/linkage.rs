//! Police-bank linkage over the API (issue 6), on SQLite and PostgreSQL: a report traced
//! and its stop drafted, submitted, approved, sent and answered by the account's bank with
//! its key; a bank sees only its own accounts' orders; a case filed and its freezes planned
//! in bulk; the account's registry and return plan; and bad input answered with the field.

mod common;

use common::*;
use fanzha_core::schema::{Kind, Value};
use fanzha_core::vocab::Role;
use reqwest::StatusCode;
use serde_json::json;

/// TX0001 (ACCOUNT_A → ACCOUNT_B, ¥50,000) is R0001's payment: the money rests on ACCOUNT_B,
/// a CCB account.
async fn with_payment(app: &TestApp) {
    write(
        &*app.store,
        Kind::ReportPayments,
        vec![vec![
            Value::Text("R0001".into()),
            Value::Text("TX0001".into()),
        ]],
    )
    .await;
}

async fn a_report_is_traced_stopped_approved_and_answered_by_its_bank(app: TestApp) {
    with_payment(&app).await;
    let analyst = app.role(Role::Analyst);
    let (status, t) = app.get("/api/v1/reports/R0001/trace", &analyst).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["paid_fen"], 5_000_000);
    assert_eq!(t["held_fen"], 5_000_000);
    assert_eq!(t["holdings"][0]["amount_fen"], 5_000_000);
    assert_eq!(
        t["holdings"][0]["account"]["id_masked"],
        masked_id("account", ACCOUNT_B)
    );
    assert_eq!(t["holdings"][0]["paths"], json!([["TX0001"]]));
    assert_masked("trace", &t);
    let account = t["holdings"][0]["account"]["handle"]
        .as_str()
        .unwrap()
        .to_owned();

    // Banks see orders, not victims' traces; a bad rule names its field.
    let bank_user = app.role(Role::BankOperator);
    let (status, _) = app.get("/api/v1/reports/R0001/trace", &bank_user).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .get("/api/v1/reports/R0001/trace?rule=guess", &analyst)
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("rule"))
    );
    let (status, body) = app.get("/api/v1/reports/R9999/trace", &analyst).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("report_not_found"))
    );

    // The stop plan, drafted.
    let (status, plan) = app
        .post("/api/v1/reports/R0001/stop-plan?draft=true", &analyst, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["orders"][0]["amount_fen"], 5_000_000);
    assert_eq!(plan["orders"][0]["basis"], "traced_holding");
    let id = plan["orders"][0]["order_id"].as_i64().expect("drafted");
    assert_masked("stop plan", &plan);

    // CCB's key sees the order on its account; ICBC's user does not.
    let (_, ccb) = app.key(BANK_B, Role::BankOperator).await;
    let ccb = Caller::Key(ccb);
    let (status, list) = app.get("/api/v1/orders", &ccb).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["status"], "draft");
    assert_eq!(list[0]["may"], json!([]), "a bank answers only sent orders");
    let (_, list) = app.get("/api/v1/orders", &bank_user).await;
    assert_eq!(list, json!([]), "ICBC holds no account of this order");
    let (status, _) = app.get(&format!("/api/v1/orders/{id}"), &bank_user).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Through the workflow, each step by its own hand.
    let step = |s: &str| json!({ "step": s });
    let path = format!("/api/v1/orders/{id}/steps");
    let (status, body) = app.post(&path, &analyst, Some(&step("approve"))).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an analyst does not sign: {body}"
    );
    let (status, o) = app.post(&path, &analyst, Some(&step("submit"))).await;
    assert_eq!(
        (status, o["status"].as_str()),
        (StatusCode::OK, Some("pending")),
        "{o}"
    );
    let approver = app.role(Role::Approver);
    let (status, o) = app.post(&path, &approver, Some(&step("send"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{o}");
    let (status, o) = app.post(&path, &approver, Some(&step("approve"))).await;
    assert_eq!(
        (status, o["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{o}"
    );
    assert!(
        o["document_no"].as_str().unwrap().starts_with("止付〔"),
        "{o}"
    );
    let (status, o) = app.post(&path, &analyst, Some(&step("send"))).await;
    assert_eq!(
        (status, o["status"].as_str()),
        (StatusCode::OK, Some("sent")),
        "{o}"
    );
    let (_, list) = app.get("/api/v1/orders?status=sent", &ccb).await;
    assert_eq!(list[0]["may"], json!(["answer"]));

    // The bank's answer: bad input names its field, a wrong bank is not told it exists.
    let over = json!({ "step": "answer", "answer": "executed", "amount_fen": 5_000_001 });
    let (status, body) = app.post(&path, &ccb, Some(&over)).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("amount_fen")),
        "{body}"
    );
    let vague = json!({ "step": "answer", "answer": "maybe" });
    let (status, body) = app.post(&path, &ccb, Some(&vague)).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("answer"))
    );
    let done = json!({ "step": "answer", "answer": "executed", "amount_fen": 5_000_000 });
    let (status, _) = app.post(&path, &bank_user, Some(&done)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, o) = app.post(&path, &ccb, Some(&done)).await;
    assert_eq!(
        (status, o["status"].as_str()),
        (StatusCode::OK, Some("executed")),
        "{o}"
    );
    assert_eq!(o["held_fen"], 5_000_000);
    assert!(o["expires_at"].is_string(), "a stop lapses: {o}");
    let (status, body) = app.post(&path, &ccb, Some(&done)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("workflow_refused")),
        "answered once"
    );

    // The document the bank executes names the account in full, and says what was done.
    let (status, doc) = app
        .get(&format!("/api/v1/orders/{id}/document"), &ccb)
        .await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["title"], "紧急止付通知书");
    let text = doc.to_string();
    assert!(text.contains(ACCOUNT_B), "{text}");
    assert!(text.contains("伍万元整"), "{text}");
    assert!(text.contains("已执行"), "{text}");
    let (status, _) = app
        .get(
            &format!("/api/v1/orders/{id}/document"),
            &app.role(Role::Commander),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the commander handles no documents"
    );

    // Malformed ids and steps.
    let (status, body) = app.get("/api/v1/orders/abc", &analyst).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("id"))
    );
    let (status, body) = app.post(&path, &analyst, Some(&step("hurry"))).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("step"))
    );
    let (status, _) = app
        .post(&path, &analyst, Some(&json!({ "step": "lift", "x": 1 })))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused"
    );

    // The registry at a moment after the bank answered holds our stop on the account.
    let after = enc("2030-01-01T00:00:00+08:00");
    let (status, reg) = app
        .get(
            &format!("/api/v1/accounts/{account}/freezes?as_of={after}"),
            &ccb,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    assert_eq!(reg["balance_fen"], 5_000_000);
    assert_eq!(reg["traced_fen"], 5_000_000);
    assert_eq!(
        reg["measures"].as_array().unwrap().len(),
        0,
        "the stop lapsed by 2030: {reg}"
    );
    let (_, reg) = app
        .get(
            &format!(
                "/api/v1/accounts/{account}/freezes?as_of={}",
                enc(o["effective_at"].as_str().unwrap())
            ),
            &ccb,
        )
        .await;
    assert_eq!(reg["measures"][0]["kind"], "stop", "{reg}");
    assert_eq!(reg["measures"][0]["active_fen"], 5_000_000);
    assert_masked("registry", &reg);

    // The return plan: the one victim's intact deposit.
    let (status, plan) = app
        .get(&format!("/api/v1/accounts/{account}/return-plan"), &analyst)
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["frozen_fen"], 5_000_000);
    assert_eq!(plan["allocations"][0]["report"], "R0001");
    assert_eq!(plan["allocations"][0]["amount_fen"], 5_000_000);
    assert_eq!(plan["allocations"][0]["basis"], "intact");
    assert_masked("return plan", &plan);

    // Intake: the report with its window (long past) and the stop drafted.
    let (status, intake) = app.get("/api/v1/intake", &analyst).await;
    assert_eq!(status, StatusCode::OK);
    let r = intake
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["report"] == "R0001")
        .expect("R0001 in intake");
    assert_eq!(r["stops_drafted"], 1);
    assert!(r["seconds_left"].as_i64().unwrap() < 0);
    assert_masked("intake", &intake);
}

async fn a_case_is_filed_and_its_freezes_planned_in_bulk(app: TestApp) {
    with_payment(&app).await;
    let analyst = app.role(Role::Analyst);
    let (status, body) = app
        .post("/api/v1/cases/C1/freeze-plan", &analyst, None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("case_not_found"))
    );
    let filing =
        json!({ "case_id": "C1", "filing_no": "渝公立〔2026〕88号", "reports": ["R0001"] });
    let (status, case) = app.post("/api/v1/cases", &analyst, Some(&filing)).await;
    assert_eq!(status, StatusCode::OK, "{case}");
    assert_eq!(case["reports"], json!(["R0001"]));
    let (status, body) = app.post("/api/v1/cases", &analyst, Some(&filing)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let empty = json!({ "case_id": "C2", "filing_no": " ", "reports": ["R0001"] });
    let (status, body) = app.post("/api/v1/cases", &analyst, Some(&empty)).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("filing_no"))
    );
    let missing = json!({ "case_id": "C3", "filing_no": "x", "reports": ["R404"] });
    let (status, body) = app.post("/api/v1/cases", &analyst, Some(&missing)).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::NOT_FOUND, Some("reports"))
    );

    let (status, plan) = app
        .post("/api/v1/cases/C1/freeze-plan?draft=true", &analyst, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["level"], "county");
    assert_eq!(plan["lines"].as_array().unwrap().len(), 1);
    assert_eq!(plan["lines"][0]["amount_fen"], 5_000_000);
    assert_eq!(
        plan["notify"],
        json!(null),
        "one account and ¥50,000 owe no notice"
    );
    let id = plan["lines"][0]["order_id"].as_i64().expect("drafted");
    // A second plan drafts nothing twice.
    let (_, again) = app
        .post("/api/v1/cases/C1/freeze-plan?draft=true", &analyst, None)
        .await;
    assert_eq!(again["lines"][0]["order_id"], json!(null));
    assert!(again["lines"][0]["not_drafted"]
        .as_str()
        .unwrap()
        .contains(&id.to_string()));
    let (_, list) = app.get("/api/v1/orders?case=C1", &analyst).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["kind"], "freeze");
    assert_eq!(list[0]["document"], "协助冻结财产通知书");
    // The freeze through to the bank, then a round of returns from it.
    let (_, ccb) = app.key(BANK_B, Role::BankOperator).await;
    let ccb = Caller::Key(ccb);
    let approver = app.role(Role::Approver);
    let path = format!("/api/v1/orders/{id}/steps");
    for (who, body) in [
        (&analyst, json!({ "step": "submit" })),
        (&approver, json!({ "step": "approve" })),
        (&analyst, json!({ "step": "send" })),
        (
            &ccb,
            json!({ "step": "answer", "answer": "executed", "amount_fen": 5_000_000 }),
        ),
    ] {
        let (status, o) = app.post(&path, who, Some(&body)).await;
        assert_eq!(status, StatusCode::OK, "{body}: {o}");
    }
    // The screening (甄别): recorded once; the freeze's screening deadline leaves the list.
    let due = |list: &serde_json::Value, what: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .any(|d| d["order"] == id && d["what"] == what)
    };
    let (_, list) = app
        .get("/api/v1/orders/due?within_days=366", &analyst)
        .await;
    assert!(due(&list, "screening_due"), "{list}");
    let (_, o) = app.get(&format!("/api/v1/orders/{id}"), &analyst).await;
    assert!(
        o["may"].as_array().unwrap().contains(&json!("dispose")),
        "{o}"
    );
    let vague = json!({ "step": "dispose", "finding": "perhaps" });
    let (status, body) = app.post(&path, &analyst, Some(&vague)).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("finding"))
    );
    let screen =
        json!({ "step": "dispose", "finding": "related", "reason": "资金来源均为本案被害人" });
    let (status, o) = app.post(&path, &analyst, Some(&screen)).await;
    assert_eq!(status, StatusCode::OK, "{o}");
    assert!(o["disposed_at"].is_string() && o["disposition"].as_str().unwrap().contains("related"));
    assert!(
        !o["may"].as_array().unwrap().contains(&json!("dispose")),
        "{o}"
    );
    let (status, _) = app.post(&path, &analyst, Some(&screen)).await;
    assert_eq!(status, StatusCode::CONFLICT, "screened once");
    let (_, list) = app
        .get("/api/v1/orders/due?within_days=366", &analyst)
        .await;
    assert!(!due(&list, "screening_due"), "{list}");
    assert!(due(&list, "renewal_due"), "{list}");

    let account = plan["lines"][0]["account"]["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    let rounds = format!("/api/v1/accounts/{account}/return-rounds");
    let (status, r) = app
        .post(&rounds, &analyst, Some(&json!({ "case": "C1" })))
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (r["round"].as_i64(), r["funds_fen"].as_i64()),
        (Some(1), Some(5_000_000))
    );
    assert_eq!(r["allocations"][0]["basis"], "intact");
    assert_eq!(
        r["objections_until"], r["opened_at"],
        "an intact deposit needs no notice"
    );
    assert_masked("round", &r);
    let (status, body) = app
        .post(&rounds, &analyst, Some(&json!({ "case": "C1" })))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "one round at a time: {body}");
    let decision = format!("/api/v1/return-rounds/{}/decision", r["id"]);
    let (status, body) = app.post(&decision, &approver, None).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a county approver cannot decide a return: {body}"
    );
    let prefecture = Caller::Cookie(app.user("pref", Role::Approver, None, Some("5001")).await);
    let (status, d) = app.post(&decision, &prefecture, None).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert!(
        d["decision_no"].as_str().unwrap().starts_with("返还决〔"),
        "{d}"
    );
    let ret = d["orders"][0].as_i64().expect("a return order");
    let (status, doc) = app
        .get(
            &format!("/api/v1/return-rounds/{}/document", r["id"]),
            &prefecture,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["title"], "冻结资金返还决定书");
    assert_eq!(doc["number"], d["decision_no"]);
    let (status, _) = app
        .get(
            &format!("/api/v1/return-rounds/{}/document", r["id"]),
            &app.role(Role::Commander),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, o) = app.get(&format!("/api/v1/orders/{ret}"), &analyst).await;
    assert_eq!(
        (o["kind"].as_str(), o["status"].as_str()),
        (Some("return"), Some("approved")),
        "{o}"
    );
    assert_eq!(o["amount_fen"], 5_000_000);
    let path = format!("/api/v1/orders/{ret}/steps");
    app.post(&path, &analyst, Some(&json!({ "step": "send" })))
        .await;
    let (_, due) = app.get("/api/v1/orders/due?within_days=30", &ccb).await;
    assert!(
        due.as_array()
            .unwrap()
            .iter()
            .any(|d| d["order"] == ret && d["what"] == "return_receipt_due"),
        "{due}"
    );
    let receipt = json!({ "step": "answer", "answer": "executed", "amount_fen": 5_000_000 });
    let (status, o) = app.post(&path, &ccb, Some(&receipt)).await;
    assert_eq!(status, StatusCode::OK, "{o}");
    let (_, ratio) = app.get("/api/v1/returns/ratio", &analyst).await;
    let c1 = ratio["by_case"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "C1")
        .unwrap();
    assert_eq!(
        (c1["loss_fen"].as_i64(), c1["returned_fen"].as_i64()),
        (Some(5_000_000), Some(5_000_000))
    );
    assert_eq!(c1["ratio"], 1.0);
    // The return released the freeze: nothing is left for another round.
    let (status, body) = app
        .post(&rounds, &analyst, Some(&json!({ "case": "C1" })))
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("account")),
        "{body}"
    );
    let (_, list) = app
        .get(
            &format!("/api/v1/return-rounds?account={account}"),
            &analyst,
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["status"], "decided");
    assert_eq!(list[0]["orders"], json!([ret]));

    let (status, body) = app.get("/api/v1/orders?status=lost", &analyst).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("status"))
    );
}

async fn a_report_taken_in_has_its_stops_drafted_within_the_window(app: TestApp) {
    // A walk-in victim with a well-formed resident id (the seeded persons' ids are not).
    const VICTIM: &str = "500103199001011232";
    let station = app.role(Role::StationOfficer);
    let entry = |victim: &str, typology: &str, loss: i64, community: &str, tx: &str| {
        json!({ "victim_id": victim, "typology": typology, "loss_fen": loss,
            "channel": "walk_in", "community_code": community, "payments": [tx] })
    };
    let (_, before) = app.get("/api/v1/intake", &station).await;
    for (body, field) in [
        (
            entry("123", "romance", 100, COMMUNITY_A, "TX0001"),
            "victim_id",
        ),
        (
            entry(VICTIM, "刷单", 100, COMMUNITY_A, "TX0001"),
            "typology",
        ),
        (
            entry(VICTIM, "romance", 0, COMMUNITY_A, "TX0001"),
            "loss_fen",
        ),
        (
            entry(VICTIM, "romance", 100, COMMUNITY_A, "TX9999"),
            "payments",
        ),
        (
            entry(VICTIM, "romance", 100, COMMUNITY_B, "TX0001"),
            "community_code",
        ),
    ] {
        let (status, e) = app.post("/api/v1/reports", &station, Some(&body)).await;
        assert_eq!(
            (status, e["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}: {e}"
        );
    }
    let (_, after) = app.get("/api/v1/intake", &station).await;
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{}:{}", r["report"], r["payments"]))
            .collect()
    };
    assert_eq!(
        ids(&before),
        ids(&after),
        "nothing of a refused report is stored"
    );
    let (status, _) = app
        .post(
            "/api/v1/reports",
            &app.role(Role::BankOperator),
            Some(&entry(VICTIM, "romance", 100, COMMUNITY_A, "TX0001")),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let body = entry(VICTIM, "fake_investment", 5_000_000, COMMUNITY_A, "TX0001");
    let (status, r) = app
        .post("/api/v1/reports?stop_plan=true", &station, Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let window =
        r["stop_due_by"]["micros"].as_i64().unwrap() - r["reported_at"]["micros"].as_i64().unwrap();
    assert_eq!(window, 30 * 60 * 1_000_000);
    let plan = &r["stop_plan"];
    assert_eq!(plan["orders"][0]["amount_fen"], 5_000_000, "{r}");
    assert!(plan["orders"][0]["order_id"].is_i64(), "{r}");
    assert_masked("intake", &r);
    let report = r["report"].as_str().unwrap();
    let (_, intake) = app.get("/api/v1/intake", &station).await;
    let row = intake
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["report"] == report)
        .unwrap_or_else(|| panic!("{intake}"));
    assert_eq!(row["stops_drafted"], 1);
    assert!(row["seconds_left"].as_i64().unwrap() > 25 * 60, "{row}");
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

both!(a_report_is_traced_stopped_approved_and_answered_by_its_bank);
both!(a_case_is_filed_and_its_freezes_planned_in_bulk);
both!(a_report_taken_in_has_its_stops_drafted_within_the_window);
