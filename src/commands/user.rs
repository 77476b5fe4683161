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
        /// The bank or carrier (its institutions.csv code) a bank_operator or
        /// carrier_operator works for; they see only its accounts or SIMs.
        #[arg(long)]
        institution: Option<String>,
        /// The jurisdiction (its jurisdictions.csv code) a station_leader, station_officer
        /// or community_worker works in; they see only the people within it.
        #[arg(long)]
        jurisdiction: Option<String>,
    },
}

/// Checks that a role gets exactly the remit it works in: an institution for bank and
/// carrier operators, a jurisdiction for station and community roles, neither for the
/// centre's roles (a centre user given a jurisdiction would look scoped and is not).
fn check_remit(
    role: Role,
    institution: Option<&str>,
    jurisdiction: Option<&str>,
) -> anyhow::Result<()> {
    use fanzha_server::policy::{remit, Remit};
    let given = |v: Option<&str>| v.is_some_and(|c| !c.trim().is_empty());
    let (inst, juris) = (given(institution), given(jurisdiction));
    if institution.is_some() && !inst || jurisdiction.is_some() && !juris {
        bail!("--institution and --jurisdiction need a code");
    }
    match remit(role) {
        Remit::Institution if !inst => {
            bail!("a {role} works for one bank or carrier: give --institution CODE")
        }
        Remit::Jurisdiction if !juris => {
            bail!("a {role} works in one jurisdiction: give --jurisdiction CODE")
        }
        Remit::Institution if juris => {
            bail!("a {role} is scoped by --institution, not --jurisdiction")
        }
        Remit::Jurisdiction if inst => {
            bail!("a {role} is scoped by --jurisdiction, not --institution")
        }
        Remit::District | Remit::NoPersons if inst || juris => bail!(
            "a {role} works on the whole district: it takes neither --institution nor --jurisdiction"
        ),
        _ => Ok(()),
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: fanzha_core::vocab::VocabError| e.to_string())
}

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    match cmd {
        Cmd::Add {
            username,
            role,
            institution,
            jurisdiction,
        } => {
            if username.trim().is_empty() || username.chars().count() > 64 {
                bail!("a username has 1 to 64 characters");
            }
            check_remit(role, institution.as_deref(), jurisdiction.as_deref())?;
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
                institution_code: institution.as_deref(),
                jurisdiction_code: jurisdiction.as_deref(),
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
                serde_json::json!({
                    "username": username,
                    "role": role.as_str(),
                    "institution": institution,
                    "jurisdiction": jurisdiction,
                    "id": id,
                }),
            )
            .await?;
            if ctx.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "id": id,
                        "username": username,
                        "role": role.as_str(),
                        "institution": institution,
                        "jurisdiction": jurisdiction,
                    })
                );
            } else {
                let remit = match (&institution, &jurisdiction) {
                    (Some(i), _) => format!(", institution {i}"),
                    (_, Some(j)) => format!(", jurisdiction {j}"),
                    _ => String::new(),
                };
                println!("added {username} ({role}{remit}), id {id}");
            }
        }
    }
    Ok(Outcome::Clean)
}

#[cfg(test)]
mod tests {
    use super::check_remit;
    use fanzha_core::vocab::Role;

    #[test]
    fn each_role_gets_exactly_its_remit() {
        assert!(check_remit(Role::BankOperator, Some("ICBC"), None).is_ok());
        assert!(check_remit(Role::StationOfficer, None, Some("500103001")).is_ok());
        assert!(check_remit(Role::Analyst, None, None).is_ok());
        let err = |r, i, j| check_remit(r, i, j).unwrap_err().to_string();
        assert!(err(Role::BankOperator, None, None).contains("--institution"));
        assert!(err(Role::CarrierOperator, Some(" "), None).contains("need a code"));
        assert!(err(Role::CommunityWorker, None, None).contains("--jurisdiction"));
        assert!(err(Role::StationLeader, Some("ICBC"), Some("5001")).contains("not --institution"));
        assert!(err(Role::Analyst, None, Some("5001")).contains("neither"));
        assert!(err(Role::Auditor, Some("ICBC"), None).contains("neither"));
    }
}
