//! The compact time-ordered ledger every tracing rule walks.
//!
//! Transactions are kept as parallel columns in ledger order (time, then id by code point,
//! the order `transactions` is scanned in and the simulator's labels are written in), so a
//! transaction is a `u32` position ([`TxIx`]) and "later" is "larger". Each account has one
//! adjacency list of the positions that touch it, in ledger order (a compressed sparse row
//! layout: one offsets array and one positions array), so an account's history is a slice.
//!
//! Why checkpoints: a rule that starts following money on an account mid-history needs the
//! account's balance at that moment. Replaying the whole history each time would make a
//! busy account cost its whole degree per trace; storing the balance after every movement
//! would cost 16 bytes per transaction. A checkpoint every [`CHECKPOINT`] positions costs
//! a quarter of a byte per transaction and bounds the replay to that many steps.
//!
//! Memory per transaction, with ids as the simulator writes them (17 bytes): time 8,
//! amount 8, payer 4, payee 4, exit kind 1, id offset 4, id text 17, two adjacency entries
//! 8 — 54 bytes, within the 64 the issue allows. [`Graph::heap_bytes`] reports the real sum.

use serde::Serialize;
use thiserror::Error;

/// A transaction's position in the ledger order.
pub type TxIx = u32;
/// A dense account number; [`NO_ACCOUNT`] stands for "none" (cash in or out).
pub type AccountIx = u32;
/// The payer of a cash deposit and the payee of a cash withdrawal.
pub const NO_ACCOUNT: AccountIx = u32::MAX;

/// Positions between two balance checkpoints.
pub const CHECKPOINT: usize = 32;

/// How money leaves the traced system (DATA.md's exit channels; `outside` is any payment
/// to an account the district's data does not hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitKind {
    Cash,
    Crypto,
    Merchant,
    Outside,
}

impl ExitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExitKind::Cash => "cash",
            ExitKind::Crypto => "crypto",
            ExitKind::Merchant => "merchant",
            ExitKind::Outside => "outside",
        }
    }

    /// The exit a channel word names, if any: the channel, not the payee, decides, because
    /// a merchant or a crypto desk may well be an account the district holds.
    pub fn of_channel(channel: &str) -> Option<ExitKind> {
        match channel {
            "atm_withdrawal" => Some(ExitKind::Cash),
            "crypto_exchange" => Some(ExitKind::Crypto),
            "merchant" => Some(ExitKind::Merchant),
            _ => None,
        }
    }

    fn code(kind: Option<ExitKind>) -> u8 {
        match kind {
            None => 0,
            Some(ExitKind::Cash) => 1,
            Some(ExitKind::Crypto) => 2,
            Some(ExitKind::Merchant) => 3,
            Some(ExitKind::Outside) => 4,
        }
    }

    fn from_code(c: u8) -> Option<ExitKind> {
        match c {
            1 => Some(ExitKind::Cash),
            2 => Some(ExitKind::Crypto),
            3 => Some(ExitKind::Merchant),
            4 => Some(ExitKind::Outside),
            _ => None,
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum GraphError {
    #[error("transaction {tx_id}: amount_fen {amount} is not positive")]
    Amount { tx_id: String, amount: i64 },
    #[error("transaction {tx_id}: neither from_account nor to_account is given")]
    NoParty { tx_id: String },
    #[error("more than 4,294,967,294 {0}: the ledger's positions are 32-bit")]
    Full(&'static str),
    #[error("balance of {account}: balance_fen {balance} is negative")]
    Balance { account: String, balance: i64 },
}

/// An account number of up to 23 bytes (every card and most account numbers), held inline
/// so that comparing one is a fixed-size compare, not a pointer chase to a string elsewhere
/// on the heap. Hashed by foldhash: FxHash spreads zero-padded digit strings so badly that
/// probe runs dominated the build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Short {
    len: u8,
    bytes: [u8; 23],
}

impl Short {
    /// No name: a place in [`ShortTable::keys`] held by a long name.
    const BLANK: Short = Short {
        len: u8::MAX,
        bytes: [0; 23],
    };

    fn as_str(&self) -> &str {
        // Made from a &str's bytes, so valid UTF-8; the fallback is unreachable.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }

    fn of(s: &str) -> Option<Short> {
        let b = s.as_bytes();
        let mut bytes = [0u8; 23];
        bytes.get_mut(..b.len())?.copy_from_slice(b);
        Some(Short {
            len: b.len() as u8,
            bytes,
        })
    }
}

/// Account number → dense index.
#[derive(Debug, Default)]
struct Index {
    short: ShortTable,
    long: std::collections::HashMap<Box<str>, AccountIx, foldhash::fast::FixedState>,
}

impl Index {
    fn get(&self, name: &str) -> Option<AccountIx> {
        match Short::of(name) {
            Some(k) => self.short.get(&k, hash(&k)),
            None => self.long.get(name).copied(),
        }
    }

    fn insert(&mut self, name: &str, k: AccountIx) {
        match Short::of(name) {
            Some(s) => self.short.insert(s, k),
            None => {
                self.long.insert(name.into(), k);
            }
        }
    }

    fn bytes(&self) -> usize {
        use std::mem::size_of;
        self.short.bytes()
            + self.long.capacity() * (size_of::<Box<str>>() + size_of::<AccountIx>() + 1)
            + self.long.keys().map(|k| k.len()).sum::<usize>()
    }
}

fn hash(k: &Short) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5eed).hash_one(k)
}

/// An open-addressing table of short names, built for batches of look-ups: each slot is 8
/// bytes (a 32-bit hash tag and the index), keys live beside the table by index, and a batch
/// prefetches every slot it will probe before probing any, so the misses overlap instead of
/// following one another. Linear probing, at most half full.
#[derive(Debug, Default)]
struct ShortTable {
    slots: Vec<u64>,
    /// Key of each index held here (by dense index; other indices hold a blank key).
    keys: Vec<Short>,
    len: usize,
}

impl ShortTable {
    fn slot(tag: u32, k: AccountIx) -> u64 {
        (u64::from(tag) << 32) | u64::from(k + 1)
    }

    fn get(&self, key: &Short, h: u64) -> Option<AccountIx> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let tag = (h >> 32) as u32;
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            let k = (s as u32).wrapping_sub(1);
            if (s >> 32) as u32 == tag && self.keys.get(k as usize) == Some(key) {
                return Some(k);
            }
            i = (i + 1) & mask;
        }
    }

    /// Looks up a batch: every slot prefetched first, then probed.
    fn get_batch(&self, keys: &[(u32, bool, Short)], out: &mut [AccountIx], hashes: &mut Vec<u64>) {
        hashes.clear();
        hashes.extend(keys.iter().map(|(_, _, k)| hash(k)));
        if self.slots.is_empty() {
            out.fill(NO_ACCOUNT);
            return;
        }
        let mask = self.slots.len() - 1;
        for &h in hashes.iter() {
            prefetch(&self.slots[h as usize & mask]);
        }
        for ((&(_, _, key), &h), o) in keys.iter().zip(hashes.iter()).zip(out.iter_mut()) {
            *o = self.get(&key, h).unwrap_or(NO_ACCOUNT);
        }
    }

    fn insert(&mut self, key: Short, k: AccountIx) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let i = k as usize;
        if self.keys.len() <= i {
            self.keys.resize(i + 1, Short::BLANK);
        }
        self.keys[i] = key;
        self.place(hash(&key), k);
        self.len += 1;
    }

    fn place(&mut self, h: u64, k: AccountIx) {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = Self::slot((h >> 32) as u32, k);
    }

    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(1024);
        self.slots = vec![0; n];
        for k in 0..self.keys.len() {
            let key = self.keys[k];
            if key != Short::BLANK {
                self.place(hash(&key), k as AccountIx);
            }
        }
    }

    fn bytes(&self) -> usize {
        self.slots.capacity() * 8 + self.keys.capacity() * std::mem::size_of::<Short>()
    }
}

/// Asks the processor to fetch a cache line now, for a read soon after.
#[inline]
fn prefetch<T>(p: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults and reads nothing into the program.
    unsafe {
        std::arch::x86_64::_mm_prefetch(
            (p as *const T).cast::<i8>(),
            std::arch::x86_64::_MM_HINT_T0,
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// One transaction as the builder takes it.
#[derive(Debug, Clone, Copy)]
pub struct NewTx<'a> {
    pub tx_id: &'a str,
    pub ts: i64,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub amount_fen: i64,
    pub channel: &'a str,
}

/// The transactions, one column per field, in the builder's order until sorted and in
/// ledger order in the graph; ids as one text with each id's end offset.
#[derive(Debug, Default)]
struct Columns {
    ts: Vec<i64>,
    from: Vec<AccountIx>,
    to: Vec<AccountIx>,
    amount: Vec<i64>,
    exit: Vec<u8>,
    id_end: Vec<u32>,
    ids: String,
}

impl Columns {
    fn id(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.id_end[i - 1] as usize
        };
        &self.ids[start..self.id_end[i] as usize]
    }
}

/// Collects accounts, opening balances and transactions in any order; [`finish`] sorts them
/// into a [`Graph`].
///
/// [`finish`]: GraphBuilder::finish
#[derive(Debug, Default)]
pub struct GraphBuilder {
    index: Index,
    names: Vec<Box<str>>,
    inside: Vec<bool>,
    /// Per account: (as_of, balance) of the latest opening balance given.
    opening: Vec<(i64, i64)>,
    cols: Columns,
    sorted: bool,
    /// Names waiting to be interned: (row, payee side, name).
    pending: Vec<(u32, bool, Short)>,
}

/// Names interned per batch (see [`GraphBuilder::resolve`]).
const PENDING: usize = 16_384;
/// A party whose name is still pending.
const PLACEHOLDER: AccountIx = NO_ACCOUNT - 1;

impl GraphBuilder {
    pub fn new() -> GraphBuilder {
        GraphBuilder {
            sorted: true,
            ..GraphBuilder::default()
        }
    }

    /// Room for `n` transactions, so a load of known size does not reallocate.
    pub fn with_capacity(n: usize) -> GraphBuilder {
        let mut b = GraphBuilder::new();
        b.cols.ts.reserve_exact(n);
        b.cols.from.reserve_exact(n);
        b.cols.to.reserve_exact(n);
        b.cols.amount.reserve_exact(n);
        b.cols.exit.reserve_exact(n);
        b.cols.id_end.reserve_exact(n);
        b
    }

    fn intern(&mut self, name: &str) -> Result<AccountIx, GraphError> {
        if let Some(k) = self.index.get(name) {
            return Ok(k);
        }
        let k = u32::try_from(self.names.len())
            .ok()
            .filter(|&k| k < PLACEHOLDER)
            .ok_or(GraphError::Full("accounts"))?;
        self.names.push(name.into());
        self.index.insert(name, k);
        self.inside.push(false);
        self.opening.push((i64::MIN, 0));
        Ok(k)
    }

    /// An account the district's data holds (a row of `accounts`). Every other account a
    /// transaction names is outside: money paid to it has left the district's view.
    pub fn account(&mut self, name: &str) -> Result<AccountIx, GraphError> {
        let k = self.intern(name)?;
        self.inside[k as usize] = true;
        Ok(k)
    }

    /// An opening balance (a row of `balances`); of several, the latest `as_of` counts.
    pub fn opening(&mut self, name: &str, as_of: i64, balance_fen: i64) -> Result<(), GraphError> {
        if balance_fen < 0 {
            return Err(GraphError::Balance {
                account: name.to_owned(),
                balance: balance_fen,
            });
        }
        let k = self.intern(name)? as usize;
        if as_of >= self.opening[k].0 {
            self.opening[k] = (as_of, balance_fen);
        }
        Ok(())
    }

    pub fn tx(&mut self, t: NewTx<'_>) -> Result<(), GraphError> {
        if t.amount_fen <= 0 {
            return Err(GraphError::Amount {
                tx_id: t.tx_id.to_owned(),
                amount: t.amount_fen,
            });
        }
        let row = self.cols.ts.len();
        let from = self.party(t.from, row, false)?;
        let to = self.party(t.to, row, true)?;
        if from == NO_ACCOUNT && to == NO_ACCOUNT {
            return Err(GraphError::NoParty {
                tx_id: t.tx_id.to_owned(),
            });
        }
        if self.cols.ts.len() >= NO_ACCOUNT as usize {
            return Err(GraphError::Full("transactions"));
        }
        if self.sorted {
            if let Some(&last) = self.cols.ts.last() {
                let n = self.cols.ts.len();
                self.sorted = (last, self.id(n - 1)) < (t.ts, t.tx_id);
            }
        }
        self.cols.ids.push_str(t.tx_id);
        let end =
            u32::try_from(self.cols.ids.len()).map_err(|_| GraphError::Full("bytes of ids"))?;
        self.cols.ts.push(t.ts);
        self.cols.from.push(from);
        self.cols.to.push(to);
        self.cols.amount.push(t.amount_fen);
        self.cols
            .exit
            .push(ExitKind::code(ExitKind::of_channel(t.channel)));
        self.cols.id_end.push(end);
        if self.pending.len() >= PENDING {
            self.resolve()?;
        }
        Ok(())
    }

    /// A party of row `row`: `NO_ACCOUNT` for none, a placeholder while its name waits in
    /// the pending batch.
    fn party(&mut self, name: Option<&str>, row: usize, to: bool) -> Result<AccountIx, GraphError> {
        let Some(name) = name.filter(|s| !s.is_empty()) else {
            return Ok(NO_ACCOUNT);
        };
        match Short::of(name) {
            Some(key) => {
                self.pending.push((row as u32, to, key));
                Ok(PLACEHOLDER)
            }
            None => self.intern(name),
        }
    }

    /// Interns the pending names: the look-ups first, read-only and split across the
    /// cores, then the new names one by one. Why batches: each look-up is a cache miss or two
    /// on a table of millions of accounts, and it is the build's main cost; run together,
    /// several misses overlap on one core and the cores work at once.
    fn resolve(&mut self) -> Result<(), GraphError> {
        let mut pending = std::mem::take(&mut self.pending);
        let mut found = vec![NO_ACCOUNT; pending.len()];
        let table = &self.index.short;
        let look = |names: &[(u32, bool, Short)], out: &mut [AccountIx]| {
            table.get_batch(names, out, &mut Vec::with_capacity(names.len()));
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        if threads > 1 && pending.len() >= PENDING {
            let per = pending.len().div_ceil(threads);
            std::thread::scope(|s| {
                let mut parts = pending.chunks(per).zip(found.chunks_mut(per));
                let first = parts.next();
                for (names, out) in parts {
                    s.spawn(move || look(names, out));
                }
                if let Some((names, out)) = first {
                    look(names, out);
                }
            });
        } else {
            look(&pending, &mut found);
        }
        for (&(row, to, key), &k) in pending.iter().zip(&found) {
            let k = if k == NO_ACCOUNT {
                self.intern(key.as_str())?
            } else {
                k
            };
            let col = if to {
                &mut self.cols.to
            } else {
                &mut self.cols.from
            };
            col[row as usize] = k;
        }
        pending.clear();
        self.pending = pending;
        Ok(())
    }

    fn id(&self, i: usize) -> &str {
        self.cols.id(i)
    }

    /// Sorts into ledger order (skipped when the input came sorted, as a store scan does),
    /// classifies exits and builds the adjacency lists and checkpoints.
    pub fn finish(mut self) -> Result<Graph, GraphError> {
        self.resolve()?;
        if !self.sorted {
            self.sort();
        }
        // A load of unknown size grew these by doubling; the graph lives long, so give the
        // slack back.
        self.cols.ts.shrink_to_fit();
        self.cols.from.shrink_to_fit();
        self.cols.to.shrink_to_fit();
        self.cols.amount.shrink_to_fit();
        self.cols.exit.shrink_to_fit();
        self.cols.id_end.shrink_to_fit();
        self.cols.ids.shrink_to_fit();
        let n = self.cols.ts.len();
        let accounts = self.names.len();
        // A payment to an account the data does not hold leaves the district's view; the
        // channel's own exit kind, where there is one, says more and wins.
        // Money paid out with no payee on another channel word is cash all the same.
        for i in 0..n {
            let to = self.cols.to[i];
            if self.cols.exit[i] == 0 {
                if to == NO_ACCOUNT {
                    self.cols.exit[i] = ExitKind::code(Some(ExitKind::Cash));
                } else if !self.inside[to as usize] {
                    self.cols.exit[i] = ExitKind::code(Some(ExitKind::Outside));
                }
            }
        }
        let mut adj_start = vec![0u32; accounts + 1];
        for i in 0..n {
            let (f, t) = (self.cols.from[i], self.cols.to[i]);
            if f == t {
                continue;
            }
            for a in [f, t] {
                if a != NO_ACCOUNT {
                    adj_start[a as usize + 1] += 1;
                }
            }
        }
        for a in 0..accounts {
            adj_start[a + 1] = adj_start[a]
                .checked_add(adj_start[a + 1])
                .ok_or(GraphError::Full("adjacency entries"))?;
        }
        // One pass in ledger order fills every history and takes the balance checkpoints
        // on the way: each account's running balance is at hand when its history reaches a
        // checkpoint position.
        let mut fill = adj_start.clone();
        let mut adj = vec![0u32; adj_start[accounts] as usize];
        let mut checkpoints = vec![0i64; adj.len().div_ceil(CHECKPOINT)];
        let mut balance: Vec<i64> = self.opening.iter().map(|&(_, b)| b).collect();
        for i in 0..n {
            let (f, t) = (self.cols.from[i], self.cols.to[i]);
            if f == t {
                continue;
            }
            for a in [f, t] {
                if a == NO_ACCOUNT {
                    continue;
                }
                let a = a as usize;
                let slot = fill[a] as usize;
                adj[slot] = i as u32;
                if slot % CHECKPOINT == 0 {
                    checkpoints[slot / CHECKPOINT] = balance[a];
                }
                balance[a] = step_balance(balance[a], a == t as usize, self.cols.amount[i]);
                fill[a] += 1;
            }
        }
        let opening: Vec<i64> = self.opening.iter().map(|&(_, b)| b).collect();
        Ok(Graph {
            index: self.index,
            names: self.names,
            inside: self.inside,
            opening,
            cols: self.cols,
            adj_start,
            adj,
            checkpoints,
        })
    }

    /// Ids are unique (they are the store's key), so (time, id) is a total order.
    fn sort(&mut self) {
        let n = self.cols.ts.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            (self.cols.ts[a as usize], self.id(a as usize))
                .cmp(&(self.cols.ts[b as usize], self.id(b as usize)))
        });
        let mut ids = String::with_capacity(self.cols.ids.len());
        let mut id_end = Vec::with_capacity(n);
        for &i in &order {
            ids.push_str(self.id(i as usize));
            id_end.push(ids.len() as u32);
        }
        self.cols.ids = ids;
        self.cols.id_end = id_end;
        self.cols.ts = order.iter().map(|&i| self.cols.ts[i as usize]).collect();
        self.cols.from = order.iter().map(|&i| self.cols.from[i as usize]).collect();
        self.cols.to = order.iter().map(|&i| self.cols.to[i as usize]).collect();
        self.cols.amount = order
            .iter()
            .map(|&i| self.cols.amount[i as usize])
            .collect();
        self.cols.exit = order.iter().map(|&i| self.cols.exit[i as usize]).collect();
        self.sorted = true;
    }
}

/// The ledger. Immutable once built: tracing only reads it, so one graph serves many
/// traces at once.
#[derive(Debug)]
pub struct Graph {
    index: Index,
    names: Vec<Box<str>>,
    inside: Vec<bool>,
    opening: Vec<i64>,
    cols: Columns,
    adj_start: Vec<u32>,
    adj: Vec<TxIx>,
    /// The balance of the account owning adjacency position `k * CHECKPOINT`, before it.
    checkpoints: Vec<i64>,
}

/// One step of an account's balance: money in adds; money out takes what is there, and
/// what it cannot cover is money of unknown origin (DATA.md), never a negative balance.
#[inline]
pub fn step_balance(balance: i64, inflow: bool, amount: i64) -> i64 {
    if inflow {
        balance.saturating_add(amount)
    } else {
        (balance - amount).max(0)
    }
}

impl Graph {
    pub fn len(&self) -> usize {
        self.cols.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cols.ts.is_empty()
    }

    pub fn accounts(&self) -> usize {
        self.names.len()
    }

    pub fn account(&self, name: &str) -> Option<AccountIx> {
        self.index.get(name)
    }

    pub fn name(&self, a: AccountIx) -> &str {
        self.names.get(a as usize).map_or("", |s| s)
    }

    /// Whether the district's data holds the account (it is in `accounts`).
    pub fn is_inside(&self, a: AccountIx) -> bool {
        self.inside.get(a as usize).copied().unwrap_or(false)
    }

    pub fn tx_id(&self, i: TxIx) -> &str {
        self.cols.id(i as usize)
    }

    pub fn ts(&self, i: TxIx) -> i64 {
        self.cols.ts[i as usize]
    }

    pub fn from(&self, i: TxIx) -> AccountIx {
        self.cols.from[i as usize]
    }

    pub fn to(&self, i: TxIx) -> AccountIx {
        self.cols.to[i as usize]
    }

    pub fn amount(&self, i: TxIx) -> i64 {
        self.cols.amount[i as usize]
    }

    /// Where money on this transaction leaves the traced system, if it does.
    pub fn exit(&self, i: TxIx) -> Option<ExitKind> {
        ExitKind::from_code(self.cols.exit[i as usize])
    }

    /// The transaction with this id and time (ledger order is by time, then id).
    pub fn find(&self, ts: i64, tx_id: &str) -> Option<TxIx> {
        let lo = self.cols.ts.partition_point(|&t| t < ts);
        let hi = self.cols.ts.partition_point(|&t| t <= ts);
        (lo..hi)
            .find(|&i| self.tx_id(i as TxIx) == tx_id)
            .map(|i| i as TxIx)
    }

    /// The last position at or before `as_of` (`None` when every transaction is later).
    pub fn last_at(&self, as_of: i64) -> Option<TxIx> {
        self.cols
            .ts
            .partition_point(|&t| t <= as_of)
            .checked_sub(1)
            .map(|i| i as TxIx)
    }

    /// The time of the last transaction, the default cut-off of a trace.
    pub fn latest(&self) -> Option<i64> {
        self.cols.ts.last().copied()
    }

    /// The account's history: the positions of the transactions that touch it, in order.
    pub fn history(&self, a: AccountIx) -> &[TxIx] {
        let a = a as usize;
        if a >= self.names.len() {
            return &[];
        }
        &self.adj[self.adj_start[a] as usize..self.adj_start[a + 1] as usize]
    }

    /// Where transaction `i` sits in the account's history (the first position at or
    /// after it when it does not touch the account).
    pub fn position(&self, a: AccountIx, i: TxIx) -> usize {
        self.history(a).partition_point(|&j| j < i)
    }

    /// The account's balance just before the `pos`-th entry of its history, from the
    /// nearest checkpoint.
    pub fn balance_before(&self, a: AccountIx, pos: usize) -> i64 {
        let au = a as usize;
        if au >= self.names.len() {
            return 0;
        }
        let base = self.adj_start[au] as usize;
        let end = self.adj_start[au + 1] as usize;
        let target = (base + pos).min(end);
        let ck = target - target % CHECKPOINT;
        let (mut b, mut p) = if ck >= base && ck < end {
            (self.checkpoints[ck / CHECKPOINT], ck)
        } else {
            (self.opening[au], base)
        };
        while p < target {
            let i = self.adj[p] as usize;
            b = step_balance(b, self.cols.to[i] == a, self.cols.amount[i]);
            p += 1;
        }
        b
    }

    /// The account's balance after every transaction up to and including `last`.
    pub fn balance_at(&self, a: AccountIx, last: Option<TxIx>) -> i64 {
        let pos = match last {
            Some(l) => self.history(a).partition_point(|&j| j <= l),
            None => 0,
        };
        self.balance_before(a, pos)
    }

    /// Bytes the graph holds on the heap (capacity, not length: what the allocator gave).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let names: usize = self.names.iter().map(|n| n.len()).sum();
        self.cols.ts.capacity() * size_of::<i64>()
            + self.cols.amount.capacity() * size_of::<i64>()
            + self.cols.from.capacity() * size_of::<u32>()
            + self.cols.to.capacity() * size_of::<u32>()
            + self.cols.exit.capacity()
            + self.cols.id_end.capacity() * size_of::<u32>()
            + self.cols.ids.capacity()
            + self.adj.capacity() * size_of::<u32>()
            + self.adj_start.capacity() * size_of::<u32>()
            + self.checkpoints.capacity() * size_of::<i64>()
            + self.opening.capacity() * size_of::<i64>()
            + self.inside.capacity()
            + names
            + self.names.capacity() * size_of::<Box<str>>()
            + self.index.bytes()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn tx<'a>(
        id: &'a str,
        ts: i64,
        from: &'a str,
        to: &'a str,
        amount: i64,
        channel: &'a str,
    ) -> NewTx<'a> {
        NewTx {
            tx_id: id,
            ts,
            from: Some(from),
            to: Some(to),
            amount_fen: amount,
            channel,
        }
    }

    fn sample() -> Graph {
        let mut b = GraphBuilder::new();
        for a in ["A", "B", "C"] {
            b.account(a).unwrap();
        }
        b.opening("A", 0, 1_000).unwrap();
        // Out of order on purpose: the builder sorts by (time, id).
        b.tx(tx("t3", 30, "B", "X", 200, "transfer")).unwrap();
        b.tx(tx("t1", 10, "A", "B", 700, "transfer")).unwrap();
        b.tx(tx("t2", 20, "B", "C", 100, "transfer")).unwrap();
        b.tx(tx("t4", 30, "C", "", 50, "atm_withdrawal")).unwrap();
        b.tx(tx("t5", 40, "C", "D", 900, "transfer")).unwrap();
        b.finish().unwrap()
    }

    #[test]
    fn builds_in_ledger_order_with_histories() {
        let g = sample();
        let ids: Vec<&str> = (0..g.len() as u32).map(|i| g.tx_id(i)).collect();
        assert_eq!(ids, ["t1", "t2", "t3", "t4", "t5"]);
        let b = g.account("B").unwrap();
        let h: Vec<&str> = g.history(b).iter().map(|&i| g.tx_id(i)).collect();
        assert_eq!(h, ["t1", "t2", "t3"]);
        assert_eq!(g.find(30, "t4"), Some(3));
        assert_eq!(g.find(30, "t9"), None);
        assert_eq!(g.exit(2), Some(ExitKind::Outside), "X is not in accounts");
        assert_eq!(g.exit(3), Some(ExitKind::Cash));
        assert_eq!(g.exit(0), None);
        assert!(!g.is_inside(g.account("X").unwrap()));
    }

    #[test]
    fn balances_never_go_negative_and_match_a_replay() {
        let g = sample();
        let (a, b, c) = (
            g.account("A").unwrap(),
            g.account("B").unwrap(),
            g.account("C").unwrap(),
        );
        assert_eq!(g.balance_at(a, None), 1_000);
        assert_eq!(g.balance_at(a, Some(4)), 300);
        assert_eq!(g.balance_at(b, Some(4)), 400);
        // C: +100, −50, then −900 of which 850 is money of unknown origin.
        assert_eq!(g.balance_at(c, Some(3)), 50);
        assert_eq!(g.balance_at(c, Some(4)), 0);
    }

    #[test]
    fn checkpoints_agree_with_a_full_replay_on_a_long_history() {
        let mut b = GraphBuilder::new();
        b.account("A").unwrap();
        b.account("B").unwrap();
        let ids: Vec<String> = (0..500).map(|i| format!("t{i:04}")).collect();
        for (i, id) in ids.iter().enumerate() {
            let (from, to) = if i % 3 == 0 { ("B", "A") } else { ("A", "B") };
            b.tx(tx(
                id,
                i as i64,
                from,
                to,
                1 + (i as i64 * 37) % 500,
                "transfer",
            ))
            .unwrap();
        }
        let g = b.finish().unwrap();
        let a = g.account("A").unwrap();
        let mut bal = 0;
        for (pos, &i) in g.history(a).iter().enumerate() {
            assert_eq!(g.balance_before(a, pos), bal, "position {pos}");
            bal = step_balance(bal, g.to(i) == a, g.amount(i));
        }
    }

    #[test]
    fn names_resolved_in_parallel_batches_are_the_names_given() {
        let mut b = GraphBuilder::new();
        let n = 3 * PENDING + 17;
        let name = |k: usize| format!("62{:014}", (k * 7_919) % 5_003);
        let ids: Vec<String> = (0..n).map(|i| format!("T{i:08}")).collect();
        let long = "an-account-number-longer-than-23-bytes";
        for (i, id) in ids.iter().enumerate() {
            let (from, to) = (
                name(i),
                if i % 1_000 == 0 {
                    long.to_owned()
                } else {
                    name(i + 1)
                },
            );
            b.tx(tx(id, i as i64, &from, &to, 100, "transfer")).unwrap();
        }
        let g = b.finish().unwrap();
        assert_eq!(g.accounts(), 5_003 + 1);
        for i in (0..n).step_by(97) {
            assert_eq!(g.name(g.from(i as u32)), name(i));
            let to = if i % 1_000 == 0 {
                long.to_owned()
            } else {
                name(i + 1)
            };
            assert_eq!(g.name(g.to(i as u32)), to);
            assert_eq!(g.account(&to), Some(g.to(i as u32)));
        }
    }

    #[test]
    fn bad_rows_are_refused_with_their_id() {
        let mut b = GraphBuilder::new();
        let e = b.tx(tx("t1", 1, "A", "B", 0, "transfer")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "transaction t1: amount_fen 0 is not positive"
        );
        let e = b.tx(tx("t2", 2, "", "", 5, "transfer")).unwrap_err();
        assert_eq!(e, GraphError::NoParty { tx_id: "t2".into() });
        let e = b.opening("A", 0, -1).unwrap_err();
        assert_eq!(e.to_string(), "balance of A: balance_fen -1 is negative");
    }
}
