//! `fanzha risk run|warnings|train|models`: two-card risk warnings (M1) over the store, and
//! the trained model beside the rules, for the operator (raw identifiers: the CLI runs on
//! the database's own machine).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use fanzha_risk::model::{self, Labels, ModelCard, ModelKind, Snapshots, Source, TrainOptions};
use fanzha_risk::run::WithModel;
use fanzha_risk::{FeatureConfig, RuleSet};
use fanzha_store::{RiskEntity, Scope, Warning, WarningFilter, WarningLevel, WarningReason};

use super::Context;
use crate::Outcome;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Run the feature engine and the rules over every event in the store, in event-time
    /// order, and store one warning per warned account or SIM (queued for its owner).
    Run {
        /// A directory of rule files (*.toml); default: the rule set built into Fanzha.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// Rows read per page of each event table.
        #[arg(long, default_value_t = fanzha_risk::run::PAGE_ROWS)]
        page: u32,
        /// The trained model to combine with the rules: a stored version, `latest` (the
        /// newest stored, if any) or `none` (the rules alone).
        #[arg(long, default_value = "latest")]
        model: String,
    },
    /// The stored warnings, strongest first.
    Warnings {
        /// Only this level: red, orange or yellow.
        #[arg(long)]
        level: Option<WarningLevel>,
        /// Only this pattern: mule, runner, sold_card, scam_caller_sim, sim_box.
        #[arg(long)]
        pattern: Option<String>,
        /// How many at most.
        #[arg(long, default_value_t = 1_000)]
        limit: u32,
    },
    /// Train the risk model (gradient-boosted trees over the rules' features) on this
    /// store's events and ground-truth labels, and store it with its model card.
    Train {
        /// The labels directory (entities.csv) for this store's data.
        #[arg(long, value_name = "DIR")]
        labels: PathBuf,
        /// Rows per entity kind at most: negatives are sampled (by entity) to fit.
        #[arg(long, default_value_t = 20_000)]
        max_rows: usize,
        /// The share of entities held out for the card's evaluation.
        #[arg(long, default_value_t = 0.2)]
        test_share: f64,
        /// The booster's complexity budget (perpetual's one knob; docs/risk-model.md says
        /// why 2).
        #[arg(long, default_value_t = 2.0)]
        budget: f32,
        /// The operating threshold on the probability the card reports figures at.
        #[arg(long, default_value_t = 0.5)]
        threshold: f64,
        /// Seeds the sampling, the split and the booster.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Training passes: the second replays the data marking with the first pass's
        /// model too, as `risk run` marks (docs/risk-model.md).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=5))]
        passes: u32,
        /// What is known of the data, for the card (e.g. "sim small, seed 3, default profile").
        #[arg(long)]
        note: Option<String>,
        /// Also evaluate on another store (another simulator seed or profile), with its labels.
        #[arg(long, value_name = "DB", requires = "eval_labels")]
        eval_db: Option<String>,
        #[arg(long, value_name = "DIR", requires = "eval_db")]
        eval_labels: Option<PathBuf>,
        /// What is known of the evaluation store's data, for the card.
        #[arg(long)]
        eval_note: Option<String>,
        /// Rows read per page of each event table.
        #[arg(long, default_value_t = fanzha_risk::run::PAGE_ROWS)]
        page: u32,
        /// The rule set whose warnings the replay marks, as `risk run` does (the link
        /// features depend on them); default: the built-in rule set.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// The stored models and their cards, oldest first.
    Models,
    /// Write a stored model (artefact and card) to a file, to use it in another store.
    ExportModel {
        /// A stored version, or `latest`.
        #[arg(long, default_value = "latest")]
        version: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Store a model written by `risk export-model` (e.g. trained on a labelled district).
    ImportModel {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Each pattern's level cut-offs in effect now (the rule files' changed by the recorded
    /// threshold decisions in effect) and every decision; decisions are recorded through
    /// the console or `POST /api/v1/governance/thresholds`.
    Thresholds {
        /// A directory of rule files (*.toml); default: the rule set built into Fanzha.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
}

/// The stored model a file of `risk export-model` holds, checked loadable by this build.
pub(crate) fn model_from_file(
    bytes: &[u8],
    shown: &str,
) -> anyhow::Result<fanzha_store::RiskModel> {
    use base64::Engine as _;
    let m: ModelFile = serde_json::from_slice(bytes)
        .with_context(|| format!("{shown}: not a model file of `risk export-model`"))?;
    if m.format != MODEL_FILE_FORMAT {
        anyhow::bail!(
            "{shown}: format {:?}, expected {MODEL_FILE_FORMAT:?}",
            m.format
        );
    }
    let artefact = base64::engine::general_purpose::STANDARD
        .decode(&m.artefact)
        .with_context(|| format!("{shown}: field artefact is not base64"))?;
    // Refuse what this build could not score with, before it is stored.
    fanzha_risk::model::Model::load(&artefact)
        .with_context(|| format!("{shown}: field artefact"))?;
    Ok(fanzha_store::RiskModel {
        version: m.version,
        created_at: m.created_at,
        artefact,
        card: m.card,
    })
}

/// The file `risk export-model` writes.
#[derive(serde::Serialize, serde::Deserialize)]
struct ModelFile {
    format: String,
    version: String,
    created_at: i64,
    card: String,
    /// The artefact's bytes, base64.
    artefact: String,
}

const MODEL_FILE_FORMAT: &str = "fanzha-risk-model/1";

/// The model `which` names (a stored version, `latest` or `none`) with its version.
pub(crate) async fn stored_model(
    store: &dyn fanzha_store::Store,
    which: &str,
) -> anyhow::Result<Option<(String, fanzha_risk::model::Model)>> {
    let version = match which {
        "none" => return Ok(None),
        "latest" => None,
        v => Some(v),
    };
    let found = fanzha_risk::model::stored(store, version).await?;
    if found.is_none() {
        if let Some(v) = version {
            anyhow::bail!("--model: no stored model has version {v} (see `fanzha risk models`)");
        }
    }
    Ok(found)
}

/// The rule files in `dir`, or the built-in set.
fn rule_set(dir: Option<&std::path::Path>) -> anyhow::Result<RuleSet> {
    Ok(match dir {
        Some(dir) => RuleSet::load_dir(dir)?,
        None => RuleSet::builtin().context("the built-in rule set")?,
    })
}

/// A warning as `risk warnings --json` prints it.
#[derive(serde::Serialize)]
struct Shown {
    entity_type: RiskEntity,
    entity_id: String,
    institution: String,
    score: u8,
    level: WarningLevel,
    pattern: String,
    measure: &'static str,
    reasons: Vec<WarningReason>,
    /// RFC 3339, Beijing time.
    first_warned_at: String,
    updated_at: String,
    version: i64,
    status: &'static str,
}

fn shanghai(micros: i64) -> String {
    fanzha_core::Instant::from_micros(micros)
        .map_or_else(|| micros.to_string(), |i| i.to_rfc3339_shanghai())
}

impl Shown {
    fn new(w: Warning) -> anyhow::Result<Shown> {
        Ok(Shown {
            reasons: w.reasons()?,
            entity_type: w.entity.kind,
            entity_id: w.entity.id,
            institution: w.institution_code,
            score: w.score.get(),
            level: w.level,
            pattern: w.pattern,
            measure: w.measure.as_str(),
            first_warned_at: shanghai(w.first_warned_at),
            updated_at: shanghai(w.updated_at),
            version: w.version,
            status: w.status.as_str(),
        })
    }
}

pub async fn run(ctx: &Context, cmd: Cmd) -> anyhow::Result<Outcome> {
    let store = ctx.store().await?;
    match cmd {
        Cmd::Run { rules, page, model } => {
            let mut set = rule_set(rules.as_deref())?;
            // Cut-offs change only by recorded decision: those in effect now apply.
            let decisions = store.threshold_decisions().await?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
            let governed = fanzha_risk::governance::apply_decisions(&mut set, &decisions, now)
                .context("the recorded threshold decisions")?;
            for e in governed.patterns.iter().filter(|e| !e.decisions.is_empty()) {
                eprintln!(
                    "{}: cut-offs red {} / orange {} / yellow {} by decision {:?}",
                    e.pattern,
                    e.levels.red(),
                    e.levels.orange(),
                    e.levels.yellow(),
                    e.decisions
                );
            }
            if !governed.unknown.is_empty() {
                eprintln!(
                    "threshold decisions {:?} name patterns the rule set lacks; not applied",
                    governed.unknown
                );
            }
            let model = stored_model(&*store, &model).await?;
            let with = model
                .as_ref()
                .map(|(version, model)| WithModel { model, version });
            let started = Instant::now();
            let report =
                fanzha_risk::run::run(&store, &set, with, FeatureConfig::default(), page).await?;
            let secs = started.elapsed().as_secs_f64();
            super::audit(
                &store,
                "cli.risk.run",
                serde_json::json!({ "report": &report, "rules": rules }),
            )
            .await?;
            if ctx.json {
                super::print_json(&serde_json::json!({ "report": report, "seconds": secs }))?;
            } else {
                let events: u64 = report.events.values().sum();
                println!(
                    "{events} events in {secs:.1} s ({:.0}/s); rules {}; model {}",
                    events as f64 / secs.max(1e-9),
                    report.rules_version,
                    report.model_version.as_deref().unwrap_or("none"),
                );
                for (kind, n) in &report.events {
                    println!("  {kind:<14} {n}");
                }
                println!(
                    "scored {} accounts and numbers; {} reached a warning level: {} new warning versions queued, {} unchanged, {} with no owner in the data (for the higher-level centre); {} earlier warnings withdrawn",
                    report.scored, report.warned, report.new_versions, report.unchanged, report.upstream, report.withdrawn
                );
                if report.model_version.is_some() {
                    println!("the model set the score of {} of them", report.by_model);
                }
                println!("next: fanzha risk warnings [--level red] [--json]");
            }
        }
        Cmd::Warnings {
            level,
            pattern,
            limit,
        } => {
            let filter = WarningFilter {
                level,
                pattern,
                ..WarningFilter::default()
            };
            let mut warnings = store.warning_list(&Scope::All, &filter, limit, 0).await?;
            warnings
                .sort_by(|a, b| (b.score.get(), &a.entity.id).cmp(&(a.score.get(), &b.entity.id)));
            super::audit(
                &store,
                "cli.risk.warnings",
                serde_json::json!({ "shown": warnings.len() }),
            )
            .await?;
            let shown = warnings
                .into_iter()
                .map(Shown::new)
                .collect::<anyhow::Result<Vec<_>>>()?;
            if ctx.json {
                super::print_json(&shown)?;
            } else {
                println!("score level   pattern          entity                     owner     first warned (Beijing)");
                for w in &shown {
                    let reasons: Vec<&str> = w.reasons.iter().map(|r| r.text_zh.as_str()).collect();
                    println!(
                        "{:>5} {:<7} {:<16} {:<7} {:<19} {:<9} {}\n      {}",
                        w.score,
                        w.level.as_str(),
                        w.pattern,
                        w.entity_type.as_str(),
                        w.entity_id,
                        w.institution,
                        w.first_warned_at,
                        reasons.join("；")
                    );
                }
                println!("{} warnings", shown.len());
            }
        }
        Cmd::Train {
            labels,
            max_rows,
            test_share,
            budget,
            threshold,
            seed,
            passes,
            note,
            eval_db,
            eval_labels,
            eval_note,
            page,
            rules,
        } => {
            let args = TrainArgs {
                labels,
                max_rows,
                opts: TrainOptions {
                    budget,
                    test_share,
                    threshold,
                    seed,
                    threads: None,
                    passes,
                },
                note,
                eval: eval_db
                    .zip(eval_labels)
                    .map(|(db, dir)| (db, dir, eval_note)),
                page,
                rules: rule_set(rules.as_deref())?,
            };
            train(ctx, &store, args).await?;
        }
        Cmd::Models => models(ctx, &store).await?,
        Cmd::ExportModel { version, out } => {
            use base64::Engine as _;
            let Some((version, _)) = stored_model(&*store, &version).await? else {
                anyhow::bail!("--version: the store holds no model (fanzha risk train makes one)");
            };
            let m = store
                .model_get(&version)
                .await?
                .with_context(|| format!("the stored model {version}"))?;
            let file = ModelFile {
                format: MODEL_FILE_FORMAT.to_owned(),
                version: m.version,
                created_at: m.created_at,
                card: m.card,
                artefact: base64::engine::general_purpose::STANDARD.encode(&m.artefact),
            };
            std::fs::write(&out, serde_json::to_vec(&file)?)
                .with_context(|| format!("writing {}", out.display()))?;
            super::audit(
                &store,
                "cli.risk.export_model",
                serde_json::json!({ "version": version, "out": out }),
            )
            .await?;
            println!("model {version} written to {}", out.display());
        }
        Cmd::ImportModel { file } => {
            let shown = file.display().to_string();
            let bytes = std::fs::read(&file).with_context(|| format!("reading {shown}"))?;
            let record = model_from_file(&bytes, &shown)?;
            let added = store.model_put(&record).await?;
            super::audit(
                &store,
                "cli.risk.import_model",
                serde_json::json!({ "version": record.version, "added": added }),
            )
            .await?;
            if added {
                println!(
                    "model {} stored; `fanzha risk run` now uses it",
                    record.version
                );
            } else {
                println!("model {} was already stored", record.version);
            }
        }
        Cmd::Thresholds { rules } => thresholds(ctx, &store, rules).await?,
    }
    Ok(Outcome::Clean)
}

/// `risk train`'s settings, as parsed.
struct TrainArgs {
    labels: PathBuf,
    max_rows: usize,
    opts: TrainOptions,
    note: Option<String>,
    eval: Option<(String, PathBuf, Option<String>)>,
    page: u32,
    rules: RuleSet,
}

/// One replay of the training store into labelled rows.
async fn training_rows(
    store: &dyn fanzha_store::Store,
    a: &TrainArgs,
    labels: &model::Labels,
    marks_with: Option<&model::Model>,
) -> anyhow::Result<Snapshots> {
    Ok(model::collect(
        store,
        fanzha_risk::Scorer::new(&a.rules, marks_with),
        labels,
        FeatureConfig::default(),
        a.max_rows,
        a.opts.seed,
        a.page,
    )
    .await?)
}

async fn train(
    ctx: &Context,
    store: &std::sync::Arc<dyn fanzha_store::Store>,
    a: TrainArgs,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let labels = read_labels(&a.labels.join("entities.csv"))?;
    let mut replayed = 0.0;
    let mut trained: Option<model::Trained> = None;
    for pass in 1..=a.opts.passes.max(1) {
        let replay_started = Instant::now();
        let marks_with = trained.as_ref().map(|t| &t.model);
        let snap = training_rows(&**store, &a, &labels, marks_with).await?;
        replayed += replay_started.elapsed().as_secs_f64();
        let source = Source::of(
            &super::shown_target(&ctx.db),
            &a.labels.display().to_string(),
            a.note.clone(),
            &snap,
        );
        let t = model::train(&snap, &labels, &a.opts, source, now_micros())
            .with_context(|| format!("training pass {pass}"))?;
        trained = Some(t);
    }
    let Some(mut trained) = trained else {
        anyhow::bail!("no training pass ran");
    };
    let passes = a.opts.passes.max(1);
    if let Some((db, dir, note)) = &a.eval {
        let other = fanzha_store::open(db)
            .await
            .with_context(|| format!("opening the store {}", super::shown_target(db)))?;
        let other_labels = read_labels(&dir.join("entities.csv"))?;
        let other_snap: Snapshots = model::collect(
            &*other,
            fanzha_risk::Scorer::new(&a.rules, Some(&trained.model)),
            &other_labels,
            FeatureConfig::default(),
            a.max_rows,
            a.opts.seed,
            a.page,
        )
        .await?;
        let src = Source::of(
            &super::shown_target(db),
            &dir.display().to_string(),
            note.clone(),
            &other_snap,
        );
        trained.add_held_out(src, &other_snap);
    }
    let record = trained.to_stored()?;
    let stored = store.model_put(&record).await?;
    let secs = started.elapsed().as_secs_f64();
    super::audit(
        store,
        "cli.risk.train",
        serde_json::json!({ "version": &trained.card.version, "labels": a.labels, "stored": stored }),
    )
    .await?;
    if ctx.json {
        super::print_json(
            &serde_json::json!({ "card": &trained.card, "stored": stored, "seconds": secs }),
        )?;
        return Ok(());
    }
    println!(
        "model {} ({}): {} events replayed {} times in {replayed:.1} s, trained in {:.1} s",
        trained.card.version,
        if stored { "stored" } else { "already stored" },
        trained.card.training.events,
        passes,
        secs - replayed
    );
    print_card(&trained.card);
    println!("next: fanzha risk models [--json]");
    Ok(())
}

fn print_card(card: &ModelCard) {
    for (kind, k) in &card.kinds {
        if !k.trained {
            println!("  {kind:<7} {}", k.note.as_deref().unwrap_or("not trained"));
            continue;
        }
        println!(
            "  {kind:<7} train {} rows / {} entities ({} targets); held out {} entities ({} targets); negatives kept {:.3}; {} trees",
            k.rows_train, k.entities_train, k.targets_train, k.entities_test, k.targets_test, k.negative_rate, k.trees
        );
        if let Some(m) = &k.evaluation {
            println!("          held out: {}", figures(m));
        }
        let top: Vec<String> = k
            .importances
            .iter()
            .take(5)
            .map(|i| format!("{} {:.2}", i.feature, i.gain_share))
            .collect();
        println!("          top features: {}", top.join(", "));
    }
    for h in &card.held_out_stores {
        for (kind, m) in &h.kinds {
            println!("  {kind:<7} on {}: {}", h.source.store, figures(m));
        }
    }
}

fn figures(m: &model::Metrics) -> String {
    format!(
        "P {:.2} R {:.2} F1 {:.2} AP {:.2} at p ≥ {} ({} of {} targets, {:.0} false alarms)",
        m.precision,
        m.recall,
        m.f1,
        m.average_precision,
        m.threshold,
        m.true_positives,
        m.targets,
        m.false_positives
    )
}

async fn thresholds(
    ctx: &Context,
    store: &std::sync::Arc<dyn fanzha_store::Store>,
    rules: Option<PathBuf>,
) -> anyhow::Result<()> {
    let set = match &rules {
        Some(dir) => RuleSet::load_dir(dir)?,
        None => RuleSet::builtin().context("the built-in rule set")?,
    };
    let decisions = store.threshold_decisions().await?;
    let g = fanzha_risk::governance::effective_levels(&set, &decisions, now_micros())
        .context("the recorded threshold decisions")?;
    super::audit(
        store,
        "cli.risk.thresholds",
        serde_json::json!({ "decisions": decisions.len() }),
    )
    .await?;
    let patterns: Vec<serde_json::Value> = g
        .patterns
        .iter()
        .map(|e| {
            serde_json::json!({
                "pattern": e.pattern.as_str(),
                "red": e.levels.red(),
                "orange": e.levels.orange(),
                "yellow": e.levels.yellow(),
                "files": [e.from_files.red(), e.from_files.orange(), e.from_files.yellow()],
                "decisions": e.decisions,
            })
        })
        .collect();
    let log: Vec<serde_json::Value> = decisions
        .iter()
        .map(|d| {
            serde_json::json!({
                "id": d.id,
                "at": shanghai(d.at),
                "effective_at": shanghai(d.effective_at),
                "actor": d.actor,
                "pattern": d.pattern,
                "level": d.level.as_str(),
                "old": d.old_threshold,
                "new": d.new_threshold,
                "reason": d.reason,
            })
        })
        .collect();
    if ctx.json {
        return super::print_json(&serde_json::json!({
            "rules_version": set.version(),
            "patterns": patterns,
            "decisions": log,
            "pending": g.pending,
            "unknown": g.unknown,
        }));
    }
    println!(
        "cut-offs in effect (red / orange / yellow), rules {}",
        set.version()
    );
    for e in &g.patterns {
        println!(
            "  {:<16} {:>5} / {:>5} / {:>5}   files {} / {} / {}   decisions {:?}",
            e.pattern.as_str(),
            e.levels.red(),
            e.levels.orange(),
            e.levels.yellow(),
            e.from_files.red(),
            e.from_files.orange(),
            e.from_files.yellow(),
            e.decisions
        );
    }
    for d in &decisions {
        println!(
            "#{} {} effective {}  {} {} {:?} -> {}  by {}: {}",
            d.id,
            shanghai(d.at),
            shanghai(d.effective_at),
            d.pattern,
            d.level.as_str(),
            d.old_threshold,
            d.new_threshold,
            d.actor,
            d.reason
        );
    }
    Ok(())
}

async fn models(
    ctx: &Context,
    store: &std::sync::Arc<dyn fanzha_store::Store>,
) -> anyhow::Result<()> {
    let list = store.model_list().await?;
    super::audit(
        store,
        "cli.risk.models",
        serde_json::json!({ "shown": list.len() }),
    )
    .await?;
    if ctx.json {
        let cards = list
            .iter()
            .map(|m| {
                Ok(serde_json::json!({
                    "version": m.version,
                    "created_at": shanghai(m.created_at),
                    "card": serde_json::from_str::<serde_json::Value>(&m.card)?,
                }))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        super::print_json(&cards)?;
        return Ok(());
    }
    for m in &list {
        println!("{}  created {}", m.version, shanghai(m.created_at));
        match serde_json::from_str::<ModelCard>(&m.card) {
            Ok(card) => print_card(&card),
            // A card from another build's layout is still listed, not misread.
            Err(_) => println!("  (card in another layout: fanzha risk models --json shows it)"),
        }
    }
    println!("{} models", list.len());
    Ok(())
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Reads labels/entities.csv: accounts and SIMs with their roles (other entity types are
/// not scored by the model).
fn read_labels(path: &Path) -> anyhow::Result<Labels> {
    let rows: Vec<_> = super::eval::read_labels(path)?
        .into_iter()
        .map(|l| {
            let kind = match l.kind {
                fanzha_risk::eval::EvalType::Account => ModelKind::Account,
                fanzha_risk::eval::EvalType::Sim => ModelKind::Sim,
            };
            (kind, l.id, l.role)
        })
        .collect();
    Ok(Labels::new(rows))
}
