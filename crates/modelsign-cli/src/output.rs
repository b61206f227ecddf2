//! Writing results: stdout for the command's output, stderr for messages. `println!` would
//! panic when stdout is a closed pipe (`| head -c0`) or a full disk (`> /dev/full`); here a
//! reader that went away ends the program quietly, and any other write error is reported.

use std::io::{self, Write};
use std::process;
use std::sync::atomic::{AtomicU8, Ordering};

use modelsign::text::{json_printable, printable_lines};

use crate::args::LogLevel;

/// Exit status when the output itself cannot be written (the result would be lost).
const EXIT_OUTPUT: u8 = 2;

/// The `--log-level` in force, as a [`LogLevel`] discriminant; set once, before any work.
static LOG_LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);

/// Sets the level below which [`log`] drops messages.
pub fn set_log_level(level: LogLevel) {
    LOG_LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Writes a message line to stderr if `level` is at or above `--log-level`. Results (stdout)
/// and errors do not go through here: no level hides them, as in model_signing.
pub fn log(level: LogLevel, text: &str) {
    if level as u8 >= LOG_LEVEL.load(Ordering::Relaxed) {
        message(text);
    }
}

/// Writes `text` and a newline to stdout. Human-readable text has its control characters
/// made visible (line breaks kept); JSON has none, as serde escapes them. If the reader
/// went away (EPIPE), the program ends quietly with `status`, the command's own verdict;
/// on any other error it says so on stderr and ends with exit 2 (or `status` if that
/// already reports a failure).
pub fn line(text: &str, status: u8) {
    write_or_exit(format!("{}\n", printable_lines(text)).as_bytes(), status);
}

/// Writes one JSON document and a newline to stdout, with the characters serde leaves raw
/// that a terminal would act on escaped as JSON escapes (the value is unchanged); errors
/// as [`line`].
pub fn json(value: &serde_json::Value, status: u8) {
    let text = value.to_string();
    write_or_exit(format!("{}\n", json_printable(&text)).as_bytes(), status);
}

/// Writes `bytes` to stdout unchanged (a PEM key, a rendered card), handling errors as
/// [`line`] does.
pub fn raw(bytes: &[u8], status: u8) {
    write_or_exit(bytes, status);
}

/// Writes a message line to stderr, control characters made visible. Errors are ignored:
/// there is nowhere left to report them, and the exit status still tells the verdict.
pub fn message(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{}", printable_lines(text));
}

fn write_or_exit(bytes: &[u8], status: u8) {
    let mut stdout = io::stdout().lock();
    let result = stdout.write_all(bytes).and_then(|()| stdout.flush());
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => process::exit(i32::from(status)),
        Err(e) => {
            message(&format!("modelsign: cannot write the output: {e}"));
            let status = if status == 0 { EXIT_OUTPUT } else { status };
            process::exit(i32::from(status));
        }
    }
}
