//! The web console as a browser meets it: the real [`Application`] on port 0 over a fresh
//! SQLite store with a small seeded district, driven over HTTP with forms, cookies and
//! redirects handled by hand (so every 303 and `Set-Cookie` is checked, not followed).

use std::sync::Arc;

use fanzha_core::schema::{Kind, Row, Value};
use fanzha_core::vocab::Role;
use fanzha_server::{Application, Settings};
use fanzha_store::{Batch, Item, Origin, Store};
use reqwest::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE,
};
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery staple";

struct TestApp {
    base: String,
    store: Arc<dyn Store>,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// A logged-in browser: its session cookie and the form token of its pages.
struct Session {
    cookie: String,
    csrf: String,
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
    TestApp {
        base,
        store,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _dir: dir,
    }
}

impl TestApp {
    async fn add_user(&self, username: &str, role: Role) {
        self.add_scoped_user(username, role, None, None).await;
    }

    async fn add_scoped_user(
        &self,
        username: &str,
        role: Role,
        institution_code: Option<&str>,
        jurisdiction_code: Option<&str>,
    ) {
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
    }

    async fn post_login(&self, username: &str, password: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/console/login", self.base))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .unwrap()
    }

    /// Adds a user with this role, logs in through the form, and reads the form token off
    /// the first page.
    async fn login(&self, username: &str, role: Role) -> Session {
        self.add_user(username, role).await;
        self.login_existing(username).await
    }

    async fn login_existing(&self, username: &str) -> Session {
        let res = self.post_login(username, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()[LOCATION], "/console/dashboard");
        let cookie = res.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let mut s = Session {
            cookie,
            csrf: String::new(),
        };
        // Every page of a logged-in user carries the logout form, hence the token.
        let html = self.page(&s, "/console/no-such-page").await.1;
        s.csrf = attr_after(&html, "name=\"csrf\" value=\"").expect("a form token");
        s
    }

    async fn get(&self, s: Option<&Session>, path: &str) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(s) = s {
            req = req.header(COOKIE, &s.cookie);
        }
        req.send().await.unwrap()
    }

    /// A page's status and HTML.
    async fn page(&self, s: &Session, path: &str) -> (StatusCode, String) {
        let res = self.get(Some(s), path).await;
        let status = res.status();
        (status, res.text().await.unwrap())
    }

    async fn post(&self, s: &Session, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &s.cookie)
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

// ---- The seeded district ----
//
// Two communities in two towns of district 500103. 张三丰 lives in the first and holds an
// ICBC card and a phone; 李四 lives in the second, holds a CCB card, paid 张三丰's card, and
// reported a fake-investment loss of 12,345.67 yuan that became a case.

const ZHANG_ID: &str = "500103199001011236";
const ZHANG_NAME: &str = "张三丰";
const ZHANG_PHONE: &str = "13812345678";
const ZHANG_CARD: &str = "6222021234567890128";
const ZHANG_ADDRESS: &str = "重庆市渝中区解放碑路88号";
const LI_ID: &str = "500103198502023344";
const LI_NAME: &str = "李四";
const LI_CARD: &str = "6217003300001234567";
const COMMUNITY_ZHANG: &str = "500103001001";
const COMMUNITY_LI: &str = "500103002001";
/// 2026-03-10T10:00:00+08:00.
const REPORT_AT: i64 = 1_773_108_000_000_000;

fn t(s: &str) -> Value {
    Value::Text(s.to_owned())
}

impl TestApp {
    async fn write(&self, kind: Kind, rows: Vec<Vec<Value>>) {
        let mut batch = Batch::new(kind);
        for (i, values) in rows.into_iter().enumerate() {
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
        let out = self.store.write_batch(batch).await.unwrap();
        assert_eq!(out.rejected, 0, "{kind:?}: {:?}", out.conflicts);
    }

    async fn seed(&self) {
        use Value::{Int, Null};
        self.write(
            Kind::Jurisdictions,
            vec![
                vec![t("500103"), t("渝中区"), t("district"), t("500100"), Null],
                vec![
                    t("500103001"),
                    t("解放碑街道"),
                    t("town"),
                    t("500103"),
                    t("解放碑派出所"),
                ],
                vec![
                    t("500103002"),
                    t("七星岗街道"),
                    t("town"),
                    t("500103"),
                    t("七星岗派出所"),
                ],
                vec![
                    t(COMMUNITY_ZHANG),
                    t("解放碑社区"),
                    t("community"),
                    t("500103001"),
                    Null,
                ],
                vec![
                    t(COMMUNITY_LI),
                    t("七星岗社区"),
                    t("community"),
                    t("500103002"),
                    Null,
                ],
            ],
        )
        .await;
        self.write(
            Kind::Institutions,
            vec![
                vec![t("ICBC"), t("工商银行"), t("bank")],
                vec![t("CCB"), t("建设银行"), t("bank")],
                vec![t("CMCC"), t("中国移动"), t("carrier")],
            ],
        )
        .await;
        self.write(
            Kind::Persons,
            vec![
                vec![
                    t(ZHANG_ID),
                    t("resident"),
                    t(ZHANG_NAME),
                    t(COMMUNITY_ZHANG),
                    t(ZHANG_PHONE),
                    t(ZHANG_ADDRESS),
                    t("elderly"),
                    t("1990-01-01"),
                ],
                vec![
                    t(LI_ID),
                    t("resident"),
                    t(LI_NAME),
                    t(COMMUNITY_LI),
                    Null,
                    Null,
                    Null,
                    t("1985-02-02"),
                ],
            ],
        )
        .await;
        let opened = REPORT_AT - 200 * 86_400_000_000;
        self.write(
            Kind::Accounts,
            vec![
                vec![
                    t(ZHANG_CARD),
                    t("ICBC"),
                    t(ZHANG_ID),
                    Int(opened),
                    t("I"),
                    t("active"),
                ],
                vec![
                    t(LI_CARD),
                    t("CCB"),
                    t(LI_ID),
                    Int(opened),
                    t("I"),
                    t("active"),
                ],
            ],
        )
        .await;
        self.write(
            Kind::Sims,
            vec![vec![
                t(ZHANG_PHONE),
                Int(opened),
                t("CMCC"),
                t(ZHANG_ID),
                t("personal"),
                Null,
            ]],
        )
        .await;
        self.write(
            Kind::Transactions,
            vec![vec![
                t("TX1"),
                Int(REPORT_AT - 3_600_000_000),
                t(LI_CARD),
                t(ZHANG_CARD),
                Int(1_234_567),
                t("mobile_banking"),
                Null,
                Null,
                Null,
                Null,
                t("card"),
                t("card"),
            ]],
        )
        .await;
        self.write(
            Kind::Reports,
            vec![vec![
                t("R1"),
                Int(REPORT_AT),
                t(LI_ID),
                t("fake_investment"),
                Int(1_234_567),
                t("投资理财平台无法提现"),
                t(COMMUNITY_LI),
                t("110"),
            ]],
        )
        .await;
        self.write(
            Kind::Cases,
            vec![vec![
                t("C1"),
                Int(REPORT_AT + 3_600_000_000),
                t("R1"),
                Null,
                Null,
                Null,
            ]],
        )
        .await;
    }
}

/// Every raw personal value of the seeded district: none may appear in a page that did not
/// reveal it, in text, attributes or links.
const RAW: &[&str] = &[
    ZHANG_ID,
    ZHANG_NAME,
    ZHANG_PHONE,
    ZHANG_CARD,
    ZHANG_ADDRESS,
    LI_ID,
    LI_NAME,
    LI_CARD,
];

fn assert_masked(html: &str, page: &str) {
    for raw in RAW {
        assert!(!html.contains(raw), "{page} shows {raw}");
    }
}

/// The `href`s in a page that start with `prefix`, unescaped.
fn hrefs(html: &str, prefix: &str) -> Vec<String> {
    let needle = format!("href=\"{prefix}");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&needle) {
        let start = i + "href=\"".len();
        let end = rest[start..].find('"').map_or(rest.len(), |e| start + e);
        out.push(rest[start..end].replace("&#38;", "&"));
        rest = &rest[end..];
    }
    out
}

/// The value of the first attribute that follows `prefix` (up to the closing quote).
fn attr_after(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(prefix)? + prefix.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

#[tokio::test]
async fn the_root_and_logged_out_pages_lead_to_the_login_form() {
    let app = spawn_app().await;
    let res = app.get(None, "/").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/console/dashboard");
    for path in [
        "/console",
        "/console/dashboard",
        "/console/search?q=x",
        "/console/admin/users",
        "/console/audit",
    ] {
        let res = app.get(None, path).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        let to = res.headers()[LOCATION].to_str().unwrap();
        assert!(
            to == "/console/login" || path == "/console",
            "{path} → {to}"
        );
    }
    let res = app.get(None, "/console/login").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    for needle in [
        "name=\"username\"",
        "name=\"password\"",
        "type=\"submit\"",
        "action=\"/console/login\"",
        "lang=\"zh-CN\"",
    ] {
        assert!(html.contains(needle), "login form lacks {needle}");
    }
}

#[tokio::test]
async fn logging_in_through_the_form_sets_the_session_and_logging_out_ends_it() {
    let app = spawn_app().await;
    app.add_user("ana", Role::Analyst).await;

    let res = app.post_login("ana", "wrong password!").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get(SET_COOKIE).is_none());
    let html = res.text().await.unwrap();
    assert!(html.contains("data-testid=\"error\""), "{html}");
    assert!(html.contains("name=\"password\""), "the form comes again");
    assert!(html.contains("value=\"ana\""), "the name is kept");

    let s = app.login_existing("ana").await;
    let set_cookie_attrs = app.post_login("ana", PASSWORD).await.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for attr in ["fanzha_session=", "HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(set_cookie_attrs.contains(attr), "{set_cookie_attrs}");
    }
    // The console session is the API's session.
    let res = app.get(Some(&s), "/console/login").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "logged in already");
    let (status, html) = app.page(&s, "/console/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        html.contains(">ana<") && html.contains("data-testid=\"role\""),
        "{html}"
    );

    // Logout needs the form token too, and the token of this very session.
    let res = app
        .post(&s, "/console/logout", &[("csrf", "0".repeat(64).as_str())])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let other = app.login("bob", Role::Analyst).await;
    assert_ne!(other.csrf, s.csrf);
    let res = app
        .post(&s, "/console/logout", &[("csrf", &other.csrf)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("data-testid=\"error\""));
    let res = app.post(&s, "/console/logout", &[("csrf", &s.csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/console/login");
    assert!(res.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let res = app.get(Some(&s), "/console/dashboard").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the session is over");

    let actions: Vec<String> = app
        .store
        .audit_list()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in ["console.login.failed", "console.login", "console.logout"] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} not audited: {actions:?}"
        );
    }
}

#[tokio::test]
async fn failed_logins_are_limited_like_the_apis() {
    let app = spawn_app().await;
    app.add_user("ana", Role::Analyst).await;
    for _ in 0..5 {
        let res = app.post_login("ana", "wrong password!").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.post_login("ana", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    assert!(res.text().await.unwrap().contains("data-testid=\"error\""));
    // A malformed form is a 400 page, not a 500.
    let res = app
        .client
        .post(format!("{}/console/login", app.base))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("username=ana")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("data-testid=\"error\""));
}

#[tokio::test]
async fn console_pages_carry_the_strict_policy_and_are_never_cached() {
    let app = spawn_app().await;
    let s = app.login("ana", Role::Analyst).await;
    for path in ["/console/login", "/console/nowhere"] {
        let res = app.get(Some(&s), path).await;
        let h = res.headers();
        let csp = h[CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"));
        assert!(!csp.contains("script-src"), "no script is allowed at all");
        assert_eq!(h[CACHE_CONTROL], "no-store", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
    }
    // The API keeps its own policy.
    let res = app.get(None, "/healthz").await;
    assert_eq!(res.headers()[CONTENT_SECURITY_POLICY], "default-src 'self'");
    // The stylesheet is served by the console itself.
    let res = app.get(None, "/console/static/console.css").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
}

#[tokio::test]
async fn the_english_switch_changes_the_labels_and_sticks() {
    let app = spawn_app().await;
    let res = app.get(None, "/console/login?lang=en").await;
    let set = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set.starts_with("fanzha_lang=en"), "{set}");
    let html = res.text().await.unwrap();
    assert!(
        html.contains("lang=\"en\"") && html.contains("Username"),
        "{html}"
    );
    assert!(!html.contains("用户名"));

    let res = app
        .client
        .get(format!("{}/console/login", app.base))
        .header(COOKIE, "fanzha_lang=en")
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("Username"));
    let html = app.get(None, "/console/login").await.text().await.unwrap();
    assert!(html.contains("用户名"), "Chinese by default");
    assert!(html.contains("data-testid=\"lang-en\"") && html.contains("data-testid=\"lang-zh\""));
}

#[tokio::test]
async fn the_dashboard_shows_kpis_trend_charts_and_typologies() {
    let app = spawn_app().await;
    app.seed().await;
    let s = app.login("cmd", Role::Commander).await;
    let (status, html) = app.page(&s, "/console/dashboard").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for id in ["kpi-reports", "kpi-cases", "kpi-loss"] {
        assert!(html.contains(&format!("data-testid=\"{id}\"")), "no {id}");
    }
    for chart in ["trend-reports", "trend-loss"] {
        assert!(
            html.contains(&format!("<svg class=\"chart\" data-testid=\"{chart}\"")),
            "no {chart}"
        );
    }
    assert!(html.contains("12,345.67"), "the loss in yuan");
    assert!(html.contains("虚假投资理财"), "the typology, translated");
    assert!(
        html.contains("data-testid=\"figures-as-of\">统计于 "),
        "when the shared figures were computed"
    );
    assert!(html.contains("data-testid=\"panel-warnings\""));
    assert!(html.contains("data-testid=\"nav-dashboard\" class=\"active\""));
    // The window is a parameter; a bad one falls back to the default.
    let (status, html) = app.page(&s, "/console/dashboard?days=7").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("近 7 天"));
    let (status, _) = app.page(&s, "/console/dashboard?days=99999").await;
    assert_eq!(status, StatusCode::OK);
    // The typology table exports.
    let res = app.get(Some(&s), "/console/dashboard?format=csv").await;
    assert!(res.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    assert!(
        csv.contains("诈骗类型") && csv.contains("虚假投资理财,1,100.0%,\"12,345.67\""),
        "{csv}"
    );
}

#[tokio::test]
async fn search_finds_masked_hits_that_open_masked_profiles() {
    let app = spawn_app().await;
    app.seed().await;
    let s = app.login("ana", Role::Analyst).await;
    let (status, html) = app.page(&s, "/console/search").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"q\""));

    let (status, html) = app.page(&s, "/console/search?q=%E5%BC%A0").await; // 张
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(html.matches("data-testid=\"hit\"").count(), 1, "{html}");
    assert!(html.contains("张**"));
    assert_masked(&html, "search");
    let links = hrefs(&html, "/console/entity/");
    assert_eq!(links.len(), 1, "{links:?}");

    // The profile: attributes masked, links to the holdings, no raw value anywhere.
    let (status, html) = app.page(&s, &links[0]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_masked(&html, "profile");
    for key in ["name", "phone", "community_code", "address"] {
        assert!(
            html.contains(&format!("data-testid=\"attr-{key}\"")),
            "no attr-{key}"
        );
    }
    assert!(html.contains("138****5678"), "the phone, masked");
    assert!(
        html.contains("data-testid=\"reveal-submit\""),
        "an analyst may reveal"
    );
    let targets = hrefs(&html, "/console/entity/");
    assert!(
        targets.len() >= 2,
        "links to the card and the phone: {targets:?}"
    );
    for t in &targets {
        let (status, page) = app.page(&s, t).await;
        assert_eq!(status, StatusCode::OK, "{t}");
        assert_masked(&page, t);
    }

    // A search by card number finds the card; the raw number typed is not echoed as a link.
    let (status, html) = app.page(&s, &format!("/console/search?q={LI_CARD}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("data-testid=\"hit\"").count(), 1, "{html}");
    assert!(hrefs(&html, "/console/entity/")
        .iter()
        .all(|h| !h.contains(LI_CARD)));

    // Hostile input is harmless and answered on the form.
    let (status, html) = app
        .page(&s, "/console/search?q=%27%3B%20DROP%20TABLE%20persons%3B--")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("data-testid=\"hit\""));
    let (status, html) = app
        .page(&s, &format!("/console/search?q={}", "9".repeat(500)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("data-testid=\"error\""));
    // A handle this server did not issue is an error page in the frame that says so.
    let (status, html) = app.page(&s, "/console/entity/..%2F..%2Fetc%2Fpasswd").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("data-testid=\"error\"") && html.contains("重新检索"),
        "{html}"
    );
}

#[tokio::test]
async fn a_bank_operator_sees_only_its_own_banks_entities() {
    let app = spawn_app().await;
    app.seed().await;
    app.add_scoped_user("icbc", Role::BankOperator, Some("ICBC"), None)
        .await;
    let s = app.login_existing("icbc").await;
    let (_, html) = app
        .page(&s, &format!("/console/search?q={ZHANG_CARD}"))
        .await;
    assert_eq!(
        html.matches("data-testid=\"hit\"").count(),
        1,
        "its own card"
    );
    let (status, html) = app.page(&s, &format!("/console/search?q={LI_CARD}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        html.matches("data-testid=\"hit\"").count(),
        0,
        "another bank's card"
    );
    let (status, html) = app.page(&s, "/console/dashboard").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("data-testid=\"error\""));
    assert!(
        html.contains("data-testid=\"nav-search\""),
        "the frame shows what it may use"
    );
    assert!(!html.contains("data-testid=\"nav-dashboard\""));
}

/// Opens 张三丰's profile as `s` and returns its address.
async fn zhang_profile(app: &TestApp, s: &Session) -> String {
    let (_, html) = app.page(s, &format!("/console/search?q={ZHANG_ID}")).await;
    hrefs(&html, "/console/entity/")
        .into_iter()
        .next()
        .expect("a hit")
}

#[tokio::test]
async fn revealing_a_field_needs_a_reason_and_the_token_and_is_audited() {
    let app = spawn_app().await;
    app.seed().await;
    let s = app.login("ana", Role::Analyst).await;
    let profile = zhang_profile(&app, &s).await;
    let reveal = format!("{profile}/reveal");

    let res = app
        .post(
            &s,
            &reveal,
            &[("field", "name"), ("reason", "核查案件 C1 的资金流向")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no form token");

    let res = app
        .post(
            &s,
            &reveal,
            &[("csrf", &s.csrf), ("field", "name"), ("reason", "查")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("data-testid=\"error\"") && !html.contains("data-testid=\"revealed\""));
    assert_masked(&html, "a refused reveal");

    let res = app
        .post(
            &s,
            &reveal,
            &[
                ("csrf", &s.csrf),
                ("field", "name"),
                ("reason", "核查案件 C1 的资金流向"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("data-testid=\"revealed\">{ZHANG_NAME}<")),
        "{html}"
    );
    // Its links (the language switch among them) lead to pages a GET can open, never to
    // the reveal itself.
    assert!(html.contains("?lang=en\" lang=\"en\" data-testid=\"lang-en\""));
    for link in hrefs(&html, "/console/entity/") {
        assert!(!link.contains("/reveal"), "{link}");
    }

    // The auditor sees the reveal in the log, the id masked there.
    let auditor = app.login("aud", Role::Auditor).await;
    let (status, html) = app.page(&auditor, "/console/audit?action=reveal.").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        html.matches("data-testid=\"audit-row\"").count(),
        1,
        "{html}"
    );
    assert!(
        html.contains("user:ana") && html.contains("500103********1236"),
        "{html}"
    );
    assert_masked(&html, "audit log");

    // A commander reads profiles but may not reveal.
    let cmd = app.login("cmd", Role::Commander).await;
    let profile = zhang_profile(&app, &cmd).await;
    let (_, html) = app.page(&cmd, &profile).await;
    assert!(!html.contains("data-testid=\"reveal-submit\""));
    let res = app
        .post(
            &cmd,
            &format!("{profile}/reveal"),
            &[
                ("csrf", &cmd.csrf),
                ("field", "name"),
                ("reason", "核查案件 C1 的资金流向"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_masked(&res.text().await.unwrap(), "a commander's refused reveal");
}

#[tokio::test]
async fn admins_manage_users_and_keys_through_forms() {
    let app = spawn_app().await;
    let s = app.login("root", Role::Admin).await;
    let (status, html) = app.page(&s, "/console/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"user-root\""));

    let add = [
        ("csrf", s.csrf.as_str()),
        ("username", "officer1"),
        ("password", "a long enough passphrase"),
        ("role", "station_officer"),
        ("institution_code", ""),
        ("jurisdiction_code", COMMUNITY_ZHANG),
    ];
    let res = app.post(&s, "/console/admin/users", &add).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("data-testid=\"user-officer1\""), "{html}");
    assert!(!html.contains("a long enough passphrase"));
    // The same name again is refused on the form.
    let res = app.post(&s, "/console/admin/users", &add).await;
    assert!(res.status().is_client_error());
    assert!(res.text().await.unwrap().contains("data-testid=\"error\""));
    // Without the token nothing changes.
    let res = app
        .post(
            &s,
            "/console/admin/users/disable",
            &[("username", "officer1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post(
            &s,
            "/console/admin/users/disable",
            &[("csrf", &s.csrf), ("username", "officer1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let user = app.store.user_by_name("officer1").await.unwrap().unwrap();
    assert!(user.disabled_at.is_some());
    let back = res.headers()[LOCATION].to_str().unwrap().to_owned();
    let (_, html) = app.page(&s, &back).await;
    assert!(
        html.contains("data-testid=\"notice\">已更新用户 officer1。<"),
        "{html}"
    );
    // The administrator's own row has no disable button.
    let own_row = html.split("data-testid=\"user-root\"").nth(1).unwrap();
    let own_row = own_row.split("</tr>").next().unwrap();
    assert!(!own_row.contains("<button"), "{own_row}");

    let res = app.get(Some(&s), "/console/admin/users?format=csv").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}用户名,"), "{csv}");
    assert!(csv.contains("officer1,派出所民警"), "{csv}");

    let res = app
        .post(
            &s,
            "/console/admin/keys",
            &[
                ("csrf", &s.csrf),
                ("institution_code", "ICBC"),
                ("role", "bank_operator"),
                ("label", "core banking"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("data-testid=\"new-key\">fzk_"), "{html}");
    let (_, html) = app.page(&s, "/console/admin/keys").await;
    assert!(!html.contains(">fzk_"), "the key is shown once");
    let id = app.store.api_key_list().await.unwrap()[0].id.to_string();
    let res = app
        .post(
            &s,
            "/console/admin/keys/revoke",
            &[("csrf", &s.csrf), ("id", &id)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(app.store.api_key_list().await.unwrap()[0]
        .revoked_at
        .is_some());
}

#[tokio::test]
async fn auditors_read_the_log_verify_the_chain_and_review_flags() {
    let app = spawn_app().await;
    let s = app.login("aud", Role::Auditor).await;
    app.store
        .flag_add(
            "ana",
            "2026-03-10",
            "peer_volume",
            r#"{"lookups":40,"peer_median":5}"#,
        )
        .await
        .unwrap();
    let (status, html) = app.page(&s, "/console/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("data-testid=\"audit-row\""),
        "the login at least"
    );
    assert!(html.contains("data-testid=\"flag-badge\">1<"), "{html}");

    let (status, html) = app.page(&s, "/console/audit/verify").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("data-testid=\"verify-result\" data-ok=\"true\""),
        "{html}"
    );

    let (status, html) = app.page(&s, "/console/audit/flags").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("data-testid=\"flag-row\"").count(), 1);
    assert!(html.contains("超出同岗中位数"));
    let id = app.store.flag_list().await.unwrap()[0].id.to_string();
    let res = app
        .post(
            &s,
            "/console/audit/flags/review",
            &[("csrf", &s.csrf), ("id", &id)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let back = res.headers()[LOCATION].to_str().unwrap().to_owned();
    let (_, html) = app.page(&s, &back).await;
    assert!(html.contains("data-testid=\"flag-badge\">0<") && html.contains(">user:aud<"));
    assert!(html.contains("data-testid=\"notice\""), "{html}");

    // A bad filter is answered on the form.
    let (status, html) = app.page(&s, "/console/audit?from=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("data-testid=\"error\""));
    let res = app.get(Some(&s), "/console/audit?format=csv").await;
    assert!(res.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(res.text().await.unwrap().contains("console.login"));
}

/// Every console page, the role that may open it, and one that may not.
const PAGES: &[(&str, Role, Role)] = &[
    ("/console/intake", Role::StationOfficer, Role::BankOperator),
    ("/console/orders", Role::BankOperator, Role::CommunityWorker),
    ("/console/orders/due", Role::BankOperator, Role::Auditor),
    ("/console/cases", Role::Analyst, Role::BankOperator),
    ("/console/dashboard", Role::Commander, Role::BankOperator),
    ("/console/search", Role::Analyst, Role::Auditor),
    ("/console/search?q=x", Role::StationOfficer, Role::Publicity),
    ("/console/admin/users", Role::Admin, Role::Analyst),
    ("/console/admin/keys", Role::Admin, Role::Auditor),
    ("/console/audit", Role::Auditor, Role::Admin),
    ("/console/audit/verify", Role::Auditor, Role::Commander),
    ("/console/audit/flags", Role::Auditor, Role::Analyst),
    (
        "/console/warnings",
        Role::StationOfficer,
        Role::CommunityWorker,
    ),
    (
        "/console/warnings?level=red",
        Role::BankOperator,
        Role::Admin,
    ),
    ("/console/precision", Role::Auditor, Role::BankOperator),
    ("/console/appeals", Role::Approver, Role::BankOperator),
    (
        "/console/appeals?status=all",
        Role::Commander,
        Role::Auditor,
    ),
    (
        "/console/thresholds",
        Role::Commander,
        Role::CarrierOperator,
    ),
    ("/console/rules", Role::Analyst, Role::StationOfficer),
    ("/console/models", Role::Auditor, Role::Admin),
    ("/console/institutions", Role::Approver, Role::BankOperator),
    ("/console/admin/operations", Role::Admin, Role::Analyst),
];

#[tokio::test]
async fn each_page_opens_for_its_roles_only_and_names_no_outside_address() {
    let app = spawn_app().await;
    app.seed().await;
    let mut sessions = std::collections::HashMap::new();
    for &role in Role::ALL {
        let name = role.as_str();
        let (inst, juris) = match role {
            Role::BankOperator => (Some("ICBC"), None),
            Role::CarrierOperator => (Some("CMCC"), None),
            Role::StationLeader | Role::StationOfficer | Role::CommunityWorker => {
                (None, Some(COMMUNITY_ZHANG))
            }
            _ => (None, None),
        };
        app.add_scoped_user(name, role, inst, juris).await;
        sessions.insert(role, app.login_existing(name).await);
    }
    let mut pages = vec![(
        String::from("/console/login"),
        StatusCode::OK,
        Role::Analyst,
    )];
    for &(path, allowed, refused) in PAGES {
        let (status, html) = app.page(&sessions[&allowed], path).await;
        assert_eq!(status, StatusCode::OK, "{path} as {allowed}: {html}");
        let (status, html) = app.page(&sessions[&refused], path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} as {refused}");
        assert!(
            html.contains("data-testid=\"error\""),
            "{path} as {refused}"
        );
        pages.push((path.to_owned(), StatusCode::OK, allowed));
    }
    let profile = zhang_profile(&app, &sessions[&Role::Analyst]).await;
    pages.push((profile, StatusCode::OK, Role::Analyst));
    for (path, _, role) in &pages {
        let (_, html) = app.page(&sessions[role], path).await;
        for scheme in ["http://", "https://", "//cdn", "<script"] {
            assert!(!html.contains(scheme), "{path} contains {scheme}");
        }
        assert_masked(&html, path);
    }
    // The navigation offers only what the role may open.
    let (_, html) = app.page(&sessions[&Role::Auditor], "/console/audit").await;
    assert!(
        html.contains("data-testid=\"nav-flags\"") && !html.contains("data-testid=\"nav-users\"")
    );
    let (_, html) = app
        .page(&sessions[&Role::Admin], "/console/admin/users")
        .await;
    assert!(!html.contains("data-testid=\"nav-search\"") && !html.contains("flag-badge"));
}

#[tokio::test]
async fn tables_sort_filter_page_and_switch_language() {
    let app = spawn_app().await;
    let s = app.login("root", Role::Admin).await;
    for i in 0..30 {
        app.add_user(&format!("user{i:02}"), Role::Analyst).await;
    }
    let (_, html) = app.page(&s, "/console/admin/users?per=25").await;
    assert_eq!(html.matches("data-testid=\"user-").count(), 25);
    assert!(html.contains("rel=\"next\""));
    let (_, html) = app.page(&s, "/console/admin/users?per=25&page=2").await;
    assert_eq!(html.matches("data-testid=\"user-").count(), 6);
    let (_, html) = app
        .page(&s, "/console/admin/users?sort=username&dir=desc")
        .await;
    let first = html.find("data-testid=\"user-user29\"").unwrap();
    let last = html.find("data-testid=\"user-root\"").unwrap();
    assert!(first < last, "descending");
    let (_, html) = app.page(&s, "/console/admin/users?filter=user1").await;
    assert_eq!(html.matches("data-testid=\"user-").count(), 10);

    let res = app.get(Some(&s), "/console/admin/users?lang=en").await;
    assert!(res.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .starts_with("fanzha_lang=en"));
    let html = res.text().await.unwrap();
    assert!(html.contains("Users") && html.contains("Username") && !html.contains("用户名"));
    assert!(html.contains("Analyst"), "roles translated");
}

#[tokio::test]
async fn the_frameworks_refusals_are_pages_in_the_frame_too() {
    let app = spawn_app().await;
    let s = app.login("ana", Role::Analyst).await;
    // A GET on a form's address.
    let res = app.get(Some(&s), "/console/logout").await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(res.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(res.text().await.unwrap().contains("data-testid=\"error\""));
    let big = "x".repeat(fanzha_server::BODY_LIMIT_BYTES + 1);
    let res = app
        .post(
            &s,
            "/console/logout",
            &[("csrf", s.csrf.as_str()), ("pad", &big)],
        )
        .await;
    // Refused by the server's body limit before the console sees it: a 413, not a 500.
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The API keeps its JSON errors.
    let res = app.get(None, "/api/v1/nowhere").await;
    assert!(res.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    // A console page asked for with an API key is refused: the console is for people.
    let res = app
        .client
        .get(format!("{}/console/dashboard", app.base))
        .header("authorization", format!("Bearer fzk_{}", "0".repeat(64)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

// ---- Two-card risk warnings ----

impl TestApp {
    /// Warnings on 张三丰's ICBC card (red, mule) and phone (red, scam-caller SIM) and on
    /// 李四's CCB card (orange, runner).
    async fn seed_warnings(&self) {
        use fanzha_store::{
            Measure, NewWarning, ReasonSource, RiskEntity, Score, WarnedEntity, WarningLevel,
            WarningReason,
        };
        let warning = |kind, id: &str, inst: &str, score, level, pattern: &str| NewWarning {
            entity: WarnedEntity::new(kind, id),
            institution_code: inst.to_owned(),
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
            measure: Measure::DelaySettlement,
            model_version: None,
            rules_version: Some("rules-abc123".to_owned()),
            at: REPORT_AT,
            first_warned_at: None,
        };
        for w in [
            warning(
                RiskEntity::Account,
                ZHANG_CARD,
                "ICBC",
                91,
                WarningLevel::Red,
                "mule",
            ),
            warning(
                RiskEntity::Sim,
                ZHANG_PHONE,
                "CMCC",
                86,
                WarningLevel::Red,
                "scam_caller_sim",
            ),
            warning(
                RiskEntity::Account,
                LI_CARD,
                "CCB",
                68,
                WarningLevel::Orange,
                "runner",
            ),
        ] {
            self.store.warning_upsert(&w).await.unwrap();
        }
    }
}

#[tokio::test]
async fn the_warning_queue_and_detail_show_masked_warnings_in_both_languages() {
    let app = spawn_app().await;
    app.seed().await;
    app.seed_warnings().await;
    let s = app.login("ana", Role::Analyst).await;

    let (status, html) = app.page(&s, "/console/warnings").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(html.matches("data-testid=\"warning-row\"").count(), 3);
    for word in [
        "预警队列",
        "过账卡",
        "涉诈呼叫卡",
        "跑分",
        "红色",
        "橙色",
        "待处置",
        "ICBC",
    ] {
        assert!(html.contains(word), "no {word}");
    }
    assert!(html.contains("data-testid=\"nav-warnings\" class=\"active\""));
    assert!(html.contains("data-testid=\"nav-precision\""));
    assert_masked(&html, "queue");

    let (status, html) = app.page(&s, "/console/warnings?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    for word in [
        "Warning queue",
        "Money mule",
        "Scam-caller SIM",
        "Red",
        "Open",
    ] {
        assert!(html.contains(word), "no {word}");
    }
    assert!(!html.contains("过账卡"));

    let (_, html) = app.page(&s, "/console/warnings?level=red").await;
    assert_eq!(html.matches("data-testid=\"warning-row\"").count(), 2);
    assert!(html.contains("<option value=\"red\" selected>"));
    let (_, html) = app
        .page(&s, "/console/warnings?pattern=runner&status=open")
        .await;
    assert_eq!(html.matches("data-testid=\"warning-row\"").count(), 1);
    let (status, html) = app.page(&s, "/console/warnings?level=purple").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("data-testid=\"error\"") && html.contains("level"));

    let res = app.get(Some(&s), "/console/warnings?format=csv").await;
    assert!(res.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    assert!(csv.contains("等级") && csv.contains("过账卡"), "{csv}");
    assert_masked(&csv, "queue CSV");

    // The queue links each masked entity to its warning.
    let (_, html) = app.page(&s, "/console/warnings?pattern=mule").await;
    let links = hrefs(&html, "/console/warnings/");
    assert_eq!(links.len(), 1, "{links:?}");
    let (status, html) = app.page(&s, &links[0]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(html.matches("data-testid=\"reason\"").count(), 2);
    assert!(html.contains("资金快进快出") && html.contains("62.0%"));
    assert!(html.contains("<svg class=\"reason-bar\""));
    assert!(html.contains("data-testid=\"warning-measure\">延迟结算"));
    assert!(html.contains("data-testid=\"warning-status\">待处置"));
    assert!(html.contains("data-testid=\"open-profile\""));
    assert!(
        !html.contains("feedback-submit"),
        "the centre reads, banks answer"
    );
    assert_masked(&html, "warning detail");
    let (_, html) = app.page(&s, &format!("{}?lang=en", links[0])).await;
    assert!(html.contains("Money in and straight out") && html.contains("Delay settlement"));
    // The profile link opens the entity.
    let profile = hrefs(&html, "/console/entity/");
    let (status, _) = app.page(&s, &profile[0]).await;
    assert_eq!(status, StatusCode::OK);

    // The dashboard's panel counts them by level.
    let (_, html) = app.page(&s, "/console/dashboard").await;
    let panel = &html[html.find("data-testid=\"panel-warnings\"").unwrap()..];
    assert!(
        panel.contains("data-testid=\"warnings-red\"><span class=\"n\">2</span>"),
        "{panel}"
    );
    assert!(panel.contains("data-testid=\"warnings-orange\"><span class=\"n\">1</span>"));
    // And by status, counted exactly by the store.
    let statuses = &panel[panel.find("data-testid=\"warnings-by-status\"").unwrap()..];
    assert!(statuses.contains("待处置 3"), "{statuses}");
    // Every page and look-up is on record.
    let log = app.store.audit_list().await.unwrap();
    assert!(log.iter().any(|e| e.action == "warnings.list"));
    assert!(log.iter().any(|e| e.action == "lookup.warning"));
}

#[tokio::test]
async fn a_bank_answers_its_own_warning_with_the_form_token() {
    let app = spawn_app().await;
    app.seed().await;
    app.seed_warnings().await;
    app.add_scoped_user("icbc", Role::BankOperator, Some("ICBC"), None)
        .await;
    let s = app.login_existing("icbc").await;

    let (status, html) = app.page(&s, "/console/warnings").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(html.matches("data-testid=\"warning-row\"").count(), 1);
    assert!(!html.contains("nav-precision") && !html.contains("nav-dashboard"));
    let link = hrefs(&html, "/console/warnings/").remove(0);
    let (_, html) = app.page(&s, &link).await;
    assert!(html.contains("data-testid=\"feedback-submit\""));
    let action = format!("{link}/feedback");

    // Without the token: refused, nothing recorded.
    let res = app
        .post(&s, &action, &[("verdict", "confirmed"), ("note", "x")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A verdict outside the list: answered on the form.
    let res = app
        .post(
            &s,
            &action,
            &[("csrf", s.csrf.as_str()), ("verdict", "maybe")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(html.contains("data-testid=\"error\"") && html.contains("verdict"));
    let log = app.store.audit_list().await.unwrap();
    assert!(!log.iter().any(|e| e.action == "warning.feedback"));

    let res = app
        .post(
            &s,
            &action,
            &[
                ("csrf", s.csrf.as_str()),
                ("verdict", "confirmed"),
                ("note", "客户承认出借银行卡"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(to, format!("{link}?done=feedback"));
    let (_, html) = app.page(&s, &to).await;
    assert!(html.contains("data-testid=\"notice\""));
    assert!(
        html.contains("data-testid=\"warning-status\">属实"),
        "{html}"
    );
    let log = app.store.audit_list().await.unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "warning.feedback" && e.actor == "user:icbc"));

    // Another bank's warning does not open for it.
    let ana = app.login("ana", Role::Analyst).await;
    let (_, html) = app.page(&ana, "/console/warnings?pattern=runner").await;
    let foreign = hrefs(&html, "/console/warnings/").remove(0);
    let (status, _) = app.page(&s, &foreign).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = app
        .post(
            &s,
            &format!("{foreign}/feedback"),
            &[("csrf", s.csrf.as_str()), ("verdict", "false_alarm")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The precision page counts the answer.
    let (status, html) = app.page(&ana, "/console/precision").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let row = &html[html.find("data-testid=\"precision-mule\"").unwrap()..];
    assert!(row.contains("过账卡") && row.contains("100.0%"), "{row}");
    assert!(html.contains("data-testid=\"precision-acct_pass_through_fast\""));
    assert!(html.contains("data-testid=\"precision-ICBC\""));
    let (status, _) = app.page(&s, "/console/precision").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_appeal_is_recorded_and_decided_through_the_warning_page() {
    let app = spawn_app().await;
    app.seed().await;
    app.seed_warnings().await;
    app.add_scoped_user("icbc", Role::BankOperator, Some("ICBC"), None)
        .await;
    let bank = app.login_existing("icbc").await;
    let (_, html) = app.page(&bank, "/console/warnings").await;
    let link = hrefs(&html, "/console/warnings/").remove(0);
    let (status, html) = app.page(&bank, &link).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    // The timeline: a chart and one version.
    assert!(html.contains("data-testid=\"timeline-chart\""));
    // With the mule pattern's cut-offs as guides.
    assert!(
        html.contains("class=\"guide level-red\"") && html.contains("class=\"guide level-yellow\"")
    );
    assert_eq!(html.matches("data-testid=\"version\"").count(), 1);
    assert!(html.contains("data-testid=\"appeal-submit\""));
    let action = format!("{link}/appeals");

    // Grounds missing: answered on the form, what was typed kept.
    let res = app
        .post(
            &bank,
            &action,
            &[
                ("csrf", bank.csrf.as_str()),
                ("appellant", "持卡人本人"),
                ("grounds", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(html.contains("data-testid=\"error\"") && html.contains("grounds"));
    assert!(html.contains("value=\"持卡人本人\""));

    let res = app
        .post(
            &bank,
            &action,
            &[
                ("csrf", bank.csrf.as_str()),
                ("appellant", "持卡人本人"),
                ("grounds", "工资卡，流水为工程款"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(to, format!("{link}?done=appeal"));
    let (_, html) = app.page(&bank, &to).await;
    assert!(
        html.contains("data-testid=\"warning-status\">申诉中"),
        "{html}"
    );
    assert!(
        !html.contains("data-testid=\"appeal-submit\""),
        "one at a time"
    );
    assert!(
        !html.contains("data-testid=\"decide-submit\""),
        "banks do not decide"
    );

    // The approver finds it in the queue and decides on the warning's page.
    let approver = app.login("li", Role::Approver).await;
    let (status, html) = app.page(&approver, "/console/appeals").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(html.matches("data-testid=\"appeal-row\"").count(), 1);
    assert!(html.contains("申诉复核") && html.contains("工资卡"));
    assert_masked(&html, "appeals queue");
    let warning = hrefs(&html, "/console/warnings/").remove(0);
    let warning = warning.split('#').next().unwrap().to_owned();
    let (_, html) = app.page(&approver, &warning).await;
    assert!(html.contains("data-testid=\"decide-submit\""), "{html}");
    let id = attr_after(&html, "action=\"/console/appeals/").unwrap();
    let id = id.split('/').next().unwrap().to_owned();
    let handle = warning.trim_start_matches("/console/warnings/").to_owned();
    let decide = format!("/console/appeals/{id}/decision");
    let res = app
        .post(
            &approver,
            &decide,
            &[
                ("csrf", approver.csrf.as_str()),
                ("handle", handle.as_str()),
                ("decision", "maybe"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("decision"));
    let res = app
        .post(
            &approver,
            &decide,
            &[
                ("csrf", approver.csrf.as_str()),
                ("handle", handle.as_str()),
                ("decision", "clear"),
                ("reason", "核实为工程款"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()[LOCATION].to_str().unwrap().to_owned();
    let (_, html) = app.page(&approver, &to).await;
    assert!(
        html.contains("data-testid=\"warning-status\">已解除"),
        "{html}"
    );
    assert_eq!(html.matches("data-testid=\"version\"").count(), 2);
    let (_, html) = app.page(&approver, "/console/appeals").await;
    assert_eq!(html.matches("data-testid=\"appeal-row\"").count(), 0);
    let (_, html) = app
        .page(&approver, "/console/appeals?status=all&lang=en")
        .await;
    assert!(
        html.contains("Appeals") && html.contains("Lifted"),
        "{html}"
    );
}

#[tokio::test]
async fn a_commander_records_a_threshold_and_the_pages_show_the_rule_set() {
    let app = spawn_app().await;
    app.seed().await;
    app.seed_warnings().await;
    let cmd = app.login("zhao", Role::Commander).await;
    let (status, html) = app.page(&cmd, "/console/thresholds").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("data-testid=\"cutoff-mule\""));
    let res = app
        .post(
            &cmd,
            "/console/thresholds",
            &[
                ("csrf", cmd.csrf.as_str()),
                ("pattern", "mule"),
                ("level", "yellow"),
                ("new_threshold", "abc"),
                ("reason", "误报偏高"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(html.contains("new_threshold") && html.contains("误报偏高"));
    let res = app
        .post(
            &cmd,
            "/console/thresholds",
            &[
                ("csrf", cmd.csrf.as_str()),
                ("pattern", "mule"),
                ("level", "yellow"),
                ("new_threshold", "55"),
                ("reason", "误报偏高"),
                ("effective_at", ""),
                ("evaluation", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.page(&cmd, "/console/thresholds?done=decision").await;
    assert_eq!(html.matches("data-testid=\"decision-row\"").count(), 1);
    assert!(html.contains("已生效"));

    let ana = app.login("ana", Role::Analyst).await;
    let (_, html) = app.page(&ana, "/console/thresholds").await;
    assert!(!html.contains("record-threshold-submit"), "analysts read");
    let (status, html) = app.page(&ana, "/console/rules").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"pattern-mule-account\"") && html.contains("55"));
    let (_, html) = app.page(&ana, "/console/rules?lang=en").await;
    assert!(html.contains("Rule set"));
    let (status, html) = app.page(&ana, "/console/institutions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"institution-ICBC\""));
    let (status, html) = app.page(&ana, "/console/models").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"no-models\""));
    let (_, html) = app.page(&ana, "/console/precision").await;
    assert!(
        html.contains("data-testid=\"precision-ages\"")
            && html.contains("data-testid=\"drift-row\"")
    );

    let admin = app.login("root", Role::Admin).await;
    let (status, html) = app.page(&admin, "/console/admin/operations").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("data-testid=\"state-pending\""));
    let res = app
        .post(
            &admin,
            "/console/admin/operations/resend",
            &[("csrf", admin.csrf.as_str())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()[LOCATION].to_str().unwrap().to_owned();
    let (_, html) = app.page(&admin, &to).await;
    assert!(html.contains("已重新排队 0 条推送"), "{html}");
}
