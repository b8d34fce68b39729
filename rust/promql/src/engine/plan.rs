//! Preparing a parsed query for evaluation, as Prometheus's engine does before
//! it evaluates: `@ start()`/`@ end()` become timestamps, subtrees that do not
//! depend on the step are marked to be evaluated once (`PreprocessExpr`), and
//! every vector selector gets a select with the time range and hints it needs
//! (`populateSeries`, `getTimeRangesForSelector`).

use thanos_core::labels::Matcher;

use super::storage::SelectHints;
use crate::parser::ast::{AtModifier, Expr, NumberLiteral, PosRange};
use crate::parser::functions::is_at_modifier_unsafe;

/// One select a query needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    pub matchers: Vec<Matcher>,
    pub hints: SelectHints,
}

/// Resolves `@ start()`/`@ end()` and wraps step-invariant subtrees. Returns
/// the prepared expression.
pub fn preprocess(mut expr: Expr, start: i64, end: i64) -> Expr {
    if mark_step_invariant(&mut expr, start, end) {
        Expr::StepInvariant(Box::new(expr))
    } else {
        expr
    }
}

fn resolve_at(at: Option<AtModifier>, timestamp: &mut Option<i64>, start: i64, end: i64) {
    match at {
        Some(AtModifier::Start) => *timestamp = Some(start),
        Some(AtModifier::End) => *timestamp = Some(end),
        None => {}
    }
}

fn wrap(e: &mut Expr) {
    let placeholder = Expr::NumberLiteral(NumberLiteral { val: 0.0, pos: PosRange::default() });
    let inner = std::mem::replace(e, placeholder);
    *e = Expr::StepInvariant(Box::new(inner));
}

/// True when `expr` does not depend on the evaluation step.
fn mark_step_invariant(expr: &mut Expr, start: i64, end: i64) -> bool {
    crate::stack::guarded(|| mark_node(expr, start, end))
}

fn mark_node(expr: &mut Expr, start: i64, end: i64) -> bool {
    match expr {
        Expr::VectorSelector(vs) => {
            resolve_at(vs.at, &mut vs.timestamp, start, end);
            vs.timestamp.is_some()
        }
        Expr::MatrixSelector(ms) => {
            resolve_at(ms.vs.at, &mut ms.vs.timestamp, start, end);
            ms.vs.timestamp.is_some()
        }
        Expr::Aggregate(a) => mark_step_invariant(&mut a.expr, start, end),
        Expr::Binary(b) => {
            let l = mark_step_invariant(&mut b.lhs, start, end);
            let r = mark_step_invariant(&mut b.rhs, start, end);
            if l && r {
                return true;
            }
            if l {
                wrap(&mut b.lhs);
            }
            if r {
                wrap(&mut b.rhs);
            }
            false
        }
        Expr::Call(c) => {
            let invariant: Vec<bool> = c.args.iter_mut().map(|a| mark_step_invariant(a, start, end)).collect();
            if !is_at_modifier_unsafe(c.func.name) && invariant.iter().all(|&i| i) {
                return true;
            }
            for (arg, i) in c.args.iter_mut().zip(invariant) {
                if i {
                    wrap(arg);
                }
            }
            false
        }
        Expr::Subquery(s) => {
            if mark_step_invariant(&mut s.expr, start, end) {
                wrap(&mut s.expr);
            }
            resolve_at(s.at, &mut s.timestamp, start, end);
            s.timestamp.is_some()
        }
        Expr::Paren(p) => mark_step_invariant(&mut p.expr, start, end),
        Expr::Unary(u) => mark_step_invariant(&mut u.expr, start, end),
        Expr::StringLiteral(_) | Expr::NumberLiteral(_) => true,
        Expr::StepInvariant(_) => true,
    }
}

/// Where a selector reads relative to the evaluation steps: the offsets and
/// ranges of the subqueries around it, and an `@` pinning one of them.
#[derive(Clone, Copy, Default)]
struct SubqueryFrame {
    offset: i64,
    range: i64,
    at: Option<i64>,
    /// The step of the innermost subquery (its default when not written).
    step: i64,
}

/// Numbers the vector selectors of `expr` and returns the select each needs.
/// `interval` is the query's step; `default_eval_interval` the step of
/// subqueries written without one.
pub fn plan_selects(
    expr: &mut Expr,
    start: i64,
    end: i64,
    interval: i64,
    lookback: i64,
    default_eval_interval: i64,
) -> Vec<Select> {
    let mut selects = Vec::new();
    let ctx = PlanContext { start, end, interval, lookback, default_eval_interval };
    ctx.visit(expr, SubqueryFrame::default(), 0, &Path::default(), &mut selects);
    selects
}

struct PlanContext {
    start: i64,
    end: i64,
    interval: i64,
    lookback: i64,
    default_eval_interval: i64,
}

/// What the enclosing nodes say about a selector: the nearest function or
/// aggregation, and the grouping when an aggregation is its direct parent
/// (`extractFuncFromPath`, `extractGroupsFromPath`).
#[derive(Clone, Default)]
struct Path {
    func: String,
    by: bool,
    grouping: Vec<String>,
}

impl Path {
    /// The path as seen one node further down: the grouping only applies to
    /// an aggregation's direct children.
    fn below(&self) -> Path {
        Path { func: self.func.clone(), by: false, grouping: Vec::new() }
    }
}

impl PlanContext {
    fn visit(&self, expr: &mut Expr, frame: SubqueryFrame, eval_range: i64, path: &Path, selects: &mut Vec<Select>) {
        crate::stack::guarded(|| self.visit_node(expr, frame, eval_range, path, selects))
    }

    fn visit_node(
        &self,
        expr: &mut Expr,
        frame: SubqueryFrame,
        eval_range: i64,
        path: &Path,
        selects: &mut Vec<Select>,
    ) {
        match expr {
            Expr::VectorSelector(vs) => {
                // Wrapping, as Prometheus's int64 arithmetic in
                // `getTimeRangesForSelector`: `@` and offsets reach the ends of
                // int64, and a wrapped range selects what 2.42 selects.
                let (mut start, mut end) = (self.start, self.end);
                if let Some(at) = frame.at {
                    start = at;
                    end = at;
                }
                if let Some(ts) = vs.timestamp {
                    start = ts;
                    end = ts;
                } else {
                    start = start.wrapping_sub(frame.offset.wrapping_add(frame.range));
                    end = end.wrapping_sub(frame.offset);
                }
                start = start.wrapping_sub(if eval_range == 0 { self.lookback } else { eval_range });
                start = start.wrapping_sub(vs.original_offset);
                end = end.wrapping_sub(vs.original_offset);
                vs.select_id = selects.len();
                selects.push(Select {
                    matchers: vs.matchers.clone(),
                    hints: SelectHints {
                        start,
                        end,
                        step: if frame.step != 0 { frame.step } else { self.interval },
                        range: eval_range,
                        func: path.func.clone(),
                        by: path.by,
                        grouping: path.grouping.clone(),
                    },
                });
            }
            Expr::MatrixSelector(ms) => {
                let mut inner = Expr::VectorSelector(Box::new(ms.vs.clone()));
                self.visit(&mut inner, frame, ms.range, &path.below(), selects);
                if let Expr::VectorSelector(vs) = &inner {
                    ms.vs.select_id = vs.select_id;
                }
            }
            Expr::Subquery(sq) => {
                let mut inner = frame;
                inner.offset = inner.offset.wrapping_add(sq.original_offset);
                inner.range = inner.range.wrapping_add(sq.range);
                if let Some(ts) = sq.timestamp {
                    inner.offset = sq.original_offset;
                    inner.range = sq.range;
                    inner.at = Some(ts);
                }
                inner.step = if sq.step != 0 { sq.step } else { self.default_eval_interval };
                self.visit(&mut sq.expr, inner, 0, &path.below(), selects);
            }
            Expr::Aggregate(a) => {
                let p = Path { func: a.op.to_string(), by: !a.without, grouping: a.grouping.clone() };
                if let Some(param) = &mut a.param {
                    self.visit(param, frame, 0, &p, selects);
                }
                self.visit(&mut a.expr, frame, 0, &p, selects);
            }
            Expr::Call(c) => {
                let p = Path { func: c.func.name.to_string(), ..Default::default() };
                for arg in &mut c.args {
                    self.visit(arg, frame, 0, &p, selects);
                }
            }
            Expr::Binary(b) => {
                let p = Path::default();
                self.visit(&mut b.lhs, frame, 0, &p, selects);
                self.visit(&mut b.rhs, frame, 0, &p, selects);
            }
            other => {
                let p = path.below();
                for child in other.children_mut() {
                    self.visit(child, frame, 0, &p, selects);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_expr;

    fn plan(q: &str, start: i64, end: i64) -> Vec<SelectHints> {
        let mut e = preprocess(parse_expr(q).unwrap(), start, end);
        plan_selects(&mut e, start, end, 10_000, 300_000, 60_000).into_iter().map(|s| s.hints).collect()
    }

    #[test]
    fn ranges_offsets_and_lookback() {
        let h = plan("sum by (job) (rate(a[5m] offset 1m)) / b", 1_000_000, 2_000_000);
        assert_eq!((h[0].start, h[0].end), (1_000_000 - 300_000 - 60_000, 2_000_000 - 60_000));
        assert_eq!((h[0].func.as_str(), h[0].range), ("rate", 300_000));
        assert_eq!((h[1].start, h[1].end, h[1].func.as_str()), (1_000_000 - 300_000, 2_000_000, ""));
        let h = plan("sum by (job) (a)", 0, 0);
        assert_eq!((h[0].func.as_str(), h[0].by, h[0].grouping.clone()), ("sum", true, vec!["job".to_string()]));
    }

    #[test]
    fn subqueries_and_at() {
        let h = plan("max_over_time(rate(a[1m])[10m:1m] offset 5m)", 3_600_000, 3_600_000);
        assert_eq!(h[0].start, 3_600_000 - 300_000 - 600_000 - 60_000);
        assert_eq!((h[0].end, h[0].step), (3_600_000 - 300_000, 60_000));
        let h = plan("a @ 100 + b @ end()", 0, 5_000_000);
        assert_eq!((h[0].start, h[0].end), (100_000 - 300_000, 100_000));
        assert_eq!((h[1].start, h[1].end), (5_000_000 - 300_000, 5_000_000));
    }

    #[test]
    fn step_invariance() {
        let e = preprocess(parse_expr("a @ 100 + b").unwrap(), 0, 10);
        let Expr::Binary(b) = &e else { panic!() };
        assert!(matches!(b.lhs, Expr::StepInvariant(_)));
        assert!(matches!(preprocess(parse_expr("rate(a[1m] @ 100)").unwrap(), 0, 10), Expr::StepInvariant(_)));
        assert!(!matches!(preprocess(parse_expr("timestamp(a @ 100)").unwrap(), 0, 10), Expr::StepInvariant(_)));
    }
}
