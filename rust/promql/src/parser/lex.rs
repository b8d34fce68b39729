//! The PromQL lexer: the tokens and the error messages of Prometheus 2.42's
//! `promql/parser/lex.go`, written as a tokenizer that runs ahead of the parser.
//! The lexer's state (inside braces, inside brackets, after a colon) decides how
//! characters are read, exactly as in Prometheus, so the same input yields the
//! same tokens; the first lexical error ends the token stream.

use std::fmt;

/// Token types. The groups matter: operators, aggregators and keywords print
/// differently in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemType {
    Error,
    Eof,
    Comment,
    Identifier,
    MetricIdentifier,
    LeftParen,
    RightParen,
    LeftBrace,
    RightBrace,
    LeftBracket,
    RightBracket,
    Comma,
    Eql,
    Colon,
    Semicolon,
    String,
    Number,
    Duration,
    Blank,
    Times,
    Space,
    At,
    // Operators.
    Sub,
    Add,
    Mul,
    Mod,
    Div,
    Eqlc,
    Neq,
    Lte,
    Lss,
    Gte,
    Gtr,
    EqlRegex,
    NeqRegex,
    Pow,
    Land,
    Lor,
    Lunless,
    Atan2,
    // Aggregators.
    Avg,
    Bottomk,
    Count,
    CountValues,
    Group,
    Max,
    Min,
    Quantile,
    Stddev,
    Stdvar,
    Sum,
    Topk,
    // Keywords.
    Bool,
    By,
    GroupLeft,
    GroupRight,
    Ignoring,
    Offset,
    On,
    Without,
    Start,
    End,
}

use ItemType::*;

impl ItemType {
    pub fn is_operator(self) -> bool {
        matches!(
            self,
            Sub | Add
                | Mul
                | Mod
                | Div
                | Eqlc
                | Neq
                | Lte
                | Lss
                | Gte
                | Gtr
                | EqlRegex
                | NeqRegex
                | Pow
                | Land
                | Lor
                | Lunless
                | Atan2
        )
    }

    pub fn is_aggregator(self) -> bool {
        matches!(
            self,
            Avg | Bottomk | Count | CountValues | Group | Max | Min | Quantile | Stddev | Stdvar | Sum | Topk
        )
    }

    pub fn is_aggregator_with_param(self) -> bool {
        matches!(self, Topk | Bottomk | CountValues | Quantile)
    }

    pub fn is_keyword(self) -> bool {
        matches!(self, Bool | By | GroupLeft | GroupRight | Ignoring | Offset | On | Without | Start | End)
    }

    pub fn is_comparison_operator(self) -> bool {
        matches!(self, Eqlc | Neq | Lte | Lss | Gte | Gtr)
    }

    pub fn is_set_operator(self) -> bool {
        matches!(self, Land | Lor | Lunless)
    }

    /// The fixed spelling of punctuation, operators, aggregators and keywords.
    pub fn fixed_str(self) -> Option<&'static str> {
        Some(match self {
            LeftParen => "(",
            RightParen => ")",
            LeftBrace => "{",
            RightBrace => "}",
            LeftBracket => "[",
            RightBracket => "]",
            Comma => ",",
            Eql => "=",
            Colon => ":",
            Semicolon => ";",
            Blank => "_",
            Times => "x",
            Space => "<space>",
            Sub => "-",
            Add => "+",
            Mul => "*",
            Mod => "%",
            Div => "/",
            Eqlc => "==",
            Neq => "!=",
            Lte => "<=",
            Lss => "<",
            Gte => ">=",
            Gtr => ">",
            EqlRegex => "=~",
            NeqRegex => "!~",
            Pow => "^",
            Land => "and",
            Lor => "or",
            Lunless => "unless",
            Atan2 => "atan2",
            Avg => "avg",
            Bottomk => "bottomk",
            Count => "count",
            CountValues => "count_values",
            Group => "group",
            Max => "max",
            Min => "min",
            Quantile => "quantile",
            Stddev => "stddev",
            Stdvar => "stdvar",
            Sum => "sum",
            Topk => "topk",
            Bool => "bool",
            By => "by",
            GroupLeft => "group_left",
            GroupRight => "group_right",
            Ignoring => "ignoring",
            Offset => "offset",
            On => "on",
            Without => "without",
            Start => "start",
            End => "end",
            _ => return None,
        })
    }

    /// How a token type is named in error messages ("end of input", "identifier").
    fn desc(self) -> std::string::String {
        match self {
            Error => "error".into(),
            Eof => "end of input".into(),
            Comment => "comment".into(),
            Identifier => "identifier".into(),
            MetricIdentifier => "metric identifier".into(),
            String => "string".into(),
            Number => "number".into(),
            Duration => "duration".into(),
            other => format!("{:?}", other.fixed_str().unwrap_or("?")),
        }
    }
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.fixed_str().unwrap_or("?"))
    }
}

/// The keyword table: words that are not identifiers. `inf` and `nan` are
/// numbers. Matched case-insensitively, as Prometheus does.
fn keyword(word: &str) -> Option<ItemType> {
    Some(match word.to_ascii_lowercase().as_str() {
        "and" => Land,
        "or" => Lor,
        "unless" => Lunless,
        "atan2" => Atan2,
        "sum" => Sum,
        "avg" => Avg,
        "count" => Count,
        "min" => Min,
        "max" => Max,
        "group" => Group,
        "stddev" => Stddev,
        "stdvar" => Stdvar,
        "topk" => Topk,
        "bottomk" => Bottomk,
        "count_values" => CountValues,
        "quantile" => Quantile,
        "offset" => Offset,
        "by" => By,
        "without" => Without,
        "on" => On,
        "ignoring" => Ignoring,
        "group_left" => GroupLeft,
        "group_right" => GroupRight,
        "bool" => Bool,
        "start" => Start,
        "end" => End,
        "inf" | "nan" => Number,
        _ => return None,
    })
}

/// A token: its type, byte position and text (for errors, the message).
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub typ: ItemType,
    pub pos: usize,
    pub val: std::string::String,
}

impl Item {
    /// The end of the token, in bytes.
    pub fn end(&self) -> usize {
        self.pos + self.val.len()
    }

    /// The token as Prometheus's `Item.desc()` describes it in "unexpected ..."
    /// messages: `identifier "foo"`, `<op:+>`, `"("`, `end of input`.
    pub fn desc(&self) -> std::string::String {
        if self.typ.fixed_str().is_some() {
            return self.to_string();
        }
        if self.typ == Eof {
            return self.typ.desc();
        }
        format!("{} {}", self.typ.desc(), self)
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.typ {
            Eof => f.write_str("EOF"),
            Error => f.write_str(&self.val),
            Identifier | MetricIdentifier => write!(f, "{}", go_quote(&self.val)),
            t if t.is_keyword() => write!(f, "<{}>", self.val),
            t if t.is_operator() => write!(f, "<op:{}>", self.val),
            t if t.is_aggregator() => write!(f, "<aggr:{}>", self.val),
            // Go's "%.10q...": the first ten characters, quoted.
            _ if self.val.chars().count() > 10 => {
                let head: std::string::String = self.val.chars().take(10).collect();
                write!(f, "{}...", go_quote(&head))
            }
            _ => write!(f, "{}", go_quote(&self.val)),
        }
    }
}

/// Go's `%q`: a double-quoted string with Go escapes.
pub fn go_quote(s: &str) -> std::string::String {
    thanos_core::labels::quote(s)
}

/// Go's `%q` of a rune: a single-quoted character.
fn quote_rune(c: char) -> std::string::String {
    match c {
        '\'' => "'\\''".into(),
        '\\' => "'\\\\'".into(),
        '\n' => "'\\n'".into(),
        '\t' => "'\\t'".into(),
        '\r' => "'\\r'".into(),
        c if (c as u32) < 0x20 => format!("'\\x{:02x}'", c as u32),
        c => format!("'{c}'"),
    }
}

/// Go's `%#U`: `U+0041 'A'`.
fn unicode_desc(c: char) -> std::string::String {
    format!("U+{:04X} {}", c as u32, quote_rune(c))
}

pub fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_end_of_line(c: char) -> bool {
    c == '\r' || c == '\n'
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

fn is_alpha(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_alphanumeric(c: char) -> bool {
    is_alpha(c) || is_digit(c)
}

/// Whether `s` is a valid label name.
pub fn is_label(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if is_alpha(c)) && chars.all(is_alphanumeric)
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Statements,
    InsideBraces,
    ValueSequence,
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    state: State,
    paren_depth: i64,
    brace_open: bool,
    bracket_open: bool,
    got_colon: bool,
    /// Reading the series lines of test scripts, where `x` repeats values.
    series_desc: bool,
    items: Vec<Item>,
    done: bool,
}

/// Tokenizes a PromQL expression. The stream ends with `Eof`, or with an `Error`
/// item holding the first lexical error.
pub fn lex(input: &str) -> Vec<Item> {
    Lexer::new(input, false).run()
}

/// Tokenizes a series description of the test-script language
/// (`metric{l="v"} 1+2x3 _ stale`).
pub fn lex_series_desc(input: &str) -> Vec<Item> {
    Lexer::new(input, true).run()
}

impl<'a> Lexer<'a> {
    fn new(input: &'a str, series_desc: bool) -> Self {
        Lexer {
            input,
            pos: 0,
            start: 0,
            state: State::Statements,
            paren_depth: 0,
            brace_open: false,
            bracket_open: false,
            got_colon: false,
            series_desc,
            items: Vec::new(),
            done: false,
        }
    }

    fn run(mut self) -> Vec<Item> {
        while !self.done {
            match self.state {
                State::Statements => self.statements(),
                State::InsideBraces => self.inside_braces(),
                State::ValueSequence => self.value_sequence(),
            }
        }
        self.items
    }

    fn next(&mut self) -> Option<char> {
        let c = self.input[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn backup(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
        }
    }

    fn emit(&mut self, typ: ItemType) {
        self.items.push(Item { typ, pos: self.start, val: self.input[self.start..self.pos].to_string() });
        self.start = self.pos;
        if typ == Eof {
            self.done = true;
        }
    }

    fn ignore(&mut self) {
        self.start = self.pos;
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            other => {
                self.backup(other);
                false
            }
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn errorf(&mut self, msg: std::string::String) {
        self.items.push(Item { typ: Error, pos: self.start, val: msg });
        self.done = true;
    }

    fn statements(&mut self) {
        if self.brace_open {
            self.state = State::InsideBraces;
            return;
        }
        if self.input[self.pos..].starts_with('#') {
            self.line_comment();
            return;
        }
        let Some(r) = self.next() else {
            if self.paren_depth != 0 {
                return self.errorf("unclosed left parenthesis".into());
            } else if self.bracket_open {
                return self.errorf("unclosed left bracket".into());
            }
            return self.emit(Eof);
        };
        match r {
            ',' => self.emit(Comma),
            c if is_space(c) => self.space(),
            '*' => self.emit(Mul),
            '/' => self.emit(Div),
            '%' => self.emit(Mod),
            '+' => self.emit(Add),
            '-' => self.emit(Sub),
            '^' => self.emit(Pow),
            '=' => match self.peek() {
                Some('=') => {
                    self.next();
                    self.emit(Eqlc)
                }
                Some('~') => self.errorf("unexpected character after '=': '~'".into()),
                _ => self.emit(Eql),
            },
            '!' => match self.next() {
                Some('=') => self.emit(Neq),
                other => self.errorf(format!("unexpected character after '!': {}", rune_or_eof(other))),
            },
            '<' => {
                if self.peek() == Some('=') {
                    self.next();
                    self.emit(Lte)
                } else {
                    self.emit(Lss)
                }
            }
            '>' => {
                if self.peek() == Some('=') {
                    self.next();
                    self.emit(Gte)
                } else {
                    self.emit(Gtr)
                }
            }
            c if is_digit(c) || (c == '.' && self.peek().is_some_and(is_digit)) => {
                self.backup(Some(c));
                self.number_or_duration()
            }
            '"' | '\'' => self.string(r),
            '`' => self.raw_string(),
            c if is_alpha(c) || c == ':' => {
                if !self.bracket_open {
                    self.backup(Some(c));
                    return self.keyword_or_identifier();
                }
                if self.got_colon {
                    return self.errorf(format!("unexpected colon {}", quote_rune(c)));
                }
                self.emit(Colon);
                self.got_colon = true;
            }
            '(' => {
                self.emit(LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.emit(RightParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    self.errorf("unexpected right parenthesis ')'".into());
                }
            }
            '{' => {
                self.emit(LeftBrace);
                self.brace_open = true;
                self.state = State::InsideBraces;
            }
            '[' => {
                if self.bracket_open {
                    return self.errorf("unexpected left bracket '['".into());
                }
                self.got_colon = false;
                self.emit(LeftBracket);
                if self.peek().is_some_and(is_space) {
                    self.skip_spaces();
                }
                self.bracket_open = true;
                self.duration();
            }
            ']' => {
                if !self.bracket_open {
                    return self.errorf("unexpected right bracket ']'".into());
                }
                self.emit(RightBracket);
                self.bracket_open = false;
            }
            '@' => self.emit(At),
            c => self.errorf(format!("unexpected character: {}", quote_rune(c))),
        }
    }

    fn inside_braces(&mut self) {
        if self.input[self.pos..].starts_with('#') {
            self.line_comment();
            return;
        }
        let Some(r) = self.next() else {
            return self.errorf("unexpected end of input inside braces".into());
        };
        match r {
            c if is_space(c) => {
                self.skip_spaces_after_first();
            }
            c if is_alpha(c) => {
                self.backup(Some(c));
                self.identifier();
            }
            ',' => self.emit(Comma),
            '"' | '\'' => self.string(r),
            '`' => self.raw_string(),
            '=' => {
                if self.peek() == Some('~') {
                    self.next();
                    self.emit(EqlRegex)
                } else {
                    self.emit(Eql)
                }
            }
            '!' => match self.next() {
                Some('~') => self.emit(NeqRegex),
                Some('=') => self.emit(Neq),
                other => self.errorf(format!("unexpected character after '!' inside braces: {}", rune_or_eof(other))),
            },
            '{' => self.errorf("unexpected left brace '{'".into()),
            '}' => {
                self.emit(RightBrace);
                self.brace_open = false;
                self.state = if self.series_desc { State::ValueSequence } else { State::Statements };
            }
            c => self.errorf(format!("unexpected character inside braces: {}", quote_rune(c))),
        }
    }

    fn value_sequence(&mut self) {
        let Some(r) = self.next() else {
            self.state = State::Statements;
            return;
        };
        match r {
            c if is_space(c) => {
                self.emit(Space);
                self.skip_spaces();
            }
            '+' => self.emit(Add),
            '-' => self.emit(Sub),
            'x' => self.emit(Times),
            '_' => self.emit(Blank),
            c if is_digit(c) || (c == '.' && self.peek().is_some_and(is_digit)) => {
                self.backup(Some(c));
                if !self.scan_number() {
                    let text = self.input[self.start..self.pos].to_string();
                    return self.errorf(format!("bad number syntax: {}", go_quote(&text)));
                }
                self.emit(Number);
            }
            c if is_alpha(c) => {
                self.backup(Some(c));
                self.keyword_or_identifier();
            }
            c => self.errorf(format!("unexpected character in series sequence: {}", quote_rune(c))),
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.next();
        }
        self.ignore();
    }

    /// `lexSpace`: the first space was read already.
    fn skip_spaces_after_first(&mut self) {
        self.skip_spaces();
    }

    fn space(&mut self) {
        self.skip_spaces();
    }

    fn line_comment(&mut self) {
        self.pos += 1;
        while let Some(c) = self.next() {
            if is_end_of_line(c) {
                self.backup(Some(c));
                break;
            }
        }
        self.emit(Comment);
    }

    fn string(&mut self, quote: char) {
        loop {
            match self.next() {
                Some('\\') => {
                    if let Err(msg) = self.escape(quote) {
                        return self.errorf(msg);
                    }
                }
                None | Some('\n') => return self.errorf("unterminated quoted string".into()),
                Some(c) if c == quote => break,
                Some(_) => {}
            }
        }
        self.emit(ItemType::String);
    }

    fn raw_string(&mut self) {
        loop {
            match self.next() {
                None => return self.errorf("unterminated raw string".into()),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(ItemType::String);
    }

    /// Checks an escape sequence after a backslash, as `lexEscape` does.
    fn escape(&mut self, quote: char) -> Result<(), std::string::String> {
        let mut ch = self.next();
        let (mut n, base, max): (u32, u32, u32) = match ch {
            Some('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\') => return Ok(()),
            Some(c) if c == quote => return Ok(()),
            Some('0'..='7') => (3, 8, 255),
            Some('x') => {
                ch = self.next();
                (2, 16, 255)
            }
            Some('u') => {
                ch = self.next();
                (4, 16, 0x10FFFF)
            }
            Some('U') => {
                ch = self.next();
                (8, 16, 0x10FFFF)
            }
            None => return Err("escape sequence not terminated".into()),
            Some(c) => return Err(format!("unknown escape sequence {}", unicode_desc(c))),
        };
        let mut x: u32 = 0;
        while n > 0 {
            let d = ch.and_then(|c| c.to_digit(16)).unwrap_or(16);
            if d >= base {
                return Err(match ch {
                    None => "escape sequence not terminated".into(),
                    Some(c) => format!("illegal character {} in escape sequence", unicode_desc(c)),
                });
            }
            x = x.wrapping_mul(base).wrapping_add(d);
            n -= 1;
            if n > 0 {
                ch = self.next();
            }
        }
        if x > max || (0xD800..0xE000).contains(&x) {
            return Err("escape sequence is an invalid Unicode code point".into());
        }
        Ok(())
    }

    fn duration(&mut self) {
        if self.scan_number() {
            return self.errorf("missing unit character in duration".into());
        }
        if !self.accept_remaining_duration() {
            let text = self.input[self.start..self.pos].to_string();
            return self.errorf(format!("bad duration syntax: {}", go_quote(&text)));
        }
        self.emit(Duration);
    }

    fn number_or_duration(&mut self) {
        if self.scan_number() {
            return self.emit(Number);
        }
        if self.accept_remaining_duration() {
            return self.emit(Duration);
        }
        let text = self.input[self.start..self.pos].to_string();
        self.errorf(format!("bad number or duration syntax: {}", go_quote(&text)))
    }

    /// After the digits of a duration: unit letters, then more digit-unit
    /// groups, and no letter or digit right after. Like Prometheus's
    /// `acceptRemainingDuration` it reads one character past the duration; on
    /// success it steps back, on failure that character is part of the error
    /// text ("bad duration syntax: \"5mm\"").
    fn accept_remaining_duration(&mut self) -> bool {
        if !self.accept("smhdwy") {
            return false;
        }
        self.accept("s"); // "ms"
        while self.accept("0123456789") {
            while self.accept("0123456789") {}
            if !self.accept("smhdw") {
                return false;
            }
            self.accept("s");
        }
        let next = self.next();
        if next.is_some_and(is_alphanumeric) {
            return false;
        }
        self.backup(next);
        true
    }

    fn scan_number(&mut self) -> bool {
        let mut digits = "0123456789";
        if !self.series_desc && self.accept("0") && self.accept("xX") {
            digits = "0123456789abcdefABCDEF";
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789");
        }
        match self.peek() {
            Some('x') if self.series_desc => true,
            Some(c) => !is_alphanumeric(c),
            None => true,
        }
    }

    fn identifier(&mut self) {
        while self.peek().is_some_and(is_alphanumeric) {
            self.next();
        }
        self.emit(Identifier);
    }

    fn keyword_or_identifier(&mut self) {
        while self.peek().is_some_and(|c| is_alphanumeric(c) || c == ':') {
            self.next();
        }
        let word = &self.input[self.start..self.pos];
        let typ = match keyword(word) {
            Some(kw) => kw,
            None if !word.contains(':') => Identifier,
            None => MetricIdentifier,
        };
        self.emit(typ);
        if self.series_desc && self.peek() != Some('{') {
            self.state = State::ValueSequence;
        }
    }
}

/// `%q` of the rune Go's lexer reads at the end of input (-1), which Go prints
/// as the replacement character.
fn rune_or_eof(c: Option<char>) -> std::string::String {
    quote_rune(c.unwrap_or(char::REPLACEMENT_CHARACTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(input: &str) -> Vec<ItemType> {
        lex(input).into_iter().map(|i| i.typ).collect()
    }

    #[test]
    fn selectors_and_operators() {
        assert_eq!(
            types(r#"sum by (job) (rate(http_requests_total{job=~"a.*"}[5m] offset 1h)) > 0"#),
            vec![
                Sum,
                By,
                LeftParen,
                Identifier,
                RightParen,
                LeftParen,
                Identifier,
                LeftParen,
                Identifier,
                LeftBrace,
                Identifier,
                EqlRegex,
                ItemType::String,
                RightBrace,
                LeftBracket,
                Duration,
                RightBracket,
                Offset,
                Duration,
                RightParen,
                RightParen,
                Gtr,
                Number,
                Eof
            ]
        );
    }

    #[test]
    fn keywords_inside_braces_are_identifiers() {
        assert_eq!(types("{by=\"x\"}"), vec![LeftBrace, Identifier, Eql, ItemType::String, RightBrace, Eof]);
    }

    #[test]
    fn numbers_and_durations() {
        assert_eq!(
            types("0x1F 1e3 .5 Inf NaN 5m 1h30m"),
            vec![Number, Number, Number, Number, Number, Duration, Duration, Eof]
        );
        assert_eq!(types("foo[5m:1m]"), vec![Identifier, LeftBracket, Duration, Colon, Duration, RightBracket, Eof]);
    }

    #[test]
    fn errors_end_the_stream() {
        let items = lex("sum(foo");
        assert_eq!(items.last().unwrap().val, "unclosed left parenthesis");
        assert_eq!(lex("foo{").last().unwrap().val, "unexpected end of input inside braces");
        assert_eq!(lex("foo[5]").last().unwrap().val, "missing unit character in duration");
        assert_eq!(lex("a $ b").last().unwrap().val, "unexpected character: '$'");
        assert_eq!(lex("\"abc").last().unwrap().val, "unterminated quoted string");
        assert_eq!(lex(r#""\q""#).last().unwrap().val, "unknown escape sequence U+0071 'q'");
    }

    #[test]
    fn descriptions_match_prometheus() {
        let items = lex(r#"foo + "a long string value" by 5m"#);
        assert_eq!(items[0].desc(), r#"identifier "foo""#);
        assert_eq!(items[1].desc(), "<op:+>");
        assert_eq!(items[2].desc(), r#"string "\"a long st"..."#);
        assert_eq!(items[3].desc(), "<by>");
        assert_eq!(items[4].desc(), r#"duration "5m""#);
        assert_eq!(items[5].desc(), "end of input");
        assert_eq!(lex("(").first().unwrap().desc(), r#""(""#);
    }

    #[test]
    fn series_descriptions() {
        let items = lex_series_desc(r#"metric{a="b"} 1+2x3 _ stale -1"#);
        let t: Vec<ItemType> = items.iter().map(|i| i.typ).collect();
        assert_eq!(
            t,
            vec![
                Identifier,
                LeftBrace,
                Identifier,
                Eql,
                ItemType::String,
                RightBrace,
                Space,
                Number,
                Add,
                Number,
                Times,
                Number,
                Space,
                Blank,
                Space,
                Identifier,
                Space,
                Sub,
                Number,
                Eof
            ]
        );
    }
}
