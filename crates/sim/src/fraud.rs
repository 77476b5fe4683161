//! The fraud ecosystem, planned once for the whole window before any day is generated: rings
//! with their dens, SIM boxes and devices; card suppliers (卡农) who open accounts and SIMs in
//! bursts and a card dealer (卡商) who buys them; callers (拉手) dialling strangers from the den;
//! a data seller (菜商) whose leaked customer list is where most victims are first found;
//! victims chosen by typology-specific preferences, contacted by call, SMS, app or video, paying
//! one or several escalating sums, some through runners' payment codes (跑分); laundering
//! through first-, second- and third-level cards (水房) with splits and merges, exits through
//! couriers' cash withdrawals (车手) in other towns, virtual-currency desks and fake merchant
//! trades; then reports (警情), pushed leads, historic cases and other authorities' freezes.
//!
//! Laundering beyond the district (transfers between two outside cards) is written to
//! `transactions` too, as if it had come back in bank statements (调单), so the labelled flows
//! can be followed to their exits.
//!
//! The plan is drawn from the `Fraud` stream in one fixed order and is small (thousands of
//! victims at district scale), so it is built on one thread; its records are bucketed by day
//! and merged into the ordinary days as those are generated.

use fanzha_core::vocab::Typology;

use crate::clock::{self, DAY, HOUR, MINUTE, START};
use crate::config::{Config, TypologyParams};
use crate::event::*;
use crate::rng::{Cumulative, Purpose, Stream};
use crate::world::{tag, World, BANKS, TENPAY};

/// A ring: its typologies, dens and the entities labelled with it.
pub struct Ring {
    pub id: String,
    pub typologies: Vec<Typology>,
    pub dens: Vec<u32>,
    den_cell: u32,
    den_ip: u32,
    den_devices: Vec<u32>,
    sim_box: u32,
    caller_sims: Vec<u32>,
    ring_sims: Vec<u32>,
    foreign_numbers: Vec<u32>,
    l1: Vec<u32>,
    l2: Vec<u32>,
    l3: Vec<u32>,
    /// The L3 cards held in the district, emptied at ATMs by couriers.
    l3_local: Vec<u32>,
    runners: Vec<(u32, u32)>,
    couriers: Vec<u32>,
    crypto_desk: u32,
    fake_merchant: u32,
    exit_card: u32,
    rebate_account: u32,
    /// When each L1 card may first be used (after its opening and hand-over).
    l1_ready: Vec<i64>,
    next_l1: usize,
    victims_on_l1: u32,
}

pub struct Victim {
    pub person: u32,
    pub ring: u32,
    pub typology: Typology,
    pub first_contact: i64,
    pub channel: &'static str,
    /// Indices into `Plan::payments`.
    pub payments: Vec<u32>,
    pub loss: i64,
    /// When the last payment was made.
    pub last_payment: i64,
    /// Index into `Plan::reports`.
    pub report: Option<u32>,
}

pub struct Payment {
    pub victim: u32,
    pub amount: i64,
}

pub struct Report {
    pub id: String,
    pub ts: i64,
    pub person: u32,
    pub typology: Typology,
    pub loss: i64,
    pub channel: &'static str,
    /// Payments named in the report (indices into `Plan::payments`); empty for historic ones.
    pub payments: Vec<u32>,
}

pub struct Lead {
    pub id: String,
    pub ts: i64,
    pub source: &'static str,
    pub reason: &'static str,
    pub person: u32,
    pub sim: u32,
    pub account: u32,
    pub typology: Option<Typology>,
}

pub struct Case {
    pub id: String,
    pub filed: i64,
    pub reports: Vec<u32>,
    pub solved: Option<i64>,
    pub arrested: u32,
    pub prosecuted: u32,
}

pub struct Freeze {
    pub account: u32,
    pub authority: String,
    pub measure: &'static str,
    pub amount: i64,
    pub registered: i64,
    pub expires: Option<i64>,
    pub document: String,
}

/// A labelled entity (`labels/entities.csv`).
pub struct Entity {
    pub kind: EntityKind,
    pub index: u32,
    pub role: &'static str,
    pub ring: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    Account,
    Sim,
    Person,
    Device,
    Place,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Account => "account",
            EntityKind::Sim => "sim",
            EntityKind::Person => "person",
            EntityKind::Device => "device",
            EntityKind::Place => "place",
        }
    }
}

pub struct Plan {
    pub rings: Vec<Ring>,
    pub victims: Vec<Victim>,
    pub payments: Vec<Payment>,
    pub reports: Vec<Report>,
    pub leads: Vec<Lead>,
    pub cases: Vec<Case>,
    pub freezes: Vec<Freeze>,
    pub entities: Vec<Entity>,
    /// The plan's records, by day of the window.
    pub days: Vec<Day>,
}

const FOREIGN_PREFIXES: &[&str] = &["+855", "+63", "+95", "+60", "+84", "+66"];

fn contact_kind(i: usize) -> &'static str {
    ["call", "sms", "app", "video"][i]
}

/// Minutes from first contact to the first payment, and between payments, from the
/// typology's timing columns.
fn timing(tp: &TypologyParams, rng: &mut Stream) -> (i64, i64) {
    let (first, gap) = (tp.first_payment_minutes, tp.payment_gap_minutes);
    (
        rng.between(first[0], first[1]) * MINUTE,
        rng.between(gap[0], gap[1]) * MINUTE,
    )
}

fn payment_memo(t: Typology, i: usize) -> u8 {
    use Typology::*;
    match t {
        OrderBrushing => memo::TASK,
        FakeInvestment => memo::INVEST,
        FakeLoan => {
            if i == 0 {
                memo::FEE
            } else {
                memo::UNFREEZE
            }
        }
        FakeCustomerService => memo::REFUND,
        ImpersonatingOfficials => memo::SAFE_ACCOUNT,
        Romance => memo::RECHARGE,
        FakeCreditRepair => memo::FEE,
        AiFaceVoice => memo::TRANSFER,
        Other => memo::NONE,
    }
}

fn contact_text(t: Typology) -> u16 {
    use Typology::*;
    match t {
        OrderBrushing => 9,
        FakeCustomerService => 10,
        FakeCreditRepair => 11,
        FakeLoan => 12,
        FakeInvestment | Romance => 13,
        ImpersonatingOfficials => 14,
        AiFaceVoice | Other => 9,
    }
}

fn fraud_app(t: Typology, known_share: f64, rng: &mut Stream) -> u16 {
    use Typology::*;
    match t {
        OrderBrushing => APP_FRAUD_TASK,
        FakeInvestment => {
            if rng.chance(known_share) {
                APP_FRAUD_INVEST_KNOWN
            } else {
                APP_FRAUD_INVEST
            }
        }
        FakeLoan => APP_FRAUD_LOAN,
        Romance => APP_FRAUD_ROMANCE,
        _ => APP_FRAUD_MEETING,
    }
}

pub fn description(t: Typology) -> &'static str {
    use Typology::*;
    match t {
        OrderBrushing => "网上兼职刷单，先返小额佣金后被要求连续做任务垫资，无法提现",
        FakeInvestment => "被拉入投资群，在虚假平台充值理财，无法提现",
        FakeLoan => "网上申请贷款，被以解冻费、保证金为由要求转账",
        FakeCustomerService => "冒充电商客服称商品有问题可理赔，诱导转账",
        ImpersonatingOfficials => "冒充公检法称涉嫌洗钱，要求将资金转入安全账户",
        Romance => "网络交友认识男友，被诱导在平台充值",
        FakeCreditRepair => "冒充金融平台称征信有问题需注销账户，诱导转账",
        AiFaceVoice => "视频通话中对方冒充亲属，称急需用钱",
        Other => "其他类型诈骗",
    }
}

/// Shared state while planning.
struct Planner<'a> {
    cfg: &'a Config,
    rng: Stream,
    plan: Plan,
    out: Out,
    end: i64,
    busy: Vec<bool>,
}

/// The plan's records, bucketed by day; records outside the window are dropped.
struct Out {
    days: Vec<Day>,
    end: i64,
}

impl Out {
    fn day_of(&mut self, ts: i64) -> Option<&mut Day> {
        if ts < START || ts >= self.end {
            return None;
        }
        let d = ((ts - START) / DAY) as usize;
        self.days.get_mut(d)
    }

    fn tx(&mut self, tx: Tx) {
        if let Some(day) = self.day_of(tx.ts) {
            day.txs.push(tx);
        }
    }

    fn call(&mut self, c: Call) {
        if let Some(day) = self.day_of(c.ts) {
            day.calls.push(c);
        }
    }

    fn sms(&mut self, s: Sms) {
        if let Some(day) = self.day_of(s.ts) {
            day.sms.push(s);
        }
    }

    fn login(&mut self, l: Login) {
        if let Some(day) = self.day_of(l.ts) {
            day.logins.push(l);
        }
    }

    fn app(&mut self, a: AppEvent) {
        if let Some(day) = self.day_of(a.ts) {
            day.apps.push(a);
        }
    }
}

impl Planner<'_> {
    fn label(&mut self, kind: EntityKind, index: u32, role: &'static str, ring: u32) {
        self.plan.entities.push(Entity {
            kind,
            index,
            role,
            ring,
        });
    }

    /// A resident free of other roles, drawn with `weight` (0 excludes).
    fn recruit(&mut self, w: &World, weight: impl Fn(&crate::world::Person) -> f64) -> u32 {
        for _ in 0..10_000 {
            let p = self.rng.index(w.persons.len());
            let person = &w.persons[p];
            if person.is_company
                || self.busy[p]
                || person.sims.is_empty()
                || person.accounts.is_empty()
            {
                continue;
            }
            if self.rng.f64() < weight(person) {
                self.busy[p] = true;
                return p as u32;
            }
        }
        // A tiny world may have no one who fits; take anyone free.
        let p = (0..w.persons.len())
            .find(|&p| {
                !self.busy[p]
                    && !w.persons[p].is_company
                    && !w.persons[p].sims.is_empty()
                    && !w.persons[p].accounts.is_empty()
            })
            .unwrap_or(0);
        self.busy[p] = true;
        p as u32
    }
}

fn young(p: &crate::world::Person) -> f64 {
    if (18..=35).contains(&p.age) {
        1.0
    } else {
        0.0
    }
}

/// Builds the whole fraud plan and adds the ring's cards, SIMs and devices to the world.
pub fn plan(cfg: &Config, w: &mut World) -> Plan {
    let p = &cfg.params;
    let days = cfg.days.max(1);
    let mut pl = Planner {
        cfg,
        rng: Stream::new(cfg.seed, Purpose::Fraud, 0),
        plan: Plan {
            rings: Vec::new(),
            victims: Vec::new(),
            payments: Vec::new(),
            reports: Vec::new(),
            leads: Vec::new(),
            cases: Vec::new(),
            freezes: Vec::new(),
            entities: Vec::new(),
            days: Vec::new(),
        },
        out: Out {
            days: (0..days).map(|_| Day::default()).collect(),
            end: START + i64::from(days) * DAY,
        },
        end: START + i64::from(days) * DAY,
        busy: vec![false; w.persons.len()],
    };
    let residents = w.resident_count() as f64;
    let n_victims = ((residents / 10_000.0) * p.victims_per_10k_week * f64::from(days) / 7.0)
        .round()
        .max(3.0) as usize;
    let n_rings = ((n_victims as f64 / p.victims_per_ring).ceil() as usize).max(2);

    // The data seller works at a shop whose customer list leaked.
    let leaked_company = pl.rng.index(w.companies.len());
    let seller = pl.recruit(w, |p| if (22..=50).contains(&p.age) { 1.0 } else { 0.0 });
    let leaked: Vec<bool> = (0..w.persons.len())
        .map(|_| pl.rng.chance(p.leaked_population_share))
        .collect();

    // Typologies to rings: each typology has at least one ring; large ones get more.
    let shares: Vec<f64> = p.typologies.iter().map(|t| t.share).collect();
    let mut rings_for: Vec<Vec<u32>> = vec![Vec::new(); p.typologies.len()];
    for r in 0..n_rings {
        if n_rings < p.typologies.len() {
            for t in (0..p.typologies.len()).filter(|t| t % n_rings == r) {
                rings_for[t].push(r as u32);
            }
        } else {
            let t = if r < p.typologies.len() {
                r
            } else {
                pl.rng.weighted(&shares)
            };
            rings_for[t].push(r as u32);
        }
    }

    // Victims first (how many each ring serves sets how many cards it needs).
    let cums: Vec<[Cumulative; 2]> = p
        .typologies
        .iter()
        .map(|t| {
            let weight = |person: &crate::world::Person| -> f64 {
                if person.is_company || person.sims.is_empty() || person.accounts.is_empty() {
                    return 0.0;
                }
                let mut wgt = t.age_weight[person.band()];
                if person.has(tag::LIVES_ALONE) {
                    wgt *= t.lives_alone_boost;
                }
                wgt
            };
            [
                Cumulative::new(
                    w.persons
                        .iter()
                        .zip(&leaked)
                        .map(|(p, &l)| if l { 0.0 } else { weight(p) }),
                ),
                Cumulative::new(
                    w.persons
                        .iter()
                        .zip(&leaked)
                        .map(|(p, &l)| if l { weight(p) } else { 0.0 }),
                ),
            ]
        })
        .collect();
    let mut chosen: Vec<(u32, usize, u32)> = Vec::with_capacity(n_victims);
    let mut is_victim = vec![false; w.persons.len()];
    for _ in 0..n_victims {
        let t = pl.rng.weighted(&shares);
        let from_list = pl.rng.chance(p.leaked_list_share);
        let mut person = None;
        for _ in 0..50 {
            let c = &cums[t][usize::from(from_list)];
            if c.total() <= 0.0 {
                break;
            }
            let cand = c.draw(&mut pl.rng);
            if !is_victim[cand] && !pl.busy[cand] {
                person = Some(cand);
                break;
            }
        }
        let Some(person) = person else { continue };
        is_victim[person] = true;
        let rs = &rings_for[t];
        let ring = rs[pl.rng.index(rs.len())];
        chosen.push((person as u32, t, ring));
    }
    // Ring members are never victims of their own scheme.
    for (i, v) in is_victim.iter().enumerate() {
        if *v {
            pl.busy[i] = true;
        }
    }
    pl.busy[seller as usize] = true;
    let mut per_ring = vec![0u32; n_rings];
    for c in &chosen {
        per_ring[c.2 as usize] += 1;
    }

    for (r, &served) in per_ring.iter().enumerate() {
        let typs: Vec<Typology> = (0..p.typologies.len())
            .filter(|&t| rings_for[t].contains(&(r as u32)))
            .map(|t| p.typologies[t].typology)
            .collect();
        build_ring(&mut pl, w, r as u32, typs, served);
        // The ring pays the data seller for leads and talks to them.
        let ring = &pl.plan.rings[r];
        let (from, caller) = (ring.rebate_account, ring.caller_sims[0]);
        let sp = &w.persons[seller as usize];
        let to = if sp.wallet != NONE {
            sp.wallet
        } else {
            sp.accounts[0]
        };
        let ts = START + pl.rng.between(2 * HOUR, DAY * i64::from(days).min(3));
        let amount = pl.rng.between(20, 200) * 10_000;
        pl.out.tx(Tx::plain(
            ts,
            from,
            to,
            amount,
            Channel::Transfer,
            memo::NONE,
        ));
        let cell = ring.den_cell;
        let sim_box = ring.sim_box;
        let seller_phone = w.phone_of(seller);
        pl.out.call(Call {
            ts: ts - 30 * MINUTE,
            caller,
            callee: seller_phone,
            duration: 240,
            video: false,
            cell,
            device: sim_box,
        });
        pl.label(EntityKind::Person, seller, "data_seller", r as u32);
    }
    // The leaked shop: its customers (the list) bought there in the first days.
    let shop = &w.companies[leaked_company];
    let shop_cell = w.communities[shop.community as usize].cells[0];
    let shop_account = shop.account;
    for (pi, &l) in leaked.iter().enumerate() {
        if !l || w.persons[pi].is_company || w.persons[pi].accounts.is_empty() {
            continue;
        }
        let ts = START
            + pl.rng
                .between(HOUR * 8, (DAY * i64::from(days.min(4))) - HOUR);
        let amount = (pl.rng.lognormal(120.0, 0.8) * 100.0) as i64;
        let from = w.persons[pi].accounts[0];
        pl.out.tx(Tx {
            ts,
            from,
            to: shop_account,
            amount: amount.max(100),
            channel: Channel::Pos,
            memo: memo::SHOPPING,
            device: NONE,
            ip: 0,
            cell: shop_cell,
            tag: NONE,
        });
    }

    // Victims in order of their first payment, so card rotation follows time.
    let mut journeys: Vec<(i64, u32, usize, u32, i64, i64)> = chosen
        .into_iter()
        .map(|(person, t, ring)| {
            let (first, gap) = timing(&p.typologies[t], &mut pl.rng);
            // Victims pay in waking hours (08:00–22:00).
            let day = pl.rng.below(u64::from(days)) as i64;
            let first_pay = START + day * DAY + 8 * HOUR + pl.rng.between(0, 14 * HOUR - 1);
            (first_pay, person, t, ring, first, gap)
        })
        .collect();
    journeys.sort_by_key(|j| (j.0, j.1));
    for (first_pay, person, t, ring, first, gap) in journeys {
        victim(
            &mut pl,
            w,
            person,
            &p.typologies[t],
            ring,
            first_pay,
            first,
            gap,
            leaked[person as usize],
        );
    }
    ring_background(&mut pl, w);
    reports(&mut pl, w);
    leads(&mut pl, w);
    historic_cases(&mut pl, w);
    freezes(&mut pl, w);
    pl.plan.days = pl.out.days;
    pl.plan
}

fn build_ring(
    pl: &mut Planner<'_>,
    w: &mut World,
    r: u32,
    typologies: Vec<Typology>,
    victims: u32,
) {
    let cfg = pl.cfg;
    let p = &cfg.params;
    let id = format!("RING{:04}", r + 1);
    // Dens: a hotel room, an office or a flat; the den's cell and broadband address.
    let candidates: Vec<u32> = w
        .places
        .iter()
        .enumerate()
        .filter(|(_, pl)| matches!(pl.kind, "hotel" | "office" | "apartment"))
        .map(|(i, _)| i as u32)
        .collect();
    let n_dens = 1 + usize::from(pl.rng.chance(p.second_den_share));
    let dens: Vec<u32> = (0..n_dens).map(|_| *pl.rng.pick(&candidates)).collect();
    let den_comm = w.places[dens[0] as usize].community;
    let comm = &w.communities[den_comm as usize];
    let den_cell = comm.cells[pl.rng.index(comm.cells.len())];
    let den_ip = comm.ip_base | (200 + r % 50);
    let den_town = comm.town;
    for &d in &dens {
        pl.label(EntityKind::Place, d, "den", r);
    }
    let den_devices: Vec<u32> = (0..pl.rng.between(2, 4)).map(|_| w.add_device()).collect();
    for &d in &den_devices {
        pl.label(EntityKind::Device, d, "den_device", r);
    }
    let sim_box = w.add_device();
    pl.label(EntityKind::Device, sim_box, "sim_box", r);
    let ring_device = w.add_device();
    pl.label(EntityKind::Device, ring_device, "ring_device", r);

    // How many cards and SIMs the ring needs.
    let per_l1 = p.victims_per_l1_card.max(1);
    let n_l1 = (victims.div_ceil(per_l1) + 1) as usize;
    let n_l2 = n_l1.div_ceil(2) + 1;
    let n_callers = pl.rng.between(2, 4) as usize;
    let n_caller_sims = n_callers * 3;
    let n_ring_sims = 2;
    let local_l1 = (0..n_l1)
        .filter(|_| pl.rng.chance(p.local_l1_share))
        .count()
        .max(1);
    let local_l2 = n_l2.div_ceil(2);
    let local_l3 = 1;
    let cards_needed = local_l1 + local_l2 + local_l3;
    let sims_needed = n_caller_sims + n_ring_sims;

    // The card dealer and the suppliers who open cards and SIMs in bursts for them.
    let dealer = pl.recruit(w, |p| if (22..=45).contains(&p.age) { 1.0 } else { 0.0 });
    pl.label(EntityKind::Person, dealer, "card_dealer", r);
    let dealer_main = w.persons[dealer as usize].accounts[0];
    let dealer_phone = w.phone_of(dealer);
    let dealer_device = w.persons[dealer as usize].device;
    let mut cards: Vec<(u32, i64)> = Vec::new();
    let mut sims: Vec<u32> = Vec::new();
    let window = i64::from(pl.cfg.days) * DAY;
    while cards.len() < cards_needed || sims.len() < sims_needed {
        let supplier = pl.recruit(w, |p| {
            if p.has(tag::STUDENT) || p.has(tag::UNEMPLOYED) {
                1.0
            } else {
                young(p) * 0.3
            }
        });
        pl.label(EntityKind::Person, supplier, "card_supplier", r);
        let burst = START - 25 * DAY + pl.rng.between(0, 25 * DAY + window / 3);
        let mut sold = 0;
        let mut banks: Vec<u16> = Vec::new();
        for k in 0..pl.rng.between(2, 4) {
            if cards.len() >= cards_needed && k > 0 {
                break;
            }
            let bank = loop {
                let b = pl.rng.below(u64::from(BANKS.end)) as u16;
                if !banks.contains(&b) {
                    break b;
                }
            };
            banks.push(bank);
            let opened = burst + k * pl.rng.between(20 * MINUTE, 6 * HOUR);
            let class = if pl.rng.chance(p.supplier_class_i_share) {
                "I"
            } else {
                "II"
            };
            let a = w.add_account(bank, supplier, opened, class, true, 0, 19);
            cards.push((a, opened));
            pl.label(EntityKind::Person, supplier, "card_supplier", r);
            // The dealer checks each new card from their own phone before handing it on.
            pl.out.login(Login {
                ts: opened + pl.rng.between(HOUR, 20 * HOUR),
                subject: a,
                device: ring_device,
                ip: World::mobile_ip(&mut pl.rng),
                cell: w.persons[dealer as usize].home_cell,
            });
            sold += 1;
        }
        let carrier = pl.rng.index(3);
        for k in 0..pl.rng.between(1, 3) {
            let msisdn = w.new_msisdn(&mut pl.rng, carrier, false);
            let activated = burst + pl.rng.between(HOUR, 3 * HOUR) + k * 5 * MINUTE;
            let s = w.add_sim(msisdn, carrier as u8, supplier, activated, "personal");
            sims.push(s);
            sold += 1;
        }
        // Calls with the dealer around the burst, then the dealer pays for the cards.
        let sp = w.phone_of(supplier);
        pl.out.call(Call {
            ts: burst - pl.rng.between(HOUR, 20 * HOUR),
            caller: dealer_phone,
            callee: sp,
            duration: pl.rng.between(30, 300) as u32,
            video: false,
            cell: w.persons[dealer as usize].home_cell,
            device: dealer_device,
        });
        let supplier_main = w.persons[supplier as usize].accounts[0];
        pl.out.tx(Tx {
            ts: burst + pl.rng.between(20 * HOUR, 48 * HOUR),
            from: dealer_main,
            to: supplier_main,
            amount: sold * pl.rng.between(p.card_price_yuan[0], p.card_price_yuan[1]) * 100,
            channel: Channel::Transfer,
            memo: memo::NONE,
            device: dealer_device,
            ip: World::mobile_ip(&mut pl.rng),
            cell: w.persons[dealer as usize].home_cell,
            tag: NONE,
        });
    }
    // The supplier label was pushed once per card; keep one per person.
    dedup_labels(&mut pl.plan.entities);

    // Cards by level: local ones from the suppliers, the rest outside the district.
    let mut it = cards.into_iter();
    let mut l1 = Vec::new();
    let mut l1_ready = Vec::new();
    for _ in 0..local_l1 {
        if let Some((a, opened)) = it.next() {
            l1.push(a);
            l1_ready.push(opened + pl.rng.between(DAY, 3 * DAY));
        }
    }
    for _ in local_l1..n_l1 {
        let a = w.outside_card(&mut pl.rng);
        l1.push(a);
        l1_ready.push(START - DAY);
    }
    // Rotation goes in the order cards become usable.
    let mut order: Vec<usize> = (0..l1.len()).collect();
    order.sort_by_key(|&i| (l1_ready[i], i));
    let (l1, l1_ready): (Vec<u32>, Vec<i64>) =
        order.into_iter().map(|i| (l1[i], l1_ready[i])).unzip();
    let mut l2: Vec<u32> = (0..local_l2)
        .filter_map(|_| it.next().map(|c| c.0))
        .collect();
    while l2.len() < n_l2 {
        l2.push(w.outside_card(&mut pl.rng));
    }
    let l3_local: Vec<u32> = (0..local_l3)
        .filter_map(|_| it.next().map(|c| c.0))
        .collect();
    let mut l3 = l3_local.clone();
    for _ in 0..2 {
        l3.push(w.outside_card(&mut pl.rng));
    }
    for &a in &l1 {
        pl.label(EntityKind::Account, a, "mule_l1", r);
    }
    for &a in &l2 {
        pl.label(EntityKind::Account, a, "mule_l2", r);
    }
    for &a in &l3 {
        pl.label(EntityKind::Account, a, "mule_l3", r);
    }
    // The account that pays order-brushing "rebates" is one of the ring's own outside cards,
    // deep in the chain: labelled third level.
    let rebate_account = w.outside_card(&mut pl.rng);
    pl.label(EntityKind::Account, rebate_account, "mule_l3", r);
    let crypto_desk = w.outside_corporate("6688");
    pl.label(EntityKind::Account, crypto_desk, "crypto_exit", r);
    let fake_merchant = w.outside_corporate("8899");
    pl.label(EntityKind::Account, fake_merchant, "exit_account", r);
    let exit_card = w.outside_card(&mut pl.rng);
    pl.label(EntityKind::Account, exit_card, "exit_account", r);

    // SIMs: most go into the SIM box for the callers; two serve SMS and logins.
    let caller_sims: Vec<u32> = sims[..n_caller_sims.min(sims.len())].to_vec();
    let ring_sims: Vec<u32> = sims[n_caller_sims.min(sims.len())..].to_vec();
    for &s in &caller_sims {
        pl.label(EntityKind::Sim, s, "caller_sim", r);
    }
    for &s in &ring_sims {
        pl.label(EntityKind::Sim, s, "ring_sim", r);
    }
    for _ in 0..n_callers {
        let c = pl.recruit(w, young);
        pl.label(EntityKind::Person, c, "caller", r);
    }
    let mut foreign_numbers = Vec::new();
    for _ in 0..pl.rng.between(2, 4) {
        let prefix = FOREIGN_PREFIXES[pl.rng.index(FOREIGN_PREFIXES.len())];
        let n = format!("{prefix}{}", 10_000_000 + pl.rng.below(89_999_999));
        foreign_numbers.push(w.add_external(n));
    }
    for _ in 0..2 {
        // Virtual-operator numbers (170/171).
        let n = format!("17{}{:08}", pl.rng.between(0, 1), pl.rng.below(100_000_000));
        foreign_numbers.push(w.add_external(n));
    }
    // Runners: residents who rent out a payment code; each code is a dedicated wallet.
    let mut runners = Vec::new();
    for _ in 0..pl.rng.between(1, 2) {
        let person = pl.recruit(w, young);
        let opened = START - pl.rng.between(5, 60) * DAY;
        let wallet = w.add_account(
            TENPAY + u16::from(pl.rng.chance(0.5)),
            person,
            opened,
            "payment",
            true,
            0,
            0,
        );
        pl.label(EntityKind::Person, person, "runner", r);
        pl.label(EntityKind::Account, wallet, "runner", r);
        runners.push((person, wallet));
    }
    let mut couriers = Vec::new();
    for _ in 0..pl.rng.between(1, 2) {
        let c = pl.recruit(w, |p| {
            if (18..=40).contains(&p.age) && !p.has(tag::STUDENT) {
                1.0
            } else {
                0.0
            }
        });
        pl.label(EntityKind::Person, c, "courier", r);
        couriers.push(c);
    }
    let _ = den_town;
    pl.plan.rings.push(Ring {
        id,
        typologies,
        dens,
        den_cell,
        den_ip,
        den_devices,
        sim_box,
        caller_sims,
        ring_sims,
        foreign_numbers,
        l1,
        l2,
        l3,
        l3_local,
        runners,
        couriers,
        crypto_desk,
        fake_merchant,
        exit_card,
        rebate_account,
        l1_ready,
        next_l1: 0,
        victims_on_l1: 0,
    });
}

fn dedup_labels(entities: &mut Vec<Entity>) {
    let mut seen = std::collections::HashSet::new();
    entities.retain(|e| seen.insert((e.kind as u8, e.index, e.role, e.ring)));
}

/// One victim's journey: contact, escalating payments, and the laundering of each payment.
#[allow(clippy::too_many_arguments)]
fn victim(
    pl: &mut Planner<'_>,
    w: &mut World,
    person: u32,
    tp: &TypologyParams,
    r: u32,
    first_pay: i64,
    first_delay: i64,
    gap: i64,
    _listed: bool,
) {
    let cfg = pl.cfg;
    let p = &cfg.params;
    let t = tp.typology;
    let vp = &w.persons[person as usize];
    let (phone, main, wallet, vdevice, vcell) = (
        w.phone_of(person),
        vp.accounts[0],
        vp.wallet,
        vp.device,
        vp.home_cell,
    );
    let vip = w.home_ip(person);
    let first_contact = first_pay - first_delay;
    let channel = contact_kind(pl.rng.weighted(&tp.contact));
    let vi = pl.plan.victims.len() as u32;

    // Payments: 1..max, escalating, summing to a log-normal loss.
    let k = 1 + pl.rng.weighted(
        &(0..tp.max_payments)
            .map(|i| p.payment_count_decay.powi(i as i32))
            .collect::<Vec<_>>(),
    );
    let loss_yuan = pl
        .rng
        .lognormal(tp.median_loss_yuan, p.loss_sigma)
        .clamp(100.0, 3_000_000.0);
    let weights: Vec<f64> = (0..k)
        .map(|i| p.payment_escalation.powi(i as i32))
        .collect();
    let wsum: f64 = weights.iter().sum();
    let mut times = Vec::with_capacity(k);
    let mut ts = first_pay;
    for i in 0..k {
        if i > 0 {
            ts += gap / 2 + pl.rng.between(0, gap);
        }
        times.push(ts);
    }

    // First contact, as the typology prefers.
    let ring = &pl.plan.rings[r as usize];
    let (den_cell, sim_box) = (ring.den_cell, ring.sim_box);
    let den_call_share = p.den_call_share;
    let scam_caller = |rng: &mut Stream, ring: &Ring| -> (u32, u32, u32) {
        if rng.chance(den_call_share) {
            (
                ring.caller_sims[rng.index(ring.caller_sims.len())],
                ring.den_cell,
                ring.sim_box,
            )
        } else {
            (
                ring.foreign_numbers[rng.index(ring.foreign_numbers.len())],
                NONE,
                NONE,
            )
        }
    };
    match channel {
        "call" => {
            let (caller, cell, dev) = scam_caller(&mut pl.rng, ring);
            let duration = pl.rng.between(300, 2400) as u32;
            pl.out.call(Call {
                ts: first_contact,
                caller,
                callee: phone,
                duration,
                video: false,
                cell,
                device: dev,
            });
        }
        "sms" => {
            let sender = ring
                .ring_sims
                .first()
                .copied()
                .unwrap_or(ring.caller_sims[0]);
            pl.out.sms(Sms {
                ts: first_contact,
                sender,
                receiver: phone,
                text: contact_text(t),
                cell: den_cell,
            });
        }
        "app" => {
            let app = fraud_app(t, p.known_fraud_app_share, &mut pl.rng);
            let sender = ring
                .ring_sims
                .first()
                .copied()
                .unwrap_or(ring.caller_sims[0]);
            pl.out.sms(Sms {
                ts: first_contact - pl.rng.between(5, 60) * MINUTE,
                sender,
                receiver: phone,
                text: contact_text(t),
                cell: den_cell,
            });
            pl.out.app(AppEvent {
                ts: first_contact,
                sim: phone,
                event: 0,
                app,
            });
            pl.out.app(AppEvent {
                ts: first_contact + pl.rng.between(1, 30) * MINUTE,
                sim: phone,
                event: 2,
                app,
            });
        }
        _ => {
            // AI face/voice: a video call from a number the victim has never seen.
            let caller = w.new_outside_mobile(&mut pl.rng);
            let duration = pl.rng.between(40, 240) as u32;
            pl.out.call(Call {
                ts: first_contact,
                caller,
                callee: phone,
                duration,
                video: true,
                cell: NONE,
                device: NONE,
            });
        }
    }

    let mut payments = Vec::with_capacity(k);
    let mut rebate_paid = false;
    let mut last_payment = first_pay;
    for (i, &pts) in times.iter().enumerate() {
        if pts >= pl.end {
            break;
        }
        last_payment = pts;
        let amount = ((loss_yuan * weights[i] / wsum).round().max(1.0) as i64) * 100;
        // Before each payment beyond the first, call-based scams call again.
        if i > 0 && channel == "call" {
            let ring = &pl.plan.rings[r as usize];
            let (caller, cell, dev) = scam_caller(&mut pl.rng, ring);
            pl.out.call(Call {
                ts: pts - pl.rng.between(5, 40) * MINUTE,
                caller,
                callee: phone,
                duration: pl.rng.between(120, 1800) as u32,
                video: false,
                cell,
                device: dev,
            });
        }
        let pi = pl.plan.payments.len() as u32;
        pl.plan.payments.push(Payment { victim: vi, amount });
        payments.push(pi);
        let ring = &mut pl.plan.rings[r as usize];
        let use_runner = pl.rng.chance(p.runner_share) && !ring.runners.is_empty();
        let from = if wallet != NONE
            && amount <= p.wallet_payment_max_yuan * 100
            && pl.rng.chance(p.victim_wallet_share)
        {
            wallet
        } else {
            main
        };
        let memo = if pl.rng.chance(p.payment_memo_share) {
            payment_memo(t, i)
        } else {
            memo::NONE
        };
        let ip = if pl.rng.chance(p.victim_home_ip_share) {
            vip
        } else {
            World::mobile_ip(&mut pl.rng)
        };
        if use_runner {
            let (runner, code) = ring.runners[pl.rng.index(ring.runners.len())];
            pl.out.tx(Tx {
                ts: pts,
                from,
                to: code,
                amount,
                channel: Channel::OnlinePay,
                memo,
                device: vdevice,
                ip,
                cell: vcell,
                tag: pi,
            });
            launder_runner(pl, w, r, runner, code, pts, amount);
        } else {
            // The current first-level card; rotate after `victims_per_l1_card` victims.
            let l1_idx = {
                let ring = &mut pl.plan.rings[r as usize];
                if i == 0 {
                    if ring.victims_on_l1 >= p.victims_per_l1_card.max(1)
                        && ring.next_l1 + 1 < ring.l1.len()
                    {
                        ring.next_l1 += 1;
                        ring.victims_on_l1 = 0;
                    }
                    // Skip cards not handed over yet.
                    while ring.next_l1 + 1 < ring.l1.len() && ring.l1_ready[ring.next_l1] > pts {
                        ring.next_l1 += 1;
                    }
                    ring.victims_on_l1 += 1;
                }
                ring.next_l1
            };
            let l1 = pl.plan.rings[r as usize].l1[l1_idx];
            pl.out.tx(Tx {
                ts: pts,
                from,
                to: l1,
                amount,
                channel: Channel::Transfer,
                memo,
                device: vdevice,
                ip,
                cell: vcell,
                tag: pi,
            });
            launder_l1(pl, r, l1, pts, amount);
        }
        // Order brushing pays a small "rebate" after the first task to win trust.
        if t == Typology::OrderBrushing && !rebate_paid && i + 1 < times.len() {
            rebate_paid = true;
            let bonus = pl
                .rng
                .between(p.rebate_bonus_percent[0], p.rebate_bonus_percent[1]);
            let rebate = amount + amount * bonus / 100;
            let from = pl.plan.rings[r as usize].rebate_account;
            pl.out.tx(Tx::plain(
                pts + pl.rng.between(3, 20) * MINUTE,
                from,
                main,
                rebate,
                Channel::Transfer,
                memo::TASK,
            ));
        }
    }
    if payments.is_empty() {
        return;
    }
    let loss = payments
        .iter()
        .map(|&pi| pl.plan.payments[pi as usize].amount)
        .sum();
    pl.label(EntityKind::Person, person, "victim", r);
    let _ = sim_box;
    pl.plan.victims.push(Victim {
        person,
        ring: r,
        typology: t,
        first_contact,
        channel,
        payments,
        loss,
        last_payment,
        report: None,
    });
}

/// A hop's holding time in seconds; `level` indexes `hold_factors` (first level, runner,
/// second level, third level).
fn hold(pl: &mut Planner<'_>, level: usize) -> i64 {
    let p = &pl.cfg.params;
    let m = pl
        .rng
        .lognormal(p.hold_minutes * p.hold_factors[level], p.hold_sigma);
    (m * 60.0).max(60.0) as i64
}

/// Splits `amount` into `n` parts in whole yuan where possible, summing exactly.
fn split(rng: &mut Stream, amount: i64, n: usize) -> Vec<i64> {
    if n <= 1 || amount < 100 * n as i64 {
        return vec![amount];
    }
    let mut parts = Vec::with_capacity(n);
    let mut left = amount;
    for i in 0..n - 1 {
        let share = left / (n - i) as i64;
        let jitter = share / 4;
        let part = ((share + rng.between(-jitter, jitter)) / 100 * 100).max(100);
        parts.push(part);
        left -= part;
    }
    parts.push(left);
    parts
}

/// First level: the card forwards within minutes, split across second-level cards.
fn launder_l1(pl: &mut Planner<'_>, r: u32, l1: u32, ts: i64, amount: i64) {
    let ring = &pl.plan.rings[r as usize];
    let (den_cell, den_ip) = (ring.den_cell, ring.den_ip);
    let dev = ring.den_devices[pl.rng.index(ring.den_devices.len())];
    let n = 1 + pl.rng.weighted(&pl.cfg.params.l1_split_weights);
    let l2s: Vec<u32> = (0..n)
        .map(|_| *pl.rng.pick(&pl.plan.rings[r as usize].l2))
        .collect();
    let t1 = ts + hold(pl, 0);
    pl.out.login(Login {
        ts: t1 - pl.rng.between(10, 120),
        subject: l1,
        device: dev,
        ip: den_ip,
        cell: den_cell,
    });
    let parts = split(&mut pl.rng, amount, n);
    for (k, (part, l2)) in parts.into_iter().zip(l2s).enumerate() {
        let t = t1 + k as i64 * pl.rng.between(5, 60);
        pl.out.tx(Tx {
            ts: t,
            from: l1,
            to: l2,
            amount: part,
            channel: Channel::Transfer,
            memo: memo::NONE,
            device: dev,
            ip: den_ip,
            cell: den_cell,
            tag: NONE,
        });
        launder_l2(pl, r, l2, t, part);
    }
}

/// A runner forwards the payment minus a commission, from their own phone.
fn launder_runner(
    pl: &mut Planner<'_>,
    w: &World,
    r: u32,
    runner: u32,
    code: u32,
    ts: i64,
    amount: i64,
) {
    let commission = (amount as f64 * pl.cfg.params.runner_commission) as i64;
    let fwd = amount - commission;
    let l2 = *pl.rng.pick(&pl.plan.rings[r as usize].l2);
    let rp = &w.persons[runner as usize];
    let t = ts + hold(pl, 1);
    pl.out.tx(Tx {
        ts: t,
        from: code,
        to: l2,
        amount: fwd,
        channel: Channel::Transfer,
        memo: memo::NONE,
        device: rp.device,
        ip: World::mobile_ip(&mut pl.rng),
        cell: rp.home_cell,
        tag: NONE,
    });
    launder_l2(pl, r, l2, t, fwd);
}

/// Second level: merges what arrives and passes it on to a third-level card.
fn launder_l2(pl: &mut Planner<'_>, r: u32, l2: u32, ts: i64, amount: i64) {
    let ring = &pl.plan.rings[r as usize];
    let (den_cell, den_ip) = (ring.den_cell, ring.den_ip);
    let dev = ring.den_devices[pl.rng.index(ring.den_devices.len())];
    let l3 = *pl.rng.pick(&ring.l3);
    let t = ts + hold(pl, 2);
    pl.out.tx(Tx {
        ts: t,
        from: l2,
        to: l3,
        amount,
        channel: Channel::Transfer,
        memo: memo::NONE,
        device: dev,
        ip: den_ip,
        cell: den_cell,
        tag: NONE,
    });
    launder_l3(pl, r, l3, t, amount);
}

/// Third level: cash by couriers in other towns, a virtual-currency desk, a fake merchant
/// trade, or an outside exit card.
fn launder_l3(pl: &mut Planner<'_>, r: u32, l3: u32, ts: i64, amount: i64) {
    let t = ts + hold(pl, 3);
    let ring = &pl.plan.rings[r as usize];
    let (den_cell, den_ip) = (ring.den_cell, ring.den_ip);
    let dev = ring.den_devices[pl.rng.index(ring.den_devices.len())];
    if ring.l3_local.contains(&l3) && !ring.couriers.is_empty() {
        // 车手: withdrawals of at most `courier_withdrawal_max_yuan` each at ATMs away from
        // the den.
        // The courier and the ATM (in another town) are placed by `ring_background`.
        let mut left = amount;
        let mut tt = t;
        while left > 0 {
            let chunk = left.min(pl.cfg.params.courier_withdrawal_max_yuan * 100);
            pl.out.tx(Tx::plain(
                tt,
                l3,
                NONE,
                chunk,
                Channel::AtmWithdrawal,
                memo::NONE,
            ));
            left -= chunk;
            tt += pl.rng.between(60, 600);
        }
        return;
    }
    let exits = pl.cfg.params.exit_shares;
    let roll = pl.rng.f64() * exits.iter().sum::<f64>();
    let (to, channel) = if roll < exits[0] {
        (ring.crypto_desk, Channel::CryptoExchange)
    } else if roll < exits[0] + exits[1] {
        (ring.fake_merchant, Channel::Merchant)
    } else {
        (ring.exit_card, Channel::Transfer)
    };
    pl.out.tx(Tx {
        ts: t,
        from: l3,
        to,
        amount,
        channel,
        memo: if channel == Channel::Merchant {
            memo::GOODS
        } else {
            memo::NONE
        },
        device: dev,
        ip: den_ip,
        cell: den_cell,
        tag: NONE,
    });
}

/// What rings do besides victims: callers dialling strangers from the den through the SIM
/// box, foreign numbers calling in, couriers at ATMs, and camouflage on mule cards and SIMs.
fn ring_background(pl: &mut Planner<'_>, w: &World) {
    let cfg = pl.cfg;
    let p = &cfg.params;
    let days = pl.cfg.days;
    let residents = w.persons.len();
    // Courier cell-out: place each ATM withdrawal at an ATM in another town, with the
    // courier's phone seen there.
    for d in 0..days as usize {
        let mut txs = std::mem::take(&mut pl.out.days[d].txs);
        for tx in txs
            .iter_mut()
            .filter(|t| t.channel == Channel::AtmWithdrawal && t.cell == NONE)
        {
            let ring = pl.plan.rings.iter().find(|r| r.l3_local.contains(&tx.from));
            let Some(ring) = ring else { continue };
            let den_town = w.communities[w.places[ring.dens[0] as usize].community as usize].town;
            let courier = ring.couriers[(tx.ts as usize) % ring.couriers.len()];
            let comm = loop {
                let c = pl.rng.index(w.communities.len());
                if w.communities[c].town != den_town || w.towns.len() == 1 {
                    break c;
                }
            };
            tx.cell = w.communities[comm].cells[0];
            let cp = &w.persons[courier as usize];
            pl.out.days[d].logins.push(Login {
                ts: tx.ts - pl.rng.between(60, 900),
                subject: w.phone_of(courier) | SUBJECT_SIM,
                device: cp.device,
                ip: World::mobile_ip(&mut pl.rng),
                cell: tx.cell,
            });
        }
        pl.out.days[d].txs.append(&mut txs);
    }
    for r in 0..pl.plan.rings.len() {
        let ring = &pl.plan.rings[r];
        let (den_cell, den_ip, sim_box) = (ring.den_cell, ring.den_ip, ring.sim_box);
        let caller_sims = ring.caller_sims.clone();
        let ring_sims = ring.ring_sims.clone();
        let foreign = ring.foreign_numbers.clone();
        let mule_cards: Vec<u32> = ring
            .l1
            .iter()
            .chain(&ring.l2)
            .chain(&ring.l3_local)
            .copied()
            .filter(|&a| w.accounts[a as usize].listed)
            .collect();
        let dev0 = ring.den_devices[0];
        for d in 0..days {
            let day_start = START + i64::from(d) * DAY;
            // Many short calls to strangers during working hours, from the den's cell.
            for &s in &caller_sims {
                if w.sims[s as usize].activated > day_start {
                    continue;
                }
                for _ in 0..pl.rng.poisson(p.caller_calls_per_sim_day) {
                    let ts = day_start + 9 * HOUR + pl.rng.below(10 * 3600) as i64;
                    let target = pl.rng.index(residents) as u32;
                    let callee = w.phone_of(target);
                    if callee == NONE {
                        continue;
                    }
                    let duration = if pl.rng.chance(p.caller_unanswered_share) {
                        0
                    } else {
                        pl.rng.between(3, 45) as u32
                    };
                    pl.out.call(Call {
                        ts,
                        caller: s,
                        callee,
                        duration,
                        video: false,
                        cell: den_cell,
                        device: sim_box,
                    });
                }
                // Camouflage: a few ordinary calls to the same handful of numbers.
                for _ in 0..pl.rng.poisson(p.camouflage_calls_per_sim_day) {
                    let ts = day_start + 8 * HOUR + pl.rng.below(14 * 3600) as i64;
                    let callee =
                        w.outside_mobiles[(s as usize + pl.rng.index(3)) % w.outside_mobiles.len()];
                    pl.out.call(Call {
                        ts,
                        caller: s,
                        callee,
                        duration: pl.rng.between(30, 400) as u32,
                        video: false,
                        cell: den_cell,
                        device: sim_box,
                    });
                }
            }
            // Foreign and virtual numbers ringing residents.
            for _ in 0..pl.rng.poisson(p.foreign_calls_per_ring_day) {
                let ts = day_start + 9 * HOUR + pl.rng.below(11 * 3600) as i64;
                let callee = w.phone_of(pl.rng.index(residents) as u32);
                if callee == NONE {
                    continue;
                }
                let caller = foreign[pl.rng.index(foreign.len())];
                pl.out.call(Call {
                    ts,
                    caller,
                    callee,
                    duration: if pl.rng.chance(p.foreign_unanswered_share) {
                        0
                    } else {
                        pl.rng.between(5, 90) as u32
                    },
                    video: false,
                    cell: NONE,
                    device: NONE,
                });
            }
            // Ring SIMs text strangers and log into the ring's accounts.
            for &s in &ring_sims {
                if w.sims[s as usize].activated > day_start {
                    continue;
                }
                for _ in 0..pl.rng.poisson(p.texts_per_ring_sim_day) {
                    let ts = day_start + 10 * HOUR + pl.rng.below(10 * 3600) as i64;
                    let receiver = w.phone_of(pl.rng.index(residents) as u32);
                    if receiver == NONE {
                        continue;
                    }
                    let text = 9 + pl.rng.below(6) as u16;
                    pl.out.sms(Sms {
                        ts,
                        sender: s,
                        receiver,
                        text,
                        cell: den_cell,
                    });
                }
                let ts = day_start + 10 * HOUR + pl.rng.below(8 * 3600) as i64;
                pl.out.login(Login {
                    ts,
                    subject: s | SUBJECT_SIM,
                    device: dev0,
                    ip: den_ip,
                    cell: den_cell,
                });
            }
            // Camouflage on the mule cards: small purchases and small transfers in.
            for &a in &mule_cards {
                if w.accounts[a as usize].opened > day_start {
                    continue;
                }
                for _ in 0..pl.rng.poisson(p.camouflage_per_day) {
                    let ts = day_start + 8 * HOUR + pl.rng.below(14 * 3600) as i64;
                    if pl.rng.chance(p.camouflage_purchase_share) {
                        let to = w.online_merchants[pl.rng.index(w.online_merchants.len())];
                        pl.out.tx(Tx {
                            ts,
                            from: a,
                            to,
                            amount: pl.rng.between(800, 20_000),
                            channel: Channel::OnlinePay,
                            memo: memo::NONE,
                            device: dev0,
                            ip: den_ip,
                            cell: den_cell,
                            tag: NONE,
                        });
                    } else {
                        let from = w.outside_relatives[pl.rng.index(w.outside_relatives.len())];
                        pl.out.tx(Tx::plain(
                            ts,
                            from,
                            a,
                            pl.rng.between(50, 500) * 100,
                            Channel::Transfer,
                            memo::TRANSFER,
                        ));
                    }
                }
            }
        }
    }
}

/// Reports filed hours to days after the last payment; some never, some missing a payment.
fn reports(pl: &mut Planner<'_>, w: &World) {
    let cfg = pl.cfg;
    let p = &cfg.params;
    let mut filed: Vec<(i64, u32)> = Vec::new();
    for vi in 0..pl.plan.victims.len() {
        if pl.rng.chance(p.unreported_share) {
            continue;
        }
        let delay = (pl.rng.lognormal(p.report_delay_hours, p.report_delay_sigma) * 3600.0) as i64;
        let ts = pl.plan.victims[vi].last_payment + delay.max(10 * MINUTE);
        if ts < pl.end {
            filed.push((ts, vi as u32));
        }
    }
    filed.sort();
    for (seq, (ts, vi)) in filed.into_iter().enumerate() {
        let v = &pl.plan.victims[vi as usize];
        let mut payments = v.payments.clone();
        if payments.len() > 1 && pl.rng.chance(p.partial_report_share) {
            let drop = pl.rng.index(payments.len());
            payments.remove(drop);
        }
        let loss = payments
            .iter()
            .map(|&pi| pl.plan.payments[pi as usize].amount)
            .sum();
        let channel = ["110", "96110", "walk_in", "app", "online"]
            [pl.rng.weighted(&p.report_channel_weights)];
        let ri = pl.plan.reports.len() as u32;
        pl.plan.reports.push(Report {
            id: format!("R{}{:05}", clock::yyyymmdd(ts), seq + 1),
            ts,
            person: v.person,
            typology: v.typology,
            loss,
            channel,
            payments,
        });
        pl.plan.victims[vi as usize].report = Some(ri);
    }
    let _ = w;
}

/// Leads pushed by higher-level centres, banks and carriers; some are look-alikes.
fn leads(pl: &mut Planner<'_>, w: &World) {
    let cfg = pl.cfg;
    let p = &cfg.params;
    let mut raw: Vec<Lead> = Vec::new();
    let none = |ts, source, reason| Lead {
        id: String::new(),
        ts,
        source,
        reason,
        person: NONE,
        sim: NONE,
        account: NONE,
        typology: None,
    };
    for v in &pl.plan.victims {
        if !pl.rng.chance(p.lead_share) {
            continue;
        }
        let ts = v.first_contact.max(START) + pl.rng.between(5, 120) * MINUTE;
        if ts >= pl.end {
            continue;
        }
        let source = if pl.rng.chance(p.national_lead_share) {
            "national"
        } else {
            "provincial"
        };
        let mut l = none(ts, source, "潜在受害人：与涉诈号码联系");
        l.person = v.person;
        l.sim = w.phone_of(v.person);
        l.typology = Some(v.typology);
        raw.push(l);
    }
    for ring in &pl.plan.rings {
        for &a in ring.l1.iter().filter(|&&a| w.accounts[a as usize].listed) {
            if pl.rng.chance(p.bank_lead_share) {
                let ts = START + pl.rng.between(DAY, i64::from(pl.cfg.days) * DAY - 1);
                let mut l = none(ts, "bank", "可疑交易：资金快进快出");
                l.account = a;
                raw.push(l);
            }
        }
        for &s in &ring.caller_sims {
            if pl.rng.chance(p.carrier_lead_share) {
                let ts = START + pl.rng.between(DAY / 2, i64::from(pl.cfg.days) * DAY - 1);
                let mut l = none(ts, "carrier", "高频短时外呼陌生号码");
                l.sim = s;
                raw.push(l);
            }
        }
    }
    // Look-alikes flagged too: riders' many small receipts, gateways' mass texts.
    let n_false = ((raw.len() as f64) * p.false_lead_share).ceil() as usize;
    for i in 0..n_false {
        let ts = START + pl.rng.between(HOUR, i64::from(pl.cfg.days) * DAY - 1);
        if i % 2 == 0 && !w.riders.is_empty() {
            let r = w.riders[pl.rng.index(w.riders.len())];
            let mut l = none(ts, "bank", "多笔小额陌生入账");
            l.account = w.persons[r as usize].accounts[0];
            l.person = r;
            raw.push(l);
        } else if !w.sms_gateways.is_empty() {
            let mut l = none(ts, "carrier", "群发短信");
            l.sim = w.sms_gateways[pl.rng.index(w.sms_gateways.len())];
            raw.push(l);
        }
    }
    raw.sort_by_key(|l| l.ts);
    for (i, mut l) in raw.into_iter().enumerate() {
        l.id = format!("LD{}{:05}", clock::yyyymmdd(l.ts), i + 1);
        pl.plan.leads.push(l);
    }
}

/// Historic cases from the year before the window, with their reports, solve dates and
/// arrests.
fn historic_cases(pl: &mut Planner<'_>, w: &World) {
    let cfg = pl.cfg;
    let p = &cfg.params;
    let n = ((w.resident_count() as f64 / 100_000.0) * p.historic_cases_per_100k)
        .ceil()
        .max(3.0) as usize;
    let shares: Vec<f64> = p.typologies.iter().map(|t| t.share).collect();
    let mut reports = Vec::new();
    for c in 0..n {
        let filed_base = START - pl.rng.between(15, 365) * DAY;
        let mut ids = Vec::new();
        let t = pl.rng.weighted(&shares);
        for _ in 0..pl.rng.between(1, 3) {
            let person = loop {
                let q = pl.rng.index(w.persons.len());
                if !w.persons[q].is_company {
                    break q as u32;
                }
            };
            let ts = filed_base - pl.rng.between(0, 5 * DAY);
            let loss = (pl
                .rng
                .lognormal(p.typologies[t].median_loss_yuan, p.loss_sigma)
                as i64)
                .max(100)
                * 100;
            reports.push((ts, person, p.typologies[t].typology, loss));
            ids.push(reports.len() - 1);
        }
        let solved = pl
            .rng
            .chance(p.historic_solved_share)
            .then(|| filed_base + pl.rng.between(20, 200) * DAY)
            .filter(|&s| s < START);
        let arrested = if solved.is_some() {
            pl.rng.between(1, 8) as u32
        } else {
            0
        };
        let prosecuted = if arrested > 0 {
            pl.rng.between(0, i64::from(arrested)) as u32
        } else {
            0
        };
        pl.plan.cases.push(Case {
            id: format!("AJ{}{:04}", clock::yyyymmdd(filed_base), c + 1),
            filed: filed_base,
            reports: ids.into_iter().map(|i| i as u32).collect(),
            solved,
            arrested,
            prosecuted,
        });
    }
    // Historic reports join the report list after the window's; ids say their date.
    let base = pl.plan.reports.len() as u32;
    for (i, (ts, person, typology, loss)) in reports.into_iter().enumerate() {
        let channel = ["110", "96110", "walk_in"][pl.rng.index(3)];
        pl.plan.reports.push(Report {
            id: format!("H{}{:05}", clock::yyyymmdd(ts), i + 1),
            ts,
            person,
            typology,
            loss,
            channel,
            payments: Vec::new(),
        });
    }
    for c in &mut pl.plan.cases {
        for r in &mut c.reports {
            *r += base;
        }
    }
}

/// Other authorities' measures on the district's accounts: stops and freezes on mule cards by
/// police elsewhere (with queued freezes behind them), and court freezes on ordinary debtors.
fn freezes(pl: &mut Planner<'_>, w: &World) {
    let p = &pl.cfg.params;
    let mut out = Vec::new();
    let days = i64::from(pl.cfg.days);
    let mut doc = 0;
    let mut next_doc = |prefix: &str| {
        doc += 1;
        format!("{prefix}〔2026〕{doc}号")
    };
    for ring in &pl.plan.rings {
        for &a in ring
            .l1
            .iter()
            .chain(&ring.l2)
            .filter(|&&a| w.accounts[a as usize].listed)
        {
            if !pl.rng.chance(p.outside_freeze_share) {
                continue;
            }
            let authority = [
                "江苏省南京市公安局鼓楼分局",
                "广东省深圳市公安局南山分局",
                "四川省成都市公安局武侯分局",
            ][pl.rng.index(3)];
            let ts = START + pl.rng.between(DAY, (days * DAY - 3 * DAY).max(DAY + 1));
            let amount = pl.rng.between(50, 500) * 10_000;
            out.push(Freeze {
                account: a,
                authority: authority.into(),
                measure: "stop",
                amount,
                registered: ts,
                expires: Some(ts + 48 * HOUR),
                document: next_doc("止付"),
            });
            let fz = ts + pl.rng.between(HOUR * 20, HOUR * 46);
            out.push(Freeze {
                account: a,
                authority: authority.into(),
                measure: "freeze",
                amount,
                registered: fz,
                expires: Some(fz + 182 * DAY),
                document: next_doc("冻结"),
            });
            if pl.rng.chance(p.queued_freeze_share) {
                let q = fz + pl.rng.between(HOUR, 2 * DAY);
                out.push(Freeze {
                    account: a,
                    authority: "湖北省武汉市公安局江汉分局".into(),
                    measure: "queued",
                    amount: amount / 2,
                    registered: q,
                    expires: Some(q + 182 * DAY),
                    document: next_doc("轮候"),
                });
            }
        }
    }
    // Courts freezing ordinary debtors' accounts: not fraud.
    let n = ((w.resident_count() as f64 * p.court_freezes_per_100k / 100_000.0).floor() as usize)
        .max(2);
    for _ in 0..n {
        let q = pl.rng.index(w.persons.len());
        let Some(&a) = w.persons[q].accounts.first() else {
            continue;
        };
        let ts = START + pl.rng.between(HOUR, days * DAY - HOUR);
        let amount = pl.rng.between(100, 5000) * 10_000;
        out.push(Freeze {
            account: a,
            authority: "示范区人民法院".into(),
            measure: "freeze",
            amount,
            registered: ts,
            expires: Some(ts + 365 * DAY),
            document: next_doc("执保"),
        });
        if pl.rng.chance(p.court_release_share) {
            let rel = ts + pl.rng.between(HOUR, DAY);
            if rel < pl.end {
                out.push(Freeze {
                    account: a,
                    authority: "示范区人民法院".into(),
                    measure: "release",
                    amount,
                    registered: rel,
                    expires: None,
                    document: next_doc("执解"),
                });
            }
        }
    }
    out.sort_by_key(|f| f.registered);
    pl.plan.freezes = out;
}

/// Checks the plan's invariants that the labels rely on (debug builds and tests).
pub fn check(plan: &Plan) -> Result<(), String> {
    for v in &plan.victims {
        if v.payments.is_empty() {
            return Err(format!("victim {} has no payment", v.person));
        }
    }
    Ok(())
}
