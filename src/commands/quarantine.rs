//! `fanzha quarantine list|show`: the records ingest rejected, with their original bytes.

use base64::Engine as _;
use fanzha_store::QuarantineEntry;

use super::Context;
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// List quarantined records.
    List {
        /// Only records from files whose path contains this text.
        #[arg(long)]
        file: Option<String>,
    },
    /// Show one quarantined record.
    Show {
        /// The record's id, as `list` prints it.
        id: i64,
    },
}

#[derive(serde::Serialize)]
struct Shown {
    id: i64,
    file: String,
    line: u64,
    kind: String,
    field: Option<String>,
    reason: String,
    original_base64: String,
    original_text: String,
}

/// The original as text: UTF-8 when it is, else GBK (the other encoding we read).
fn original_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::GBK.decode(bytes).0.into_owned(),
    }
}

fn shown(e: QuarantineEntry) -> Shown {
    Shown {
        id: e.id,
        original_base64: base64::engine::general_purpose::STANDARD.encode(&e.original),
        original_text: original_text(&e.original),
        file: e.file,
        line: e.line,
        kind: e.kind,
        field: e.field,
        reason: e.reason,
    }
}

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    match cmd {
        Cmd::List { file } => {
            let entries: Vec<Shown> = store
                .quarantine_list()
                .await?
                .into_iter()
                .filter(|e| file.as_deref().is_none_or(|f| e.file.contains(f)))
                .map(shown)
                .collect();
            super::audit(
                &store,
                "cli.quarantine.list",
                serde_json::json!({ "shown": entries.len() }),
            )
            .await?;
            if ctx.json {
                super::print_json(&entries)?;
            } else if entries.is_empty() {
                println!("the quarantine is empty");
            } else {
                for e in &entries {
                    let field = e
                        .field
                        .as_deref()
                        .map(|f| format!(" [{f}]"))
                        .unwrap_or_default();
                    println!(
                        "#{} {}:{} {}{} {}",
                        e.id, e.file, e.line, e.kind, field, e.reason
                    );
                }
            }
            Ok(Outcome::Clean)
        }
        Cmd::Show { id } => {
            let entry = store.quarantine_get(id).await?;
            super::audit(
                &store,
                "cli.quarantine.show",
                serde_json::json!({ "id": id, "found": entry.is_some() }),
            )
            .await?;
            let Some(e) = entry else {
                anyhow::bail!("no quarantined record has id {id}; see `fanzha quarantine list`");
            };
            let e = shown(e);
            if ctx.json {
                super::print_json(&e)?;
            } else {
                println!("id:       {}", e.id);
                println!("file:     {}", e.file);
                println!("line:     {}", e.line);
                println!("kind:     {}", e.kind);
                println!(
                    "field:    {}",
                    e.field.as_deref().unwrap_or("(the whole record)")
                );
                println!("reason:   {}", e.reason);
                println!("original: {}", e.original_text);
            }
            Ok(Outcome::Clean)
        }
    }
}
