//! Reading a Python file into text the way CPython would.

use std::path::Path;

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

/// Reads `path` and decodes it: UTF-8 (a byte-order mark is dropped).
pub fn read_source(path: &Path, max_size: u64) -> Result<String, SourceError> {
    let metadata =
        std::fs::metadata(path).map_err(|e| SourceError::file(format!("cannot read: {e}")))?;
    if !metadata.is_file() {
        return Err(SourceError::file("not a regular file"));
    }
    if metadata.len() > max_size {
        return Err(SourceError::file(format!(
            "file is {} bytes, over the limit of {max_size} bytes (setting `max-file-size`); not analysed",
            metadata.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| SourceError::file(format!("cannot read: {e}")))?;
    decode(bytes)
}

/// Decodes the bytes of a Python source file.
pub fn decode(mut bytes: Vec<u8>) -> Result<String, SourceError> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        return Err(SourceError {
            line: Some(line_of(&bytes, nul)),
            message: "source contains a NUL byte".to_string(),
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        SourceError {
            line: Some(line_of(e.as_bytes(), offset)),
            message: format!("invalid UTF-8 at byte {offset}"),
        }
    })
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
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        LineIndex { starts }
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
