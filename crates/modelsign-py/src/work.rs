//! Running the library's work without the GIL. The work runs on a thread of its own while
//! the calling thread waits for it in steps of [`REPORT_INTERVAL`]: between steps it takes
//! the GIL just long enough to call the progress callback and to let Python handle a
//! pending signal (Ctrl-C raises `KeyboardInterrupt` only on the thread Python runs its
//! handlers on, which is this one, not a hashing thread). Should either raise, the work is
//! asked to stop at its next check point ([`ProgressSink::cancelled`]) and the exception is
//! raised once it has.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use pyo3::prelude::*;

use modelsign::hashing::ProgressSink;
use modelsign::Progress;

/// How often the callback is called at most, and how soon Ctrl-C is noticed.
const REPORT_INTERVAL: Duration = Duration::from_millis(100);

/// What the hashing threads report, read by the waiting thread.
#[derive(Default)]
struct Counters {
    started: AtomicBool,
    total: AtomicU64,
    done: AtomicU64,
    stop: AtomicBool,
}

impl ProgressSink for Counters {
    fn start(&self, total_bytes: u64, _total_items: usize, _unit: &'static str) {
        self.total.store(total_bytes, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        self.started.store(true, Ordering::Release);
    }

    fn advance(&self, bytes: u64) {
        self.done.fetch_add(bytes, Ordering::Relaxed);
    }

    fn item_done(&self) {}

    fn finish(&self) {}

    fn cancelled(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// The callback and what it was last told, so it is called only with news.
struct Reporter<'a> {
    callback: Option<&'a Py<PyAny>>,
    last: Option<(u64, u64)>,
}

impl Reporter<'_> {
    /// Lets Python handle pending signals, then calls the callback if hashing has started
    /// and progressed since the last call.
    fn report(&mut self, counters: &Counters) -> PyResult<()> {
        Python::attach(|py| {
            py.check_signals()?;
            let Some(callback) = self.callback else {
                return Ok(());
            };
            if !counters.started.load(Ordering::Acquire) {
                return Ok(());
            }
            let total = counters.total.load(Ordering::Relaxed);
            let done = counters.done.load(Ordering::Relaxed).min(total);
            if self.last == Some((done, total)) {
                return Ok(());
            }
            self.last = Some((done, total));
            callback.call1(py, (done, total)).map(drop)
        })
    }
}

/// Runs `work` with the GIL released, serving `callback(bytes_done, total_bytes)` and
/// Ctrl-C meanwhile (see the module documentation). `Err` is the exception the callback
/// or a signal handler raised; `Ok` holds the work's own result.
pub fn run_detached<T, F>(py: Python<'_>, callback: Option<Py<PyAny>>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Progress) -> T + Send,
{
    let counters = Arc::new(Counters::default());
    let progress = Progress::to(counters.clone());
    let (result, raised) = py.detach(|| {
        std::thread::scope(|scope| {
            let (done_tx, done_rx) = mpsc::channel::<()>();
            let worker = scope.spawn(move || {
                let result = work(&progress);
                // The receiver outlives the worker; a failed send cannot happen.
                let _ = done_tx.send(());
                result
            });
            let mut reporter = Reporter {
                callback: callback.as_ref(),
                last: None,
            };
            let mut raised = None;
            loop {
                let finished = !matches!(
                    done_rx.recv_timeout(REPORT_INTERVAL),
                    Err(mpsc::RecvTimeoutError::Timeout)
                );
                if raised.is_none() {
                    if let Err(error) = reporter.report(&counters) {
                        counters.stop.store(true, Ordering::Relaxed);
                        raised = Some(error);
                    }
                }
                if finished {
                    break;
                }
            }
            let result = match worker.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            (result, raised)
        })
    });
    match raised {
        Some(error) => Err(error),
        None => Ok(result),
    }
}
