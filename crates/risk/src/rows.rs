//! Stored records → engine [`Event`]s: the source side of a batch run over the store.
//!
//! The store returns each kind in its stored layout (core's [`Row`]: instants already UTC
//! microseconds, numbers already normalised and classified at ingest), so nothing is parsed
//! twice here: columns are found by name once per kind and read by position.

use fanzha_core::schema::{Kind, Row, Value};
use fanzha_core::{AccountClass, NumberClass};

use crate::event::{
    AccountOpened, Call, Channel, Event, Login, SimActivated, Sms, Subject, Transfer,
};
use crate::intern::{InternError, Names};

/// Why a stored record could not become an event. The store wrote it, so this means a
/// store written by something else, or a layout change without a migration.
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    #[error("{kind}: the stored layout has no column {column}")]
    Layout { kind: Kind, column: &'static str },
    #[error("{kind} {id}: column {column} holds {found}, not {expected}")]
    Value {
        kind: Kind,
        id: String,
        column: &'static str,
        found: String,
        expected: &'static str,
    },
    #[error(transparent)]
    Intern(#[from] InternError),
}

/// Column positions of one kind's stored layout.
#[derive(Debug, Clone, Copy)]
struct Cols<const N: usize>([usize; N]);

fn cols<const N: usize>(kind: Kind, names: [&'static str; N]) -> Result<Cols<N>, RowError> {
    let schema = kind.schema();
    let mut out = [0; N];
    for (slot, column) in out.iter_mut().zip(names) {
        *slot = schema
            .columns
            .iter()
            .position(|c| c.name == column)
            .ok_or(RowError::Layout { kind, column })?;
    }
    Ok(Cols(out))
}

/// Turns stored rows of the event kinds into events, interning their identifiers.
#[derive(Debug, Clone)]
pub struct RowEvents {
    transfer: Cols<8>,
    call: Cols<8>,
    sms: Cols<6>,
    login: Cols<5>,
    account: Cols<5>,
    sim: Cols<4>,
}

impl RowEvents {
    pub fn new() -> Result<RowEvents, RowError> {
        Ok(RowEvents {
            transfer: cols(
                Kind::Transactions,
                [
                    "tx_id",
                    "ts",
                    "from_account",
                    "to_account",
                    "amount_fen",
                    "channel",
                    "device_id",
                    "ip",
                ],
            )?,
            call: cols(
                Kind::Calls,
                [
                    "call_id",
                    "ts",
                    "caller_norm",
                    "caller_class",
                    "callee_norm",
                    "callee_class",
                    "duration_s",
                    "imei",
                ],
            )?,
            sms: cols(
                Kind::Sms,
                [
                    "sms_id",
                    "ts",
                    "sender_norm",
                    "sender_class",
                    "receiver_norm",
                    "receiver_class",
                ],
            )?,
            login: cols(
                Kind::Logins,
                ["event_id", "ts", "subject", "device_id", "ip"],
            )?,
            account: cols(
                Kind::Accounts,
                ["account_id", "opened_at", "holder_id", "bank_code", "class"],
            )?,
            sim: cols(
                Kind::Sims,
                ["msisdn", "activated_at", "holder_id", "carrier"],
            )?,
        })
    }

    /// The event a stored record of `kind` is; `None` for kinds that are not events.
    /// The cell of transfers, calls and SMS is left out until places are loaded with their
    /// risk flags (the den features read it).
    pub fn event(
        &self,
        names: &mut Names,
        kind: Kind,
        row: &Row,
    ) -> Result<Option<Event>, RowError> {
        let r = Reader { kind, row };
        let ev = match kind {
            Kind::Transactions => {
                let [id, ts, from, to, amount, channel, device, ip] = self.transfer.0;
                let r = r.named(id);
                Event::Transfer(Transfer {
                    ts: r.int(ts, "ts")?,
                    from: r.opt(from).map(|s| names.account(s)).transpose()?,
                    to: r.opt(to).map(|s| names.account(s)).transpose()?,
                    amount_fen: r.int(amount, "amount_fen")?,
                    channel: Channel::from_word(r.opt(channel).unwrap_or("")),
                    device: r.opt(device).map(|s| names.device(s)).transpose()?,
                    ip: r.opt(ip).map(|s| names.ip(s)).transpose()?,
                    cell: None,
                })
            }
            Kind::Calls => {
                let [id, ts, caller, caller_class, callee, callee_class, duration, imei] =
                    self.call.0;
                let r = r.named(id);
                Event::Call(Call {
                    ts: r.int(ts, "ts")?,
                    caller: names.number(r.text(caller, "caller_norm")?)?,
                    callee: names.number(r.text(callee, "callee_norm")?)?,
                    caller_class: r.class(caller_class, "caller_class")?,
                    callee_class: r.class(callee_class, "callee_class")?,
                    duration_s: u32::try_from(r.int(duration, "duration_s")?.max(0))
                        .unwrap_or(u32::MAX),
                    imei: r.opt(imei).map(|s| names.device(s)).transpose()?,
                    cell: None,
                })
            }
            Kind::Sms => {
                let [id, ts, sender, sender_class, receiver, receiver_class] = self.sms.0;
                let r = r.named(id);
                Event::Sms(Sms {
                    ts: r.int(ts, "ts")?,
                    sender: names.number(r.text(sender, "sender_norm")?)?,
                    receiver: names.number(r.text(receiver, "receiver_norm")?)?,
                    sender_class: r.class(sender_class, "sender_class")?,
                    receiver_class: r.class(receiver_class, "receiver_class")?,
                    cell: None,
                })
            }
            Kind::Logins => {
                let [id, ts, subject, device, ip] = self.login.0;
                let r = r.named(id);
                let subject = r.text(subject, "subject")?;
                // DATA.md: a login's subject is an account or an MSISDN. One already seen as
                // an account stays one; otherwise a valid mobile or IoT number is a number.
                let subject = if names.accounts.lookup(subject).is_none()
                    && fanzha_core::Msisdn::parse(subject).is_ok()
                {
                    Subject::Number(names.number(subject)?)
                } else {
                    Subject::Account(names.account(subject)?)
                };
                Event::Login(Login {
                    ts: r.int(ts, "ts")?,
                    subject,
                    device: r.opt(device).map(|s| names.device(s)).transpose()?,
                    ip: r.opt(ip).map(|s| names.ip(s)).transpose()?,
                    cell: None,
                })
            }
            Kind::Accounts => {
                let [id, opened_at, holder, bank, class] = self.account.0;
                let r = r.named(id);
                Event::AccountOpened(AccountOpened {
                    opened_at: r.int(opened_at, "opened_at")?,
                    account: names.account(r.text(id, "account_id")?)?,
                    holder: names.person(r.text(holder, "holder_id")?)?,
                    bank: names.institution(r.text(bank, "bank_code")?)?,
                    class: r.opt(class).and_then(|c| c.parse::<AccountClass>().ok()),
                })
            }
            Kind::Sims => {
                let [msisdn, activated_at, holder, carrier] = self.sim.0;
                let r = r.named(msisdn);
                Event::SimActivated(SimActivated {
                    activated_at: r.int(activated_at, "activated_at")?,
                    msisdn: names.number(r.text(msisdn, "msisdn")?)?,
                    holder: names.person(r.text(holder, "holder_id")?)?,
                    carrier: names.institution(r.text(carrier, "carrier")?)?,
                })
            }
            _ => return Ok(None),
        };
        Ok(Some(ev))
    }
}

/// Typed reads of one row, naming the record in errors.
#[derive(Clone, Copy)]
struct Reader<'a> {
    kind: Kind,
    row: &'a Row,
}

struct Named<'a> {
    kind: Kind,
    row: &'a Row,
    id: usize,
}

impl<'a> Reader<'a> {
    fn named(self, id: usize) -> Named<'a> {
        Named {
            kind: self.kind,
            row: self.row,
            id,
        }
    }
}

impl<'a> Named<'a> {
    fn value(&self, i: usize) -> &'a Value {
        self.row.values.get(i).unwrap_or(&Value::Null)
    }

    fn wrong(&self, i: usize, column: &'static str, expected: &'static str) -> RowError {
        RowError::Value {
            kind: self.kind,
            id: self.value(self.id).to_string(),
            column,
            found: format!("{:?}", self.value(i)),
            expected,
        }
    }

    fn int(&self, i: usize, column: &'static str) -> Result<i64, RowError> {
        self.value(i)
            .as_int()
            .ok_or_else(|| self.wrong(i, column, "an integer"))
    }

    fn text(&self, i: usize, column: &'static str) -> Result<&'a str, RowError> {
        self.opt(i).ok_or_else(|| self.wrong(i, column, "text"))
    }

    /// Text when present; empty optional fields are stored as NULL.
    fn opt(&self, i: usize) -> Option<&'a str> {
        self.value(i).as_text().filter(|s| !s.is_empty())
    }

    fn class(&self, i: usize, column: &'static str) -> Result<NumberClass, RowError> {
        self.text(i, column)?
            .parse()
            .map_err(|_| self.wrong(i, column, "a number class"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: Kind, cells: &[(&str, Value)]) -> Row {
        let schema = kind.schema();
        let mut values = vec![Value::Null; schema.columns.len()];
        for (name, v) in cells {
            let i = schema.columns.iter().position(|c| c.name == *name).unwrap();
            values[i] = v.clone();
        }
        Row {
            values,
            extra: None,
        }
    }

    fn t(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    #[test]
    fn stored_records_become_events() {
        let conv = RowEvents::new().unwrap();
        let mut names = Names::default();
        let opened = row(
            Kind::Accounts,
            &[
                ("account_id", t("6222000000000001")),
                ("opened_at", Value::Int(10)),
                ("holder_id", t("P1")),
                ("bank_code", t("ICBC")),
                ("class", t("II")),
            ],
        );
        let Some(Event::AccountOpened(a)) =
            conv.event(&mut names, Kind::Accounts, &opened).unwrap()
        else {
            panic!("an opening")
        };
        assert_eq!(a.opened_at, 10);
        assert_eq!(a.class, Some(AccountClass::II));

        let tx = row(
            Kind::Transactions,
            &[
                ("tx_id", t("T1")),
                ("ts", Value::Int(20)),
                ("to_account", t("6222000000000001")),
                ("amount_fen", Value::Int(500)),
                ("channel", t("cash_deposit")),
            ],
        );
        let Some(Event::Transfer(x)) = conv.event(&mut names, Kind::Transactions, &tx).unwrap()
        else {
            panic!("a transfer")
        };
        assert_eq!((x.from, x.to), (None, Some(a.account)));
        assert_eq!(x.channel, Channel::CashDeposit);

        let call = row(
            Kind::Calls,
            &[
                ("call_id", t("C1")),
                ("ts", Value::Int(30)),
                ("caller_norm", t("+442079460958")),
                ("caller_class", t("international")),
                ("callee_norm", t("13800138000")),
                ("callee_class", t("mobile")),
                ("duration_s", Value::Int(12)),
            ],
        );
        let Some(Event::Call(c)) = conv.event(&mut names, Kind::Calls, &call).unwrap() else {
            panic!("a call")
        };
        assert_eq!(c.caller_class, NumberClass::International);
        assert_eq!(c.duration_s, 12);

        // A login by a known account is the account's; by a mobile number, the number's.
        for (subject, is_account) in [("6222000000000001", true), ("13800138000", false)] {
            let login = row(
                Kind::Logins,
                &[
                    ("event_id", t("L1")),
                    ("ts", Value::Int(40)),
                    ("subject", t(subject)),
                    ("device_id", t("D1")),
                ],
            );
            let Some(Event::Login(l)) = conv.event(&mut names, Kind::Logins, &login).unwrap()
            else {
                panic!("a login")
            };
            assert_eq!(
                matches!(l.subject, Subject::Account(_)),
                is_account,
                "{subject}"
            );
        }
        let persons = row(Kind::Persons, &[("person_id", t("P1"))]);
        assert!(conv
            .event(&mut names, Kind::Persons, &persons)
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_corrupt_stored_value_names_the_record_and_column() {
        let conv = RowEvents::new().unwrap();
        let mut names = Names::default();
        let bad = row(
            Kind::Calls,
            &[
                ("call_id", t("C9")),
                ("ts", t("yesterday")),
                ("caller_norm", t("1")),
                ("caller_class", t("mobile")),
                ("callee_norm", t("2")),
                ("callee_class", t("mobile")),
                ("duration_s", Value::Int(1)),
            ],
        );
        let e = conv
            .event(&mut names, Kind::Calls, &bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("C9") && e.contains("ts") && e.contains("integer"),
            "{e}"
        );
    }
}
