"""Random, type-correct PromQL for differential tests, generated from the
grammar of Prometheus 2.42's PromQL over the series of a dataset.

Every expression is built bottom-up with its type (instant vector, range
vector, scalar, string) and, for instant vectors, the label names its series
may carry, so that

- every function of Prometheus 2.42 gets arguments of the types it takes (and
  sensible values: quantiles, smoothing factors, regular expressions, label
  names), with the optional arguments sometimes given and sometimes not;
- every aggregation appears with ``by``, ``without`` (prefix and postfix) and
  without grouping;
- binary operators combine scalars and vectors where the grammar allows it:
  ``bool`` only on comparisons, set operators only between vectors, ``on`` and
  ``ignoring`` with label names both sides have, ``group_left`` and
  ``group_right`` (with extra labels) against a side made unique on the
  matching labels, so most vector matches succeed and some still fail at run
  time as they would in real use;
- selectors carry label matchers of every kind, ``offset`` (positive and
  negative) and ``@`` (a time inside the data, ``start()``, ``end()``) in
  either order; subqueries have a step or not;
- number literals include the special spellings (``Inf``, ``NaN``, hex,
  exponents, a leading zero that Go reads as octal).

Nesting is bounded by a depth. The result is the query text; the generator is
seeded, so a seed always yields the same queries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from support.datasets import Dataset

# Functions by signature (Prometheus 2.42, promql/parser/functions.go).
RANGE_TO_VECTOR = [
    "rate", "irate", "increase", "delta", "idelta", "deriv", "resets", "changes",
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
    "stddev_over_time", "stdvar_over_time", "last_over_time", "present_over_time", "absent_over_time",
]
COUNTER_FUNCTIONS = {"rate", "irate", "increase", "resets"}
MATH = [
    "abs", "ceil", "floor", "sqrt", "exp", "ln", "log2", "log10", "sgn", "deg", "rad",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
]
DATE = ["day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year"]
NATIVE_HISTOGRAM = ["histogram_count", "histogram_sum"]
AGGREGATIONS = ["sum", "avg", "min", "max", "count", "group", "stddev", "stdvar"]
PARAM_AGGREGATIONS = ["topk", "bottomk", "quantile", "count_values"]
ARITHMETIC = ["+", "-", "*", "/", "%", "^", "atan2"]
COMPARISON = ["==", "!=", ">", "<", ">=", "<="]
SET = ["and", "or", "unless"]

NUMBERS = [
    "0", "1", "2", "3", "10", "0.5", "0.25", "-1", "-2.5", "100", "1e3", "1e-3", "2.5e2", "1E2", ".5", "5.",
    "0x1f", "0XA", "010", "Inf", "+Inf", "-Inf", "inf", "NaN", "nan", "1e308", "-0", "0.1", "1700003600",
    "9007199254740993", "1e-320",
]
RANGES = ["1m", "2m", "5m", "10m", "30m", "1h", "90s", "45s", "15s", "10s", "1h30m", "3m20s", "2h"]
SUBQUERY_RANGES = ["5m", "10m", "30m", "1h", "90s", "7m"]
SUBQUERY_STEPS = ["", "15s", "1m", "2m", "45s", "5m", "20s", "1m30s"]
OFFSETS = ["1m", "5m", "-2m", "10m", "1h", "-30s", "17s", "-1h", "30m", "2h", "-5m"]


@dataclass(frozen=True)
class Expr:
    """A generated expression: its text, its PromQL type, for an instant vector
    the label names (besides ``__name__``) its series may carry, and whether it
    needs parentheses as the operand of an operator (binary and unary
    expressions, and selectors with ``offset`` or ``@`` before a ``[``)."""

    text: str
    type: str  # "vector", "scalar", "matrix", "string"
    labels: frozenset[str] = frozenset()
    loose: bool = False

    def operand(self) -> str:
        return f"({self.text})" if self.loose else self.text


@dataclass
class Schema:
    """What the generator knows of the data: each metric's label names and
    values, which metrics are counters, and the time range."""

    metrics: dict[str, dict[str, list[str]]]
    counters: set[str]
    start: float
    end: float

    @classmethod
    def of(cls, ds: Dataset) -> Schema:
        metrics: dict[str, dict[str, set[str]]] = {}
        for key in ds.series:
            labels = dict(key)
            by_name = metrics.setdefault(labels.pop("__name__"), {})
            for k, v in labels.items():
                by_name.setdefault(k, set()).add(v)
        counters = {m for m in metrics if m.endswith(("_total", "_count", "_sum", "_bucket"))}
        return cls({m: {k: sorted(v) for k, v in ls.items()} for m, ls in metrics.items()}, counters, ds.start, ds.end)

    def label_names(self) -> list[str]:
        return sorted({k for ls in self.metrics.values() for k in ls})

    def values(self, label: str) -> list[str]:
        return sorted({v for ls in self.metrics.values() for v in ls.get(label, [])})


class Generator:
    """Seeded generator of PromQL query texts over a schema."""

    def __init__(self, schema: Schema, seed: int, max_depth: int = 3) -> None:
        self.s = schema
        self.rnd = random.Random(seed)
        self.max_depth = max_depth
        self.names = sorted(schema.metrics)
        self.buckets = [m for m in self.names if m.endswith("_bucket")]
        self.stamps = [m for m in self.names if "timestamp" in m]
        # Metrics whose series carry the same label names: the operands of a
        # vector match without `on` or `ignoring`.
        shapes: dict[frozenset[str], list[str]] = {}
        for m in self.names:
            shapes.setdefault(frozenset(schema.metrics[m]), []).append(m)
        self.shapes = list(shapes.values())

    # Helpers.

    def pick(self, xs):
        return self.rnd.choice(xs)

    def chance(self, p: float) -> bool:
        return self.rnd.random() < p

    def weighted(self, options: list[tuple[float, object]]):
        total = sum(w for w, _ in options)
        r = self.rnd.uniform(0, total)
        for w, x in options:
            r -= w
            if r <= 0:
                return x
        return options[-1][1]

    def subset(self, xs, at_most: int = 3) -> list[str]:
        xs = sorted(xs)
        return self.rnd.sample(xs, self.rnd.randint(0, min(at_most, len(xs))))

    @staticmethod
    def label_list(names) -> str:
        return "(" + ", ".join(names) + ")"

    # Entry points.

    def query(self) -> str:
        """A top-level query: mostly an instant vector, sometimes a scalar, rarely
        a range vector or a string (both valid only as instant queries)."""
        kind = self.weighted([(82, "vector"), (12, "scalar"), (4, "matrix"), (2, "string")])
        d = self.max_depth
        if kind == "vector":
            e = self.vector(d)
            # sort and sort_desc only show at the top.
            if self.chance(0.06):
                return f"{self.pick(['sort', 'sort_desc'])}({e.text})"
            return e.text
        if kind == "scalar":
            return self.scalar(d).text
        if kind == "matrix":
            return self.matrix(d - 1).text
        return self.string_literal()

    # Literals.

    def number(self) -> str:
        return self.pick(NUMBERS)

    def string_literal(self) -> str:
        return self.pick(['"demo"', "'single'", '"with \\"quotes\\""', "`raw\\n`", '""', '"ü"'])

    def timestamp_literal(self) -> str:
        t = self.rnd.uniform(self.s.start, self.s.end)
        return self.pick([str(int(t)), f"{t:.3f}", str(int(self.s.start)), str(int(self.s.end)), f"{t:.1f}"])

    # Selectors and range vectors.

    def matcher(self, metric: str) -> str:
        labels = self.s.metrics[metric]
        if not labels or self.chance(0.08):
            return self.pick(['nonexistent=""', 'nonexistent!="x"', 'nonexistent=~""', 'job="demo"'])
        # Mostly labels with several values, whose matchers select some series.
        several = sorted(k for k, vs in labels.items() if len(vs) > 1)
        name = self.pick(several if several and self.chance(0.8) else sorted(labels))
        values = labels[name]
        v = self.pick(values)
        op = self.weighted([(4, "="), (2, "!="), (2, "=~"), (1, "!~")])
        if len(values) == 1 and op in ("!=", "!~") and self.chance(0.7):
            v = "other"
        if op in ("=~", "!~"):
            v = self.pick([
                v.replace(".", "\\\\.").replace("+", "\\\\+"),
                "|".join(self.rnd.sample(values, min(2, len(values)))).replace("+", "\\\\+"),
                v[:2] + ".*",
                ".*",
                ".+",
                "",
                f"(?i){v.upper()}",
            ])
        return f'{name}{op}"{v}"'

    def selector(self, pool: list[str] | None = None) -> tuple[str, str]:
        """A vector selector (text, metric) with matchers now and then, no
        modifiers."""
        metric = self.pick(pool or self.names)
        r = self.rnd.random()
        if r < 0.55:
            return metric, metric
        if r < 0.9:
            matchers = ", ".join(self.matcher(metric) for _ in range(self.rnd.randint(1, 2)))
            return f"{metric}{{{matchers}}}", metric
        if r < 0.97:
            return f'{{__name__="{metric}", {self.matcher(metric)}}}', metric
        # A name regex spanning metrics with the same labels.
        shape = next(s for s in self.shapes if metric in s)
        alts = "|".join(self.rnd.sample(shape, min(len(shape), 2)))
        return f'{{__name__=~"{alts}"}}', metric

    def modifiers(self) -> str:
        """Offset and @ in either order, each sometimes."""
        parts = []
        if self.chance(0.15):
            parts.append(f"offset {self.pick(OFFSETS)}")
        if self.chance(0.12):
            at = self.weighted([(3, None), (1, "start()"), (1, "end()")]) or self.timestamp_literal()
            parts.append(f"@ {at}")
        if len(parts) == 2 and self.chance(0.5):
            parts.reverse()
        return "".join(" " + p for p in parts)

    def instant_selector(self, pool: list[str] | None = None) -> Expr:
        text, metric = self.selector(pool)
        mods = self.modifiers()
        return Expr(text + mods, "vector", frozenset(self.s.metrics[metric]), loose=bool(mods))

    def range_selector(self, pool: list[str] | None = None, counters: bool | None = None) -> tuple[Expr, str]:
        if counters is not None and pool is None:
            names = [m for m in self.names if (m in self.s.counters) == counters]
            pool = names if names and self.chance(0.85) else None
        text, metric = self.selector(pool)
        mods = self.modifiers()
        return Expr(f"{text}[{self.pick(RANGES)}]{mods}", "matrix", frozenset(self.s.metrics[metric])), metric

    def subquery(self, depth: int, pool: list[str] | None = None) -> Expr:
        inner = self.vector(depth, pool)
        text = inner.text if not inner.loose and self.chance(0.3) else f"({inner.text})"
        step = self.pick(SUBQUERY_STEPS)
        return Expr(f"{text}[{self.pick(SUBQUERY_RANGES)}:{step}]{self.modifiers()}", "matrix", inner.labels)

    def matrix(self, depth: int, pool: list[str] | None = None, counters: bool | None = None) -> Expr:
        if depth > 0 and self.chance(0.25):
            return self.subquery(depth - 1, pool)
        return self.range_selector(pool, counters)[0]

    # Scalars.

    def scalar(self, depth: int) -> Expr:
        options: list[tuple[float, str]] = [(6, "number"), (1.5, "time"), (0.5, "pi")]
        if depth > 0:
            options += [(2, "scalar()"), (2.5, "binary"), (0.7, "unary"), (0.3, "paren")]
        kind = self.weighted(options)
        if kind == "number":
            return Expr(self.number(), "scalar", loose=self.chance(0.2))
        if kind == "time":
            return Expr("time()", "scalar")
        if kind == "pi":
            return Expr("pi()", "scalar")
        if kind == "scalar()":
            return Expr(f"scalar({self.vector(depth - 1).text})", "scalar")
        if kind == "unary":
            return Expr(f"{self.pick(['-', '-', '+'])}{self.scalar(depth - 1).operand()}", "scalar", loose=True)
        if kind == "paren":
            return Expr(f"({self.scalar(depth - 1).text})", "scalar")
        a, b = self.scalar(depth - 1), self.scalar(depth - 1)
        op = self.weighted([(6, "arith"), (3, "cmp")])
        if op == "arith":
            return Expr(f"{a.operand()} {self.pick(ARITHMETIC)} {b.operand()}", "scalar", loose=True)
        # Comparisons between scalars need bool.
        return Expr(f"{a.operand()} {self.pick(COMPARISON)} bool {b.operand()}", "scalar", loose=True)

    def param(self, choices: list[str], depth: int, p_expr: float = 0.15) -> str:
        """A scalar argument: mostly one of ``choices``, sometimes any scalar."""
        if depth > 0 and self.chance(p_expr):
            return self.scalar(depth - 1).text
        return self.pick(choices)

    # Instant vectors.

    def vector(self, depth: int, pool: list[str] | None = None) -> Expr:
        """An instant vector; ``pool`` restricts its selectors to metrics with
        the same label names, for matching without `on` or `ignoring`."""
        if depth <= 0:
            kind = self.weighted([(5, "selector"), (4, "range_fn"), (0.3, "vector()"), (0.3, "date")])
        else:
            kind = self.weighted([
                (3, "selector"), (4, "range_fn"), (3, "math"), (3.5, "aggregation"), (1.5, "param_aggregation"),
                (2.5, "vector_scalar"), (3.5, "vector_vector"), (0.6, "unary"), (0.3, "paren"), (0.8, "label"),
                (1.0, "histogram"), (0.5, "absent"), (0.4, "vector()"), (1.0, "date"), (0.5, "timestamp"),
                (0.8, "clamp_round"), (0.3, "sort"), (0.3, "native"), (0.6, "range_fn_params"),
            ])
        return getattr(self, "v_" + kind.replace("()", "_call"))(depth, pool)

    def v_selector(self, depth, pool):
        return self.instant_selector(pool)

    def v_range_fn(self, depth, pool):
        fn = self.pick(RANGE_TO_VECTOR)
        m = self.matrix(depth, pool, counters=fn in COUNTER_FUNCTIONS)
        labels = frozenset() if fn == "absent_over_time" else m.labels
        return Expr(f"{fn}({m.text})", "vector", labels)

    def v_range_fn_params(self, depth, pool):
        kind = self.pick(["predict_linear", "holt_winters", "quantile_over_time"])
        if kind == "predict_linear":
            m = self.matrix(depth, pool, counters=False)
            t = self.param(["600", "3600", "-300", "0", "60.5", "86400"], depth)
            return Expr(f"predict_linear({m.text}, {t})", "vector", m.labels)
        if kind == "holt_winters":
            m = self.matrix(depth, pool, counters=False)
            factors = ["0.1", "0.5", "0.9", "0.3", "0.01"]
            # Now and then a factor outside (0, 1): an execution error.
            sf = self.param(factors + ["1"] * (self.chance(0.1)), depth, 0.05)
            tf = self.param(factors + ["0"] * (self.chance(0.1)), depth, 0.05)
            return Expr(f"holt_winters({m.text}, {sf}, {tf})", "vector", m.labels)
        m = self.matrix(depth, pool)
        q = self.param(["0", "0.5", "0.9", "0.99", "1", "0.25", "-0.5", "1.5", "NaN"], depth)
        return Expr(f"quantile_over_time({q}, {m.text})", "vector", m.labels)

    def v_math(self, depth, pool):
        v = self.vector(depth - 1, pool)
        return Expr(f"{self.pick(MATH)}({v.text})", "vector", v.labels)

    def v_clamp_round(self, depth, pool):
        v = self.vector(depth - 1, pool)
        kind = self.pick(["clamp", "clamp_min", "clamp_max", "round", "round1"])
        bounds = ["0", "1", "-1", "10", "0.5", "1e9", "-Inf", "Inf", "NaN", "100"]
        if kind == "clamp":
            text = f"clamp({v.text}, {self.param(bounds, depth)}, {self.param(bounds, depth)})"
        elif kind in ("clamp_min", "clamp_max"):
            text = f"{kind}({v.text}, {self.param(bounds, depth)})"
        elif kind == "round":
            text = f"round({v.text})"
        else:
            text = f"round({v.text}, {self.param(['0.1', '5', '0.3', '10', '1', '-1', '0', '0.001', '1e9'], depth)})"
        return Expr(text, "vector", v.labels)

    def v_timestamp(self, depth, pool):
        v = self.vector(depth - 1, pool) if self.chance(0.4) else self.instant_selector(pool)
        return Expr(f"timestamp({v.text})", "vector", v.labels)

    def v_sort(self, depth, pool):
        v = self.vector(depth - 1, pool)
        return Expr(f"{self.pick(['sort', 'sort_desc'])}({v.text})", "vector", v.labels)

    def v_native(self, depth, pool):
        v = self.vector(depth - 1, pool)
        if self.chance(0.3):
            return Expr(f"histogram_fraction({self.param(['0', '0.1'], depth)}, {self.param(['0.5', '1'], depth)}, "
                        f"{v.text})", "vector", v.labels)
        return Expr(f"{self.pick(NATIVE_HISTOGRAM)}({v.text})", "vector", v.labels)

    def v_date(self, depth, pool):
        fn = self.pick(DATE)
        if self.chance(0.3):
            return Expr(f"{fn}()", "vector")
        if depth > 0 and self.chance(0.4):
            v = self.vector(depth - 1, pool)
        elif self.stamps and not pool and self.chance(0.5):
            # A gauge holding Unix times, as date functions are meant for.
            v = self.instant_selector(self.stamps)
        else:
            v = self.instant_selector(pool)
        return Expr(f"{fn}({v.text})", "vector", v.labels)

    def v_vector_call(self, depth, pool):
        return Expr(f"vector({self.scalar(max(depth - 1, 0)).text})", "vector")

    def v_absent(self, depth, pool):
        if self.chance(0.5):
            text, metric = self.selector(pool)
            if self.chance(0.4):
                text = f'nonexistent_metric{{job="demo", instance="{self.pick(["a", "b"])}"}}'
            return Expr(f"absent({text})", "vector", frozenset({"job", "instance"}))
        return Expr(f"absent({self.vector(depth - 1, pool).text})", "vector")

    def v_unary(self, depth, pool):
        v = self.vector(depth - 1, pool)
        return Expr(f"{self.pick(['-', '-', '-', '+'])}{v.operand()}", "vector", v.labels, loose=True)

    def v_paren(self, depth, pool):
        v = self.vector(depth - 1, pool)
        return Expr(f"({v.text})", "vector", v.labels)

    def v_label(self, depth, pool):
        v = self.vector(depth - 1, pool)
        src = self.subset(v.labels | {"__name__", "nonexistent"}, 3)
        dst = self.pick(["dst", "instance", "host", "path", "__name__", "le", "new_label"])
        if self.chance(0.5):
            source = self.pick(src) if src else "instance"
            regex = self.pick(["(.*)", "(.*):.*", "demo-service-([0-9]+).*", "/api/(.*)", "(.+)", "", "x", "(a|b)?",
                               "([0-9.]+)"])
            repl = self.pick(["$1", "${1}", "$1-$1", "fixed", "", "$2", "$name"])
            # An invalid regular expression now and then: an execution error.
            if self.chance(0.02):
                regex = "(unclosed"
            text = f'label_replace({v.text}, "{dst}", "{repl}", "{source}", "{regex}")'
        else:
            sep = self.pick(['"-"', '","', '""', '":"'])
            args = "".join(f', "{s}"' for s in src)
            text = f'label_join({v.text}, "{dst}", {sep}{args})'
        return Expr(text, "vector", v.labels | {dst} - {"__name__"})

    def v_histogram(self, depth, pool):
        if not self.buckets:
            return self.v_math(depth, pool)
        q = self.param(["0.5", "0.9", "0.99", "0", "1", "0.25", "-1", "2", "NaN", "0.999"], depth)
        bucket = self.pick(self.buckets)
        labels = frozenset(self.s.metrics[bucket]) - {"le"}
        grouping = self.subset(labels, 3)
        rng = self.pick(["1m", "5m", "10m", "30m"])
        form = self.weighted([(5, "sum_rate"), (1, "rate"), (1, "raw"), (1, "any")])
        if form == "sum_rate":
            inner = f"sum by {self.label_list(['le', *grouping])} (rate({bucket}[{rng}]{self.modifiers()}))"
            out = frozenset(grouping)
        elif form == "rate":
            inner = f"rate({bucket}[{rng}])"
            out = labels
        elif form == "raw":
            inner = self.instant_selector([bucket]).text
            out = labels
        else:
            v = self.vector(depth - 1, pool)
            inner, out = v.text, v.labels - {"le"}
        return Expr(f"histogram_quantile({q}, {inner})", "vector", out)

    def grouping(self, labels: frozenset[str]) -> tuple[str, frozenset[str], bool]:
        """A grouping clause, the labels it keeps, and whether it goes after the
        argument (``sum(x) by (a)``)."""
        kind = self.weighted([(3, "by"), (2, "without"), (2, "none")])
        if kind == "none":
            return "", frozenset(), False
        names = self.subset(labels | {"nonexistent"} if self.chance(0.1) else labels, 3)
        postfix = self.chance(0.2)
        if kind == "by":
            return f"by {self.label_list(names)}", frozenset(names) & labels, postfix
        return f"without {self.label_list(names)}", labels - set(names), postfix

    def aggregate(self, op: str, args: str, clause: str, postfix: bool) -> str:
        if not clause:
            return f"{op}({args})"
        return f"{op}({args}) {clause}" if postfix else f"{op} {clause} ({args})"

    def v_aggregation(self, depth, pool):
        v = self.vector(depth - 1, pool)
        clause, kept, postfix = self.grouping(v.labels)
        return Expr(self.aggregate(self.pick(AGGREGATIONS), v.text, clause, postfix), "vector", kept)

    def v_param_aggregation(self, depth, pool):
        op = self.pick(PARAM_AGGREGATIONS)
        v = self.vector(depth - 1, pool)
        clause, kept, postfix = self.grouping(v.labels)
        if op in ("topk", "bottomk"):
            k = self.param(["1", "2", "3", "0", "5", "1.5", "-1", "100"] + ["1e20", "NaN"] * self.chance(0.1), depth)
            return Expr(self.aggregate(op, f"{k}, {v.text}", clause, postfix), "vector", v.labels)
        if op == "quantile":
            q = self.param(["0.5", "0.9", "0", "1", "0.25", "-1", "2", "NaN"], depth)
            return Expr(self.aggregate(op, f"{q}, {v.text}", clause, postfix), "vector", kept)
        label = self.pick(["value", "instance", "le", "v"])
        return Expr(self.aggregate(op, f'"{label}", {v.text}', clause, postfix), "vector", kept | {label})

    def v_vector_scalar(self, depth, pool):
        v, s = self.vector(depth - 1, pool), self.scalar(depth - 1)
        op = self.weighted([(6, "arith"), (3, "cmp"), (2, "cmp bool")])
        if op == "arith":
            sym = self.pick(ARITHMETIC)
        elif op == "cmp":
            sym = self.pick(COMPARISON)
        else:
            sym = self.pick(COMPARISON) + " bool"
        a, b = (v, s) if self.chance(0.6) else (s, v)
        return Expr(f"{a.operand()} {sym} {b.operand()}", "vector", v.labels, loose=True)

    def v_vector_vector(self, depth, pool):
        kind = self.weighted([(3, "same_shape"), (3, "on"), (2, "set"), (1.5, "group"), (1, "random")])
        if kind == "same_shape":
            # Both sides over metrics with the same label names, no modifier.
            shape = pool or self.pick(self.shapes)
            a, b = self.vector(depth - 1, shape), self.vector(depth - 1, shape)
            return self.binary(a, b, "", a.labels)
        if kind == "set":
            a, b = self.vector(depth - 1, pool), self.vector(depth - 1)
            op = self.pick(SET)
            matching, _ = self.matching(a.labels, b.labels, allow_empty=True)
            labels = a.labels | b.labels if op == "or" else a.labels
            return Expr(f"{a.operand()} {op}{matching} {b.operand()}", "vector", labels, loose=True)
        if kind == "on":
            # Both sides aggregated by the matching labels: one-to-one.
            a, b = self.vector(depth - 1, pool), self.vector(depth - 1)
            common = sorted(a.labels & b.labels)
            names = self.subset(common, 2) if common else []
            left = self.aggregate(self.pick(AGGREGATIONS), a.text, f"by {self.label_list(names)}", False)
            right = self.aggregate(self.pick(AGGREGATIONS), b.text, f"by {self.label_list(names)}", False)
            modifier = self.pick([f" on{self.label_list(names)}", "", f" ignoring{self.label_list([])}"])
            return self.binary(Expr(left, "vector", frozenset(names)), Expr(right, "vector", frozenset(names)),
                               modifier, frozenset(names))
        if kind == "group":
            return self.group_match(depth, pool)
        # Anything goes: often an execution error for duplicate matches.
        a, b = self.vector(depth - 1, pool), self.vector(depth - 1)
        matching, out = self.matching(a.labels, b.labels, allow_empty=True)
        return self.binary(a, b, matching, out or a.labels)

    def matching(self, left: frozenset[str], right: frozenset[str], allow_empty: bool) -> tuple[str, frozenset[str]]:
        kind = self.pick(["", "on", "ignoring"] if allow_empty else ["on", "ignoring"])
        if not kind:
            return "", left
        names = self.subset((left & right) | ({"nonexistent"} if self.chance(0.1) else set()), 3)
        if kind == "on":
            return f" on{self.label_list(names)}", frozenset(names)
        return f" ignoring{self.label_list(names)}", left - set(names)

    def binary(self, a: Expr, b: Expr, matching: str, labels: frozenset[str]) -> Expr:
        op = self.weighted([(6, "arith"), (3, "cmp"), (2, "cmp bool")])
        if op == "arith":
            sym = self.pick(ARITHMETIC)
        elif op == "cmp":
            sym = self.pick(COMPARISON)
        else:
            sym = self.pick(COMPARISON) + " bool"
        return Expr(f"{a.operand()} {sym}{matching} {b.operand()}", "vector", labels, loose=True)

    def group_match(self, depth: int, pool) -> Expr:
        """Many-to-one (or one-to-many) matching: the "one" side aggregated by
        the matching labels, plus extra labels copied from it: `job` (the same
        on every series), a label made with label_replace, or any label
        (sometimes a many-to-many error)."""
        many = self.vector(depth - 1, pool)
        other = self.vector(depth - 1)
        common = sorted(many.labels & other.labels)
        names = self.subset(common, 2) if common else []
        extra_kind = self.weighted([(2, "none"), (2, "job"), (2, "made"), (1, "any")])
        one = self.aggregate(self.pick(AGGREGATIONS), other.text, f"by {self.label_list(names)}", False)
        extra: list[str] = []
        if extra_kind == "job":
            if "job" not in names:
                one = self.aggregate(self.pick(AGGREGATIONS), other.text, f"by {self.label_list(names + ['job'])}",
                                     False)
                extra = ["job"]
        elif extra_kind == "made":
            src = names[0] if names else "job"
            one = f'label_replace({one}, "origin", "from-$1", "{src}", "(.*)")'
            extra = ["origin"]
        elif extra_kind == "any":
            extra = self.subset(other.labels - set(names), 2)
            one = self.aggregate(self.pick(AGGREGATIONS), other.text, f"by {self.label_list(names + extra)}", False)
        one_expr = Expr(one, "vector", frozenset(names) | set(extra))
        use_on = self.chance(0.7)
        if use_on:
            matching = f" on{self.label_list(names)}"
        else:
            # ignoring everything but the matching labels that the "many" side has.
            matching = f" ignoring{self.label_list(sorted(many.labels - set(names)))}"
        group = f" group_left{self.label_list(extra)}" if extra or self.chance(0.5) else " group_left"
        left, right = many, one_expr
        if self.chance(0.35):
            group = group.replace("group_left", "group_right")
            left, right = one_expr, many
        op = self.weighted([(6, "arith"), (3, "cmp"), (1, "cmp bool")])
        sym = self.pick(ARITHMETIC) if op == "arith" else self.pick(COMPARISON) + (" bool" if op == "cmp bool" else "")
        return Expr(f"{left.operand()} {sym}{matching}{group} {right.operand()}", "vector",
                    many.labels | set(extra), loose=True)
