//! Reading a Python file into text the way CPython would.

use std::io::Read;
use std::path::Path;

use crate::codec_tables;

/// Files larger than this are not analysed (a setting can raise it).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// Why a file's text could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// 1-based line, when the problem is at a place in the file.
    pub line: Option<u32>,
    pub message: String,
}

impl SourceError {
    fn file(message: impl Into<String>) -> Self {
        SourceError {
            line: None,
            message: message.into(),
        }
    }
}

/// Reads `path` and decodes it as CPython would: UTF-8 unless a PEP 263 declaration on line 1 or 2
/// names another encoding; a UTF-8 byte-order mark is dropped.
pub fn read_source(path: &Path, max_size: u64) -> Result<String, SourceError> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ipynb"))
    {
        // Its JSON would otherwise parse as one Python dict and pass, which says nothing.
        return Err(SourceError::file(
            "a Jupyter notebook: stateleak does not analyse notebooks; export its code with \
             `jupyter nbconvert --to script` and check the script",
        ));
    }
    let metadata =
        std::fs::metadata(path).map_err(|e| SourceError::file(format!("cannot read: {e}")))?;
    if !metadata.is_file() {
        return Err(SourceError::file("not a regular file"));
    }
    let too_big = |size: Option<u64>| {
        let size = size.map_or(String::new(), |n| format!("{n} bytes, "));
        SourceError::file(format!(
            "file is {size}over the limit of {max_size} bytes (setting `max-file-size`); not analysed"
        ))
    };
    if metadata.len() > max_size {
        return Err(too_big(Some(metadata.len())));
    }
    // The file may have grown since (or report no size, as in /proc): read no more than allowed.
    let cannot_read = |e: std::io::Error| SourceError::file(format!("cannot read: {e}"));
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(max_size.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() as u64 > max_size {
        return Err(too_big(None));
    }
    decode(bytes)
}

/// Decodes the bytes of a Python source file.
pub fn decode(mut bytes: Vec<u8>) -> Result<String, SourceError> {
    let had_bom = bytes.starts_with(b"\xEF\xBB\xBF");
    if had_bom {
        bytes.drain(..3);
    }
    if let Some(nul) = memchr::memchr(0, &bytes) {
        return Err(SourceError {
            line: Some(line_of(&bytes, nul)),
            message: "source contains a NUL byte".to_string(),
        });
    }
    let declared = declared_encoding(&bytes)?;
    match declared.as_ref().map(|d| (d, &d.encoding)) {
        None | Some((_, SourceEncoding::Utf8)) => decode_utf8(bytes),
        Some((declaration, _)) if had_bom => Err(SourceError {
            line: Some(declaration.line),
            message: format!(
                "encoding problem: the file starts with a UTF-8 byte-order mark but declares `{}`",
                declaration.label
            ),
        }),
        Some((_, SourceEncoding::Latin1)) => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
        Some((_, SourceEncoding::Ascii)) => match bytes.iter().position(|b| !b.is_ascii()) {
            None => decode_utf8(bytes),
            Some(offset) => Err(undecodable(&bytes, offset, "ascii")),
        },
        Some((declaration, SourceEncoding::Other(encoding))) => {
            decode_with(&bytes, encoding, &declaration.label)
        }
        Some((declaration, SourceEncoding::SingleByte(table))) => {
            decode_single_byte(&bytes, table, &declaration.label)
        }
    }
}

/// Decodes with one of CPython's single-byte codecs (`codec_tables.rs`): bytes below 128 are ASCII.
fn decode_single_byte(
    bytes: &[u8],
    table: &[u16; 128],
    label: &str,
) -> Result<String, SourceError> {
    let mut text = String::with_capacity(bytes.len());
    for (offset, &byte) in bytes.iter().enumerate() {
        if byte < 128 {
            text.push(char::from(byte));
            continue;
        }
        let code = table[usize::from(byte - 128)];
        match char::from_u32(u32::from(code)).filter(|_| code != codec_tables::UNDEFINED) {
            Some(c) => text.push(c),
            None => return Err(undecodable(bytes, offset, label)),
        }
    }
    Ok(text)
}

fn decode_utf8(bytes: Vec<u8>) -> Result<String, SourceError> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        SourceError {
            line: Some(line_of(e.as_bytes(), offset)),
            message: format!("invalid UTF-8 at byte {offset}"),
        }
    })
}

fn decode_with(
    bytes: &[u8],
    encoding: &'static encoding_rs::Encoding,
    label: &str,
) -> Result<String, SourceError> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok(text),
        encoding_rs::DecoderResult::Malformed(bad, after) => {
            let offset = read.saturating_sub(usize::from(bad) + usize::from(after));
            Err(undecodable(bytes, offset, label))
        }
        // The buffer was sized for the worst case, so it cannot fill up.
        encoding_rs::DecoderResult::OutputFull => Err(undecodable(bytes, read, label)),
    }
}

fn undecodable(bytes: &[u8], offset: usize, label: &str) -> SourceError {
    SourceError {
        line: Some(line_of(bytes, offset)),
        message: format!("byte {offset} cannot be decoded as `{label}` (the declared encoding)"),
    }
}

/// A PEP 263 encoding declaration.
struct Declaration {
    /// The name as written.
    label: String,
    line: u32,
    encoding: SourceEncoding,
}

enum SourceEncoding {
    Utf8,
    /// Python's `latin-1` maps each byte to the code point of the same value (unlike the WHATWG
    /// label `latin1`, which means windows-1252).
    Latin1,
    Ascii,
    /// One of CPython's single-byte codecs, by its table of bytes 128-255.
    SingleByte(&'static [u16; 128]),
    Other(&'static encoding_rs::Encoding),
}

/// Finds the declaration the way CPython's `tokenize.detect_encoding` does: a comment on line 1
/// matching `coding[:=]\s*([-\w.]+)`, or on line 2 when line 1 is blank or a comment.
fn declared_encoding(bytes: &[u8]) -> Result<Option<Declaration>, SourceError> {
    let mut lines = bytes.split_inclusive(|&b| b == b'\n');
    for line_number in 1..=2 {
        let Some(line) = lines.next() else {
            break;
        };
        if let Some(label) = coding_cookie(line) {
            return match source_encoding(&label) {
                Some(encoding) => Ok(Some(Declaration {
                    label,
                    line: line_number,
                    encoding,
                })),
                None => Err(SourceError {
                    line: Some(line_number),
                    message: format!("unknown or unsupported encoding `{label}` declared"),
                }),
            };
        }
        let rest = line.trim_ascii_start();
        let blank_or_comment = rest.is_empty() || rest[0] == b'#';
        if !blank_or_comment {
            break;
        }
    }
    Ok(None)
}

/// The encoding named by a comment line, if it is one that declares an encoding.
fn coding_cookie(line: &[u8]) -> Option<String> {
    let start = line
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\x0c'))?;
    if line[start] != b'#' {
        return None;
    }
    let comment = &line[start..];
    let mut from = 0;
    while let Some(found) = find(&comment[from..], b"coding") {
        let after = from + found + b"coding".len();
        if matches!(comment.get(after), Some(b':' | b'=')) {
            let name: String = comment[after + 1..]
                .iter()
                .skip_while(|b| matches!(b, b' ' | b'\t'))
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                .map(|&b| char::from(b))
                .collect();
            if !name.is_empty() {
                return Some(name);
            }
        }
        from = after;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Maps a declared name to an encoding, accepting Python's spellings (`latin-1`, `utf_8`,
/// `cp1252`, `iso8859-15`, ...). Encodings that are not ASCII-compatible cannot spell Python
/// source and are refused, as CPython refuses them.
fn source_encoding(label: &str) -> Option<SourceEncoding> {
    let name = label.to_ascii_lowercase().replace('_', "-");
    // CPython's aliases of its `utf_8` codec (`encodings.aliases`): flaskbb declares `utf`.
    const UTF_8_ALIASES: &[&str] = &[
        "utf-8",
        "utf8",
        "u8",
        "utf",
        "utf8-ucs2",
        "utf8-ucs4",
        "cp65001",
    ];
    if UTF_8_ALIASES.contains(&name.as_str()) || name.starts_with("utf-8-") {
        return Some(SourceEncoding::Utf8);
    }
    const LATIN_1: &[&str] = &[
        "latin-1",
        "latin1",
        "latin",
        "l1",
        "iso-8859-1",
        "iso8859-1",
        "iso-latin-1",
        "iso8859",
        "8859",
        "cp819",
        "ibm819",
        "csisolatin1",
        "iso-ir-100",
    ];
    if LATIN_1.contains(&name.as_str()) || name.starts_with("latin-1-") {
        return Some(SourceEncoding::Latin1);
    }
    if matches!(name.as_str(), "ascii" | "us-ascii" | "646" | "us") {
        return Some(SourceEncoding::Ascii);
    }
    // CPython's own codecs first: its names, and its mappings (WHATWG's differ, e.g. in cp1252).
    let normalised = cpython_normalised(label);
    let dotless = normalised.replace('.', "_");
    let named =
        |names: &[&str]| names.contains(&normalised.as_str()) || names.contains(&dotless.as_str());
    if let Some((_, table)) = codec_tables::SINGLE_BYTE
        .iter()
        .find(|(names, _)| named(names))
    {
        return Some(SourceEncoding::SingleByte(table));
    }
    if let Some((_, whatwg)) = codec_tables::MULTI_BYTE
        .iter()
        .find(|(names, _)| named(names))
    {
        return encoding_rs::Encoding::for_label(whatwg.as_bytes()).map(SourceEncoding::Other);
    }
    let lowercase = label.to_ascii_lowercase();
    let encoding = encoding_rs::Encoding::for_label(lowercase.as_bytes())
        .or_else(|| encoding_rs::Encoding::for_label(name.as_bytes()))?;
    let usable = encoding.is_ascii_compatible() && encoding != encoding_rs::REPLACEMENT;
    usable.then_some(SourceEncoding::Other(encoding))
}

/// An encoding name as CPython's `encodings.normalize_encoding` (after `codecs.lookup` lowercased
/// it) spells it: every run of characters other than letters, digits and `.` becomes one `_`, and
/// none is kept at either end.
fn cpython_normalised(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    let mut punctuation = false;
    for c in label.chars() {
        if c.is_alphanumeric() || c == '.' {
            if punctuation && !out.is_empty() {
                out.push('_');
            }
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            }
            punctuation = false;
        } else {
            punctuation = true;
        }
    }
    out
}

fn line_of(bytes: &[u8], offset: usize) -> u32 {
    bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u32 + 1
}

/// Line starts of a text, to turn byte offsets into 1-based lines and columns.
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        // Lines end as CPython ends them: at `\n`, `\r\n`, or a `\r` alone.
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        starts.extend(memchr::memchr2_iter(b'\n', b'\r', bytes).filter_map(|i| {
            let crlf = bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n');
            (!crlf).then_some(i as u32 + 1)
        }));
        LineIndex { starts }
    }

    /// The byte offset where each line starts, in order.
    pub fn starts(&self) -> &[u32] {
        &self.starts
    }

    /// 1-based line and 1-based column in characters.
    pub fn line_column(&self, text: &str, offset: u32) -> (u32, u32) {
        let offset = offset.min(text.len() as u32);
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line] as usize;
        let mut end = offset as usize;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let column = text[start..end].chars().count() as u32 + 1;
        (line as u32 + 1, column)
    }

    /// Byte range of 1-based `line`, without its line break.
    pub fn line_range(&self, text: &str, line: u32) -> (usize, usize) {
        let i = (line as usize).saturating_sub(1).min(self.starts.len() - 1);
        let start = self.starts[i] as usize;
        let end = self.starts.get(i + 1).map_or(text.len(), |&e| e as usize);
        let trimmed = text[start..end].trim_end_matches(['\n', '\r']).len();
        (start, start + trimmed)
    }

    pub fn line_count(&self) -> u32 {
        self.starts.len() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_1_maps_each_byte_to_its_code_point() {
        let text = decode(b"# -*- coding: latin-1 -*-\nname = '\xe9\x80'\n".to_vec()).unwrap();
        assert!(text.contains("name = '\u{e9}\u{80}'"), "{text:?}");
    }

    #[test]
    fn cp1252_decodes_its_own_upper_half() {
        let text = decode(b"#!/usr/bin/env python\n# coding=cp1252\ns = '\x80\x93'\n".to_vec());
        assert!(text.unwrap().contains("s = '\u{20ac}\u{201c}'"));
    }

    #[test]
    fn the_declaration_counts_only_on_line_1_or_2() {
        let third = decode(b"#\n#\n# coding: latin-1\ns = '\xe9'\n".to_vec()).unwrap_err();
        assert_eq!(third.line, Some(4));
        let after_code = decode(b"import os\n# coding: latin-1\ns = '\xe9'\n".to_vec());
        assert!(
            after_code.is_err(),
            "line 1 is code, so line 2 declares nothing"
        );
        let vim = decode(b"# vim: set fileencoding=iso8859_15 :\ns = '\xa4'\n".to_vec());
        assert!(vim.unwrap().contains('\u{20ac}'));
    }

    #[test]
    fn bad_declarations_are_errors_with_their_line() {
        let unknown = decode(b"\n# coding: klingon\n".to_vec()).unwrap_err();
        assert_eq!(unknown.line, Some(2));
        assert!(unknown.message.contains("klingon"), "{}", unknown.message);
        let utf16 = decode(b"# coding: utf-16\n".to_vec()).unwrap_err();
        assert!(utf16.message.contains("utf-16"));
        let bom_clash = decode(b"\xef\xbb\xbf# coding: latin-1\n".to_vec()).unwrap_err();
        assert!(bom_clash.message.contains("byte-order mark"));
        let ascii = decode(b"# coding: ascii\n\ns = '\xe9'\n".to_vec()).unwrap_err();
        assert_eq!(ascii.line, Some(3));
        let shift_jis = decode(b"# coding: shift_jis\n\n\ns = '\x82'\n".to_vec()).unwrap_err();
        assert_eq!(shift_jis.line, Some(4), "{}", shift_jis.message);
    }

    #[test]
    fn utf8_declarations_and_a_bom_keep_utf8() {
        let text = decode(b"\xef\xbb\xbf# coding: utf-8\ns = '\xc3\xa9'\n".to_vec()).unwrap();
        assert!(text.starts_with("# coding") && text.contains('\u{e9}'));
        assert!(decode(b"# coding: utf-8\ns = '\xe9'\n".to_vec()).is_err());
    }

    #[test]
    fn cpython_aliases_of_utf8_are_utf8() {
        for alias in ["utf", "UTF", "u8", "utf8_ucs4", "cp65001"] {
            let source = format!("# -*- coding: {alias} -*-\ns = '\u{e9}'\n");
            let text = decode(source.into_bytes()).unwrap();
            assert!(text.contains('\u{e9}'), "{alias}: {text:?}");
        }
        assert!(decode(b"# coding: utf-9\n".to_vec()).is_err());
    }
}
