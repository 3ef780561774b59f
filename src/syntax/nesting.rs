//! A scan before parsing that refuses sources nested so deeply that walking or dropping their tree
//! could exhaust a thread's stack.
//!
//! Ruff's parser moves its own recursion to the heap when it runs deep, but the tree it builds is
//! as deep as the source nests, and the extractor (resolving `a.b.c...`, walking), and `Drop`,
//! recurse over it: a 6 MB chain of attributes overflows a 256 MB stack. CPython itself refuses
//! such files (100 indentation levels, 200 nested brackets, recursion limits in its compiler near
//! 3,000), so no importable code comes near these limits (the indentation limit is CPython's own).
//! The scan bounds three things:
//! - nested brackets ([`MAX_BRACKET_DEPTH`]);
//! - nested indented blocks ([`MAX_INDENT_DEPTH`]);
//! - an upper bound on the depth of the expression tree ([`MAX_EXPRESSION_DEPTH`]): within one
//!   comma-separated item of a logical line, every operator, `.`, bracket pair and nesting keyword
//!   (`not`, `lambda`, `await`, `yield`, `if`, `else`) counts, since each can add at most one level
//!   (`-----x`, `2**2**2`, `a.b.c`, `f()()`, `x if a else y if b else z`).
//!
//! Strings are skipped (their operators are text), except the replacement fields of f-strings,
//! which are code: the scan follows PEP 701, so quotes reused inside a field do not end the
//! string. Where the scan and the parser could disagree on where a string ends, code could hide
//! from the scan (an escaped `\r\n` once did: `tests/fuzz-regressions/`).
//!
//! The scan runs over every byte of every file, so it is kept cheap. Only a logical line long
//! enough to be refused (over 50,000 bytes, or over 4,096 with enough `=` signs that a chain of
//! assignments could pass its bound) is counted token by token; every other line is skimmed:
//! from one byte that can change the structure (a quote, `#`, a bracket, a backslash, a line
//! break) to the next, found sixteen bytes at a time, with strings and comments skipped the same
//! way or with `memchr`. A line found long
//! at its end, or one the skim can't read alone (a bracket past the limit, letters before a quote
//! that may end a number), is scanned again from its start, counting; the blocks open before it
//! are all the state a line starts from. (8.3 instructions a byte on the benchmark corpus, from
//! 16; tests compare the result with counting every line.)

use super::SyntaxError;

/// Past this depth of brackets the file is refused (CPython refuses at 200).
pub const MAX_BRACKET_DEPTH: usize = 1000;

/// Past this depth of indented blocks the file is refused, as CPython refuses it ("too many levels
/// of indentation").
pub const MAX_INDENT_DEPTH: usize = 100;

/// Past this bound on the depth of one expression the file is refused.
pub const MAX_EXPRESSION_DEPTH: u32 = 50_000;

/// Past this cost a chained assignment (`a = b = ... = value`) is refused. Extraction records what
/// it knows of the value once per target, so memory grows with targets × length of the statement:
/// 30,000 targets of a 60 KB name took 1.8 GB. The cost is that product, in bytes; real code stays
/// orders of magnitude below (`a = b = <a 5 MB literal>` costs 10 MB).
pub const MAX_CHAINED_ASSIGNMENT_COST: u64 = 16 << 20;

/// Counting state of one bracket level.
#[derive(Default)]
struct Level {
    /// Nesting tokens in the current comma-separated item.
    item: u32,
    /// The most any finished item of this level counted.
    widest: u32,
}

/// Where the scan is: in code, or in the literal part of an f-string.
enum Mode {
    /// Code at the top level, or inside an f-string replacement field opened at `levels.len()`.
    Code {
        field_at: Option<usize>,
    },
    FString {
        quote: u8,
        triple: bool,
    },
    /// After `:` in a replacement field: text, with nested fields, up to the field's `}`.
    FormatSpec,
}

struct Scan<'a> {
    bytes: &'a [u8],
    i: usize,
    /// Open brackets; the bottom entry is the logical line itself.
    levels: Vec<Level>,
    /// Sum of `item` over `levels`, kept up to date.
    depth: u32,
    modes: Vec<Mode>,
    indents: Vec<usize>,
    at_line_start: bool,
    /// Where the current logical line starts, and its top-level `=` signs so far.
    line_start: usize,
    assignment_targets: u64,
    /// Whether the current logical line is counted token by token (see [`Scan::rewind`]); when not,
    /// only what can change the structure (strings, comments, brackets, line breaks) is looked at.
    counting: bool,
    /// Whether lines start uncounted; the exact scan of every line, which tests compare against.
    skim_lines: bool,
}

/// Refuses `source` when it nests past one of the limits, with the offset where it does.
pub fn check(source: &str) -> Result<(), SyntaxError> {
    scan(source, true)
}

fn scan(source: &str, skim_lines: bool) -> Result<(), SyntaxError> {
    let mut scan = Scan {
        bytes: source.as_bytes(),
        i: 0,
        levels: vec![Level::default()],
        depth: 0,
        modes: vec![Mode::Code { field_at: None }],
        indents: vec![0],
        at_line_start: true,
        line_start: 0,
        assignment_targets: 0,
        counting: !skim_lines,
        skim_lines,
    };
    scan.run()
}

impl Scan<'_> {
    fn run(&mut self) -> Result<(), SyntaxError> {
        loop {
            while self.i < self.bytes.len() {
                let step = match self.modes.last() {
                    Some(&Mode::FString { quote, triple }) => self.fstring_text(quote, triple),
                    Some(Mode::FormatSpec) => self.format_spec(),
                    _ => self.code(),
                };
                if let Err(refusal) = step {
                    if self.counting {
                        return Err(refusal);
                    }
                    // Counting could refuse the line earlier, and for another reason.
                    self.rewind();
                }
            }
            if !self.counting && self.line_may_reach_limits() {
                self.rewind();
                continue;
            }
            return self.check_chained_assignment();
        }
    }

    /// Whether the logical line from `line_start` to the cursor, scanned without counting, is long
    /// enough that counting might refuse it. Every level that [`Scan::count`] adds takes a byte of
    /// its own (a bracket pair, the opening one), so an expression can't nest deeper than its line
    /// is long; a chain of assignments has fewer targets than the line has `=` signs.
    fn line_may_reach_limits(&self) -> bool {
        // (An escape at the very end of the source leaves the cursor one past it.)
        let length = (self.i - self.line_start) as u64;
        if length > u64::from(MAX_EXPRESSION_DEPTH) {
            return true;
        }
        if length.saturating_mul(length) <= MAX_CHAINED_ASSIGNMENT_COST {
            return false;
        }
        let line = &self.bytes[self.line_start..self.i.min(self.bytes.len())];
        let equals = memchr::memchr_iter(b'=', line).count() as u64;
        equals >= 2 && equals.saturating_mul(length) > MAX_CHAINED_ASSIGNMENT_COST
    }

    /// Goes back to the start of the logical line to scan it again, counting. Real lines are
    /// short and scanned once, without counting: only the exact scan of a line that may be refused
    /// counts, from a state that only the indentation carries over (and measuring the
    /// indentation again leaves the open blocks as they are).
    fn rewind(&mut self) {
        self.i = self.line_start;
        self.levels.truncate(1);
        self.levels[0] = Level::default();
        self.depth = 0;
        self.modes.truncate(1);
        self.assignment_targets = 0;
        self.at_line_start = true;
        self.counting = true;
    }

    /// Refuses the logical line ending here when it chains too many assignment targets for its
    /// length (see [`MAX_CHAINED_ASSIGNMENT_COST`]).
    fn check_chained_assignment(&self) -> Result<(), SyntaxError> {
        let targets = self.assignment_targets;
        let cost = targets.saturating_mul((self.i - self.line_start) as u64);
        if targets >= 2 && cost > MAX_CHAINED_ASSIGNMENT_COST {
            return Err(SyntaxError {
                offset: self.line_start.min(u32::MAX as usize) as u32,
                message: format!(
                    "an assignment chains {targets} targets over {} bytes, more than stateleak analyses; the file was not analysed",
                    self.i - self.line_start
                ),
            });
        }
        Ok(())
    }

    fn brackets(&self) -> usize {
        self.levels.len() - 1
    }

    fn refuse(&self, message: String) -> Result<(), SyntaxError> {
        Err(SyntaxError {
            offset: self.i.min(u32::MAX as usize) as u32,
            message,
        })
    }

    fn count(&mut self, tokens: u32) -> Result<(), SyntaxError> {
        if !self.counting {
            return Ok(());
        }
        let level = self
            .levels
            .last_mut()
            .expect("the line level is never popped");
        level.item = level.item.saturating_add(tokens);
        self.depth = self.depth.saturating_add(tokens);
        let bound = self.depth.saturating_add(self.brackets() as u32);
        if bound > MAX_EXPRESSION_DEPTH {
            return self.refuse(format!(
                "an expression nests more than {MAX_EXPRESSION_DEPTH} levels deep; the file was not analysed"
            ));
        }
        Ok(())
    }

    fn end_item(&mut self) {
        let level = self
            .levels
            .last_mut()
            .expect("the line level is never popped");
        level.widest = level.widest.max(level.item);
        self.depth -= level.item;
        level.item = 0;
    }

    fn open(&mut self) -> Result<(), SyntaxError> {
        self.levels.push(Level::default());
        if self.brackets() > MAX_BRACKET_DEPTH {
            return self.refuse(format!(
                "brackets nest more than {MAX_BRACKET_DEPTH} levels deep; the file was not analysed"
            ));
        }
        Ok(())
    }

    /// Closes a bracket: what it held counts, as one item, toward the enclosing item.
    fn close(&mut self) -> Result<(), SyntaxError> {
        if self.levels.len() == 1 {
            return Ok(());
        }
        let level = self.levels.pop().expect("checked above");
        self.depth -= level.item;
        self.count(level.widest.max(level.item).saturating_add(1))
    }

    fn end_logical_line(&mut self) -> Result<(), SyntaxError> {
        if !self.counting && self.line_may_reach_limits() {
            self.rewind();
            return Ok(());
        }
        self.check_chained_assignment()?;
        self.line_start = self.i;
        self.assignment_targets = 0;
        self.levels.truncate(1);
        self.end_item();
        self.levels[0] = Level::default();
        self.depth = 0;
        self.at_line_start = true;
        self.counting = !self.skim_lines;
        Ok(())
    }

    /// Measures the indentation of a new logical line and keeps the stack of open blocks.
    fn indentation(&mut self) -> Result<(), SyntaxError> {
        self.at_line_start = false;
        let mut width = leading_spaces(&self.bytes[self.i..]);
        self.i += width;
        while let Some(&b) = self.bytes.get(self.i) {
            match b {
                b' ' => width += 1,
                b'\t' => width = (width / 8 + 1) * 8,
                b'\x0c' => width = 0,
                _ => break,
            }
            self.i += 1;
        }
        if matches!(self.bytes.get(self.i), None | Some(b'\n' | b'\r' | b'#')) {
            return Ok(()); // a blank or comment-only line opens no block
        }
        while width < *self.indents.last().expect("the base indentation stays") {
            self.indents.pop();
        }
        if width > *self.indents.last().expect("the base indentation stays") {
            self.indents.push(width);
        }
        if self.indents.len() - 1 > MAX_INDENT_DEPTH {
            return self.refuse(format!(
                "blocks nest more than {MAX_INDENT_DEPTH} levels deep (CPython refuses this too); the file was not analysed"
            ));
        }
        Ok(())
    }

    /// Code up to the next change of mode or the start of a logical line, token by token when
    /// counting, else from one byte that [`may_change_structure`] to the next. Bytes are told apart through
    /// [`CODE_CLASS`], so the common ones (names, blanks) cost a table look-up each.
    fn code(&mut self) -> Result<(), SyntaxError> {
        let field_at = match self.modes.last() {
            Some(&Mode::Code { field_at }) => field_at,
            _ => None,
        };
        let in_field = field_at.is_some();
        if self.at_line_start && !in_field && self.brackets() == 0 {
            return self.indentation();
        }
        let bytes = self.bytes;
        while self.i < bytes.len() {
            if !self.counting {
                let next = if in_field {
                    find_first(bytes, self.i, |b| may_change_structure(b) | (b == b':'))
                } else {
                    find_first(bytes, self.i, may_change_structure)
                };
                let Some(next) = next else {
                    self.i = bytes.len();
                    break;
                };
                self.i = next;
            }
            let b = bytes[self.i];
            match CODE_CLASS[b as usize] {
                Class::Blank => self.i += 1,
                Class::Word => {
                    let start = self.i;
                    let end = word_end(bytes, start);
                    if matches!(bytes.get(end), Some(b'\'' | b'"'))
                        && is_string_prefix(&bytes[start..end])
                    {
                        self.i = end;
                        // The string may open an f-string: a change of mode.
                        return self.string(is_formatted(&bytes[start..end]));
                    }
                    self.i = end;
                    if is_nesting_keyword(&bytes[start..end]) {
                        self.count(1)?;
                    }
                }
                Class::Digit => self.number(),
                Class::Operator => {
                    self.i += 1;
                    self.count(1)?;
                }
                Class::Dot => {
                    if bytes.get(self.i + 1).is_some_and(u8::is_ascii_digit) {
                        self.number();
                    } else {
                        self.i += 1;
                        self.count(1)?;
                    }
                }
                Class::Comma => {
                    self.i += 1;
                    self.end_item();
                }
                Class::Open => {
                    self.i += 1;
                    self.open()?;
                }
                Class::Close => {
                    self.i += 1;
                    self.close()?;
                }
                Class::CloseBrace => {
                    self.i += 1;
                    if field_at == Some(self.levels.len()) {
                        // The end of an f-string replacement field: back to the string's text.
                        self.modes.pop();
                        return self.close();
                    }
                    self.close()?;
                }
                Class::Colon => {
                    self.i += 1;
                    if field_at == Some(self.levels.len()) {
                        self.modes.push(Mode::FormatSpec);
                        return Ok(());
                    }
                }
                Class::Quote if self.counting => return self.string(false),
                Class::Quote => match self.prefix_formats() {
                    Some(formatted) => return self.string(formatted),
                    None => {
                        self.rewind();
                        return Ok(());
                    }
                },
                Class::LineBreak => {
                    self.skip_line_break();
                    if self.brackets() == 0 && !in_field {
                        if self.counting || self.line_may_reach_limits() {
                            return self.end_logical_line();
                        }
                        // Uncounted, a line leaves nothing to reset: on to the next one.
                        self.line_start = self.i;
                        self.indentation()?;
                    }
                }
                Class::Backslash => {
                    // A line continuation joins the next line to this logical line.
                    self.i += 1;
                    self.skip_line_break();
                }
                Class::Comment => {
                    self.i = memchr::memchr2(b'\n', b'\r', &bytes[self.i..])
                        .map_or(bytes.len(), |offset| self.i + offset);
                }
                Class::Equals => {
                    // A plain `=` at the top level: not `==`, `<=`, `+=`, `:=`, ... nor a keyword
                    // argument.
                    let previous = self.i.checked_sub(1).map(|p| bytes[p]);
                    let compound = matches!(
                        previous,
                        Some(
                            b'=' | b'<'
                                | b'>'
                                | b'!'
                                | b':'
                                | b'+'
                                | b'-'
                                | b'*'
                                | b'/'
                                | b'%'
                                | b'@'
                                | b'&'
                                | b'|'
                                | b'^'
                        )
                    ) || bytes.get(self.i + 1) == Some(&b'=');
                    if !compound && self.brackets() == 0 && !in_field {
                        self.assignment_targets += 1;
                    }
                    self.i += 1;
                }
                Class::Semicolon => {
                    if self.brackets() == 0 && !in_field {
                        // The next simple statement on this line starts its own chain.
                        self.check_chained_assignment()?;
                        self.line_start = self.i + 1;
                        self.assignment_targets = 0;
                    }
                    self.i += 1;
                    self.end_item();
                }
            }
        }
        Ok(())
    }

    fn number(&mut self) {
        while let Some(&b) = self.bytes.get(self.i) {
            let exponent_sign = matches!(b, b'+' | b'-')
                && matches!(self.bytes.get(self.i.wrapping_sub(1)), Some(b'e' | b'E'));
            if !(b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || exponent_sign) {
                break;
            }
            self.i += 1;
        }
    }

    /// Without counting, at a quote: whether the letters just before it make it an f-string (or
    /// t-string), as the word they form when counting would. `None` when they may end a number
    /// instead (`1.f''` is a number then a plain string), which only counting tells apart.
    fn prefix_formats(&self) -> Option<bool> {
        let bytes = self.bytes;
        let letters = bytes[..self.i]
            .iter()
            .rev()
            .take(4)
            .take_while(|&&b| matches!(CODE_CLASS[b as usize], Class::Word | Class::Digit))
            .count();
        let start = self.i - letters;
        let word = &bytes[start..self.i];
        if !(is_string_prefix(word) && is_formatted(word)) {
            return Some(false);
        }
        // A number runs on over letters, `.`, and a sign after an exponent's `e`.
        let before = |back: usize| start.checked_sub(back).map(|at| bytes[at]);
        let may_end_number = match before(1) {
            Some(b'.') => before(2).is_some_and(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-')
            }),
            Some(b'+' | b'-') => matches!(before(2), Some(b'e' | b'E')),
            _ => false,
        };
        (!may_end_number).then_some(true)
    }

    /// A string literal starting at the quote under the cursor, formatted (an f- or t-string) or
    /// not.
    fn string(&mut self, formatted: bool) -> Result<(), SyntaxError> {
        let quote = self.bytes[self.i];
        let triple = self.bytes.get(self.i + 1) == Some(&quote)
            && self.bytes.get(self.i + 2) == Some(&quote);
        self.i += if triple { 3 } else { 1 };
        if formatted {
            self.modes.push(Mode::FString { quote, triple });
            return Ok(());
        }
        let bytes = self.bytes;
        loop {
            // Only a quote, a backslash and (single-quoted) a line break can end the text. (An
            // escape at the very end leaves the cursor past it.)
            let Some(rest) = bytes.get(self.i..) else {
                return Ok(());
            };
            let stop = if triple {
                memchr::memchr2(quote, b'\\', rest).map(|offset| self.i + offset)
            } else {
                find_first(bytes, self.i, |b| {
                    (b == quote) | (b == b'\\') | (b == b'\n') | (b == b'\r')
                })
            };
            let Some(stop) = stop else {
                self.i = bytes.len();
                return Ok(());
            };
            self.i = stop;
            match bytes[self.i] {
                b'\\' => self.skip_escape(),
                b'\n' | b'\r' => return Ok(()), // unterminated: the parser reports it
                _ if self.ends_string(quote, triple) => return Ok(()),
                _ => self.i += 1,
            }
        }
    }

    /// At a closing quote: steps past it and says so.
    fn ends_string(&mut self, quote: u8, triple: bool) -> bool {
        let closes = if triple {
            self.bytes[self.i..].starts_with(&[quote; 3])
        } else {
            self.bytes[self.i] == quote
        };
        if closes {
            self.i += if triple { 3 } else { 1 };
        }
        closes
    }

    /// A backslash and what it escapes; an escaped line break (`\r\n` too) continues the string.
    fn skip_escape(&mut self) {
        self.i += 1;
        if matches!(self.bytes.get(self.i), Some(b'\r' | b'\n')) {
            self.skip_line_break();
        } else {
            self.i += 1;
        }
    }

    fn skip_line_break(&mut self) {
        if self.bytes.get(self.i) == Some(&b'\r') {
            self.i += 1;
        }
        if self.bytes.get(self.i) == Some(&b'\n') {
            self.i += 1;
        }
    }

    /// The literal text of an f-string, up to its end or its next replacement field.
    fn fstring_text(&mut self, quote: u8, triple: bool) -> Result<(), SyntaxError> {
        while self.i < self.bytes.len() {
            // Other bytes are text.
            let Some(next) = find_first(self.bytes, self.i, |b| {
                (b == quote) | (b == b'\\') | (b == b'\n') | (b == b'\r') | (b == b'{')
            }) else {
                self.i = self.bytes.len();
                break;
            };
            self.i = next;
            let b = self.bytes[self.i];
            // `\{` still opens a field (the backslash is text), so only other escapes are skipped.
            if b == b'\\' && self.bytes.get(self.i + 1) != Some(&b'{') {
                self.skip_escape();
                continue;
            }
            if matches!(b, b'\n' | b'\r') && !triple {
                // Unterminated: the parser reports it; the line break ends the logical line.
                self.modes.pop();
                return Ok(());
            }
            if self.ends_string(quote, triple) {
                self.modes.pop();
                return Ok(());
            }
            if b == b'{' {
                if self.bytes.get(self.i + 1) == Some(&b'{') {
                    self.i += 2;
                    continue;
                }
                return self.open_field();
            }
            self.i += 1;
        }
        Ok(())
    }

    /// A format specification: text and nested fields, ended by the `}` of its field. The parser
    /// ends the whole f-string at its quote (or, single-quoted, at a line break) and reads on as
    /// code, so those end it here too; and since text the parser may read as code must not hide
    /// nesting, operators, brackets and nesting keywords in a specification count.
    fn format_spec(&mut self) -> Result<(), SyntaxError> {
        let (quote, triple) = self.enclosing_fstring().unwrap_or((b'"', true));
        while self.i < self.bytes.len() {
            let b = self.bytes[self.i];
            match b {
                b'{' => return self.open_field(),
                b'}' => {
                    self.i += 1;
                    self.modes.pop(); // the format specification
                    self.modes.pop(); // the field's code
                    return self.close();
                }
                b'\n' | b'\r' if !triple => return self.abandon_fstring(),
                _ if self.ends_string(quote, triple) => return self.abandon_fstring(),
                b'.' | b'+' | b'-' | b'*' | b'/' | b'%' | b'@' | b'&' | b'|' | b'^' | b'~'
                | b'<' | b'>' | b'(' | b'[' => {
                    self.i += 1;
                    self.count(1)?;
                }
                _ if b == b'_' || b.is_ascii_alphabetic() || b >= 0x80 => {
                    let start = self.i;
                    self.i = word_end(self.bytes, start);
                    if is_nesting_keyword(&self.bytes[start..self.i]) {
                        self.count(1)?;
                    }
                }
                _ => self.i += 1,
            }
        }
        Ok(())
    }

    /// The quote of the f-string whose field the scan is in, and whether it is triple.
    fn enclosing_fstring(&self) -> Option<(u8, bool)> {
        self.modes.iter().rev().find_map(|mode| match mode {
            &Mode::FString { quote, triple } => Some((quote, triple)),
            _ => None,
        })
    }

    /// Leaves the innermost f-string from inside one of its fields, closing the fields.
    fn abandon_fstring(&mut self) -> Result<(), SyntaxError> {
        while let Some(mode) = self.modes.pop() {
            match mode {
                Mode::FString { .. } => break,
                Mode::Code { field_at: Some(_) } => self.close()?,
                Mode::Code { field_at: None } => {
                    self.modes.push(mode); // the top level is never left
                    break;
                }
                Mode::FormatSpec => {}
            }
        }
        Ok(())
    }

    /// A replacement field is code, counted like a bracket it opens.
    fn open_field(&mut self) -> Result<(), SyntaxError> {
        self.i += 1;
        self.open()?;
        self.modes.push(Mode::Code {
            field_at: Some(self.levels.len()),
        });
        Ok(())
    }
}

fn is_nesting_keyword(word: &[u8]) -> bool {
    matches!(
        word,
        b"not" | b"lambda" | b"await" | b"yield" | b"if" | b"else"
    )
}

/// What a byte can start in code, for [`Scan::code`].
#[derive(Clone, Copy)]
enum Class {
    /// Means nothing to the scan: spaces, and characters such as `!` or `$`.
    Blank,
    /// Starts a name or keyword: `_`, a letter, or any byte of a non-ASCII character.
    Word,
    Digit,
    /// One level of an expression: `+ - * / % @ & | ^ ~ < >`.
    Operator,
    Dot,
    Comma,
    Semicolon,
    Colon,
    Equals,
    Open,
    Close,
    CloseBrace,
    Quote,
    LineBreak,
    Backslash,
    Comment,
}

static CODE_CLASS: [Class; 256] = {
    let mut table = [Class::Blank; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = match byte {
            b'_' | b'a'..=b'z' | b'A'..=b'Z' | 0x80..=0xff => Class::Word,
            b'0'..=b'9' => Class::Digit,
            b'+' | b'-' | b'*' | b'/' | b'%' | b'@' | b'&' | b'|' | b'^' | b'~' | b'<' | b'>' => {
                Class::Operator
            }
            b'.' => Class::Dot,
            b',' => Class::Comma,
            b';' => Class::Semicolon,
            b':' => Class::Colon,
            b'=' => Class::Equals,
            b'(' | b'[' | b'{' => Class::Open,
            b')' | b']' => Class::Close,
            b'}' => Class::CloseBrace,
            b'\'' | b'"' => Class::Quote,
            b'\n' | b'\r' => Class::LineBreak,
            b'\\' => Class::Backslash,
            b'#' => Class::Comment,
            _ => Class::Blank,
        };
        b += 1;
    }
    table
};

/// Whether a byte can change what the scan is in (a string, a comment, brackets, a logical line),
/// outside replacement fields (where `:` can too): all the scan looks at in code when not counting.
/// Tested with comparisons rather than [`CODE_CLASS`] so that [`find_first`] runs on vectors; `$`,
/// `%`, `&`, `|` and two blanks come along, and mean no more to the scan than they would anyway.
fn may_change_structure(b: u8) -> bool {
    // `| 0x20` takes `[ \ ]` to `{ | }`.
    within(b, b'\n', b'\r') | within(b, b'"', b')') | within(b | 0x20, b'{', b'}')
}

/// Whether `low <= b <= high`, in the form that compiles to vector instructions (`min`, `==`).
#[inline(always)]
fn within(b: u8, low: u8, high: u8) -> bool {
    let above = b.wrapping_sub(low);
    above.min(high - low) == above
}

/// The first position from `from` on whose byte is `wanted`. Sixteen bytes are tested at a time,
/// in a form the compiler turns into vector instructions when `wanted` compares (with `==`,
/// [`within`], and `|` rather than `||`).
#[inline(always)]
fn find_first(bytes: &[u8], from: usize, wanted: impl Fn(u8) -> bool) -> Option<usize> {
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 16) {
        let flags: [u8; 16] = std::array::from_fn(|k| u8::from(wanted(chunk[k])).wrapping_neg());
        let found = u128::from_le_bytes(flags);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 16;
    }
    let offset = bytes.get(at..)?.iter().position(|&b| wanted(b))?;
    Some(at + offset)
}

/// How many spaces `bytes` starts with, eight at a time.
fn leading_spaces(bytes: &[u8]) -> usize {
    let mut count = 0;
    while let Some(word) = bytes.get(count..count + 8) {
        let word: [u8; 8] = word.try_into().expect("eight bytes");
        let others = u64::from_le_bytes(word) ^ u64::from_le_bytes([b' '; 8]);
        if others != 0 {
            return count + others.trailing_zeros() as usize / 8;
        }
        count += 8;
    }
    count + bytes[count..].iter().take_while(|&&b| b == b' ').count()
}

/// Where the name starting at `start` ends (names run on over digits).
fn word_end(bytes: &[u8], start: usize) -> usize {
    let length = bytes[start..]
        .iter()
        .position(|&b| !matches!(CODE_CLASS[b as usize], Class::Word | Class::Digit))
        .unwrap_or(bytes.len() - start);
    start + length
}

/// Whether a name just before a quote is a string prefix (`r`, `b`, `f`, `rb`, ...), so the quote
/// starts a string of that kind.
fn is_string_prefix(word: &[u8]) -> bool {
    word.len() <= 3 && word.iter().all(|b| b"rRbBuUfFtT".contains(b))
}

/// Whether a string prefix makes an f-string or a t-string, whose replacement fields are code.
fn is_formatted(prefix: &[u8]) -> bool {
    prefix
        .iter()
        .any(|b| b.eq_ignore_ascii_case(&b'f') || b.eq_ignore_ascii_case(&b't'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Option<String> {
        check(text).err().map(|e| e.message)
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let text = format!("x = '{}'  # {}\n", "(".repeat(2000), "[".repeat(2000));
        assert_eq!(refused(&text), None);
        let triple = format!("x = \"\"\"{}\"\"\"\n", "{".repeat(2000));
        assert_eq!(refused(&triple), None);
    }

    #[test]
    fn deep_brackets_are_refused() {
        let text = format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000));
        assert!(refused(&text).unwrap().contains("brackets nest more than"));
    }

    #[test]
    fn deep_expressions_are_refused() {
        let n = MAX_EXPRESSION_DEPTH as usize + 10;
        for text in [
            format!("x = {}y\n", "-".repeat(n)),
            format!("x = {}y\n", "not ".repeat(n)),
            format!("x = {}\n", vec!["2"; n].join("**")),
            format!("x = a{}\n", ".b".repeat(n)),
            format!("x = f{}\n", "()".repeat(n)),
            format!("x = {}1\n", "lambda: ".repeat(n)),
            format!("x = {}c\n", "a if b else ".repeat(n)),
            format!("x = f'{{a{}}}'\n", ".b".repeat(n)),
            format!("x = f'{{\"\" + a{}}}'\n", ".b".repeat(n)),
            format!("x = f'{{x:\"}}' + a{}\n", ".b".repeat(n)),
            format!("x = {}y\n", "-\\\r\n".repeat(n)),
            format!("x = f'{{x:{{a{}}}}}'\n", ".b".repeat(n)),
            format!("s = 'a\\\r\nb' + a{}\n", ".b".repeat(n)),
            format!("s = f'a\\\r\nb' + a{}\n", ".b".repeat(n)),
            format!("s = f'{{x:' + a{} + '}}'\n", ".b".repeat(n)),
            format!("s = f'{{x:\n{}y\n", "not ".repeat(n)),
            format!("s = f'{{x:{}y}}'\n", "not ".repeat(n)),
        ] {
            let message = refused(&text).unwrap_or_else(|| panic!("accepted {}", &text[..40]));
            assert!(message.contains("expression nests"), "{message}");
        }
    }

    #[test]
    fn wide_code_is_not_deep() {
        let n = MAX_EXPRESSION_DEPTH as usize * 2;
        let items: Vec<String> = (0..n).map(|i| format!("-{i}.5e-3")).collect();
        assert_eq!(refused(&format!("x = [{}]\n", items.join(", "))), None);
        let lines: String = (0..n).map(|i| format!("x{i} = a.b.c - 1\n")).collect();
        assert_eq!(refused(&lines), None);
        let words = format!("x = [{}]\n", vec!["not a"; n].join(", "));
        assert_eq!(refused(&words), None);
        let text = format!("s = '{}' + \"{}\"\n", "-.".repeat(n), "+*".repeat(n));
        assert_eq!(refused(&text), None);
        let fstring = format!("s = f'{}{{x}}{{{{'\n", "-".repeat(n));
        assert_eq!(refused(&fstring), None);
    }

    #[test]
    fn long_chained_assignments_are_refused() {
        let chain = format!("{}{}\n", "f = ".repeat(30_000), "la".repeat(30_000));
        assert!(refused(&chain).unwrap().contains("chains 30000 targets"));
        let attribute = format!("x = 1\n{}a{}\n", "f = ".repeat(3000), ".b".repeat(20_000));
        let error = check(&attribute).unwrap_err();
        assert_eq!(error.offset, 6);
        let big_literal = format!("a = b = [{}]\n", "1, ".repeat(2_000_000));
        assert_eq!(refused(&big_literal), None);
        let comparisons = format!(
            "x = [{}]\n",
            "a == b <= c != d >= e, f(g=1), ".repeat(100_000)
        );
        assert_eq!(refused(&comparisons), None);
        let augmented = format!("{}\n", "x += 1; y -= 2; z **= 3; w //= 4\n".repeat(100_000));
        assert_eq!(refused(&augmented), None);
        let one_line = format!("{}\n", "x = 1; ".repeat(100_000));
        assert_eq!(refused(&one_line), None);
    }

    /// Skimming lines and counting only those that may be refused gives what counting every line
    /// gives: the same refusal at the same offset, or none.
    fn same_as_counting_every_line(text: &str) {
        assert_eq!(
            scan(text, true),
            scan(text, false),
            "{:?}",
            &text[..text.floor_char_boundary(80)]
        );
    }

    #[test]
    fn skimming_agrees_with_counting_on_every_kind_of_text() {
        let n = MAX_EXPRESSION_DEPTH as usize + 10;
        let chain = ".b".repeat(n);
        let blocks: String = (0..MAX_INDENT_DEPTH + 5)
            .map(|i| format!("{}if x:\n", " ".repeat(i)))
            .collect();
        let cases = [
            format!("x = '(' + \"[\" + '''{{\n'''  # (\ny = a{chain}\n"),
            format!("x = f'{{a:{{b}}}}' + f\"{{'(' + \"}}\"}}\"\ny = a{chain}\n"),
            format!("s = f'{{x:' + a{chain} + '}}'\n"),
            format!("s = f'{{x:\n{}y\n", "not ".repeat(n)),
            format!("x = (\n  1,  # )\n  2)\ny = a{chain}\n"),
            format!("x = 1 + \\\n  2\ny = a{chain}\n"),
            format!("x = b'(' + rb\"\\\"(\" + Rb'''('''\ny = a{chain}\n"),
            format!("x = '''(\n''' + \"\"\"[\n\"\"\"\ny = a{chain}\n"),
            format!("x = '(\ny = a{chain}\n"),
            format!("x = f'(\ny = a{chain}\n"),
            format!("x = 1\r\ny = (\r\n  a{chain})\r\n"),
            format!("\u{feff}x = 1\ny = a{chain}\n"),
            format!("s = 'a\\\r\nb' + a{chain}\n"),
            // The letters before a quote, read as a word or as the end of a number.
            format!("s = 1.f'{{x:' + a{chain} + '}}'\n"),
            format!("s = x.f'{{x:' + a{chain} + '}}'\n"),
            format!("s = 1e+f'{{x:' + a{chain} + '}}'\n"),
            format!("s = ae+f'{{x:' + a{chain} + '}}'\n"),
            format!("s = 1f'{{x:' + a{chain} + '}}'\n"),
            format!("s = éf'{{x:' + a{chain} + '}}'\n"),
            format!("s = (f'{{(' + a{chain} + ')}}')\n"),
            format!("s = 1.f'''{{'''\n{blocks}"),
            format!("s = x.f'''{{'''\n{blocks}"),
            format!("s = 1e+f'''{{'''\n{blocks}"),
            format!("s = ae+f'''{{'''\n{blocks}"),
            format!("s = 1.e+f'''{{'''\n{blocks}"),
            format!("s = x+.f'''{{'''\n{blocks}"),
            format!("s = f'''{{'''\n{blocks}"),
            // A line that nests too deep before its brackets do, and one that only nests brackets.
            format!("x = a{chain} + {}1\n", "(".repeat(2000)),
            format!("x = {}1{}\n", "(".repeat(1001), ")".repeat(1001)),
            format!("{}{}\n", "f = ".repeat(30_000), "la".repeat(30_000)),
            format!("x = 1\n{}a{}\n", "f = ".repeat(3000), ".b".repeat(20_000)),
            format!("a = b = [{}]\n", "1, ".repeat(2_000_000)),
            format!("x = 1; {}y = a{chain}", "x = 1; ".repeat(1000)),
            format!("x = {}1\n", "[".repeat(900)),
            format!("if x:\n{}", "    y = 1\n".repeat(10)),
            "x = '\\".to_owned(),
        ];
        for text in &cases {
            same_as_counting_every_line(text);
        }
        // Pieces of code strung together at random, some repeated thousands of times.
        let pieces = [
            "f'",
            "'''",
            "\"",
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            ":",
            "\\\n",
            "\r\n",
            "\n",
            "# (",
            "1.f'",
            "x+f'",
            "1e-f'",
            ".b",
            "-",
            "not ",
            "f = ",
            "x = 1; ",
            "1, ",
            "    ",
            "\t",
            "a if b else ",
            "f'{x:{a",
            "}'",
            "é",
            "rb'",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut below = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..300 {
            let mut text = String::new();
            for _ in 0..1 + below(10) {
                let piece = pieces[below(pieces.len())];
                let times = if below(3) == 0 { 1 + below(30_000) } else { 1 };
                text.push_str(&piece.repeat(times));
            }
            same_as_counting_every_line(&text);
        }
    }

    #[test]
    fn the_vector_test_finds_every_byte_that_can_change_the_structure() {
        for b in 0..=u8::MAX {
            let structural = matches!(
                CODE_CLASS[b as usize],
                Class::Open
                    | Class::Close
                    | Class::CloseBrace
                    | Class::Quote
                    | Class::LineBreak
                    | Class::Backslash
                    | Class::Comment
            );
            assert!(!structural || may_change_structure(b), "{b:#x}");
        }
        let text = format!("{}(x{}", " ".repeat(37), "a".repeat(40));
        assert_eq!(
            find_first(text.as_bytes(), 0, may_change_structure),
            Some(37)
        );
        assert_eq!(find_first(text.as_bytes(), 38, may_change_structure), None);
        assert_eq!(leading_spaces(text.as_bytes()), 37);
    }

    #[test]
    fn deep_blocks_are_refused() {
        let deep: String = (0..MAX_INDENT_DEPTH + 5)
            .map(|i| format!("{}if x:\n", " ".repeat(i)))
            .collect();
        assert!(refused(&deep).unwrap().contains("blocks nest"));
        let shallow: String = (0..5000)
            .map(|i| format!("{}if x:\n", " ".repeat(i % 50)))
            .collect();
        assert_eq!(refused(&shallow), None);
    }
}
