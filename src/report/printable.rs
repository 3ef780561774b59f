//! Text from analysed files made safe for a terminal: control characters (escape sequences,
//! carriage returns, newlines in file names), Unicode bidirectional controls and bytes that are
//! not UTF-8 are printed as escapes, tabs as spaces, and very long source lines are cut around
//! the place they show.

use std::borrow::Cow;
use std::fmt::Write;
use std::path::Path;

/// Width a tab is printed with in source excerpts.
const TAB_WIDTH: usize = 4;
/// A source line longer than this (in bytes) is cut around the places it shows.
pub const MAX_LINE_BYTES: usize = 240;
/// Bytes kept before the first place shown on a cut line.
const CONTEXT_BYTES: usize = 80;
const ELLIPSIS: &str = "…";

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    let _ = match c as u32 {
        code @ 0..=0xff => write!(out, "\\x{code:02x}"),
        code => write!(out, "\\u{{{code:04x}}}"),
    };
}

/// `text` with control and bidirectional characters escaped (`\x1b`, `\u{202e}`).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A path as printable text: bytes that are not UTF-8 become `\xNN` (so two different names never
/// print the same), and control characters are escaped.
pub fn path(path: &Path) -> String {
    #[cfg(unix)]
    let text: Cow<'_, str> = {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => {
                let mut text = String::with_capacity(bytes.len() + 8);
                for chunk in bytes.utf8_chunks() {
                    text.push_str(chunk.valid());
                    for byte in chunk.invalid() {
                        let _ = write!(text, "\\x{byte:02x}");
                    }
                }
                Cow::Owned(text)
            }
        }
    };
    #[cfg(not(unix))]
    let text = path.to_string_lossy();
    escape(&text).into_owned()
}

/// A source excerpt made printable, and where each of `points` (byte offsets into `excerpt`) lands
/// in it. Lines are kept (a carriage return alone ends a line, as in CPython), so line numbers
/// stay true; tabs become spaces, so that carets computed on the result line up; lines longer than
/// [`MAX_LINE_BYTES`] are cut around the points on them.
pub fn excerpt(excerpt: &str, points: &[usize]) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(excerpt.len().min(1 << 16));
    let mut mapped = vec![0; points.len()];
    // Points in `[from, to)` of the excerpt land where the output is now.
    let map = |out: &String, from: usize, to: usize, mapped: &mut Vec<usize>| {
        for (i, &point) in points.iter().enumerate() {
            if (from..to).contains(&point) {
                mapped[i] = out.len();
            }
        }
    };
    let bytes = excerpt.as_bytes();
    let mut line_start = 0;
    while line_start <= excerpt.len() {
        let line_end = memchr::memchr2(b'\n', b'\r', &bytes[line_start..])
            .map_or(excerpt.len(), |i| line_start + i);
        let (keep_from, keep_to) = kept_range(excerpt, line_start, line_end, points);
        map(&out, line_start, keep_from, &mut mapped);
        if keep_from > line_start {
            out.push_str(ELLIPSIS);
        }
        let mut column = 0;
        for (offset, c) in excerpt[keep_from..keep_to].char_indices() {
            let at = keep_from + offset;
            map(&out, at, at + c.len_utf8(), &mut mapped);
            if c == '\t' {
                let width = TAB_WIDTH - column % TAB_WIDTH;
                out.extend(std::iter::repeat_n(' ', width));
                column += width;
            } else if needs_escape(c) {
                let before = out.len();
                push_escaped(&mut out, c);
                column += out.len() - before;
            } else {
                out.push(c);
                column += 1;
            }
        }
        if keep_to < line_end {
            map(&out, keep_to, line_end, &mut mapped);
            out.push_str(ELLIPSIS);
        }
        if line_end == excerpt.len() {
            map(&out, line_end, line_end + 1, &mut mapped);
            break;
        }
        // `\r\n`, `\n` or `\r` alone: one line break, printed as `\n`.
        let break_len = if excerpt[line_end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        map(&out, line_end, line_end + break_len, &mut mapped);
        out.push('\n');
        line_start = line_end + break_len;
    }
    (out, mapped)
}

/// The part of the line `[start, end)` to print: all of it when short, else a window that begins
/// a little before the first point on the line.
fn kept_range(text: &str, start: usize, end: usize, points: &[usize]) -> (usize, usize) {
    if end - start <= MAX_LINE_BYTES {
        return (start, end);
    }
    let first = points
        .iter()
        .copied()
        .filter(|p| (start..=end).contains(p))
        .min()
        .unwrap_or(start);
    let mut from = first.saturating_sub(CONTEXT_BYTES).max(start);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (from + MAX_LINE_BYTES).min(end);
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    (from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_plain_text_is_borrowed() {
        assert!(matches!(escape("plain é"), Cow::Borrowed(_)));
        assert_eq!(
            escape("a\x1b[31mb\nc\u{202e}"),
            "a\\x1b[31mb\\x0ac\\u{202e}"
        );
    }

    #[test]
    fn excerpts_map_points_through_tabs_escapes_and_carriage_returns() {
        let text = "\tx = 1\r\ty\x1b = 2\r\nz";
        let (out, mapped) = excerpt(text, &[1, 8, 9, text.len()]);
        assert_eq!(out, "    x = 1\n    y\\x1b = 2\nz");
        assert_eq!(mapped, [4, 14, 15, out.len()]);
    }

    #[test]
    fn long_lines_are_cut_around_the_point() {
        let line = format!("{}TARGET{}", "a".repeat(10_000), "b".repeat(10_000));
        let (out, mapped) = excerpt(&line, &[10_000, 10_006]);
        assert!(out.len() < MAX_LINE_BYTES + 10, "{}", out.len());
        assert!(out.starts_with(ELLIPSIS) && out.ends_with(ELLIPSIS));
        assert_eq!(&out[mapped[0]..mapped[1]], "TARGET");
    }
}
