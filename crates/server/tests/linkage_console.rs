//! The police-bank linkage pages of the console (issue 6) as people use them: an analyst
//! takes report R0001 from the intake queue, follows its money to CCB's account and drafts
//! the stop through the form; an approver signs it; CCB's operator finds it in the queue,
//! answers it and prints the document; ICBC's operator cannot see it. Forms carry the token
//! scraped from the page, redirects are checked rather than followed.

mod common;

use common::{Caller, TestApp, ACCOUNT_B, BANK_B, SECRETS};
use fanzha_core::schema::{Kind, Value};
use fanzha_core::vocab::Role;
use reqwest::header::{COOKIE, LOCATION};
use reqwest::StatusCode;

struct Browser {
    base: String,
    client: reqwest::Client,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    async fn page(&self, cookie: &str, path: &str) -> (StatusCode, String) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.text().await.unwrap())
    }

    async fn post(
        &self,
        cookie: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Option<String>, String) {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get(LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        (status, location, res.text().await.unwrap())
    }
}

fn cookie(app: &TestApp, role: Role) -> String {
    match app.role(role) {
        Caller::Cookie(c) => c,
        _ => unreachable!(),
    }
}

fn attr_after(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(prefix)? + prefix.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

fn csrf(html: &str) -> String {
    attr_after(html, "name=\"csrf\" value=\"").expect("a form token")
}

fn assert_no_secret(what: &str, html: &str) {
    for secret in SECRETS {
        assert!(!html.contains(secret), "{what}: {secret} leaked");
    }
}

/// The ids of the orders a page links to, in order.
fn order_ids(html: &str) -> Vec<i64> {
    html.match_indices("href=\"/console/orders/")
        .filter_map(|(i, m)| {
            let rest = &html[i + m.len()..];
            let end = rest.find('"')?;
            rest[..end].parse().ok()
        })
        .collect()
}

async fn with_payment(app: &TestApp) {
    common::write(
        &*app.store,
        Kind::ReportPayments,
        vec![vec![
            Value::Text("R0001".into()),
            Value::Text("TX0001".into()),
        ]],
    )
    .await;
}

#[tokio::test]
async fn a_stop_goes_from_intake_through_approval_to_the_banks_answer_and_document() {
    let app = common::spawn().await;
    with_payment(&app).await;
    let b = Browser::new(&app);
    let analyst = cookie(&app, Role::Analyst);
    let approver = cookie(&app, Role::Approver);
    let icbc = cookie(&app, Role::BankOperator);
    let ccb = app
        .user("ccb_operator", Role::BankOperator, Some(BANK_B), None)
        .await;
    let mut seen: Vec<(String, String)> = Vec::new();

    // Intake: both reports, newest first, loss in yuan, typology in Chinese, the countdown
    // long past (the seeded reports are from March), and a refresh every 30 seconds.
    let (status, html) = b.page(&analyst, "/console/intake").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"30\">"));
    assert!(html.contains("data-testid=\"nav-intake\""));
    let r1 = html.find(">R0001<").expect("R0001 listed");
    let r2 = html.find(">R0002<").expect("R0002 listed");
    assert!(r2 < r1, "newest first");
    assert!(html.contains("/console/reports/R0001/trace"));
    assert!(html.contains("50,000.00") && html.contains("12,300.50"));
    assert!(html.contains("虚假投资理财") && html.contains("已逾期"));
    seen.push(("/console/intake".into(), html));

    // The trace: all 50,000.00 yuan rests on person B's CCB account, masked, linking to its
    // registry; nothing left.
    let (status, html) = b.page(&analyst, "/console/reports/R0001/trace").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let masked_b = fanzha_core::mask::card(ACCOUNT_B);
    assert!(html.contains(&masked_b), "{html}");
    assert!(html.contains("data-testid=\"held\">50,000.00<"), "{html}");
    assert!(html.contains("data-testid=\"paid\">50,000.00<"));
    assert!(html.contains("data-testid=\"exited\">0.00<"));
    assert!(html.contains("TX0001"));
    assert!(html.contains("先进先出"));
    let registry = attr_after(&html, "href=\"/console/accounts/")
        .map(|h| format!("/console/accounts/{h}"))
        .expect("a registry link");
    assert!(registry.ends_with("/freezes"));
    assert!(!html.contains("<meta http-equiv=\"refresh\""));
    assert!(html.contains("action=\"/console/reports/R0001/stop-plan\""));
    // The fund-flow chart: the victim, the payment's edge with its amount, the account
    // masked and linking to its registry; nothing frozen yet.
    let chart = &html[html.find("<svg").expect("a chart")..];
    let chart = &chart[..chart.find("</svg>").expect("the chart ends")];
    assert!(chart.contains("受害人"), "{chart}");
    assert!(chart.contains("50,000.00"), "{chart}");
    assert!(chart.contains(&masked_b), "{chart}");
    assert!(chart.contains("href=\"/console/entity/"), "{chart}");
    assert!(!chart.contains("已冻结"), "{chart}");
    seen.push(("trace".into(), html.clone()));

    // Without the token the plan is refused and nothing is drafted.
    let (status, _, _) = b
        .post(
            &analyst,
            "/console/reports/R0001/stop-plan",
            &[("rule", "fifo")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // With it: one stop order for CCB's account, shown with its link.
    let token = csrf(&html);
    let (status, _, plan) = b
        .post(
            &analyst,
            "/console/reports/R0001/stop-plan",
            &[("csrf", &token), ("rule", "fifo")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert!(plan.contains("已起草 1 条指令"), "{plan}");
    assert!(plan.contains(&masked_b));
    let ids = order_ids(&plan);
    assert_eq!(ids.len(), 1, "{plan}");
    let id = ids[0];
    let order = format!("/console/orders/{id}");
    assert!(plan.contains("/console/orders?report=R0001"));
    seen.push(("plan".into(), plan));

    // The queue filtered by report shows the draft, masked, in yuan.
    let (status, html) = b.page(&analyst, "/console/orders?report=R0001").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("data-testid=\"order-{id}\"")));
    assert!(html.contains("止付") && html.contains("草稿") && html.contains("50,000.00"));
    assert!(html.contains(&masked_b));
    seen.push(("queue".into(), html));
    let (_, html) = b.page(&analyst, "/console/orders?report=R0002").await;
    assert!(!html.contains(&format!("data-testid=\"order-{id}\"")));

    // The analyst submits it; the approver sees no "submit" but "approve", and approves.
    let (status, html) = b.page(&analyst, &order).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("data-testid=\"step-submit\""), "{html}");
    assert!(!html.contains("data-testid=\"step-approve\""));
    let (status, location, _) = b
        .post(
            &analyst,
            &format!("{order}/steps"),
            &[("csrf", &csrf(&html)), ("step", "submit")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(&*format!("{order}?done=submit")));
    let (_, html) = b.page(&analyst, &format!("{order}?done=submit")).await;
    assert!(html.contains("data-testid=\"status\">待审批<"), "{html}");
    assert!(html.contains("已办理：提交审批"));

    let (_, html) = b.page(&approver, &order).await;
    assert!(html.contains("data-testid=\"step-approve\""), "{html}");
    assert!(!html.contains("data-testid=\"step-submit\""));
    let (status, _, _) = b
        .post(
            &approver,
            &format!("{order}/steps"),
            &[("csrf", &csrf(&html)), ("step", "approve")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = b.page(&approver, &order).await;
    assert!(html.contains("data-testid=\"status\">已批准<"), "{html}");
    assert!(
        html.contains("data-testid=\"approved-by\">user:approver<"),
        "{html}"
    );
    seen.push(("approved".into(), html));

    // The analyst sends it to the bank.
    let (_, html) = b.page(&analyst, &order).await;
    let (status, _, _) = b
        .post(
            &analyst,
            &format!("{order}/steps"),
            &[("csrf", &csrf(&html)), ("step", "send")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // CCB's operator: only the queue and the deadlines in the navigation; the order is there.
    let (status, html) = b.page(&ccb, "/console/orders").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("data-testid=\"nav-orders\"") && html.contains("data-testid=\"nav-due\"")
    );
    assert!(
        !html.contains("data-testid=\"nav-intake\"") && !html.contains("data-testid=\"nav-cases\"")
    );
    assert!(
        html.contains(&format!("data-testid=\"order-{id}\"")),
        "{html}"
    );
    assert!(html.contains("已送达银行"));
    seen.push(("ccb queue".into(), html));
    let (status, _) = b.page(&ccb, "/console/intake").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // ICBC's operator neither lists nor opens it, nor its document.
    let (_, html) = b.page(&icbc, "/console/orders").await;
    assert!(!html.contains(&format!("data-testid=\"order-{id}\"")));
    for path in [order.clone(), format!("{order}/document")] {
        let (status, html) = b.page(&icbc, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("data-testid=\"error\""));
        assert_no_secret(&path, &html);
    }

    // A non-numeric amount is answered on the form, naming the field, what was typed kept.
    let (_, html) = b.page(&ccb, &order).await;
    assert!(html.contains("data-testid=\"step-answer\""), "{html}");
    let token = csrf(&html);
    let steps = format!("{order}/steps");
    let (status, _, html) = b
        .post(
            &ccb,
            &steps,
            &[
                ("csrf", &token),
                ("step", "answer"),
                ("answer", "executed"),
                ("amount", "五万元"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("data-testid=\"error\""));
    assert!(html.contains("amount: "), "{html}");
    assert!(html.contains("value=\"五万元\""));
    assert!(html.contains("data-testid=\"status\">已送达银行<"));
    // ICBC cannot answer it either.
    let (_, icbc_page) = b.page(&icbc, "/console/orders").await;
    let (status, _, _) = b
        .post(
            &icbc,
            &steps,
            &[
                ("csrf", &csrf(&icbc_page)),
                ("step", "answer"),
                ("answer", "executed"),
                ("amount", "50000"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // CCB answers: executed, the whole 50,000.00 yuan held.
    let (status, location, _) = b
        .post(
            &ccb,
            &steps,
            &[
                ("csrf", &token),
                ("step", "answer"),
                ("answer", "executed"),
                ("amount", "50,000.00"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(&*format!("{order}?done=answer")));
    let (_, html) = b.page(&ccb, &order).await;
    assert!(html.contains("data-testid=\"status\">已执行<"), "{html}");
    assert!(html.contains("data-testid=\"held\">50,000.00<"), "{html}");
    assert!(html.contains(&format!("href=\"{order}/document\"")));
    seen.push(("ccb order".into(), html));

    // The document names the account in full to its bank: what CCB executes.
    let (status, doc) = b.page(&ccb, &format!("{order}/document")).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert!(
        doc.contains("data-testid=\"document-title\">紧急止付通知书<"),
        "{doc}"
    );
    assert!(doc.contains(ACCOUNT_B), "{doc}");
    assert!(doc.contains(BANK_B));
    assert!(doc.contains("伍万元整"));
    assert!(doc.contains("已执行，实际止付人民币 50,000.00 元"), "{doc}");
    assert!(
        !doc.contains("草稿（批准后编号）"),
        "numbered once approved"
    );

    // The stop lapses 48 hours after it took effect: CCB's deadlines show it.
    let (status, html) = b.page(&ccb, "/console/orders/due").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("data-testid=\"due-row\""), "{html}");
    assert!(html.contains("止付到期") && html.contains(&format!("href=\"{order}\"")));
    seen.push(("ccb due".into(), html));

    // In English the queue's words change, the data do not.
    let (_, html) = b.page(&ccb, "/console/orders?lang=en").await;
    assert!(
        html.contains("Order queue") && html.contains("Stop payment") && html.contains("Executed")
    );
    assert!(html.contains("50,000.00"));

    // Every other page, to everyone, is masked.
    let (status, html) = b.page(&analyst, &registry).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&masked_b));
    // The executed stop is on the registry, holding the traced money.
    assert!(html.contains("data-testid=\"measure-row\""), "{html}");
    assert!(html.contains("data-testid=\"active\">50,000.00<"), "{html}");
    seen.push((registry.clone(), html));
    // The chart now outlines the stopped account.
    let (_, html) = b.page(&analyst, "/console/reports/R0001/trace").await;
    assert_eq!(html.matches("已冻结").count(), 1, "{html}");
    seen.push(("trace after the stop".into(), html));
    for (what, html) in &seen {
        assert_no_secret(what, html);
    }
}

#[tokio::test]
async fn the_registry_returns_cases_and_deadlines_pages_open_for_their_roles() {
    let app = common::spawn().await;
    with_payment(&app).await;
    let b = Browser::new(&app);
    let analyst = cookie(&app, Role::Analyst);
    let (_, html) = b.page(&analyst, "/console/reports/R0001/trace").await;
    let handle = attr_after(&html, "href=\"/console/accounts/")
        .and_then(|h| h.strip_suffix("/freezes").map(str::to_owned))
        .expect("a registry link");

    // The registry: CCB's account holds 50,000.00 yuan, 50,000.00 of it traced, nothing
    // frozen yet.
    let (status, html) = b
        .page(&analyst, &format!("/console/accounts/{handle}/freezes"))
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("data-testid=\"balance\">50,000.00<"),
        "{html}"
    );
    assert!(html.contains("data-testid=\"traced\">50,000.00<"), "{html}");
    assert!(html.contains("data-testid=\"active\">0.00<"), "{html}");
    assert!(html.contains("没有措施"));
    assert_no_secret("registry", &html);

    // The return plan: R0001's victim, masked, can claim the money on the account.
    let (status, html) = b
        .page(&analyst, &format!("/console/accounts/{handle}/returns"))
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("data-testid=\"claim-row\""), "{html}");
    assert!(html.contains(&fanzha_core::mask::id_number(common::PERSON_A)));
    assert_no_secret("returns", &html);

    // A handle that is not one is a client's mistake, not a server error.
    let (status, _) = b.page(&analyst, "/console/accounts/nonsense/freezes").await;
    assert!(status.is_client_error(), "{status}");

    // Cases: the form files one (a report out of nowhere is refused on the form), and its
    // freeze plan drafts the freeze of CCB's account.
    let (status, html) = b.page(&analyst, "/console/cases").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let token = csrf(&html);
    let (status, _, html) = b
        .post(
            &analyst,
            "/console/cases",
            &[
                ("csrf", &token),
                ("case_id", "C0099"),
                ("filing_no", "渝公（反诈）立字〔2026〕99号"),
                ("reports", "R9999"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{html}");
    assert!(
        html.contains("data-testid=\"error\"") && html.contains("reports: "),
        "{html}"
    );
    assert!(html.contains("value=\"C0099\""));
    let (status, location, _) = b
        .post(
            &analyst,
            "/console/cases",
            &[
                ("csrf", &token),
                ("case_id", "C0099"),
                ("filing_no", "渝公（反诈）立字〔2026〕99号"),
                ("reports", "R0001"),
                ("major", "on"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/console/cases?filed=C0099"));
    let (_, html) = b.page(&analyst, "/console/cases?filed=C0099").await;
    assert!(html.contains("data-testid=\"case-C0099\""), "{html}");
    assert!(html.contains("action=\"/console/cases/C0099/freeze-plan\""));
    let (status, _, plan) = b
        .post(
            &analyst,
            "/console/cases/C0099/freeze-plan",
            &[("csrf", &csrf(&html))],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert!(plan.contains("data-testid=\"freeze-row\""), "{plan}");
    assert!(
        plan.contains("地市级"),
        "a major case's freezes go to the prefecture: {plan}"
    );
    assert!(plan.contains("50,000.00"));
    assert_eq!(order_ids(&plan).len(), 1, "{plan}");
    assert_no_secret("freeze plan", &plan);

    // The queue exports as CSV, masked like the page.
    let (status, csv) = b
        .page(&analyst, "/console/orders?case=C0099&format=csv")
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(
        csv.contains(&fanzha_core::mask::card(ACCOUNT_B)) && csv.contains("50,000.00"),
        "{csv}"
    );
    assert_no_secret("orders csv", &csv);
    // The trace in English.
    let (_, html) = b
        .page(&analyst, "/console/reports/R0001/trace?lang=en")
        .await;
    assert!(
        html.contains("Still held (yuan)") && html.contains("FIFO"),
        "{html}"
    );
    assert!(html.contains("Draft the stop plan"));

    // Deadlines open for the bank; cases and intake do not.
    let ccb = app
        .user("ccb_operator", Role::BankOperator, Some(BANK_B), None)
        .await;
    let (status, html) = b.page(&ccb, "/console/orders/due").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("到期提醒"));
    for path in [
        "/console/cases",
        "/console/intake",
        "/console/reports/R0001/trace",
    ] {
        let (status, _) = b.page(&ccb, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    // A community worker sees none of the linkage pages.
    let worker = cookie(&app, Role::CommunityWorker);
    let (_, html) = b.page(&worker, "/console/search").await;
    assert!(!html.contains("data-testid=\"nav-orders\""));
    let (status, _) = b.page(&worker, "/console/orders").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A bad status filter and a non-numeric order are client mistakes.
    let (status, html) = b.page(&analyst, "/console/orders?status=nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    let (status, _) = b.page(&analyst, "/console/orders/abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = b.page(&analyst, "/console/orders/424242").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = b.page(&analyst, "/console/reports/R9999/trace").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_station_takes_a_report_at_the_counter_and_its_stops_are_drafted() {
    let app = common::spawn().await;
    let b = Browser::new(&app);
    let station = cookie(&app, Role::StationOfficer);
    let (status, html) = b.page(&station, "/console/intake").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("href=\"/console/intake/new\""), "{html}");
    let (status, html) = b.page(&station, "/console/intake/new").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("data-testid=\"take-report\""), "{html}");
    assert!(
        !html.contains("http-equiv=\"refresh\""),
        "a page with a form being typed does not reload"
    );
    let (status, _) = b
        .page(&cookie(&app, Role::BankOperator), "/console/intake/new")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let token = csrf(&html);
    let victim = "500103199001011232";
    let form = |loss: &'static str, tx: &'static str| {
        vec![
            ("id_kind", "resident"),
            ("victim_id", victim),
            ("typology", "romance"),
            ("loss", loss),
            ("channel", "walk_in"),
            ("community_code", common::COMMUNITY_A),
            ("payments", tx),
            ("stop_plan", "1"),
        ]
    };
    // A loss in words and an unknown payment are answered on the form, what was typed kept.
    let mut bad = form("五万元", "TX0001");
    bad.push(("csrf", &token));
    let (status, _, html) = b.post(&station, "/console/intake/new", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("loss: "), "{html}");
    assert!(html.contains("五万元"), "{html}");
    let mut bad = form("50,000", "TX9999");
    bad.push(("csrf", &token));
    let (status, _, html) = b.post(&station, "/console/intake/new", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("payments: "), "{html}");
    // Taken in: off to its trace, the stop drafted.
    let mut good = form("50,000", "TX0001");
    good.push(("csrf", &token));
    let (status, location, _) = b.post(&station, "/console/intake/new", &good).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.expect("a redirect");
    assert!(location.starts_with("/console/reports/R"), "{location}");
    let (status, html) = b.page(&station, &location).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("data-testid=\"held\">50,000.00<"), "{html}");
    let report = location
        .trim_start_matches("/console/reports/")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // The account's holder lives in town B: the centre sees its order (a station sees the
    // orders on accounts of its own jurisdiction).
    let (_, queue) = b
        .page(
            &cookie(&app, Role::Analyst),
            &format!("/console/orders?report={report}"),
        )
        .await;
    assert_eq!(order_ids(&queue).len(), 1, "{queue}");
    assert_no_secret("intake", &html);
}
