//! A command's failure and its exit status, shared by every command.

use std::any::Any;

use crate::hints;

/// Exit status: the signature or verification failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: bad usage or unreadable input.
pub const EXIT_INPUT: u8 = 2;

/// A failure to report, with its exit status.
pub struct Failure {
    pub code: u8,
    pub message: String,
    /// Extra JSON fields for `--json` (the categories of a model mismatch).
    pub details: Option<serde_json::Value>,
}

impl Failure {
    /// Exit 2; a library error gets the option that fixes it appended (see `hints`).
    pub fn input(message: impl ToString + Any) -> Self {
        Self::of(true, message)
    }

    /// Exit 1; a library error gets the option that fixes it appended (see `hints`).
    pub fn failed(message: impl ToString + Any) -> Self {
        Self::of(false, message)
    }

    /// Bad input (exit 2) when `is_input_error`, else a failed check (exit 1).
    pub fn of(is_input_error: bool, message: impl ToString + Any) -> Self {
        let code = if is_input_error {
            EXIT_INPUT
        } else {
            EXIT_FAILED
        };
        Failure {
            code,
            message: hints::with_option_hint(&message, message.to_string()),
            details: None,
        }
    }
}
