//! The feature engine: a keyed state machine `(state, event) → (new state, touched
//! entities)` over event time.
//!
//! Why this shape (DESIGN.md, "Architecture"): the same step runs in a batch over the store
//! and live in `serve`, so it reads no clock and no store — only the event and the keyed
//! state behind [`StateStore`]. [`Engine::apply`] reports which entities' features changed,
//! so rule scoring runs only for those. Replaying the same events gives the same state and
//! the same features.
//!
//! Each event updates a handful of keys one at a time (never two borrows of the state at
//! once), which is also what partitioned workers need: a transfer touches its two accounts,
//! a call its two numbers and the unordered pair's contact record.
//!
//! Speed (issue 5: feature update plus rule scoring at ≥ 500,000 events/s per core): a
//! district's state is hundreds of megabytes, so the step is bound by waiting on memory,
//! not by arithmetic. State is in vectors indexed by interned id ([`MemoryStore`]), and
//! [`Engine::apply_batch`] asks for the state of upcoming events ahead of time, in two
//! stages (the entity's state, then the window buckets, devices and holder it points to),
//! so that the loads overlap instead of each event waiting for its own.

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::event::*;
use crate::features::*;
use crate::store::{KeyedMap, MemoryStore, StateStore};
use crate::window::{DAY, HOUR};

/// Entities whose features changed with one event.
pub type Touched = SmallVec<[Entity; 8]>;

/// All keyed state of the engine; serialisable as a checkpoint.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct EngineState<S: StateStore> {
    /// The latest event time applied: the time features are computed at.
    now: i64,
    accounts: S::Dense<AccountKey, AccountState>,
    numbers: S::Dense<NumberKey, NumberState>,
    persons: S::Dense<PersonKey, PersonState>,
    devices: S::Dense<DeviceKey, DeviceState>,
    ips: S::Dense<IpKey, IpState>,
    places: S::Dense<PlaceKey, PlaceState>,
    /// Last contact (call or SMS, either direction) per unordered pair of numbers: the
    /// engine's own social graph, for "stranger" features.
    contacts: S::Map<u64, i64>,
    /// Size of `contacts` after its last pruning, to prune only when it has doubled.
    contacts_pruned_len: usize,
}

impl<S: StateStore> Default for EngineState<S> {
    fn default() -> Self {
        Self {
            now: i64::MIN,
            accounts: Default::default(),
            numbers: Default::default(),
            persons: Default::default(),
            devices: Default::default(),
            ips: Default::default(),
            places: Default::default(),
            contacts: Default::default(),
            contacts_pruned_len: 0,
        }
    }
}

impl<S: StateStore> EngineState<S> {
    /// Empty state with room for this many accounts, numbers and persons (and as many
    /// devices as accounts and numbers together), so that a batch run whose reference data
    /// is known does not grow and copy its state on the way. Sizes are hints: more keys
    /// still fit.
    pub fn with_capacity(accounts: usize, numbers: usize, persons: usize) -> Self {
        let mut state = Self::default();
        S::reserve(&mut state.accounts, accounts);
        S::reserve(&mut state.numbers, numbers);
        S::reserve(&mut state.persons, persons);
        S::reserve(&mut state.devices, accounts.saturating_add(numbers));
        state
    }
}

impl<S: StateStore> Clone for EngineState<S> {
    fn clone(&self) -> Self {
        Self {
            now: self.now,
            accounts: self.accounts.clone(),
            numbers: self.numbers.clone(),
            persons: self.persons.clone(),
            devices: self.devices.clone(),
            ips: self.ips.clone(),
            places: self.places.clone(),
            contacts: self.contacts.clone(),
            contacts_pruned_len: self.contacts_pruned_len,
        }
    }
}

/// See [`Engine::account_used`].
const TOUCH_SHARED_MAX: usize = 8;

/// How many events ahead [`Engine::apply_batch`] asks for state: enough for a load from
/// memory (a few hundred ns) to arrive while the events in between are applied.
const LOOKAHEAD: usize = 8;

fn is_night(ts: i64) -> bool {
    // Asia/Shanghai is UTC+8 with no daylight saving time (see fanzha_core::time).
    (ts + 8 * HOUR).rem_euclid(DAY) < 6 * HOUR
}

fn pair(a: NumberKey, b: NumberKey) -> u64 {
    let (lo, hi) = if a.get() <= b.get() {
        (a.get(), b.get())
    } else {
        (b.get(), a.get())
    };
    (u64::from(lo) << 32) | u64::from(hi)
}

/// The `account_kind` feature: 1–3 personal Class I–III, 4 corporate, 5 payment account,
/// 0 unknown (an outside account, or one whose opening is not in the data).
fn kind_code(class: Option<fanzha_core::AccountClass>) -> u8 {
    use fanzha_core::AccountClass::*;
    match class {
        None => 0,
        Some(I) => 1,
        Some(II) => 2,
        Some(III) => 3,
        Some(Corporate) => 4,
        Some(Payment) => 5,
    }
}

fn class_code(class: fanzha_core::AccountClass) -> u8 {
    use fanzha_core::AccountClass::*;
    match class {
        I => 1,
        II => 2,
        III => 3,
        Corporate | Payment => 0,
    }
}

/// The streaming feature engine. See the module docs.
pub struct Engine<S: StateStore = MemoryStore> {
    cfg: FeatureConfig,
    state: EngineState<S>,
}

impl Engine<MemoryStore> {
    pub fn new(cfg: FeatureConfig) -> Self {
        Self::with_state(cfg, EngineState::default())
    }

    /// An empty engine with room for this many accounts, numbers and persons; see
    /// [`EngineState::with_capacity`].
    pub fn with_capacity(
        cfg: FeatureConfig,
        accounts: usize,
        numbers: usize,
        persons: usize,
    ) -> Self {
        Self::with_state(cfg, EngineState::with_capacity(accounts, numbers, persons))
    }
}

impl<S: StateStore> Engine<S> {
    /// An engine resuming from a checkpointed state.
    pub fn with_state(cfg: FeatureConfig, state: EngineState<S>) -> Self {
        Self { cfg, state }
    }

    pub fn state(&self) -> &EngineState<S> {
        &self.state
    }

    pub fn config(&self) -> &FeatureConfig {
        &self.cfg
    }

    /// The latest event time applied, or `None` before the first event.
    pub fn now(&self) -> Option<i64> {
        (self.state.now != i64::MIN).then_some(self.state.now)
    }

    /// Number of accounts and numbers with state (for sizing and tests).
    pub fn entity_counts(&self) -> (usize, usize) {
        (self.state.accounts.len(), self.state.numbers.len())
    }

    /// Applies one event and returns the entities whose features changed.
    pub fn apply(&mut self, ev: &Event) -> Touched {
        let mut touched = Touched::new();
        self.state.now = self.state.now.max(ev.ts());
        match ev {
            Event::Transfer(t) => self.transfer(t, &mut touched),
            Event::Call(c) => self.call(c, &mut touched),
            Event::Sms(s) => self.sms(s, &mut touched),
            Event::Login(l) => self.login(l, &mut touched),
            Event::AccountOpened(a) => self.account_opened(a, &mut touched),
            Event::SimActivated(s) => self.sim_activated(s, &mut touched),
            Event::PlaceFlag(p) => {
                self.state.places.entry(p.place).risky = p.risky;
            }
        }
        if touched.len() > 1 {
            touched.sort_unstable();
            touched.dedup();
        }
        touched
    }

    /// Applies `events` in order, calling `on_touched` after each with the engine, the event
    /// and the entities whose features it changed (where rule scoring reads features).
    ///
    /// Same result as [`Engine::apply`] in a loop, but faster on a large state: per-entity
    /// state is far bigger than the CPU caches, so each event's first touch of an account
    /// or number waits on memory. Knowing the events ahead, the batch asks for the state of
    /// the event `LOOKAHEAD` positions on while applying this one, so those loads overlap.
    pub fn apply_batch(
        &mut self,
        events: &[Event],
        mut on_touched: impl FnMut(&mut Self, &Event, &Touched),
    ) {
        for (i, ev) in events.iter().enumerate() {
            if let Some(ahead) = events.get(i + LOOKAHEAD) {
                self.prefetch(ahead);
            }
            // Half-way, the state asked for above has arrived: ask for the buckets it
            // points to.
            if let Some(ahead) = events.get(i + LOOKAHEAD / 2) {
                self.prefetch_buckets(ahead);
            }
            let touched = self.apply(ev);
            if touched.len() > 2 {
                // Beyond the event's own parties (just applied, so in cache) are the
                // accounts on a shared device and the cards of a holder: ask for all of
                // them at once rather than one after another as the reader gets to them.
                for e in &touched {
                    match *e {
                        Entity::Account(k) => self.state.accounts.prefetch(&k),
                        Entity::Number(k) => self.state.numbers.prefetch(&k),
                        Entity::Person(k) => self.state.persons.prefetch(&k),
                    }
                }
            }
            on_touched(self, ev, &touched);
        }
    }

    /// Starts loading the state `ev` will touch first (see [`Engine::apply_batch`]).
    fn prefetch(&self, ev: &Event) {
        let s = &self.state;
        let account = |k: Option<AccountKey>| k.inspect(|k| s.accounts.prefetch(k));
        // Persons are read for every account and number; theirs is known only later.
        let device = |k: Option<DeviceKey>| k.inspect(|k| s.devices.prefetch(k));
        let ip = |k: Option<IpKey>| k.inspect(|k| s.ips.prefetch(k));
        match ev {
            Event::Transfer(t) => {
                account(t.to);
                account(t.from);
                device(t.device);
                ip(t.ip);
            }
            Event::Call(c) => {
                s.numbers.prefetch(&c.caller);
                s.numbers.prefetch(&c.callee);
                device(c.imei);
            }
            Event::Sms(m) => {
                s.numbers.prefetch(&m.sender);
                s.numbers.prefetch(&m.receiver);
            }
            Event::Login(l) => {
                match l.subject {
                    Subject::Account(k) => s.accounts.prefetch(&k),
                    Subject::Number(k) => s.numbers.prefetch(&k),
                }
                device(l.device);
                ip(l.ip);
            }
            Event::AccountOpened(a) => {
                s.accounts.prefetch(&a.account);
                s.persons.prefetch(&a.holder);
            }
            Event::SimActivated(a) => {
                s.numbers.prefetch(&a.msisdn);
                s.persons.prefetch(&a.holder);
            }
            Event::PlaceFlag(_) => {}
        }
    }

    /// Second stage of [`Engine::prefetch`]: the window buckets of the entities `ev` touches.
    fn prefetch_buckets(&self, ev: &Event) {
        let s = &self.state;
        // Reading an account's features after the event looks at the holders of each of
        // its devices and IPs, a number's at the SIMs of each of its handsets.
        let account = |k: Option<AccountKey>| {
            if let Some(a) = k.and_then(|k| s.accounts.get(&k)) {
                a.win.prefetch();
                if let Some(h) = a.holder {
                    s.persons.prefetch(&h);
                }
                for d in a.devices.keys() {
                    s.devices.prefetch_lines(&DeviceKey(nz(d)), 2);
                }
                for i in a.ips.keys() {
                    s.ips.prefetch_lines(&IpKey(nz(i)), 2);
                }
            }
        };
        let number = |k: NumberKey| {
            if let Some(n) = s.numbers.get(&k) {
                n.win.prefetch();
                if let Some(h) = n.holder {
                    s.persons.prefetch(&h);
                }
                for d in n.imeis.keys() {
                    s.devices.prefetch(&DeviceKey(nz(d)));
                }
            }
        };
        match ev {
            Event::Transfer(t) => {
                account(t.to);
                account(t.from);
            }
            Event::Call(c) => {
                number(c.caller);
                number(c.callee);
            }
            Event::Sms(m) => number(m.sender),
            Event::Login(Login {
                subject: Subject::Account(k),
                ..
            }) => account(Some(*k)),
            _ => {}
        }
    }

    fn risky_place(&self, cell: Option<PlaceKey>) -> bool {
        cell.and_then(|c| self.state.places.get(&c))
            .is_some_and(|p| p.risky)
    }

    /// Marks `entity` as warned by the scoring; returns whether it was not marked before.
    ///
    /// Why the engine keeps marks: risk travels along money and calls. A card that takes
    /// money from a warned card, or from a payer a warned number has just called, and a
    /// card that pays a warned one, carry that link as features ([`ACCOUNT_FEATURES`]'s
    /// `*_warned_*` and `*_contacted_*`) for the rules and the model. A mark counts for
    /// transfers and contacts after it, never before, as a live run would have seen them;
    /// it is kept for as long as the state.
    pub fn mark(&mut self, entity: Entity) -> bool {
        let flag = match entity {
            Entity::Account(k) => &mut self.state.accounts.entry(k).marked,
            Entity::Number(k) => &mut self.state.numbers.entry(k).marked,
            Entity::Person(_) => return false,
        };
        !std::mem::replace(flag, true)
    }

    /// Whether `entity` is marked (see [`Engine::mark`]).
    pub fn is_marked(&self, entity: Entity) -> bool {
        match entity {
            Entity::Account(k) => self.state.accounts.get(&k).is_some_and(|a| a.marked),
            Entity::Number(k) => self.state.numbers.get(&k).is_some_and(|n| n.marked),
            Entity::Person(_) => false,
        }
    }

    /// Whether the payer `from` talked with a warned number within the
    /// lead time before `ts`.
    fn payer_contacted(&self, from: AccountKey, ts: i64) -> bool {
        let lead = self.cfg.contact_lead_hours.saturating_mul(HOUR);
        self.state
            .accounts
            .get(&from)
            .and_then(|a| a.holder)
            .and_then(|h| self.state.persons.get(&h))
            .and_then(|p| p.risky_contact_at)
            .is_some_and(|c| c <= ts && ts - c <= lead)
    }

    /// Records that a warned number talked with `to`'s holder. Only warned numbers:
    /// foreign and virtual-operator ones call many residents for honest reasons, and are a
    /// feature of the number's own score already. Only calls: a text from a warned number
    /// goes to thousands, nearly all of whom ignore it.
    fn risky_contact(&mut self, to: NumberKey, ts: i64) {
        if let Some(h) = self.state.numbers.get(&to).and_then(|n| n.holder) {
            let p = self.state.persons.entry(h);
            p.risky_contact_at = Some(p.risky_contact_at.map_or(ts, |c| c.max(ts)));
        }
    }

    fn transfer(&mut self, t: &Transfer, touched: &mut Touched) {
        use acct::*;
        let marked = |k: Option<AccountKey>| {
            k.and_then(|k| self.state.accounts.get(&k))
                .is_some_and(|a| a.marked)
        };
        let (from_marked, to_marked) = (marked(t.from), marked(t.to));
        let contacted = t.from.is_some_and(|f| self.payer_contacted(f, t.ts));
        let den = self.risky_place(t.cell);
        let night = is_night(t.ts);
        let round = self.cfg.is_round(t.amount_fen);
        let under = self.cfg.is_just_under(t.amount_fen);
        let flag = |on: bool, slot: usize| (slot, i64::from(on));
        let shape = [flag(night, NIGHT), flag(round, ROUND), flag(under, UNDER)];
        if let Some(to) = t.to {
            let a = self.state.accounts.entry(to);
            let [n, r, u] = shape;
            a.win
                .add_many(t.ts, &[(IN_COUNT, 1), (IN_SUM, t.amount_fen), n, r, u]);
            if let Some(from) = t.from {
                a.payers.observe(&mut a.win, PAYERS, from.get(), t.ts);
            }
            a.inflow(t.ts, t.amount_fen);
            if from_marked {
                Links::push(&mut a.links_mut().in_warned, t.ts);
            }
            if contacted {
                Links::push(&mut a.links_mut().in_contacted, t.ts);
            }
            touched.push(Entity::Account(to));
        }
        if let Some(from) = t.from {
            let a = self.state.accounts.entry(from);
            let [n, r, u] = shape;
            a.win.add_many(
                t.ts,
                &[
                    (OUT_COUNT, 1),
                    (OUT_SUM, t.amount_fen),
                    n,
                    r,
                    u,
                    flag(den, DEN),
                ],
            );
            if let Some(to) = t.to {
                a.payees.observe(&mut a.win, PAYEES, to.get(), t.ts);
            }
            a.outflow(t.ts, t.amount_fen);
            if to_marked {
                Links::push(&mut a.links_mut().out_warned, t.ts);
            }
            touched.push(Entity::Account(from));
            // The device, IP and place of a transfer are the payer's.
            self.account_used(from, t.ts, t.device, t.ip, touched);
        }
    }

    /// Links an account to the device and IP it was used from, and the device and IP to
    /// the account's holder. When a device or IP gains a new holder, the other accounts on
    /// it are touched, as their "shared with other holders" features changed — but only up
    /// to `TOUCH_SHARED_MAX` holders: past that the sharing is established (and a carrier NAT
    /// address would touch thousands), so those accounts refresh on their own next event.
    fn account_used(
        &mut self,
        account: AccountKey,
        ts: i64,
        device: Option<DeviceKey>,
        ip: Option<IpKey>,
        touched: &mut Touched,
    ) {
        let holder = {
            let a = self.state.accounts.entry(account);
            if let Some(d) = device {
                a.devices.insert(d.get(), ts);
            }
            if let Some(i) = ip {
                a.ips.insert(i.get(), ts);
            }
            a.holder
        };
        if let Some(d) = device {
            let dev = self.state.devices.entry(d);
            dev.accounts.insert(account.get(), ts);
            if let Some(h) = holder {
                if dev.holders.insert(h.get(), ts)
                    && (2..=TOUCH_SHARED_MAX).contains(&dev.holders.len())
                {
                    touch_accounts(&dev.accounts, account, touched);
                }
            }
            if let Some(h) = holder {
                self.state.persons.entry(h).devices.insert(d.get(), ts);
            }
        }
        if let Some(i) = ip {
            let st = self.state.ips.entry(i);
            st.accounts.insert(account.get(), ts);
            if let Some(h) = holder {
                if st.holders.insert(h.get(), ts)
                    && (2..=TOUCH_SHARED_MAX).contains(&st.holders.len())
                {
                    touch_accounts(&st.accounts, account, touched);
                }
            }
        }
    }

    /// Records a contact between two numbers; returns whether they were strangers before.
    fn contact(&mut self, a: NumberKey, b: NumberKey, ts: i64) -> bool {
        let horizon = self.cfg.contact_horizon_days.saturating_mul(DAY);
        let last = self.state.contacts.entry(pair(a, b));
        let stranger = *last == 0 || *last <= ts.saturating_sub(horizon);
        // 0 marks "never": a real contact at exactly the epoch is not in our data.
        *last = (*last).max(ts);
        let len = self.state.contacts.len();
        if len > 1024 && len > 2 * self.state.contacts_pruned_len {
            let cutoff = self.state.now.saturating_sub(horizon);
            self.state.contacts.retain(|_, last| *last > cutoff);
            self.state.contacts_pruned_len = self.state.contacts.len();
        }
        stranger
    }

    fn call(&mut self, c: &Call, touched: &mut Touched) {
        use fanzha_core::NumberClass;
        use num::*;
        let stranger = self.contact(c.caller, c.callee, c.ts);
        let den = self.risky_place(c.cell);
        let short = c.duration_s < self.cfg.short_call_s;
        let caller_risky = c.caller_class.is_risk_signal();
        // A conversation, not a dial-and-drop: scam callers dial hundreds who hang up.
        if c.duration_s >= self.cfg.contact_min_call_s
            && self.state.numbers.get(&c.caller).is_some_and(|n| n.marked)
        {
            self.risky_contact(c.callee, c.ts);
        }
        {
            let n = self.state.numbers.entry(c.caller);
            n.international = c.caller_class == NumberClass::International;
            n.virtual_operator = c.caller_class == NumberClass::Virtual;
            n.win.add_many(
                c.ts,
                &[
                    (CALLS_OUT, 1),
                    (SHORT_OUT, i64::from(short)),
                    (STRANGER_OUT, i64::from(stranger)),
                    (DEN, i64::from(den)),
                ],
            );
            n.callees.observe(&mut n.win, CALLEES, c.callee.get(), c.ts);
            if let Some(imei) = c.imei {
                n.imeis.insert(imei.get(), c.ts);
            }
        }
        touched.push(Entity::Number(c.caller));
        if let Some(imei) = c.imei {
            self.state
                .devices
                .entry(imei)
                .sims
                .insert(c.caller.get(), c.ts);
        }
        let n = self.state.numbers.entry(c.callee);
        n.international = c.callee_class == NumberClass::International;
        n.virtual_operator = c.callee_class == NumberClass::Virtual;
        n.win
            .add_many(c.ts, &[(CALLS_IN, 1), (RISKY_IN, i64::from(caller_risky))]);
        touched.push(Entity::Number(c.callee));
    }

    fn sms(&mut self, s: &Sms, touched: &mut Touched) {
        use fanzha_core::NumberClass;
        use num::*;
        let stranger = self.contact(s.sender, s.receiver, s.ts);
        let den = self.risky_place(s.cell);
        let sender_risky = s.sender_class.is_risk_signal();
        {
            let n = self.state.numbers.entry(s.sender);
            n.international = s.sender_class == NumberClass::International;
            n.virtual_operator = s.sender_class == NumberClass::Virtual;
            n.win.add_many(
                s.ts,
                &[
                    (SMS_OUT, 1),
                    (STRANGER_OUT, i64::from(stranger)),
                    (DEN, i64::from(den)),
                ],
            );
            n.sms_receivers
                .observe(&mut n.win, SMS_RECEIVERS, s.receiver.get(), s.ts);
        }
        touched.push(Entity::Number(s.sender));
        if sender_risky {
            let n = self.state.numbers.entry(s.receiver);
            n.win.add(s.ts, RISKY_IN, 1);
            touched.push(Entity::Number(s.receiver));
        }
    }

    fn login(&mut self, l: &Login, touched: &mut Touched) {
        let den = self.risky_place(l.cell);
        match l.subject {
            Subject::Account(k) => {
                let a = self.state.accounts.entry(k);
                a.win.add(l.ts, acct::LOGINS, 1);
                if den {
                    a.win.add(l.ts, acct::DEN, 1);
                }
                touched.push(Entity::Account(k));
                self.account_used(k, l.ts, l.device, l.ip, touched);
            }
            Subject::Number(k) => {
                let n = self.state.numbers.entry(k);
                if den {
                    n.win.add(l.ts, num::DEN, 1);
                }
                let holder = n.holder;
                touched.push(Entity::Number(k));
                if let Some(d) = l.device {
                    let dev = self.state.devices.entry(d);
                    dev.sims.insert(k.get(), l.ts);
                    if let Some(h) = holder {
                        dev.holders.insert(h.get(), l.ts);
                        self.state.persons.entry(h).devices.insert(d.get(), l.ts);
                    }
                }
            }
        }
    }

    fn account_opened(&mut self, e: &AccountOpened, touched: &mut Touched) {
        {
            let a = self.state.accounts.entry(e.account);
            a.holder = Some(e.holder);
            a.opened_at = Some(e.opened_at);
            a.kind = kind_code(e.class);
        }
        let p = self.state.persons.entry(e.holder);
        p.hold_account(Held {
            key: e.account.get(),
            institution: e.bank,
            class: e.class.map_or(0, class_code),
        });
        // Every account of the holder now has a different holder count.
        touch_all(&p.accounts, |k| AccountKey(k).into(), touched);
        touched.push(Entity::Person(e.holder));
    }

    fn sim_activated(&mut self, e: &SimActivated, touched: &mut Touched) {
        {
            let n = self.state.numbers.entry(e.msisdn);
            n.holder = Some(e.holder);
            n.activated_at = Some(e.activated_at);
        }
        let p = self.state.persons.entry(e.holder);
        p.hold_sim(Held {
            key: e.msisdn.get(),
            institution: e.carrier,
            class: 0,
        });
        touch_all(&p.sims, |k| NumberKey(k).into(), touched);
        touched.push(Entity::Person(e.holder));
    }

    /// The features of `entity` at the engine's current event time, or `None` for an
    /// entity the engine has never seen.
    pub fn features(&self, entity: Entity) -> Option<FeatureVector> {
        let mut values = Vec::with_capacity(entity.schema().len());
        self.features_into(entity, &mut values)
            .then_some(FeatureVector {
                entity,
                at: self.state.now,
                values,
            })
    }

    /// Like [`Engine::features`], into a caller's buffer (cleared first) so a scoring loop
    /// allocates nothing. Returns whether the entity is known.
    pub fn features_into(&self, entity: Entity, out: &mut Vec<f64>) -> bool {
        out.clear();
        let ctx = Ctx {
            now: self.state.now,
            cfg: &self.cfg,
        };
        let since = ctx.now.saturating_sub(30 * DAY);
        let person = |h: Option<PersonKey>| h.and_then(|h| self.state.persons.get(&h));
        match entity {
            Entity::Account(k) => {
                let Some(a) = self.state.accounts.get(&k) else {
                    return false;
                };
                let own = a.holder.map(|h| h.get());
                // Ask for every device's and IP's holders before counting any: they are
                // cold, and independent of each other.
                for d in a.devices.keys() {
                    self.state.devices.prefetch_lines(&DeviceKey(nz(d)), 2);
                }
                for i in a.ips.keys() {
                    self.state.ips.prefetch_lines(&IpKey(nz(i)), 2);
                }
                let device_others = a
                    .devices
                    .keys()
                    .filter_map(|d| self.state.devices.get(&DeviceKey(nz(d))))
                    .map(|d| d.holders.count_since_except(since, own))
                    .max()
                    .unwrap_or(0);
                let ip_others = a
                    .ips
                    .keys()
                    .filter_map(|i| self.state.ips.get(&IpKey(nz(i))))
                    .map(|i| i.holders.count_since_except(since, own))
                    .max()
                    .unwrap_or(0);
                account_values(&ctx, a, person(a.holder), device_others, ip_others, out);
            }
            Entity::Number(k) => {
                let Some(n) = self.state.numbers.get(&k) else {
                    return false;
                };
                let week = ctx.now.saturating_sub(7 * DAY);
                for d in n.imeis.keys() {
                    self.state.devices.prefetch(&DeviceKey(nz(d)));
                }
                let max_sims = n
                    .imeis
                    .keys()
                    .filter_map(|d| self.state.devices.get(&DeviceKey(nz(d))))
                    .map(|d| d.sims.count_since(week))
                    .max()
                    .unwrap_or(0);
                number_values(&ctx, n, person(n.holder), max_sims, out);
            }
            Entity::Person(k) => {
                let Some(p) = self.state.persons.get(&k) else {
                    return false;
                };
                person_values(&ctx, p, out);
            }
        }
        true
    }
}

/// Keys in the sets come from `NonZeroU32` keys, so they are never zero; this restores the
/// type without a panic path.
fn nz(k: u32) -> std::num::NonZeroU32 {
    std::num::NonZeroU32::new(k).unwrap_or(std::num::NonZeroU32::MIN)
}

impl From<AccountKey> for Entity {
    fn from(k: AccountKey) -> Self {
        Entity::Account(k)
    }
}

impl From<NumberKey> for Entity {
    fn from(k: NumberKey) -> Self {
        Entity::Number(k)
    }
}

fn touch_accounts(set: &crate::distinct::RecentSet<64>, except: AccountKey, touched: &mut Touched) {
    for k in set.keys() {
        if k != except.get() {
            touched.push(Entity::Account(AccountKey(nz(k))));
        }
    }
}

fn touch_all(list: &[Held], f: impl Fn(std::num::NonZeroU32) -> Entity, touched: &mut Touched) {
    for h in list {
        touched.push(f(nz(h.key)));
    }
}
