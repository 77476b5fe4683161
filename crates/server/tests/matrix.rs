//! The access matrix: every endpoint × every role × own or foreign data, with the status
//! each must get, written out by hand (not derived from the policy it checks). Every answer
//! but a granted reveal is also scanned for the district's raw personal values.

mod common;

use common::*;
use fanzha_core::vocab::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Search,
    Profile,
    Reveal,
    Person,
    Dashboard,
    ListUsers,
    AddUser,
    DisableUser,
    EnableUser,
    ListKeys,
    AddKey,
    RevokeKey,
    AuditPage,
    AuditVerify,
    Flags,
    ReviewFlag,
    Warnings,
    Warning,
    Feedback,
    Precision,
    FileAppeal,
    Appeals,
    DecideAppeal,
    Thresholds,
    RecordThreshold,
    Rules,
    Models,
    Drift,
    Institutions,
    Operations,
    ResendDead,
}

/// Whose data the request is about: the caller's own tenant's (town A, ICBC, CMCC) or the
/// other's; `Any` for endpoints about no one's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Data {
    Own,
    Foreign,
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Status(u16),
    /// 200, and the entity is among the hits.
    Hit,
    /// 200, and it is not.
    NoHit,
}

const OK: Expect = Expect::Status(200);
const NEW: Expect = Expect::Status(201);
const DENY: Expect = Expect::Status(403);
const GONE: Expect = Expect::Status(404);
const HIT: Expect = Expect::Hit;
const MISS: Expect = Expect::NoHit;

/// Columns in `Role::ALL` order.
const ROLES: [Role; 11] = [
    Role::Admin,
    Role::Commander,
    Role::Analyst,
    Role::Approver,
    Role::StationLeader,
    Role::StationOfficer,
    Role::CommunityWorker,
    Role::BankOperator,
    Role::CarrierOperator,
    Role::Publicity,
    Role::Auditor,
];

use Data::*;
use Endpoint::*;

#[rustfmt::skip]
const MATRIX: &[(Endpoint, Data, [Expect; 11])] = &[
    //                    admin comm  anal  appr  st_ld st_of commu bank  carr  publ  audit
    (Search,      Own,     [DENY, HIT,  HIT,  HIT,  HIT,  HIT,  HIT,  HIT,  HIT,  DENY, DENY]),
    (Search,      Foreign, [DENY, HIT,  HIT,  HIT,  MISS, MISS, MISS, MISS, MISS, DENY, DENY]),
    (Profile,     Own,     [DENY, OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   DENY, DENY]),
    (Profile,     Foreign, [DENY, OK,   OK,   OK,   GONE, GONE, GONE, GONE, GONE, DENY, DENY]),
    (Reveal,      Own,     [DENY, DENY, OK,   OK,   OK,   OK,   DENY, OK,   OK,   DENY, DENY]),
    (Reveal,      Foreign, [DENY, DENY, OK,   OK,   GONE, GONE, DENY, GONE, GONE, DENY, DENY]),
    (Person,      Own,     [DENY, OK,   OK,   OK,   OK,   OK,   OK,   OK,   OK,   DENY, DENY]),
    (Person,      Foreign, [DENY, OK,   OK,   OK,   GONE, GONE, GONE, GONE, GONE, DENY, DENY]),
    (Dashboard,   Any,     [OK,   OK,   OK,   OK,   OK,   OK,   OK,   DENY, DENY, OK,   OK  ]),
    (ListUsers,   Any,     [OK,   DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY]),
    (AddUser,     Any,     [NEW,  DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY]),
    (DisableUser, Any,     [OK,   DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY]),
    (EnableUser,  Any,     [OK,   DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY]),
    (ListKeys,    Any,     [OK,   DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY]),
    (AddKey,      Any,     [NEW,  DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY]),
    (RevokeKey,   Any,     [OK,   DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY]),
    (AuditPage,   Any,     [DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, OK  ]),
    (AuditVerify, Any,     [DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, OK  ]),
    (Flags,       Any,     [DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, OK  ]),
    (ReviewFlag,  Any,     [DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, OK  ]),
    (Warnings,    Own,     [DENY, HIT,  HIT,  HIT,  HIT,  HIT,  DENY, HIT,  HIT,  DENY, DENY]),
    (Warnings,    Foreign, [DENY, HIT,  HIT,  HIT,  MISS, MISS, DENY, MISS, MISS, DENY, DENY]),
    (Warning,     Own,     [DENY, OK,   OK,   OK,   OK,   OK,   DENY, OK,   OK,   DENY, DENY]),
    (Warning,     Foreign, [DENY, OK,   OK,   OK,   GONE, GONE, DENY, GONE, GONE, DENY, DENY]),
    (Feedback,    Own,     [DENY, DENY, DENY, DENY, DENY, DENY, DENY, OK,   OK,   DENY, DENY]),
    (Feedback,    Foreign, [DENY, DENY, DENY, DENY, DENY, DENY, DENY, GONE, GONE, DENY, DENY]),
    (Precision,   Any,     [DENY, OK,   OK,   OK,   DENY, DENY, DENY, DENY, DENY, DENY, OK  ]),
    (FileAppeal,  Own,     [DENY, DENY, NEW,  NEW,  NEW,  NEW,  DENY, NEW,  NEW,  DENY, DENY]),
    (FileAppeal,  Foreign, [DENY, DENY, NEW,  NEW,  GONE, GONE, DENY, GONE, GONE, DENY, DENY]),
    (Appeals,     Any,     [DENY, OK,   OK,   OK,   DENY, DENY, DENY, DENY, DENY, DENY, DENY]),
    (DecideAppeal, Any,    [DENY, DENY, DENY, OK,   DENY, DENY, DENY, DENY, DENY, DENY, DENY]),
    (Thresholds,  Any,     [DENY, OK,   OK,   OK,   DENY, DENY, DENY, DENY, DENY, DENY, OK  ]),
    (RecordThreshold, Any, [DENY, NEW,  DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY]),
    (Rules,       Any,     [DENY, OK,   OK,   OK,   DENY, DENY, DENY, DENY, DENY, DENY, OK  ]),
    (Models,      Any,     [DENY, OK,   OK,   OK,   DENY, DENY, DENY, DENY, DENY, DENY, OK  ]),
    (Drift,       Any,     [DENY, OK,   OK,   OK,   DENY, DENY, DENY, DENY, DENY, DENY, OK  ]),
    (Institutions, Any,    [DENY, OK,   OK,   OK,   DENY, DENY, DENY, DENY, DENY, DENY, OK  ]),
    (Operations,  Any,     [OK,   DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY]),
    (ResendDead,  Any,     [OK,   DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY, DENY]),
];

/// Upholds every pending appeal, so the next cell can file one on any warning.
async fn settle_appeals(app: &TestApp) {
    for a in app
        .store
        .appeals_by_status(Some(fanzha_store::AppealStatus::Open))
        .await
        .unwrap()
    {
        app.store
            .appeal_decide(a.id, fanzha_store::AppealDecision::Upheld, "test", "x", 1)
            .await
            .unwrap();
    }
}

/// The entity a role's own or foreign request is about: a bank's accounts, a carrier's
/// SIMs, everyone else's persons.
fn entity(role: Role, data: Data) -> (&'static str, &'static str) {
    let own = data == Own;
    match role {
        Role::BankOperator => ("account", if own { ACCOUNT_A } else { ACCOUNT_B }),
        Role::CarrierOperator => ("sim", if own { PHONE_A } else { PHONE_B }),
        _ => ("person", if own { PERSON_A } else { PERSON_B }),
    }
}

/// The warned entity a role's own or foreign request is about: a bank's accounts, a
/// carrier's SIMs, everyone else's the accounts of town A's and town B's person.
fn warned(role: Role, data: Data) -> (&'static str, &'static str) {
    let own = data == Own;
    match role {
        Role::CarrierOperator => ("sim", if own { PHONE_A } else { PHONE_B }),
        _ => ("account", if own { ACCOUNT_A } else { ACCOUNT_B }),
    }
}

/// The handle of this warning in a list answer, if listed.
fn find_warning<'a>(list: &'a serde_json::Value, kind: &str, id: &str) -> Option<&'a str> {
    let masked = masked_id(kind, id);
    list["warnings"]
        .as_array()?
        .iter()
        .find(|w| w["entity"]["kind"] == kind && w["entity"]["id_masked"] == masked.as_str())
        .and_then(|w| w["entity"]["handle"].as_str())
}

/// The request for one cell of the matrix; `n` makes names and rows unique per request.
async fn request(
    app: &TestApp,
    endpoint: Endpoint,
    role: Role,
    data: Data,
    n: usize,
) -> (Method, String, Option<serde_json::Value>) {
    let (kind, id) = entity(role, data);
    let person = if data == Own { PERSON_A } else { PERSON_B };
    match endpoint {
        Search => (Method::GET, format!("/api/v1/search?q={}", enc(id)), None),
        Profile => {
            let handle = app.handle_of(kind, id).await;
            (Method::GET, format!("/api/v1/entities/{handle}"), None)
        }
        Reveal => {
            let handle = app.handle_of(kind, id).await;
            let body =
                json!({ "handle": handle, "field": "id", "reason": "核查涉诈线索，联系当事人" });
            (Method::POST, "/api/v1/reveal".into(), Some(body))
        }
        Person => (Method::GET, format!("/api/v1/persons/{person}"), None),
        Warnings => (Method::GET, "/api/v1/warnings".into(), None),
        Warning => {
            let (kind, id) = warned(role, data);
            let handle = app.handle_of(kind, id).await;
            (Method::GET, format!("/api/v1/warnings/{handle}"), None)
        }
        Feedback => {
            let (kind, id) = warned(role, data);
            let handle = app.handle_of(kind, id).await;
            let body = json!({ "verdict": "confirmed", "note": "已核实，系出租出借账户" });
            (
                Method::POST,
                format!("/api/v1/warnings/{handle}/feedback"),
                Some(body),
            )
        }
        Precision => (
            Method::GET,
            "/api/v1/warnings/precision?by=rule".into(),
            None,
        ),
        FileAppeal => {
            settle_appeals(app).await;
            let (kind, id) = warned(role, data);
            let handle = app.handle_of(kind, id).await;
            let body = json!({ "appellant": "持卡人本人", "grounds": "工资卡，非出借" });
            (
                Method::POST,
                format!("/api/v1/warnings/{handle}/appeals"),
                Some(body),
            )
        }
        Appeals => (Method::GET, "/api/v1/appeals?status=all".into(), None),
        DecideAppeal => {
            settle_appeals(app).await;
            let e = fanzha_store::WarnedEntity::new(fanzha_store::RiskEntity::Account, ACCOUNT_B);
            let id = app
                .store
                .appeal_file(&e, "本人", "工资卡", 1)
                .await
                .unwrap()
                .unwrap();
            let body = json!({ "decision": "uphold", "reason": "流水与报案吻合" });
            (
                Method::POST,
                format!("/api/v1/appeals/{id}/decision"),
                Some(body),
            )
        }
        Thresholds => (Method::GET, "/api/v1/governance/thresholds".into(), None),
        RecordThreshold => {
            let body = json!({
                "pattern": "mule", "level": "yellow", "new_threshold": 55, "reason": "误报偏高"
            });
            (
                Method::POST,
                "/api/v1/governance/thresholds".into(),
                Some(body),
            )
        }
        Rules => (Method::GET, "/api/v1/governance/rules".into(), None),
        Models => (Method::GET, "/api/v1/governance/models".into(), None),
        Drift => (Method::GET, "/api/v1/governance/drift".into(), None),
        Institutions => (Method::GET, "/api/v1/governance/institutions".into(), None),
        Operations => (Method::GET, "/api/v1/admin/operations".into(), None),
        ResendDead => (
            Method::POST,
            "/api/v1/admin/outbox/resend-dead".into(),
            None,
        ),
        Dashboard => (Method::GET, "/api/v1/dashboard?days=30".into(), None),
        ListUsers => (Method::GET, "/api/v1/admin/users".into(), None),
        AddUser => {
            let body = json!({
                "username": format!("new{n}"),
                "password": PASSWORD,
                "role": "station_officer",
                "jurisdiction_code": TOWN_B,
            });
            (Method::POST, "/api/v1/admin/users".into(), Some(body))
        }
        DisableUser => (
            Method::POST,
            "/api/v1/admin/users/spare/disable".into(),
            None,
        ),
        EnableUser => (
            Method::POST,
            "/api/v1/admin/users/spare/enable".into(),
            None,
        ),
        ListKeys => (Method::GET, "/api/v1/admin/keys".into(), None),
        AddKey => {
            let body =
                json!({ "institution_code": BANK_B, "role": "bank_operator", "label": "core" });
            (Method::POST, "/api/v1/admin/keys".into(), Some(body))
        }
        RevokeKey => {
            let (id, _) = app.key(BANK_B, Role::BankOperator).await;
            (
                Method::POST,
                format!("/api/v1/admin/keys/{id}/revoke"),
                None,
            )
        }
        AuditPage => (Method::GET, "/api/v1/audit?page=1".into(), None),
        AuditVerify => (Method::GET, "/api/v1/audit/verify".into(), None),
        Flags => (Method::GET, "/api/v1/audit/flags".into(), None),
        ReviewFlag => {
            let day = format!("2026-{:02}-{:02}", 1 + n / 28 % 12, 1 + n % 28);
            let id = app
                .store
                .flag_add("analyst", &day, "peer_volume", "{\"lookups\":40}")
                .await
                .unwrap()
                .unwrap();
            (
                Method::POST,
                format!("/api/v1/audit/flags/{id}/review"),
                None,
            )
        }
    }
}

async fn run_matrix(app: &TestApp) {
    let spare = app.user("spare", Role::Analyst, None, None).await;
    drop(spare);
    let mut n = 0;
    let mut failures = Vec::new();
    for &(endpoint, data, expected) in MATRIX {
        for (role, expect) in ROLES.into_iter().zip(expected) {
            n += 1;
            let (method, path, body) = request(app, endpoint, role, data, n).await;
            let res = app
                .send(method, &path, &app.role(role), body.as_ref())
                .await;
            let (status, body) = read(res).await;
            let want = match expect {
                Expect::Status(s) => s,
                Expect::Hit | Expect::NoHit => 200,
            };
            let cell = format!("{endpoint:?} × {role} × {data:?}");
            if status.as_u16() != want {
                failures.push(format!("{cell}: want {want}, got {status}: {body}"));
                continue;
            }
            let (kind, id) = if endpoint == Warnings {
                warned(role, data)
            } else {
                entity(role, data)
            };
            let found = if endpoint == Warnings {
                find_warning(&body, kind, id).is_some()
            } else {
                find_hit(&body, kind, id).is_some()
            };
            match expect {
                Expect::Hit if !found => {
                    failures.push(format!("{cell}: {kind} {id} not found in {body}"));
                }
                Expect::NoHit if found => {
                    failures.push(format!("{cell}: {kind} {id} leaked in {body}"));
                }
                _ => {}
            }
            if endpoint == Reveal && status == StatusCode::OK {
                assert_eq!(body["value"], id, "{cell}");
            } else {
                assert_masked(&cell, &body);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every cell's look-ups went through the batching writer into one intact chain.
    let log = app.store.audit_list().await.unwrap();
    assert_eq!(fanzha_store::verify_audit_chain(&log), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_by_every_role_on_own_and_foreign_data_sqlite() {
    let app = spawn().await;
    run_matrix(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_by_every_role_on_own_and_foreign_data_postgres() {
    let app = spawn_on(Some(pg_target())).await;
    run_matrix(&app).await;
}

#[tokio::test]
async fn every_endpoint_needs_credentials() {
    let app = spawn().await;
    let handle = app.handle_of("person", PERSON_A).await;
    let account = app.handle_of("account", ACCOUNT_A).await;
    let verdict = json!({ "verdict": "confirmed" });
    let reveal = json!({ "handle": handle, "field": "id", "reason": "核查涉诈线索，联系当事人" });
    let bad_cookie = Caller::Cookie(format!("fanzha_session={}", "0".repeat(64)));
    let bad_key = Caller::Key(format!("fzk_{}", "0".repeat(64)));
    for (method, path, body) in [
        (Method::GET, "/api/v1/search?q=张".to_owned(), None),
        (Method::GET, format!("/api/v1/entities/{handle}"), None),
        (Method::POST, "/api/v1/reveal".to_owned(), Some(&reveal)),
        (Method::GET, format!("/api/v1/persons/{PERSON_A}"), None),
        (Method::GET, "/api/v1/dashboard".to_owned(), None),
        (Method::GET, "/api/v1/warnings".to_owned(), None),
        (Method::GET, format!("/api/v1/warnings/{account}"), None),
        (
            Method::POST,
            format!("/api/v1/warnings/{account}/feedback"),
            Some(&verdict),
        ),
        (Method::GET, "/api/v1/warnings/precision".to_owned(), None),
        (
            Method::POST,
            format!("/api/v1/warnings/{account}/appeals"),
            Some(&verdict),
        ),
        (Method::GET, "/api/v1/appeals".to_owned(), None),
        (
            Method::POST,
            "/api/v1/appeals/1/decision".to_owned(),
            Some(&verdict),
        ),
        (
            Method::GET,
            "/api/v1/governance/thresholds".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/governance/thresholds".to_owned(),
            Some(&verdict),
        ),
        (Method::GET, "/api/v1/governance/rules".to_owned(), None),
        (Method::GET, "/api/v1/governance/models".to_owned(), None),
        (Method::GET, "/api/v1/governance/drift".to_owned(), None),
        (
            Method::GET,
            "/api/v1/governance/institutions".to_owned(),
            None,
        ),
        (Method::GET, "/api/v1/admin/operations".to_owned(), None),
        (
            Method::POST,
            "/api/v1/admin/outbox/resend-dead".to_owned(),
            None,
        ),
        (Method::GET, "/api/v1/admin/users".to_owned(), None),
        (
            Method::POST,
            "/api/v1/admin/users".to_owned(),
            Some(&reveal),
        ),
        (
            Method::POST,
            "/api/v1/admin/users/analyst/disable".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/admin/users/analyst/enable".to_owned(),
            None,
        ),
        (Method::GET, "/api/v1/admin/keys".to_owned(), None),
        (Method::POST, "/api/v1/admin/keys".to_owned(), Some(&reveal)),
        (Method::POST, "/api/v1/admin/keys/1/revoke".to_owned(), None),
        (Method::GET, "/api/v1/audit".to_owned(), None),
        (Method::GET, "/api/v1/audit/verify".to_owned(), None),
        (Method::GET, "/api/v1/audit/flags".to_owned(), None),
        (
            Method::POST,
            "/api/v1/audit/flags/1/review".to_owned(),
            None,
        ),
    ] {
        for caller in [&Caller::Nobody, &bad_cookie, &bad_key] {
            let res = app.send(method.clone(), &path, caller, body).await;
            let (status, body) = read(res).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
                "{method} {path} as {caller:?}"
            );
        }
    }
    // Refused before anything was read or changed: no look-up, reveal or change on record.
    let log = app.store.audit_list().await.unwrap();
    let acted: Vec<_> = log
        .iter()
        .filter(|e| {
            ["lookup.", "reveal.", "admin.", "audit.", "warning"]
                .iter()
                .any(|p| e.action.starts_with(p))
        })
        .collect();
    assert!(acted.is_empty(), "{acted:?}");
}
