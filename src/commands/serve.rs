//! `fanzha serve`: the HTTP API on the chosen store until Ctrl-C or SIGTERM.

use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::Context as _;
use fanzha_server::{Application, Settings};

use super::Context;
use crate::Outcome;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port (the URL printed says which).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A directory of risk rule files (`*.toml`) for real-time decisions. It must load at
    /// start; it is then checked every few seconds and reloaded without a restart (a file
    /// with an error is refused, logged with its line and column, and the previous set
    /// stays). Default: the built-in rules.
    #[arg(long, value_name = "DIR")]
    rules: Option<std::path::PathBuf>,
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<Outcome> {
    let app = Application::build_with(
        Settings {
            listen: args.listen,
            db: ctx.db.clone(),
        },
        fanzha_server::LiveSettings {
            rules_dir: args.rules,
            ..fanzha_server::LiveSettings::default()
        },
    )
    .await?;
    let url = format!("http://{}", app.local_addr());
    super::audit(
        &app.store(),
        "cli.serve",
        serde_json::json!({ "listen": app.local_addr().to_string() }),
    )
    .await?;
    if ctx.json {
        println!("{}", serde_json::json!({ "url": url }));
    } else {
        println!(
            "serving {} on {url} (Ctrl-C stops)",
            super::shown_target(&ctx.db)
        );
    }
    // Whoever started us (a script, a test) reads the URL before the first request.
    std::io::stdout().flush().context("writing the URL")?;
    app.run_until_stopped().await?;
    Ok(Outcome::Clean)
}
