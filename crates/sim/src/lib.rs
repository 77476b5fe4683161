//! Fanzha's seeded district simulator.
//!
//! [`run`] writes every data kind of DATA.md into a directory (CSV or JSON lines) and the
//! ground truth into its `labels/`: a district of residents with phones, accounts and devices,
//! a month of ordinary life with its look-alikes, and a fraud ecosystem of rings, roles and
//! victims by typology. The same seed, scale and profile give byte-identical files, however
//! many threads generate them.
//!
//! Time starts at 2026-03-01T00:00:00+08:00 ([`clock::START`]) and runs `days` days. The
//! world and the fraud plan are built first on one thread; then days are generated in
//! parallel waves (each day from its own random stream), sorted by time, formatted, and
//! written in day order while the FIFO replay for the labels follows the ledger.
//!
//! This crate depends on `fanzha-core` only: it writes files, and the CLI ingests them.

pub mod clock;
pub mod config;
pub mod event;
pub mod fraud;
pub mod ident;
pub mod labels;
pub mod life;
pub mod rng;
pub mod world;
pub mod write;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fanzha_core::schema::Kind;

pub use config::{Config, Format, Params, Profile, Scale};

use event::{Day, NONE};
use fraud::{EntityKind, Plan};
use labels::Ledger;
use world::{World, CARRIERS, INSTITUTIONS};
use write::{Rows, Sink};

/// The longest simulation `run` accepts, in days.
pub const MAX_DAYS: u32 = 366;

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// Rows and bytes written to one file.
#[derive(Debug, Clone)]
pub struct FileCount {
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Data files, in writing order.
    pub files: Vec<FileCount>,
    /// Label files.
    pub labels: Vec<FileCount>,
    pub residents: usize,
    pub rings: usize,
    pub victims: usize,
    pub reported: usize,
    /// Total loss of the window's victims, in fen.
    pub loss_fen: i64,
    pub elapsed: Duration,
}

impl Summary {
    pub fn rows(&self, name: &str) -> u64 {
        self.files
            .iter()
            .chain(&self.labels)
            .find(|f| f.name == name)
            .map_or(0, |f| f.rows)
    }

    pub fn bytes(&self) -> u64 {
        self.files.iter().chain(&self.labels).map(|f| f.bytes).sum()
    }
}

/// Generates the district described by `cfg` into `out` (created if missing).
pub fn run(cfg: &Config, out: &Path) -> Result<Summary, SimError> {
    run_with_progress(cfg, out, &mut |_, _| {})
}

/// As [`run`], calling `progress(days_written, days)` as days are written.
pub fn run_with_progress(
    cfg: &Config,
    out: &Path,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<Summary, SimError> {
    if cfg.days == 0 {
        return Err(SimError::Config("--days must be at least 1".into()));
    }
    // A year is the longest window any report or engine looks at; a typo such as 30000
    // would otherwise run for hours and fill the disk.
    if cfg.days > MAX_DAYS {
        return Err(SimError::Config(format!(
            "--days must be at most {MAX_DAYS}, got {}",
            cfg.days
        )));
    }
    if cfg.residents < 200 {
        return Err(SimError::Config("at least 200 residents are needed".into()));
    }
    let started = Instant::now();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SimError::Io { path, source }
    };
    let label_dir = out.join("labels");
    std::fs::create_dir_all(&label_dir).map_err(io(&label_dir))?;

    let mut world = World::generate(cfg);
    let mut plan = fraud::plan(cfg, &mut world);
    debug_assert!(fraud::check(&plan).is_ok());
    let w = &world;
    let f = cfg.format;
    let mut files = Vec::new();
    let mut add = |name: Kind, r: (u64, u64)| {
        files.push(FileCount {
            name: name.as_str().into(),
            rows: r.0,
            bytes: r.1,
        })
    };

    add(
        Kind::Jurisdictions,
        write::write_kind(out, Kind::Jurisdictions, f, |r| {
            r.str(&w.district_code);
            r.str(&w.district_name);
            r.str("district");
            r.empty();
            r.str("示范区公安分局");
            r.end();
            for t in &w.towns {
                r.str(&t.code);
                r.str(&t.name);
                r.str("town");
                r.str(&w.district_code);
                r.str(&t.station);
                r.end();
            }
            for c in &w.communities {
                r.str(&c.code);
                r.str(&c.name);
                r.str("community");
                r.str(&w.towns[c.town as usize].code);
                r.str(&c.station);
                r.end();
            }
        })?,
    );
    add(
        Kind::Institutions,
        write::write_kind(out, Kind::Institutions, f, |r| {
            for i in INSTITUTIONS {
                r.str(i.code);
                r.str(i.name);
                r.str(i.kind);
                r.end();
            }
        })?,
    );
    add(
        Kind::Places,
        write::write_kind(out, Kind::Places, f, |r| {
            for p in &w.places {
                r.str(&p.id);
                r.str(p.kind);
                r.str(&w.communities[p.community as usize].code);
                r.str(&p.name);
                r.str(&p.address);
                r.str(&format!("{:.5}", p.lat));
                r.str(&format!("{:.5}", p.lon));
                r.end();
            }
        })?,
    );
    add(
        Kind::Persons,
        write::write_kind(out, Kind::Persons, f, |r| {
            for (i, p) in w.persons.iter().enumerate() {
                r.str(&p.id);
                r.str(&p.name);
                r.str(&w.communities[p.community as usize].code);
                r.str(p.id_kind);
                match w.phone_of(i as u32) {
                    NONE => r.empty(),
                    s => r.str(&w.sims[s as usize].msisdn),
                }
                r.str(&p.address);
                r.str(&p.tags_text());
                r.end();
            }
        })?,
    );
    let mut listed: Vec<u32> = (0..w.accounts.len() as u32)
        .filter(|&a| w.accounts[a as usize].listed)
        .collect();
    listed.sort_by_key(|&a| (w.accounts[a as usize].opened, a));
    add(
        Kind::Accounts,
        write::write_kind(out, Kind::Accounts, f, |r| {
            for &a in &listed {
                let acc = &w.accounts[a as usize];
                r.str(&acc.id);
                r.str(INSTITUTIONS[acc.bank as usize].code);
                r.str(&w.persons[acc.holder as usize].id);
                r.ts(acc.opened);
                r.str(acc.class);
                r.str(acc.status);
                r.end();
            }
        })?,
    );
    let mut sims: Vec<u32> = (0..w.sims.len() as u32).collect();
    sims.sort_by_key(|&s| (w.sims[s as usize].activated, s));
    add(
        Kind::Sims,
        write::write_kind(out, Kind::Sims, f, |r| {
            for &s in &sims {
                let sim = &w.sims[s as usize];
                r.str(&sim.msisdn);
                r.str(CARRIERS[sim.carrier as usize]);
                r.str(&w.persons[sim.holder as usize].id);
                r.ts(sim.activated);
                r.str(sim.kind);
                r.opt_ts((sim.deactivated != i64::MIN).then_some(sim.deactivated));
                r.end();
            }
        })?,
    );
    add(
        Kind::Balances,
        write::write_kind(out, Kind::Balances, f, |r| {
            for &a in &listed {
                let acc = &w.accounts[a as usize];
                if acc.balance > 0 && acc.opened <= clock::START {
                    r.str(&acc.id);
                    r.ts(clock::START);
                    r.int(acc.balance);
                    r.end();
                }
            }
        })?,
    );

    // The days, in parallel waves, written in order.
    let opening: Vec<i64> = w
        .accounts
        .iter()
        .map(|a| {
            if a.listed && a.opened <= clock::START {
                a.balance
            } else {
                0
            }
        })
        .collect();
    let mut ledger = Ledger::new(opening, plan.payments.iter().map(|p| p.victim).collect());
    let hot = [
        Kind::Transactions,
        Kind::Calls,
        Kind::Sms,
        Kind::Logins,
        Kind::AppEvents,
    ];
    let mut sinks = Vec::with_capacity(hot.len());
    for k in hot {
        sinks.push(Sink::create(
            out,
            k.as_str(),
            f.extension(),
            &Rows::for_kind(k, f).header(),
        )?);
    }
    let threads = cfg.threads.max(1);
    let fraud_days: Vec<std::sync::Mutex<Option<Day>>> = std::mem::take(&mut plan.days)
        .into_iter()
        .map(|d| std::sync::Mutex::new(Some(d)))
        .collect();
    // Workers claim days in order but never more than `ahead` past the last day written, so
    // at most that many formatted days are held in memory at once.
    let ahead = (2 * threads) as u32;
    let gate = (
        std::sync::Mutex::new((0u32, 0u32)),
        std::sync::Condvar::new(),
    ); // (next, written)
    let (send, receive) =
        std::sync::mpsc::sync_channel::<(u32, write::DayRows, Vec<event::Tx>)>(threads);
    let days = cfg.days;
    std::thread::scope(|s| -> Result<(), SimError> {
        for _ in 0..threads {
            let send = send.clone();
            let (gate, fraud_days) = (&gate, &fraud_days);
            s.spawn(move || loop {
                let d = {
                    let Ok(mut g) = gate.0.lock() else { return };
                    while g.0 < days && g.0 >= g.1 + ahead {
                        g = match gate.1.wait(g) {
                            Ok(g) => g,
                            Err(_) => return,
                        };
                    }
                    if g.0 >= days {
                        return;
                    }
                    g.0 += 1;
                    g.0 - 1
                };
                let mut fraud_day = fraud_days[d as usize]
                    .lock()
                    .ok()
                    .and_then(|mut f| f.take())
                    .unwrap_or_default();
                let mut day = life::day(cfg, w, d);
                day.append(&mut fraud_day);
                day.sort();
                let rows = write::format_day(w, f, d, &day);
                if send.send((d, rows, day.txs)).is_err() {
                    return;
                }
            });
        }
        drop(send);
        let mut pending = std::collections::BTreeMap::new();
        let mut next = 0u32;
        let result = (|| {
            for item in receive.iter() {
                pending.insert(item.0, item);
                while let Some((d, rows, txs)) = pending.remove(&next) {
                    sinks[0].write_rows(&rows.txs)?;
                    sinks[1].write_rows(&rows.calls)?;
                    sinks[2].write_rows(&rows.sms)?;
                    sinks[3].write_rows(&rows.logins)?;
                    sinks[4].write_rows(&rows.apps)?;
                    for (i, tx) in txs.iter().enumerate() {
                        ledger.apply(d, i as u32 + 1, tx);
                    }
                    next += 1;
                    if let Ok(mut g) = gate.0.lock() {
                        g.1 = next;
                    }
                    gate.1.notify_all();
                    progress(next, days);
                }
            }
            Ok(())
        })();
        // On a write error, stop the workers: release the gate past the end and drop the
        // receiver so blocked sends fail.
        if let Ok(mut g) = gate.0.lock() {
            g.0 = days;
            g.1 = days;
        }
        gate.1.notify_all();
        drop(receive);
        result
    })?;
    for (k, s) in hot.iter().zip(sinks) {
        add(*k, s.finish()?);
    }

    let tx_id = |(d, seq): (u32, u32)| {
        format!(
            "T{}{:08}",
            std::str::from_utf8(&write::day_date(d)).unwrap_or("00000000"),
            seq
        )
    };
    let mut report_order: Vec<usize> = (0..plan.reports.len()).collect();
    report_order.sort_by_key(|&i| (plan.reports[i].ts, i));
    add(
        Kind::Reports,
        write::write_kind(out, Kind::Reports, f, |r| {
            for &i in &report_order {
                let rep = &plan.reports[i];
                let p = &w.persons[rep.person as usize];
                r.str(&rep.id);
                r.ts(rep.ts);
                r.str(&p.id);
                r.str(rep.typology.as_str());
                r.int(rep.loss);
                r.str(fraud::description(rep.typology));
                r.str(&w.communities[p.community as usize].code);
                r.str(rep.channel);
                r.end();
            }
        })?,
    );
    add(
        Kind::ReportPayments,
        write::write_kind(out, Kind::ReportPayments, f, |r| {
            for &i in &report_order {
                let rep = &plan.reports[i];
                for &pay in &rep.payments {
                    if let Some(pos) = ledger.payment_tx[pay as usize] {
                        r.str(&rep.id);
                        r.str(&tx_id(pos));
                        r.end();
                    }
                }
            }
        })?,
    );
    add(
        Kind::Leads,
        write::write_kind(out, Kind::Leads, f, |r| {
            for l in &plan.leads {
                r.str(&l.id);
                r.ts(l.ts);
                r.str(l.source);
                r.str(l.reason);
                if l.person == NONE {
                    r.empty()
                } else {
                    r.str(&w.persons[l.person as usize].id)
                }
                if l.sim == NONE {
                    r.empty()
                } else {
                    r.str(&w.sims[l.sim as usize].msisdn)
                }
                opt_account(r, w, l.account);
                r.str(l.typology.map_or("", |t| t.as_str()));
                r.end();
            }
        })?,
    );
    let mut cases: Vec<&fraud::Case> = plan.cases.iter().collect();
    cases.sort_by_key(|c| c.filed);
    add(
        Kind::Cases,
        write::write_kind(out, Kind::Cases, f, |r| {
            for c in &cases {
                r.str(&c.id);
                r.ts(c.filed);
                let ids: Vec<&str> = c
                    .reports
                    .iter()
                    .map(|&i| plan.reports[i as usize].id.as_str())
                    .collect();
                r.str(&ids.join("|"));
                r.opt_ts(c.solved);
                if c.solved.is_some() {
                    r.int(i64::from(c.arrested));
                    r.int(i64::from(c.prosecuted));
                } else {
                    r.empty();
                    r.empty();
                }
                r.end();
            }
        })?,
    );
    add(
        Kind::ExternalFreezes,
        write::write_kind(out, Kind::ExternalFreezes, f, |r| {
            for fz in &plan.freezes {
                r.str(&w.accounts[fz.account as usize].id);
                r.str(&fz.authority);
                r.str(fz.measure);
                r.int(fz.amount);
                r.ts(fz.registered);
                r.opt_ts(fz.expires);
                r.str(&fz.document);
                r.end();
            }
        })?,
    );

    let labels = write_labels(&label_dir, w, &plan, &ledger, &tx_id)?;
    let reported = plan.victims.iter().filter(|v| v.report.is_some()).count();
    Ok(Summary {
        files,
        labels,
        residents: w.resident_count(),
        rings: plan.rings.len(),
        victims: plan.victims.len(),
        reported,
        loss_fen: plan.victims.iter().map(|v| v.loss).sum(),
        elapsed: started.elapsed(),
    })
}

fn opt_account(r: &mut Rows, w: &World, a: u32) {
    if a == NONE {
        r.empty();
    } else {
        r.str(&w.accounts[a as usize].id);
    }
}

fn label_file(
    dir: &Path,
    name: &str,
    fields: &[&'static str],
    fill: impl FnOnce(&mut Rows),
) -> Result<FileCount, SimError> {
    let mut rows = Rows::with_fields(fields.to_vec(), Format::Csv);
    fill(&mut rows);
    let mut sink = Sink::create(dir, name, "csv", &rows.header())?;
    sink.write_rows(&rows)?;
    let (rows, bytes) = sink.finish()?;
    Ok(FileCount {
        name: format!("labels/{name}"),
        rows,
        bytes,
    })
}

fn write_labels(
    dir: &Path,
    w: &World,
    plan: &Plan,
    ledger: &Ledger,
    tx_id: &dyn Fn((u32, u32)) -> String,
) -> Result<Vec<FileCount>, SimError> {
    let mut out = Vec::new();
    let entity_id = |kind: EntityKind, i: u32| -> &str {
        match kind {
            EntityKind::Account => &w.accounts[i as usize].id,
            EntityKind::Sim => &w.sims[i as usize].msisdn,
            EntityKind::Person => &w.persons[i as usize].id,
            EntityKind::Device => &w.devices[i as usize].id,
            EntityKind::Place => &w.places[i as usize].id,
        }
    };
    out.push(label_file(
        dir,
        "entities",
        &["entity_type", "entity_id", "role", "ring_id"],
        |r| {
            for e in &plan.entities {
                r.str(e.kind.as_str());
                r.str(entity_id(e.kind, e.index));
                r.str(e.role);
                r.str(&plan.rings[e.ring as usize].id);
                r.end();
            }
        },
    )?);
    out.push(label_file(
        dir,
        "rings",
        &["ring_id", "members", "typologies", "den_places"],
        |r| {
            for (ri, ring) in plan.rings.iter().enumerate() {
                let members = plan
                    .entities
                    .iter()
                    .filter(|e| e.ring as usize == ri && e.role != "victim")
                    .count();
                r.str(&ring.id);
                r.int(members as i64);
                r.str(
                    &ring
                        .typologies
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join("|"),
                );
                let mut dens: Vec<&str> = ring
                    .dens
                    .iter()
                    .map(|&p| w.places[p as usize].id.as_str())
                    .collect();
                dens.dedup();
                r.str(&dens.join("|"));
                r.end();
            }
        },
    )?);
    let victim_key = |v: u32| -> &str {
        let victim = &plan.victims[v as usize];
        match victim.report {
            Some(rep) => &plan.reports[rep as usize].id,
            None => &w.persons[victim.person as usize].id,
        }
    };
    out.push(label_file(
        dir,
        "flows",
        &["tx_id", "ring_id", "report_id", "hop"],
        |r| {
            for fl in &ledger.flows {
                r.str(&tx_id((fl.day, fl.seq)));
                r.str(&plan.rings[plan.victims[fl.victim as usize].ring as usize].id);
                r.str(victim_key(fl.victim));
                r.int(i64::from(fl.hop));
                r.end();
            }
        },
    )?);
    out.push(label_file(
        dir,
        "victims",
        &[
            "report_id",
            "person_id",
            "typology",
            "loss_fen",
            "first_contact_ts",
            "channel",
            "payment_tx_ids",
        ],
        |r| {
            for v in &plan.victims {
                match v.report {
                    Some(rep) => r.str(&plan.reports[rep as usize].id),
                    None => r.empty(),
                }
                r.str(&w.persons[v.person as usize].id);
                r.str(v.typology.as_str());
                r.int(v.loss);
                r.ts(v.first_contact);
                r.str(v.channel);
                let ids: Vec<String> = v
                    .payments
                    .iter()
                    .filter_map(|&p| ledger.payment_tx[p as usize])
                    .map(tx_id)
                    .collect();
                r.str(&ids.join("|"));
                r.end();
            }
        },
    )?);
    let mut holdings: Vec<(&str, &str, i64)> = ledger
        .holdings()
        .into_iter()
        .map(|(a, v, amt)| (w.accounts[a as usize].id.as_str(), victim_key(v), amt))
        .collect();
    holdings.sort_unstable();
    out.push(label_file(
        dir,
        "holdings",
        &["account_id", "report_id", "amount_fen"],
        |r| {
            for (a, key, amt) in &holdings {
                r.str(a);
                r.str(key);
                r.int(*amt);
                r.end();
            }
        },
    )?);
    Ok(out)
}
