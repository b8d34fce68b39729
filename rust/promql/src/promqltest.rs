//! A runner for Prometheus 2.42's PromQL test scripts (`load`, `eval`,
//! `eval_ordered`, `eval_fail`, `clear`; see `tests/testdata/promql/FORMAT.md`),
//! executing them as Prometheus's own `promql/test.go` does: each `eval` is
//! also run with every selector pinned by `@` at several other times, and each
//! query is also run as a three-step range query whose middle step must agree.

use std::collections::HashMap;

use thanos_core::labels::{Labels, METRIC_NAME};

use crate::engine::value::{QueryValue, STALE_NAN_BITS};
use crate::engine::{Engine, EngineOpts};
use crate::parser::ast::Expr;
use crate::parser::duration::parse_duration;
use crate::parser::functions::is_at_modifier_unsafe;
use crate::parser::lex::{lex_series_desc, ItemType};
use crate::parser::literals::{parse_number, unquote};
use crate::parser::parse_expr;

/// What happened to one `eval` command.
#[derive(Clone, Debug)]
pub struct EvalResult {
    pub line: usize,
    pub expr: String,
    /// `None` when every query of the command behaved as expected.
    pub failure: Option<String>,
}

/// The outcome of a script: each `eval`, or the error that stopped the script
/// from being read.
#[derive(Clone, Debug, Default)]
pub struct ScriptReport {
    pub evals: Vec<EvalResult>,
    pub error: Option<String>,
}

impl ScriptReport {
    pub fn passed(&self) -> usize {
        self.evals.iter().filter(|e| e.failure.is_none()).count()
    }

    pub fn failed(&self) -> usize {
        self.evals.len() - self.passed() + usize::from(self.error.is_some())
    }
}

#[derive(Clone, Debug)]
enum Expected {
    Scalar(f64),
    /// label set -> (value, 1-based line position)
    Vector(HashMap<Labels, (f64, usize)>),
}

#[derive(Clone, Debug)]
enum Command {
    Clear,
    Load(Vec<(Labels, Vec<Option<f64>>)>, i64),
    Eval { line: usize, expr: String, at: i64, kind: EvalKind, expected: Expected },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum EvalKind {
    Plain,
    Ordered,
    Fail,
}

/// Runs a whole script. The script is read completely first: a syntax error
/// anywhere means nothing runs, as in Prometheus.
pub fn run_script(text: &str) -> ScriptReport {
    let commands = match parse_script(text) {
        Ok(c) => c,
        Err(e) => return ScriptReport { evals: vec![], error: Some(e) },
    };
    // The runner's engine settings (FORMAT.md §5): 10,000 samples, 100 s.
    let opts =
        EngineOpts { max_samples: 10_000, timeout: Some(std::time::Duration::from_secs(100)), ..EngineOpts::default() };
    let mut engine = Engine::new(opts);
    let mut report = ScriptReport::default();
    for cmd in commands {
        match cmd {
            Command::Clear => engine.storage.clear(),
            Command::Load(series, step) => {
                for (labels, values) in series {
                    let (mut ts, mut vs) = (Vec::new(), Vec::new());
                    for (i, v) in values.iter().enumerate() {
                        if let Some(v) = v {
                            ts.push(i as i64 * step);
                            vs.push(*v);
                        }
                    }
                    if let Err(e) = engine.append(labels, &ts, &vs) {
                        report.error = Some(e.to_string());
                        return report;
                    }
                }
            }
            Command::Eval { line, expr, at, kind, expected } => {
                let failure = run_eval(&engine, &expr, at, kind, &expected).err();
                report.evals.push(EvalResult { line, expr, failure });
            }
        }
    }
    report
}

fn parse_script(text: &str) -> Result<Vec<Command>, String> {
    let lines: Vec<&str> = text.split('\n').map(str::trim).collect();
    let blank = |l: &str| l.is_empty() || l.starts_with('#');
    let mut commands = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if blank(line) {
            i += 1;
            continue;
        }
        let word = line.split_whitespace().next().unwrap_or("").to_lowercase();
        let lineno = i + 1;
        // The block: following lines up to the first blank (or comment) line.
        let mut end = i + 1;
        while end < lines.len() && !blank(lines[end]) {
            end += 1;
        }
        let block = &lines[i + 1..end];
        if word == "clear" {
            commands.push(Command::Clear);
            i += 1;
        } else if word == "load" {
            let step_text = line["load".len()..].trim();
            let step =
                parse_duration(step_text).map_err(|e| format!("line {lineno}: invalid step in {line:?}: {e}"))?;
            let mut series: Vec<(Labels, Vec<Option<f64>>)> = Vec::new();
            for (k, l) in block.iter().enumerate() {
                let (labels, values) = parse_series(l).map_err(|e| format!("line {}: {e}", lineno + 1 + k))?;
                // The last definition of a series in a block wins.
                series.retain(|(other, _)| other != &labels);
                series.push((labels, values));
            }
            commands.push(Command::Load(series, step));
            i = end;
        } else if word.starts_with("eval") {
            let (kind, at, expr) = parse_eval_header(line)
                .ok_or_else(|| format!("line {lineno}: invalid evaluation command: {line:?}"))?;
            parse_expr(&expr).map_err(|e| format!("line {lineno}: {e}"))?;
            let expected = parse_expected(block, lineno)?;
            commands.push(Command::Eval { line: lineno, expr, at, kind, expected });
            i = end;
        } else {
            return Err(format!("line {lineno}: invalid command {line:?}"));
        }
    }
    Ok(commands)
}

/// `eval[_fail|_ordered] instant at <time> <expr>`.
fn parse_eval_header(line: &str) -> Option<(EvalKind, i64, String)> {
    let (word, rest) = line.split_once(char::is_whitespace)?;
    let kind = match word {
        "eval" => EvalKind::Plain,
        "eval_ordered" => EvalKind::Ordered,
        "eval_fail" => EvalKind::Fail,
        _ => return None,
    };
    let rest = rest.trim_start().strip_prefix("instant")?.trim_start().strip_prefix("at")?.trim_start();
    let (time, expr) = rest.split_once(char::is_whitespace)?;
    Some((kind, parse_duration(time).ok()?, expr.trim().to_string()))
}

fn parse_expected(block: &[&str], header_line: usize) -> Result<Expected, String> {
    if let [only] = block {
        if let Ok(v) = parse_number(only) {
            return Ok(Expected::Scalar(v));
        }
    }
    let mut samples = HashMap::new();
    for (k, l) in block.iter().enumerate() {
        let (labels, values) = parse_series(l).map_err(|e| format!("line {}: {e}", header_line + 1 + k))?;
        match values.as_slice() {
            [Some(v)] => {
                samples.insert(labels, (*v, k + 1));
            }
            _ => return Err(format!("line {}: expected exactly one value in {l:?}", header_line + 1 + k)),
        }
    }
    Ok(Expected::Vector(samples))
}

/// A series line: `metric{label="value"} 1 2+3x4 _ stale`.
fn parse_series(line: &str) -> Result<(Labels, Vec<Option<f64>>), String> {
    let items: Vec<_> = lex_series_desc(line).into_iter().filter(|i| i.typ != ItemType::Comment).collect();
    let mut pos = 0;
    let mut labels = Labels::new().builder();
    let bad = |what: &str| format!("invalid series line {line:?}: {what}");
    if items[pos].typ != ItemType::LeftBrace {
        if items[pos].typ == ItemType::Error {
            return Err(bad(&items[pos].val));
        }
        labels.set(METRIC_NAME, items[pos].val.clone());
        pos += 1;
    }
    if items[pos].typ == ItemType::LeftBrace {
        pos += 1;
        while items[pos].typ != ItemType::RightBrace {
            match (&items[pos].typ, items.get(pos + 1).map(|i| i.typ), items.get(pos + 2)) {
                (ItemType::Identifier, Some(ItemType::Eql), Some(v)) if v.typ == ItemType::String => {
                    labels.set(items[pos].val.clone(), unquote(&v.val).map_err(|e| bad(&e))?);
                    pos += 3;
                }
                _ => return Err(bad("label set")),
            }
            if items[pos].typ == ItemType::Comma {
                pos += 1;
            }
        }
        pos += 1;
    }
    let mut values = Vec::new();
    let tokens: Vec<_> = items[pos..].iter().filter(|i| i.typ != ItemType::Eof).collect();
    for item in tokens.split(|i| i.typ == ItemType::Space).filter(|g| !g.is_empty()) {
        values.extend(parse_sequence_item(item).ok_or_else(|| bad("values"))?);
    }
    Ok((labels.build(), values))
}

/// One item of a value sequence: `v`, `_`, `_xN`, `vxN`, `a+bxN`, `a-bxN`,
/// `stale`.
fn parse_sequence_item(item: &[&crate::parser::lex::Item]) -> Option<Vec<Option<f64>>> {
    use ItemType::*;
    let mut i = 0;
    let signed = |i: &mut usize| -> Option<f64> {
        let sign = match item.get(*i)?.typ {
            Sub => {
                *i += 1;
                -1.0
            }
            Add => {
                *i += 1;
                1.0
            }
            _ => 1.0,
        };
        let t = item.get(*i)?;
        if t.typ != Number {
            return None;
        }
        *i += 1;
        Some(sign * parse_number(&t.val).ok()?)
    };
    let repeat = |i: usize| -> Option<u64> {
        match item.get(i..)? {
            [x, n] if x.typ == Times && n.typ == Number => n.val.parse().ok(),
            _ => None,
        }
    };
    if item[0].typ == Blank {
        return match item.len() {
            1 => Some(vec![None]),
            _ => Some(vec![None; repeat(1)? as usize]),
        };
    }
    let start = if item[0].typ == Identifier && item[0].val == "stale" {
        i = 1;
        f64::from_bits(STALE_NAN_BITS)
    } else {
        signed(&mut i)?
    };
    if i == item.len() {
        return Some(vec![Some(start)]);
    }
    if let Some(n) = repeat(i) {
        return Some(vec![Some(start); n as usize + 1]);
    }
    // a+bxN: N+1 values by repeated addition.
    let increment = signed(&mut i)?;
    let n = repeat(i)?;
    let mut v = start;
    let mut out = Vec::with_capacity(n as usize + 1);
    for _ in 0..=n {
        out.push(Some(v));
        v += increment;
    }
    Some(out)
}

/// Gives every selector and subquery without `@` the time `at`, not going below
/// a subquery that has one; `None` when a function depends on the evaluation
/// time, so pinning would change the result.
fn pin_at(expr: &mut Expr, at: i64) -> Option<()> {
    match expr {
        Expr::VectorSelector(vs) => {
            vs.timestamp.get_or_insert(at);
        }
        Expr::MatrixSelector(ms) => {
            ms.vs.timestamp.get_or_insert(at);
        }
        Expr::Subquery(sq) => {
            sq.timestamp.get_or_insert(at);
            return Some(());
        }
        Expr::Call(c) if is_at_modifier_unsafe(c.func.name) => return None,
        _ => {}
    }
    for child in expr.children_mut() {
        pin_at(child, at)?;
    }
    Some(())
}

fn run_eval(engine: &Engine, expr: &str, at: i64, kind: EvalKind, expected: &Expected) -> Result<(), String> {
    let mut cases = vec![(expr.to_string(), at)];
    let mut pinned = parse_expr(expr).map_err(|e| e.to_string())?;
    if pin_at(&mut pinned, at).is_some() {
        // Printed and parsed again, as Prometheus's runner does: this also
        // checks that the printer writes what the parser reads.
        let text = pinned.to_string();
        parse_expr(&text).map_err(|e| format!("the pinned expression {text:?} does not parse: {e}"))?;
        let times = if at == 0 { vec![-1000, 0, 1000] } else { vec![-10 * at, 0, at / 5, at, 10 * at] };
        cases.extend(times.into_iter().map(|t| (text.clone(), t)));
    }
    for (q, t) in cases {
        let instant = engine.query(&q, t);
        if kind == EvalKind::Fail {
            match instant {
                Err(_) => continue,
                Ok(_) => return Err(format!("expected an error evaluating {q:?} at {t} ms but got none")),
            }
        }
        let result = instant.map_err(|e| format!("error evaluating {q:?} at {t} ms: {e}"))?;
        compare(&result, expected, kind == EvalKind::Ordered).map_err(|e| format!("{q:?} at {t} ms: {e}"))?;
        let range = engine
            .query_range(&q, t - 60_000, t + 60_000, 60_000)
            .map_err(|e| format!("error evaluating {q:?} at {t} ms in range mode: {e}"))?;
        if kind == EvalKind::Ordered {
            continue;
        }
        let QueryValue::Matrix(matrix) = range else {
            return Err(format!("range query {q:?} gave no matrix"));
        };
        let mut vector = Vec::new();
        for s in &matrix {
            if let Some(p) = s.points.iter().find(|p| p.t == t) {
                vector.push(crate::engine::value::Sample { labels: s.labels.clone(), t, v: p.v });
            }
        }
        let as_instant = match result {
            QueryValue::Scalar { .. } => match vector.first() {
                Some(s) => QueryValue::Scalar { t, v: s.v },
                None => return Err(format!("range query {q:?} has no point at {t} ms")),
            },
            _ => QueryValue::Vector(vector),
        };
        compare(&as_instant, expected, false).map_err(|e| format!("{q:?} at {t} ms in range mode: {e}"))?;
    }
    Ok(())
}

/// Prometheus's `almostEqual` (v2.42): NaN equals NaN, near zero it is exact,
/// elsewhere a relative difference below 1e-6.
pub fn almost_equal(a: f64, b: f64) -> bool {
    const EPSILON: f64 = 1e-6;
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || diff < MIN_NORMAL {
        return diff < EPSILON * MIN_NORMAL;
    }
    diff / (a.abs() + b.abs()) < EPSILON
}

fn compare(result: &QueryValue, expected: &Expected, ordered: bool) -> Result<(), String> {
    match (result, expected) {
        (QueryValue::Scalar { v, .. }, Expected::Scalar(want)) => {
            if !almost_equal(*want, *v) {
                return Err(format!("expected scalar {want} but got {v}"));
            }
        }
        (QueryValue::Vector(samples), Expected::Vector(want)) => {
            let mut seen = std::collections::HashSet::new();
            for (pos, s) in samples.iter().enumerate() {
                let Some(&(v, at)) = want.get(&s.labels) else {
                    return Err(format!("unexpected metric {} in result", s.labels));
                };
                if ordered && at != pos + 1 {
                    return Err(format!("expected metric {} at position {at} but was at {}", s.labels, pos + 1));
                }
                if !almost_equal(v, s.v) {
                    return Err(format!("expected {v} for {} but got {}", s.labels, s.v));
                }
                seen.insert(s.labels.as_ref());
            }
            if let Some((labels, (v, _))) = want.iter().find(|(l, _)| !seen.contains(*l)) {
                return Err(format!("expected metric {labels} with {v} not found"));
            }
        }
        (QueryValue::Matrix(_), _) => return Err("received range result on instant evaluation".into()),
        (got, _) => return Err(format!("expected {expected:?} but got a {} result", got.result_type())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences() {
        let (labels, values) = parse_series(r#"m{a="b"} 1+2x2 _x2 stale -1-1x1 _ 0x2"#).unwrap();
        assert_eq!(labels.to_string(), r#"{__name__="m", a="b"}"#);
        let vs: Vec<Option<f64>> = values;
        assert_eq!(vs[..5], [Some(1.0), Some(3.0), Some(5.0), None, None]);
        assert_eq!(vs[5].unwrap().to_bits(), STALE_NAN_BITS);
        assert_eq!(vs[6..], [Some(-1.0), Some(-2.0), None, Some(0.0), Some(0.0), Some(0.0)]);
    }

    #[test]
    fn almost_equal_is_prometheus_rule() {
        assert!(almost_equal(f64::NAN, f64::from_bits(STALE_NAN_BITS)));
        assert!(almost_equal(3.249615, 3.2496150000001));
        assert!(!almost_equal(0.0, 1e-300));
        assert!(!almost_equal(f64::INFINITY, 1e308));
    }

    #[test]
    fn a_small_script() {
        let script = "load 1m\n  requests_total{job=\"a\"} 0+10x3 _ stale 100\n  requests_total{job=\"b\"} 5x2 -1-1x2\n\n\
            eval instant at 3m requests_total\n  requests_total{job=\"a\"} 30\n  requests_total{job=\"b\"} -1\n\n\
            eval instant at 5m count_over_time(requests_total[5m])\n  {job=\"a\"} 4\n  {job=\"b\"} 6\n\n\
            eval instant at 3m scalar(requests_total{job=\"a\"})\n  30\n\n\
            eval_ordered instant at 3m sort(requests_total)\n  requests_total{job=\"b\"} -1\n  requests_total{job=\"a\"} 30\n\n\
            eval_fail instant at 3m label_replace(requests_total, \"dst\", \"$1\", \"job\", \"(\")\n\n\
            eval instant at 3m requests_total\n  requests_total{job=\"a\"} 31\n";
        let report = run_script(script);
        assert!(report.error.is_none(), "{:?}", report.error);
        assert_eq!(report.evals.len(), 6);
        assert_eq!(report.passed(), 5, "{:#?}", report.evals);
        assert!(report.evals[5].failure.as_ref().unwrap().contains("expected 31"));
    }
}
