//! Writing to standard output and standard error without ever panicking.
//!
//! `println!` and `eprintln!` panic when the stream fails (`2>&1 | head -1`, `2>/dev/full`). Here a
//! closed pipe ends that stream quietly (later writes to it are skipped: the reader has gone), and
//! any other failure is remembered so that the run exits with status 2, with a message on standard
//! error when standard output was the one that failed.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);
static FAILED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to the stream and flushes it.
pub fn write(stream: Stream, text: &str) {
    let closed = match stream {
        Stream::Stdout => &STDOUT_CLOSED,
        Stream::Stderr => &STDERR_CLOSED,
    };
    if closed.load(Ordering::Relaxed) {
        return;
    }
    let result = match stream {
        Stream::Stdout => write_all(&mut io::stdout().lock(), text),
        Stream::Stderr => write_all(&mut io::stderr().lock(), text),
    };
    let Err(error) = result else {
        return;
    };
    closed.store(true, Ordering::Relaxed);
    if error.kind() == io::ErrorKind::BrokenPipe {
        return;
    }
    FAILED.store(true, Ordering::Relaxed);
    if let Stream::Stdout = stream {
        error_line(&format!(
            "stateleak: error: cannot write the output: {error}"
        ));
    }
}

fn write_all(out: &mut impl Write, text: &str) -> io::Result<()> {
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Writes one line to standard error.
pub fn error_line(line: &str) {
    write(Stream::Stderr, &format!("{line}\n"));
}

/// Whether a write failed for a reason other than a closed pipe.
pub fn failed() -> bool {
    FAILED.load(Ordering::Relaxed)
}
