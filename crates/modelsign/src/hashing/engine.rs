//! The hashing engine: every file or shard is one task on a single pool sized to the
//! machine, largest first so a big file never finishes last on its own.

use std::fs::{File, Metadata, OpenOptions};
use std::os::unix::fs::FileExt;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::time::SystemTime;

use rayon::prelude::*;

use super::{fault, HashAlgorithm, Hasher};
use crate::error::HashError;
use crate::interrupt;
use crate::model::ModelFile;

/// Read size for streaming hashes: small enough that the buffer stays in cache while the
/// kernel copies into it (1 MiB reads spent 3x more system time on a 2 GiB file).
const CHUNK: usize = 64 << 10;
/// Ranges at least this large are read through memory-mapped windows rather than copied
/// into a buffer: on a 2 GiB file, SHA-256 took 1.42 s mapped (0.04 s system time) against
/// 1.56 s with 64 KiB `pread`s (0.15-0.5 s system time). Smaller files stay with `pread`,
/// where mapping and unmapping would cost more than the copy.
const MAPPED_MIN: u64 = SEQUENTIAL_WINDOW;
/// Window of a sequential hash (SHA-256, BLAKE2b, or BLAKE3 on a medium range). Each window
/// is unmapped once hashed, so resident memory is bounded by the windows in flight rather
/// than growing with the file (a whole-file map counts the whole file as resident). 4 MiB
/// was as fast as 32 MiB and keeps a many-core machine's total small.
const SEQUENTIAL_WINDOW: u64 = 4 << 20;
/// How far ahead of the hash a large range's windows are read in (at least one window).
/// With nothing in the page cache the kernel's own read-ahead, triggered by the hash's page
/// faults, left the storage idle while the hash ran: 4 x 1 GiB took 1.34x as long as `dd`
/// reading the same files. Windows read in by a feeder thread while the previous ones are
/// hashed brought that to 1.00-1.03x, and a 2 GiB file to the SHA-256 limit of one core
/// (bench/cold); with the files cached, the feeder finds every page resident.
const FEED_AHEAD: u64 = 8 << 20;
/// BLAKE3 ranges at least this large are hashed with BLAKE3's own parallelism, so one big
/// file uses every core.
const BLAKE3_PARALLEL_MIN: u64 = 16 << 20;
/// Window of BLAKE3's parallel path: large enough that splitting it across every core
/// outweighs the joins (on a par with `b3sum` on a 2 GiB file).
const BLAKE3_WINDOW: u64 = 32 << 20;

/// One unit of hashing work: a whole file, or one shard of it.
#[derive(Debug, Clone)]
pub struct HashTask<'m> {
    /// The file to read.
    pub file: &'m ModelFile,
    /// Where in the file the task's bytes start.
    pub offset: u64,
    /// How many bytes the task hashes.
    pub len: u64,
    /// True for shard serialization (the resource name carries the byte range).
    pub sharded: bool,
}

impl HashTask<'_> {
    /// The resource name: the file name, or `name:start:end` for a shard.
    pub fn resource_name(&self) -> String {
        if self.sharded {
            format!(
                "{}:{}:{}",
                self.file.name,
                self.offset,
                self.offset + self.len
            )
        } else {
            self.file.name.clone()
        }
    }
}

/// Receives progress while a model is hashed.
pub trait ProgressSink: Send + Sync {
    /// Hashing starts: this many bytes in this many items (`unit`: "file" or "shard").
    fn start(&self, total_bytes: u64, total_items: usize, unit: &'static str);
    /// This many more bytes were hashed.
    fn advance(&self, bytes: u64);
    /// One more item (file or shard) is fully hashed.
    fn item_done(&self);
    /// Hashing is over (successfully or not).
    fn finish(&self);
    /// Whether the work should stop at its next check point (as for Ctrl-C, but for this
    /// work only): a language binding's callback failed, or its caller gave up. Asked at
    /// every check point, from the hashing threads, so it must be cheap.
    fn cancelled(&self) -> bool {
        false
    }
}

/// A handle to an optional progress sink.
#[derive(Clone, Default)]
pub struct Progress {
    sink: Option<Arc<dyn ProgressSink>>,
}

impl Progress {
    /// No progress reporting.
    pub fn none() -> Self {
        Progress { sink: None }
    }

    /// Reports to `sink`.
    pub fn to(sink: Arc<dyn ProgressSink>) -> Self {
        Progress { sink: Some(sink) }
    }

    /// A check point: `Err` once a stop was requested of the process
    /// ([`interrupt::request_stop`], a signal) or of this work by its sink
    /// ([`ProgressSink::cancelled`]).
    pub(crate) fn check(&self) -> Result<(), interrupt::Interrupted> {
        interrupt::check()?;
        match &self.sink {
            Some(sink) if sink.cancelled() => Err(interrupt::Interrupted { signal: None }),
            _ => Ok(()),
        }
    }

    pub(crate) fn start(&self, total_bytes: u64, total_items: usize, unit: &'static str) {
        if let Some(sink) = &self.sink {
            sink.start(total_bytes, total_items, unit);
        }
    }

    fn item_done(&self) {
        if let Some(sink) = &self.sink {
            sink.item_done();
        }
    }

    fn advance(&self, bytes: u64) {
        if let Some(sink) = &self.sink {
            sink.advance(bytes);
        }
    }

    fn finish(&self) {
        if let Some(sink) = &self.sink {
            sink.finish();
        }
    }
}

/// The thread pool hashing (and walking) runs on: `max_workers` threads, or one per core.
pub(crate) fn worker_pool(max_workers: Option<usize>) -> Result<rayon::ThreadPool, HashError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(max_workers.unwrap_or(0))
        .build()
        .map_err(|e| HashError::ThreadPool(e.to_string()))
}

/// As [`hash_tasks`], on an existing pool.
pub(crate) fn hash_tasks_on(
    pool: &rayon::ThreadPool,
    tasks: &[HashTask<'_>],
    algorithm: HashAlgorithm,
    progress: &Progress,
) -> Result<Vec<Vec<u8>>, HashError> {
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(tasks[i].len));
    let result = pool.install(|| {
        order
            .par_iter()
            .with_max_len(1)
            .map(|&i| hash_task(&tasks[i], algorithm, progress).map(|d| (i, d)))
            .collect::<Result<Vec<_>, _>>()
    });
    progress.finish();
    let mut digests = vec![Vec::new(); tasks.len()];
    for (i, digest) in result? {
        digests[i] = digest;
    }
    Ok(digests)
}

/// Identity of a file's contents as far as the file system tells: a change in either means
/// the file was written to while we read it.
#[derive(PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    fn of(meta: &Metadata) -> Self {
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

fn hash_task(
    task: &HashTask<'_>,
    algorithm: HashAlgorithm,
    progress: &Progress,
) -> Result<Vec<u8>, HashError> {
    progress.check()?;
    let path = &task.file.path;
    let io_err = |source| HashError::Io {
        path: path.clone(),
        source,
    };
    // O_NONBLOCK: a file swapped for a FIFO since the walk must not block the open (it is
    // reported changed below). Regular files ignore the flag.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io_err)?;
    // The walk's `stat` is the "before" picture, so a file changed between the walk and
    // this read is caught too, and small files cost one `fstat` less.
    let before = match task.file.modified {
        Some(modified) => Stamp {
            len: task.file.size,
            modified: Some(modified),
        },
        None => Stamp::of(&file.metadata().map_err(io_err)?),
    };
    if before.len != task.file.size {
        return Err(HashError::FileChanged { path: path.clone() });
    }
    let hashed = if task.len >= MAPPED_MIN {
        hash_mapped(&file, task, algorithm, progress)
    } else {
        stream(&file, task, algorithm, progress)
    };
    let digest = match hashed {
        // Reading fails when the walked file was replaced by a FIFO or device (ESPIPE,
        // ENODEV): it changed. Asked only on failure, so a good read costs no `fstat`.
        Err(HashError::Io { .. }) if !file.metadata().is_ok_and(|m| m.is_file()) => {
            return Err(HashError::FileChanged { path: path.clone() });
        }
        other => other?,
    };
    let after = Stamp::of(&file.metadata().map_err(io_err)?);
    if before != after {
        return Err(HashError::FileChanged { path: path.clone() });
    }
    progress.item_done();
    Ok(digest)
}

thread_local! {
    // One read buffer per worker thread, reused for every task it runs: small files would
    // otherwise pay for allocating and zeroing a whole chunk each. Never borrowed twice:
    // reading does not call back into the pool.
    static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; CHUNK]);
}

/// Hashes the task's range with buffered positional reads.
fn stream(
    file: &File,
    task: &HashTask<'_>,
    algorithm: HashAlgorithm,
    progress: &Progress,
) -> Result<Vec<u8>, HashError> {
    let mut hasher = Hasher::new(algorithm);
    let range = task.offset..task.offset + task.len;
    BUFFER.with(|buffer| {
        read_into(
            file,
            task,
            range,
            &mut hasher,
            &mut buffer.borrow_mut(),
            progress,
            &mut |read| progress.advance(read),
        )
    })?;
    Ok(hasher.finalize())
}

/// Feeds `range` of the task's file to `hasher` through `buffer`, reporting each read to
/// `on_read`, checking `progress` for a stop before each read. A file that ends early changed under us: a read past its end returns 0.
fn read_into(
    file: &File,
    task: &HashTask<'_>,
    range: std::ops::Range<u64>,
    hasher: &mut Hasher,
    buffer: &mut [u8],
    progress: &Progress,
    on_read: &mut dyn FnMut(u64),
) -> Result<(), HashError> {
    let path = &task.file.path;
    let mut position = range.start;
    while position < range.end {
        progress.check()?;
        let want = usize::try_from(range.end - position)
            .unwrap_or(usize::MAX)
            .min(buffer.len());
        let read = file
            .read_at(&mut buffer[..want], position)
            .map_err(|source| HashError::Io {
                path: path.clone(),
                source,
            })?;
        if read == 0 {
            return Err(HashError::FileChanged { path: path.clone() });
        }
        hasher.update(&buffer[..read]);
        position += read as u64;
        on_read(read as u64);
    }
    Ok(())
}

/// Hashes the task's range through memory-mapped windows; BLAKE3 on a large range uses
/// every core of the pool. A range of more than one window has its next windows mapped and
/// read in by a feeder thread (at most [`FEED_AHEAD`] bytes ahead) while this thread
/// hashes, so storage and hashing overlap when the file is not cached.
fn hash_mapped(
    file: &File,
    task: &HashTask<'_>,
    algorithm: HashAlgorithm,
    progress: &Progress,
) -> Result<Vec<u8>, HashError> {
    let parallel = algorithm == HashAlgorithm::Blake3 && task.len >= BLAKE3_PARALLEL_MIN;
    let window_size = if parallel {
        BLAKE3_WINDOW
    } else {
        SEQUENTIAL_WINDOW
    };
    let windows = Windows {
        file,
        task,
        size: window_size,
        parallel,
    };
    let mut hasher = Hasher::new(algorithm);
    if task.len <= window_size {
        windows.hash_each_here(&mut hasher, progress)?;
        return Ok(hasher.finalize());
    }
    // Windows waiting to be hashed, besides the one the feeder is reading in: none for
    // BLAKE3's large windows (the feeder then waits, holding one, for the hash to take it).
    let ahead = usize::try_from(FEED_AHEAD / window_size).unwrap_or(0);
    std::thread::scope(|scope| -> Result<(), HashError> {
        let (sender, received) = std::sync::mpsc::sync_channel(ahead);
        let windows = &windows;
        let feeder = move || {
            for start in windows.starts() {
                let window = windows.map(start);
                if let Ok(window) = &window {
                    // Reads the window's pages in and maps them, waiting for storage here
                    // rather than in the hash. A file truncated meanwhile makes it fail
                    // (EFAULT, never SIGBUS), as do kernels before 5.14 (EINVAL): the
                    // hash then reads the window itself, as it would without the feeder.
                    let _ = window.map.advise(memmap2::Advice::PopulateRead);
                }
                let failed = window.is_err();
                // The hash stopped (an error, or a stop request) once the receiver is gone.
                if sender.send(window).is_err() || failed {
                    return;
                }
            }
        };
        if std::thread::Builder::new()
            .name("modelsign-feed".into())
            .spawn_scoped(scope, feeder)
            .is_err()
        {
            // No thread to be had (a process limit): hash the range as a single window's.
            return windows.hash_each_here(&mut hasher, progress);
        }
        for window in received {
            hash_window(window?, windows, &mut hasher, progress)?;
        }
        Ok(())
    })?;
    Ok(hasher.finalize())
}

/// The windows of a task's range.
struct Windows<'a, 't> {
    file: &'a File,
    task: &'a HashTask<'t>,
    size: u64,
    /// Each window is hashed with BLAKE3's own parallelism.
    parallel: bool,
}

impl Windows<'_, '_> {
    /// Maps and hashes each window in turn on this thread, with no feeder.
    fn hash_each_here(&self, hasher: &mut Hasher, progress: &Progress) -> Result<(), HashError> {
        for start in self.starts() {
            hash_window(self.map(start)?, self, hasher, progress)?;
        }
        Ok(())
    }

    fn end(&self) -> u64 {
        self.task.offset + self.task.len
    }

    /// Where each window starts, in order.
    fn starts(&self) -> impl Iterator<Item = u64> + '_ {
        (self.task.offset..self.end()).step_by(usize::try_from(self.size).unwrap_or(usize::MAX))
    }

    /// Maps the window starting at `start` (the last one may be shorter).
    fn map(&self, start: u64) -> Result<Window, HashError> {
        let len = usize::try_from((self.end() - start).min(self.size)).unwrap_or(usize::MAX);
        // SAFETY: the mapping is read-only and private to the hash of this task, and the
        // file's size was checked against the walk just before. Another process may still
        // write to the file meanwhile: the bytes seen may then be a mix, which the size and
        // modification-time check after hashing turns into a "changed while hashed"
        // error. Another process truncating the file while the window is mapped makes
        // reading its lost pages raise SIGBUS: the window is only read while `fault`
        // watches it, which turns that into zeros and a "changed" error (see there), or,
        // when it cannot watch it, not read at all. (The feeder thread never reads it: its
        // `madvise` reports a lost page as an error instead.)
        let map = unsafe {
            memmap2::MmapOptions::new()
                .offset(start)
                .len(len)
                .map(self.file)
        }
        .map_err(|source| HashError::Io {
            path: self.task.file.path.clone(),
            source,
        })?;
        Ok(Window { start, map })
    }
}

/// One mapped window of a task's range.
struct Window {
    /// Where in the file it starts.
    start: u64,
    map: memmap2::Mmap,
}

/// Feeds one mapped window to `hasher`, then unmaps it.
fn hash_window(
    window: Window,
    windows: &Windows<'_, '_>,
    hasher: &mut Hasher,
    progress: &Progress,
) -> Result<(), HashError> {
    progress.check()?;
    let path = &windows.task.file.path;
    let len = window.map.len() as u64;
    if let Some(watch) = fault::watch(&window.map) {
        if windows.parallel {
            hasher.update_parallel(&window.map);
        } else {
            hasher.update(&window.map);
        }
        if watch.faulted() {
            return Err(HashError::FileChanged { path: path.clone() });
        }
    } else {
        // No slot to watch it with (or no handler on this system): read the window's
        // bytes instead of touching the mapping.
        BUFFER.with(|buffer| {
            read_into(
                windows.file,
                windows.task,
                window.start..window.start + len,
                hasher,
                &mut buffer.borrow_mut(),
                progress,
                &mut |_| {},
            )
        })?;
    }
    progress.advance(len);
    Ok(())
}
