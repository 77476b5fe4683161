//! `fanzha demo`: simulates a small district (about 5,000 residents, a week, seeded), loads
//! every file the simulator wrote into the store, shows what it holds with a few headline
//! figures from the ground truth, then serves it with one demo account per role (new random
//! passwords on every run), each scoped role working for a bank, carrier, town or community
//! of the simulated district. Later capabilities grow it (the engines, the console).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context as _};
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

/// The default risk model, in `risk export-model`'s file format.
const DEFAULT_MODEL: &[u8] = include_bytes!("../../models/default.json");

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
    // The two-card risk engine over what was loaded: warnings for the banks and carriers,
    // from the rules and the default model (trained on another district: models/README.md).
    let rules = fanzha_risk::RuleSet::builtin().context("the built-in rule set")?;
    let default_model = super::risk::model_from_file(DEFAULT_MODEL, "models/default.json")?;
    store.model_put(&default_model).await?;
    let model = fanzha_risk::model::Model::load(&default_model.artefact)?;
    let risk = fanzha_risk::run::run(
        &store,
        &rules,
        Some(fanzha_risk::run::WithModel {
            model: &model,
            version: &default_model.version,
        }),
        fanzha_risk::FeatureConfig::default(),
        fanzha_risk::run::PAGE_ROWS,
    )
    .await?;
    let mut by_level = std::collections::BTreeMap::new();
    for level in fanzha_store::WarningLevel::ALL {
        let filter = fanzha_store::WarningFilter {
            level: Some(*level),
            ..fanzha_store::WarningFilter::default()
        };
        let n = store
            .warning_list(&fanzha_store::Scope::All, &filter, u32::MAX, 0)
            .await?
            .len();
        by_level.insert(level.as_str(), n);
    }
    // Fund tracing: the report with the most money still held, followed forward by FIFO.
    let traced = super::trace::most_held_report(&*store).await?;
    super::audit(
        &store,
        "cli.demo",
        serde_json::json!({ "seed": args.seed, "inserted": inserted, "rejected": rejected,
            "warnings": &by_level }),
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
            "两卡预警 two-card warnings: {} events scored, {} accounts and SIMs warned — 红 red {}, 橙 orange {}, 黄 yellow {}",
            risk.events.values().sum::<u64>(),
            risk.warned,
            by_level.get("red").copied().unwrap_or(0),
            by_level.get("orange").copied().unwrap_or(0),
            by_level.get("yellow").copied().unwrap_or(0),
        );
        println!(
            "  规则 rules {}; 模型 model {} (models/default.json, trained on another simulated district) set {} of the scores",
            risk.rules_version,
            risk.model_version.as_deref().unwrap_or("-"),
            risk.by_model,
        );
        if let Some((t, plan)) = &traced {
            println!();
            println!(
                "资金查控 fund tracing (FIFO), report {}: paid {}; still held {} on {} accounts (to stop and freeze); left {} ({})",
                t.report,
                Money::from_fen(t.paid_fen),
                Money::from_fen(t.held_fen),
                t.holdings.len(),
                Money::from_fen(t.exited_fen),
                super::trace::exits_by_kind(t),
            );
            if let Some(h) = t.holdings.first() {
                println!(
                    "  largest holding {} on {}, via {}",
                    Money::from_fen(h.amount_fen),
                    h.account,
                    h.paths.first().map(|p| p.join(" → ")).unwrap_or_default()
                );
            }
            let drafted = plan.orders.iter().filter(|o| o.order_id.is_some()).count();
            println!(
                "  止付预案 stop plan: {} accounts, {drafted} stop orders drafted this run (the console's 指令队列 order queue)",
                plan.orders.len()
            );
        }
        println!();
        println!(
            "next: fanzha --db {0} db stats | fanzha --db {0} risk warnings | fanzha --db {0} trace --report REPORT_ID --rule fifo|lifo|pro-rata|libr|poison | fanzha --db {0} returns plan --account ACCOUNT | fanzha sim --out DIR (files + labels) | fanzha quarantine list",
            ctx.db
        );
    }
    if !args.no_serve {
        let remits = Remits::read(dir.path())?;
        serve(ctx, &store, args.listen, &remits).await?;
    }
    Ok(if rejected > 0 {
        Outcome::Rejected
    } else {
        Outcome::Clean
    })
}

/// The username of the second demo bank operator, who works for another bank than the
/// first: the one who is refused the first bank's data.
const SECOND_BANK_OPERATOR: &str = "bank_operator_2";

/// Where the scoped demo accounts work, taken from the simulated district's own reference
/// files so their scopes match the loaded data.
struct Remits {
    /// The first two banks in institutions.csv.
    banks: [String; 2],
    /// The first carrier: its code is what `sims.carrier` holds, which carrier scoping
    /// matches.
    carrier: String,
    /// The first town (a police station's area) and the first community within it.
    town: String,
    community: String,
}

impl Remits {
    fn read(dir: &Path) -> anyhow::Result<Remits> {
        let institutions = read_rows(&dir.join("institutions.csv"), &["code", "kind"])?;
        let of_kind = |kind: &'static str| {
            institutions
                .iter()
                .filter(move |r| r[1] == kind)
                .map(|r| r[0].clone())
        };
        let mut banks = of_kind("bank");
        let (Some(bank1), Some(bank2)) = (banks.next(), banks.next()) else {
            bail!("the simulated district has fewer than two banks");
        };
        let carrier = of_kind("carrier")
            .next()
            .context("the simulated district has no carrier")?;
        let places = read_rows(
            &dir.join("jurisdictions.csv"),
            &["code", "level", "parent_code"],
        )?;
        let town = places
            .iter()
            .find(|r| r[1] == "town")
            .map(|r| r[0].clone())
            .context("the simulated district has no town")?;
        let community = places
            .iter()
            .find(|r| r[1] == "community" && r[2] == town)
            .map(|r| r[0].clone())
            .with_context(|| format!("the simulated town {town} has no community"))?;
        Ok(Remits {
            banks: [bank1, bank2],
            carrier,
            town,
            community,
        })
    }

    /// The institution or jurisdiction a demo account of `role` works in.
    fn of(&self, role: Role) -> (Option<&str>, Option<&str>) {
        match role {
            Role::BankOperator => (Some(&self.banks[0]), None),
            Role::CarrierOperator => (Some(&self.carrier), None),
            Role::StationLeader | Role::StationOfficer => (None, Some(&self.town)),
            Role::CommunityWorker => (None, Some(&self.community)),
            _ => (None, None),
        }
    }
}

/// The named columns of every record of a CSV file, in file order.
fn read_rows(path: &Path, columns: &[&str]) -> anyhow::Result<Vec<Vec<String>>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let header = reader.headers()?.clone();
    let at: Vec<usize> = columns
        .iter()
        .map(|c| {
            header
                .iter()
                .position(|h| h == *c)
                .with_context(|| format!("{} has no column {c}", path.display()))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("reading {}", path.display()))?;
        rows.push(
            at.iter()
                .map(|&i| record.get(i).unwrap_or_default().to_owned())
                .collect(),
        );
    }
    Ok(rows)
}

/// One demo account as printed.
struct DemoAccount {
    username: String,
    role: Role,
    institution: Option<String>,
    jurisdiction: Option<String>,
    password: String,
}

/// Gives every role a demo account named after it (and a second bank operator for another
/// bank), scoped to a bank, carrier, town or community of the simulated district, with a
/// fresh random password (a rerun replaces the last run's, so no password outlives the run
/// that printed it), then serves.
async fn serve(
    ctx: &Context,
    store: &Arc<dyn fanzha_store::Store>,
    listen: SocketAddr,
    remits: &Remits,
) -> anyhow::Result<()> {
    let mut wanted: Vec<(&str, Role, Option<&str>, Option<&str>)> = Role::ALL
        .iter()
        .map(|&role| {
            let (inst, juris) = remits.of(role);
            (role.as_str(), role, inst, juris)
        })
        .collect();
    wanted.push((
        SECOND_BANK_OPERATOR,
        Role::BankOperator,
        Some(&remits.banks[1]),
        None,
    ));
    let mut accounts = Vec::new();
    for (username, role, institution, jurisdiction) in wanted {
        let password = fanzha_server::auth::random_password();
        let account = fanzha_server::auth::Account {
            username,
            role,
            institution_code: institution,
            jurisdiction_code: jurisdiction,
        };
        fanzha_server::auth::set_user(&**store, &account, &password)
            .await
            .with_context(|| format!("creating the demo account {username}"))?;
        accounts.push(DemoAccount {
            username: username.to_owned(),
            role,
            institution: institution.map(str::to_owned),
            jurisdiction: jurisdiction.map(str::to_owned),
            password,
        });
    }
    let names: Vec<&str> = accounts.iter().map(|a| a.username.as_str()).collect();
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
    // The first bank's systems ask for real-time decisions with a key of their own.
    let (key_id, decision_key) = fanzha_server::auth::add_api_key(
        &**store,
        &remits.banks[0],
        Role::BankOperator,
        "demo: real-time decisions",
    )
    .await?;
    super::audit(
        store,
        "cli.demo.key",
        serde_json::json!({ "key_id": key_id, "institution": remits.banks[0] }),
    )
    .await?;
    if ctx.json {
        let accounts: Vec<serde_json::Value> = accounts
            .iter()
            .map(|a| {
                serde_json::json!({
                    "username": a.username,
                    "password": a.password,
                    "role": a.role.as_str(),
                    "institution": a.institution,
                    "jurisdiction": a.jurisdiction,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "url": url, "console": format!("{url}/console/"), "accounts": accounts,
                "decision_key": { "institution": remits.banks[0], "key": decision_key } })
        );
    } else {
        println!();
        println!("演示账号 demo accounts (username = role; passwords are new on every run):");
        for a in &accounts {
            let remit = match (&a.institution, &a.jurisdiction) {
                (Some(i), _) => format!("机构 institution {i}"),
                (_, Some(j)) => format!("辖区 jurisdiction {j}"),
                _ => match fanzha_server::policy::remit(a.role) {
                    fanzha_server::policy::Remit::NoPersons => {
                        "不查看个人数据 no personal data".to_owned()
                    }
                    _ => "全区 whole district".to_owned(),
                },
            };
            println!("  {:<18} {}  {remit}", a.username, a.password);
        }
        println!(
            "  ({SECOND_BANK_OPERATOR} works for {}, not {}: it is refused the first bank's accounts)",
            remits.banks[1], remits.banks[0]
        );
        println!();
        println!("控制台 console: {url}/console/  (open it in a browser and log in with an account above)");
        println!("API: {url}/api/v1/…, document {url}/api/openapi.json; Ctrl-C stops");
        println!();
        println!(
            "实时决策 real-time decisions, with {}'s API key (new on every run; decisions say \"warming\" until the district is replayed):",
            remits.banks[0]
        );
        println!(
            "  curl -s -H 'Authorization: Bearer {decision_key}' -H 'Content-Type: application/json' \\\n    \
             -d '{{\"payer_account\":\"CORP-1\",\"payee_account\":\"6222021234567890102\",\"amount_fen\":2000000,\"ts\":\"2026-03-05T03:00:00+08:00\"}}' \\\n    \
             {url}/api/v1/decisions/payment"
        );
    }
    // Whoever started us (a script, a test) reads the URL before the first request.
    std::io::stdout().flush().context("writing the URL")?;
    app.run_until_stopped().await?;
    Ok(())
}
