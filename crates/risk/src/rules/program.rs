//! The compiled form of a rule expression: flat postfix code over an `f64` stack, with
//! feature names already resolved to indices of the entity's feature vector.
//!
//! Why our own evaluator rather than the `cel` interpreter: scoring runs for every touched
//! entity at hundreds of thousands of events a second, and the interpreter walks the AST
//! through dynamically typed values and a name-keyed context. The supported subset is typed
//! at load (booleans, doubles, constant integers), so at run time every value is an `f64`
//! (booleans as 0 and 1) and no check is left to do.

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Cmp {
    #[inline(always)]
    pub fn apply(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
        }
    }

    /// The operator with its operands swapped: `c < x` is `x > c`.
    pub fn flip(self) -> Self {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            Cmp::Eq => Cmp::Eq,
            Cmp::Ne => Cmp::Ne,
        }
    }
}

/// One instruction. Jumps are relative: `n` skips the next `n` instructions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Feat(u16),
    Const(f64),
    Add,
    Sub,
    Mul,
    Div,
    Neg,
    Abs,
    Max,
    Min,
    Not,
    Cmp(Cmp),
    /// `feature <op> constant`, the shape of most rule terms, in one step.
    CmpFC(u16, Cmp, f64),
    /// `&&`: false on top ends the conjunction (the false stays); else it is popped.
    AndJump(u16),
    /// `feature <op> constant && …`: when the comparison fails, pushes false and skips
    /// the right-hand side; otherwise pushes nothing. Saves a push, a pop and a dispatch on
    /// the commonest rule shape.
    AndCmpFC(u16, Cmp, f64, u16),
    /// `feature <op> constant || …`, likewise with true.
    OrCmpFC(u16, Cmp, f64, u16),
    /// `||`: true on top ends the disjunction; else it is popped.
    OrJump(u16),
    /// Pops the condition of a ternary; false jumps to the else branch.
    JumpIfFalse(u16),
    Jump(u16),
}

/// Deepest stack any compiled program may use; deeper expressions are refused at load.
pub(crate) const MAX_STACK: usize = 32;

#[inline(always)]
fn b(x: bool) -> f64 {
    if x {
        1.0
    } else {
        0.0
    }
}

/// The evaluation stack, allocated once per scoring call rather than zeroed per rule.
pub(crate) type Stack = [f64; MAX_STACK];

/// Runs `ops`, a boolean program, over `x`. The caller guarantees that `x` is at least as
/// long as the schema the program was compiled against and that `ops` came from the
/// compiler (stack within `MAX_STACK`, jumps in range); indexing stays checked anyway, so
/// a broken guarantee panics rather than reads out of bounds.
#[inline]
pub(crate) fn run(ops: &[Op], x: &[f64], st: &mut Stack) -> bool {
    // The commonest rule is one comparison: no stack needed.
    if let [Op::CmpFC(i, c, k)] = ops {
        return c.apply(x[usize::from(*i)], *k);
    }
    let mut sp = 0usize;
    let mut pc = 0usize;
    while pc < ops.len() {
        let op = ops[pc];
        pc += 1;
        match op {
            Op::Feat(i) => {
                st[sp] = x[usize::from(i)];
                sp += 1;
            }
            Op::Const(c) => {
                st[sp] = c;
                sp += 1;
            }
            Op::CmpFC(i, c, k) => {
                st[sp] = b(c.apply(x[usize::from(i)], k));
                sp += 1;
            }
            Op::Add => {
                sp -= 1;
                st[sp - 1] += st[sp];
            }
            Op::Sub => {
                sp -= 1;
                st[sp - 1] -= st[sp];
            }
            Op::Mul => {
                sp -= 1;
                st[sp - 1] *= st[sp];
            }
            Op::Div => {
                sp -= 1;
                st[sp - 1] /= st[sp];
            }
            Op::Max => {
                sp -= 1;
                st[sp - 1] = cel_max(st[sp - 1], st[sp]);
            }
            Op::Min => {
                sp -= 1;
                st[sp - 1] = cel_min(st[sp - 1], st[sp]);
            }
            Op::Cmp(c) => {
                sp -= 1;
                st[sp - 1] = b(c.apply(st[sp - 1], st[sp]));
            }
            Op::Neg => st[sp - 1] = -st[sp - 1],
            Op::Abs => st[sp - 1] = st[sp - 1].abs(),
            Op::Not => st[sp - 1] = b(st[sp - 1] == 0.0),
            Op::AndJump(n) => {
                if st[sp - 1] == 0.0 {
                    pc += usize::from(n);
                } else {
                    sp -= 1;
                }
            }
            Op::AndCmpFC(i, c, k, n) => {
                if !c.apply(x[usize::from(i)], k) {
                    st[sp] = 0.0;
                    sp += 1;
                    pc += usize::from(n);
                }
            }
            Op::OrCmpFC(i, c, k, n) => {
                if c.apply(x[usize::from(i)], k) {
                    st[sp] = 1.0;
                    sp += 1;
                    pc += usize::from(n);
                }
            }
            Op::OrJump(n) => {
                if st[sp - 1] != 0.0 {
                    pc += usize::from(n);
                } else {
                    sp -= 1;
                }
            }
            Op::JumpIfFalse(n) => {
                sp -= 1;
                if st[sp] == 0.0 {
                    pc += usize::from(n);
                }
            }
            Op::Jump(n) => pc += usize::from(n),
        }
    }
    sp == 1 && st[0] != 0.0
}

/// `math.greatest` of two doubles as cel-go defines it: NaN wins, so a missing value never
/// hides behind a larger one. (`f64::max` would drop the NaN.)
#[inline(always)]
pub(crate) fn cel_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if b > a {
        b
    } else {
        a
    }
}

#[inline(always)]
pub(crate) fn cel_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if b < a {
        b
    } else {
        a
    }
}
