//! `fanzha demo`: simulates a small district (about 5,000 residents, a week, seeded), loads
//! every file the simulator wrote into the store, shows what it holds with a few headline
//! figures from the ground truth, then serves it with one demo account per role (new random
//! passwords on every run). Later capabilities grow it (the engines, the console).

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use fanzha_core::schema::Kind;
use fanzha_core::vocab::Role;
use fanzha_core::Money;
use fanzha_ingest::IngestOptions;

use super::Context;
use crate::progress::Bar;
use crate::Outcome;

#[derive(clap::Args)]
pub struct Args {
    /// The simulator's seed (one seed gives the same district on every run).
    #[arg(long, default_value_t = DEMO_SEED)]
    seed: u64,
    /// Where the server listens; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Load the district and stop, without serving it.
    #[arg(long)]
    no_serve: bool,
}

/// The demo district's seed: the simulation's first day, 2026-03-01.
const DEMO_SEED: u64 = 20_260_301;

fn label_zh(kind: &str) -> &'static str {
    match kind {
        "jurisdictions" => "辖区",
        "institutions" => "机构",
        "places" => "场所",
        "persons" => "人员",
        "accounts" => "银行账户",
        "sims" => "电话卡",
        "balances" => "余额",
        "transactions" => "交易",
        "calls" => "通话",
        "sms" => "短信",
        "logins" => "登录",
        "app_events" => "应用事件",
        "reports" => "报案",
        "report_payments" => "报案支付",
        "leads" => "线索",
        "cases" => "案件",
        "external_freezes" => "外部冻结",
        "quarantine" => "隔离记录",
        _ => "",
    }
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    let dir = tempfile::tempdir().context("creating a folder for the simulated district")?;
    let cfg = fanzha_sim::Config::new(
        args.seed,
        fanzha_sim::Scale::Small,
        fanzha_sim::Profile::Default,
    );
    let out = dir.path().to_path_buf();
    let summary = tokio::task::spawn_blocking(move || super::sim::generate(&cfg, &out)).await??;
    let opts = IngestOptions {
        progress: Arc::new(Bar::new()),
        ..IngestOptions::default()
    };
    let (mut inserted, mut rejected) = (0, 0);
    // Reference data first (the order of Kind::ALL), so parties are stored before records.
    for kind in Kind::ALL {
        let path = dir.path().join(format!("{}.csv", kind.as_str()));
        let r = fanzha_ingest::ingest_file(&store, &path, &opts).await?;
        inserted += r.inserted;
        rejected += r.rejected;
    }
    let counts = store.counts().await?;
    super::audit(
        &store,
        "cli.demo",
        serde_json::json!({ "seed": args.seed, "inserted": inserted, "rejected": rejected }),
    )
    .await?;
    if ctx.json {
        println!("{}", serde_json::to_string(&counts)?);
    } else {
        println!(
            "反诈 Fanzha — 模拟辖区 simulated district (seed {}, {} residents, 7 days) loaded into {}",
            args.seed,
            summary.residents,
            super::shown_target(&ctx.db)
        );
        println!("本次新增 {inserted} 条记录 (records inserted this run; a rerun inserts none)");
        let order = Kind::ALL.iter().map(|k| k.as_str()).chain(["quarantine"]);
        for kind in order {
            let zh = label_zh(kind);
            // CJK characters take two columns on a terminal.
            let pad = " ".repeat(12usize.saturating_sub(2 * zh.chars().count()));
            println!(
                "  {zh}{pad}{kind:<18} {:>8}",
                counts.get(kind).copied().unwrap_or(0)
            );
        }
        println!();
        println!("ground truth (labels/, never loaded):");
        println!("  诈骗团伙 rings         {:>10}", summary.rings);
        println!(
            "  受害人 victims          {:>10}  ({} reported)",
            summary.victims, summary.reported
        );
        println!(
            "  损失 total loss         {:>10}",
            Money::from_fen(summary.loss_fen)
        );
        println!(
            "  资金流 labelled flows   {:>10}",
            summary.rows("labels/flows")
        );
        println!();
        println!(
            "next: fanzha --db {} db stats | fanzha sim --out DIR (files + labels) | fanzha quarantine list",
            ctx.db
        );
    }
    if !args.no_serve {
        serve(ctx, &store, args.listen).await?;
    }
    Ok(if rejected > 0 {
        Outcome::Rejected
    } else {
        Outcome::Clean
    })
}

/// Gives every role a demo account named after it, with a fresh random password (a rerun
/// replaces the last run's, so no password outlives the run that printed it), then serves.
async fn serve(
    ctx: &Context,
    store: &Arc<dyn fanzha_store::Store>,
    listen: SocketAddr,
) -> anyhow::Result<()> {
    let mut accounts = Vec::new();
    for role in Role::ALL {
        let password = fanzha_server::auth::random_password();
        let account = fanzha_server::auth::Account {
            username: role.as_str(),
            role: *role,
            institution_code: None,
            jurisdiction_code: None,
        };
        fanzha_server::auth::set_user(&**store, &account, &password)
            .await
            .with_context(|| format!("creating the demo account {role}"))?;
        accounts.push((role.as_str(), password));
    }
    let names: Vec<&str> = accounts.iter().map(|(n, _)| *n).collect();
    super::audit(
        store,
        "cli.demo.accounts",
        serde_json::json!({ "usernames": names }),
    )
    .await?;
    let app = fanzha_server::Application::build(fanzha_server::Settings {
        listen,
        db: ctx.db.clone(),
    })
    .await?;
    let url = format!("http://{}", app.local_addr());
    if ctx.json {
        let accounts: Vec<serde_json::Value> = accounts
            .iter()
            .map(|(u, p)| serde_json::json!({ "username": u, "password": p }))
            .collect();
        println!(
            "{}",
            serde_json::json!({ "url": url, "accounts": accounts })
        );
    } else {
        println!();
        println!("演示账号 demo accounts (username = role; passwords are new on every run):");
        for (username, password) in &accounts {
            println!("  {username:<18} {password}");
        }
        println!();
        println!("serving on {url}  (POST {url}/api/v1/login, API document {url}/api/openapi.json; Ctrl-C stops)");
    }
    // Whoever started us (a script, a test) reads the URL before the first request.
    std::io::stdout().flush().context("writing the URL")?;
    app.run_until_stopped().await?;
    Ok(())
}
