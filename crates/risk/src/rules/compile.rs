//! From CEL source to [`Op`] code: the `cel` crate parses, this module type-checks the
//! supported subset and resolves feature names against the entity's schema.
//!
//! The subset: double, integer and boolean literals; feature names; `+ - * /`, unary `-`;
//! `< <= > >= == !=`; `&& || !`; `c ? a : b`; parentheses; `math.abs`, `math.greatest`
//! and `math.least` (cel-go's math extension). Every feature is a double.
//!
//! Typing follows CEL so a rule means the same here as in any CEL engine: integers and
//! doubles do not mix in arithmetic (`x + 1` is refused, `x + 1.0` is fine) but compare
//! with each other (`x > 1` is fine). Integers can only be literals, so integer arithmetic
//! is folded at load with CEL's rules (overflow and division by zero are errors).

use cel::common::ast::{operators as op, Expr, IdedExpr, LiteralValue, SourceInfo};

use super::error::ErrorKind;
use super::model::EntityKind;
use super::program::{Cmp, Op, MAX_STACK};

/// A compile error at a character offset of the expression.
#[derive(Debug)]
pub(crate) struct ExprError {
    pub at_char: usize,
    pub kind: ErrorKind,
}

/// Compiled code of a boolean expression.
pub(crate) struct Compiled {
    pub ops: Vec<Op>,
    /// Feature indices the expression reads, for the reference tests and tooling.
    pub features: Vec<u16>,
}

/// Parses and compiles `src` for entities of `kind`.
pub(crate) fn compile(src: &str, kind: EntityKind) -> Result<Compiled, ExprError> {
    let (expr, info) = cel::parser::Parser::new()
        .parse_with_source_info(src)
        .map_err(|errs| {
            let first = errs.errors.into_iter().next();
            let (line, col, msg) = first.map_or((1, 1, "syntax error".to_owned()), |e| {
                (e.pos.0, e.pos.1, e.msg)
            });
            ExprError {
                at_char: super::source::line_col_to_char(src, line, col),
                kind: ErrorKind::Syntax(msg.trim_start_matches("Syntax error: ").to_owned()),
            }
        })?;
    let mut c = Compiler {
        kind,
        info: &info,
        features: Vec::new(),
    };
    match c.node(&expr)? {
        Typed::Bool(code) => {
            if code.depth > MAX_STACK {
                return Err(c.err(&expr, ErrorKind::TooDeep));
            }
            let mut features = c.features;
            features.sort_unstable();
            features.dedup();
            Ok(Compiled {
                ops: code.ops,
                features,
            })
        }
        other => Err(c.err(
            &expr,
            ErrorKind::Type(format!(
                "a rule must be a condition (bool), this expression is {}",
                other.name()
            )),
        )),
    }
}

struct Code {
    ops: Vec<Op>,
    depth: usize,
}

impl Code {
    fn one(op: Op) -> Self {
        Self {
            ops: vec![op],
            depth: 1,
        }
    }

    fn constant(&self) -> Option<f64> {
        match self.ops.as_slice() {
            [Op::Const(c)] => Some(*c),
            _ => None,
        }
    }

    /// `self`, then `rhs`, then `op` combining them.
    fn binary(mut self, rhs: Code, op: Op) -> Code {
        let depth = self.depth.max(rhs.depth + 1);
        self.ops.extend(rhs.ops);
        self.ops.push(op);
        Code {
            ops: self.ops,
            depth,
        }
    }
}

/// A compiled subexpression and its CEL type. Integers are always constants (no feature
/// is an integer), so they are kept as values and folded.
enum Typed {
    Bool(Code),
    Double(Code),
    Int(i64),
}

impl Typed {
    fn name(&self) -> &'static str {
        match self {
            Typed::Bool(_) => "bool",
            Typed::Double(_) => "double",
            Typed::Int(_) => "int",
        }
    }
}

struct Compiler<'a> {
    kind: EntityKind,
    info: &'a SourceInfo,
    features: Vec<u16>,
}

/// Integers up to 2^53 convert to doubles exactly; beyond, a comparison with a double
/// could differ from CEL's exact one.
const EXACT_INT: i64 = 1 << 53;

impl Compiler<'_> {
    fn err(&self, e: &IdedExpr, kind: ErrorKind) -> ExprError {
        let at_char = self
            .info
            .offset_for(e.id)
            .map_or(0, |(start, _)| start as usize);
        ExprError { at_char, kind }
    }

    fn node(&mut self, e: &IdedExpr) -> Result<Typed, ExprError> {
        match &e.expr {
            Expr::Literal(lit) => match lit {
                LiteralValue::Boolean(b) => Ok(Typed::Bool(Code::one(Op::Const(if **b {
                    1.0
                } else {
                    0.0
                })))),
                LiteralValue::Double(d) => Ok(Typed::Double(Code::one(Op::Const(**d)))),
                LiteralValue::Int(i) => Ok(Typed::Int(**i)),
                LiteralValue::UInt(_) => Err(self.unsupported(e, "unsigned integers")),
                LiteralValue::String(_) => Err(self.unsupported(e, "strings")),
                LiteralValue::Bytes(_) => Err(self.unsupported(e, "bytes")),
                LiteralValue::Null => Err(self.unsupported(e, "null")),
            },
            Expr::Ident(name) => self.feature(e, name),
            Expr::Call(call) => {
                if let Some(target) = &call.target {
                    return match &target.expr {
                        Expr::Ident(ns) if ns == "math" => {
                            self.math(e, &call.func_name, &call.args)
                        }
                        _ => Err(self.unsupported(e, &format!("method `.{}()`", call.func_name))),
                    };
                }
                let args = &call.args;
                match (call.func_name.as_str(), args.as_slice()) {
                    (op::LOGICAL_AND, [l, r]) => self.logic(e, l, r, true),
                    (op::LOGICAL_OR, [l, r]) => self.logic(e, l, r, false),
                    (op::LOGICAL_NOT, [x]) => match self.node(x)? {
                        Typed::Bool(mut c) => {
                            c.ops.push(Op::Not);
                            Ok(Typed::Bool(c))
                        }
                        t => Err(self.type_err(x, "`!` needs a bool", &t)),
                    },
                    (op::NEGATE, [x]) => match self.node(x)? {
                        Typed::Double(mut c) => {
                            if let Some(k) = c.constant() {
                                return Ok(Typed::Double(Code::one(Op::Const(-k))));
                            }
                            c.ops.push(Op::Neg);
                            Ok(Typed::Double(c))
                        }
                        Typed::Int(i) => i.checked_neg().map(Typed::Int).ok_or_else(|| {
                            self.err(e, ErrorKind::Constant("integer overflow".into()))
                        }),
                        t => Err(self.type_err(x, "unary `-` needs a number", &t)),
                    },
                    (op::ADD, [l, r]) => self.arith(e, l, r, Op::Add),
                    (op::SUBSTRACT, [l, r]) => self.arith(e, l, r, Op::Sub),
                    (op::MULTIPLY, [l, r]) => self.arith(e, l, r, Op::Mul),
                    (op::DIVIDE, [l, r]) => self.arith(e, l, r, Op::Div),
                    (op::MODULO, [l, r]) => match (self.node(l)?, self.node(r)?) {
                        (Typed::Int(a), Typed::Int(b)) => {
                            a.checked_rem(b).map(Typed::Int).ok_or_else(|| {
                                self.err(
                                    e,
                                    ErrorKind::Constant("modulus by zero or overflow".into()),
                                )
                            })
                        }
                        _ => Err(self.err(
                            e,
                            ErrorKind::Type("CEL defines `%` for integers only".into()),
                        )),
                    },
                    (op::LESS, [l, r]) => self.compare(e, l, r, Cmp::Lt),
                    (op::LESS_EQUALS, [l, r]) => self.compare(e, l, r, Cmp::Le),
                    (op::GREATER, [l, r]) => self.compare(e, l, r, Cmp::Gt),
                    (op::GREATER_EQUALS, [l, r]) => self.compare(e, l, r, Cmp::Ge),
                    (op::EQUALS, [l, r]) => self.compare(e, l, r, Cmp::Eq),
                    (op::NOT_EQUALS, [l, r]) => self.compare(e, l, r, Cmp::Ne),
                    (op::CONDITIONAL, [c, a, b]) => self.ternary(e, c, a, b),
                    (op::INDEX, _) => Err(self.unsupported(e, "indexing `[..]`")),
                    (op::IN, _) => Err(self.unsupported(e, "`in`")),
                    (name, _) => Err(self.unsupported(e, &format!("function `{name}`"))),
                }
            }
            Expr::Select(s) => Err(self.unsupported(e, &format!("field selection `.{}`", s.field))),
            Expr::List(_) => Err(self.unsupported(e, "lists")),
            Expr::Map(_) => Err(self.unsupported(e, "maps")),
            Expr::Struct(_) => Err(self.unsupported(e, "messages")),
            Expr::Comprehension(_) => Err(self.unsupported(e, "macros (all, exists, map, filter)")),
            Expr::Unspecified => Err(self.unsupported(e, "this construct")),
        }
    }

    fn unsupported(&self, e: &IdedExpr, what: &str) -> ExprError {
        self.err(e, ErrorKind::Unsupported(what.to_owned()))
    }

    fn type_err(&self, e: &IdedExpr, need: &str, got: &Typed) -> ExprError {
        self.err(e, ErrorKind::Type(format!("{need}, found {}", got.name())))
    }

    fn feature(&mut self, e: &IdedExpr, name: &str) -> Result<Typed, ExprError> {
        if let Some(i) = self.kind.schema().iter().position(|f| *f == name) {
            let i = u16::try_from(i).map_err(|_| self.err(e, ErrorKind::TooDeep))?;
            self.features.push(i);
            return Ok(Typed::Double(Code::one(Op::Feat(i))));
        }
        if let Some(other) = EntityKind::ALL
            .into_iter()
            .find(|k| k.schema().contains(&name))
        {
            return Err(self.err(
                e,
                ErrorKind::WrongEntity {
                    name: name.to_owned(),
                    entity: self.kind,
                    found: other,
                },
            ));
        }
        Err(self.err(
            e,
            ErrorKind::UnknownFeature {
                name: name.to_owned(),
                entity: self.kind,
                suggestion: nearest(name, self.kind.schema()),
            },
        ))
    }

    fn logic(
        &mut self,
        e: &IdedExpr,
        l: &IdedExpr,
        r: &IdedExpr,
        and: bool,
    ) -> Result<Typed, ExprError> {
        let what = if and { "`&&`" } else { "`||`" };
        let l = match self.node(l)? {
            Typed::Bool(c) => c,
            t => return Err(self.type_err(l, &format!("{what} needs bools"), &t)),
        };
        let r = match self.node(r)? {
            Typed::Bool(c) => c,
            t => return Err(self.type_err(r, &format!("{what} needs bools"), &t)),
        };
        let skip = u16::try_from(r.ops.len()).map_err(|_| self.err(e, ErrorKind::TooDeep))?;
        let mut ops = match (l.ops.as_slice(), and) {
            ([Op::CmpFC(i, c, k)], true) => vec![Op::AndCmpFC(*i, *c, *k, skip)],
            ([Op::CmpFC(i, c, k)], false) => vec![Op::OrCmpFC(*i, *c, *k, skip)],
            _ => {
                let mut ops = l.ops;
                ops.push(if and {
                    Op::AndJump(skip)
                } else {
                    Op::OrJump(skip)
                });
                ops
            }
        };
        ops.extend(r.ops);
        Ok(Typed::Bool(Code {
            ops,
            depth: l.depth.max(r.depth),
        }))
    }

    fn arith(
        &mut self,
        e: &IdedExpr,
        l: &IdedExpr,
        r: &IdedExpr,
        o: Op,
    ) -> Result<Typed, ExprError> {
        match (self.node(l)?, self.node(r)?) {
            (Typed::Int(a), Typed::Int(b)) => {
                let v = match o {
                    Op::Add => a.checked_add(b),
                    Op::Sub => a.checked_sub(b),
                    Op::Mul => a.checked_mul(b),
                    _ => a.checked_div(b),
                };
                v.map(Typed::Int).ok_or_else(|| {
                    self.err(
                        e,
                        ErrorKind::Constant("integer overflow or division by zero".into()),
                    )
                })
            }
            (Typed::Double(a), Typed::Double(b)) => {
                if let (Some(x), Some(y)) = (a.constant(), b.constant()) {
                    let v = match o {
                        Op::Add => x + y,
                        Op::Sub => x - y,
                        Op::Mul => x * y,
                        _ => x / y,
                    };
                    return Ok(Typed::Double(Code::one(Op::Const(v))));
                }
                Ok(Typed::Double(a.binary(b, o)))
            }
            (Typed::Int(i), Typed::Double(_)) | (Typed::Double(_), Typed::Int(i)) => Err(self.err(
                e,
                ErrorKind::Type(format!(
                    "CEL does not mix int and double in arithmetic: write {i}.0"
                )),
            )),
            (a, b) => Err(self.err(
                e,
                ErrorKind::Type(format!(
                    "arithmetic needs numbers, found {} and {}",
                    a.name(),
                    b.name()
                )),
            )),
        }
    }

    /// An integer used where a double is compared: exact below 2^53.
    fn int_as_double(&self, e: &IdedExpr, i: i64) -> Result<Code, ExprError> {
        if !(-EXACT_INT..=EXACT_INT).contains(&i) {
            return Err(self.err(
                e,
                ErrorKind::Constant(format!("{i} is too large to compare with a double exactly")),
            ));
        }
        Ok(Code::one(Op::Const(i as f64)))
    }

    fn compare(
        &mut self,
        e: &IdedExpr,
        l: &IdedExpr,
        r: &IdedExpr,
        c: Cmp,
    ) -> Result<Typed, ExprError> {
        let (a, b) = match (self.node(l)?, self.node(r)?) {
            (Typed::Int(x), Typed::Int(y)) => {
                let v = match c {
                    Cmp::Lt => x < y,
                    Cmp::Le => x <= y,
                    Cmp::Gt => x > y,
                    Cmp::Ge => x >= y,
                    Cmp::Eq => x == y,
                    Cmp::Ne => x != y,
                };
                return Ok(Typed::Bool(Code::one(Op::Const(if v { 1.0 } else { 0.0 }))));
            }
            (Typed::Double(a), Typed::Double(b)) => (a, b),
            (Typed::Double(a), Typed::Int(y)) => (a, self.int_as_double(r, y)?),
            (Typed::Int(x), Typed::Double(b)) => (self.int_as_double(l, x)?, b),
            (Typed::Bool(a), Typed::Bool(b)) if matches!(c, Cmp::Eq | Cmp::Ne) => (a, b),
            (a, b) => {
                return Err(self.err(
                    e,
                    ErrorKind::Type(format!("cannot compare {} with {}", a.name(), b.name())),
                ))
            }
        };
        // Fuse `feature op constant` (either way round) into one instruction.
        let fused = match (a.ops.as_slice(), b.ops.as_slice()) {
            ([Op::Feat(i)], [Op::Const(k)]) => Some(Op::CmpFC(*i, c, *k)),
            ([Op::Const(k)], [Op::Feat(i)]) => Some(Op::CmpFC(*i, c.flip(), *k)),
            _ => None,
        };
        Ok(Typed::Bool(match fused {
            Some(op) => Code::one(op),
            None => a.binary(b, Op::Cmp(c)),
        }))
    }

    fn ternary(
        &mut self,
        e: &IdedExpr,
        c: &IdedExpr,
        a: &IdedExpr,
        b: &IdedExpr,
    ) -> Result<Typed, ExprError> {
        let cond = match self.node(c)? {
            Typed::Bool(code) => code,
            t => return Err(self.type_err(c, "a `?:` condition must be a bool", &t)),
        };
        let (then, other, is_bool) = match (self.node(a)?, self.node(b)?) {
            (Typed::Bool(x), Typed::Bool(y)) => (x, y, true),
            (Typed::Double(x), Typed::Double(y)) => (x, y, false),
            (x, y) => {
                return Err(self.err(
                    e,
                    ErrorKind::Type(format!(
                        "both branches of `?:` must be bools or both doubles, found {} and {}",
                        x.name(),
                        y.name()
                    )),
                ))
            }
        };
        let too_long = |_| self.err(e, ErrorKind::TooDeep);
        let skip_then = u16::try_from(then.ops.len() + 1).map_err(too_long)?;
        let skip_else = u16::try_from(other.ops.len()).map_err(too_long)?;
        let depth = cond.depth.max(then.depth).max(other.depth);
        let mut ops = cond.ops;
        ops.push(Op::JumpIfFalse(skip_then));
        ops.extend(then.ops);
        ops.push(Op::Jump(skip_else));
        ops.extend(other.ops);
        let code = Code { ops, depth };
        Ok(if is_bool {
            Typed::Bool(code)
        } else {
            Typed::Double(code)
        })
    }

    fn math(&mut self, e: &IdedExpr, func: &str, args: &[IdedExpr]) -> Result<Typed, ExprError> {
        match (func, args) {
            ("abs", [x]) => match self.node(x)? {
                Typed::Double(mut c) => {
                    c.ops.push(Op::Abs);
                    Ok(Typed::Double(c))
                }
                Typed::Int(i) => i
                    .checked_abs()
                    .map(Typed::Int)
                    .ok_or_else(|| self.err(e, ErrorKind::Constant("integer overflow".into()))),
                t => Err(self.type_err(x, "`math.abs` needs a number", &t)),
            },
            ("greatest" | "least", [first, rest @ ..]) => {
                let op = if func == "greatest" { Op::Max } else { Op::Min };
                let mut acc = self.double_arg(first, func)?;
                for a in rest {
                    let next = self.double_arg(a, func)?;
                    acc = acc.binary(next, op);
                }
                Ok(Typed::Double(acc))
            }
            _ => Err(self.unsupported(e, &format!("`math.{func}` with {} arguments", args.len()))),
        }
    }

    /// Arguments of `math.greatest`/`least` are doubles: with an integer among them CEL's
    /// result would take that integer's type, which then could not enter arithmetic.
    fn double_arg(&mut self, a: &IdedExpr, func: &str) -> Result<Code, ExprError> {
        match self.node(a)? {
            Typed::Double(c) => Ok(c),
            Typed::Int(i) => Err(self.err(
                a,
                ErrorKind::Type(format!("`math.{func}` takes doubles here: write {i}.0")),
            )),
            t => Err(self.type_err(a, &format!("`math.{func}` needs numbers"), &t)),
        }
    }
}

/// The schema name closest to `name` by edit distance, if close enough to be a typo.
fn nearest(name: &str, schema: &'static [&'static str]) -> Option<&'static str> {
    schema
        .iter()
        .map(|f| (edit_distance(name, f), *f))
        .filter(|(d, f)| *d <= (f.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| f)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_a_suggestion() {
        let s = nearest("payer_24h", EntityKind::Account.schema());
        assert_eq!(s, Some("payers_24h"));
        assert_eq!(nearest("zzzzzz", EntityKind::Account.schema()), None);
    }

    #[test]
    fn comparisons_with_constants_fuse() {
        let c = compile("2 <= payers_24h", EntityKind::Account).unwrap();
        assert!(matches!(c.ops.as_slice(), [Op::CmpFC(_, Cmp::Ge, k)] if *k == 2.0));
    }
}
