//! Stopping cleanly on request (Ctrl-C, SIGTERM): a process-wide flag that the work checks
//! at its check points, so an interrupted signing stops before it writes anything.
//!
//! Check points: before each file or shard is hashed, between reads (every 64 KiB) and
//! mapped windows (every 4 or 32 MiB) while hashing, and in [`crate::Bundle::write_atomic`]
//! right before the temporary file is renamed over the signature (an interrupted write
//! deletes its temporary file and leaves an existing signature as it was). Work between
//! check points runs to its end first: talking to a Sigstore service or a PKCS#11 token
//! (or a password prompt) is not cut short; the stop happens at the next check point. With
//! [`stop_on_signals`], a second SIGINT or SIGTERM ends the process at once (the default
//! action), for when that wait is too long; the rename being atomic, an existing signature
//! is intact even then, though a temporary `.modelsign-*.tmp` may be left if that second
//! signal lands while it is being written.

use std::sync::atomic::{AtomicI32, Ordering};

/// No stop was requested.
const NOT_REQUESTED: i32 = -1;
/// A stop was requested by the program ([`request_stop`]), not by a signal.
const BY_PROGRAM: i32 = 0;

/// [`NOT_REQUESTED`], [`BY_PROGRAM`], or the number of the signal that asked for the stop.
static STOP: AtomicI32 = AtomicI32::new(NOT_REQUESTED);

/// The work stopped at a check point because a stop was requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted{}", describe(*.signal))]
pub struct Interrupted {
    /// The signal that asked for the stop (SIGINT is 2, SIGTERM 15), if one did.
    pub signal: Option<i32>,
}

fn describe(signal: Option<i32>) -> String {
    match signal {
        None => String::new(),
        Some(libc::SIGINT) => " by SIGINT (Ctrl-C)".to_owned(),
        Some(libc::SIGTERM) => " by SIGTERM".to_owned(),
        Some(other) => format!(" by signal {other}"),
    }
}

/// Asks the work in progress to stop at its next check point (with [`Interrupted`]).
/// Process-wide and final: every later check point stops too.
pub fn request_stop() {
    record(BY_PROGRAM);
}

/// Whether a stop was requested, and by what.
pub fn stop_requested() -> Option<Interrupted> {
    match STOP.load(Ordering::Relaxed) {
        NOT_REQUESTED => None,
        BY_PROGRAM => Some(Interrupted { signal: None }),
        signal => Some(Interrupted {
            signal: Some(signal),
        }),
    }
}

/// A check point: `Err` once a stop was requested. One relaxed load.
pub fn check() -> Result<(), Interrupted> {
    match stop_requested() {
        None => Ok(()),
        Some(interrupted) => Err(interrupted),
    }
}

/// Keeps the first request: lock-free, so a signal handler may call it.
fn record(reason: i32) {
    let _ = STOP.compare_exchange(NOT_REQUESTED, reason, Ordering::Relaxed, Ordering::Relaxed);
}

/// Makes SIGINT and SIGTERM request a stop (see the module documentation) instead of
/// killing the process; a second one kills it as before. A signal the process was started
/// with ignored (as `nohup` does) stays ignored.
///
/// The handler only stores the signal's number in an atomic, which is async-signal-safe;
/// this is plain `sigaction`, with `SA_RESETHAND` giving the second signal its default
/// action.
pub fn stop_on_signals() -> std::io::Result<()> {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: an all-zero `sigaction` is a valid value for sigaction(2) to fill in; a
        // null new action only reads the current one.
        let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
        if unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if current.sa_sigaction == libc::SIG_IGN {
            continue;
        }
        // SAFETY: the mask is emptied with sigemptyset, `on_stop_signal` has the plain
        // handler signature (no SA_SIGINFO) and does nothing but an atomic store.
        // SA_RESTART: system calls a signal lands in resume instead of failing with EINTR.
        let installed = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_stop_signal as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART | libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if installed != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

extern "C" fn on_stop_signal(signal: libc::c_int) {
    record(signal);
}

#[cfg(test)]
mod tests {
    use super::*;

    // The flag is process-wide and final, so no test here sets it: the library's
    // integration test `interrupt` and the CLI's `signals` tests do, in processes of their
    // own.

    #[test]
    fn interruptions_say_which_signal_asked_for_them() {
        let by = |signal| Interrupted { signal }.to_string();
        assert_eq!(by(Some(libc::SIGINT)), "interrupted by SIGINT (Ctrl-C)");
        assert_eq!(by(Some(libc::SIGTERM)), "interrupted by SIGTERM");
        assert_eq!(by(Some(1)), "interrupted by signal 1");
        assert_eq!(by(None), "interrupted");
    }
}
