//! `fanzha user add`: accounts for the server's users, created by the operator on the
//! database's machine (an admin page comes with the console).

use std::io::BufRead as _;

use anyhow::{bail, Context as _};
use fanzha_core::vocab::Role;

use super::Context;
use crate::Outcome;

/// Shorter passphrases fall to offline guessing even behind argon2.
const MIN_PASSWORD_CHARS: usize = 12;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Add a user; the password is read from the first line of standard input, so it never
    /// appears in the process list, the shell history or the audit trail.
    Add {
        username: String,
        /// admin, commander, analyst, approver, station_leader, station_officer,
        /// community_worker, bank_operator, carrier_operator, publicity or auditor.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: fanzha_core::vocab::VocabError| e.to_string())
}

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    match cmd {
        Cmd::Add { username, role } => {
            if username.trim().is_empty() || username.chars().count() > 64 {
                bail!("a username has 1 to 64 characters");
            }
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.chars().count() < MIN_PASSWORD_CHARS {
                bail!("the password needs at least {MIN_PASSWORD_CHARS} characters");
            }
            let store = ctx.store().await?;
            let account = fanzha_server::auth::Account {
                username: &username,
                role,
                institution_code: None,
                jurisdiction_code: None,
            };
            let id = fanzha_server::auth::add_user(&*store, &account, password)
                .await
                .context("adding the user")?;
            let Some(id) = id else {
                bail!("the username {username} is taken");
            };
            super::audit(
                &store,
                "cli.user.add",
                serde_json::json!({ "username": username, "role": role.as_str(), "id": id }),
            )
            .await?;
            if ctx.json {
                println!(
                    "{}",
                    serde_json::json!({ "id": id, "username": username, "role": role.as_str() })
                );
            } else {
                println!("added {username} ({role}), id {id}");
            }
        }
    }
    Ok(Outcome::Clean)
}
