//! The closed vocabularies of the interchange formats (DATA.md): typologies, channels,
//! measures and the like. Each is an enum whose text form is the one the files use.
//!
//! Roles (who may do what in Fanzha) are here too: a closed set stored as text.
//!
//! Open vocabularies (a transaction's `channel`, a carrier code) are not here: they are
//! kept as given.

/// A word outside a closed vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not one of: {}", expected.join(", "))]
pub struct VocabError {
    pub given: String,
    pub expected: &'static [&'static str],
}

/// A closed vocabulary: the enum, its words (`ALL`, `WORDS`, `as_str`), `FromStr` with a
/// [`VocabError`] naming the accepted words, `Display` and `Serialize` as the word. Exported
/// so other crates' vocabularies (the store's warning levels and statuses) are made alike.
#[macro_export]
macro_rules! vocab {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const WORDS: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::vocab::VocabError;

            fn from_str(s: &str) -> ::core::result::Result<Self, $crate::vocab::VocabError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::vocab::VocabError { given: s.to_owned(), expected: Self::WORDS }),
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str {
                v.as_str()
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

vocab! {
    /// The victim's scam type. Risk engines detect *patterns*, never typologies.
    Typology {
        OrderBrushing = "order_brushing",
        FakeInvestment = "fake_investment",
        FakeLoan = "fake_loan",
        FakeCustomerService = "fake_customer_service",
        ImpersonatingOfficials = "impersonating_officials",
        Romance = "romance",
        FakeCreditRepair = "fake_credit_repair",
        AiFaceVoice = "ai_face_voice",
        Other = "other",
    }
}

vocab! {
    /// How a police report arrived.
    ReportChannel { Police110 = "110", Hotline96110 = "96110", WalkIn = "walk_in", App = "app", Online = "online" }
}

vocab! {
    /// Who pushed a lead.
    LeadSource { National = "national", Provincial = "provincial", Bank = "bank", Carrier = "carrier", App = "app" }
}

vocab! {
    /// A measure another authority registered on an account.
    FreezeMeasure { Stop = "stop", Freeze = "freeze", Renew = "renew", Queued = "queued", Release = "release" }
}

vocab! {
    InstitutionKind { Bank = "bank", Carrier = "carrier", Payment = "payment", Exchange = "exchange" }
}

vocab! {
    PlaceKind {
        Cell = "cell",
        Hotel = "hotel",
        Office = "office",
        Apartment = "apartment",
        InternetCafe = "internet_cafe",
        Atm = "atm",
        Other = "other",
    }
}

vocab! {
    SimKind { Personal = "personal", Iot = "iot", Corporate = "corporate" }
}

vocab! {
    CallKind { Voice = "voice", Video = "video" }
}

vocab! {
    AppEvent { Install = "install", Uninstall = "uninstall", Open = "open" }
}

vocab! {
    /// A user's role in the server: what they may see and do.
    Role {
        Admin = "admin",
        Commander = "commander",
        Analyst = "analyst",
        Approver = "approver",
        StationLeader = "station_leader",
        StationOfficer = "station_officer",
        CommunityWorker = "community_worker",
        BankOperator = "bank_operator",
        CarrierOperator = "carrier_operator",
        Publicity = "publicity",
        Auditor = "auditor",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_errors_list_them() {
        for t in Typology::ALL {
            assert_eq!(t.as_str().parse::<Typology>(), Ok(*t));
        }
        let err = "刷单".parse::<Typology>().unwrap_err().to_string();
        assert!(
            err.contains("order_brushing") && err.contains("刷单"),
            "{err}"
        );
        assert_eq!(
            "96110".parse::<ReportChannel>(),
            Ok(ReportChannel::Hotline96110)
        );
    }
}
