//! Ground truth in `labels/`: who plays which role in which ring (`entities.csv`), the rings
//! (`rings.csv`), every transaction that carried a victim's money (`flows.csv`), the victims
//! (`victims.csv`) and where their money sits at the end (`holdings.csv`).
//!
//! Flows and holdings come from one FIFO replay of the whole ledger (Clayton's rule, DESIGN.md),
//! in the order of `transactions` (by time, then id), so a tracing engine's FIFO result can be
//! compared with them exactly. The replay's conventions, which the tests re-implement:
//!
//! - Each account holds a queue of lots, oldest first. Its `balances` row is one untraced lot
//!   at the start; an account without one starts empty.
//! - An outflow takes lots from the front. What the queue cannot cover is money of unknown
//!   origin (the window started late), untraced, never a negative balance.
//! - A victim's payment (a labelled transaction) puts one lot of the victim's money, hop 0, on
//!   the receiving account, whatever the payer's queue held.
//! - Any other transaction hands the receiver the pieces it took, in order, each victim's piece
//!   one hop further, then the uncovered rest as untraced money; a transaction that carries any
//!   victim's money is a flow of that victim (at the smallest hop it carries).
//! - Cash withdrawals, virtual-currency desks and merchant trades (`atm_withdrawal`,
//!   `crypto_exchange`, `merchant`) are exits: the victim's money leaves the ledger there and the
//!   receiving side, if any, gets untraced money.
//! - What is left at the end is the holdings, per account and victim (named by report id, or by
//!   the victim's person id when unreported).

use std::collections::{HashMap, VecDeque};

use crate::event::{Channel, Tx, NONE};

#[derive(Debug, Clone, Copy)]
struct Lot {
    /// A victim (index into the plan's victims), or [`NONE`] for untraced money.
    owner: u32,
    hop: u16,
    amount: i64,
}

/// One row of `flows.csv`, by position in the ledger.
#[derive(Debug, Clone, Copy)]
pub struct Flow {
    pub day: u32,
    pub seq: u32,
    pub victim: u32,
    pub hop: u16,
}

/// The FIFO replay.
pub struct Ledger {
    /// Untraced balance of each account that has never held a victim's money.
    plain: Vec<i64>,
    queues: HashMap<u32, VecDeque<Lot>>,
    /// The victim of each payment (by payment index).
    payment_victim: Vec<u32>,
    /// Where each payment landed in the ledger: (day, seq).
    pub payment_tx: Vec<Option<(u32, u32)>>,
    pub flows: Vec<Flow>,
    taken: Vec<Lot>,
}

impl Ledger {
    /// `opening` is each account's opening balance; `payment_victim` maps payment to victim.
    pub fn new(opening: Vec<i64>, payment_victim: Vec<u32>) -> Ledger {
        let n = payment_victim.len();
        Ledger {
            plain: opening,
            queues: HashMap::new(),
            payment_victim,
            payment_tx: vec![None; n],
            flows: Vec::new(),
            taken: Vec::new(),
        }
    }

    fn push(q: &mut VecDeque<Lot>, lot: Lot) {
        if lot.amount <= 0 {
            return;
        }
        if let Some(back) = q.back_mut() {
            if back.owner == lot.owner && (lot.owner == NONE || back.hop == lot.hop) {
                back.amount += lot.amount;
                return;
            }
        }
        q.push_back(lot);
    }

    /// Gives `lots` (in order) to account `a`.
    fn receive(&mut self, a: u32, lots: &[Lot]) {
        let traced = lots.iter().any(|l| l.owner != NONE);
        if !traced && !self.queues.contains_key(&a) {
            self.plain[a as usize] += lots.iter().map(|l| l.amount).sum::<i64>();
            return;
        }
        let plain = &mut self.plain[a as usize];
        let q = self.queues.entry(a).or_insert_with(|| {
            let mut q = VecDeque::new();
            if *plain > 0 {
                q.push_back(Lot {
                    owner: NONE,
                    hop: 0,
                    amount: *plain,
                });
            }
            *plain = 0;
            q
        });
        for &l in lots {
            Self::push(q, l);
        }
    }

    /// Applies transaction `tx`, the `seq`-th (from 1) of day `day`.
    pub fn apply(&mut self, day: u32, seq: u32, tx: &Tx) {
        let mut taken = std::mem::take(&mut self.taken);
        taken.clear();
        if tx.from != NONE {
            if let Some(q) = self.queues.get_mut(&tx.from) {
                let mut need = tx.amount;
                while need > 0 {
                    let Some(front) = q.front_mut() else { break };
                    let take = need.min(front.amount);
                    taken.push(Lot {
                        owner: front.owner,
                        hop: front.hop,
                        amount: take,
                    });
                    front.amount -= take;
                    need -= take;
                    if front.amount == 0 {
                        q.pop_front();
                    }
                }
                if need > 0 {
                    taken.push(Lot {
                        owner: NONE,
                        hop: 0,
                        amount: need,
                    });
                }
            } else {
                let p = &mut self.plain[tx.from as usize];
                *p = (*p - tx.amount).max(0);
                taken.push(Lot {
                    owner: NONE,
                    hop: 0,
                    amount: tx.amount,
                });
            }
        } else {
            taken.push(Lot {
                owner: NONE,
                hop: 0,
                amount: tx.amount,
            });
        }

        if tx.tag != NONE {
            let victim = self.payment_victim[tx.tag as usize];
            self.payment_tx[tx.tag as usize] = Some((day, seq));
            self.flows.push(Flow {
                day,
                seq,
                victim,
                hop: 0,
            });
            if tx.to != NONE {
                self.receive(
                    tx.to,
                    &[Lot {
                        owner: victim,
                        hop: 0,
                        amount: tx.amount,
                    }],
                );
            }
        } else {
            // One flow row per victim carried, at the smallest hop.
            let start = self.flows.len();
            for l in taken.iter().filter(|l| l.owner != NONE) {
                let hop = l.hop + 1;
                match self.flows[start..].iter_mut().find(|f| f.victim == l.owner) {
                    Some(f) => f.hop = f.hop.min(hop),
                    None => self.flows.push(Flow {
                        day,
                        seq,
                        victim: l.owner,
                        hop,
                    }),
                }
            }
            if tx.to != NONE {
                if tx.channel.is_exit() {
                    self.receive(
                        tx.to,
                        &[Lot {
                            owner: NONE,
                            hop: 0,
                            amount: tx.amount,
                        }],
                    );
                } else {
                    for l in taken.iter_mut().filter(|l| l.owner != NONE) {
                        l.hop += 1;
                    }
                    self.receive(tx.to, &taken);
                }
            }
        }
        self.taken = taken;
    }

    /// Victims' money left at the end: (account, victim, amount), sorted by account then
    /// victim.
    pub fn holdings(&self) -> Vec<(u32, u32, i64)> {
        let mut out: Vec<(u32, u32, i64)> = Vec::new();
        for (&a, q) in &self.queues {
            let mut per: Vec<(u32, i64)> = Vec::new();
            for l in q.iter().filter(|l| l.owner != NONE) {
                match per.iter_mut().find(|p| p.0 == l.owner) {
                    Some(p) => p.1 += l.amount,
                    None => per.push((l.owner, l.amount)),
                }
            }
            out.extend(
                per.into_iter()
                    .filter(|p| p.1 > 0)
                    .map(|(v, amt)| (a, v, amt)),
            );
        }
        out.sort_unstable();
        out
    }
}

/// Whether a channel's money leaves the ledger (for documentation and tests).
pub fn is_exit(channel: &str) -> bool {
    [
        Channel::AtmWithdrawal,
        Channel::CryptoExchange,
        Channel::Merchant,
    ]
    .iter()
    .any(|c| c.as_str() == channel)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(from: u32, to: u32, amount: i64, channel: Channel, tag: u32) -> Tx {
        Tx {
            ts: 0,
            from,
            to,
            amount,
            channel,
            memo: 0,
            device: NONE,
            ip: 0,
            cell: NONE,
            tag,
        }
    }

    #[test]
    fn fifo_spends_the_oldest_money_first_and_exits_leave_the_ledger() {
        // Account 0 pays victim money (payment 0 of victim 0) to account 1, which held 50 of
        // its own; 1 forwards 120 to 2 (50 own + 70 victim), 2 withdraws 60 in cash (its 50
        // own, then 10 of the victim's).
        let mut l = Ledger::new(vec![1_000, 50, 0], vec![0]);
        l.apply(0, 1, &tx(0, 1, 100, Channel::Transfer, 0));
        l.apply(0, 2, &tx(1, 2, 120, Channel::Transfer, NONE));
        l.apply(0, 3, &tx(2, NONE, 60, Channel::AtmWithdrawal, NONE));
        assert_eq!(l.holdings(), vec![(1, 0, 30), (2, 0, 60)]);
        let hops: Vec<(u32, u16)> = l.flows.iter().map(|f| (f.seq, f.hop)).collect();
        assert_eq!(hops, vec![(1, 0), (2, 1), (3, 2)]);
        assert_eq!(l.payment_tx, vec![Some((0, 1))]);
        assert!(is_exit("atm_withdrawal") && !is_exit("transfer"));
    }
}
