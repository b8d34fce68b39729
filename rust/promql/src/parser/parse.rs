//! The PromQL parser: a precedence-climbing parser over the tokens of
//! [`super::lex`], with the grammar, operator precedence and error messages of
//! Prometheus 2.42's yacc grammar (`promql/parser/generated_parser.y`).
//!
//! Precedence, lowest first: `or`; `and`, `unless`; comparisons; `+`, `-`;
//! `*`, `/`, `%`, `atan2`; `^` (right-associative). Unary minus binds like `*`.
//! `offset`, `@` and `[...]` bind tighter than any operator.

use thanos_core::labels::{MatchOp, Matcher, METRIC_NAME};

use super::ast::*;
use super::check::check_ast;
use super::duration::parse_duration;
use super::functions::get_function;
use super::lex::{is_label, lex, Item, ItemType, ItemType::*};
use super::literals::{parse_number, unquote};
use super::ParseError;

/// Trees deeper than this are refused: every walk of a tree is stack-safe
/// (`crate::stack`), but some cost the square of the depth (a node's position
/// spans its subtree). Prometheus has no such limit and evaluates a chain of
/// 9,000 `+`s; real queries nest a few dozen levels.
pub const MAX_DEPTH: usize = 10_000;

/// Parses a PromQL expression, type-checks it, and returns its tree.
pub fn parse_expr(input: &str) -> Result<Expr, ParseError> {
    let mut p = Parser::new(input);
    let mut expr = p.parse_start()?;
    // Loops build chains (`a + b + c`, `x[1m:][1m:]`) without nesting calls,
    // so the parser's own count does not see their depth: measure the tree.
    if expr.height() > MAX_DEPTH {
        return Err(ParseError::new(input, PosRange { start: 0, end: input.len() }, too_deep()));
    }
    check_ast(&mut expr, input).map_err(|(pos, msg)| ParseError::new(input, pos, msg))?;
    Ok(expr)
}

/// Parses a series selector such as `up{job="api"}` (the `match[]` parameter of
/// the HTTP API) into its matchers.
pub fn parse_metric_selector(input: &str) -> Result<Vec<Matcher>, ParseError> {
    let mut p = Parser::new(input);
    let vs = match p.peek().typ {
        LeftBrace => p.parse_vector_selector(None)?,
        _ if is_metric_identifier(p.peek().typ) => {
            let name = p.advance();
            p.parse_vector_selector(Some(name))?
        }
        _ => return Err(p.unexpected("", "")),
    };
    if p.peek().typ != Eof {
        return Err(p.unexpected("", ""));
    }
    // Unlike a query, a selector is not type-checked (Prometheus's
    // `ParseMetricSelector`): `{job=~".*"}` parses, and the API decides.
    Ok(vs.matchers)
}

/// Tokens that may name a metric (Prometheus's `metric_identifier`).
fn too_deep() -> std::string::String {
    format!("expression nests more than {MAX_DEPTH} levels deep")
}

fn is_metric_identifier(t: ItemType) -> bool {
    matches!(
        t,
        Avg | Bottomk
            | By
            | Count
            | CountValues
            | Group
            | Identifier
            | Land
            | Lor
            | Lunless
            | Max
            | MetricIdentifier
            | Min
            | Offset
            | Quantile
            | Stddev
            | Stdvar
            | Sum
            | Topk
            | Without
            | Start
            | End
    )
}

/// Tokens that may name a label in `by (...)` and friends (`maybe_label`).
fn is_maybe_label(t: ItemType) -> bool {
    is_metric_identifier(t) || matches!(t, Bool | GroupLeft | GroupRight | Ignoring | On | Atan2)
}

fn binary_precedence(t: ItemType) -> Option<u8> {
    Some(match t {
        Lor => 1,
        Land | Lunless => 2,
        Eqlc | Gte | Gtr | Lss | Lte | Neq => 3,
        Add | Sub => 4,
        Mul | Div | Mod | Atan2 => 5,
        Pow => 6,
        _ => return None,
    })
}

const UNARY_OPERAND_PRECEDENCE: u8 = 6;

struct Parser<'a> {
    input: &'a str,
    items: Vec<Item>,
    next: usize,
    depth: usize,
}

type PResult<T> = Result<T, ParseError>;

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        let items = lex(input).into_iter().filter(|i| i.typ != Comment).collect();
        Parser { input, items, next: 0, depth: 0 }
    }

    fn peek(&self) -> &Item {
        &self.items[self.next.min(self.items.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Item {
        &self.items[(self.next + ahead).min(self.items.len() - 1)]
    }

    fn advance(&mut self) -> Item {
        let item = self.peek().clone();
        if self.next < self.items.len() - 1 {
            self.next += 1;
        }
        item
    }

    fn error(&self, pos: usize, msg: impl Into<std::string::String>) -> ParseError {
        ParseError::new(self.input, PosRange { start: pos, end: pos }, msg.into())
    }

    /// "unexpected <token> in <context>, expected <what>", for the next token; a
    /// lexical error is reported as itself.
    fn unexpected(&self, context: &str, expected: &str) -> ParseError {
        let mut item = self.peek();
        // Prometheus's parser skips tokens to recover from a plain syntax error, and
        // a lexical error it meets on the way is what it reports.
        if context.is_empty() {
            if let Some(lex_error) = self.items[self.next..].iter().find(|i| i.typ == Error) {
                item = lex_error;
            }
        }
        if item.typ == Error {
            return ParseError::new(self.input, PosRange { start: item.pos, end: self.input.len() }, item.val.clone());
        }
        let mut msg = format!("unexpected {}", item.desc());
        if !context.is_empty() {
            msg.push_str(" in ");
            msg.push_str(context);
        }
        if !expected.is_empty() {
            msg.push_str(", expected ");
            msg.push_str(expected);
        }
        ParseError::new(self.input, PosRange { start: item.pos, end: item.end() }, msg)
    }

    fn expect(&mut self, typ: ItemType, context: &str, expected: &str) -> PResult<Item> {
        if self.peek().typ == typ {
            Ok(self.advance())
        } else {
            Err(self.unexpected(context, expected))
        }
    }

    fn parse_start(&mut self) -> PResult<Expr> {
        if self.peek().typ == Eof {
            return Err(self.error(0, "no expression found in input"));
        }
        let expr = self.parse_expr(0)?;
        if self.peek().typ != Eof {
            return Err(self.unexpected("", ""));
        }
        Ok(expr)
    }

    fn parse_expr(&mut self, min_precedence: u8) -> PResult<Expr> {
        crate::stack::guarded(|| self.parse_expr_here(min_precedence))
    }

    fn parse_expr_here(&mut self, min_precedence: u8) -> PResult<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(self.peek().pos, too_deep()));
        }
        let mut lhs = self.parse_operand()?;
        loop {
            let op = self.peek().typ;
            let Some(prec) = binary_precedence(op) else {
                break;
            };
            if prec < min_precedence {
                break;
            }
            self.advance();
            let (return_bool, matching) = self.parse_bin_modifiers()?;
            // `^` is right-associative, everything else left-associative.
            let next = if op == Pow { prec } else { prec + 1 };
            let rhs = self.parse_expr(next)?;
            let operand_types = (ValueType::Vector, ValueType::Vector);
            lhs = Expr::Binary(Box::new(BinaryExpr {
                op,
                lhs,
                rhs,
                matching: Some(matching),
                return_bool,
                operand_types,
            }));
        }
        self.depth -= 1;
        Ok(lhs)
    }

    /// `bool`, `on(...)`/`ignoring(...)`, `group_left(...)`/`group_right(...)`.
    fn parse_bin_modifiers(&mut self) -> PResult<(bool, VectorMatching)> {
        let mut m = VectorMatching { card: Cardinality::OneToOne, matching_labels: vec![], on: false, include: vec![] };
        let return_bool = if self.peek().typ == Bool {
            self.advance();
            true
        } else {
            false
        };
        if matches!(self.peek().typ, On | Ignoring) {
            m.on = self.advance().typ == On;
            m.matching_labels = self.parse_grouping_labels()?;
            if matches!(self.peek().typ, GroupLeft | GroupRight) {
                m.card = if self.advance().typ == GroupLeft { Cardinality::ManyToOne } else { Cardinality::OneToMany };
                if self.peek().typ == LeftParen {
                    m.include = self.parse_grouping_labels()?;
                }
            }
        }
        Ok((return_bool, m))
    }

    /// A unary expression or a primary expression with its postfix modifiers.
    fn parse_operand(&mut self) -> PResult<Expr> {
        let item = self.peek().clone();
        if matches!(item.typ, Add | Sub) {
            self.advance();
            let operand = self.parse_expr(UNARY_OPERAND_PRECEDENCE)?;
            return Ok(match operand {
                // `-1` is a negative number literal, not a negation.
                Expr::NumberLiteral(ref n) => {
                    let val = if item.typ == Sub { -n.val } else { n.val };
                    Expr::NumberLiteral(NumberLiteral { val, pos: PosRange { start: item.pos, end: n.pos.end } })
                }
                expr => Expr::Unary(Box::new(UnaryExpr { op: item.typ, expr, start: item.pos })),
            });
        }
        let mut expr = self.parse_primary()?;
        loop {
            match self.peek().typ {
                Offset => expr = self.parse_offset(expr)?,
                At => expr = self.parse_at(expr)?,
                LeftBracket => expr = self.parse_range_or_subquery(expr)?,
                _ => return Ok(expr),
            }
        }
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let item = self.peek().clone();
        match item.typ {
            Number => {
                self.advance();
                let val =
                    parse_number(&item.val).map_err(|e| self.error(item.pos, format!("error parsing number: {e}")))?;
                Ok(Expr::NumberLiteral(NumberLiteral { val, pos: PosRange { start: item.pos, end: item.end() } }))
            }
            String => {
                self.advance();
                let val = self.unquote(&item)?;
                Ok(Expr::StringLiteral(StringLiteral { val, pos: PosRange { start: item.pos, end: item.end() } }))
            }
            LeftParen => {
                self.advance();
                let expr = self.parse_expr(0)?;
                let close = self.expect(RightParen, "", "")?;
                Ok(Expr::Paren(Box::new(ParenExpr { expr, pos: PosRange { start: item.pos, end: close.end() } })))
            }
            LeftBrace => Ok(Expr::VectorSelector(Box::new(self.parse_vector_selector(None)?))),
            t if t.is_aggregator() && matches!(self.peek_at(1).typ, LeftParen | By | Without) => self.parse_aggregate(),
            Identifier if self.peek_at(1).typ == LeftParen => self.parse_call(),
            t if is_metric_identifier(t) => {
                self.advance();
                Ok(Expr::VectorSelector(Box::new(self.parse_vector_selector(Some(item))?)))
            }
            _ => Err(self.unexpected("", "")),
        }
    }

    fn unquote(&self, item: &Item) -> PResult<std::string::String> {
        unquote(&item.val).map_err(|e| {
            self.error(item.pos, format!("error unquoting string {}: {e}", super::lex::go_quote(&item.val)))
        })
    }

    fn parse_aggregate(&mut self) -> PResult<Expr> {
        let op = self.advance();
        let mut grouping = None;
        let mut without = false;
        if matches!(self.peek().typ, By | Without) {
            without = self.advance().typ == Without;
            grouping = Some(self.parse_grouping_labels()?);
        }
        if self.peek().typ != LeftParen {
            return Err(self.unexpected("aggregation", ""));
        }
        let (args, end) = self.parse_call_args()?;
        if grouping.is_none() && matches!(self.peek().typ, By | Without) {
            without = self.advance().typ == Without;
            grouping = Some(self.parse_grouping_labels()?);
        }
        let pos = PosRange { start: op.pos, end };
        if args.is_empty() {
            return Err(self.error(pos.start, "no arguments for aggregate expression provided"));
        }
        let desired = if op.typ.is_aggregator_with_param() { 2 } else { 1 };
        if args.len() != desired {
            return Err(self.error(
                pos.start,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {desired}, got {}",
                    args.len()
                ),
            ));
        }
        let mut args = args.into_iter();
        let param = if desired == 2 { args.next() } else { None };
        Ok(Expr::Aggregate(Box::new(AggregateExpr {
            op: op.typ,
            expr: args.next().unwrap(),
            param,
            grouping: grouping.unwrap_or_default(),
            without,
            pos,
        })))
    }

    fn parse_call(&mut self) -> PResult<Expr> {
        let name = self.advance();
        let (args, end) = self.parse_call_args()?;
        let func = get_function(&name.val).ok_or_else(|| {
            self.error(name.pos, format!("unknown function with name {}", super::lex::go_quote(&name.val)))
        })?;
        Ok(Expr::Call(Box::new(Call { func, args, pos: PosRange { start: name.pos, end } })))
    }

    /// `( expr, expr, ... )`; returns the arguments and the end of `)`.
    fn parse_call_args(&mut self) -> PResult<(Vec<Expr>, usize)> {
        self.expect(LeftParen, "", "")?;
        let mut args = Vec::new();
        if self.peek().typ == RightParen {
            return Ok((args, self.advance().end()));
        }
        loop {
            args.push(self.parse_expr(0)?);
            match self.peek().typ {
                Comma => {
                    let comma = self.advance();
                    if self.peek().typ == RightParen {
                        return Err(self.error(comma.pos, "trailing commas not allowed in function call args"));
                    }
                }
                RightParen => return Ok((args, self.advance().end())),
                _ => return Err(self.unexpected("", "")),
            }
        }
    }

    /// `(label, ...)` after `by`, `without`, `on`, `ignoring`, `group_left`...
    fn parse_grouping_labels(&mut self) -> PResult<Vec<std::string::String>> {
        if self.peek().typ != LeftParen {
            return Err(self.unexpected("grouping opts", "\"(\""));
        }
        self.advance();
        let mut labels = Vec::new();
        loop {
            let item = self.peek().clone();
            match item.typ {
                RightParen => {
                    self.advance();
                    return Ok(labels);
                }
                t if is_maybe_label(t) && is_label(&item.val) => {
                    self.advance();
                    labels.push(item.val);
                }
                _ => return Err(self.unexpected("grouping opts", "label")),
            }
            match self.peek().typ {
                Comma => {
                    self.advance();
                }
                RightParen => {}
                _ => return Err(self.unexpected("grouping opts", "\",\" or \")\"")),
            }
        }
    }

    /// A vector selector: an optional metric name (already consumed) and
    /// optional `{matchers}`.
    fn parse_vector_selector(&mut self, name: Option<Item>) -> PResult<VectorSelector> {
        let mut matchers = Vec::new();
        let start = name.as_ref().map(|n| n.pos);
        let mut end = name.as_ref().map(|n| n.end()).unwrap_or(0);
        let brace_start = self.peek().pos;
        if self.peek().typ == LeftBrace {
            self.advance();
            loop {
                if self.peek().typ == RightBrace {
                    end = self.advance().end();
                    break;
                }
                matchers.push(self.parse_label_matcher()?);
                match self.peek().typ {
                    Comma => {
                        self.advance();
                    }
                    RightBrace => {}
                    _ => return Err(self.unexpected("label matching", "\",\" or \"}\"")),
                }
            }
        }
        let name = name.map(|n| n.val).unwrap_or_default();
        if !name.is_empty() {
            matchers.push(Matcher::equal(METRIC_NAME, name.clone()));
        }
        Ok(VectorSelector {
            name,
            matchers,
            original_offset: 0,
            timestamp: None,
            at: None,
            pos: PosRange { start: start.unwrap_or(brace_start), end },
            select_id: 0,
        })
    }

    fn parse_label_matcher(&mut self) -> PResult<Matcher> {
        if self.peek().typ != Identifier {
            return Err(self.unexpected("label matching", "identifier or \"}\""));
        }
        let label = self.advance();
        let op = match self.peek().typ {
            Eql => MatchOp::Equal,
            Neq => MatchOp::NotEqual,
            EqlRegex => MatchOp::Regex,
            NeqRegex => MatchOp::NotRegex,
            _ => return Err(self.unexpected("label matching", "label matching operator")),
        };
        self.advance();
        if self.peek().typ != String {
            return Err(self.unexpected("label matching", "string"));
        }
        let value = self.advance();
        let v = self.unquote(&value)?;
        Matcher::new(op, label.val, v).map_err(|e| self.error(label.pos, e.message()))
    }

    fn parse_duration_token(&mut self, context: &str, expected: &str) -> PResult<i64> {
        let item = self.expect(Duration, context, expected)?;
        let d = parse_duration(&item.val).map_err(|e| self.error(item.pos, e))?;
        if d == 0 {
            return Err(self.error(item.pos, "duration must be greater than 0"));
        }
        Ok(d)
    }

    fn parse_offset(&mut self, expr: Expr) -> PResult<Expr> {
        self.advance();
        let negative = self.peek().typ == Sub;
        if negative {
            self.advance();
        }
        let d = self.parse_duration_token("offset", "duration")?;
        let offset = if negative { -d } else { d };
        let end = self.items[self.next - 1].end();
        let mut expr = expr;
        let pos = expr.pos();
        let (slot, end_slot) = match &mut expr {
            Expr::VectorSelector(vs) => (&mut vs.original_offset, &mut vs.pos.end),
            Expr::MatrixSelector(ms) => (&mut ms.vs.original_offset, &mut ms.end_pos),
            Expr::Subquery(sq) => (&mut sq.original_offset, &mut sq.end_pos),
            _ => return Err(self.error(
                pos.start,
                "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
            )),
        };
        if *slot != 0 {
            return Err(self.error(pos.start, "offset may not be set multiple times"));
        }
        *slot = offset;
        *end_slot = end;
        Ok(expr)
    }

    fn parse_at(&mut self, mut expr: Expr) -> PResult<Expr> {
        self.advance();
        let pos = expr.pos();
        let mut timestamp = None;
        let mut at = None;
        match self.peek().typ {
            Start | End if self.peek_at(1).typ == LeftParen => {
                at = Some(if self.advance().typ == Start { AtModifier::Start } else { AtModifier::End });
                self.advance();
                self.expect(RightParen, "@", "timestamp")?;
            }
            Number | Add | Sub => {
                let sign = match self.peek().typ {
                    Sub => {
                        self.advance();
                        -1.0
                    }
                    Add => {
                        self.advance();
                        1.0
                    }
                    _ => 1.0,
                };
                let item = self.expect(Number, "@", "timestamp")?;
                let v = sign
                    * parse_number(&item.val)
                        .map_err(|e| self.error(item.pos, format!("error parsing number: {e}")))?;
                if !v.is_finite() || v >= i64::MAX as f64 || v <= i64::MIN as f64 {
                    let shown = if v.is_finite() { format!("{v:.6}") } else { super::literals::format_go_float(v) };
                    return Err(self.error(pos.start, format!("timestamp out of bounds for @ modifier: {shown}")));
                }
                // Go's `timestamp.FromFloatSeconds`: round to the millisecond.
                timestamp = Some((v * 1000.0).round() as i64);
            }
            _ => return Err(self.unexpected("@", "timestamp")),
        }
        let end = self.items[self.next - 1].end();
        let (ts_slot, at_slot, end_slot) =
            match &mut expr {
                Expr::VectorSelector(vs) => (&mut vs.timestamp, &mut vs.at, &mut vs.pos.end),
                Expr::MatrixSelector(ms) => (&mut ms.vs.timestamp, &mut ms.vs.at, &mut ms.end_pos),
                Expr::Subquery(sq) => (&mut sq.timestamp, &mut sq.at, &mut sq.end_pos),
                _ => return Err(self.error(
                    pos.start,
                    "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                )),
            };
        if ts_slot.is_some() || at_slot.is_some() {
            return Err(self.error(pos.start, "@ <timestamp> may not be set multiple times"));
        }
        *ts_slot = timestamp;
        *at_slot = at;
        *end_slot = end;
        Ok(expr)
    }

    /// `expr[range]` (a range selector) or `expr[range:step]` (a subquery).
    fn parse_range_or_subquery(&mut self, expr: Expr) -> PResult<Expr> {
        let open = self.advance();
        if self.peek().typ != Duration {
            return Err(self.unexpected("subquery selector", "duration"));
        }
        let range = self.parse_duration_token("subquery selector", "duration")?;
        match self.peek().typ {
            RightBracket => {
                let close = self.advance();
                let msg = match &expr {
                    Expr::VectorSelector(vs) if vs.original_offset != 0 => {
                        Some("no offset modifiers allowed before range")
                    }
                    Expr::VectorSelector(vs) if vs.timestamp.is_some() || vs.at.is_some() => {
                        Some("no @ modifiers allowed before range")
                    }
                    Expr::VectorSelector(_) => None,
                    _ => Some("ranges only allowed for vector selectors"),
                };
                if let Some(msg) = msg {
                    return Err(self.error(open.pos, msg));
                }
                let Expr::VectorSelector(vs) = &expr else { unreachable!() };
                Ok(Expr::MatrixSelector(Box::new(MatrixSelector { vs: (**vs).clone(), range, end_pos: close.end() })))
            }
            Colon => {
                self.advance();
                let step = match self.peek().typ {
                    Duration => self.parse_duration_token("subquery selector", "duration or \"]\"")?,
                    RightBracket => 0,
                    _ => return Err(self.unexpected("subquery selector", "duration or \"]\"")),
                };
                let close = self.expect(RightBracket, "subquery selector", "\"]\"")?;
                Ok(Expr::Subquery(Box::new(SubqueryExpr {
                    expr,
                    range,
                    step,
                    original_offset: 0,
                    timestamp: None,
                    at: None,
                    end_pos: close.end(),
                })))
            }
            _ => Err(self.unexpected("subquery or range", "\":\" or \"]\"")),
        }
    }
}
