//! The PromQL syntax tree, shaped like Prometheus 2.42's `promql/parser/ast.go`,
//! and its printer (`printer.go`): `Display` writes an expression back as PromQL
//! that parses to the same tree.

use std::fmt;

use thanos_core::labels::{MatchOp, Matcher, METRIC_NAME};

use super::duration::format_duration;
use super::functions::Function;
use super::lex::{go_quote, ItemType};
use super::literals::format_go_float;

/// Byte offsets of a node in the query text, end exclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PosRange {
    pub start: usize,
    pub end: usize,
}

/// The type an expression evaluates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    None,
    Scalar,
    Vector,
    Matrix,
    String,
}

impl ValueType {
    /// The name used in error messages (Prometheus's `DocumentedType`).
    pub fn documented(self) -> &'static str {
        match self {
            ValueType::None => "none",
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        }
    }

    /// The name of the `resultType` in the HTTP API and in some messages.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::None => "none",
            ValueType::Scalar => "scalar",
            ValueType::Vector => "vector",
            ValueType::Matrix => "matrix",
            ValueType::String => "string",
        }
    }
}

/// `@ start()` and `@ end()`, resolved to timestamps before evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtModifier {
    Start,
    End,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Aggregate(Box<AggregateExpr>),
    Binary(Box<BinaryExpr>),
    Call(Box<Call>),
    MatrixSelector(Box<MatrixSelector>),
    Subquery(Box<SubqueryExpr>),
    NumberLiteral(NumberLiteral),
    StringLiteral(StringLiteral),
    Paren(Box<ParenExpr>),
    Unary(Box<UnaryExpr>),
    VectorSelector(Box<VectorSelector>),
    /// Marks a subtree whose value does not depend on the evaluation step (it only
    /// reads data pinned with `@`): evaluated once and repeated. Added by the engine.
    StepInvariant(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct AggregateExpr {
    pub op: ItemType,
    pub expr: Expr,
    pub param: Option<Expr>,
    pub grouping: Vec<String>,
    pub without: bool,
    pub pos: PosRange,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cardinality {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VectorMatching {
    pub card: Cardinality,
    pub matching_labels: Vec<String>,
    /// `on(...)` rather than `ignoring(...)`.
    pub on: bool,
    /// Labels of `group_left(...)`/`group_right(...)` copied from the "one" side.
    pub include: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BinaryExpr {
    pub op: ItemType,
    pub lhs: Expr,
    pub rhs: Expr,
    /// Only between two instant vectors.
    pub matching: Option<VectorMatching>,
    pub return_bool: bool,
    /// The types of `lhs` and `rhs`, set by the type checks (so that the
    /// evaluator need not walk the operands' subtrees to learn them).
    pub operand_types: (ValueType, ValueType),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub func: &'static Function,
    pub args: Vec<Expr>,
    pub pos: PosRange,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VectorSelector {
    pub name: String,
    pub matchers: Vec<Matcher>,
    /// `offset` as written, in milliseconds (negative allowed).
    pub original_offset: i64,
    /// `@ <time>` in milliseconds, or the resolved `@ start()`/`@ end()`.
    pub timestamp: Option<i64>,
    pub at: Option<AtModifier>,
    pub pos: PosRange,
    /// Which of the query's selects feeds this selector; set by the engine's
    /// planning, 0 until then.
    pub select_id: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MatrixSelector {
    pub vs: VectorSelector,
    /// The range in milliseconds.
    pub range: i64,
    pub end_pos: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubqueryExpr {
    pub expr: Expr,
    pub range: i64,
    /// 0 when not given: the engine's default evaluation interval applies.
    pub step: i64,
    pub original_offset: i64,
    pub timestamp: Option<i64>,
    pub at: Option<AtModifier>,
    pub end_pos: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NumberLiteral {
    pub val: f64,
    pub pos: PosRange,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StringLiteral {
    pub val: String,
    pub pos: PosRange,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParenExpr {
    pub expr: Expr,
    pub pos: PosRange,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UnaryExpr {
    pub op: ItemType,
    pub expr: Expr,
    pub start: usize,
}

impl Expr {
    /// The type of the expression's value.
    pub fn value_type(&self) -> ValueType {
        crate::stack::guarded(|| self.value_type_here())
    }

    /// The type of the value, for the node kinds whose type does not depend
    /// on their operands' (`Vector` stands in for binary expressions and the
    /// wrappers, which the type checks settle from their operands).
    pub(crate) fn value_type_of_node(&self) -> ValueType {
        match self {
            Expr::Binary(_) | Expr::Paren(_) | Expr::Unary(_) | Expr::StepInvariant(_) => ValueType::Vector,
            e => e.value_type_here(),
        }
    }

    fn value_type_here(&self) -> ValueType {
        match self {
            Expr::Aggregate(_) | Expr::VectorSelector(_) => ValueType::Vector,
            Expr::Binary(b) => match (b.lhs.value_type(), b.rhs.value_type()) {
                (ValueType::Scalar, ValueType::Scalar) => ValueType::Scalar,
                _ => ValueType::Vector,
            },
            Expr::Call(c) => c.func.return_type,
            Expr::MatrixSelector(_) | Expr::Subquery(_) => ValueType::Matrix,
            Expr::NumberLiteral(_) => ValueType::Scalar,
            Expr::StringLiteral(_) => ValueType::String,
            Expr::Paren(p) => p.expr.value_type(),
            Expr::Unary(u) => u.expr.value_type(),
            Expr::StepInvariant(e) => e.value_type(),
        }
    }

    pub fn pos(&self) -> PosRange {
        crate::stack::guarded(|| self.pos_here())
    }

    fn pos_here(&self) -> PosRange {
        match self {
            Expr::Aggregate(a) => a.pos,
            Expr::Binary(b) => PosRange { start: b.lhs.pos().start, end: b.rhs.pos().end },
            Expr::Call(c) => c.pos,
            Expr::MatrixSelector(m) => PosRange { start: m.vs.pos.start, end: m.end_pos },
            Expr::Subquery(s) => PosRange { start: s.expr.pos().start, end: s.end_pos },
            Expr::NumberLiteral(n) => n.pos,
            Expr::StringLiteral(s) => s.pos,
            Expr::Paren(p) => p.pos,
            Expr::Unary(u) => PosRange { start: u.start, end: u.expr.pos().end },
            Expr::VectorSelector(v) => v.pos,
            Expr::StepInvariant(e) => e.pos(),
        }
    }

    /// The expression without enclosing parentheses and step-invariance markers.
    pub fn unwrapped(&self) -> &Expr {
        let mut e = self;
        loop {
            match e {
                Expr::Paren(p) => e = &p.expr,
                Expr::StepInvariant(inner) => e = inner,
                _ => return e,
            }
        }
    }

    /// The number of nodes on the longest path from here to a leaf, found
    /// without recursion.
    pub fn height(&self) -> usize {
        let mut deepest = 0;
        let mut pending = vec![(self, 1)];
        while let Some((e, depth)) = pending.pop() {
            deepest = deepest.max(depth);
            pending.extend(e.children().into_iter().map(|c| (c, depth + 1)));
        }
        deepest
    }

    /// Calls `f` on this node and every node below it, parents first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        crate::stack::guarded(|| {
            f(self);
            for child in self.children() {
                child.walk(f);
            }
        })
    }

    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Aggregate(a) => a.param.iter().chain(std::iter::once(&a.expr)).collect(),
            Expr::Binary(b) => vec![&b.lhs, &b.rhs],
            Expr::Call(c) => c.args.iter().collect(),
            Expr::Subquery(s) => vec![&s.expr],
            Expr::Paren(p) => vec![&p.expr],
            Expr::Unary(u) => vec![&u.expr],
            Expr::StepInvariant(e) => vec![e],
            Expr::MatrixSelector(_) | Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::VectorSelector(_) => {
                vec![]
            }
        }
    }
}

impl Expr {
    fn is_leaf(&self) -> bool {
        matches!(
            self,
            Expr::MatrixSelector(_) | Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::VectorSelector(_)
        )
    }

    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Expr::Aggregate(a) => a.param.iter_mut().chain(std::iter::once(&mut a.expr)).collect(),
            Expr::Binary(b) => vec![&mut b.lhs, &mut b.rhs],
            Expr::Call(c) => c.args.iter_mut().collect(),
            Expr::Subquery(s) => vec![&mut s.expr],
            Expr::Paren(p) => vec![&mut p.expr],
            Expr::Unary(u) => vec![&mut u.expr],
            Expr::StepInvariant(e) => vec![e],
            Expr::MatrixSelector(_) | Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::VectorSelector(_) => {
                vec![]
            }
        }
    }
}

/// A tree can be deeper than any thread's stack (`1+1+...+1` is one binary
/// node per operand), so dropping one must not recurse: each node hands its
/// subtrees to a list that is emptied in a loop, and a node whose children
/// were taken out drops flat.
impl Drop for Expr {
    fn drop(&mut self) {
        let mut pending = Vec::new();
        take_subtrees(self, &mut pending);
        while let Some(mut e) = pending.pop() {
            take_subtrees(&mut e, &mut pending);
        }
    }
}

fn take_subtrees(e: &mut Expr, out: &mut Vec<Expr>) {
    if e.is_leaf() {
        return;
    }
    for child in e.children_mut() {
        if !child.is_leaf() {
            out.push(std::mem::replace(
                child,
                Expr::NumberLiteral(NumberLiteral { val: 0.0, pos: PosRange::default() }),
            ));
        }
    }
}

fn write_modifiers(
    f: &mut fmt::Formatter<'_>,
    timestamp: Option<i64>,
    at: Option<AtModifier>,
    offset: i64,
) -> fmt::Result {
    match (timestamp, at) {
        (Some(ts), _) => write!(f, " @ {:.3}", ts as f64 / 1000.0)?,
        (None, Some(AtModifier::Start)) => f.write_str(" @ start()")?,
        (None, Some(AtModifier::End)) => f.write_str(" @ end()")?,
        (None, None) => {}
    }
    if offset > 0 {
        write!(f, " offset {}", format_duration(offset))?;
    } else if offset < 0 {
        write!(f, " offset -{}", format_duration(-offset))?;
    }
    Ok(())
}

impl VectorSelector {
    fn write_selector(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut matchers: Vec<String> = self
            .matchers
            .iter()
            .filter(|m| !(m.name == METRIC_NAME && m.op == MatchOp::Equal && m.value == self.name))
            .map(|m| m.to_string())
            .collect();
        f.write_str(&self.name)?;
        if !matchers.is_empty() {
            matchers.sort();
            write!(f, "{{{}}}", matchers.join(","))?;
        }
        Ok(())
    }
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::stack::guarded(|| self.write_to(f))
    }
}

impl Expr {
    fn write_to(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Aggregate(a) => {
                write!(f, "{}", a.op)?;
                if a.without {
                    write!(f, " without ({}) ", a.grouping.join(", "))?;
                } else if !a.grouping.is_empty() {
                    write!(f, " by ({}) ", a.grouping.join(", "))?;
                }
                f.write_str("(")?;
                if let Some(p) = &a.param {
                    write!(f, "{p}, ")?;
                }
                write!(f, "{})", a.expr)
            }
            Expr::Binary(b) => {
                write!(f, "{} {}", b.lhs, b.op)?;
                if b.return_bool {
                    f.write_str(" bool")?;
                }
                if let Some(m) = &b.matching {
                    if !m.matching_labels.is_empty() || m.on {
                        write!(f, " {} ({})", if m.on { "on" } else { "ignoring" }, m.matching_labels.join(", "))?;
                        match m.card {
                            Cardinality::ManyToOne => write!(f, " group_left ({})", m.include.join(", "))?,
                            Cardinality::OneToMany => write!(f, " group_right ({})", m.include.join(", "))?,
                            _ => {}
                        }
                    }
                }
                write!(f, " {}", b.rhs)
            }
            Expr::Call(c) => write!(f, "{}({})", c.func.name, join(&c.args)),
            Expr::MatrixSelector(m) => {
                m.vs.write_selector(f)?;
                write!(f, "[{}]", format_duration(m.range))?;
                write_modifiers(f, m.vs.timestamp, m.vs.at, m.vs.original_offset)
            }
            Expr::Subquery(s) => {
                let step = if s.step != 0 { format_duration(s.step) } else { String::new() };
                write!(f, "{}[{}:{}]", s.expr, format_duration(s.range), step)?;
                write_modifiers(f, s.timestamp, s.at, s.original_offset)
            }
            Expr::NumberLiteral(n) => f.write_str(&format_go_float(n.val)),
            Expr::StringLiteral(s) => f.write_str(&go_quote(&s.val)),
            Expr::Paren(p) => write!(f, "({})", p.expr),
            Expr::Unary(u) => write!(f, "{}{}", u.op, u.expr),
            Expr::VectorSelector(v) => {
                v.write_selector(f)?;
                write_modifiers(f, v.timestamp, v.at, v.original_offset)
            }
            Expr::StepInvariant(e) => write!(f, "{e}"),
        }
    }
}
