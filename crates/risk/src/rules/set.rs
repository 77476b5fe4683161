//! [`RuleSet`]: rule files loaded, checked and compiled as one versioned unit, and their
//! evaluation over an entity's feature vector into pattern scores with reasons.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::compile::compile;
use super::error::{ErrorKind, LoadError};
use super::model::{EntityKind, Level, Levels, Measure, PatternName, Weight};
use super::program::{run, Op, Stack, MAX_STACK};
use super::source::{char_to_byte, string_offsets, SourceText};

// ---------------------------------------------------------------------------------------
// File format (serde). Spans are kept wherever a later check may need to point.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDe {
    version: Spanned<String>,
    #[serde(default)]
    rule: Vec<RuleDe>,
    #[serde(default)]
    pattern: Vec<PatternDe>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDe {
    code: Spanned<String>,
    entity: EntityKind,
    expr: Spanned<String>,
    text_zh: Spanned<String>,
    text_en: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternDe {
    name: Spanned<PatternName>,
    entity: EntityKind,
    rules: Spanned<Vec<TermDe>>,
    levels: Spanned<LevelsDe>,
    measure: Measure,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TermDe {
    code: Spanned<String>,
    weight: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelsDe {
    red: f64,
    orange: f64,
    yellow: f64,
}

// ---------------------------------------------------------------------------------------
// Compiled form.

/// A rule: a named condition over one entity kind's features, with its reason texts.
#[derive(Debug)]
pub struct Rule {
    code: String,
    entity: EntityKind,
    expr: String,
    text_zh: String,
    text_en: String,
    file: String,
    features: Vec<&'static str>,
}

impl Rule {
    pub fn code(&self) -> &str {
        &self.code
    }
    pub fn entity(&self) -> EntityKind {
        self.entity
    }
    /// The CEL source, as written.
    pub fn expr(&self) -> &str {
        &self.expr
    }
    pub fn text_zh(&self) -> &str {
        &self.text_zh
    }
    pub fn text_en(&self) -> &str {
        &self.text_en
    }
    /// The file (name within the rule directory) that defines the rule.
    pub fn file(&self) -> &str {
        &self.file
    }
    /// The features the expression reads: the "feature timeline" a warning shows.
    pub fn features(&self) -> &[&'static str] {
        &self.features
    }
}

/// One rule in a pattern, by its slot in its entity kind's rule list.
#[derive(Debug, Clone, Copy)]
struct Term {
    slot: u32,
    weight: Weight,
    /// −ln(1 − w): the hit's share of the score is proportional to it.
    log: f64,
}

/// A pattern: weighted rules of one entity kind, thresholds and a measure.
#[derive(Debug)]
pub struct Pattern {
    name: PatternName,
    entity: EntityKind,
    terms: Vec<Term>,
    levels: Levels,
    measure: Measure,
}

impl Pattern {
    pub fn name(&self) -> PatternName {
        self.name
    }
    pub fn entity(&self) -> EntityKind {
        self.entity
    }
    pub fn levels(&self) -> Levels {
        self.levels
    }
    pub fn measure(&self) -> Measure {
        self.measure
    }
}

#[derive(Debug, Default)]
struct KindRules {
    /// Every rule's code, one after the other; `ranges[slot]` delimits rule `slot`.
    ops: Vec<Op>,
    ranges: Vec<Range<u32>>,
    rules: Vec<Arc<Rule>>,
    patterns: Vec<Pattern>,
}

/// A rule file's name and the `version` it declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileVersion {
    pub file: String,
    pub version: String,
}

/// A compiled, versioned set of rules and patterns. Immutable: a reload builds a new one.
#[derive(Debug)]
pub struct RuleSet {
    kinds: [KindRules; 3],
    files: Vec<FileVersion>,
    digest: [u8; 32],
}

// ---------------------------------------------------------------------------------------
// Results.

/// A rule hit behind a pattern score, and its share of the score.
#[derive(Debug, Clone)]
pub struct Reason {
    rule: Arc<Rule>,
    contribution: f64,
    order: u32,
}

impl Reason {
    pub fn rule(&self) -> &Rule {
        &self.rule
    }
    pub fn code(&self) -> &str {
        &self.rule.code
    }
    pub fn text_zh(&self) -> &str {
        &self.rule.text_zh
    }
    pub fn text_en(&self) -> &str {
        &self.rule.text_en
    }
    /// Points of the 0–100 score this hit accounts for; a score's reasons sum to it.
    pub fn contribution(&self) -> f64 {
        self.contribution
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Reason", 4)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("text_zh", self.text_zh())?;
        st.serialize_field("text_en", self.text_en())?;
        st.serialize_field("contribution", &self.contribution)?;
        st.end()
    }
}

/// A pattern's score for one entity.
#[derive(Debug, Clone, Serialize)]
pub struct PatternScore {
    pub pattern: PatternName,
    pub entity: EntityKind,
    /// 0–100.
    pub score: f64,
    /// `None` below the pattern's yellow threshold: scored, but no warning.
    pub level: Option<Level>,
    /// The pattern's measure, when a level is reached.
    pub measure: Option<Measure>,
    /// Largest contribution first.
    pub reasons: Vec<Reason>,
}

/// Reusable buffers for [`RuleSet::evaluate_into`]: after the first few entities a
/// scoring loop allocates nothing.
#[derive(Debug, Default)]
pub struct Scores {
    items: Vec<PatternScore>,
    len: usize,
    hits: Vec<bool>,
}

impl Scores {
    /// Scores of the patterns with at least one rule hit, in rule-set order.
    pub fn as_slice(&self) -> &[PatternScore] {
        &self.items[..self.len]
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The highest-scoring pattern, if any rule hit.
    pub fn top(&self) -> Option<&PatternScore> {
        self.as_slice()
            .iter()
            .max_by(|a, b| a.score.total_cmp(&b.score))
    }
    pub fn into_vec(mut self) -> Vec<PatternScore> {
        self.items.truncate(self.len);
        self.items
    }
}

/// Why a feature vector cannot be scored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("{entity} feature vector has {got} values, the schema {expected}")]
    WrongLength {
        entity: EntityKind,
        expected: usize,
        got: usize,
    },
}

// ---------------------------------------------------------------------------------------
// Loading.

/// The default rule set in the repository's `rules/`, compiled into the binary so a fresh
/// install scores without configuration.
const BUILTIN: &[(&str, &str)] = &[
    (
        "accounts.toml",
        include_str!("../../../../rules/accounts.toml"),
    ),
    (
        "numbers.toml",
        include_str!("../../../../rules/numbers.toml"),
    ),
];

impl RuleSet {
    /// Loads every `*.toml` file of `dir` (not recursing) as one set: all or nothing.
    pub fn load_dir(dir: &Path) -> Result<Self, LoadError> {
        let sources = read_dir_sources(dir)?;
        if sources.is_empty() {
            return Err(LoadError::Empty(dir.to_path_buf()));
        }
        Self::from_sources(sources)
    }

    /// The default rule set shipped with Fanzha (`rules/` in the repository).
    pub fn builtin() -> Result<Self, LoadError> {
        Self::from_sources(
            BUILTIN
                .iter()
                .map(|(n, t)| (PathBuf::from("rules").join(n), t.as_bytes().to_vec()))
                .collect(),
        )
    }

    /// Compiles rule files given as (path, bytes); the path names the file in errors.
    pub fn from_sources(mut sources: Vec<(PathBuf, Vec<u8>)>) -> Result<Self, LoadError> {
        sources.sort_by_key(|a| file_name(&a.0));
        let digest = digest(&sources);
        let mut texts = Vec::with_capacity(sources.len());
        for (path, bytes) in &sources {
            let text = std::str::from_utf8(bytes).map_err(|e| {
                let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or("");
                let (line, column) = SourceText::new(valid).line_col(valid.len());
                LoadError::At {
                    file: path.clone(),
                    line,
                    column,
                    kind: ErrorKind::NotUtf8,
                }
            })?;
            texts.push((path.as_path(), text));
        }
        let mut b = Builder::default();
        let mut parsed = Vec::with_capacity(texts.len());
        for (path, text) in &texts {
            let src = SourceText::new(text);
            let at = |span: Range<usize>, kind| at(path, &src, span.start, kind);
            let file: FileDe = toml::from_str(text).map_err(|e| {
                at(
                    e.span().unwrap_or(0..0),
                    ErrorKind::Toml(e.message().trim().to_owned()),
                )
            })?;
            if file.version.get_ref().trim().is_empty() {
                return Err(at(
                    file.version.span(),
                    ErrorKind::Invalid("`version` must not be empty".into()),
                ));
            }
            b.files.push(FileVersion {
                file: file_name(path),
                version: file.version.get_ref().clone(),
            });
            for r in &file.rule {
                b.add_rule(path, text, &src, r)?;
            }
            parsed.push(file);
        }
        // Patterns after every file's rules: a pattern may use rules of another file.
        for ((path, text), file) in texts.iter().zip(&parsed) {
            let src = SourceText::new(text);
            for p in &file.pattern {
                b.add_pattern(path, &src, p)?;
            }
        }
        Ok(RuleSet {
            kinds: b.kinds,
            files: b.files,
            digest,
        })
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| p.to_string_lossy(), |n| n.to_string_lossy())
        .into_owned()
}

fn at(path: &Path, src: &SourceText<'_>, byte: usize, kind: ErrorKind) -> LoadError {
    let (line, column) = src.line_col(byte);
    LoadError::At {
        file: path.to_path_buf(),
        line,
        column,
        kind,
    }
}

/// The `*.toml` regular files of `dir` and their bytes, by file name.
pub(crate) fn read_dir_sources(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, LoadError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LoadError::Io { path, source }
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "toml")
            && entry.file_type().map_err(io(&path))?.is_file()
        {
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            out.push((path, bytes));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// SHA-256 over the files in name order: name, a zero byte, length (u64, little-endian)
/// and bytes of each, so a rename or a moved byte changes it but the directory's location
/// does not.
pub(crate) fn digest(sources: &[(PathBuf, Vec<u8>)]) -> [u8; 32] {
    let mut names: Vec<(String, &[u8])> = sources
        .iter()
        .map(|(p, b)| (file_name(p), b.as_slice()))
        .collect();
    names.sort();
    let mut h = Sha256::new();
    for (name, bytes) in names {
        h.update(name.as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    h.finalize().into()
}

#[derive(Default)]
struct Builder {
    kinds: [KindRules; 3],
    files: Vec<FileVersion>,
    /// code → (entity, slot)
    codes: HashMap<String, (EntityKind, u32)>,
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Builder {
    fn add_rule(
        &mut self,
        path: &Path,
        text: &str,
        src: &SourceText<'_>,
        r: &RuleDe,
    ) -> Result<(), LoadError> {
        let here = |span: Range<usize>, kind| at(path, src, span.start, kind);
        let code = r.code.get_ref();
        if !valid_code(code) {
            return Err(here(
                r.code.span(),
                ErrorKind::Invalid(
                    "a rule code is 1–64 characters of A–Z, a–z, 0–9, `_`, `-`, `.`".into(),
                ),
            ));
        }
        if self.codes.contains_key(code) {
            return Err(here(r.code.span(), ErrorKind::DuplicateCode(code.clone())));
        }
        for t in [&r.text_zh, &r.text_en] {
            if t.get_ref().trim().is_empty() {
                return Err(here(
                    t.span(),
                    ErrorKind::Invalid("reason texts must not be empty".into()),
                ));
            }
        }
        let expr = r.expr.get_ref();
        let compiled = compile(expr, r.entity).map_err(|e| {
            let span = r.expr.span();
            let byte_in_expr = char_to_byte(expr, e.at_char);
            let byte = string_offsets(text, span.clone(), expr)
                .and_then(|m| m.get(byte_in_expr).copied())
                .unwrap_or(span.start);
            at(path, src, byte, e.kind)
        })?;
        let k = &mut self.kinds[r.entity.index()];
        let slot =
            u32::try_from(k.rules.len()).map_err(|_| here(r.code.span(), ErrorKind::TooDeep))?;
        let start =
            u32::try_from(k.ops.len()).map_err(|_| here(r.code.span(), ErrorKind::TooDeep))?;
        k.ops.extend(compiled.ops);
        let end =
            u32::try_from(k.ops.len()).map_err(|_| here(r.code.span(), ErrorKind::TooDeep))?;
        k.ranges.push(start..end);
        let schema = r.entity.schema();
        k.rules.push(Arc::new(Rule {
            code: code.clone(),
            entity: r.entity,
            expr: expr.clone(),
            text_zh: r.text_zh.get_ref().clone(),
            text_en: r.text_en.get_ref().clone(),
            file: file_name(path),
            features: compiled
                .features
                .iter()
                .map(|&i| schema[usize::from(i)])
                .collect(),
        }));
        self.codes.insert(code.clone(), (r.entity, slot));
        Ok(())
    }

    fn add_pattern(
        &mut self,
        path: &Path,
        src: &SourceText<'_>,
        p: &PatternDe,
    ) -> Result<(), LoadError> {
        let here = |span: Range<usize>, kind| at(path, src, span.start, kind);
        let name = *p.name.get_ref();
        if !name.applies_to(p.entity) {
            return Err(here(
                p.name.span(),
                ErrorKind::PatternEntity {
                    name,
                    entity: p.entity,
                },
            ));
        }
        let k = &self.kinds[p.entity.index()];
        if k.patterns.iter().any(|q| q.name == name) {
            return Err(here(
                p.name.span(),
                ErrorKind::DuplicatePattern {
                    name,
                    entity: p.entity,
                },
            ));
        }
        if p.rules.get_ref().is_empty() {
            return Err(here(
                p.rules.span(),
                ErrorKind::Invalid("a pattern needs at least one rule".into()),
            ));
        }
        let mut terms: Vec<Term> = Vec::with_capacity(p.rules.get_ref().len());
        for t in p.rules.get_ref() {
            let code = t.code.get_ref();
            let &(entity, slot) = self
                .codes
                .get(code)
                .ok_or_else(|| here(t.code.span(), ErrorKind::UnknownRule(code.clone())))?;
            if entity != p.entity {
                return Err(here(
                    t.code.span(),
                    ErrorKind::RuleEntity {
                        code: code.clone(),
                        rule: entity,
                        pattern: p.entity,
                    },
                ));
            }
            if terms.iter().any(|x| x.slot == slot) {
                return Err(here(
                    t.code.span(),
                    ErrorKind::Invalid(format!("rule `{code}` is listed twice")),
                ));
            }
            let w = *t.weight.get_ref();
            let weight =
                Weight::new(w).ok_or_else(|| here(t.weight.span(), ErrorKind::Weight(w)))?;
            terms.push(Term {
                slot,
                weight,
                log: -(1.0 - weight.get()).ln(),
            });
        }
        let l = p.levels.get_ref();
        let levels = Levels::new(l.red, l.orange, l.yellow)
            .ok_or_else(|| here(p.levels.span(), ErrorKind::Levels))?;
        self.kinds[p.entity.index()].patterns.push(Pattern {
            name,
            entity: p.entity,
            terms,
            levels,
            measure: p.measure,
        });
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation.

impl RuleSet {
    /// Scores `values`, a feature vector of an entity of `kind` in schema order (as
    /// [`crate::Engine::features_into`] fills it), against every pattern for that kind.
    /// Only patterns with at least one rule hit are returned.
    pub fn evaluate(
        &self,
        kind: impl Into<EntityKind>,
        values: &[f64],
    ) -> Result<Vec<PatternScore>, EvalError> {
        let mut out = Scores::default();
        self.evaluate_into(kind, values, &mut out)?;
        Ok(out.into_vec())
    }

    /// [`RuleSet::evaluate`] into reusable buffers.
    pub fn evaluate_into(
        &self,
        kind: impl Into<EntityKind>,
        values: &[f64],
        out: &mut Scores,
    ) -> Result<(), EvalError> {
        let kind = kind.into();
        let expected = kind.schema().len();
        if values.len() != expected {
            return Err(EvalError::WrongLength {
                entity: kind,
                expected,
                got: values.len(),
            });
        }
        let k = &self.kinds[kind.index()];
        let mut stack: Stack = [0.0; MAX_STACK];
        out.len = 0;
        out.hits.clear();
        out.hits.extend(
            k.ranges
                .iter()
                .map(|r| run(&k.ops[r.start as usize..r.end as usize], values, &mut stack)),
        );
        for p in &k.patterns {
            // Noisy-OR: each hit independently leaves a (1 − w) chance that the pattern
            // is absent. See the module docs for why not a sum.
            let mut absent = 1.0;
            let mut logs = 0.0;
            for t in &p.terms {
                if out.hits[t.slot as usize] {
                    absent *= 1.0 - t.weight.get();
                    logs += t.log;
                }
            }
            if logs == 0.0 {
                continue;
            }
            let score = 100.0 * (1.0 - absent);
            if out.len == out.items.len() {
                out.items.push(PatternScore {
                    pattern: p.name,
                    entity: kind,
                    score: 0.0,
                    level: None,
                    measure: None,
                    reasons: Vec::new(),
                });
            }
            let item = &mut out.items[out.len];
            out.len += 1;
            let level = p.levels.level(score);
            item.pattern = p.name;
            item.entity = kind;
            item.score = score;
            item.level = level;
            item.measure = level.map(|_| p.measure);
            item.reasons.clear();
            for (order, t) in p.terms.iter().enumerate() {
                if out.hits[t.slot as usize] {
                    item.reasons.push(Reason {
                        rule: Arc::clone(&k.rules[t.slot as usize]),
                        contribution: score * t.log / logs,
                        order: order as u32,
                    });
                }
            }
            // Unstable sort does not allocate; `order` keeps ties in file order.
            item.reasons.sort_unstable_by(|a, b| {
                b.contribution
                    .total_cmp(&a.contribution)
                    .then(a.order.cmp(&b.order))
            });
        }
        Ok(())
    }

    /// Whether each rule of `kind` hits, by code: for tooling and per-rule statistics.
    pub fn rule_hits<'a>(
        &'a self,
        kind: EntityKind,
        values: &'a [f64],
    ) -> impl Iterator<Item = (&'a Rule, bool)> + 'a {
        let k = &self.kinds[kind.index()];
        let ok = values.len() == kind.schema().len();
        let mut stack: Stack = [0.0; MAX_STACK];
        k.rules.iter().zip(&k.ranges).map(move |(r, range)| {
            let ops = &k.ops[range.start as usize..range.end as usize];
            (r.as_ref(), ok && run(ops, values, &mut stack))
        })
    }

    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.kinds
            .iter()
            .flat_map(|k| k.rules.iter().map(|r| r.as_ref()))
    }

    pub fn patterns(&self) -> impl Iterator<Item = &Pattern> {
        self.kinds.iter().flat_map(|k| k.patterns.iter())
    }

    /// Weighted rules of a pattern: (rule, weight).
    pub fn pattern_rules<'a>(
        &'a self,
        p: &'a Pattern,
    ) -> impl Iterator<Item = (&'a Rule, f64)> + 'a {
        let k = &self.kinds[p.entity.index()];
        p.terms
            .iter()
            .map(move |t| (k.rules[t.slot as usize].as_ref(), t.weight.get()))
    }

    pub fn files(&self) -> &[FileVersion] {
        &self.files
    }

    /// Replaces the level cut-offs of every pattern named `name`: a recorded threshold
    /// decision (see [`crate::governance`]) taking effect. The digest then covers the new
    /// cut-offs too, so the version label of warnings scored with them differs from the
    /// files'. `false` when no pattern has that name.
    pub fn set_levels(&mut self, name: PatternName, levels: Levels) -> bool {
        let mut found = false;
        for k in &mut self.kinds {
            for p in k.patterns.iter_mut().filter(|p| p.name == name) {
                p.levels = levels;
                found = true;
            }
        }
        if found {
            let mut h = Sha256::new();
            h.update(self.digest);
            h.update(b"levels\0");
            h.update(name.as_str().as_bytes());
            for v in [levels.red(), levels.orange(), levels.yellow()] {
                h.update(v.to_le_bytes());
            }
            self.digest = h.finalize().into();
        }
        found
    }

    /// SHA-256 of the files (see [`digest`]): the set's identity for audit records.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    pub fn digest_hex(&self) -> String {
        self.digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A label for logs and warnings: each file's declared version and a short digest.
    pub fn version(&self) -> String {
        let files: Vec<String> = self
            .files
            .iter()
            .map(|f| format!("{}@{}", f.file, f.version))
            .collect();
        format!("{} sha256:{}", files.join(","), &self.digest_hex()[..12])
    }
}
