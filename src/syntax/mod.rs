//! The only place that knows the Python parser (Ruff's parser crates).
//!
//! [`extract`] parses one file and turns its syntax tree into [`FileFacts`]; the tree is dropped
//! before it returns. A change of parser touches this module only.

mod extract;

use crate::facts::FileFacts;

/// Syntax trees nest one level per bracket; the parser recurses on each. Past this depth the file
/// is refused before parsing (CPython refuses at 200) so that no input can exhaust the stack.
pub const MAX_BRACKET_DEPTH: usize = 1000;

/// Past this depth of nested statements or expressions, the extractor stops descending and records
/// the part it skipped in [`FileFacts::truncated`].
pub const MAX_WALK_DEPTH: u32 = 400;

/// Stack needed by a thread that parses and walks one file (the parser is recursive descent).
pub const STACK_SIZE: usize = 256 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset in the source where the problem is.
    pub offset: u32,
    pub message: String,
}

/// Parses `source` and extracts its facts. A file with a syntax error yields no facts: CPython
/// would not import it, so nothing in it runs.
pub fn extract(source: &str) -> Result<FileFacts, SyntaxError> {
    check_bracket_depth(source)?;
    let parsed = ruff_python_parser::parse_module(source).map_err(|error| SyntaxError {
        offset: error.location.start().to_u32(),
        message: error.error.to_string(),
    })?;
    let (facts, hit_depth_limit) = extract::extract(parsed.syntax());
    if hit_depth_limit {
        // Dropping a tree this deep recurses once per level and could overflow the stack; the
        // memory of one pathological file is a smaller price than a crash.
        std::mem::forget(parsed);
    }
    Ok(facts)
}

/// Parses `source` and does nothing else: the floor that the benchmark compares against.
pub fn parse_only(source: &str) -> Result<(), SyntaxError> {
    check_bracket_depth(source)?;
    ruff_python_parser::parse_module(source)
        .map(drop)
        .map_err(|error| SyntaxError {
            offset: error.location.start().to_u32(),
            message: error.error.to_string(),
        })
}

/// Refuses sources whose brackets nest deeper than [`MAX_BRACKET_DEPTH`]. The scan skips comments
/// and string literals, so brackets in text do not count.
fn check_bracket_depth(source: &str) -> Result<(), SyntaxError> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_BRACKET_DEPTH {
                    return Err(SyntaxError {
                        offset: i as u32,
                        message: format!(
                            "brackets nest more than {MAX_BRACKET_DEPTH} levels deep; the file was not analysed"
                        ),
                    });
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'\'' | b'"') => {
                let triple = bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote);
                i += if triple { 3 } else { 1 };
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 1,
                        b'\n' if !triple => break,
                        c if c == quote
                            && (!triple
                                || (bytes.get(i + 1) == Some(&quote)
                                    && bytes.get(i + 2) == Some(&quote))) =>
                        {
                            if triple {
                                i += 2;
                            }
                            break;
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let text = format!("x = '{}'  # {}\n", "(".repeat(2000), "[".repeat(2000));
        assert!(check_bracket_depth(&text).is_ok());
        let triple = format!("x = \"\"\"{}\"\"\"\n", "{".repeat(2000));
        assert!(check_bracket_depth(&triple).is_ok());
    }

    #[test]
    fn deep_brackets_are_refused() {
        let text = format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000));
        let error = check_bracket_depth(&text).unwrap_err();
        assert!(error.message.contains("nest more than"));
    }
}
