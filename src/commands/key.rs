//! `fanzha key add|list|revoke`: API keys for banks' and carriers' systems. A key is shown
//! once, when it is made; rotation is `add` then `revoke` of the old one.

use anyhow::{bail, Context as _};
use fanzha_core::vocab::Role;

use super::Context;
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Make a key for an institution's system and print it (once).
    Add {
        /// The institution's code (as in institutions.csv).
        #[arg(long)]
        institution: String,
        /// bank_operator or carrier_operator.
        #[arg(long, value_parser = parse_key_role)]
        role: Role,
        /// What the key is for, e.g. "core banking, production".
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Every key, revoked ones included (never the keys themselves).
    List,
    /// Revoke a key by its id.
    Revoke { id: i64 },
}

/// Keys are for institutions' systems; people log in.
fn parse_key_role(s: &str) -> Result<Role, String> {
    match s.parse::<Role>() {
        Ok(r @ (Role::BankOperator | Role::CarrierOperator)) => Ok(r),
        _ => Err("a key's role is bank_operator or carrier_operator".to_owned()),
    }
}

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    match cmd {
        Cmd::Add {
            institution,
            role,
            label,
        } => {
            if institution.trim().is_empty() {
                bail!("--institution needs a code");
            }
            let (id, key) = fanzha_server::auth::add_api_key(&*store, &institution, role, &label)
                .await
                .context("making the key")?;
            super::audit(
                &store,
                "cli.key.add",
                serde_json::json!({ "id": id, "institution": institution, "role": role.as_str() }),
            )
            .await?;
            if ctx.json {
                println!("{}", serde_json::json!({ "id": id, "key": key }));
            } else {
                println!("key #{id} for {institution} ({role}); shown once, store it now:");
                println!("{key}");
            }
        }
        Cmd::List => {
            let keys = store.api_key_list().await?;
            super::audit(&store, "cli.key.list", serde_json::json!({})).await?;
            if ctx.json {
                super::print_json(&keys)?;
            } else {
                for k in &keys {
                    let state = if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    println!(
                        "#{} {} {} {} {}",
                        k.id, k.institution_code, k.role, state, k.label
                    );
                }
            }
        }
        Cmd::Revoke { id } => {
            let done = store.api_key_revoke(id).await?;
            super::audit(
                &store,
                "cli.key.revoke",
                serde_json::json!({ "id": id, "revoked": done }),
            )
            .await?;
            if !done {
                bail!("no active key #{id}");
            }
            if !ctx.json {
                println!("key #{id} revoked");
            }
        }
    }
    Ok(Outcome::Clean)
}
