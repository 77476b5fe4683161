//! The web console as a browser meets it: the real [`Application`] on port 0 over a fresh
//! SQLite store with a small seeded district, driven over HTTP with forms, cookies and
//! redirects handled by hand (so every 303 and `Set-Cookie` is checked, not followed).

use std::sync::Arc;

use fanzha_core::vocab::Role;
use fanzha_server::{Application, Settings};
use fanzha_store::Store;
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

    // Logout needs the form token too.
    let res = app
        .post(&s, "/console/logout", &[("csrf", "0".repeat(64).as_str())])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
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
