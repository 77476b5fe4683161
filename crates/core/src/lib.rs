//! Fanzha domain core: the identifiers, numbers, amounts and instants that the
//! rest of the platform passes around, each valid by construction.
//!
//! Every type here keeps its fields private and is only obtainable through a
//! parsing constructor, so holding a value is proof that it passed the checks.
//! Errors are one `thiserror` enum per module and name the precise reason.

/// Implements `Serialize` as the string form (`as_str`) and `Deserialize`
/// through the type's parsing constructor, so deserialised values are checked
/// exactly like parsed ones.
macro_rules! string_serde {
    ($ty:ty, $parse:path) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                $parse(&s).map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub mod account;
pub mod id;
pub mod jurisdiction;
pub mod mask;
pub mod money;
pub mod phone;
pub mod schema;
pub mod time;
pub mod vocab;

pub use account::{
    account_form, luhn_digit_for, AccountClass, AccountError, AccountForm, AccountNumber,
    AccountStatus, CardNumber,
};
pub use id::{CreditCode, IdError, IdKind, Passport, PersonId, ResidencePermit, ResidentId};
pub use jurisdiction::{JurisdictionCode, JurisdictionError, JurisdictionLevel};
pub use money::{Money, MoneyError};
pub use phone::{Carrier, Msisdn, NumberClass, PartyNumber, PhoneError};
pub use time::{shanghai_local, Instant, TimeError};
