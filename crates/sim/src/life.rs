//! Ordinary life, one day at a time: salaries and pensions, shopping, bills, family transfers
//! and red packets, cash, calls and SMS on the social graph, logins and app use — and the
//! look-alikes that resemble fraud but are not: delivery riders paid many small sums, group-buy
//! leaders who collect from neighbours and pay suppliers, small traders passing money through,
//! SMS gateways texting strangers, VPN users logging in from abroad.
//!
//! A day depends only on (seed, day) and the world, so days are generated on any thread in any
//! order and come out identical. Each resident draws one Poisson count of events for the day
//! and splits it by kind (Poisson splitting), which is both exact and cheap.

use crate::clock::{self, DAY, HOUR, START};
use crate::config::Config;
use crate::event::*;
use crate::ident;
use crate::rng::{hash_unit, Cumulative, Purpose, Stream};
use crate::world::{tag, World};

/// Relative activity by hour of day, weekdays and weekends.
const WEEKDAY_HOURS: [f64; 24] = [
    0.2, 0.1, 0.05, 0.05, 0.05, 0.2, 0.6, 1.5, 2.2, 2.0, 2.0, 2.4, 2.8, 2.2, 1.8, 1.8, 2.0, 2.4,
    2.8, 3.0, 2.8, 2.2, 1.4, 0.6,
];
const WEEKEND_HOURS: [f64; 24] = [
    0.4, 0.2, 0.1, 0.05, 0.05, 0.1, 0.3, 0.8, 1.5, 2.2, 2.6, 2.8, 2.8, 2.4, 2.2, 2.4, 2.6, 2.8,
    3.0, 3.2, 3.0, 2.6, 1.8, 0.9,
];

const RED_PACKETS: [i64; 10] = [
    666, 888, 1_000, 2_000, 5_200, 6_600, 8_800, 20_000, 52_000, 100_000,
];

/// Event kinds a resident's daily count is split into.
#[derive(Clone, Copy)]
enum Kind {
    Call,
    Sms,
    ServiceSms,
    Purchase,
    Transfer,
    Atm,
    Login,
    AppOpen,
}

pub struct Rhythm {
    hours: [Cumulative; 2],
}

impl Rhythm {
    pub fn new() -> Rhythm {
        Rhythm {
            hours: [
                Cumulative::new(WEEKDAY_HOURS),
                Cumulative::new(WEEKEND_HOURS),
            ],
        }
    }

    /// A time within the day starting at `day_start`, following the hourly rhythm.
    pub fn time(&self, rng: &mut Stream, day_start: i64) -> i64 {
        let weekend = usize::from(clock::weekday(day_start) >= 5);
        let h = self.hours[weekend].draw(rng) as i64;
        day_start + h * HOUR + rng.below(3600) as i64
    }
}

impl Default for Rhythm {
    fn default() -> Self {
        Rhythm::new()
    }
}

/// Generates day `d` of ordinary life.
pub fn day(cfg: &Config, w: &World, d: u32) -> Day {
    let p = &cfg.params;
    let mut rng = Stream::new(cfg.seed, Purpose::Life, u64::from(d));
    let rhythm = Rhythm::new();
    let day_start = START + i64::from(d) * DAY;
    let (_, _, mday) = clock::civil_from_days(day_start.div_euclid(DAY));
    let weekend = clock::weekday(day_start) >= 5;
    let mut out = Day::default();
    let expected = w.persons.len() * 4;
    out.txs.reserve(expected / 2);
    out.calls.reserve(expected / 2);
    out.sms.reserve(expected / 2);

    for (pi, person) in w.persons.iter().enumerate() {
        if person.is_company {
            continue;
        }
        let pi = pi as u32;
        let phone = w.phone_of(pi);
        let main = person.accounts.first().copied().unwrap_or(NONE);
        let factor = match person.band() {
            _ if person.has(tag::STUDENT) => p.student_purchase_factor,
            2 => p.elderly_purchase_factor,
            _ => 1.0,
        };
        let call_factor = if person.age >= 60 {
            p.elderly_call_factor
        } else if person.has(tag::STUDENT) {
            p.student_call_factor
        } else {
            1.0
        };
        let rates = [
            (Kind::Call, p.calls_per_day * call_factor),
            (Kind::Sms, p.sms_per_day),
            (Kind::ServiceSms, p.service_sms_per_day),
            (Kind::Purchase, p.purchases_per_day * factor),
            (Kind::Transfer, p.transfers_per_day),
            (
                Kind::Atm,
                p.atm_per_day
                    * if person.age >= 60 {
                        p.elderly_atm_factor
                    } else {
                        1.0
                    },
            ),
            (Kind::Login, p.logins_per_day * factor),
            (Kind::AppOpen, p.app_opens_per_day),
        ];
        let total: f64 = rates.iter().map(|r| r.1).sum();
        let n = rng.poisson(total);
        for _ in 0..n {
            let mut x = rng.f64() * total;
            let mut kind = Kind::AppOpen;
            for (k, r) in rates {
                if x < r {
                    kind = k;
                    break;
                }
                x -= r;
            }
            let ts = rhythm.time(&mut rng, day_start);
            let hour = (ts - day_start) / HOUR;
            let at_work = !weekend && (9..18).contains(&hour) && person.employer != NONE;
            let cell = if at_work {
                person.work_cell
            } else {
                person.home_cell
            };
            let ip = if at_work || rng.chance(p.mobile_data_share) {
                World::mobile_ip(&mut rng)
            } else {
                w.home_ip(pi)
            };
            match kind {
                Kind::Call => {
                    if phone == NONE {
                        continue;
                    }
                    let c = w.contacts_of(pi);
                    let other = if !c.is_empty() && rng.chance(p.call_contact_share) {
                        let o = c[rng.index(c.len())];
                        if o & EXTERNAL != 0 {
                            o
                        } else {
                            w.phone_of(o)
                        }
                    } else if rng.chance(p.call_service_share) {
                        w.service_numbers[rng.index(w.service_numbers.len())]
                    } else {
                        w.outside_mobiles[rng.index(w.outside_mobiles.len())]
                    };
                    if other == NONE || other == phone {
                        continue;
                    }
                    let duration = if rng.chance(p.missed_call_share) {
                        0
                    } else {
                        rng.lognormal(p.call_median_s, p.call_sigma)
                            .clamp(1.0, 5400.0) as u32
                    };
                    // Calls from outside relatives come in as often as they go out.
                    let incoming = other & EXTERNAL != 0
                        && w.service_numbers.binary_search(&other).is_err()
                        && rng.chance(p.call_incoming_share);
                    let (caller, callee) = if incoming {
                        (other, phone)
                    } else {
                        (phone, other)
                    };
                    out.calls.push(Call {
                        ts,
                        caller,
                        callee,
                        duration,
                        video: rng.chance(p.video_call_share),
                        cell,
                        device: if incoming { NONE } else { person.device },
                    });
                }
                Kind::Sms => {
                    if phone == NONE {
                        continue;
                    }
                    let c = w.contacts_of(pi);
                    if c.is_empty() {
                        continue;
                    }
                    let o = c[rng.index(c.len())];
                    let other = if o & EXTERNAL != 0 { o } else { w.phone_of(o) };
                    if other == NONE || other == phone {
                        continue;
                    }
                    let text = if rng.chance(0.1) {
                        TEXT_OK
                    } else {
                        TEXT_PERSONAL.start + rng.below(3) as u16
                    };
                    out.sms.push(Sms {
                        ts,
                        sender: phone,
                        receiver: other,
                        text,
                        cell,
                    });
                }
                Kind::ServiceSms => {
                    if phone == NONE {
                        continue;
                    }
                    let sender = w.service_numbers[rng.index(w.service_numbers.len())];
                    let text = TEXT_SERVICE.start + rng.below(4) as u16;
                    out.sms.push(Sms {
                        ts,
                        sender,
                        receiver: phone,
                        text,
                        cell,
                    });
                }
                Kind::Purchase => {
                    let online = rng.chance(p.online_purchase_share);
                    let amount = (rng.lognormal(p.purchase_median_yuan, p.purchase_sigma) * 100.0)
                        .clamp(100.0, 5_000_000.0) as i64;
                    let from =
                        if online && person.wallet != NONE && rng.chance(p.wallet_purchase_share) {
                            person.wallet
                        } else {
                            main
                        };
                    if from == NONE {
                        continue;
                    }
                    if online {
                        let to = w.online_merchants[rng.index(w.online_merchants.len())];
                        out.txs.push(Tx {
                            ts,
                            from,
                            to,
                            amount,
                            channel: Channel::OnlinePay,
                            memo: memo::NONE,
                            device: person.device,
                            ip,
                            cell,
                            tag: NONE,
                        });
                    } else {
                        // A shop of the district, near home or work.
                        let shop = &w.companies[rng.index(w.companies.len())];
                        let shop_cell = w.communities[shop.community as usize].cells[0];
                        out.txs.push(Tx {
                            ts,
                            from,
                            to: shop.account,
                            amount,
                            channel: Channel::Pos,
                            memo: memo::SHOPPING,
                            device: NONE,
                            ip: 0,
                            cell: shop_cell,
                            tag: NONE,
                        });
                    }
                }
                Kind::Transfer => {
                    if main == NONE {
                        continue;
                    }
                    let members = &w.households[person.household as usize];
                    let to = if members.len() > 1 && rng.chance(p.household_transfer_share) {
                        let m = members[rng.index(members.len())];
                        w.persons[m as usize]
                            .accounts
                            .first()
                            .copied()
                            .unwrap_or(NONE)
                    } else if rng.chance(p.contact_transfer_share) {
                        let c = w.contacts_of(pi);
                        let o = c[rng.index(c.len())];
                        if o & EXTERNAL != 0 {
                            NONE
                        } else {
                            w.persons[o as usize]
                                .accounts
                                .first()
                                .copied()
                                .unwrap_or(NONE)
                        }
                    } else {
                        w.outside_relatives[rng.index(w.outside_relatives.len())]
                    };
                    if to == NONE || to == main {
                        continue;
                    }
                    let (amount, m) = if rng.chance(p.red_packet_share) {
                        (RED_PACKETS[rng.index(RED_PACKETS.len())], memo::RED_PACKET)
                    } else {
                        (
                            (rng.lognormal(p.transfer_median_yuan, p.transfer_sigma)
                                .round()
                                .max(1.0) as i64)
                                * 100,
                            if rng.chance(0.5) {
                                memo::LIVING
                            } else {
                                memo::TRANSFER
                            },
                        )
                    };
                    let from = if m == memo::RED_PACKET && person.wallet != NONE {
                        person.wallet
                    } else {
                        main
                    };
                    out.txs.push(Tx {
                        ts,
                        from,
                        to,
                        amount,
                        channel: Channel::Transfer,
                        memo: m,
                        device: person.device,
                        ip,
                        cell,
                        tag: NONE,
                    });
                }
                Kind::Atm => {
                    if main == NONE {
                        continue;
                    }
                    let amount = [20_000, 50_000, 100_000, 200_000, 300_000]
                        [rng.weighted(&p.atm_amount_weights)];
                    let comm = &w.communities[person.community as usize];
                    out.txs.push(Tx {
                        ts,
                        from: main,
                        to: NONE,
                        amount,
                        channel: Channel::AtmWithdrawal,
                        memo: memo::NONE,
                        device: NONE,
                        ip: 0,
                        cell: comm.cells[0],
                        tag: NONE,
                    });
                }
                Kind::Login => {
                    let subject = if main != NONE && rng.chance(p.login_account_share) {
                        main
                    } else if phone != NONE {
                        phone | SUBJECT_SIM
                    } else {
                        continue;
                    };
                    // VPN users appear from abroad now and then.
                    let ip = if person.vpn && rng.chance(p.vpn_abroad_share) {
                        ident::ipv4(
                            45,
                            76 + rng.below(40) as u8,
                            rng.below(256) as u8,
                            1 + rng.below(254) as u8,
                        )
                    } else {
                        ip
                    };
                    out.logins.push(Login {
                        ts,
                        subject,
                        device: person.device,
                        ip,
                        cell,
                    });
                }
                Kind::AppOpen => {
                    if phone == NONE {
                        continue;
                    }
                    let app = if person.vpn && rng.chance(p.vpn_app_share) {
                        APP_VPN
                    } else if person.anti_fraud_app && rng.chance(p.anti_fraud_open_share) {
                        APP_ANTI_FRAUD
                    } else {
                        ORDINARY_APPS.start
                            + rng.below(u64::from(ORDINARY_APPS.end - ORDINARY_APPS.start)) as u16
                    };
                    out.apps.push(AppEvent {
                        ts,
                        sim: phone,
                        event: 2,
                        app,
                    });
                }
            }
        }

        // Monthly money: salary, pension, household bills.
        if main != NONE && person.payday as u32 == mday {
            let ts = day_start + 9 * HOUR + rng.below(4 * 3600) as i64;
            if person.employer != NONE {
                let company = &w.companies[person.employer as usize];
                let amount = (rng.lognormal(p.salary_median_yuan, 0.5) as i64) * 100;
                out.txs.push(Tx::plain(
                    ts,
                    company.account,
                    main,
                    amount,
                    Channel::Transfer,
                    memo::SALARY,
                ));
            } else if person.has(tag::RETIRED) {
                let amount = (rng.lognormal(p.pension_median_yuan, 0.35) as i64) * 100;
                out.txs.push(Tx::plain(
                    ts,
                    w.pension_fund,
                    main,
                    amount,
                    Channel::Transfer,
                    memo::PENSION,
                ));
            } else if !person.has(tag::STUDENT | tag::UNEMPLOYED) {
                let from = w.outside_employers[pi as usize % w.outside_employers.len()];
                let amount = (rng.lognormal(p.outside_salary_median_yuan, 0.6) as i64) * 100;
                out.txs.push(Tx::plain(
                    ts,
                    from,
                    main,
                    amount,
                    Channel::Transfer,
                    memo::SALARY,
                ));
            }
        }
        let household = &w.households[person.household as usize];
        if main != NONE && household.first() == Some(&pi) && (person.household % 28 + 1) == mday {
            for k in 0..2 {
                let ts = rhythm.time(&mut rng, day_start);
                let to = w.utilities[(person.household as usize + k) % w.utilities.len()];
                let amount = (rng.lognormal(p.bill_median_yuan, 0.6) * 100.0) as i64;
                let m = if k == 0 { memo::UTILITY } else { memo::TOP_UP };
                out.txs.push(Tx {
                    ts,
                    from: main,
                    to,
                    amount,
                    channel: Channel::OnlinePay,
                    memo: m,
                    device: person.device,
                    ip: w.home_ip(pi),
                    cell: person.home_cell,
                    tag: NONE,
                });
            }
        }
        // The anti-fraud app: each resident without it installs it on one day, if any.
        if !person.anti_fraud_app && phone != NONE {
            let u = hash_unit(cfg.seed, 0xAF, u64::from(pi));
            if u < p.anti_fraud_install_rate * f64::from(cfg.days)
                && (u / p.anti_fraud_install_rate) as u32 == d
            {
                let ts = rhythm.time(&mut rng, day_start);
                out.apps.push(AppEvent {
                    ts,
                    sim: phone,
                    event: 0,
                    app: APP_ANTI_FRAUD,
                });
            }
        }
    }
    lookalikes(cfg, w, d, day_start, &rhythm, &mut out);
    out
}

/// The look-alikes' day: flows and messages that resemble fraud patterns but are not.
fn lookalikes(cfg: &Config, w: &World, d: u32, day_start: i64, rhythm: &Rhythm, out: &mut Day) {
    let p = &cfg.params;
    let mut rng = Stream::new(cfg.seed, Purpose::Lookalike, u64::from(d));
    let residents = w.persons.len() as u32;
    let random_payer = |rng: &mut Stream| -> Option<(u32, u32)> {
        for _ in 0..4 {
            let p = rng.below(u64::from(residents)) as u32;
            let person = &w.persons[p as usize];
            if person.is_company {
                continue;
            }
            let a = if person.wallet != NONE {
                person.wallet
            } else {
                person.accounts.first().copied().unwrap_or(NONE)
            };
            if a != NONE {
                return Some((p, a));
            }
        }
        None
    };
    // Delivery riders: many small payments from strangers, then purchases for them.
    for &r in &w.riders {
        let rider = &w.persons[r as usize];
        let Some(&to) = rider.accounts.first() else {
            continue;
        };
        let to = if rider.wallet != NONE {
            rider.wallet
        } else {
            to
        };
        for _ in 0..rng.poisson(p.rider_payments_per_day) {
            let Some((payer, from)) = random_payer(&mut rng) else {
                continue;
            };
            let ts = rhythm.time(&mut rng, day_start);
            let amount = rng.between(5, 45) * 100 + rng.between(0, 99);
            let pp = &w.persons[payer as usize];
            out.txs.push(Tx {
                ts,
                from,
                to,
                amount,
                channel: Channel::Transfer,
                memo: memo::ERRAND,
                device: pp.device,
                ip: World::mobile_ip(&mut rng),
                cell: pp.home_cell,
                tag: NONE,
            });
        }
        for _ in 0..rng.poisson(p.rider_purchases_per_day) {
            let ts = rhythm.time(&mut rng, day_start);
            let merchant = w.online_merchants[rng.index(w.online_merchants.len())];
            let amount = rng.between(10, 120) * 100;
            out.txs.push(Tx {
                ts,
                from: to,
                to: merchant,
                amount,
                channel: Channel::OnlinePay,
                memo: memo::NONE,
                device: rider.device,
                ip: World::mobile_ip(&mut rng),
                cell: rider.work_cell,
                tag: NONE,
            });
        }
    }
    // Group-buy leaders: neighbours pay in during the day; the leader pays a supplier at night.
    for &g in &w.group_buy_leaders {
        let leader = &w.persons[g as usize];
        let Some(&main) = leader.accounts.first() else {
            continue;
        };
        let to = if leader.wallet != NONE {
            leader.wallet
        } else {
            main
        };
        let neighbours = w.contacts_of(g);
        let mut collected = 0;
        for _ in 0..rng.poisson(p.group_buy_collections_per_day) {
            let n = neighbours[rng.index(neighbours.len())];
            if n & EXTERNAL != 0 || n == g {
                continue;
            }
            let np = &w.persons[n as usize];
            let from = if np.wallet != NONE {
                np.wallet
            } else {
                np.accounts.first().copied().unwrap_or(NONE)
            };
            if from == NONE {
                continue;
            }
            let ts = day_start + 8 * HOUR + rng.below(12 * 3600) as i64;
            let amount = rng.between(20, 300) * 100;
            collected += amount;
            out.txs.push(Tx {
                ts,
                from,
                to,
                amount,
                channel: Channel::Transfer,
                memo: memo::GROUP_BUY,
                device: np.device,
                ip: World::mobile_ip(&mut rng),
                cell: np.home_cell,
                tag: NONE,
            });
        }
        if collected > 0 {
            let supplier = w.wholesalers[g as usize % w.wholesalers.len()];
            let ts = day_start + 21 * HOUR + rng.below(2 * 3600) as i64;
            out.txs.push(Tx {
                ts,
                from: to,
                to: supplier,
                amount: (collected as f64 * p.group_buy_supplier_share).round() as i64,
                channel: Channel::Transfer,
                memo: memo::GOODS,
                device: leader.device,
                ip: w.home_ip(g),
                cell: leader.home_cell,
                tag: NONE,
            });
        }
        if let Some(&phone) = leader.sims.first() {
            for _ in 0..rng.poisson(p.group_buy_texts_per_day) {
                let n = neighbours[rng.index(neighbours.len())];
                let other = if n & EXTERNAL != 0 { n } else { w.phone_of(n) };
                if other == NONE || other == phone {
                    continue;
                }
                let ts = day_start + 20 * HOUR + rng.below(3600) as i64;
                out.sms.push(Sms {
                    ts,
                    sender: phone,
                    receiver: other,
                    text: TEXT_GROUP_BUY,
                    cell: leader.home_cell,
                });
            }
        }
    }
    // Small traders: customers pay through the day; most of it goes on to the wholesaler.
    for &t in &w.traders {
        let trader = &w.persons[t as usize];
        let Some(&main) = trader.accounts.first() else {
            continue;
        };
        let mut takings = 0;
        for _ in 0..rng.poisson(p.trader_payments_per_day) {
            let Some((payer, from)) = random_payer(&mut rng) else {
                continue;
            };
            let ts = day_start + 7 * HOUR + rng.below(13 * 3600) as i64;
            let amount = rng.between(50, 800) * 100;
            takings += amount;
            let pp = &w.persons[payer as usize];
            out.txs.push(Tx {
                ts,
                from,
                to: main,
                amount,
                channel: Channel::Transfer,
                memo: memo::GOODS,
                device: pp.device,
                ip: World::mobile_ip(&mut rng),
                cell: trader.work_cell,
                tag: NONE,
            });
        }
        if takings > 0 {
            let ts = day_start + 20 * HOUR + rng.below(3 * 3600) as i64;
            let to = w.wholesalers[t as usize % w.wholesalers.len()];
            out.txs.push(Tx {
                ts,
                from: main,
                to,
                amount: (takings as f64 * p.trader_pass_through_share).round() as i64,
                channel: Channel::Transfer,
                memo: memo::GOODS,
                device: trader.device,
                ip: w.home_ip(t),
                cell: trader.work_cell,
                tag: NONE,
            });
        }
        if rng.chance(p.trader_cash_deposit_rate) {
            let ts = day_start + 16 * HOUR + rng.below(2 * 3600) as i64;
            let cell = w.communities[trader.community as usize].cells[0];
            out.txs.push(Tx {
                ts,
                from: NONE,
                to: main,
                amount: rng.between(5, 50) * 10_000,
                channel: Channel::CashDeposit,
                memo: memo::NONE,
                device: NONE,
                ip: 0,
                cell,
                tag: NONE,
            });
        }
    }
    // SMS gateways: verification codes to many strangers, as a SIM box would text them.
    let per_gateway = (f64::from(residents) * p.gateway_texts_per_resident_day
        / w.sms_gateways.len().max(1) as f64)
        .max(1.0);
    for &g in &w.sms_gateways {
        let company = w.sims[g as usize].holder;
        let cell = w.persons[company as usize].home_cell;
        for _ in 0..rng.poisson(per_gateway) {
            let r = rng.below(u64::from(residents)) as u32;
            let phone = w.phone_of(r);
            if phone == NONE {
                continue;
            }
            let ts = rhythm.time(&mut rng, day_start);
            out.sms.push(Sms {
                ts,
                sender: g,
                receiver: phone,
                text: TEXT_SERVICE.start + 1,
                cell,
            });
        }
    }
}
