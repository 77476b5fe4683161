//! The compact, normalised events the feature engine consumes.
//!
//! Why not the store's records: the engine's step must be cheap and must not touch the
//! store, so every identifier is interned once into a `u32` key (see [`crate::intern`]) and
//! every time is the store's `i64` UTC microseconds. An [`Event`] is `Copy`, holds no heap
//! data, and fits in a few cache lines' worth of a batch.
//!
//! Reference data (accounts opened, SIMs activated, places flagged as dens) travels on the
//! same stream, so a live run and a batch replay see the same sequence.

use std::num::NonZeroU32;

use fanzha_core::{AccountClass, NumberClass};
use serde::{Deserialize, Serialize};

macro_rules! key {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub NonZeroU32);

        impl $name {
            /// The raw interned id.
            pub fn get(self) -> u32 {
                self.0.get()
            }
        }

        impl crate::store::DenseKey for $name {
            #[inline]
            fn index(self) -> usize {
                self.0.get() as usize - 1
            }

            fn from_index(i: usize) -> Option<Self> {
                u32::try_from(i + 1).ok().and_then(NonZeroU32::new).map($name)
            }
        }
    };
}

key!(
    /// An interned bank or payment account number.
    AccountKey
);
key!(
    /// An interned telephone number: a SIM's MSISDN or any far-party number, normalised.
    NumberKey
);
key!(
    /// An interned person (holder) id.
    PersonKey
);
key!(
    /// An interned device: an online-banking device id or a handset IMEI.
    DeviceKey
);
key!(
    /// An interned IP address.
    IpKey
);
key!(
    /// An interned place id (cell sites are places of kind `cell`).
    PlaceKey
);
key!(
    /// An interned institution code (bank or carrier).
    InstitutionKey
);

/// A transaction's channel (DATA.md). Unknown words are [`Channel::Other`]: the channel is a
/// hint for features, not an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Transfer,
    OnlinePay,
    Pos,
    AtmWithdrawal,
    CashDeposit,
    CryptoExchange,
    Merchant,
    Other,
}

impl Channel {
    pub fn from_word(s: &str) -> Channel {
        match s {
            "transfer" => Channel::Transfer,
            "online_pay" => Channel::OnlinePay,
            "pos" => Channel::Pos,
            "atm_withdrawal" => Channel::AtmWithdrawal,
            "cash_deposit" => Channel::CashDeposit,
            "crypto_exchange" => Channel::CryptoExchange,
            "merchant" => Channel::Merchant,
            _ => Channel::Other,
        }
    }
}

/// Money moving from one account to another. Either side may be absent: a cash deposit has
/// no payer, an ATM withdrawal no payee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    pub ts: i64,
    pub from: Option<AccountKey>,
    pub to: Option<AccountKey>,
    /// Positive fen.
    pub amount_fen: i64,
    pub channel: Channel,
    pub device: Option<DeviceKey>,
    pub ip: Option<IpKey>,
    pub cell: Option<PlaceKey>,
}

/// A voice or video call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub ts: i64,
    pub caller: NumberKey,
    pub callee: NumberKey,
    pub caller_class: NumberClass,
    pub callee_class: NumberClass,
    pub duration_s: u32,
    /// The caller's handset, as the caller's carrier logged it.
    pub imei: Option<DeviceKey>,
    /// The caller's cell.
    pub cell: Option<PlaceKey>,
}

/// A text message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sms {
    pub ts: i64,
    pub sender: NumberKey,
    pub receiver: NumberKey,
    pub sender_class: NumberClass,
    pub receiver_class: NumberClass,
    pub cell: Option<PlaceKey>,
}

/// Who logged in: an account (online banking) or a number (an app login by phone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Account(AccountKey),
    Number(NumberKey),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Login {
    pub ts: i64,
    pub subject: Subject,
    pub device: Option<DeviceKey>,
    pub ip: Option<IpKey>,
    pub cell: Option<PlaceKey>,
}

/// An account in the `accounts` data; its event time is its opening time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountOpened {
    pub opened_at: i64,
    pub account: AccountKey,
    pub holder: PersonKey,
    pub bank: InstitutionKey,
    pub class: Option<AccountClass>,
}

/// A SIM in the `sims` data; its event time is its activation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimActivated {
    pub activated_at: i64,
    pub msisdn: NumberKey,
    pub holder: PersonKey,
    pub carrier: InstitutionKey,
}

/// A place marked (or cleared) as risky, e.g. found to be a den (窝点) by the intel engine or
/// named in a lead. Events at a risky place count towards the co-location features from
/// then on; nothing is recomputed backwards, as a live run could not have either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceFlag {
    pub ts: i64,
    pub place: PlaceKey,
    pub risky: bool,
}

/// Everything the feature engine reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Transfer(Transfer),
    Call(Call),
    Sms(Sms),
    Login(Login),
    AccountOpened(AccountOpened),
    SimActivated(SimActivated),
    PlaceFlag(PlaceFlag),
}

impl Event {
    /// The event time, UTC microseconds.
    pub fn ts(&self) -> i64 {
        match self {
            Event::Transfer(e) => e.ts,
            Event::Call(e) => e.ts,
            Event::Sms(e) => e.ts,
            Event::Login(e) => e.ts,
            Event::AccountOpened(e) => e.opened_at,
            Event::SimActivated(e) => e.activated_at,
            Event::PlaceFlag(e) => e.ts,
        }
    }
}
