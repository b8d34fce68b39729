//! Random PromQL that mostly parses: a generator that follows the types of
//! the grammar (instant vector, range vector, scalar, string), so inputs get
//! past the parser into the checks and the evaluator, with the odd literal,
//! duration, modifier and label at the edges of what is allowed.

use crate::rng::Rng;

/// Metrics of the evaluator's dataset (see `promql_eval.rs`), and one that
/// is not there.
const METRICS: &[&str] = &["up", "http_requests_total", "temperature", "req_duration_seconds_bucket", "missing"];
const LABELS: &[&str] = &["job", "instance", "code", "le", "__name__", "nope"];
const LABEL_VALUES: &[&str] = &["api", "db", "0", "1", "500", "0.1", "+Inf", "", "a.*", ".+"];
const DURATIONS: &[&str] =
    &["1ms", "15s", "1m", "5m", "30m", "1h", "1h30m", "1d", "0s", "1w", "1y", "200y", "999999999999ms"];
const NUMBERS: &[&str] = &[
    "0", "1", "-1", "0.5", "2", "10", "1e308", "-1e308", "1e-320", "NaN", "Inf", "-Inf", "0x1F", "0.99", "1.5", "100",
];

const VECTOR_FUNCS: &[&str] = &[
    "abs",
    "ceil",
    "floor",
    "exp",
    "sqrt",
    "ln",
    "log2",
    "log10",
    "sgn",
    "deg",
    "rad",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "sort",
    "sort_desc",
    "timestamp",
    "absent",
    "histogram_count",
    "histogram_sum",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "hour",
    "minute",
    "month",
    "year",
];
const RANGE_FUNCS: &[&str] = &[
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "changes",
    "resets",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "last_over_time",
    "present_over_time",
    "stddev_over_time",
    "stdvar_over_time",
    "absent_over_time",
];
const AGGREGATIONS: &[&str] = &["sum", "avg", "min", "max", "count", "group", "stddev", "stdvar"];
const ARITHMETIC: &[&str] = &["+", "-", "*", "/", "%", "^", "atan2"];
const COMPARISONS: &[&str] = &["==", "!=", ">", "<", ">=", "<="];
const SET_OPS: &[&str] = &["and", "or", "unless"];

/// Nesting beyond this always picks a leaf: deep trees are the parser's and
/// the stack guard's business, tested apart (`rust/promql/tests/deep.rs`).
const MAX_DEPTH: usize = 5;

pub fn query(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => scalar(rng, 0),
        1 => matrix(rng, 0),
        2 => format!("\"{}\"", rng.pick(LABEL_VALUES)),
        _ => vector(rng, 0),
    }
}

fn duration(rng: &mut Rng) -> &'static str {
    rng.pick::<&str>(DURATIONS)
}

fn labels_list(rng: &mut Rng) -> String {
    let n = rng.small(3);
    (0..n).map(|_| *rng.pick(LABELS)).collect::<Vec<_>>().join(", ")
}

fn selector(rng: &mut Rng) -> String {
    let name = if rng.one_in(8) { String::new() } else { rng.pick(METRICS).to_string() };
    let n = if name.is_empty() { 1 + rng.small(2) } else { rng.small(3) };
    let matchers: Vec<String> = (0..n)
        .map(|_| {
            let op = *rng.pick(&["=", "!=", "=~", "!~"]);
            format!("{}{op}\"{}\"", rng.pick(LABELS), rng.pick(LABEL_VALUES))
        })
        .collect();
    let mut s = if matchers.is_empty() { name } else { format!("{name}{{{}}}", matchers.join(", ")) };
    modifiers(rng, &mut s);
    s
}

/// `offset` and `@`, in either order, sometimes.
fn modifiers(rng: &mut Rng, s: &mut String) {
    if rng.one_in(6) {
        let sign = if rng.one_in(3) { "-" } else { "" };
        s.push_str(&format!(" offset {sign}{}", duration(rng)));
    }
    if rng.one_in(8) {
        let at = *rng.pick(&["start()", "end()", "0", "900", "-1", "1e10", "1.5", "1800"]);
        s.push_str(&format!(" @ {at}"));
    }
}

fn vector(rng: &mut Rng, depth: usize) -> String {
    if depth >= MAX_DEPTH {
        return selector(rng);
    }
    let d = depth + 1;
    match rng.below(14) {
        0..=2 => selector(rng),
        3 => format!("{}({})", rng.pick(VECTOR_FUNCS), vector(rng, d)),
        4 => format!("{}({})", rng.pick(RANGE_FUNCS), matrix(rng, d)),
        5 => {
            let grouping = match rng.below(3) {
                0 => String::new(),
                1 => format!(" by ({})", labels_list(rng)),
                _ => format!(" without ({})", labels_list(rng)),
            };
            match rng.below(6) {
                0 => format!("topk{grouping}({}, {})", scalar(rng, d), vector(rng, d)),
                1 => format!("bottomk({}, {}){grouping}", scalar(rng, d), vector(rng, d)),
                2 => format!("quantile{grouping}({}, {})", scalar(rng, d), vector(rng, d)),
                3 => format!("count_values{grouping}(\"{}\", {})", rng.pick(LABELS), vector(rng, d)),
                _ => format!("{}{grouping}({})", rng.pick(AGGREGATIONS), vector(rng, d)),
            }
        }
        6 | 7 => {
            let (op, bool_ok) = match rng.below(3) {
                0 => (*rng.pick(ARITHMETIC), false),
                1 => (*rng.pick(COMPARISONS), true),
                _ => (*rng.pick(SET_OPS), false),
            };
            let mut m = String::new();
            if bool_ok && rng.one_in(3) {
                m.push_str(" bool");
            }
            if rng.one_in(3) {
                let on = if rng.one_in(2) { "on" } else { "ignoring" };
                m.push_str(&format!(" {on}({})", labels_list(rng)));
                if rng.one_in(2) {
                    let side = if rng.one_in(2) { "group_left" } else { "group_right" };
                    m.push_str(&format!(" {side}({})", labels_list(rng)));
                }
            }
            let rhs = if rng.one_in(3) { scalar(rng, d) } else { vector(rng, d) };
            format!("{} {op}{m} {rhs}", vector(rng, d))
        }
        8 => format!("({})", vector(rng, d)),
        9 => format!("-{}", vector(rng, d)),
        10 => match rng.below(6) {
            0 => format!("clamp({}, {}, {})", vector(rng, d), scalar(rng, d), scalar(rng, d)),
            1 => format!("{}({}, {})", rng.pick(&["clamp_min", "clamp_max", "round"]), vector(rng, d), scalar(rng, d)),
            2 => format!("histogram_quantile({}, {})", scalar(rng, d), vector(rng, d)),
            3 => format!(
                "label_replace({}, \"{}\", \"$1\", \"{}\", \"{}\")",
                vector(rng, d),
                rng.pick(LABELS),
                rng.pick(LABELS),
                rng.pick(LABEL_VALUES)
            ),
            4 => format!(
                "label_join({}, \"{}\", \",\", \"{}\", \"{}\")",
                vector(rng, d),
                rng.pick(LABELS),
                rng.pick(LABELS),
                rng.pick(LABELS)
            ),
            _ => format!("histogram_fraction({}, {}, {})", scalar(rng, d), scalar(rng, d), vector(rng, d)),
        },
        11 => match rng.below(3) {
            0 => format!("quantile_over_time({}, {})", scalar(rng, d), matrix(rng, d)),
            1 => format!("predict_linear({}, {})", matrix(rng, d), scalar(rng, d)),
            _ => format!("holt_winters({}, {}, {})", matrix(rng, d), scalar(rng, d), scalar(rng, d)),
        },
        12 => format!("vector({})", scalar(rng, d)),
        _ => {
            let mut s = format!("({})", vector(rng, d));
            modifiers(rng, &mut s);
            s
        }
    }
}

fn matrix(rng: &mut Rng, depth: usize) -> String {
    if depth < MAX_DEPTH && rng.one_in(3) {
        // A subquery, with or without its step.
        let step = if rng.one_in(3) { String::new() } else { duration(rng).to_string() };
        let mut s = format!("{}[{}:{step}]", vector(rng, depth + 1), duration(rng));
        modifiers(rng, &mut s);
        return s;
    }
    let name = rng.pick(METRICS);
    let mut s = format!("{name}[{}]", duration(rng));
    modifiers(rng, &mut s);
    s
}

fn scalar(rng: &mut Rng, depth: usize) -> String {
    if depth >= MAX_DEPTH {
        return rng.pick(NUMBERS).to_string();
    }
    let d = depth + 1;
    match rng.below(8) {
        0..=3 => rng.pick(NUMBERS).to_string(),
        4 => format!("scalar({})", vector(rng, d)),
        5 => rng.pick(&["time()", "pi()"]).to_string(),
        6 => format!("({} {} {})", scalar(rng, d), rng.pick(ARITHMETIC), scalar(rng, d)),
        _ => format!("-({})", scalar(rng, d)),
    }
}

/// Tokens for the byte mutator to insert.
pub const DICTIONARY: &[&[u8]] = &[
    b"rate(",
    b"sum by (job) (",
    b"without (",
    b"[5m]",
    b"[1h:1m]",
    b"[1y:]",
    b" offset 5m",
    b" offset -1h",
    b" @ 100",
    b" @ start()",
    b" @ end()",
    b" and ",
    b" or ",
    b" unless ",
    b" on(job) ",
    b" ignoring(code) ",
    b" group_left ",
    b" group_right(instance) ",
    b" bool ",
    b"==",
    b"!=",
    b"=~",
    b"!~",
    b"{",
    b"}",
    b"(",
    b")",
    b"[",
    b"]",
    b":",
    b",",
    b"\"",
    b"'",
    b"`",
    b"1e308",
    b"NaN",
    b"Inf",
    b"0x",
    b"-",
    b"^",
    b"%",
    b" atan2 ",
    b"topk(",
    b"count_values(\"x\", ",
    b"histogram_quantile(0.9, ",
    b"label_replace(",
    b"1y",
    b"1ms",
    b"#",
    b"\n",
    b"\\",
    b"@",
    b"__name__",
    b"up",
    b"http_requests_total",
    b"le=\"+Inf\"",
    b"\\u00e9",
    b"\\x",
    b"9223372036854775807",
    b".5e-3",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_generated_queries_parse() {
        let mut rng = Rng::new(1);
        let n = 2000;
        let ok = (0..n).filter(|_| thanos_promql::parser::parse_expr(&query(&mut rng)).is_ok()).count();
        assert!(ok * 2 > n, "only {ok} of {n} parse");
    }
}
