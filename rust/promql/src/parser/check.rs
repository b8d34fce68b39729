//! Type checking after parsing, with the messages of Prometheus 2.42's
//! `checkAST`. It also settles the vector matching of binary expressions: set
//! operators match many-to-many, and matching is dropped unless both sides are
//! instant vectors.

use super::ast::*;
use super::lex::{is_space, ItemType};
use thanos_core::labels::METRIC_NAME;

type CheckResult<T> = Result<T, (PosRange, String)>;

pub fn check_ast(expr: &mut Expr, input: &str) -> CheckResult<ValueType> {
    crate::stack::guarded(|| {
        // A node's position spans its subtree, so it is found only for an error.
        check_node(expr, input).map_err(|(pos, msg)| (pos.unwrap_or_else(|| expr.pos()), msg))
    })
}

/// An error at a given position, or (`None`) at the whole node's.
type NodeResult<T> = Result<T, (Option<PosRange>, String)>;

fn at(e: (PosRange, String)) -> (Option<PosRange>, String) {
    (Some(e.0), e.1)
}

fn check_node(expr: &mut Expr, input: &str) -> NodeResult<ValueType> {
    let err = |msg: String| Err((None, msg));
    let typ = expr.value_type_of_node();
    match expr {
        Expr::Aggregate(a) => {
            expect_type(&mut a.expr, ValueType::Vector, "aggregation expression", input).map_err(at)?;
            match a.op {
                ItemType::Topk | ItemType::Bottomk | ItemType::Quantile => {
                    expect_type(a.param.as_mut().unwrap(), ValueType::Scalar, "aggregation parameter", input)
                        .map_err(at)?
                }
                ItemType::CountValues => {
                    expect_type(a.param.as_mut().unwrap(), ValueType::String, "aggregation parameter", input)
                        .map_err(at)?
                }
                _ => {}
            }
        }
        Expr::Binary(b) => {
            let lt = check_ast(&mut b.lhs, input).map_err(at)?;
            let rt = check_ast(&mut b.rhs, input).map_err(at)?;
            b.operand_types = (lt, rt);
            // The operator's span: from after the left operand to before the right.
            let op_range = || {
                let bytes = input.as_bytes();
                let mut start = b.lhs.pos().end;
                while start < bytes.len() && is_space(bytes[start] as char) {
                    start += 1;
                }
                PosRange { start, end: start }
            };
            if b.return_bool && !b.op.is_comparison_operator() {
                return Err((Some(op_range()), "bool modifier can only be used on comparison operators".into()));
            }
            if b.op.is_comparison_operator() && !b.return_bool && lt == ValueType::Scalar && rt == ValueType::Scalar {
                return Err((Some(op_range()), "comparisons between scalars must use BOOL modifier".into()));
            }
            let m = b.matching.as_mut().unwrap();
            if b.op.is_set_operator() && m.card == Cardinality::OneToOne {
                m.card = Cardinality::ManyToMany;
            }
            if m.on {
                if let Some(l) = m.matching_labels.iter().find(|l| m.include.contains(l)) {
                    return Err((
                        Some(op_range()),
                        format!("label {} must not occur in ON and GROUP clause at once", super::lex::go_quote(l)),
                    ));
                }
            }
            for (t, side) in [(lt, &b.lhs), (rt, &b.rhs)] {
                if t != ValueType::Scalar && t != ValueType::Vector {
                    return Err((
                        Some(side.pos()),
                        "binary expression must contain only scalar and instant vector types".into(),
                    ));
                }
            }
            if lt != ValueType::Vector || rt != ValueType::Vector {
                if !m.matching_labels.is_empty() {
                    return err("vector matching only allowed between instant vectors".into());
                }
                b.matching = None;
            } else if b.op.is_set_operator() {
                if matches!(m.card, Cardinality::OneToMany | Cardinality::ManyToOne) {
                    return err(format!("no grouping allowed for \"{}\" operation", b.op));
                }
                if m.card != Cardinality::ManyToMany {
                    return err("set operations must always be many-to-many".into());
                }
            }
            if (lt == ValueType::Scalar || rt == ValueType::Scalar) && b.op.is_set_operator() {
                return err(format!("set operator \"{}\" not allowed in binary scalar expression", b.op));
            }
            return Ok(if lt == ValueType::Scalar && rt == ValueType::Scalar {
                ValueType::Scalar
            } else {
                ValueType::Vector
            });
        }
        Expr::Call(c) => {
            let name = c.func.name;
            let nargs = c.func.arg_types.len();
            if c.func.variadic == 0 {
                if nargs != c.args.len() {
                    return err(format!("expected {nargs} argument(s) in call to \"{name}\", got {}", c.args.len()));
                }
            } else {
                let required = nargs - 1;
                if required > c.args.len() {
                    return err(format!(
                        "expected at least {required} argument(s) in call to \"{name}\", got {}",
                        c.args.len()
                    ));
                }
                let most = required as i64 + c.func.variadic as i64;
                if c.func.variadic > 0 && most < c.args.len() as i64 {
                    return err(format!(
                        "expected at most {most} argument(s) in call to \"{name}\", got {}",
                        c.args.len()
                    ));
                }
            }
            for (i, arg) in c.args.iter_mut().enumerate() {
                let t = c.func.arg_types[i.min(nargs - 1)];
                expect_type(arg, t, &format!("call to function \"{name}\""), input).map_err(at)?;
            }
        }
        Expr::Paren(p) => return check_ast(&mut p.expr, input).map_err(at),
        Expr::Unary(u) => {
            let t = check_ast(&mut u.expr, input).map_err(at)?;
            if t != ValueType::Scalar && t != ValueType::Vector {
                return err(format!(
                    "unary expression only allowed on expressions of type scalar or instant vector, got \"{}\"",
                    t.documented()
                ));
            }
            return Ok(t);
        }
        Expr::Subquery(s) => {
            let t = check_ast(&mut s.expr, input).map_err(at)?;
            if t != ValueType::Vector {
                return err(format!("subquery is only allowed on instant vector, got {} instead", t.name()));
            }
        }
        Expr::MatrixSelector(m) => check_vector_selector(&m.vs).map_err(at)?,
        Expr::VectorSelector(vs) => check_vector_selector(vs).map_err(at)?,
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::StepInvariant(_) => {}
    }
    Ok(typ)
}

fn expect_type(expr: &mut Expr, want: ValueType, context: &str, input: &str) -> CheckResult<()> {
    let t = check_ast(expr, input)?;
    if t != want {
        return Err((expr.pos(), format!("expected type {} in {context}, got {}", want.documented(), t.documented())));
    }
    Ok(())
}

fn check_vector_selector(vs: &VectorSelector) -> CheckResult<()> {
    if !vs.name.is_empty() {
        // The name's own matcher is the last one.
        if let Some(m) = vs.matchers[..vs.matchers.len() - 1].iter().find(|m| m.name == METRIC_NAME) {
            return Err((
                vs.pos,
                format!(
                    "metric name must not be set twice: {} or {}",
                    super::lex::go_quote(&vs.name),
                    super::lex::go_quote(&m.value)
                ),
            ));
        }
        return Ok(());
    }
    if vs.matchers.iter().all(|m| m.matches_empty()) {
        return Err((vs.pos, "vector selector must contain at least one non-empty matcher".into()));
    }
    Ok(())
}
