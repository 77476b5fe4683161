//! `fanzha demo`: loads the bundled sample district into the store and shows what it holds.
//! Later capabilities grow it (the simulator, the engines, the console).

use std::sync::Arc;

use anyhow::Context as _;
use fanzha_core::schema::Kind;
use fanzha_ingest::IngestOptions;

use super::Context;
use crate::progress::Bar;
use crate::Outcome;

#[derive(clap::Args)]
pub struct Args {}

macro_rules! sample {
    ($($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../../fixtures/sample-district/", $name, ".csv")))),+]
    };
}

/// The bundled sample district, one CSV per kind, in load order.
const SAMPLE: &[(&str, &str)] = sample!(
    "jurisdictions",
    "institutions",
    "places",
    "persons",
    "accounts",
    "sims",
    "balances",
    "transactions",
    "calls",
    "sms",
    "logins",
    "app_events",
    "reports",
    "report_payments",
    "leads",
    "cases",
    "external_freezes",
);

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

pub async fn run(ctx: &Context, _args: Args) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    let dir = tempfile::tempdir().context("creating a folder for the sample district")?;
    let opts = IngestOptions {
        progress: Arc::new(Bar::new()),
        ..IngestOptions::default()
    };
    let (mut inserted, mut rejected) = (0, 0);
    for (name, text) in SAMPLE {
        let path = dir.path().join(format!("{name}.csv"));
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        let r = fanzha_ingest::ingest_file(&store, &path, &opts).await?;
        inserted += r.inserted;
        rejected += r.rejected;
    }
    let counts = store.counts().await?;
    super::audit(
        &store,
        "cli.demo",
        serde_json::json!({ "inserted": inserted, "rejected": rejected }),
    )
    .await?;
    if ctx.json {
        println!("{}", serde_json::to_string(&counts)?);
    } else {
        println!(
            "反诈 Fanzha — 示例辖区 sample district loaded into {}",
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
        println!(
            "next: fanzha --db {} db stats | fanzha ingest FILE… | fanzha quarantine list",
            ctx.db
        );
    }
    Ok(if rejected > 0 {
        Outcome::Rejected
    } else {
        Outcome::Clean
    })
}
