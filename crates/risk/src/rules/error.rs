//! Load errors: each names the file, line and column, so an analyst can fix the rule
//! without reading code.

use std::path::PathBuf;

use super::model::{EntityKind, PatternName};

/// Why a rule set was refused. The previous set, if any, stays active.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no rule files (*.toml)", .0.display())]
    Empty(PathBuf),
    #[error("{}:{line}:{column}: {kind}", file.display())]
    At {
        file: PathBuf,
        line: u32,
        column: u32,
        kind: ErrorKind,
    },
}

impl LoadError {
    /// The error's kind when it points into a file.
    pub fn kind(&self) -> Option<&ErrorKind> {
        match self {
            LoadError::At { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// (line, column), 1-based, when the error points into a file.
    pub fn position(&self) -> Option<(u32, u32)> {
        match self {
            LoadError::At { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }
}

/// What is wrong at a position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErrorKind {
    #[error("TOML: {0}")]
    Toml(String),
    #[error("file is not UTF-8")]
    NotUtf8,
    #[error("CEL syntax: {0}")]
    Syntax(String),
    #[error("unknown feature `{name}` for {entity} rules{}", suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownFeature {
        name: String,
        entity: EntityKind,
        suggestion: Option<&'static str>,
    },
    #[error("`{name}` is a feature of {found}s; this rule is for {entity}s")]
    WrongEntity {
        name: String,
        entity: EntityKind,
        found: EntityKind,
    },
    #[error("type error: {0}")]
    Type(String),
    #[error("not supported in rule expressions: {0}")]
    Unsupported(String),
    #[error("constant: {0}")]
    Constant(String),
    #[error("expression too deeply nested or too long")]
    TooDeep,
    #[error("{0}")]
    Invalid(String),
    #[error("rule code `{0}` is defined twice")]
    DuplicateCode(String),
    #[error("pattern refers to rule `{0}`, which no file defines")]
    UnknownRule(String),
    #[error("rule `{code}` reads {rule}s but the pattern scores {pattern}s")]
    RuleEntity {
        code: String,
        rule: EntityKind,
        pattern: EntityKind,
    },
    #[error("pattern `{name}` does not apply to {entity}s")]
    PatternEntity {
        name: PatternName,
        entity: EntityKind,
    },
    #[error("pattern `{name}` for {entity}s is defined twice")]
    DuplicatePattern {
        name: PatternName,
        entity: EntityKind,
    },
    #[error("weight must be above 0 and below 1, found {0}")]
    Weight(f64),
    #[error("levels must satisfy 0 < yellow ≤ orange ≤ red ≤ 100")]
    Levels,
}
