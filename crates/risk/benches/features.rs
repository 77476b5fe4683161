//! Feature-engine throughput (issue 5, "Speed": ≥ 500,000 events/s per core in-process).
//!
//! A synthetic but realistic stream: reference data (200,000 account openings, 200,000 SIM
//! activations, 20 den flags), then 600,000 activity events over 30 days of event time on
//! those accounts and numbers, whose activity is heavy-tailed (a power law, so a few
//! entities are very busy, as merchants, gateways and mules are), mixed as 60% transfers,
//! 30% calls, 7% SMS and 3% logins, with one in twenty events a few minutes late. Events are
//! built and interned before timing.
//!
//! Only activity events are timed. The reference data is loaded into the engine first,
//! untimed: it is 40% of this stream but a sliver of a real one (a district's accounts and
//! SIMs against months of transfers and calls), and it is four times cheaper to apply, so
//! counting it would flatter the figure. Each measured iteration applies the next
//! `CHUNK` activity events to an engine that keeps its state between iterations, so the
//! figure averages over the whole month as state grows; at the end of the stream the engine
//! restarts from the loaded reference data (untimed).
//!
//! Reported per event, with a baseline in the same run: iterating over the events and
//! hashing their keys, the least any consumer must do. `apply_batch` is the batch path
//! (`Engine::apply_batch`, which prefetches state a few events ahead); `apply_one_by_one`
//! is `Engine::apply` per event, as a caller without lookahead would.
//!
//! Times are the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), because the target
//! is per core and this machine's two cores are shared: time the thread waits for a core
//! does not count (cache pollution by a co-runner still does).
//!
//! Run: `CARGO_TARGET_DIR=... nice -n 19 cargo bench -p fanzha-risk --bench features`.

// Amounts are written as yuan_fen (`50_000_00` is 50,000 yuan), not in groups of three.
#![allow(clippy::inconsistent_digit_grouping)]

use std::hash::{Hash, Hasher};
use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fanzha_core::NumberClass;
use fanzha_risk::event::*;
use fanzha_risk::{Engine, FeatureConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const EVENTS: usize = 600_000;
const ACCOUNTS: u32 = 200_000;
const NUMBERS: u32 = 200_000;
const PERSONS: u32 = 120_000;
const DEVICES: u32 = 150_000;
const PLACES: u32 = 2_000;
const T0: i64 = 1_772_416_800_000_000;
/// Activity events per measured iteration.
const CHUNK: usize = 20_000;
const MINUTE: i64 = 60_000_000;
const SPAN: i64 = 30 * 24 * 60 * MINUTE;

fn nz(i: u32) -> NonZeroU32 {
    NonZeroU32::new(i + 1).expect("i + 1 > 0")
}

/// An index in `0..n` with a heavy tail: P(index < x·n) = x^(1/3), so the busiest 1% of
/// entities draw about a fifth of the events.
fn skewed(rng: &mut ChaCha8Rng, n: u32) -> u32 {
    let u: f64 = rng.gen();
    ((u * u * u) * f64::from(n)) as u32 % n
}

/// A device, IP or handset: usually the entity's own (derived from its key), sometimes a
/// shared one drawn with a heavy tail (a den's phones, a carrier NAT address).
fn own_or_shared(rng: &mut ChaCha8Rng, owner: u32, shared_one_in: u32) -> u32 {
    if rng.gen_ratio(1, shared_one_in) {
        skewed(rng, DEVICES)
    } else {
        owner.wrapping_mul(2_654_435_761) % DEVICES
    }
}

fn stream() -> Vec<Event> {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut evs = Vec::with_capacity(EVENTS + (ACCOUNTS + NUMBERS) as usize);
    for a in 0..ACCOUNTS {
        evs.push(Event::AccountOpened(AccountOpened {
            opened_at: T0 - rng.gen_range(0..3_000) * 24 * 60 * MINUTE,
            account: AccountKey(nz(a)),
            holder: PersonKey(nz(rng.gen_range(0..PERSONS))),
            bank: InstitutionKey(nz(rng.gen_range(0..20))),
            class: Some(fanzha_core::AccountClass::I),
        }));
    }
    for n in 0..NUMBERS {
        evs.push(Event::SimActivated(SimActivated {
            activated_at: T0 - rng.gen_range(0..3_000) * 24 * 60 * MINUTE,
            msisdn: NumberKey(nz(n)),
            holder: PersonKey(nz(rng.gen_range(0..PERSONS))),
            carrier: InstitutionKey(nz(20 + rng.gen_range(0..3))),
        }));
    }
    for p in 0..20 {
        evs.push(Event::PlaceFlag(PlaceFlag {
            ts: T0,
            place: PlaceKey(nz(p * 97)),
            risky: true,
        }));
    }
    for i in 0..EVENTS {
        let mut ts = T0 + (i as i64) * SPAN / EVENTS as i64;
        if rng.gen_ratio(1, 20) {
            ts -= rng.gen_range(0..10 * MINUTE);
        }
        let cell = Some(PlaceKey(nz(skewed(&mut rng, PLACES))));
        let r = rng.gen_range(0..100);
        let ev = if r < 60 {
            let from = skewed(&mut rng, ACCOUNTS);
            Event::Transfer(Transfer {
                ts,
                from: Some(AccountKey(nz(from))),
                to: Some(AccountKey(nz(skewed(&mut rng, ACCOUNTS)))),
                amount_fen: if rng.gen_ratio(1, 4) {
                    rng.gen_range(1..500) * 100_00
                } else {
                    rng.gen_range(100..5_000_000)
                },
                channel: Channel::Transfer,
                device: Some(DeviceKey(nz(own_or_shared(&mut rng, from, 20)))),
                ip: Some(IpKey(nz(own_or_shared(&mut rng, from, 4)))),
                cell,
            })
        } else if r < 90 {
            let caller = skewed(&mut rng, NUMBERS);
            Event::Call(Call {
                ts,
                caller: NumberKey(nz(caller)),
                callee: NumberKey(nz(skewed(&mut rng, NUMBERS))),
                caller_class: if rng.gen_ratio(1, 50) {
                    NumberClass::International
                } else {
                    NumberClass::Mobile
                },
                callee_class: NumberClass::Mobile,
                duration_s: rng.gen_range(0..600),
                imei: Some(DeviceKey(nz(own_or_shared(&mut rng, caller, 50)))),
                cell,
            })
        } else if r < 97 {
            Event::Sms(Sms {
                ts,
                sender: NumberKey(nz(skewed(&mut rng, NUMBERS))),
                receiver: NumberKey(nz(skewed(&mut rng, NUMBERS))),
                sender_class: NumberClass::Mobile,
                receiver_class: NumberClass::Mobile,
                cell,
            })
        } else {
            let who = skewed(&mut rng, ACCOUNTS);
            Event::Login(Login {
                ts,
                subject: Subject::Account(AccountKey(nz(who))),
                device: Some(DeviceKey(nz(own_or_shared(&mut rng, who, 20)))),
                ip: Some(IpKey(nz(own_or_shared(&mut rng, who, 4)))),
                cell,
            })
        };
        evs.push(ev);
    }
    evs
}

/// The keys of an event, hashed: what any consumer does at the least.
fn hash_event(h: &mut rustc_hash::FxHasher, ev: &Event) {
    match ev {
        Event::Transfer(t) => (t.ts, t.from, t.to, t.amount_fen, t.device).hash(h),
        Event::Call(c) => (c.ts, c.caller, c.callee, c.duration_s, c.imei).hash(h),
        Event::Sms(s) => (s.ts, s.sender, s.receiver).hash(h),
        Event::Login(l) => (l.ts, l.device, l.ip).hash(h),
        other => other.ts().hash(h),
    }
}

/// CPU time consumed by this thread so far.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec; the clock id is a constant Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// An engine with the reference data loaded, and the position reached in the activity.
struct Run<'a> {
    loaded: &'a Engine,
    engine: Engine,
    at: usize,
}

impl<'a> Run<'a> {
    fn new(loaded: &'a Engine) -> Self {
        let engine = Engine::with_state(FeatureConfig::default(), loaded.state().clone());
        Self {
            loaded,
            engine,
            at: 0,
        }
    }

    /// Runs `work` over the next `CHUNK` activity events `iters` times, timing only `work`,
    /// in thread CPU time; restarts from the loaded engine (untimed) at the stream's end.
    fn timed(
        &mut self,
        activity: &[Event],
        iters: u64,
        mut work: impl FnMut(&mut Engine, &[Event]),
    ) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            if self.at + CHUNK > activity.len() {
                let fresh =
                    Engine::with_state(FeatureConfig::default(), self.loaded.state().clone());
                drop(black_box(std::mem::replace(&mut self.engine, fresh)));
                self.at = 0;
            }
            let chunk = &activity[self.at..self.at + CHUNK];
            let start = thread_cpu();
            work(&mut self.engine, chunk);
            total += thread_cpu() - start;
            self.at += CHUNK;
        }
        total
    }
}

fn bench(c: &mut Criterion) {
    let evs = stream();
    let reference = (ACCOUNTS + NUMBERS + 20) as usize;
    let (reference, activity) = evs.split_at(reference);
    let mut loaded = Engine::with_capacity(
        FeatureConfig::default(),
        ACCOUNTS as usize,
        NUMBERS as usize,
        PERSONS as usize,
    );
    loaded.apply_batch(reference, |_, _, _| {});
    let mut g = c.benchmark_group("risk_features");
    g.throughput(Throughput::Elements(CHUNK as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));

    g.bench_function("baseline_iterate_and_hash", |b| {
        let mut at = 0;
        b.iter_custom(|iters| {
            let start = thread_cpu();
            for _ in 0..iters {
                if at + CHUNK > activity.len() {
                    at = 0;
                }
                let mut h = rustc_hash::FxHasher::default();
                for ev in &activity[at..at + CHUNK] {
                    hash_event(&mut h, ev);
                }
                black_box(h.finish());
                at += CHUNK;
            }
            thread_cpu() - start
        })
    });

    g.bench_function("apply_one_by_one", |b| {
        let mut run = Run::new(&loaded);
        b.iter_custom(|iters| {
            run.timed(activity, iters, |engine, chunk| {
                for ev in chunk {
                    black_box(engine.apply(ev));
                }
            })
        })
    });

    g.bench_function("apply_batch", |b| {
        let mut run = Run::new(&loaded);
        b.iter_custom(|iters| {
            run.timed(activity, iters, |engine, chunk| {
                engine.apply_batch(chunk, |_, _, touched| {
                    black_box(touched);
                })
            })
        })
    });

    // What rule scoring adds on top: the feature vector of every touched entity.
    g.bench_function("apply_batch_and_read_touched_features", |b| {
        let mut run = Run::new(&loaded);
        let mut buf = Vec::with_capacity(64);
        b.iter_custom(|iters| {
            run.timed(activity, iters, |engine, chunk| {
                engine.apply_batch(chunk, |engine, _, touched| {
                    for &e in touched {
                        engine.features_into(e, &mut buf);
                        black_box(&buf);
                    }
                })
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
