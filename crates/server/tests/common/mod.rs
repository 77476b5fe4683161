//! The server as clients meet it, over a small district with two of everything: two towns
//! (one community each), two banks, two carriers, a person in each town holding accounts and
//! SIMs, a transfer, log-ins, reports and a case. Every role has a logged-in user scoped to
//! town A, bank ICBC or carrier CMCC, so "own" data is town A's and "foreign" town B's.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use fanzha_core::schema::{Kind, Row, Value};
use fanzha_core::vocab::Role;
use fanzha_server::{Application, Settings};
use fanzha_store::{
    Batch, Item, Measure, NewWarning, Origin, ReasonSource, RiskEntity, Score, Store, WarnedEntity,
    WarningLevel, WarningReason,
};
use reqwest::StatusCode;
use serde_json::{json, Value as Json};

pub const PASSWORD: &str = "correct horse battery staple";

pub const DISTRICT: &str = "500103";
pub const TOWN_A: &str = "500103001";
pub const TOWN_B: &str = "500103002";
pub const COMMUNITY_A: &str = "500103001001";
pub const COMMUNITY_B: &str = "500103002001";
pub const BANK_A: &str = "ICBC";
pub const BANK_B: &str = "CCB";
pub const CARRIER_A: &str = "CMCC";
pub const CARRIER_B: &str = "CUCC";

/// A person in town A: holds an ICBC and a CCB account and a CMCC SIM.
pub const PERSON_A: &str = "500103199001011234";
pub const NAME_A: &str = "张三丰";
pub const PHONE_A: &str = "13812345678";
pub const ADDRESS_A: &str = "重庆市渝中区民族路88号";
/// A person in town B: holds a CCB account and a CUCC SIM.
pub const PERSON_B: &str = "500103198502025678";
pub const NAME_B: &str = "李四光";
pub const PHONE_B: &str = "13987654321";
pub const ACCOUNT_A: &str = "6222021234567890128";
/// Person A's account at the other bank: ICBC must never see it.
pub const ACCOUNT_A2: &str = "6217001234567894321";
pub const ACCOUNT_B: &str = "6217009876543210987";
pub const DEVICE_A: &str = "IMEI866123456789012";
pub const IP_A: &str = "10.2.33.44";

/// Every raw personal value of the district: none may appear in a masked answer.
pub const SECRETS: &[&str] = &[
    PERSON_A,
    PERSON_B,
    NAME_A,
    NAME_B,
    "张三",
    "李四",
    PHONE_A,
    PHONE_B,
    ADDRESS_A,
    "民族路",
    ACCOUNT_A,
    ACCOUNT_A2,
    ACCOUNT_B,
    DEVICE_A,
    IP_A,
    "1990-01-01",
    "19900101",
];

/// 2026-03-10T10:00:00+08:00: the district's data lies in early March 2026.
pub const T0: i64 = 1_773_108_000_000_000;
pub const HOUR: i64 = 3_600_000_000;

pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub client: reqwest::Client,
    /// The `Cookie` header of each role's logged-in user.
    pub cookies: BTreeMap<Role, String>,
    pub db: String,
    _dir: tempfile::TempDir,
}

/// Which part of the district a role's user works in.
pub fn tenancy(role: Role) -> (Option<&'static str>, Option<&'static str>) {
    match role {
        Role::BankOperator => (Some(BANK_A), None),
        Role::CarrierOperator => (Some(CARRIER_A), None),
        Role::StationLeader | Role::StationOfficer => (None, Some(TOWN_A)),
        Role::CommunityWorker => (None, Some(COMMUNITY_A)),
        _ => (None, None),
    }
}

/// A fresh schema on the test PostgreSQL, as a store target.
pub fn pg_target() -> String {
    fanzha_store::testing::fresh_pg_target("srv")
}

/// The application on port 0 over a fresh SQLite store, seeded, with a user per role.
pub async fn spawn() -> TestApp {
    spawn_on(None).await
}

/// As [`spawn`], on `db` (a PostgreSQL target) when given.
pub async fn spawn_on(db: Option<String>) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db = db.unwrap_or_else(|| dir.path().join("fanzha.db").to_str().unwrap().to_owned());
    let app = Application::build(Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: db.clone(),
    })
    .await
    .unwrap_or_else(|e| {
        panic!(
            "cannot start on {}: {e:?}",
            fanzha_store::redact_target(&db)
        )
    });
    let base = format!("http://127.0.0.1:{}", app.port());
    let store = app.store();
    tokio::spawn(app.run_until_stopped());
    let mut app = TestApp {
        base,
        store,
        client: reqwest::Client::new(),
        cookies: BTreeMap::new(),
        db,
        _dir: dir,
    };
    seed(&*app.store).await;
    seed_warnings(&*app.store).await;
    for &role in Role::ALL {
        let (inst, jur) = tenancy(role);
        let cookie = app.user(role.as_str(), role, inst, jur).await;
        app.cookies.insert(role, cookie);
    }
    app
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

pub async fn write(store: &dyn Store, kind: Kind, rows: Vec<Vec<Value>>) {
    let mut batch = Batch::new(kind);
    for (i, values) in rows.into_iter().enumerate() {
        assert_eq!(values.len(), kind.schema().columns.len(), "{kind:?}");
        batch.items.push(Item {
            row: Row {
                values,
                extra: None,
            },
            origin: Origin {
                file: format!("{}.csv", kind.as_str()).into(),
                line: i as u64 + 2,
                original: Vec::new(),
            },
        });
    }
    let outcome = store.write_batch(batch).await.unwrap();
    assert_eq!(outcome.rejected, 0, "{kind:?}: {outcome:?}");
}

pub async fn seed(store: &dyn Store) {
    let j = |code: &str, name: &str, level: &str, parent: &str| {
        vec![
            text(code),
            text(name),
            text(level),
            text(parent),
            Value::Null,
        ]
    };
    write(
        store,
        Kind::Jurisdictions,
        vec![
            j(DISTRICT, "渝中区", "district", "500100"),
            j(TOWN_A, "解放碑街道", "town", DISTRICT),
            j(TOWN_B, "七星岗街道", "town", DISTRICT),
            j(COMMUNITY_A, "民族路社区", "community", TOWN_A),
            j(COMMUNITY_B, "通远门社区", "community", TOWN_B),
        ],
    )
    .await;
    let inst = |code: &str, name: &str, kind: &str| vec![text(code), text(name), text(kind)];
    write(
        store,
        Kind::Institutions,
        vec![
            inst(BANK_A, "工商银行", "bank"),
            inst(BANK_B, "建设银行", "bank"),
            inst(CARRIER_A, "中国移动", "carrier"),
            inst(CARRIER_B, "中国联通", "carrier"),
        ],
    )
    .await;
    let person =
        |id: &str, name: &str, community: &str, phone: &str, address: &str, birth: &str| {
            vec![
                text(id),
                text("resident_id"),
                text(name),
                text(community),
                text(phone),
                text(address),
                Value::Null,
                text(birth),
            ]
        };
    write(
        store,
        Kind::Persons,
        vec![
            person(
                PERSON_A,
                NAME_A,
                COMMUNITY_A,
                PHONE_A,
                ADDRESS_A,
                "1990-01-01",
            ),
            person(
                PERSON_B,
                NAME_B,
                COMMUNITY_B,
                PHONE_B,
                "重庆市渝中区中山一路7号",
                "1985-02-02",
            ),
        ],
    )
    .await;
    let account = |id: &str, bank: &str, holder: &str| {
        vec![
            text(id),
            text(bank),
            text(holder),
            Value::Int(T0 - 900 * 24 * HOUR),
            text("I"),
            text("active"),
        ]
    };
    write(
        store,
        Kind::Accounts,
        vec![
            account(ACCOUNT_A, BANK_A, PERSON_A),
            account(ACCOUNT_A2, BANK_B, PERSON_A),
            account(ACCOUNT_B, BANK_B, PERSON_B),
        ],
    )
    .await;
    let sim = |msisdn: &str, carrier: &str, holder: &str| {
        vec![
            text(msisdn),
            Value::Int(T0 - 800 * 24 * HOUR),
            text(carrier),
            text(holder),
            text("personal"),
            Value::Null,
        ]
    };
    write(
        store,
        Kind::Sims,
        vec![
            sim(PHONE_A, CARRIER_A, PERSON_A),
            sim(PHONE_B, CARRIER_B, PERSON_B),
        ],
    )
    .await;
    write(
        store,
        Kind::Transactions,
        vec![vec![
            text("TX0001"),
            Value::Int(T0),
            text(ACCOUNT_A),
            text(ACCOUNT_B),
            Value::Int(5_000_000),
            text("mobile"),
            text("货款"),
            text(DEVICE_A),
            text(IP_A),
            Value::Null,
            text("card"),
            text("card"),
        ]],
    )
    .await;
    write(
        store,
        Kind::Logins,
        vec![vec![
            text("LG0001"),
            Value::Int(T0 - HOUR),
            text(ACCOUNT_A),
            text(DEVICE_A),
            text(IP_A),
            Value::Null,
        ]],
    )
    .await;
    let report = |id: &str, ts: i64, victim: &str, typology: &str, loss: i64, community: &str| {
        vec![
            text(id),
            Value::Int(ts),
            text(victim),
            text(typology),
            Value::Int(loss),
            Value::Null,
            text(community),
            text("110"),
        ]
    };
    write(
        store,
        Kind::Reports,
        vec![
            report(
                "R0001",
                T0 + HOUR,
                PERSON_A,
                "fake_investment",
                5_000_000,
                COMMUNITY_A,
            ),
            report(
                "R0002",
                T0 + 2 * HOUR,
                PERSON_B,
                "romance",
                1_230_050,
                COMMUNITY_B,
            ),
        ],
    )
    .await;
    write(
        store,
        Kind::Cases,
        vec![vec![
            text("C0001"),
            Value::Int(T0 + 3 * HOUR),
            text("R0001"),
            Value::Null,
            Value::Null,
            Value::Null,
        ]],
    )
    .await;
}

/// A warning as the risk engine would store it: a rule hit and a feature's contribution.
pub fn new_warning(
    kind: RiskEntity,
    id: &str,
    institution: &str,
    score: u8,
    level: WarningLevel,
    pattern: &str,
) -> NewWarning {
    NewWarning {
        entity: WarnedEntity::new(kind, id),
        institution_code: institution.to_owned(),
        score: Score::new(score).unwrap(),
        level,
        pattern: pattern.to_owned(),
        reasons: vec![
            WarningReason {
                code: "acct_pass_through_fast".to_owned(),
                source: ReasonSource::Rule,
                text_zh: "资金快进快出：24小时内转出占转入的98%".to_owned(),
                text_en: "Money in and straight out: 98% of inflow left within 24 h".to_owned(),
                contribution: 0.62,
            },
            WarningReason {
                code: "fan_in_24h".to_owned(),
                source: ReasonSource::Feature,
                text_zh: "24小时内收款来源 14 个".to_owned(),
                text_en: "14 distinct payers in 24 h".to_owned(),
                contribution: 0.25,
            },
        ],
        measure: Measure::LimitNonCounter,
        model_version: None,
        rules_version: Some("rules-abc123".to_owned()),
        at: T0 + 5 * HOUR,
        first_warned_at: Some(T0 + 4 * HOUR),
    }
}

/// The district's warnings: one on each account and SIM. Town A's are person A's ICBC
/// account (red, mule), CCB account (orange, sold card) and CMCC SIM (red, scam-caller
/// SIM); town B's are person B's CCB account (orange, runner) and CUCC SIM (yellow).
pub async fn seed_warnings(store: &dyn Store) {
    use RiskEntity::{Account, Sim};
    use WarningLevel::{Orange, Red, Yellow};
    for w in [
        new_warning(Account, ACCOUNT_A, BANK_A, 92, Red, "mule"),
        new_warning(Account, ACCOUNT_A2, BANK_B, 71, Orange, "sold_card"),
        new_warning(Sim, PHONE_A, CARRIER_A, 88, Red, "scam_caller_sim"),
        new_warning(Account, ACCOUNT_B, BANK_B, 70, Orange, "runner"),
        new_warning(Sim, PHONE_B, CARRIER_B, 55, Yellow, "sim_box"),
    ] {
        assert!(store.warning_upsert(&w).await.unwrap().changed);
    }
}

/// What a caller is.
#[derive(Debug, Clone)]
pub enum Caller {
    Nobody,
    Cookie(String),
    Key(String),
}

impl TestApp {
    pub fn role(&self, role: Role) -> Caller {
        Caller::Cookie(self.cookies[&role].clone())
    }

    /// Adds a user and logs them in; returns the `Cookie` header to send.
    pub async fn user(
        &self,
        username: &str,
        role: Role,
        institution: Option<&str>,
        jurisdiction: Option<&str>,
    ) -> String {
        let account = fanzha_server::auth::Account {
            username,
            role,
            institution_code: institution,
            jurisdiction_code: jurisdiction,
        };
        fanzha_server::auth::add_user(&*self.store, &account, PASSWORD)
            .await
            .unwrap()
            .unwrap();
        self.login(username).await.expect("login")
    }

    pub async fn login(&self, username: &str) -> Option<String> {
        let res = self
            .client
            .post(format!("{}/api/v1/login", self.base))
            .json(&json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        if res.status() != StatusCode::OK {
            return None;
        }
        let set = res.headers()[reqwest::header::SET_COOKIE].to_str().unwrap();
        Some(set.split(';').next().unwrap().to_owned())
    }

    pub async fn key(&self, institution: &str, role: Role) -> (i64, String) {
        fanzha_server::auth::add_api_key(&*self.store, institution, role, "test")
            .await
            .unwrap()
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        caller: &Caller,
        body: Option<&Json>,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        match caller {
            Caller::Nobody => {}
            Caller::Cookie(c) => req = req.header(reqwest::header::COOKIE, c),
            Caller::Key(k) => req = req.bearer_auth(k),
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, caller: &Caller) -> (StatusCode, Json) {
        read(self.send(reqwest::Method::GET, path, caller, None).await).await
    }

    pub async fn post(
        &self,
        path: &str,
        caller: &Caller,
        body: Option<&Json>,
    ) -> (StatusCode, Json) {
        read(self.send(reqwest::Method::POST, path, caller, body).await).await
    }

    /// A handle of the `kind` entity with id `id`, from the analyst's search for it.
    pub async fn handle_of(&self, kind: &str, id: &str) -> String {
        let (status, body) = self
            .get(
                &format!("/api/v1/search?q={}", enc(id)),
                &self.role(Role::Analyst),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        find_hit(&body, kind, id)
            .unwrap_or_else(|| panic!("no {kind} {id} in {body}"))
            .to_owned()
    }
}

/// An entity id masked as the API masks ids of its kind.
pub fn masked_id(kind: &str, id: &str) -> String {
    match kind {
        "person" => fanzha_core::mask::id_number(id),
        "account" => fanzha_core::mask::card(id),
        "sim" => fanzha_core::mask::phone(id),
        other => panic!("no mask for {other}"),
    }
}

/// The handle of the search hit for this entity, if the search found it.
pub fn find_hit<'a>(search: &'a Json, kind: &str, id: &str) -> Option<&'a str> {
    let masked = masked_id(kind, id);
    search["hits"]
        .as_array()?
        .iter()
        .find(|h| h["entity"]["kind"] == kind && h["entity"]["id_masked"] == masked.as_str())
        .and_then(|h| h["entity"]["handle"].as_str())
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The status and the JSON body (every answer of the API is JSON; an error has the
/// `code`, `message`, `field` shape).
pub async fn read(res: reqwest::Response) -> (StatusCode, Json) {
    let status = res.status();
    let ct = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    assert!(
        ct.starts_with("application/json"),
        "{status}: content type {ct:?}: {text}"
    );
    let body: Json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    if !status.is_success() {
        assert!(body["code"].is_string(), "{body}");
        assert!(body["message"].is_string(), "{body}");
        assert!(
            body["field"].is_string() || body["field"].is_null(),
            "{body}"
        );
    }
    (status, body)
}

/// Panics if any raw personal value of the district appears in `body`.
pub fn assert_masked(what: &str, body: &Json) {
    let text = body.to_string();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what}: {secret} leaked in {text}");
    }
}
