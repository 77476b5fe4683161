//! Jurisdictions: the district, town and community units that own cases and
//! to which alerts are routed.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Why a jurisdiction code or level was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JurisdictionError {
    #[error("jurisdiction code is empty")]
    Empty,
    #[error("jurisdiction code must be at most 32 characters, got {got}")]
    TooLong { got: usize },
    #[error("jurisdiction code has invalid character {ch:?} at position {position}; only ASCII letters and digits are allowed")]
    InvalidChar { ch: char, position: usize },
    #[error("unknown jurisdiction level {0:?}; expected one of district, town, community")]
    UnknownLevel(String),
}

/// The code of a jurisdiction unit: 1 to 32 ASCII letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JurisdictionCode(String);

impl JurisdictionCode {
    pub fn parse(s: &str) -> Result<Self, JurisdictionError> {
        if s.is_empty() {
            return Err(JurisdictionError::Empty);
        }
        if let Some((i, ch)) = s
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
        {
            return Err(JurisdictionError::InvalidChar {
                ch,
                position: i + 1,
            });
        }
        if s.len() > 32 {
            return Err(JurisdictionError::TooLong { got: s.len() });
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JurisdictionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JurisdictionCode {
    type Err = JurisdictionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

string_serde!(JurisdictionCode, JurisdictionCode::parse);

/// The tier of a jurisdiction unit, from the widest (district) down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JurisdictionLevel {
    District,
    Town,
    Community,
}

impl JurisdictionLevel {
    pub const ALL: [JurisdictionLevel; 3] = [
        JurisdictionLevel::District,
        JurisdictionLevel::Town,
        JurisdictionLevel::Community,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            JurisdictionLevel::District => "district",
            JurisdictionLevel::Town => "town",
            JurisdictionLevel::Community => "community",
        }
    }

    /// The level directly above this one; `None` for a district, the top.
    pub fn parent_level(&self) -> Option<JurisdictionLevel> {
        match self {
            JurisdictionLevel::District => None,
            JurisdictionLevel::Town => Some(JurisdictionLevel::District),
            JurisdictionLevel::Community => Some(JurisdictionLevel::Town),
        }
    }

    /// The level directly below this one; `None` for a community, the bottom.
    pub fn child_level(&self) -> Option<JurisdictionLevel> {
        match self {
            JurisdictionLevel::District => Some(JurisdictionLevel::Town),
            JurisdictionLevel::Town => Some(JurisdictionLevel::Community),
            JurisdictionLevel::Community => None,
        }
    }
}

impl fmt::Display for JurisdictionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JurisdictionLevel {
    type Err = JurisdictionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JurisdictionLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| JurisdictionError::UnknownLevel(s.to_owned()))
    }
}

string_serde!(JurisdictionLevel, JurisdictionLevel::from_str);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(
            JurisdictionCode::parse("500103001").unwrap().as_str(),
            "500103001"
        );
        assert_eq!(JurisdictionCode::parse("A").unwrap().as_str(), "A");
        assert_eq!(JurisdictionCode::parse(""), Err(JurisdictionError::Empty));
        assert_eq!(
            JurisdictionCode::parse(&"1".repeat(33))
                .unwrap_err()
                .to_string(),
            "jurisdiction code must be at most 32 characters, got 33"
        );
        assert!(JurisdictionCode::parse(&"1".repeat(32)).is_ok());
        assert_eq!(
            JurisdictionCode::parse("5001-03"),
            Err(JurisdictionError::InvalidChar {
                ch: '-',
                position: 5
            })
        );
        assert!(JurisdictionCode::parse("渝中").is_err());
    }

    #[test]
    fn levels() {
        for level in JurisdictionLevel::ALL {
            assert_eq!(level.as_str().parse::<JurisdictionLevel>(), Ok(level));
            if let Some(parent) = level.parent_level() {
                assert_eq!(parent.child_level(), Some(level));
            }
        }
        assert_eq!(
            JurisdictionLevel::Community.parent_level(),
            Some(JurisdictionLevel::Town)
        );
        assert_eq!(
            JurisdictionLevel::Town.parent_level(),
            Some(JurisdictionLevel::District)
        );
        assert_eq!(JurisdictionLevel::District.parent_level(), None);
        assert!("street".parse::<JurisdictionLevel>().is_err());
    }
}
