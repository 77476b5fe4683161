//! Interning identifiers into dense `u32` keys, and building [`Event`]s from the domain types.
//!
//! Why: hashing a `u32` is several times cheaper than hashing a card number or a phone
//! number, and state keyed by `u32` is compact. Keys are handed out in first-seen order, so
//! the same input sequence always gives the same keys (replays are deterministic). The
//! [`Names`] table maps keys back to identifiers for warnings and explanations.

use std::num::NonZeroU32;

use fanzha_core::{AccountClass, Instant, Money, Msisdn, PartyNumber};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::event::*;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InternError {
    #[error("more than 4,294,967,294 distinct {0} identifiers")]
    Full(&'static str),
}

/// One namespace of interned identifiers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Interner {
    names: Vec<Box<str>>,
    #[serde(skip)]
    index: FxHashMap<Box<str>, NonZeroU32>,
}

impl Interner {
    fn intern(&mut self, what: &'static str, s: &str) -> Result<NonZeroU32, InternError> {
        if let Some(&k) = self.index.get(s) {
            return Ok(k);
        }
        let k = u32::try_from(self.names.len() + 1)
            .ok()
            .and_then(NonZeroU32::new)
            .filter(|k| k.get() < u32::MAX)
            .ok_or(InternError::Full(what))?;
        self.names.push(s.into());
        self.index.insert(s.into(), k);
        Ok(k)
    }

    /// The key of `s`, if it was interned.
    pub fn lookup(&self, s: &str) -> Option<NonZeroU32> {
        self.index.get(s).copied()
    }

    /// The identifier behind a key.
    pub fn name(&self, k: NonZeroU32) -> Option<&str> {
        self.names.get(k.get() as usize - 1).map(|s| &**s)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Rebuilds the lookup index after deserialisation (only the names are stored).
    fn reindex(&mut self) {
        self.index = self
            .names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((n.clone(), NonZeroU32::new(i as u32 + 1)?)))
            .collect();
    }
}

/// The interners of every namespace, and constructors for [`Event`]s from domain values.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Names {
    pub accounts: Interner,
    pub numbers: Interner,
    pub persons: Interner,
    pub devices: Interner,
    pub ips: Interner,
    pub places: Interner,
    pub institutions: Interner,
}

/// Optional identifiers arrive as empty strings in the interchange files.
fn present(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

impl Names {
    /// Restores the lookup indexes after deserialising a checkpoint.
    pub fn reindex(&mut self) {
        for i in [
            &mut self.accounts,
            &mut self.numbers,
            &mut self.persons,
            &mut self.devices,
            &mut self.ips,
            &mut self.places,
            &mut self.institutions,
        ] {
            i.reindex();
        }
    }

    pub fn account(&mut self, s: &str) -> Result<AccountKey, InternError> {
        self.accounts.intern("account", s).map(AccountKey)
    }

    pub fn number(&mut self, s: &str) -> Result<NumberKey, InternError> {
        self.numbers.intern("number", s).map(NumberKey)
    }

    pub fn person(&mut self, s: &str) -> Result<PersonKey, InternError> {
        self.persons.intern("person", s).map(PersonKey)
    }

    pub fn device(&mut self, s: &str) -> Result<DeviceKey, InternError> {
        self.devices.intern("device", s).map(DeviceKey)
    }

    pub fn ip(&mut self, s: &str) -> Result<IpKey, InternError> {
        self.ips.intern("ip", s).map(IpKey)
    }

    pub fn place(&mut self, s: &str) -> Result<PlaceKey, InternError> {
        self.places.intern("place", s).map(PlaceKey)
    }

    pub fn institution(&mut self, s: &str) -> Result<InstitutionKey, InternError> {
        self.institutions
            .intern("institution", s)
            .map(InstitutionKey)
    }

    fn opt<K>(
        &mut self,
        s: Option<&str>,
        f: impl FnOnce(&mut Self, &str) -> Result<K, InternError>,
    ) -> Result<Option<K>, InternError> {
        present(s).map(|s| f(self, s)).transpose()
    }

    /// A `transactions` record. Empty `from`/`to` are cash deposits and withdrawals.
    #[allow(clippy::too_many_arguments)]
    pub fn transfer(
        &mut self,
        ts: Instant,
        from: Option<&str>,
        to: Option<&str>,
        amount: Money,
        channel: &str,
        device: Option<&str>,
        ip: Option<&str>,
        cell: Option<&str>,
    ) -> Result<Event, InternError> {
        Ok(Event::Transfer(Transfer {
            ts: ts.micros(),
            from: self.opt(from, Self::account)?,
            to: self.opt(to, Self::account)?,
            amount_fen: amount.fen(),
            channel: Channel::from_word(channel),
            device: self.opt(device, Self::device)?,
            ip: self.opt(ip, Self::ip)?,
            cell: self.opt(cell, Self::place)?,
        }))
    }

    /// A `calls` record. Numbers are interned by their normalised form, so `+86 138…` and
    /// `138…` are one number.
    pub fn call(
        &mut self,
        ts: Instant,
        caller: &PartyNumber,
        callee: &PartyNumber,
        duration_s: u32,
        imei: Option<&str>,
        cell: Option<&str>,
    ) -> Result<Event, InternError> {
        Ok(Event::Call(Call {
            ts: ts.micros(),
            caller: self.number(caller.normalized())?,
            callee: self.number(callee.normalized())?,
            caller_class: caller.class(),
            callee_class: callee.class(),
            duration_s,
            imei: self.opt(imei, Self::device)?,
            cell: self.opt(cell, Self::place)?,
        }))
    }

    /// An `sms` record.
    pub fn sms(
        &mut self,
        ts: Instant,
        sender: &PartyNumber,
        receiver: &PartyNumber,
        cell: Option<&str>,
    ) -> Result<Event, InternError> {
        Ok(Event::Sms(Sms {
            ts: ts.micros(),
            sender: self.number(sender.normalized())?,
            receiver: self.number(receiver.normalized())?,
            sender_class: sender.class(),
            receiver_class: receiver.class(),
            cell: self.opt(cell, Self::place)?,
        }))
    }

    /// An `accounts` record.
    pub fn account_opened(
        &mut self,
        opened_at: Instant,
        account: &str,
        holder: &str,
        bank: &str,
        class: Option<AccountClass>,
    ) -> Result<Event, InternError> {
        Ok(Event::AccountOpened(AccountOpened {
            opened_at: opened_at.micros(),
            account: self.account(account)?,
            holder: self.person(holder)?,
            bank: self.institution(bank)?,
            class,
        }))
    }

    /// A `sims` record.
    pub fn sim_activated(
        &mut self,
        activated_at: Instant,
        msisdn: &Msisdn,
        holder: &str,
        carrier: &str,
    ) -> Result<Event, InternError> {
        Ok(Event::SimActivated(SimActivated {
            activated_at: activated_at.micros(),
            msisdn: self.number(msisdn.as_str())?,
            holder: self.person(holder)?,
            carrier: self.institution(carrier)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_identifier_same_key_and_names_round_trip() {
        let mut n = Names::default();
        let a = n.account("6222000000000001").unwrap();
        let b = n.account("6222000000000002").unwrap();
        assert_ne!(a, b);
        assert_eq!(n.account("6222000000000001").unwrap(), a);
        let json = serde_json::to_string(&n).unwrap();
        let mut back: Names = serde_json::from_str(&json).unwrap();
        back.reindex();
        assert_eq!(back.accounts.lookup("6222000000000002"), Some(b.0));
        assert_eq!(back.accounts.name(a.0), Some("6222000000000001"));
    }

    #[test]
    fn party_numbers_intern_by_normalised_form() {
        let mut n = Names::default();
        let ts = Instant::parse_rfc3339("2026-03-01T09:30:00+08:00").unwrap();
        let a = PartyNumber::parse("+86 138 0013 8000").unwrap();
        let b = PartyNumber::parse("13800138000").unwrap();
        let ev = n.call(ts, &a, &b, 10, Some(""), None).unwrap();
        let Event::Call(c) = ev else { panic!("a call") };
        assert_eq!(c.caller, c.callee);
        assert_eq!(c.imei, None);
    }
}
