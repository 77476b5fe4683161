//! The feature engine on hand-built event sequences: one test per feature family, plus
//! determinism of replays and checkpoint round trips.

use fanzha_core::{AccountClass, Instant, Money, Msisdn, PartyNumber};
use fanzha_risk::event::{Event, Login, PlaceFlag, Subject};
use fanzha_risk::{Engine, EngineState, Entity, FeatureConfig, MemoryStore, Names};

/// 2026-03-02 10:00 Beijing time.
const T0: i64 = 1_772_416_800_000_000;
const MIN: i64 = 60_000_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

fn at(micros: i64) -> Instant {
    Instant::from_micros(micros).unwrap()
}

struct Fixture {
    names: Names,
    engine: Engine,
}

impl Fixture {
    fn new() -> Self {
        Self {
            names: Names::default(),
            engine: Engine::new(FeatureConfig::default()),
        }
    }

    fn apply(&mut self, ev: Event) -> Vec<Entity> {
        self.engine.apply(&ev).to_vec()
    }

    fn tx(&mut self, ts: i64, from: &str, to: &str, yuan: i64) -> Vec<Entity> {
        self.tx_with(ts, from, to, yuan * 100, None, None)
    }

    fn tx_with(
        &mut self,
        ts: i64,
        from: &str,
        to: &str,
        fen: i64,
        device: Option<&str>,
        cell: Option<&str>,
    ) -> Vec<Entity> {
        let ev = self
            .names
            .transfer(
                at(ts),
                Some(from),
                Some(to),
                Money::from_fen(fen),
                "transfer",
                device,
                None,
                cell,
            )
            .unwrap();
        self.apply(ev)
    }

    fn call(
        &mut self,
        ts: i64,
        from: &str,
        to: &str,
        secs: u32,
        imei: Option<&str>,
    ) -> Vec<Entity> {
        let (a, b) = (
            PartyNumber::parse(from).unwrap(),
            PartyNumber::parse(to).unwrap(),
        );
        let ev = self.names.call(at(ts), &a, &b, secs, imei, None).unwrap();
        self.apply(ev)
    }

    fn open(&mut self, ts: i64, account: &str, holder: &str, bank: &str, class: AccountClass) {
        let ev = self
            .names
            .account_opened(at(ts), account, holder, bank, Some(class))
            .unwrap();
        self.apply(ev);
    }

    fn sim(&mut self, ts: i64, msisdn: &str, holder: &str, carrier: &str) {
        let m = Msisdn::parse(msisdn).unwrap();
        let ev = self
            .names
            .sim_activated(at(ts), &m, holder, carrier)
            .unwrap();
        self.apply(ev);
    }

    fn account(&self, id: &str) -> Entity {
        Entity::Account(fanzha_risk::event::AccountKey(
            self.names.accounts.lookup(id).unwrap(),
        ))
    }

    fn number(&self, id: &str) -> Entity {
        Entity::Number(fanzha_risk::event::NumberKey(
            self.names.numbers.lookup(id).unwrap(),
        ))
    }

    fn f(&self, e: Entity, name: &str) -> f64 {
        let v = self.engine.features(e).unwrap();
        v.get(name).unwrap_or_else(|| panic!("no feature {name}"))
    }
}

#[test]
fn pass_through_and_dwell_of_a_mule() {
    let mut fx = Fixture::new();
    fx.open(T0 - 2 * DAY, "mule", "p1", "b1", AccountClass::II);
    fx.tx(T0, "victim1", "mule", 10_000);
    fx.tx(T0 + 5 * MIN, "victim2", "mule", 10_000);
    fx.tx(T0 + 10 * MIN, "mule", "l2a", 9_500);
    fx.tx(T0 + 12 * MIN, "mule", "l2b", 9_500);
    let m = fx.account("mule");
    assert_eq!(fx.f(m, "in_yuan_1h"), 20_000.0);
    assert_eq!(fx.f(m, "pass_through_1h"), 0.95);
    assert_eq!(fx.f(m, "payers_24h"), 2.0);
    assert_eq!(fx.f(m, "payees_24h"), 2.0);
    // FIFO: the first outflow draws on the first inflow (600 s); the second on the rest of
    // the first (720 s) and on the second inflow (420 s).
    assert_eq!(fx.f(m, "dwell_min_s"), 420.0);
    assert_eq!(fx.f(m, "dwell_median_s"), 600.0);
    assert_eq!(fx.f(m, "age_at_first_inflow_h"), 48.0);
    // The ordinary payer has no opening date: unknown.
    assert_eq!(fx.f(fx.account("victim1"), "age_days"), -1.0);
}

#[test]
fn windows_decay_with_event_time() {
    let mut fx = Fixture::new();
    fx.tx(T0, "a", "b", 100);
    fx.tx(T0 + 3 * HOUR, "c", "d", 1);
    let b = fx.account("b");
    assert_eq!(fx.f(b, "in_count_1h"), 0.0);
    assert_eq!(fx.f(b, "in_count_24h"), 1.0);
    fx.tx(T0 + 8 * DAY, "c", "d", 1);
    assert_eq!(fx.f(b, "in_count_7d"), 0.0);
    assert_eq!(fx.f(b, "in_count_30d"), 1.0);
}

#[test]
fn night_round_and_just_under_shares() {
    let mut fx = Fixture::new();
    // 2026-03-02 02:00 Beijing is 2026-03-01 18:00 UTC.
    let night = T0 - 8 * HOUR;
    fx.tx(night, "x", "acct", 4_900);
    fx.tx(night + MIN, "y", "acct", 1_234);
    fx.tx_with(T0, "z", "acct", 990_000, None, None); // 9,900 yuan
    fx.tx_with(T0 + MIN, "z", "acct", 12_345, None, None);
    let a = fx.account("acct");
    assert_eq!(fx.f(a, "night_share_24h"), 0.5);
    // 4,900 and 9,900 yuan are round (×100 yuan) and just under 5,000 and 10,000.
    assert_eq!(fx.f(a, "round_share_24h"), 0.5);
    assert_eq!(fx.f(a, "under_threshold_share_24h"), 0.5);
}

#[test]
fn holder_caps_across_banks() {
    let mut fx = Fixture::new();
    fx.open(T0, "a1", "seller", "icbc", AccountClass::I);
    fx.open(T0, "a2", "seller", "icbc", AccountClass::I);
    fx.open(T0, "a3", "seller", "abc", AccountClass::I);
    fx.tx(T0 + HOUR, "x", "a1", 10);
    let a1 = fx.account("a1");
    assert_eq!(fx.f(a1, "holder_accounts"), 3.0);
    assert_eq!(fx.f(a1, "holder_banks"), 2.0);
    assert_eq!(fx.f(a1, "holder_accounts_over_cap"), 1.0);
    let p = Entity::Person(fanzha_risk::event::PersonKey(
        fx.names.persons.lookup("seller").unwrap(),
    ));
    assert_eq!(fx.f(p, "max_class1_per_bank"), 2.0);
    for i in 0..7 {
        fx.sim(T0, &format!("1380013800{i}"), "seller", "cmcc");
    }
    assert_eq!(fx.f(p, "sims_over_cap"), 2.0);
    assert_eq!(fx.f(fx.number("13800138000"), "holder_sims"), 7.0);
}

#[test]
fn devices_shared_with_other_holders_touch_the_other_accounts() {
    let mut fx = Fixture::new();
    fx.open(T0 - DAY, "a", "p1", "b", AccountClass::II);
    fx.open(T0 - DAY, "b", "p2", "b", AccountClass::II);
    fx.open(T0 - DAY, "c", "p3", "b", AccountClass::II);
    fx.tx_with(T0, "a", "x", 100, Some("phone-1"), None);
    fx.tx_with(T0 + MIN, "b", "x", 100, Some("phone-1"), None);
    let touched = fx.tx_with(T0 + 2 * MIN, "c", "x", 100, Some("phone-1"), None);
    assert!(touched.contains(&fx.account("a")) && touched.contains(&fx.account("b")));
    assert_eq!(fx.f(fx.account("a"), "device_other_holders_30d"), 2.0);
    assert_eq!(fx.f(fx.account("a"), "devices_30d"), 1.0);
}

#[test]
fn den_logins_count_after_the_place_is_flagged() {
    let mut fx = Fixture::new();
    let acct = fx.names.account("acct").unwrap();
    let den = fx.names.place("cell-9").unwrap();
    let login = |ts| {
        Event::Login(Login {
            ts,
            subject: Subject::Account(acct),
            device: None,
            ip: None,
            cell: Some(den),
        })
    };
    fx.apply(login(T0));
    fx.apply(Event::PlaceFlag(PlaceFlag {
        ts: T0 + MIN,
        place: den,
        risky: true,
    }));
    fx.apply(login(T0 + 2 * MIN));
    let a = fx.account("acct");
    assert_eq!(fx.f(a, "den_place_events_1h"), 1.0);
    assert_eq!(fx.f(a, "logins_30d"), 2.0);
}

#[test]
fn scam_caller_sim_calls_strangers_briefly() {
    let mut fx = Fixture::new();
    fx.sim(T0 - 3 * DAY, "13900000001", "caller", "cmcc");
    // A friend rings first: calling back is not a stranger call.
    fx.call(T0, "13700000000", "13900000001", 300, None);
    fx.call(T0 + MIN, "13900000001", "13700000000", 120, Some("imei-1"));
    for i in 0..8 {
        fx.call(
            T0 + (2 + i) * MIN,
            "13900000001",
            &format!("1360000000{i}"),
            12,
            Some("imei-1"),
        );
    }
    let s = fx.number("13900000001");
    assert_eq!(fx.f(s, "calls_out_1h"), 9.0);
    assert_eq!(fx.f(s, "callees_1h"), 9.0);
    assert_eq!(fx.f(s, "stranger_share_1h"), 8.0 / 9.0);
    assert_eq!(fx.f(s, "short_call_share_1h"), 8.0 / 9.0);
    assert_eq!(fx.f(s, "out_in_ratio_1h"), 9.0);
    assert_eq!(fx.f(s, "sim_age_days"), 3.0 + 9.0 * MIN as f64 / DAY as f64);
    assert_eq!(fx.f(s, "imeis_7d"), 1.0);
}

#[test]
fn links_to_marked_cards_and_numbers_count_after_the_mark() {
    let mut fx = Fixture::new();
    fx.open(T0 - 9 * DAY, "victim-card", "victim", "b1", AccountClass::I);
    fx.open(
        T0 - 9 * DAY,
        "bystander-card",
        "bystander",
        "b1",
        AccountClass::I,
    );
    fx.sim(T0 - 9 * DAY, "13700000001", "victim", "cmcc");
    fx.sim(T0 - 9 * DAY, "13700000002", "bystander", "cmcc");
    // Before the scam SIM is marked, a long call links nobody.
    fx.call(T0, "13900000009", "13700000001", 600, None);
    fx.tx(T0 + 10 * MIN, "victim-card", "mule", 5_000);
    let mule = fx.account("mule");
    assert_eq!(fx.f(mule, "in_from_contacted_7d"), 0.0);

    assert!(fx.engine.mark(fx.number("13900000009")));
    assert!(!fx.engine.mark(fx.number("13900000009")), "marked once");
    // A conversation with the marked SIM links the victim's next payment; a dial-and-drop
    // (the bystander hung up) does not.
    fx.call(T0 + HOUR, "13900000009", "13700000001", 600, None);
    fx.call(T0 + HOUR, "13900000009", "13700000002", 20, None);
    fx.tx(T0 + 2 * HOUR, "victim-card", "mule", 5_000);
    fx.tx(T0 + 2 * HOUR, "bystander-card", "shop", 50);
    assert_eq!(fx.f(mule, "in_from_contacted_7d"), 1.0);
    assert_eq!(fx.f(mule, "in_from_contacted_share_7d"), 0.5);
    assert_eq!(fx.f(fx.account("shop"), "in_from_contacted_7d"), 0.0);
    // Past the lead time (72 h) the conversation no longer links a payment.
    fx.tx(T0 + 80 * HOUR, "victim-card", "mule", 5_000);
    assert_eq!(fx.f(mule, "in_from_contacted_30d"), 1.0);

    // Money from a marked card, and money paid to one.
    assert!(fx.engine.mark(mule));
    fx.tx(T0 + 81 * HOUR, "mule", "level2", 9_000);
    fx.tx(T0 + 82 * HOUR, "collector", "mule", 1_000);
    assert_eq!(fx.f(fx.account("level2"), "in_from_warned_7d"), 1.0);
    assert_eq!(fx.f(fx.account("level2"), "in_from_warned_share_7d"), 1.0);
    assert_eq!(fx.f(fx.account("collector"), "out_to_warned_7d"), 1.0);
    assert_eq!(fx.f(fx.account("victim-card"), "out_to_warned_7d"), 0.0);
    assert_eq!(fx.f(fx.account("victim-card"), "account_kind"), 1.0);
    assert_eq!(fx.f(mule, "account_kind"), 0.0, "an outside account");
}

#[test]
fn sim_box_many_sims_on_one_imei() {
    let mut fx = Fixture::new();
    for i in 0..16 {
        fx.call(
            T0 + i * MIN,
            &format!("170000000{i:02}"),
            "13600000000",
            20,
            Some("box"),
        );
    }
    let s = fx.number("17000000003");
    assert_eq!(fx.f(s, "max_sims_per_imei_7d"), 16.0);
    assert_eq!(fx.f(s, "virtual_operator"), 1.0);
    let victim = fx.number("13600000000");
    assert_eq!(fx.f(victim, "risky_callers_in_1h"), 16.0);
    assert_eq!(fx.f(victim, "calls_in_1h"), 16.0);
}

#[test]
fn international_caller_and_sms_fan_out() {
    let mut fx = Fixture::new();
    fx.call(T0, "+63 917 123 4567", "13600000000", 40, None);
    assert_eq!(fx.f(fx.number("+639171234567"), "international"), 1.0);
    for i in 0..5 {
        let (a, b) = (
            PartyNumber::parse("13900000009").unwrap(),
            PartyNumber::parse(&format!("1350000000{i}")).unwrap(),
        );
        let ev = fx
            .names
            .sms(at(T0 + i64::from(i) * MIN), &a, &b, None)
            .unwrap();
        fx.apply(ev);
    }
    let s = fx.number("13900000009");
    assert_eq!(fx.f(s, "sms_receivers_1h"), 5.0);
    assert_eq!(fx.f(s, "stranger_share_1h"), 1.0);
}

#[test]
fn unknown_entity_has_no_features() {
    let mut fx = Fixture::new();
    let k = fx.names.account("never-seen").unwrap();
    assert!(fx.engine.features(Entity::Account(k)).is_none());
}

/// A pseudo-random but fixed mixed stream.
fn stream(names: &mut Names) -> Vec<Event> {
    let mut evs = Vec::new();
    let mut x: u64 = 42;
    let mut next = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    for i in 0..3_000i64 {
        let ts = T0 + i * 37 * 1_000_000 - (next(4) as i64) * MIN;
        let ev = if next(3) == 0 {
            let (a, b) = (
                format!("1380000{:04}", next(50)),
                format!("1390000{:04}", next(500)),
            );
            let (a, b) = (
                PartyNumber::parse(&a).unwrap(),
                PartyNumber::parse(&b).unwrap(),
            );
            names
                .call(
                    at(ts),
                    &a,
                    &b,
                    next(200) as u32,
                    Some(&format!("imei{}", next(20))),
                    None,
                )
                .unwrap()
        } else {
            let (f, t) = (format!("acct{}", next(80)), format!("acct{}", next(80)));
            names
                .transfer(
                    at(ts),
                    Some(&f),
                    Some(&t),
                    Money::from_fen(1 + next(1_000_000) as i64),
                    "transfer",
                    Some(&format!("dev{}", next(30))),
                    None,
                    None,
                )
                .unwrap()
        };
        evs.push(ev);
    }
    for i in 0..80 {
        evs.push(
            names
                .account_opened(
                    at(T0 - DAY),
                    &format!("acct{i}"),
                    &format!("p{}", i % 30),
                    &format!("bank{}", i % 4),
                    Some(AccountClass::I),
                )
                .unwrap(),
        );
    }
    evs
}

fn all_features(engine: &Engine, names: &Names) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for i in 1..=names.accounts.len() as u32 {
        let k = fanzha_risk::event::AccountKey(std::num::NonZeroU32::new(i).unwrap());
        out.push(
            engine
                .features(Entity::Account(k))
                .map(|v| v.values)
                .unwrap_or_default(),
        );
    }
    for i in 1..=names.numbers.len() as u32 {
        let k = fanzha_risk::event::NumberKey(std::num::NonZeroU32::new(i).unwrap());
        out.push(
            engine
                .features(Entity::Number(k))
                .map(|v| v.values)
                .unwrap_or_default(),
        );
    }
    out
}

#[test]
fn replay_gives_identical_features() {
    let mut names = Names::default();
    let evs = stream(&mut names);
    let run = || {
        let mut e = Engine::new(FeatureConfig::default());
        let mut touched = Vec::new();
        for ev in &evs {
            touched.push(e.apply(ev).to_vec());
        }
        (all_features(&e, &names), touched)
    };
    let (a, ta) = run();
    let (b, tb) = run();
    assert!(a.iter().any(|v| !v.is_empty()));
    assert_eq!(a, b);
    assert_eq!(ta, tb);
}

#[test]
fn checkpoint_round_trip_resumes_identically() {
    let mut names = Names::default();
    let evs = stream(&mut names);
    let (first, rest) = evs.split_at(1_500);
    let mut straight = Engine::new(FeatureConfig::default());
    for ev in &evs {
        straight.apply(ev);
    }
    let mut e = Engine::new(FeatureConfig::default());
    for ev in first {
        e.apply(ev);
    }
    let json = serde_json::to_string(e.state()).unwrap();
    let state: EngineState<MemoryStore> = serde_json::from_str(&json).unwrap();
    let mut resumed = Engine::with_state(FeatureConfig::default(), state);
    for ev in rest {
        resumed.apply(ev);
    }
    assert_eq!(
        all_features(&straight, &names),
        all_features(&resumed, &names)
    );
}

mod stores {
    //! The vector-backed store ([`MemoryStore`]) and the batch path against the original
    //! hash-map store ([`HashStore`]) and one-by-one `apply`, on random event streams.

    use std::num::NonZeroU32;

    use fanzha_core::{AccountClass, NumberClass};
    use fanzha_risk::event::*;
    use fanzha_risk::{Engine, EngineState, Entity, FeatureConfig, HashStore, Touched};
    use proptest::prelude::*;

    use super::{DAY, HOUR, MIN, T0};

    fn nz(i: u32) -> NonZeroU32 {
        NonZeroU32::new(i + 1).unwrap()
    }

    /// One random event: small key spaces so entities meet again, shared devices and IPs,
    /// risky places, night hours, round and just-under amounts, and late events.
    fn event() -> impl Strategy<Value = (i64, i64, Event)> {
        let gap = prop_oneof![3 => 0i64..5 * MIN, 1 => 0i64..6 * HOUR, 1 => 0i64..3 * DAY];
        let late = prop_oneof![9 => Just(0i64), 1 => 0i64..2 * DAY];
        let acct = || (0u32..30).prop_map(|i| AccountKey(nz(i)));
        let num = || (0u32..30).prop_map(|i| NumberKey(nz(i)));
        let dev = || proptest::option::of((0u32..12).prop_map(|i| DeviceKey(nz(i))));
        let cell = || proptest::option::of((0u32..6).prop_map(|i| PlaceKey(nz(i))));
        let class = || {
            prop_oneof![
                Just(NumberClass::Mobile),
                Just(NumberClass::International),
                Just(NumberClass::Virtual)
            ]
        };
        let kind = prop_oneof![
            6 => (
                proptest::option::of(acct()),
                proptest::option::of(acct()),
                prop_oneof![1i64..2_000_000, (1i64..600).prop_map(|y| y * 10_000), 4_500_000i64..5_000_000],
                dev(),
                proptest::option::of((0u32..8).prop_map(|i| IpKey(nz(i)))),
                cell(),
            )
                .prop_map(|(from, to, amount_fen, device, ip, cell)| {
                    Event::Transfer(Transfer {
                        ts: 0,
                        from,
                        to,
                        amount_fen,
                        channel: Channel::Transfer,
                        device,
                        ip,
                        cell,
                    })
                }),
            3 => (num(), num(), class(), class(), 0u32..300, dev(), cell()).prop_map(
                |(caller, callee, caller_class, callee_class, duration_s, imei, cell)| {
                    Event::Call(Call {
                        ts: 0,
                        caller,
                        callee,
                        caller_class,
                        callee_class,
                        duration_s,
                        imei,
                        cell,
                    })
                }
            ),
            1 => (num(), num(), class(), cell()).prop_map(|(sender, receiver, sender_class, cell)| {
                Event::Sms(Sms {
                    ts: 0,
                    sender,
                    receiver,
                    sender_class,
                    receiver_class: NumberClass::Mobile,
                    cell,
                })
            }),
            1 => (acct(), num(), any::<bool>(), dev(), cell()).prop_map(|(a, n, is_acct, device, cell)| {
                Event::Login(Login {
                    ts: 0,
                    subject: if is_acct { Subject::Account(a) } else { Subject::Number(n) },
                    device,
                    ip: None,
                    cell,
                })
            }),
            1 => (acct(), 0u32..10, 0u32..3, 1u8..4).prop_map(|(account, holder, bank, c)| {
                Event::AccountOpened(AccountOpened {
                    opened_at: 0,
                    account,
                    holder: PersonKey(nz(holder)),
                    bank: InstitutionKey(nz(bank)),
                    class: Some(match c {
                        1 => AccountClass::I,
                        2 => AccountClass::II,
                        _ => AccountClass::III,
                    }),
                })
            }),
            1 => (num(), 0u32..10, 0u32..3).prop_map(|(msisdn, holder, carrier)| {
                Event::SimActivated(SimActivated {
                    activated_at: 0,
                    msisdn,
                    holder: PersonKey(nz(holder)),
                    carrier: InstitutionKey(nz(10 + carrier)),
                })
            }),
            1 => ((0u32..6), any::<bool>()).prop_map(|(p, risky)| {
                Event::PlaceFlag(PlaceFlag { ts: 0, place: PlaceKey(nz(p)), risky })
            }),
        ];
        (gap, late, kind)
    }

    /// Sets the event time (the strategies leave it 0).
    fn at(ev: Event, ts: i64) -> Event {
        match ev {
            Event::Transfer(e) => Event::Transfer(Transfer { ts, ..e }),
            Event::Call(e) => Event::Call(Call { ts, ..e }),
            Event::Sms(e) => Event::Sms(Sms { ts, ..e }),
            Event::Login(e) => Event::Login(Login { ts, ..e }),
            Event::AccountOpened(e) => Event::AccountOpened(AccountOpened { opened_at: ts, ..e }),
            Event::SimActivated(e) => Event::SimActivated(SimActivated {
                activated_at: ts,
                ..e
            }),
            Event::PlaceFlag(e) => Event::PlaceFlag(PlaceFlag { ts, ..e }),
        }
    }

    fn stream(steps: Vec<(i64, i64, Event)>) -> Vec<Event> {
        let mut t = T0;
        steps
            .into_iter()
            .map(|(gap, late, ev)| {
                t += gap;
                at(ev, t - late)
            })
            .collect()
    }

    /// Feature bits of an entity (bits, so that equality is exact), or `None` if unknown.
    fn bits<S: fanzha_risk::StateStore>(e: &Engine<S>, x: Entity) -> Option<Vec<u64>> {
        let mut buf = Vec::new();
        e.features_into(x, &mut buf)
            .then(|| buf.iter().map(|v| v.to_bits()).collect())
    }

    fn everyone() -> impl Iterator<Item = Entity> {
        (0..30).flat_map(|i| {
            [
                Entity::Account(AccountKey(nz(i))),
                Entity::Number(NumberKey(nz(i))),
                Entity::Person(PersonKey(nz(i))),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// After every event: the same touched entities and the same features from the
        /// vector-backed store as from the hash-map one, and from the batch path as from
        /// `apply` one by one; at the end, the same features for every entity.
        #[test]
        fn dense_store_and_batch_match_the_hash_map_store(
            steps in proptest::collection::vec(event(), 1..400)
        ) {
            let evs = stream(steps);
            let cfg = FeatureConfig::default();
            let mut hashed = Engine::with_state(cfg.clone(), EngineState::<HashStore>::default());
            let mut dense = Engine::new(cfg.clone());
            let mut seen: Vec<(Touched, Vec<Option<Vec<u64>>>)> = Vec::new();
            for ev in &evs {
                let th = hashed.apply(ev);
                let td = dense.apply(ev);
                prop_assert_eq!(&th, &td);
                let fh: Vec<_> = th.iter().map(|&x| bits(&hashed, x)).collect();
                let fd: Vec<_> = td.iter().map(|&x| bits(&dense, x)).collect();
                prop_assert!(fd.iter().all(Option::is_some), "a touched entity is known");
                prop_assert_eq!(&fh, &fd);
                seen.push((td, fd));
            }
            let mut batched = Engine::with_capacity(cfg, 8, 8, 8);
            let mut i = 0;
            let mut mismatch = None;
            batched.apply_batch(&evs, |e, _, touched| {
                let f: Vec<_> = touched.iter().map(|&x| bits(e, x)).collect();
                if mismatch.is_none() && (touched, &f) != (&seen[i].0, &seen[i].1) {
                    mismatch = Some(i);
                }
                i += 1;
            });
            prop_assert_eq!(mismatch, None);
            for x in everyone() {
                prop_assert_eq!(bits(&hashed, x), bits(&dense, x));
                prop_assert_eq!(bits(&dense, x), bits(&batched, x));
            }
        }
    }
}
