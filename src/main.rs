//! `fanzha`: the command line. Thin by design: it parses arguments, calls the libraries,
//! prints, and records each run in the audit trail. All the work lives in the crates.

mod commands;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Ingest frees each batch on another thread than the one that built it; glibc's allocator
// spends a quarter of the run consolidating those frees, mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Fanzha (反诈): joint operations against telecom and online fraud.
#[derive(Parser)]
#[command(name = "fanzha", version, about)]
struct Cli {
    /// The store: a SQLite file path, or a postgres:// URL for the shared deployment.
    #[arg(long, global = true, env = "FANZHA_DB", default_value = "./fanzha.db")]
    db: String,

    /// Machine-readable JSON output.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest data files; the kind comes from each file's stem unless --kind is given.
    Ingest(commands::ingest::Args),
    /// Inspect rejected records.
    #[command(subcommand)]
    Quarantine(commands::quarantine::Cmd),
    /// The database: row counts, migrations, backup and restore.
    #[command(subcommand)]
    Db(commands::db::Cmd),
    /// The audit trail: verify its hash chain, list entries, detect insiders.
    #[command(subcommand)]
    Audit(commands::audit::Cmd),
    /// Serve the JSON API (and its OpenAPI document, /healthz, /metrics) until Ctrl-C.
    Serve(commands::serve::Args),
    /// API keys for banks' and carriers' systems.
    #[command(subcommand)]
    Key(commands::key::Cmd),
    /// The server's users.
    #[command(subcommand)]
    User(commands::user::Cmd),
    /// Simulate a district into a directory and load it, showing what it holds.
    Demo(commands::demo::Args),
    /// Write a seeded simulated district: every data kind plus ground-truth labels.
    Sim(commands::sim::Args),
    /// Convert public AML benchmark files (IBM AMLworld, AMLSim) into data files and labels.
    #[command(subcommand)]
    Convert(commands::convert::Cmd),
    /// Measure ingest and simulator throughput.
    #[command(subcommand)]
    Bench(commands::bench::Cmd),
    /// Two-card risk: run the feature engine and the rules, list the warnings.
    #[command(subcommand)]
    Risk(commands::risk::Cmd),
    /// Follow a victim report's money forward: holdings to stop, exits, and the
    /// transactions that carried every fen, under a declared tracing rule.
    Trace(commands::trace::Args),
    /// Stop-payment planning: the accounts to stop for a report, each order sized to the
    /// traced holding.
    #[command(subcommand)]
    Stop(commands::trace::StopCmd),
    /// The freeze registry: every authority's measures on an account, queued requests,
    /// overdue screenings and over-freezing.
    #[command(subcommand)]
    Freezes(commands::freezes::Cmd),
    /// Cases filed here (立案): freezes are made under one.
    #[command(subcommand)]
    Case(commands::orders::CaseCmd),
    /// Stop-payment, freeze, renewal, release and return orders: draft, approve, send,
    /// record the bank's answer, lift.
    #[command(subcommand)]
    Order(commands::orders::OrderCmd),
    /// Returns of frozen money to victims.
    #[command(subcommand)]
    Returns(commands::trace::ReturnsCmd),
    /// Score an engine's output against ground-truth labels.
    #[command(subcommand)]
    Eval(commands::eval::Cmd),
    /// Deliver queued warnings to each institution's webhook (signed, retried, dead-lettered);
    /// `deliver status` shows what waits.
    Deliver(commands::deliver::Args),
}

/// Exit codes: 0 everything stored (or verified); 1 some records rejected, or `audit verify`
/// found the trail broken; 2 a file or the configuration was unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Clean = 0,
    Rejected = 1,
    Unusable = 2,
}

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FANZHA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(outcome) => ExitCode::from(outcome as u8),
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::from(Outcome::Unusable as u8)
        }
    }
}

/// The error and its causes, each said once: library errors often repeat their cause in
/// their own message, and `{:#}` would print it twice.
fn error_chain(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !msg.contains(&cause) {
            msg.push_str(": ");
            msg.push_str(&cause);
        }
    }
    msg
}

/// Rust ignores SIGPIPE, so `fanzha quarantine list | head` would panic on the closed pipe.
/// A command-line tool should end quietly instead, as other Unix tools do.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; it only resets a signal
    // disposition to the system default.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    // The linkage rules and the holiday calendar are configuration: a file with an error
    // stops every command here, naming its line, rather than being ignored later.
    fanzha_trace::orders::Rules::configured().map_err(|e| {
        anyhow::anyhow!(
            "the linkage rules ({}): {e}",
            fanzha_trace::orders::RULES_ENV
        )
    })?;
    fanzha_trace::calendar::Calendar::configured().map_err(|e| {
        anyhow::anyhow!(
            "the holiday calendar ({}): {e}",
            fanzha_trace::calendar::CALENDAR_ENV
        )
    })?;
    let ctx = commands::Context {
        db: cli.db,
        json: cli.json,
    };
    match cli.command {
        Command::Ingest(args) => commands::ingest::run(&ctx, args).await,
        Command::Quarantine(cmd) => commands::quarantine::run(&ctx, cmd).await,
        Command::Db(cmd) => commands::db::run(&ctx, cmd).await,
        Command::Audit(cmd) => commands::audit::run(&ctx, cmd).await,
        Command::Serve(args) => commands::serve::run(&ctx, args).await,
        Command::Key(cmd) => commands::key::run(&ctx, cmd).await,
        Command::User(cmd) => commands::user::run(&ctx, cmd).await,
        Command::Demo(args) => commands::demo::run(&ctx, args).await,
        Command::Sim(args) => commands::sim::run(&ctx, args).await,
        Command::Convert(cmd) => commands::convert::run(&ctx, cmd).await,
        Command::Bench(cmd) => commands::bench::run(&ctx, cmd).await,
        Command::Risk(cmd) => commands::risk::run(&ctx, cmd).await,
        Command::Trace(args) => commands::trace::run(&ctx, args).await,
        Command::Returns(cmd) => commands::trace::returns(&ctx, cmd).await,
        Command::Stop(cmd) => commands::trace::stop(&ctx, cmd).await,
        Command::Case(cmd) => commands::orders::case(&ctx, cmd).await,
        Command::Order(cmd) => commands::orders::order(&ctx, cmd).await,
        Command::Freezes(cmd) => commands::freezes::run(&ctx, cmd).await,
        Command::Eval(cmd) => commands::eval::run(&ctx, cmd).await,
        Command::Deliver(args) => commands::deliver::run(&ctx, args).await,
    }
}
