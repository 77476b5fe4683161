//! Tenancy, masking, reveal, hostile input, body limits, headers and the audit trail, over
//! the seeded two-of-everything district (see `common`).

mod common;

use common::*;
use fanzha_core::vocab::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const REASON: &str = "核查涉诈线索，联系当事人";

fn links<'a>(profile: &'a Value, kind: &str) -> Vec<&'a Value> {
    profile["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["target"]["kind"] == kind)
        .collect()
}

#[tokio::test]
async fn a_bank_never_sees_another_banks_accounts_or_holdings() {
    let app = spawn().await;
    let (_, key) = app.key(BANK_A, Role::BankOperator).await;
    let account_b = app.handle_of("account", ACCOUNT_B).await;
    let account_a2 = app.handle_of("account", ACCOUNT_A2).await;
    let person_a = app.handle_of("person", PERSON_A).await;
    for caller in [app.role(Role::BankOperator), Caller::Key(key)] {
        // Another bank's accounts, even its customer's who also banks here: not found.
        for handle in [&account_b, &account_a2] {
            let (status, body) = app
                .get(&format!("/api/v1/entities/{handle}"), &caller)
                .await;
            assert_eq!(
                (status, body["code"].as_str()),
                (StatusCode::NOT_FOUND, Some("entity_not_found")),
                "{caller:?}"
            );
        }
        for q in [ACCOUNT_B, ACCOUNT_A2, PERSON_B, PHONE_B] {
            let (status, body) = app
                .get(&format!("/api/v1/search?q={}", enc(q)), &caller)
                .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body["hits"], json!([]), "{q} as {caller:?}");
        }
        // Its own customer: only the holdings at this bank, no SIMs, no other bank.
        let (status, profile) = app
            .get(&format!("/api/v1/entities/{person_a}"), &caller)
            .await;
        assert_eq!(status, StatusCode::OK, "{profile}");
        let accounts = links(&profile, "account");
        assert!(!accounts.is_empty(), "{profile}");
        assert!(
            accounts
                .iter()
                .all(|l| l["target"]["id_masked"] == "**** 0128"),
            "{profile}"
        );
        assert!(links(&profile, "sim").is_empty(), "{profile}");
        assert!(!profile.to_string().contains("**** 4321"), "{profile}");
        assert_masked("bank's customer", &profile);
        // The older person endpoint is scoped the same way.
        let (status, _) = app
            .get(&format!("/api/v1/persons/{PERSON_B}"), &caller)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app
            .get(&format!("/api/v1/persons/{PERSON_A}"), &caller)
            .await;
        assert_eq!(status, StatusCode::OK);
        // No reveal across banks either.
        let body = json!({ "handle": account_b, "field": "id", "reason": REASON });
        let (status, _) = app.post("/api/v1/reveal", &caller, Some(&body)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_station_officer_never_sees_another_towns_people() {
    let app = spawn().await;
    let officer = app.role(Role::StationOfficer);
    let person_b = app.handle_of("person", PERSON_B).await;
    let (status, _) = app
        .get(&format!("/api/v1/entities/{person_b}"), &officer)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for q in [PERSON_B, "李", PHONE_B] {
        let (status, body) = app
            .get(&format!("/api/v1/search?q={}", enc(q)), &officer)
            .await;
        assert_eq!((status, &body["hits"]), (StatusCode::OK, &json!([])), "{q}");
    }
    // A name prefix finds the town's own people only.
    let (_, body) = app
        .get(&format!("/api/v1/search?q={}", enc("张")), &officer)
        .await;
    assert!(find_hit(&body, "person", PERSON_A).is_some(), "{body}");
    // The dashboard counts the town's reports only; the analyst's counts the district's.
    let (status, mine) = app.get("/api/v1/dashboard?days=30", &officer).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["scope"], format!("jurisdiction:{TOWN_A}"));
    assert_eq!(mine["totals"]["reports"], 1, "{mine}");
    assert_eq!(mine["totals"]["loss_fen"], 5_000_000);
    let (_, all) = app
        .get("/api/v1/dashboard?days=30", &app.role(Role::Analyst))
        .await;
    assert_eq!(all["totals"]["reports"], 2, "{all}");
    assert_eq!(all["totals"]["loss_fen"], 6_230_050);
    assert_eq!(all["totals"]["loss_yuan"], "62,300.50");
}

#[tokio::test]
async fn an_out_of_scope_lookup_answers_like_a_missing_one_and_is_recorded_as_such() {
    let app = spawn().await;
    let worker = app.role(Role::CommunityWorker);
    let (out_status, out_body) = app
        .get(&format!("/api/v1/persons/{PERSON_B}"), &worker)
        .await;
    let (miss_status, miss_body) = app.get("/api/v1/persons/500103199912319999", &worker).await;
    assert_eq!((out_status, &out_body), (miss_status, &miss_body));
    let person_b = app.handle_of("person", PERSON_B).await;
    let (status, _) = app
        .get(&format!("/api/v1/entities/{person_b}"), &worker)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .get(&format!("/api/v1/persons/{PERSON_A}"), &worker)
        .await;
    assert_eq!(status, StatusCode::OK);

    let log = app.store.audit_list().await.unwrap();
    let lookups: Vec<Value> = log
        .iter()
        .filter(|e| e.actor == "user:community_worker" && e.action == "lookup.person")
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect();
    assert_eq!(
        lookups,
        vec![
            json!({ "id": PERSON_B, "community": COMMUNITY_B, "found": true, "in_scope": false }),
            json!({ "id": "500103199912319999", "community": null, "found": false, "in_scope": true }),
            json!({ "id": PERSON_B, "community": COMMUNITY_B, "found": true, "in_scope": false }),
            json!({ "id": PERSON_A, "community": COMMUNITY_A, "found": true, "in_scope": true }),
        ]
    );
    let searches: Vec<Value> = log
        .iter()
        .filter(|e| e.action == "search")
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect();
    assert_eq!(searches, vec![json!({ "q": PERSON_B, "hits": 1 })]);
}

#[tokio::test]
async fn profiles_are_masked_and_link_by_handle() {
    let app = spawn().await;
    let analyst = app.role(Role::Analyst);
    let handle = app.handle_of("person", PERSON_A).await;
    let (status, profile) = app
        .get(&format!("/api/v1/entities/{handle}"), &analyst)
        .await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_masked("profile", &profile);
    assert_eq!(profile["entity"]["id_masked"], "500103********1234");
    assert_eq!(profile["entity"]["kind"], "person");
    assert_eq!(profile["community_code"], COMMUNITY_A);
    assert_eq!(profile["can_reveal"], true);
    let attrs = profile["attributes"].as_array().unwrap();
    let name = attrs.iter().find(|a| a["key"] == "name").unwrap();
    assert_eq!(
        (name["value"].as_str(), name["revealable"].as_bool()),
        (Some("张**"), Some(true))
    );
    // Each link opens by its handle, and each answer is masked again.
    let account = links(&profile, "account")
        .into_iter()
        .find(|l| l["target"]["id_masked"] == "**** 0128")
        .unwrap_or_else(|| panic!("{profile}"));
    let next = account["target"]["handle"].as_str().unwrap();
    let (status, acc) = app.get(&format!("/api/v1/entities/{next}"), &analyst).await;
    assert_eq!(status, StatusCode::OK);
    assert_masked("account", &acc);
    let history = acc["history"].as_array().unwrap();
    let transfer = history
        .iter()
        .find(|e| e["amount_fen"] == 5_000_000)
        .unwrap_or_else(|| panic!("{acc}"));
    assert_eq!(transfer["amount_yuan"], "50,000.00");
    assert_eq!(transfer["at"]["shanghai"], "2026-03-10T10:00:00+08:00");
    assert_eq!(transfer["counterparty"]["id_masked"], "**** 0987");
    // A commander sees the same profile but may reveal nothing.
    let (_, seen) = app
        .get(
            &format!("/api/v1/entities/{handle}"),
            &app.role(Role::Commander),
        )
        .await;
    assert_eq!(seen["can_reveal"], false);
    assert!(seen["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["revealable"] == false));
}

#[tokio::test]
async fn bad_forged_and_stale_handles_are_refused_naming_the_field() {
    let app = spawn().await;
    let analyst = app.role(Role::Analyst);
    let handle = app.handle_of("person", PERSON_A).await;
    let mut forged = handle.clone().into_bytes();
    let last = forged.len() - 3;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    // A handle from another server process (another key) does not open here.
    let other = spawn().await;
    let stale = other.handle_of("person", PERSON_A).await;
    for h in [
        forged.as_str(),
        &stale,
        "person:500103199001011234",
        "x",
        &"A".repeat(2000),
    ] {
        let (status, body) = app
            .get(&format!("/api/v1/entities/{}", enc(h)), &analyst)
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("handle")),
            "{h}: {body}"
        );
        let reveal = json!({ "handle": h, "field": "id", "reason": REASON });
        let (status, body) = app.post("/api/v1/reveal", &analyst, Some(&reveal)).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("handle")),
            "{h}: {body}"
        );
    }
}

#[tokio::test]
async fn a_reveal_needs_a_permitted_role_and_a_reason_and_is_on_the_audit_page() {
    let app = spawn().await;
    let analyst = app.role(Role::Analyst);
    let handle = app.handle_of("person", PERSON_A).await;
    let reveal =
        |field: &str, reason: &str| json!({ "handle": handle, "field": field, "reason": reason });
    for role in [
        Role::Commander,
        Role::CommunityWorker,
        Role::Publicity,
        Role::Auditor,
        Role::Admin,
    ] {
        let (status, body) = app
            .post(
                "/api/v1/reveal",
                &app.role(role),
                Some(&reveal("phone", REASON)),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{role}"
        );
    }
    for reason in [
        "",
        "   ",
        "太短的理由",
        &"长".repeat(501),
        &format!("  {}  ", "短"),
    ] {
        let (status, body) = app
            .post("/api/v1/reveal", &analyst, Some(&reveal("phone", reason)))
            .await;
        assert_eq!(
            (status, body["code"].as_str(), body["field"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("invalid_field"),
                Some("reason")
            ),
            "{reason:?}"
        );
    }
    let (status, body) = app
        .post(
            "/api/v1/reveal",
            &analyst,
            Some(&json!({ "handle": handle, "field": "phone" })),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("reason"))
    );
    for field in ["community_code", "no_such_field", ""] {
        let (status, body) = app
            .post("/api/v1/reveal", &analyst, Some(&reveal(field, REASON)))
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("field")),
            "{field}: {body}"
        );
    }
    // Nothing refused so far is on record as a reveal.
    let log = app.store.audit_list().await.unwrap();
    assert!(!log.iter().any(|e| e.action.starts_with("reveal.")));

    let (status, body) = app
        .post("/api/v1/reveal", &analyst, Some(&reveal("phone", REASON)))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"], PHONE_A);
    assert_eq!(body["field"], "phone");
    // On record before the answer left, with the reason.
    let log = app.store.audit_list().await.unwrap();
    let entry = log
        .iter()
        .find(|e| e.id == body["audit_id"].as_i64().unwrap())
        .unwrap();
    assert_eq!(
        (entry.actor.as_str(), entry.action.as_str()),
        ("user:analyst", "reveal.person")
    );
    let detail: Value = serde_json::from_str(&entry.detail).unwrap();
    assert_eq!(
        detail,
        json!({ "id": PERSON_A, "field": "phone", "reason": REASON, "community": COMMUNITY_A })
    );
    // The auditor finds it on the audit page, masked, with its reason.
    let (status, page) = app
        .get(
            "/api/v1/audit?action=reveal.&actor=user:analyst",
            &app.role(Role::Auditor),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 1, "{page}");
    let shown = &page["entries"][0];
    assert_eq!(shown["action"], "reveal.person");
    assert_eq!(shown["detail"]["reason"], REASON);
    assert_eq!(shown["detail"]["id"], "500103********1234");
    assert_masked("audit page", &page);
}

#[tokio::test]
async fn the_audit_page_masks_what_it_shows_and_filters_and_pages() {
    let app = spawn().await;
    let analyst = app.role(Role::Analyst);
    for q in [NAME_A, PHONE_A, ACCOUNT_A, PERSON_B] {
        app.get(&format!("/api/v1/search?q={}", enc(q)), &analyst)
            .await;
    }
    app.get(&format!("/api/v1/persons/{PERSON_A}"), &analyst)
        .await;
    let auditor = app.role(Role::Auditor);
    let (status, page) = app.get("/api/v1/audit", &auditor).await;
    assert_eq!(status, StatusCode::OK);
    assert_masked("audit page", &page);
    let (_, searches) = app.get("/api/v1/audit?action=search", &auditor).await;
    assert_eq!(searches["total"], 4, "{searches}");
    assert_eq!(
        searches["entries"][0]["detail"]["q"],
        fanzha_core::mask::digits_in_text(PERSON_B),
        "newest first"
    );
    assert_eq!(searches["entries"][3]["detail"]["q"], "张**");
    let (_, none) = app
        .get("/api/v1/audit?from=2020-01-01&to=2020-01-02", &auditor)
        .await;
    assert_eq!(none["total"], 0);
    let (_, far) = app.get("/api/v1/audit?page=999", &auditor).await;
    assert_eq!(far["entries"], json!([]));
    for (param, value) in [
        ("from", "yesterday"),
        ("to", "2026-13-01"),
        ("page", "0"),
        ("page", "x"),
    ] {
        let (status, body) = app
            .get(&format!("/api/v1/audit?{param}={value}"), &auditor)
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(param))
        );
    }
}

const HOSTILE: &[&str] = &[
    "' OR '1'='1",
    "1'; DROP TABLE persons; --",
    "\" OR \"\"=\"",
    "500103199001011234' --",
    "%' OR name LIKE '%",
    "../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/etc/passwd",
    "\u{0}",
    "<script>alert(1)</script>",
    "${jndi:ldap://127.0.0.1/a}",
    "\u{202e}evil",
    "😀",
];

#[tokio::test]
async fn injection_and_traversal_strings_in_every_parameter_are_harmless() {
    let app = spawn().await;
    let counts = app.store.counts().await.unwrap();
    let users = app.store.user_list().await.unwrap().len();
    let admin = app.role(Role::Admin);
    let auditor = app.role(Role::Auditor);
    let analyst = app.role(Role::Analyst);
    let handle = app.handle_of("person", PERSON_A).await;
    let long = "9".repeat(5000);
    let mut hostile: Vec<&str> = HOSTILE.to_vec();
    hostile.push(&long);
    let mut cells = 0;
    for s in hostile {
        let e = enc(s);
        let requests: Vec<(Method, String, &Caller, Option<Value>)> = vec![
            (Method::GET, format!("/api/v1/search?q={e}"), &analyst, None),
            (Method::GET, format!("/api/v1/entities/{e}"), &analyst, None),
            (Method::GET, format!("/api/v1/persons/{e}"), &analyst, None),
            (
                Method::GET,
                format!("/api/v1/dashboard?days={e}"),
                &analyst,
                None,
            ),
            (
                Method::GET,
                format!("/api/v1/audit?actor={e}"),
                &auditor,
                None,
            ),
            (
                Method::GET,
                format!("/api/v1/audit?action={e}"),
                &auditor,
                None,
            ),
            (
                Method::GET,
                format!("/api/v1/audit?from={e}"),
                &auditor,
                None,
            ),
            (Method::GET, format!("/api/v1/audit?to={e}"), &auditor, None),
            (
                Method::GET,
                format!("/api/v1/audit?page={e}"),
                &auditor,
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/admin/users/{e}/disable"),
                &admin,
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/admin/users/{e}/enable"),
                &admin,
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/admin/keys/{e}/revoke"),
                &admin,
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/audit/flags/{e}/review"),
                &auditor,
                None,
            ),
            (
                Method::POST,
                "/api/v1/reveal".into(),
                &analyst,
                Some(json!({ "handle": s, "field": "id", "reason": REASON })),
            ),
            (
                Method::POST,
                "/api/v1/reveal".into(),
                &analyst,
                Some(json!({ "handle": handle, "field": s, "reason": REASON })),
            ),
            (
                Method::POST,
                "/api/v1/admin/users".into(),
                &admin,
                Some(json!({ "username": s, "password": PASSWORD, "role": "analyst" })),
            ),
            (
                Method::POST,
                "/api/v1/admin/users".into(),
                &admin,
                Some(json!({ "username": "x", "password": PASSWORD, "role": s })),
            ),
            (
                Method::POST,
                "/api/v1/admin/users".into(),
                &admin,
                Some(
                    json!({ "username": "y", "password": PASSWORD, "role": "station_officer", "jurisdiction_code": s }),
                ),
            ),
            (
                Method::POST,
                "/api/v1/admin/keys".into(),
                &admin,
                Some(json!({ "institution_code": s, "role": "bank_operator", "label": "l" })),
            ),
            (
                Method::POST,
                "/api/v1/login".into(),
                &Caller::Nobody,
                Some(json!({ "username": s, "password": s })),
            ),
        ];
        for (method, path, caller, body) in requests {
            cells += 1;
            let res = app.send(method.clone(), &path, caller, body.as_ref()).await;
            let (status, body) = read(res).await;
            assert!(
                status.is_success() || status.is_client_error(),
                "{method} {path}: {status} {body}"
            );
            // A search or filter that matches nothing is fine; a hostile string never
            // changes anything.
            assert_ne!(status, StatusCode::CREATED, "{method} {path}: {body}");
            assert_masked(&path, &body);
        }
    }
    assert!(cells > 200);
    assert_eq!(app.store.counts().await.unwrap(), counts, "no row changed");
    assert_eq!(app.store.user_list().await.unwrap().len(), users);
    let (_, verify) = app.get("/api/v1/audit/verify", &auditor).await;
    assert_eq!(verify["ok"], true, "{verify}");
    let (status, _) = app
        .get(&format!("/api/v1/persons/{PERSON_A}"), &analyst)
        .await;
    assert_eq!(status, StatusCode::OK, "the person is still there");
}

#[tokio::test]
async fn oversized_and_malformed_bodies_get_4xx_naming_what_they_can() {
    let app = spawn().await;
    let analyst = app.role(Role::Analyst);
    let admin = app.role(Role::Admin);
    let cookie = |c: &Caller| match c {
        Caller::Cookie(c) => c.clone(),
        _ => unreachable!(),
    };
    let post = |path: &str, who: &Caller, ct: &str, body: Vec<u8>| {
        app.client
            .post(format!("{}{path}", app.base))
            .header("cookie", cookie(who))
            .header("content-type", ct.to_owned())
            .body(body)
            .send()
    };
    let big = format!(
        "{{\"handle\":\"{}\",\"field\":\"id\",\"reason\":\"r\"}}",
        "A".repeat(fanzha_server::BODY_LIMIT_BYTES)
    );
    for (path, who, missing) in [
        ("/api/v1/reveal", &analyst, "reason"),
        ("/api/v1/admin/users", &admin, "role"),
        ("/api/v1/admin/keys", &admin, "label"),
    ] {
        let partial = match path {
            "/api/v1/reveal" => json!({ "handle": "h", "field": "id" }),
            "/api/v1/admin/users" => json!({ "username": "u", "password": PASSWORD }),
            _ => json!({ "institution_code": BANK_A, "role": "bank_operator" }),
        };
        for (ct, body, want, code, field) in [
            (
                "application/json",
                big.clone().into_bytes(),
                413,
                "payload_too_large",
                None,
            ),
            (
                "application/json",
                b"{not json".to_vec(),
                400,
                "malformed_body",
                None,
            ),
            (
                "application/json",
                b"[1,2,3]".to_vec(),
                400,
                "malformed_body",
                None,
            ),
            (
                "application/json",
                b"".to_vec(),
                400,
                "malformed_body",
                None,
            ),
            (
                "application/json",
                b"\xff\xfe\x00".to_vec(),
                400,
                "malformed_body",
                None,
            ),
            (
                "application/json",
                b"{\"handle\":7,\"username\":7,\"institution_code\":7}".to_vec(),
                400,
                "malformed_body",
                None,
            ),
            (
                "application/json",
                partial.to_string().into_bytes(),
                400,
                "malformed_body",
                Some(missing),
            ),
            (
                "application/json",
                b"{\"nope\":1}".to_vec(),
                400,
                "malformed_body",
                None,
            ),
            (
                "text/plain",
                b"{}".to_vec(),
                415,
                "unsupported_media_type",
                None,
            ),
            (
                "application/x-www-form-urlencoded",
                b"a=b".to_vec(),
                415,
                "unsupported_media_type",
                None,
            ),
        ] {
            let (status, body) = read(post(path, who, ct, body).await.unwrap()).await;
            assert_eq!(
                (status.as_u16(), body["code"].as_str()),
                (want, Some(code)),
                "{path} {ct}: {body}"
            );
            if let Some(f) = field {
                assert_eq!(body["field"], f, "{path}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn security_headers_are_on_every_endpoints_answers() {
    let app = spawn().await;
    let handle = app.handle_of("person", PERSON_A).await;
    for (path, who) in [
        ("/api/v1/search?q=张".to_owned(), Some(Role::Analyst)),
        (format!("/api/v1/entities/{handle}"), Some(Role::Analyst)),
        (format!("/api/v1/entities/{handle}"), Some(Role::Publicity)),
        ("/api/v1/dashboard".to_owned(), Some(Role::Commander)),
        ("/api/v1/admin/users".to_owned(), Some(Role::Admin)),
        ("/api/v1/admin/keys".to_owned(), Some(Role::Analyst)),
        ("/api/v1/audit".to_owned(), Some(Role::Auditor)),
        ("/api/v1/audit/verify".to_owned(), None),
        ("/api/v1/audit/flags".to_owned(), Some(Role::Auditor)),
    ] {
        let caller = who.map_or(Caller::Nobody, |r| app.role(r));
        let res = app.send(Method::GET, &path, &caller, None).await;
        let h = res.headers();
        assert_eq!(h["content-security-policy"], "default-src 'self'", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
    }
}

#[tokio::test]
async fn altering_or_deleting_an_audit_row_is_reported_by_verify() {
    let app = spawn().await;
    let analyst = app.role(Role::Analyst);
    for id in [PERSON_A, PERSON_B, "500103199912319999"] {
        app.get(&format!("/api/v1/persons/{id}"), &analyst).await;
    }
    let auditor = app.role(Role::Auditor);
    let (status, before) = app.get("/api/v1/audit/verify", &auditor).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (before["ok"].as_bool(), &before["first_broken"]),
        (Some(true), &Value::Null)
    );
    let log = app.store.audit_list().await.unwrap();
    let victim = log
        .iter()
        .find(|e| e.action == "lookup.person" && e.detail.contains(PERSON_B))
        .unwrap()
        .id;
    // Someone with the database file covers a look-up's tracks.
    let db = rusqlite::Connection::open(&app.db).unwrap();
    db.execute(
        "UPDATE audit_log SET detail = replace(detail, ?1, ?2) WHERE id = ?3",
        rusqlite::params![PERSON_B, PERSON_A, victim],
    )
    .unwrap();
    let (_, after) = app.get("/api/v1/audit/verify", &auditor).await;
    assert_eq!(
        (after["ok"].as_bool(), after["first_broken"].as_i64()),
        (Some(false), Some(victim)),
        "{after}"
    );
    // Deleting the row instead breaks the link from the next one.
    let app2 = spawn().await;
    for id in [PERSON_A, PERSON_B, "500103199912319999"] {
        app2.get(&format!("/api/v1/persons/{id}"), &app2.role(Role::Analyst))
            .await;
    }
    let log = app2.store.audit_list().await.unwrap();
    let gone = log.iter().find(|e| e.detail.contains(PERSON_B)).unwrap().id;
    let next = log.iter().find(|e| e.id > gone).unwrap().id;
    rusqlite::Connection::open(&app2.db)
        .unwrap()
        .execute("DELETE FROM audit_log WHERE id = ?1", [gone])
        .unwrap();
    let (_, after) = app2
        .get("/api/v1/audit/verify", &app2.role(Role::Auditor))
        .await;
    assert_eq!(after["first_broken"].as_i64(), Some(next), "{after}");
}

#[tokio::test]
async fn admin_changes_take_effect_and_are_on_record() {
    let app = spawn().await;
    let admin = app.role(Role::Admin);
    let new_user = json!({
        "username": "officer_b",
        "password": PASSWORD,
        "role": "station_officer",
        "jurisdiction_code": TOWN_B,
    });
    let (status, body) = app
        .post("/api/v1/admin/users", &admin, Some(&new_user))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["jurisdiction_code"], TOWN_B);
    assert!(body.get("password_hash").is_none() && !body.to_string().contains("argon2"));
    let (status, body) = app
        .post("/api/v1/admin/users", &admin, Some(&new_user))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("username_taken"))
    );
    // The new officer works in town B: its person is theirs, town A's is not.
    let officer = Caller::Cookie(app.login("officer_b").await.unwrap());
    let (status, _) = app
        .get(&format!("/api/v1/persons/{PERSON_B}"), &officer)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .get(&format!("/api/v1/persons/{PERSON_A}"), &officer)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for (body, field) in [
        (
            json!({ "username": "a b", "password": PASSWORD, "role": "analyst" }),
            "username",
        ),
        (
            json!({ "username": "ab", "password": "short", "role": "analyst" }),
            "password",
        ),
        (
            json!({ "username": "ab", "password": PASSWORD, "role": "boss" }),
            "role",
        ),
        (
            json!({ "username": "ab", "password": PASSWORD, "role": "bank_operator" }),
            "institution_code",
        ),
        (
            json!({ "username": "ab", "password": PASSWORD, "role": "community_worker" }),
            "jurisdiction_code",
        ),
        (
            json!({ "username": "ab", "password": PASSWORD, "role": "analyst", "institution_code": "ICBC" }),
            "institution_code",
        ),
    ] {
        let (status, err) = app.post("/api/v1/admin/users", &admin, Some(&body)).await;
        assert_eq!(
            (status, err["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}"
        );
    }
    // Disabling ends the session at once; enabling lets them log in again.
    let (status, body) = app
        .post("/api/v1/admin/users/officer_b/disable", &admin, None)
        .await;
    assert_eq!(
        (status, body["disabled"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (status, _) = app
        .get(&format!("/api/v1/persons/{PERSON_B}"), &officer)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(app.login("officer_b").await.is_none());
    let (status, _) = app
        .post("/api/v1/admin/users/officer_b/enable", &admin, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.login("officer_b").await.is_some());
    let (status, body) = app
        .post("/api/v1/admin/users/nobody/disable", &admin, None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("user_not_found"))
    );
    let (status, _) = app
        .post("/api/v1/admin/users/admin/disable", &admin, None)
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an admin cannot lock themselves out"
    );

    // A key works as its bank until revoked; its secret is shown once.
    let (status, made) = app
        .post(
            "/api/v1/admin/keys",
            &admin,
            Some(&json!({ "institution_code": BANK_A, "role": "bank_operator", "label": "core banking" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let secret = made["secret"].as_str().unwrap().to_owned();
    let id = made["key"]["id"].as_i64().unwrap();
    let bank = Caller::Key(secret.clone());
    let (status, _) = app
        .get(&format!("/api/v1/search?q={ACCOUNT_A}"), &bank)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = app.get("/api/v1/admin/keys", &admin).await;
    assert!(!listed.to_string().contains(&secret[4..]), "{listed}");
    let (status, body) = app
        .post(
            "/api/v1/admin/keys",
            &admin,
            Some(&json!({ "institution_code": BANK_A, "role": "analyst", "label": "x" })),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("role"))
    );
    let (status, body) = app
        .post(&format!("/api/v1/admin/keys/{id}/revoke"), &admin, None)
        .await;
    assert_eq!(
        (status, body["active"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let (status, _) = app
        .get(&format!("/api/v1/search?q={ACCOUNT_A}"), &bank)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .post(&format!("/api/v1/admin/keys/{id}/revoke"), &admin, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let log = app.store.audit_list().await.unwrap();
    let actions: Vec<&str> = log
        .iter()
        .filter(|e| e.actor == "user:admin" && e.action.starts_with("admin."))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "admin.user.add",
            "admin.user.disable",
            "admin.user.enable",
            "admin.key.add",
            "admin.key.revoke"
        ]
    );
    assert!(!log
        .iter()
        .any(|e| e.detail.contains(PASSWORD) || e.detail.contains(&secret[4..])));
}

#[tokio::test]
async fn insider_flags_are_listed_and_reviewed_on_record() {
    let app = spawn().await;
    let id = app
        .store
        .flag_add(
            "analyst",
            "2026-03-10",
            "out_of_scope",
            &json!({ "ids": [PERSON_B] }).to_string(),
        )
        .await
        .unwrap()
        .unwrap();
    let auditor = app.role(Role::Auditor);
    let (status, flags) = app.get("/api/v1/audit/flags", &auditor).await;
    assert_eq!(status, StatusCode::OK);
    assert_masked("flags", &flags);
    assert_eq!(flags[0]["id"], id);
    assert_eq!(flags[0]["reviewed_by"], Value::Null);
    let (status, flag) = app
        .post(&format!("/api/v1/audit/flags/{id}/review"), &auditor, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{flag}");
    assert_eq!(flag["reviewed_by"], "user:auditor");
    let (status, body) = app
        .post("/api/v1/audit/flags/999999/review", &auditor, None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("flag_not_found"))
    );
    let log = app.store.audit_list().await.unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "audit.flag.review" && e.detail == format!("{{\"id\":{id}}}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lookups_are_each_audited_in_one_intact_chain() {
    let app = std::sync::Arc::new(spawn().await);
    let handle = app.handle_of("person", PERSON_A).await;
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let app = std::sync::Arc::clone(&app);
            let handle = handle.clone();
            tokio::spawn(async move {
                let role = [Role::Analyst, Role::StationOfficer, Role::CommunityWorker][i % 3];
                app.get(&format!("/api/v1/entities/{handle}"), &app.role(role))
                    .await
                    .0
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let log = app.store.audit_list().await.unwrap();
    assert_eq!(
        log.iter().filter(|e| e.action == "lookup.person").count(),
        60
    );
    assert_eq!(fanzha_store::verify_audit_chain(&log), None);
}

#[tokio::test]
async fn the_dashboard_window_ends_with_the_data_and_compares_with_the_one_before() {
    let app = spawn().await;
    let commander = app.role(Role::Commander);
    let (status, d) = app.get("/api/v1/dashboard?days=7", &commander).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    // The district's data ends on 2026-03-10 (Shanghai), months before today.
    assert_eq!(d["to"]["shanghai"], "2026-03-11T00:00:00+08:00");
    assert_eq!(d["from"]["shanghai"], "2026-03-04T00:00:00+08:00");
    let series = d["series"].as_array().unwrap();
    assert_eq!(series.len(), 7);
    assert_eq!(series[6]["day"], "2026-03-10");
    assert_eq!(series[6]["reports"], 2);
    assert_eq!(d["totals"]["cases"], 1);
    assert_eq!(d["previous"]["reports"], 0);
    // Shared figures say when they were computed: a moment ago, not when the data ends.
    let as_of = d["as_of"]["micros"].as_i64().unwrap();
    assert!(as_of > d["to"]["micros"].as_i64().unwrap(), "{d}");
    let (_, d) = app.get("/api/v1/dashboard", &commander).await;
    assert_eq!(d["days"], 30, "the default window");
    for days in ["0", "367", "-1", "x", "1e3"] {
        let (status, body) = app
            .get(&format!("/api/v1/dashboard?days={days}"), &commander)
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("days")),
            "{days}"
        );
    }
}
