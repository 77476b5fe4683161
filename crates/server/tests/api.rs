//! The server as clients meet it: the real [`Application`] on port 0 over a fresh SQLite
//! store in its own temp directory, driven over HTTP.

use std::sync::Arc;

use fanzha_core::schema::{Kind, Row, Value};
use fanzha_core::vocab::Role;
use fanzha_server::{Application, Settings, BODY_LIMIT_BYTES};
use fanzha_store::{Batch, Item, Origin, Store};
use reqwest::StatusCode;

struct TestApp {
    base: String,
    store: Arc<dyn Store>,
    client: reqwest::Client,
    /// The `Cookie` header of a logged-in analyst.
    analyst: String,
    _dir: tempfile::TempDir,
}

const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// A GET as the logged-in analyst.
    async fn get(&self, path: &str) -> reqwest::Response {
        self.get_as(path, Some(&self.analyst)).await
    }

    async fn get_as(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(c) = cookie {
            req = req.header(reqwest::header::COOKIE, c);
        }
        req.send().await.unwrap()
    }

    async fn post_login(&self, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(format!("{}/api/v1/login", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Adds a user with this role and logs them in; returns the `Cookie` header to send.
    async fn user(&self, username: &str, role: Role) -> String {
        self.user_in(username, role, None, None).await
    }

    /// As [`TestApp::user`], working for an institution or in a jurisdiction.
    async fn user_in(
        &self,
        username: &str,
        role: Role,
        institution_code: Option<&str>,
        jurisdiction_code: Option<&str>,
    ) -> String {
        let account = fanzha_server::auth::Account {
            username,
            role,
            institution_code,
            jurisdiction_code,
        };
        fanzha_server::auth::add_user(&*self.store, &account, PASSWORD)
            .await
            .unwrap()
            .unwrap();
        let res = self
            .post_login(serde_json::json!({ "username": username, "password": PASSWORD }))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let set = res.headers()[reqwest::header::SET_COOKIE].to_str().unwrap();
        set.split(';').next().unwrap().to_owned()
    }

    /// Parses an error body and checks its shape: code, message, field (maybe null).
    async fn error_body(res: reqwest::Response) -> (StatusCode, serde_json::Value) {
        let status = res.status();
        let ct = res.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(ct.starts_with("application/json"), "content type {ct}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["code"].is_string(), "{body}");
        assert!(body["message"].is_string(), "{body}");
        assert!(
            body["field"].is_string() || body["field"].is_null(),
            "{body}"
        );
        (status, body)
    }

    async fn seed_person(&self, id: &str, name: &str, phone: &str) {
        let text = |s: &str| Value::Text(s.to_owned());
        let item = Item {
            row: Row {
                values: vec![
                    text(id),
                    text("resident_id"),
                    text(name),
                    text("500103001001"),
                    text(phone),
                    text("重庆市渝中区某路1号"),
                    Value::Null,
                    text("1990-01-01"),
                ],
                extra: None,
            },
            origin: Origin {
                file: "persons.csv".into(),
                line: 2,
                original: Vec::new(),
            },
        };
        let mut batch = Batch::new(Kind::Persons);
        batch.items.push(item);
        self.store.write_batch(batch).await.unwrap();
    }
}

async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fanzha.db").to_str().unwrap().to_owned();
    let app = Application::build(Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        db,
    })
    .await
    .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let store = app.store();
    tokio::spawn(app.run_until_stopped());
    let mut app = TestApp {
        base,
        store,
        client: reqwest::Client::new(),
        analyst: String::new(),
        _dir: dir,
    };
    app.analyst = app.user("analyst", Role::Analyst).await;
    app
}

#[tokio::test]
async fn healthz_answers_ok_when_the_store_does() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "status": "ok" }));
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.get("/healthz").await;
    app.get("/healthz").await;
    app.get("/no/such/route").await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(
        text.contains(
            "fanzha_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "fanzha_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("fanzha_http_request_duration_seconds_count{route=\"/healthz\"} 2"),
        "{text}"
    );
    assert!(text.contains("# TYPE fanzha_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn openapi_document_lists_the_api() {
    let app = spawn_app().await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: serde_json::Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/persons/{person_id}",
        "/api/v1/search",
        "/api/v1/entities/{handle}",
        "/api/v1/reveal",
        "/api/v1/dashboard",
        "/api/v1/warnings",
        "/api/v1/warnings/{handle}",
        "/api/v1/warnings/{handle}/feedback",
        "/api/v1/warnings/precision",
        "/api/v1/warnings/{handle}/appeals",
        "/api/v1/appeals",
        "/api/v1/appeals/{id}/decision",
        "/api/v1/governance/thresholds",
        "/api/v1/governance/rules",
        "/api/v1/governance/models",
        "/api/v1/governance/drift",
        "/api/v1/governance/institutions",
        "/api/v1/admin/operations",
        "/api/v1/admin/outbox/resend-dead",
        "/api/v1/admin/users",
        "/api/v1/admin/users/{username}/disable",
        "/api/v1/admin/users/{username}/enable",
        "/api/v1/admin/keys",
        "/api/v1/admin/keys/{id}/revoke",
        "/api/v1/audit",
        "/api/v1/audit/verify",
        "/api/v1/audit/flags",
        "/api/v1/audit/flags/{id}/review",
        "/api/v1/login",
        "/api/v1/logout",
        "/healthz",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "missing {p}: {:?}", paths.keys());
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("PersonView") && schemas.contains_key("ErrorBody"));
    for s in [
        "ProfileView",
        "HitView",
        "RevealView",
        "DashboardView",
        "AuditPageView",
        "WarningPageView",
        "WarningView",
        "PrecisionView",
        "FeedbackRequest",
    ] {
        assert!(schemas.contains_key(s), "missing schema {s}");
    }
    // Every endpoint under /api/v1 but login is protected, says so, and documents 401.
    for (path, item) in paths {
        if !path.starts_with("/api/v1/") || path == "/api/v1/login" {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["security"].as_array().is_some_and(|s| !s.is_empty()),
                "{method} {path} declares no security"
            );
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path} does not document 401"
            );
        }
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], "fanzha_session");
    assert_eq!(schemes["api_key"]["scheme"], "bearer");
    let person = &doc["paths"]["/api/v1/persons/{person_id}"]["get"];
    assert_eq!(
        person["security"].as_array().map(Vec::len),
        Some(2),
        "{person}"
    );
    for status in ["200", "401", "403", "404"] {
        assert!(
            person["responses"][status].is_object(),
            "{status} undocumented"
        );
    }
}

#[tokio::test]
async fn a_person_is_masked() {
    let app = spawn_app().await;
    app.seed_person("500103199001011234", "张三", "13812345678")
        .await;
    let res = app.get("/api/v1/persons/500103199001011234").await;
    assert_eq!(res.status(), StatusCode::OK);
    let raw = res.text().await.unwrap();
    for secret in ["199001011234", "张三", "13812345678", "1990-01-01", "某路"] {
        assert!(!raw.contains(secret), "{secret} leaked in {raw}");
    }
    let body: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(body["id_number"], "500103********1234");
    assert_eq!(body["name"], "张*");
    assert_eq!(body["phone"], "138****5678");
    assert_eq!(body["community_code"], "500103001001");
}

#[tokio::test]
async fn every_person_lookup_is_audited() {
    let app = spawn_app().await;
    app.seed_person("500103199001011234", "张三", "13812345678")
        .await;
    app.get("/api/v1/persons/500103199001011234").await;
    app.get("/api/v1/persons/500103199001019999").await;
    let log = app.store.audit_list().await.unwrap();
    let views: Vec<serde_json::Value> = log
        .iter()
        .filter(|e| e.action == "lookup.person")
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect();
    assert_eq!(
        views,
        [
            serde_json::json!({ "id": "500103199001011234", "community": "500103001001", "found": true, "in_scope": true }),
            serde_json::json!({ "id": "500103199001019999", "community": null, "found": false, "in_scope": true }),
        ]
    );
    assert!(log
        .iter()
        .filter(|e| e.action == "lookup.person")
        .all(|e| e.actor == "user:analyst"));
    assert_eq!(fanzha_store::verify_audit_chain(&log), None);
}

#[tokio::test]
async fn a_missing_person_is_404_json() {
    let app = spawn_app().await;
    let (status, body) =
        TestApp::error_body(app.get("/api/v1/persons/500103199001019999").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "person_not_found");
    assert_eq!(body["field"], "person_id");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let app = spawn_app().await;
    let (status, body) = TestApp::error_body(app.get("/nope").await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("route_not_found"))
    );
    let res = app
        .client
        .delete(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    let (status, body) = TestApp::error_body(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
}

#[tokio::test]
async fn injection_and_traversal_strings_are_harmless() {
    let app = spawn_app().await;
    app.seed_person("500103199001011234", "张三", "13812345678")
        .await;
    // Percent-encoded so they reach the handler as the person id.
    for id in [
        "%27%20OR%20%271%27%3D%271",
        "1%27%3B%20DROP%20TABLE%20persons%3B--",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "500103199001011234%27%20--",
        "%00",
    ] {
        let (status, body) =
            TestApp::error_body(app.get(&format!("/api/v1/persons/{id}")).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {body}");
        assert_eq!(body["code"], "person_not_found", "{id}");
    }
    // Unencoded traversal is resolved by the client and the router: no route, never a file.
    for path in [
        "/api/v1/persons/../../../etc/passwd",
        "/api/v1/persons/..%2F..%2F/../etc/passwd",
    ] {
        let (status, _) = TestApp::error_body(app.get(path).await).await;
        assert!(status.is_client_error(), "{path}: {status}");
    }
    // Bytes that are not UTF-8 are a bad parameter, not a crash.
    let (status, body) = TestApp::error_body(app.get("/api/v1/persons/%FF%FE").await).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("person_id"))
    );
    // The table is intact and the person still there.
    assert_eq!(
        app.get("/api/v1/persons/500103199001011234").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_4xx_json() {
    let app = spawn_app().await;
    let big = vec![b'a'; BODY_LIMIT_BYTES + 1];
    let res = app
        .client
        .post(format!("{}/api/v1/persons/x", app.base))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (status, body) = TestApp::error_body(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
    let login = |body: &'static str, ct: &'static str| {
        app.client
            .post(format!("{}/api/v1/login", app.base))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    for (body, ct, status, code, field) in [
        ("{not json", "application/json", 400, "malformed_body", None),
        (
            "{\"username\":\"a\"}",
            "application/json",
            400,
            "malformed_body",
            Some("password"),
        ),
        ("[1,2,3]", "application/json", 400, "malformed_body", None),
        (
            "{\"username\":7,\"password\":\"x\"}",
            "application/json",
            400,
            "malformed_body",
            None,
        ),
        (
            "\u{0}\u{ff}",
            "application/json",
            400,
            "malformed_body",
            None,
        ),
        (
            "username=a&password=b",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
            None,
        ),
    ] {
        let (got, body_json) = TestApp::error_body(login(body, ct).await.unwrap()).await;
        assert_eq!(got.as_u16(), status, "{body}: {body_json}");
        assert_eq!(body_json["code"], code, "{body}");
        if let Some(f) = field {
            assert_eq!(body_json["field"], f, "{body}");
        }
    }
    let mut huge = String::from("{\"username\":\"a\",\"password\":\"");
    huge.push_str(&"x".repeat(BODY_LIMIT_BYTES));
    huge.push_str("\"}");
    let res = app
        .client
        .post(format!("{}/api/v1/login", app.base))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    let (status, _) = TestApp::error_body(res).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let long_id = "9".repeat(500);
    let (status, body) =
        TestApp::error_body(app.get(&format!("/api/v1/persons/{long_id}")).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_parameter"))
    );
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = spawn_app().await;
    for path in [
        "/healthz",
        "/api/openapi.json",
        "/api/v1/persons/x",
        "/nope",
    ] {
        let res = app.get(path).await;
        let h = res.headers();
        assert_eq!(h["content-security-policy"], "default-src 'self'", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
    }
}

#[tokio::test]
async fn shutdown_finishes_and_frees_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let app = Application::build(Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: dir.path().join("f.db").to_str().unwrap().to_owned(),
    })
    .await
    .unwrap();
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let res = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(reqwest::get(format!("http://{addr}/healthz"))
        .await
        .is_err());
}

#[tokio::test]
async fn the_person_endpoint_needs_a_session() {
    let app = spawn_app().await;
    app.seed_person("500103199001011234", "张三", "13812345678")
        .await;
    let path = "/api/v1/persons/500103199001011234";
    for cookie in [
        None,
        Some("fanzha_session=".to_owned() + &"0".repeat(64)),
        Some("fanzha_session=not-a-token".to_owned()),
        Some("other=1".to_owned()),
    ] {
        let (status, body) = TestApp::error_body(app.get_as(path, cookie.as_deref()).await).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
            "{cookie:?}"
        );
        assert!(!body.to_string().contains("张"));
    }
}

#[tokio::test]
async fn roles_without_business_with_people_get_403() {
    let app = spawn_app().await;
    app.seed_person("500103199001011234", "张三", "13812345678")
        .await;
    let path = "/api/v1/persons/500103199001011234";
    for (name, role) in [
        ("bank", Role::BankOperator),
        ("carrier", Role::CarrierOperator),
        ("pub", Role::Publicity),
        ("admin", Role::Admin),
    ] {
        let cookie = app.user(name, role).await;
        let (status, body) = TestApp::error_body(app.get_as(path, Some(&cookie)).await).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{role}"
        );
    }
    // A station officer without a jurisdiction sees nothing rather than everything.
    let adrift = app.user("adrift", Role::StationOfficer).await;
    assert_eq!(
        app.get_as(path, Some(&adrift)).await.status(),
        StatusCode::FORBIDDEN
    );
    let officer = app
        .user_in("officer", Role::StationOfficer, None, Some("500103001001"))
        .await;
    assert_eq!(
        app.get_as(path, Some(&officer)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn login_sets_a_locked_down_cookie_and_wrong_passwords_say_nothing_more() {
    let app = spawn_app().await;
    let res = app
        .post_login(serde_json::json!({ "username": "analyst", "password": PASSWORD }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let set = res.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for attr in [
        "fanzha_session=",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "username": "analyst", "role": "analyst" })
    );

    let wrong = app
        .post_login(serde_json::json!({ "username": "analyst", "password": "guess" }))
        .await;
    let unknown = app
        .post_login(serde_json::json!({ "username": "nobody", "password": PASSWORD }))
        .await;
    for res in [wrong, unknown] {
        assert!(res.headers().get(reqwest::header::SET_COOKIE).is_none());
        let (status, body) = TestApp::error_body(res).await;
        assert_eq!(
            (status, body["code"].as_str(), body["message"].as_str()),
            (
                StatusCode::UNAUTHORIZED,
                Some("invalid_credentials"),
                Some("wrong username or password")
            )
        );
    }
    let log = app.store.audit_list().await.unwrap();
    assert_eq!(
        log.iter()
            .filter(|e| e.action == "api.login.failed")
            .count(),
        2
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let path = "/api/v1/persons/500103199001019999";
    assert_eq!(app.get(path).await.status(), StatusCode::NOT_FOUND);
    let res = app
        .client
        .post(format!("{}/api/v1/logout", app.base))
        .header(reqwest::header::COOKIE, &app.analyst)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(app.get(path).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failed_logins_are_refused_for_a_while() {
    let app = spawn_app().await;
    let wrong = serde_json::json!({ "username": "analyst", "password": "guess" });
    for _ in 0..fanzha_server::ratelimit::MAX_FAILURES_PER_USER {
        assert_eq!(
            app.post_login(wrong.clone()).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Now even the right password waits: the guesser cannot tell it was right.
    let right = serde_json::json!({ "username": "analyst", "password": PASSWORD });
    let res = app.post_login(right).await;
    let retry_after: u64 = res.headers()[reqwest::header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= fanzha_server::ratelimit::WINDOW.as_secs());
    let (status, body) = TestApp::error_body(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
    );
    // Other users are not locked out by someone guessing at this one.
    app.user("second", Role::Analyst).await;
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let app = spawn_app().await;
    let login = serde_json::json!({ "username": "analyst", "password": PASSWORD });
    let post = |headers: &[(&'static str, String)]| {
        let mut req = app
            .client
            .post(format!("{}/api/v1/login", app.base))
            .json(&login);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        req.send()
    };
    for headers in [
        vec![("origin", "http://evil.example".to_owned())],
        vec![("origin", "null".to_owned())],
        vec![("sec-fetch-site", "cross-site".to_owned())],
    ] {
        let (status, body) = TestApp::error_body(post(&headers).await.unwrap()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("cross_site_request")),
            "{headers:?}"
        );
    }
    let same = app.base.clone();
    let res = post(&[
        ("origin", same),
        ("sec-fetch-site", "same-origin".to_owned()),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "same-origin login");
    // Reads are not writes: a cross-site GET still answers (and still needs a session).
    let res = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn institutions_call_with_keys_until_revoked() {
    let app = spawn_app().await;
    app.seed_person("500103199001011234", "张三", "13812345678")
        .await;
    let (id, key) =
        fanzha_server::auth::add_api_key(&*app.store, "ICBC", Role::BankOperator, "core banking")
            .await
            .unwrap();
    assert!(key.starts_with("fzk_") && key.len() == 68);
    let keys = app.store.api_key_list().await.unwrap();
    assert!(
        !format!("{keys:?}").contains(&key[4..]),
        "the key itself is not stored"
    );

    let with = |auth: String| {
        app.client
            .get(format!("{}/api/v1/persons/500103199001011234", app.base))
            .header("authorization", auth)
            .send()
    };
    // Known: authenticated, and a bank sees only its own customers (this person holds no
    // account there, so to the bank they do not exist).
    let (status, body) = TestApp::error_body(with(format!("Bearer {key}")).await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("person_not_found"))
    );
    let analyst_key =
        fanzha_server::auth::add_api_key(&*app.store, "CENTRE", Role::Analyst, "integration")
            .await
            .unwrap()
            .1;
    assert_eq!(
        with(format!("Bearer {analyst_key}"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let log = app.store.audit_list().await.unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "lookup.person" && e.actor.ends_with(":CENTRE")));

    assert!(app.store.api_key_revoke(id).await.unwrap());
    let mut forged = key.clone();
    forged.replace_range(10..11, if &key[10..11] == "a" { "b" } else { "a" });
    for auth in [
        format!("Bearer {key}"),
        format!("Bearer {forged}"),
        format!("Bearer {}", &key[..20]),
        format!("Basic {key}"),
        "Bearer ".to_owned(),
    ] {
        let (status, body) = TestApp::error_body(with(auth.clone()).await.unwrap()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
            "{auth}"
        );
    }
    // A bad key is not rescued by a good cookie beside it.
    let res = app
        .client
        .get(format!("{}/api/v1/persons/500103199001011234", app.base))
        .header("authorization", format!("Bearer {key}"))
        .header("cookie", &app.analyst)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
