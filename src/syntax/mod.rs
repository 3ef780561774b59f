//! The only place that knows the Python parser (Ruff's parser crates).
//!
//! [`extract`] parses one file and turns its syntax tree into [`FileFacts`]; the tree is dropped
//! before it returns. A change of parser touches this module only.

mod extract;
pub mod fix;
mod nesting;
mod rejected;

use ruff_python_ast::{self as ast, PySourceType};
use ruff_python_parser::Parsed;

use crate::facts::{FileFacts, SuppressionComment};

/// Deep nesting is refused before parsing (see `nesting.rs`) so that no input can exhaust the stack.
pub use nesting::{MAX_BRACKET_DEPTH, MAX_EXPRESSION_DEPTH, MAX_INDENT_DEPTH};

/// Past this depth of nested statements or expressions, the extractor stops descending and records
/// the part it skipped in [`FileFacts::truncated`]. Real code goes deeper than one might think (a
/// 560-term polynomial in sympy is a 568-deep tree); CPython's compiler gives up at a few thousand.
/// Deeper trees are refused before parsing (`nesting.rs`), so this is a backstop.
pub const MAX_WALK_DEPTH: u32 = 10_000;

/// Stack needed by a thread that parses and walks one file (the parser is recursive descent).
pub const STACK_SIZE: usize = 256 * 1024 * 1024;

/// Why a source was not parsed: a syntax error, or nesting deeper than stateleak walks (see
/// [`nesting`]); the message says which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset in the source where the problem is.
    pub offset: u32,
    pub message: String,
}

impl SyntaxError {
    fn from_parser(error: &ruff_python_parser::ParseError) -> Self {
        SyntaxError {
            offset: error.location.start().to_u32(),
            message: format!("syntax error: {}", error.error),
        }
    }
}

/// Parses `source` and extracts its facts. A file with a syntax error yields no facts: CPython
/// would not import it, so nothing in it runs.
pub fn extract(source: &str) -> Result<FileFacts, SyntaxError> {
    nesting::check(source)?;
    let parse = || ruff_python_parser::parse_unchecked_source(source, PySourceType::Python);
    let read = |parsed: &Parsed<ast::ModModule>| {
        if let Some(error) = parsed.errors().first() {
            return Err(SyntaxError::from_parser(error));
        }
        rejected::check(source, parsed)?;
        let (mut facts, _hit_depth_limit) = extract::extract(parsed.syntax(), source);
        facts.suppressions = suppression_comments(source, parsed.tokens()).into();
        Ok(facts)
    };
    // SAFETY: what the parser allocates is owned by the tree it returns (it fills no static or
    // thread-local). A tree that is dropped, not discarded whole, recurses once per level;
    // `nesting::check` bounds its depth, so even a tree the walker cut off is dropped safely.
    unsafe { crate::allocator::with_tree(parse, read) }
}

/// The text of a string literal. Implicitly concatenated parts are joined on first read and kept
/// in the tree: the join is allocated where the tree is (so that a tree discarded whole takes it).
#[allow(clippy::disallowed_methods)]
pub(crate) fn literal_text(value: &ast::StringLiteralValue) -> &str {
    // SAFETY: `to_str` allocates only the joined text, kept in `value`'s tree.
    unsafe { crate::allocator::in_tree_of(value, || value.to_str()) }
}

/// The comments that suppress findings, with their lines and columns. Only those are kept: most
/// comments say nothing to stateleak.
fn suppression_comments(
    source: &str,
    tokens: &ruff_python_ast::token::Tokens,
) -> Vec<SuppressionComment> {
    use ruff_python_ast::token::TokenKind;
    use ruff_text_size::Ranged;

    let mut comments = Vec::new();
    // Lines are counted incrementally: comments come in source order.
    let (mut line, mut line_start, mut counted_to) = (1u32, 0usize, 0usize);
    // A comment starts at a `#`, and a file has far fewer of those than tokens: each `#` not
    // inside a comment already seen is looked up among the tokens (sorted by start) from where
    // the last one was found. A `#` in a string has no token starting at it.
    let (mut tokens_from, mut seen_to) = (0usize, 0usize);
    for hash in memchr::memchr_iter(b'#', source.as_bytes()) {
        if hash < seen_to {
            continue;
        }
        // A comment ends at the end of its line: one whose line has no word of a directive is
        // passed over, and so is every `#` after it on the line (in the comment, or in a string
        // on a line with no directive either).
        let line_end = memchr::memchr2(b'\n', b'\r', &source.as_bytes()[hash..])
            .map_or(source.len(), |offset| hash + offset);
        if !crate::suppression::may_suppress(&source.as_bytes()[hash..line_end]) {
            seen_to = line_end;
            continue;
        }
        let later = &tokens[tokens_from..];
        tokens_from += later.partition_point(|t| t.start().to_usize() < hash);
        // Tokens of no width (a dedent) may start where a comment does.
        let Some(token) = tokens[tokens_from..]
            .iter()
            .take_while(|t| t.start().to_usize() == hash)
            .find(|t| t.kind() == TokenKind::Comment)
        else {
            continue;
        };
        let range = token.range();
        let (start, end) = (range.start().to_usize(), range.end().to_usize());
        seen_to = end;
        let text = &source[start..end];
        let Some((codes, explicit)) = crate::suppression::parse_comment(text) else {
            continue;
        };
        for (i, _) in source[counted_to..start].match_indices('\n') {
            line += 1;
            line_start = counted_to + i + 1;
        }
        counted_to = start;
        comments.push(SuppressionComment {
            line,
            column: source[line_start..start].chars().count() as u32 + 1,
            span: crate::facts::Span::new(start as u32, end as u32),
            codes,
            explicit,
        });
    }
    comments
}

/// Parses `source` and does nothing else: the floor that the benchmark compares against.
pub fn parse_only(source: &str) -> Result<(), SyntaxError> {
    nesting::check(source)?;
    ruff_python_parser::parse_module(source)
        .map(drop)
        .map_err(|error| SyntaxError::from_parser(&error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_ast::token::TokenKind;
    use ruff_text_size::Ranged;

    /// Where each comment token starts, read from every token: what the search from each `#`
    /// must find.
    fn comment_starts(source: &str) -> Vec<usize> {
        let parsed = ruff_python_parser::parse_module(source).expect("the source parses");
        parsed
            .tokens()
            .iter()
            .filter(|t| t.kind() == TokenKind::Comment)
            .map(|t| t.start().to_usize())
            .collect()
    }

    #[test]
    fn suppression_comments_are_found_from_their_hash_and_not_in_strings() {
        let source = "x = '# noqa'  # noqa: SL101\n\
                      def f():\n\
                      \x20   if x:\n\
                      \x20       y = f\"{'#'}\"  # stateleak: ignore[SL102]\n\
                      # noqa ## noqa\n\
                      \x20   return \"\"\"\n\
                      # noqa\n\
                      \"\"\"\n\
                      z = 1 # NOQA:SL103 # noqa\n\
                      ########\n\
                      w = b'#' #noqa\n\
                      # a comment # and a second hash\n\
                      v = '#' + '#' # NoQa\n\
                      k = '# k'  # Stateleak: ignore\n\
                      q = 1  # stateleak: ignore # NOQA: SL104\n";
        let parsed = ruff_python_parser::parse_module(source).expect("the source parses");
        let found: Vec<(u32, u32, usize)> = suppression_comments(source, parsed.tokens())
            .iter()
            .map(|c| (c.line, c.column, c.span.start as usize))
            .collect();
        let starts = comment_starts(source);
        let expected: Vec<(u32, u32, usize)> = starts
            .iter()
            .filter(|&&start| {
                let end = source[start..]
                    .find('\n')
                    .map_or(source.len(), |n| start + n);
                crate::suppression::parse_comment(&source[start..end]).is_some()
            })
            .map(|&start| {
                let line_start = source[..start].rfind('\n').map_or(0, |n| n + 1);
                let line = source[..start].matches('\n').count() as u32 + 1;
                (line, (start - line_start) as u32 + 1, start)
            })
            .collect();
        assert_eq!(found, expected);
        assert_eq!(
            found.iter().map(|f| f.0).collect::<Vec<_>>(),
            [1, 4, 5, 9, 11, 13, 15]
        );
    }
}
