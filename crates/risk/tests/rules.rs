//! Rule files: loading, compiling each CEL construct, agreement with the `cel` crate's own
//! interpreter, errors with file/line/column (one test per kind), atomic reloads, scoring,
//! and the default rule set end to end on the feature engine.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fanzha_core::{AccountClass, Instant, Money};
use fanzha_risk::features::ACCOUNT_FEATURES;
use fanzha_risk::rules::{
    EntityKind, ErrorKind, Level, LoadError, Measure, PatternName, Reloader, RuleSet, Scores,
};
use fanzha_risk::{Engine, Entity, FeatureConfig, Names};
use proptest::prelude::*;

fn repo_rules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules")
}

/// A rule file with one account rule `R` (and a mule pattern on it).
fn one_rule(expr: &str) -> String {
    format!(
        r#"version = "t"
[[rule]]
code = "R"
entity = "account"
expr = '{expr}'
text_zh = "测试"
text_en = "test"
[[pattern]]
name = "mule"
entity = "account"
rules = [{{ code = "R", weight = 0.5 }}]
levels = {{ red = 90, orange = 70, yellow = 40 }}
measure = "suspend"
"#
    )
}

fn load(files: &[(&str, &str)]) -> Result<RuleSet, LoadError> {
    RuleSet::from_sources(
        files
            .iter()
            .map(|(n, t)| (PathBuf::from(n), t.as_bytes().to_vec()))
            .collect(),
    )
}

fn account_vector(set: &[(&str, f64)]) -> Vec<f64> {
    let mut v = vec![0.0; ACCOUNT_FEATURES.len()];
    for (name, x) in set {
        let i = ACCOUNT_FEATURES.iter().position(|f| f == name).unwrap();
        v[i] = *x;
    }
    v
}

fn hits(rules: &RuleSet, v: &[f64]) -> bool {
    rules
        .rule_hits(EntityKind::Account, v)
        .find(|(r, _)| r.code() == "R")
        .unwrap()
        .1
}

// ---------------------------------------------------------------------------------------

#[test]
fn default_rule_set_loads_from_the_repo_and_builtin_alike() {
    let dir = RuleSet::load_dir(&repo_rules()).unwrap();
    let builtin = RuleSet::builtin().unwrap();
    assert_eq!(dir.digest(), builtin.digest());
    assert_eq!(dir.files().len(), 2);
    let mut names: Vec<_> = dir.patterns().map(|p| (p.name(), p.entity())).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            (PatternName::Mule, EntityKind::Account),
            (PatternName::Runner, EntityKind::Account),
            (PatternName::SoldCard, EntityKind::Account),
            (PatternName::SoldCard, EntityKind::Number),
            (PatternName::ScamCallerSim, EntityKind::Number),
            (PatternName::SimBox, EntityKind::Number),
        ]
    );
    assert!(
        dir.version().starts_with("accounts.toml@"),
        "{}",
        dir.version()
    );
    // Every rule feeds at least one pattern and has both reason texts.
    for r in dir.rules() {
        assert!(
            dir.patterns()
                .any(|p| dir.pattern_rules(p).any(|(x, _)| x.code() == r.code())),
            "{} unused",
            r.code()
        );
        assert!(!r.features().is_empty());
    }
}

#[test]
fn each_construct_compiles_and_evaluates() {
    let v = account_vector(&[
        ("payers_24h", 12.0),
        ("pass_through_24h", 0.95),
        ("in_yuan_24h", 8000.0),
        ("age_days", -1.0),
    ]);
    let cases: &[(&str, bool)] = &[
        ("payers_24h >= 10", true),   // int literal against a double
        ("payers_24h > 12.0", false), // double literal
        ("payers_24h == 12", true),   // heterogeneous equality
        ("payers_24h != 12.0", false),
        ("10 <= payers_24h", true), // constant on the left
        ("payers_24h < 13.0 && payers_24h <= 12.0", true),
        ("payers_24h > 20.0 || pass_through_24h > 0.9", true),
        ("!(payers_24h > 20.0)", true),
        ("(in_yuan_24h * pass_through_24h) / 100.0 > 75.0", true), // 76
        ("in_yuan_24h - 8000.0 == 0.0", true),
        ("-age_days == 1.0", true),
        ("math.abs(age_days) == 1.0", true),
        ("math.greatest(payers_24h, 3.0, 20.0) == 20.0", true),
        ("math.least(payers_24h, pass_through_24h) < 1.0", true),
        ("(payers_24h > 10.0 ? pass_through_24h : 0.0) > 0.9", true),
        ("payers_24h > 100.0 ? true : false", false),
        ("true && payers_24h > 1.0", true),
        ("false", false),
        ("2 + 3 * 4 == 14", true), // integer constants fold
        ("7 / 2 == 3", true),      // CEL integer division
        ("7 % 4 == 3 && payers_24h > 0.0", true),
        ("(payers_24h > 1.0) == (age_days < 0.0)", true), // bool equality
        ("1.0 / 0.0 > payers_24h", true),                 // IEEE infinity, as CEL
    ];
    for (expr, want) in cases {
        let set = load(&[("a.toml", &one_rule(expr))]).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!(hits(&set, &v), *want, "{expr}");
    }
}

// ---------------------------------------------------------------------------------------
// Agreement with the reference interpreter.

const VARS: [&str; 5] = [
    "payers_24h",
    "pass_through_24h",
    "in_yuan_24h",
    "age_days",
    "night_share_7d",
];
const LITS: [&str; 6] = ["0.0", "1.0", "2.5", "-3.0", "10.0", "0.5"];

fn num_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (0..VARS.len()).prop_map(|i| VARS[i].to_owned()),
        (0..LITS.len()).prop_map(|i| LITS[i].to_owned()),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), 0..4usize, inner.clone())
                .prop_map(|(a, o, b)| format!("({a} {} {b})", ["+", "-", "*", "/"][o])),
            inner.clone().prop_map(|a| format!("-({a})")),
            inner.clone().prop_map(|a| format!("math.abs({a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("math.greatest({a}, {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("math.least({a}, {b}, {c})")),
            (inner.clone(), inner.clone(), inner.clone(), inner)
                .prop_map(|(x, y, a, b)| format!("({x} > {y} ? {a} : {b})")),
        ]
    })
}

fn bool_expr() -> impl Strategy<Value = String> {
    let cmp = (num_expr(), 0..6usize, num_expr())
        .prop_map(|(a, o, b)| format!("{a} {} {b}", ["<", "<=", ">", ">=", "==", "!="][o]));
    let int_cmp = (0..VARS.len(), 0..20i64).prop_map(|(i, k)| format!("{} >= {k}", VARS[i]));
    let leaf = prop_oneof![4 => cmp, 1 => int_cmp, 1 => Just("true".to_owned())];
    leaf.prop_recursive(3, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} && {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} || {b})")),
            inner.clone().prop_map(|a| format!("!({a})")),
            (inner.clone(), inner.clone(), inner)
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
        ]
    })
}

fn reference(expr: &str, values: &[f64]) -> Option<bool> {
    let mut env = cel::Env::stdlib();
    env.add_extension(cel::extensions::math).ok()?;
    let env = Arc::new(env);
    let program = env.compile(expr).ok()?;
    let mut ctx = cel::Context::with_env(env);
    for (name, v) in VARS.iter().zip(values) {
        ctx.add_variable_from_value(*name, *v);
    }
    match program.execute(&ctx) {
        Ok(cel::Value::Bool(b)) => Some(b),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn evaluation_equals_the_cel_interpreter(
        expr in bool_expr(),
        values in proptest::collection::vec(
            prop_oneof![
                (0..LITS.len()).prop_map(|i| LITS[i].parse::<f64>().unwrap()),
                -100.0..100.0f64,
            ],
            VARS.len(),
        ),
    ) {
        let set = load(&[("a.toml", &one_rule(&expr))]).map_err(|e| TestCaseError::fail(format!("{expr}: {e}")))?;
        let v = account_vector(&VARS.iter().copied().zip(values.iter().copied()).collect::<Vec<_>>());
        // The interpreter errors where CEL has no answer (e.g. ordering NaN); there is
        // nothing to compare then.
        if let Some(want) = reference(&expr, &values) {
            prop_assert_eq!(hits(&set, &v), want, "{}", expr);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Errors: file, line and column, one test per kind.

fn load_err(file: &str) -> (u32, u32, ErrorKind, String) {
    let e = load(&[("bad.toml", file)]).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("bad.toml:"), "{msg}");
    let (line, col) = e.position().unwrap();
    (line, col, e.kind().unwrap().clone(), msg)
}

/// Line and column of the first occurrence of `needle` in `file`, 1-based, in characters.
fn pos_of(file: &str, needle: &str) -> (u32, u32) {
    let i = file.find(needle).unwrap();
    let before = &file[..i];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
    (line as u32, col as u32)
}

#[test]
fn error_unknown_feature_points_into_the_expression() {
    let f = one_rule("pass_through_24h > 0.9 && payer_24h > 3.0");
    let (l, c, k, msg) = load_err(&f);
    assert_eq!((l, c), pos_of(&f, "payer_24h"));
    assert!(
        matches!(
            k,
            ErrorKind::UnknownFeature {
                suggestion: Some("payers_24h"),
                ..
            }
        ),
        "{k:?}"
    );
    assert!(msg.contains("did you mean `payers_24h`"), "{msg}");
}

#[test]
fn error_position_survives_escapes_and_multiline_strings() {
    // A basic string with an escape before the error shifts raw and decoded offsets.
    let f = one_rule("x").replace(
        "expr = 'x'",
        "expr = \"\"\"\npayers_24h > 1.0 && \\u0020\n  nope > 2.0\"\"\"",
    );
    let (l, c, k, _) = load_err(&f);
    assert!(matches!(k, ErrorKind::UnknownFeature { .. }));
    assert_eq!((l, c), pos_of(&f, "nope"));
}

#[test]
fn error_feature_of_another_entity() {
    let f = one_rule("callees_24h > 10.0");
    let (l, c, k, _) = load_err(&f);
    assert_eq!((l, c), pos_of(&f, "callees_24h"));
    assert_eq!(
        k,
        ErrorKind::WrongEntity {
            name: "callees_24h".into(),
            entity: EntityKind::Account,
            found: EntityKind::Number
        }
    );
}

#[test]
fn error_type_mixing_int_and_double_arithmetic() {
    let f = one_rule("payers_24h + 1 > 3.0");
    let (l, c, k, msg) = load_err(&f);
    assert!(matches!(k, ErrorKind::Type(_)));
    assert!(msg.contains("write 1.0"), "{msg}");
    assert_eq!((l, c), pos_of(&f, "+ 1"));
}

#[test]
fn error_type_rule_must_be_boolean() {
    let f = one_rule("payers_24h * 2.0");
    let (_, _, k, _) = load_err(&f);
    assert!(
        matches!(k, ErrorKind::Type(ref m) if m.contains("condition")),
        "{k:?}"
    );
}

#[test]
fn error_unsupported_construct() {
    for (expr, at) in [
        ("size(payers_24h) > 1", "size"),
        ("payers_24h in [1.0]", "in"),
        ("payers_24h.x > 1.0", ".x"),
        ("\"a\" == \"a\"", "\"a\""),
    ] {
        let f = one_rule(expr);
        let (l, c, k, _) = load_err(&f);
        assert!(matches!(k, ErrorKind::Unsupported(_)), "{expr}: {k:?}");
        // The CEL parser places a call at its name's end or its operator; the line is exact
        // and the column within the expression.
        let (el, ec) = pos_of(&f, expr);
        assert_eq!(l, el, "{expr}");
        assert!(
            c >= ec && c <= ec + expr.len() as u32,
            "{expr}: {c} vs {ec} ({at})"
        );
    }
}

#[test]
fn error_cel_syntax() {
    let f = one_rule("payers_24h > ");
    let (l, c, k, _) = load_err(&f);
    assert!(matches!(k, ErrorKind::Syntax(_)));
    let (el, ec) = pos_of(&f, "payers_24h > ");
    assert_eq!((l, c), (el, ec + "payers_24h > ".len() as u32));
}

#[test]
fn error_integer_constant_overflow() {
    let f = one_rule("9223372036854775807 + 1 > 0");
    let (_, _, k, _) = load_err(&f);
    assert!(matches!(k, ErrorKind::Constant(_)), "{k:?}");
}

#[test]
fn error_toml_syntax_and_unknown_fields() {
    let f = "version = \"1\"\n[[rule]]\ncode = \"R\"\nentity = account\n";
    let (l, _, k, _) = load_err(f);
    assert!(matches!(k, ErrorKind::Toml(_)));
    assert_eq!(l, 4);
    let f = one_rule("true").replace("text_en = \"test\"", "text_en = \"test\"\nweight = 3");
    let (l, _, k, _) = load_err(&f);
    assert!(
        matches!(k, ErrorKind::Toml(ref m) if m.contains("weight")),
        "{k:?}"
    );
    assert_eq!(l, pos_of(&f, "weight = 3").0);
    let f = one_rule("true").replace("\"mule\"", "\"typology\"");
    let (l, _, k, _) = load_err(&f);
    assert!(matches!(k, ErrorKind::Toml(_)));
    assert_eq!(l, pos_of(&f, "\"typology\"").0);
}

type KindCheck = fn(&ErrorKind) -> bool;

#[test]
fn error_pattern_checks() {
    let base = one_rule("true");
    let cases: [(String, &str, KindCheck); 4] = [
        (
            base.replace("{ code = \"R\", weight", "{ code = \"Q\", weight"),
            "\"Q\"",
            |k| matches!(k, ErrorKind::UnknownRule(_)),
        ),
        (base.replace("weight = 0.5", "weight = 1.0"), "1.0 }", |k| {
            matches!(k, ErrorKind::Weight(_))
        }),
        (base.replace("red = 90", "red = 30"), "{ red", |k| {
            matches!(k, ErrorKind::Levels)
        }),
        (
            base.replace("name = \"mule\"", "name = \"sim_box\""),
            "\"sim_box\"",
            |k| matches!(k, ErrorKind::PatternEntity { .. }),
        ),
    ];
    for (f, at, ok) in cases {
        let (l, c, k, _) = load_err(&f);
        assert!(ok(&k), "{at}: {k:?}");
        assert_eq!((l, c), pos_of(&f, at), "{at}");
    }
}

#[test]
fn error_duplicate_pattern_points_at_the_second() {
    let base = one_rule("true");
    let f = format!("{base}{}", &base[base.find("[[pattern]]").unwrap()..]);
    let (l, c, k, _) = load_err(&f);
    assert!(matches!(k, ErrorKind::DuplicatePattern { .. }), "{k:?}");
    let second = f.rfind("\"mule\"").unwrap();
    let line = f[..second].matches('\n').count() as u32 + 1;
    assert_eq!((l, c), (line, "name = ".len() as u32 + 1));
}

#[test]
fn error_rule_entity_mismatch_and_duplicate_code_across_files() {
    let a = one_rule("true");
    let b = "version = \"t\"\n[[rule]]\ncode = \"R\"\nentity = \"number\"\nexpr = \"true\"\ntext_zh = \"x\"\ntext_en = \"x\"\n";
    let e = load(&[("a.toml", &a), ("b.toml", b)]).unwrap_err();
    assert!(e.to_string().starts_with("b.toml:3:8:"), "{e}");
    assert!(matches!(e.kind(), Some(ErrorKind::DuplicateCode(_))));

    let b = "version = \"t\"\n[[rule]]\ncode = \"N\"\nentity = \"number\"\nexpr = \"true\"\ntext_zh = \"x\"\ntext_en = \"x\"\n";
    let a = a.replace(
        "{ code = \"R\", weight = 0.5 }",
        "{ code = \"R\", weight = 0.5 }, { code = \"N\", weight = 0.2 }",
    );
    let e = load(&[("a.toml", &a), ("b.toml", b)]).unwrap_err();
    assert!(
        matches!(e.kind(), Some(ErrorKind::RuleEntity { .. })),
        "{e}"
    );
    assert_eq!(e.position(), Some(pos_of(&a, "\"N\"")));
}

#[test]
fn error_not_utf8_and_empty_directory() {
    let e = RuleSet::from_sources(vec![(
        PathBuf::from("x.toml"),
        b"version = \"\xff\"".to_vec(),
    )])
    .unwrap_err();
    assert!(matches!(e.kind(), Some(ErrorKind::NotUtf8)));
    assert_eq!(e.position(), Some((1, 12)));
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        RuleSet::load_dir(dir.path()),
        Err(LoadError::Empty(_))
    ));
}

// ---------------------------------------------------------------------------------------
// Scores.

#[test]
fn noisy_or_score_with_contributions_that_sum_to_it() {
    let f = r#"version = "1"
[[rule]]
code = "A"
entity = "account"
expr = "payers_24h >= 10"
text_zh = "甲"
text_en = "a"
[[rule]]
code = "B"
entity = "account"
expr = "pass_through_24h >= 0.9"
text_zh = "乙"
text_en = "b"
[[rule]]
code = "C"
entity = "account"
expr = "age_days > 1000.0"
text_zh = "丙"
text_en = "c"
[[pattern]]
name = "runner"
entity = "account"
rules = [{ code = "A", weight = 0.2 }, { code = "B", weight = 0.5 }, { code = "C", weight = 0.9 }]
levels = { red = 90, orange = 55, yellow = 30 }
measure = "limit_non_counter"
"#;
    let set = load(&[("p.toml", f)]).unwrap();
    let v = account_vector(&[("payers_24h", 12.0), ("pass_through_24h", 0.95)]);
    let scores = set
        .evaluate(
            Entity::Account(fanzha_risk::event::AccountKey(std::num::NonZeroU32::MIN)),
            &v,
        )
        .unwrap();
    assert_eq!(scores.len(), 1);
    let s = &scores[0];
    assert!((s.score - 60.0).abs() < 1e-9, "{}", s.score); // 1 − 0.8 × 0.5
    assert_eq!(s.level, Some(Level::Orange));
    assert_eq!(s.measure, Some(Measure::LimitNonCounter));
    let codes: Vec<_> = s.reasons.iter().map(|r| r.code()).collect();
    assert_eq!(codes, ["B", "A"], "largest contribution first");
    let sum: f64 = s.reasons.iter().map(|r| r.contribution()).sum();
    assert!((sum - s.score).abs() < 1e-9);
    let json = serde_json::to_value(s).unwrap();
    assert_eq!(json["reasons"][0]["code"], "B");
    assert_eq!(json["reasons"][0]["text_zh"], "乙");
    assert_eq!(json["pattern"], "runner");
    assert_eq!(json["level"], "orange");

    // Below yellow: scored, no level, no measure; nothing hit: no score at all.
    let v = account_vector(&[("payers_24h", 12.0)]);
    let s = &set.evaluate(EntityKind::Account, &v).unwrap()[0];
    assert_eq!((s.level, s.measure), (None, None));
    assert!(set
        .evaluate(EntityKind::Account, &account_vector(&[]))
        .unwrap()
        .is_empty());
    // A vector of the wrong shape is refused, not misread.
    assert!(set.evaluate(EntityKind::Number, &v).is_err());
}

#[test]
fn reusable_buffers_give_the_same_scores() {
    let set = RuleSet::builtin().unwrap();
    let v1 = account_vector(&[
        ("payers_24h", 12.0),
        ("payees_24h", 2.0),
        ("pass_through_24h", 0.95),
        ("in_yuan_24h", 9000.0),
    ]);
    let v2 = account_vector(&[("holder_accounts_over_cap", 2.0)]);
    let mut buf = Scores::default();
    for v in [&v1, &v2, &v1] {
        set.evaluate_into(EntityKind::Account, v, &mut buf).unwrap();
        let fresh = set.evaluate(EntityKind::Account, v).unwrap();
        assert_eq!(buf.as_slice().len(), fresh.len());
        for (a, b) in buf.as_slice().iter().zip(&fresh) {
            assert_eq!((a.pattern, a.score, a.level), (b.pattern, b.score, b.level));
            assert_eq!(a.reasons.len(), b.reasons.len());
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reload.

#[test]
fn reload_is_atomic_and_keeps_the_old_set_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("a.toml", &one_rule("payers_24h >= 10"));
    let r = Reloader::open(dir.path()).unwrap();
    let first = r.current();
    assert!(r.poll().unwrap().is_none(), "nothing changed");

    // A second file with an error: the whole set is refused, the first stays active.
    write("b.toml", "version = \"2\"\n[[rule]]\ncode = \"X\"\nentity = \"account\"\nexpr = \"nope > 1\"\ntext_zh = \"x\"\ntext_en = \"x\"\n");
    let err = r.poll().unwrap_err();
    assert!(err.to_string().contains("b.toml:5:"), "{err}");
    assert_eq!(r.current().digest(), first.digest());
    // Not reported again until the files change.
    assert!(r.poll().unwrap().is_none());

    // Fixed: the new set (both files) becomes active.
    write("b.toml", "version = \"2\"\n[[rule]]\ncode = \"X\"\nentity = \"account\"\nexpr = \"payees_24h > 1.0\"\ntext_zh = \"x\"\ntext_en = \"x\"\n");
    let new = r.poll().unwrap().expect("reloaded");
    assert_ne!(new.digest(), first.digest());
    assert_eq!(r.current().digest(), new.digest());
    assert_eq!(new.rules().count(), 2);
    // The old Arc held by a reader is still whole.
    assert_eq!(first.rules().count(), 1);
}

#[test]
fn reloader_can_start_from_the_builtin_set() {
    let dir = tempfile::tempdir().unwrap();
    let r = Reloader::with_initial(dir.path(), RuleSet::builtin().unwrap());
    assert!(matches!(r.poll(), Err(LoadError::Empty(_))));
    assert!(r.current().rules().count() > 10);
    std::fs::write(dir.path().join("a.toml"), one_rule("true")).unwrap();
    assert!(r.poll().unwrap().is_some());
    assert_eq!(r.current().rules().count(), 1);
}

// ---------------------------------------------------------------------------------------
// End to end: the feature engine's vector scored by the default rules.

#[test]
fn default_rules_flag_a_mule_built_from_events() {
    const T0: i64 = 1_772_416_800_000_000;
    const MIN: i64 = 60_000_000;
    let at = |t: i64| Instant::from_micros(t).unwrap();
    let mut names = Names::default();
    let mut engine = Engine::new(FeatureConfig::default());
    let ev = names
        .account_opened(
            at(T0 - 48 * 60 * MIN),
            "mule",
            "p1",
            "b1",
            Some(AccountClass::II),
        )
        .unwrap();
    engine.apply(&ev);
    let mut tx = |t: i64, from: &str, to: &str, yuan: i64| {
        let ev = names
            .transfer(
                at(t),
                Some(from),
                Some(to),
                Money::from_fen(yuan * 100),
                "transfer",
                None,
                None,
                None,
            )
            .unwrap();
        engine.apply(&ev);
    };
    for i in 0..12 {
        tx(T0 + i * MIN / 2, &format!("victim{i}"), "mule", 1_000);
    }
    for (i, to) in ["l2a", "l2b", "l2c"].iter().enumerate() {
        tx(T0 + (15 + i as i64) * MIN, "mule", to, 3_960);
    }
    let key = fanzha_risk::event::AccountKey(names.accounts.lookup("mule").unwrap());
    let mut v = Vec::new();
    assert!(engine.features_into(Entity::Account(key), &mut v));
    let set = RuleSet::builtin().unwrap();
    let scores = set.evaluate(Entity::Account(key), &v).unwrap();
    let mule = scores
        .iter()
        .find(|s| s.pattern == PatternName::Mule)
        .expect("mule scored");
    let codes: Vec<_> = mule.reasons.iter().map(|r| r.code()).collect();
    assert!(
        codes.contains(&"ACC-PASS-24H") && codes.contains(&"ACC-DWELL-SHORT"),
        "{codes:?}"
    );
    // Pass-through with a short dwell is a yellow; orange needs fan-out or a link to a
    // warned card or a scam call (rules/accounts.toml).
    assert_eq!(mule.level, Some(Level::Yellow), "{mule:?}");
    let runner = scores
        .iter()
        .find(|s| s.pattern == PatternName::Runner)
        .expect("runner scored");
    assert!(runner
        .reasons
        .iter()
        .any(|r| r.code() == "ACC-COLLECT-FORWARD"));
    // A payer is not flagged.
    let payer = fanzha_risk::event::AccountKey(names.accounts.lookup("victim0").unwrap());
    assert!(engine.features_into(Entity::Account(payer), &mut v));
    assert!(set.evaluate(Entity::Account(payer), &v).unwrap().is_empty());
}
