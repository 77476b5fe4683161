//! Statement profiles: how one bank's statements name their header-block labels, columns,
//! direction flags and date styles, read from TOML.
//!
//! Every profile extends a base (by default the bundled `police-return`): the custom TOML is
//! merged over the base's TOML key by key, so a bank's profile lists only what differs. Lists
//! and numbers replace the base's; tables of names (`[channel.map]`) merge entry by entry.
//! Unknown keys are refused by name, so a misspelt key cannot silently do nothing.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The bundled profiles, by name: (name, TOML text).
const BUNDLED: &[(&str, &str)] = &[(
    "police-return",
    include_str!("../../profiles/police-return.toml"),
)];

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "police-return";

/// A statement profile. Every field has a default, so a TOML file may set only what differs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    /// The bundled profile this one is merged over: `police-return` when not given, `none`
    /// for no base.
    pub extends: Option<String>,
    pub name: String,
    pub description: String,
    /// The recognised column names a row needs to be taken as the table's header row.
    pub header_min_columns: usize,
    /// How many rows from the top of a sheet are searched for the header row.
    pub header_search_rows: usize,
    /// How far apart (seconds) the two banks' times of one transfer may be.
    pub match_window_secs: i64,
    /// Whether a negative amount means money out when there is no direction column.
    pub signed_amounts: bool,
    pub labels: Labels,
    pub columns: Columns,
    pub flags: Flags,
    pub dates: Dates,
    pub skip: Skip,
    pub channel: Channels,
}

/// Labels of the header block above the table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Labels {
    pub account: Vec<String>,
    pub name: Vec<String>,
    pub bank: Vec<String>,
    pub period: Vec<String>,
}

/// Column names of the table, per logical field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Columns {
    pub date: Vec<String>,
    pub time: Vec<String>,
    pub datetime: Vec<String>,
    pub amount: Vec<String>,
    pub direction: Vec<String>,
    pub debit: Vec<String>,
    pub credit: Vec<String>,
    pub balance: Vec<String>,
    pub counterparty_account: Vec<String>,
    pub counterparty_name: Vec<String>,
    pub counterparty_bank: Vec<String>,
    pub memo: Vec<String>,
    pub channel: Vec<String>,
    pub serial: Vec<String>,
    pub ip: Vec<String>,
    pub mac: Vec<String>,
    pub device: Vec<String>,
    pub owner_account: Vec<String>,
    pub owner_name: Vec<String>,
}

/// Direction flag values: money out of the statement's account, and money in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Flags {
    pub out: Vec<String>,
    #[serde(rename = "in")]
    pub into: Vec<String>,
}

/// chrono strftime patterns for text dates.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dates {
    pub datetime_formats: Vec<String>,
    pub date_formats: Vec<String>,
    pub time_formats: Vec<String>,
}

/// Rows and values that carry no transfer.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Skip {
    /// Whole-cell texts (a trailing colon aside) that mark a totals row when it has no date.
    pub totals_markers: Vec<String>,
    /// How many leading non-empty cells of a row are searched for a totals marker.
    pub totals_cells: usize,
    pub empty_values: Vec<String>,
}

impl Default for Skip {
    fn default() -> Self {
        Skip {
            totals_markers: Vec::new(),
            totals_cells: 3,
            empty_values: Vec::new(),
        }
    }
}

/// How channel text maps to Fanzha channels, and what marks a row as cash.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Channels {
    pub default: String,
    pub cash_markers: Vec<String>,
    pub map: BTreeMap<String, String>,
}

impl Default for Channels {
    fn default() -> Self {
        Channels {
            default: "transfer".to_owned(),
            cash_markers: Vec::new(),
            map: BTreeMap::new(),
        }
    }
}

impl Default for Profile {
    /// An empty profile (no names known): what `extends = "none"` starts from.
    fn default() -> Self {
        Profile {
            extends: None,
            name: "custom".to_owned(),
            description: String::new(),
            header_min_columns: 3,
            header_search_rows: 60,
            match_window_secs: 300,
            signed_amounts: true,
            labels: Labels::default(),
            columns: Columns::default(),
            flags: Flags::default(),
            dates: Dates::default(),
            skip: Skip::default(),
            channel: Channels::default(),
        }
    }
}

impl Profile {
    /// The names of the bundled profiles.
    pub fn bundled_names() -> Vec<&'static str> {
        BUNDLED.iter().map(|(n, _)| *n).collect()
    }

    /// A bundled profile by name.
    pub fn bundled(name: &str) -> Option<Profile> {
        let text = bundled_text(name)?;
        // The bundled files are tested to parse; a failure here would be a build defect, and
        // `None` (reported as an unknown profile) is the safe answer on a path input reaches.
        match from_toml(text, name) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::error!(profile = name, error = %e, "bundled profile does not parse");
                None
            }
        }
    }

    /// The default profile (`police-return`).
    pub fn default_bundled() -> Result<Profile, String> {
        Profile::bundled(DEFAULT_PROFILE)
            .ok_or_else(|| format!("the bundled profile `{DEFAULT_PROFILE}` is unusable"))
    }

    /// A bundled profile's name, or the path of a TOML file.
    pub fn load(name_or_path: &str) -> Result<Profile, String> {
        if let Some(p) = Profile::bundled(name_or_path) {
            return Ok(p);
        }
        let path = std::path::Path::new(name_or_path);
        if !path.exists() {
            return Err(format!(
                "`{name_or_path}` is neither a bundled profile ({}) nor a file",
                Profile::bundled_names().join(", ")
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{name_or_path}: cannot read: {e}"))?;
        from_toml(&text, name_or_path).map_err(|e| format!("{name_or_path}: {e}"))
    }

    /// Parses a profile from TOML text, merged over the profile it extends.
    pub fn from_toml_str(text: &str) -> Result<Profile, String> {
        from_toml(text, "custom")
    }
}

fn bundled_text(name: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Parses `text`, then merges it over its base (`extends`, default `police-return`).
fn from_toml(text: &str, label: &str) -> Result<Profile, String> {
    // The file on its own first: an unknown key or a wrong type is reported with its line and
    // column in the user's file, not somewhere in the merged result.
    let own: Profile = toml::from_str(text).map_err(|e: toml::de::Error| e.to_string())?;
    let extends = own.extends;
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let base_name = match extends.as_deref() {
        Some("none") => None,
        Some(n) => Some(n),
        // The default profile is complete in itself; everything else extends it.
        None if label == DEFAULT_PROFILE => None,
        None => Some(DEFAULT_PROFILE),
    };
    let merged = match base_name {
        None => table,
        Some(n) => {
            let base_text = bundled_text(n).ok_or_else(|| {
                format!(
                    "`extends = \"{n}\"` names no bundled profile ({}, or none)",
                    Profile::bundled_names().join(", ")
                )
            })?;
            let mut base: toml::Table = base_text
                .parse()
                .map_err(|e: toml::de::Error| format!("bundled profile `{n}`: {e}"))?;
            // The result extends what the file said, not what its base extends.
            base.remove("extends");
            if !table.contains_key("name") {
                // A custom profile is not the base: name it after the file, not `police-return`.
                table.insert("name".to_owned(), toml::Value::String(label.to_owned()));
            }
            merge(&mut base, table);
            base
        }
    };
    let profile = Profile::deserialize(toml::Value::Table(merged)).map_err(|e| e.to_string())?;
    profile.check()?;
    Ok(profile)
}

/// Merges `over` into `base`: tables recursively, everything else replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Fanzha channels a `[channel.map]` entry may name, besides `cash`.
const CHANNELS: &[&str] = &[
    "transfer",
    "online_pay",
    "pos",
    "atm_withdrawal",
    "cash_deposit",
    "crypto_exchange",
    "merchant",
    "cash",
];

impl Profile {
    /// Checks what serde cannot: values that would make the profile useless or ambiguous.
    fn check(&self) -> Result<(), String> {
        if self.header_min_columns == 0 {
            return Err("header_min_columns must be at least 1".to_owned());
        }
        if self.match_window_secs < 0 {
            return Err("match_window_secs must not be negative".to_owned());
        }
        if self.channel.default.trim().is_empty() {
            return Err("channel.default must not be empty".to_owned());
        }
        for (text, ch) in &self.channel.map {
            if !CHANNELS.contains(&ch.as_str()) {
                return Err(format!(
                    "channel.map: `{text}` = `{ch}` is not a channel; expected one of {}",
                    CHANNELS.join(", ")
                ));
            }
        }
        for f in self.flags.out.iter() {
            if self.flags.into.iter().any(|g| g.eq_ignore_ascii_case(f)) {
                return Err(format!("flags: `{f}` is listed both as out and as in"));
            }
        }
        for (what, list) in [
            ("dates.datetime_formats", &self.dates.datetime_formats),
            ("dates.date_formats", &self.dates.date_formats),
            ("dates.time_formats", &self.dates.time_formats),
        ] {
            for f in list {
                if chrono::format::StrftimeItems::new(f)
                    .any(|i| matches!(i, chrono::format::Item::Error))
                {
                    return Err(format!("{what}: `{f}` is not a valid strftime pattern"));
                }
            }
        }
        // A column name claimed by two fields would make the mapping depend on their order.
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for (field, names) in self.columns.fields() {
            for n in names {
                let key = super::table::normalise_name(n);
                if let Some(other) = seen.insert(key, field) {
                    if other != field {
                        return Err(format!(
                            "columns: `{n}` is listed for both {other} and {field}"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

impl Columns {
    /// Every logical field with its names, in the order fields are matched.
    pub fn fields(&self) -> [(&'static str, &Vec<String>); 19] {
        [
            ("date", &self.date),
            ("time", &self.time),
            ("datetime", &self.datetime),
            ("amount", &self.amount),
            ("direction", &self.direction),
            ("debit", &self.debit),
            ("credit", &self.credit),
            ("balance", &self.balance),
            ("counterparty_account", &self.counterparty_account),
            ("counterparty_name", &self.counterparty_name),
            ("counterparty_bank", &self.counterparty_bank),
            ("memo", &self.memo),
            ("channel", &self.channel),
            ("serial", &self.serial),
            ("ip", &self.ip),
            ("mac", &self.mac),
            ("device", &self.device),
            ("owner_account", &self.owner_account),
            ("owner_name", &self.owner_name),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_profiles_parse() {
        for name in Profile::bundled_names() {
            let p = Profile::bundled(name).unwrap_or_else(|| panic!("{name} does not parse"));
            assert_eq!(p.name, name);
            assert!(!p.columns.amount.is_empty());
        }
    }

    #[test]
    fn a_custom_profile_sets_only_what_differs() {
        let p = Profile::from_toml_str("[columns]\namount = [\"发生金额\"]\n").unwrap();
        assert_eq!(p.columns.amount, vec!["发生金额"]);
        // Everything else comes from police-return.
        assert!(p.columns.date.iter().any(|d| d == "交易日期"));
        assert_eq!(p.match_window_secs, 300);
        assert_eq!(p.name, "custom");
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = Profile::from_toml_str("[columns]\namout = [\"x\"]\n").unwrap_err();
        assert!(e.contains("amout"), "{e}");
        let e = Profile::from_toml_str("match_windw_secs = 3\n").unwrap_err();
        assert!(e.contains("match_windw_secs"), "{e}");
    }

    #[test]
    fn bad_values_are_refused() {
        let e = Profile::from_toml_str("[channel.map]\nX = \"teleport\"\n").unwrap_err();
        assert!(e.contains("teleport"), "{e}");
        let e = Profile::from_toml_str("[columns]\nmemo = [\"交易金额\"]\n").unwrap_err();
        assert!(e.contains("交易金额"), "{e}");
        let e = Profile::from_toml_str("extends = \"nope\"\n").unwrap_err();
        assert!(e.contains("nope"), "{e}");
    }

    #[test]
    fn extends_none_starts_empty() {
        let p =
            Profile::from_toml_str("extends = \"none\"\n[columns]\namount = [\"A\"]\n").unwrap();
        assert!(p.columns.date.is_empty());
        assert_eq!(p.header_min_columns, 3);
    }
}
