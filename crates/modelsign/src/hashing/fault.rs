//! Surviving a file that shrinks while a memory map of it is hashed.
//!
//! Reading a mapped page that lies past the end of its (now truncated) file raises SIGBUS,
//! which kills the process with no message. A process-wide SIGBUS handler, installed the
//! first time a window is watched, turns that into a "changed while it was being hashed"
//! error at no cost while nothing goes wrong:
//! - a thread [`watch`]es each mapped window before it hashes it, claiming a slot of a
//!   fixed, lock-free [`Registry`] (start address, length, a "faulted" flag);
//! - on SIGBUS, the handler looks the faulting address up in the registry. Inside a watched
//!   window, it maps anonymous zero pages over the rest of the window (`mmap` with
//!   `MAP_FIXED`: one system call), flags the slot and returns, so the hash runs on over
//!   zeros; the engine then sees the flag and reports the file as changed;
//! - any other SIGBUS is not ours and goes to the handler that was there before (Rust's
//!   stack-overflow handler, or the default action, which kills the process as before).
//!
//! BLAKE3 hashes one window on several threads: the registry holds windows, not threads,
//! so a fault on any of them is found. Only Linux has the handler; elsewhere [`watch`]
//! returns `None` and the engine reads that window with `pread` instead.

use std::marker::PhantomData;
use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};

/// Windows that can be watched at once. Hashing maps one window per worker thread at a
/// time, so this covers a 128-thread machine; past it a window is read with `pread`
/// instead, which is correct, only slower.
pub const WATCHED_WINDOWS: usize = 128;

/// One watched window. `seq` is odd while the window is published: the signal handler
/// reads `start` and `len` only between two equal odd readings of it (a sequence lock),
/// so it never pairs the start of one window with the length of another.
struct Slot {
    /// Claimed by a thread; only `claim` and `Watch::drop` touch it.
    owner: AtomicBool,
    seq: AtomicUsize,
    start: AtomicUsize,
    len: AtomicUsize,
    faulted: AtomicBool,
}

impl Slot {
    const fn new() -> Self {
        Slot {
            owner: AtomicBool::new(false),
            seq: AtomicUsize::new(0),
            start: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            faulted: AtomicBool::new(false),
        }
    }

    /// The published window `(start, len)`, if the slot holds one. Lock-free, so it may
    /// run in a signal handler.
    fn published(&self) -> Option<(usize, usize)> {
        let before = self.seq.load(Ordering::Acquire);
        if before % 2 == 0 {
            return None;
        }
        let start = self.start.load(Ordering::Relaxed);
        let len = self.len.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        (self.seq.load(Ordering::Relaxed) == before).then_some((start, len))
    }
}

/// A fixed set of slots for the windows being hashed.
pub struct Registry {
    slots: [Slot; WATCHED_WINDOWS],
}

impl Registry {
    pub const fn new() -> Self {
        Registry {
            slots: [const { Slot::new() }; WATCHED_WINDOWS],
        }
    }

    /// Publishes the window `[start, start + len)`, or `None` when every slot is taken.
    pub fn claim(&self, start: usize, len: usize) -> Option<Watch<'_>> {
        let slot = self.slots.iter().find(|slot| {
            slot.owner
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })?;
        // The previous owner's unpublishing (made visible by the Acquire above) must be
        // seen by any reader that sees the new start or length: the sequence-lock write.
        fence(Ordering::Release);
        slot.faulted.store(false, Ordering::Relaxed);
        slot.start.store(start, Ordering::Relaxed);
        slot.len.store(len, Ordering::Relaxed);
        slot.seq.fetch_add(1, Ordering::Release);
        Some(Watch {
            slot,
            _window: PhantomData,
        })
    }

    /// Flags every published window holding `address` and returns one of them. Lock-free
    /// and allocation-free: the SIGBUS handler calls it.
    pub fn fault_at(&self, address: usize) -> Option<(usize, usize)> {
        let mut found = None;
        for slot in &self.slots {
            if let Some((start, len)) = slot.published() {
                if address >= start && address - start < len {
                    slot.faulted.store(true, Ordering::Release);
                    found = Some((start, len));
                }
            }
        }
        found
    }
}

/// A window being watched; unpublished when dropped. It borrows the window, so the window
/// cannot be unmapped (and its addresses reused) while it is still published.
pub struct Watch<'r> {
    slot: &'r Slot,
    _window: PhantomData<&'r [u8]>,
}

impl Watch<'_> {
    /// True when a read of the window faulted: some of it was past the end of the file,
    /// and the hash ran over zeros there.
    pub fn faulted(&self) -> bool {
        self.slot.faulted.load(Ordering::Acquire)
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        self.slot.seq.fetch_add(1, Ordering::Release);
        self.slot.owner.store(false, Ordering::Release);
    }
}

/// The windows of this process being hashed.
static WINDOWS: Registry = Registry::new();

/// Watches `window` (a mapped window of a file) for faults while it is hashed, installing
/// the SIGBUS handler the first time. `None` when it cannot be watched (no free slot, no
/// handler on this system): the caller must not touch the mapping then.
pub fn watch(window: &[u8]) -> Option<Watch<'_>> {
    if window.is_empty() || !handler::installed() {
        return None;
    }
    WINDOWS.claim(window.as_ptr() as usize, window.len())
}

#[cfg(target_os = "linux")]
mod handler {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;

    use libc::{c_int, c_void, sigaction, siginfo_t};

    use super::WINDOWS;

    /// The SIGBUS action in place before ours, to hand faults that are not ours to.
    static PREVIOUS: OnceLock<sigaction> = OnceLock::new();
    /// The page size, read before the handler is installed (no `sysconf` in the handler).
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    static INSTALLED: OnceLock<bool> = OnceLock::new();

    /// Installs the handler once; true if it is in place.
    pub fn installed() -> bool {
        *INSTALLED.get_or_init(install)
    }

    fn install() -> bool {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let Ok(page) = usize::try_from(page) else {
            return false;
        };
        if !page.is_power_of_two() {
            return false;
        }
        PAGE.store(page, Ordering::Relaxed);
        // SAFETY: an all-zero `sigaction` is a valid value (SIG_DFL, empty mask, no flags)
        // for sigaction(2) to overwrite; a null new action only reads the current one.
        let mut previous: sigaction = unsafe { std::mem::zeroed() };
        if unsafe { libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut previous) } != 0 {
            return false;
        }
        // Saved before ours is in place, so the handler always finds it.
        if PREVIOUS.set(previous).is_err() {
            return false;
        }
        // SAFETY: as above; the mask is emptied with sigemptyset, and `on_sigbus` has the
        // signature SA_SIGINFO requires. SA_ONSTACK: a fault near the end of a thread's
        // stack still gets a stack to run on (the alternate one Rust sets up).
        unsafe {
            let mut action: sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0
        }
    }

    /// The SIGBUS handler. Everything it calls is async-signal-safe: atomics, `mmap`,
    /// `sigaction`, `raise`.
    extern "C" fn on_sigbus(signal: c_int, info: *mut siginfo_t, context: *mut c_void) {
        // SAFETY: the kernel passes a valid siginfo_t with SA_SIGINFO. A positive si_code
        // means the kernel raised the signal for a fault, so si_addr is the faulting
        // address (a kill(2) has si_code <= 0 and no address).
        let address = unsafe {
            if info.is_null() || (*info).si_code <= 0 {
                None
            } else {
                Some((*info).si_addr() as usize)
            }
        };
        let page = PAGE.load(Ordering::Relaxed);
        if let Some((address, (start, len))) =
            address.and_then(|a| WINDOWS.fault_at(a).map(|window| (a, window)))
        {
            let first = address & !(page - 1);
            let end = (start + len).div_ceil(page) * page;
            // SAFETY: [first, end) runs from the faulting page to the end of a window that
            // is published, so still mapped (a `Watch` borrows its mapping), and only read,
            // by hashing. Those pages belong to the window's file mapping (which covers
            // whole pages); replacing them with private zero pages only changes what the
            // hash reads there, which is reported as "changed" anyway, and unmapping the
            // window later unmaps them with it. errno is saved and restored around it.
            let mapped = unsafe {
                let errno = *libc::__errno_location();
                let result = libc::mmap(
                    first as *mut c_void,
                    end - first,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                );
                *libc::__errno_location() = errno;
                result != libc::MAP_FAILED
            };
            if mapped {
                return;
            }
        }
        // SAFETY: forwards the very arguments the kernel gave us to the previous action.
        unsafe { not_ours(signal, info, context) }
    }

    /// Hands a SIGBUS that is not about a watched window to what was there before.
    ///
    /// # Safety
    /// Only from the signal handler, with the kernel's arguments.
    unsafe fn not_ours(signal: c_int, info: *mut siginfo_t, context: *mut c_void) {
        let Some(previous) = PREVIOUS.get() else {
            return reset_and_repeat(signal, info, None);
        };
        let handler = previous.sa_sigaction;
        if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
            return reset_and_repeat(signal, info, Some(previous));
        }
        if previous.sa_flags & libc::SA_SIGINFO != 0 {
            // SAFETY: an SA_SIGINFO handler has this signature (sigaction(2)).
            let previous: extern "C" fn(c_int, *mut siginfo_t, *mut c_void) =
                std::mem::transmute(handler);
            previous(signal, info, context);
        } else {
            // SAFETY: a plain handler has this signature (sigaction(2)).
            let previous: extern "C" fn(c_int) = std::mem::transmute(handler);
            previous(signal);
        }
    }

    /// Puts the previous action (or the default) back and lets the signal happen again
    /// under it: a fault repeats when the handler returns; a signal sent by `kill` is
    /// raised again, delivered once the handler returns.
    ///
    /// # Safety
    /// Only from the signal handler, with the kernel's arguments.
    unsafe fn reset_and_repeat(signal: c_int, info: *mut siginfo_t, previous: Option<&sigaction>) {
        let mut default: sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        let action = previous.unwrap_or(&default);
        libc::sigaction(signal, action, std::ptr::null_mut());
        if info.is_null() || (*info).si_code <= 0 {
            libc::raise(signal);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod handler {
    /// No handler on this system: mapped windows are read with `pread` instead.
    pub fn installed() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_inside_a_watched_window_is_found_and_flags_it() {
        let registry = Registry::new();
        let watch = registry.claim(0x10_000, 0x2000).expect("a free slot");
        assert_eq!(registry.fault_at(0x10_000), Some((0x10_000, 0x2000)));
        assert!(watch.faulted());
        assert_eq!(registry.fault_at(0x11_fff), Some((0x10_000, 0x2000)));
    }

    #[test]
    fn an_address_outside_every_watched_window_is_not_ours() {
        let registry = Registry::new();
        let watch = registry.claim(0x10_000, 0x2000).expect("a free slot");
        let other = registry.claim(0x40_000, 0x1000).expect("a free slot");
        for address in [0, 0xffff, 0x12_000, 0x3f_fff, 0x41_000, usize::MAX] {
            assert_eq!(registry.fault_at(address), None, "{address:#x}");
        }
        assert!(!watch.faulted() && !other.faulted());
    }

    #[test]
    fn a_window_no_longer_watched_is_not_ours_and_its_slot_is_reused_clean() {
        let registry = Registry::new();
        let watch = registry.claim(0x10_000, 0x2000).expect("a free slot");
        registry.fault_at(0x10_000);
        drop(watch);
        assert_eq!(registry.fault_at(0x10_000), None);
        let again = registry
            .claim(0x80_000, 0x1000)
            .expect("the slot is free again");
        assert!(!again.faulted(), "a reused slot starts unflagged");
        assert_eq!(registry.fault_at(0x10_000), None);
        assert_eq!(registry.fault_at(0x80_000), Some((0x80_000, 0x1000)));
    }

    #[test]
    fn when_every_slot_is_taken_a_window_is_not_watched() {
        let registry = Registry::new();
        let all: Vec<Watch<'_>> = (0..WATCHED_WINDOWS)
            .map(|i| {
                registry
                    .claim(0x1000 * (i + 1), 0x1000)
                    .expect("a free slot")
            })
            .collect();
        assert!(registry.claim(0x1000_0000, 0x1000).is_none());
        drop(all);
        assert!(registry.claim(0x1000_0000, 0x1000).is_some());
    }

    /// Set in the child process of the tests below, naming the fault it must commit.
    const CHILD: &str = "MODELSIGN_FAULT_TEST_CHILD";

    /// Runs the test `name` of this binary in a child process with [`CHILD`] set to `mode`:
    /// a process of its own, where the SIGBUS handler is not installed yet.
    fn run_child(name: &str, mode: &str) -> std::process::Output {
        let exe = std::env::current_exe().expect("test binary");
        std::process::Command::new(exe)
            .args([name, "--exact", "--test-threads=1"])
            .env(CHILD, mode)
            .output()
            .expect("run child")
    }

    /// In the child: with the handler installed and a window watched elsewhere, reads a
    /// mapping that is not watched, whose file was truncated.
    fn fault_outside_every_window() {
        assert!(handler::installed());
        let unrelated = [0u8; 64];
        let _watch = watch(&unrelated).expect("a free slot");
        let file = tempfile::tempfile().expect("temp file");
        file.set_len(1 << 16).expect("size");
        // SAFETY: the mapping is only read, below, where faulting is the point.
        let map = unsafe { memmap2::Mmap::map(&file) }.expect("map");
        file.set_len(0).expect("truncate");
        std::hint::black_box(map[0x8000]);
        unreachable!("SIGBUS should have ended the process");
    }

    static EARLIER_HANDLER_RAN: AtomicBool = AtomicBool::new(false);

    extern "C" fn earlier_handler(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
        EARLIER_HANDLER_RAN.store(true, Ordering::SeqCst);
    }

    /// In the child: installs a handler of its own before ours, then raises SIGBUS.
    fn raise_with_an_earlier_handler() {
        // SAFETY: a zeroed sigaction with an emptied mask and an SA_SIGINFO handler of the
        // matching signature; `earlier_handler` only stores to an atomic.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = earlier_handler as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(
                libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()),
                0
            );
        }
        assert!(handler::installed());
        let unrelated = [0u8; 64];
        let _watch = watch(&unrelated).expect("a free slot");
        // SAFETY: raise has no preconditions; the handlers above return normally.
        unsafe { libc::raise(libc::SIGBUS) };
        assert!(EARLIER_HANDLER_RAN.load(Ordering::SeqCst));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_sigbus_on_a_mapping_that_is_not_watched_still_kills_the_process() {
        use std::os::unix::process::ExitStatusExt;
        if std::env::var_os(CHILD).is_some() {
            return fault_outside_every_window();
        }
        let out = run_child(
            "hashing::fault::tests::a_sigbus_on_a_mapping_that_is_not_watched_still_kills_the_process",
            "fault",
        );
        assert_eq!(out.status.signal(), Some(libc::SIGBUS), "{out:?}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_sigbus_that_is_not_ours_goes_to_the_handler_installed_before() {
        if std::env::var_os(CHILD).is_some() {
            return raise_with_an_earlier_handler();
        }
        let out = run_child(
            "hashing::fault::tests::a_sigbus_that_is_not_ours_goes_to_the_handler_installed_before",
            "chain",
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{out:?}"
        );
    }

    #[test]
    fn a_fault_lands_on_the_window_of_its_own_slot_among_many() {
        let registry = Registry::new();
        let watches: Vec<Watch<'_>> = (0..8)
            .map(|i| registry.claim(0x10_0000 * (i + 1), 0x1000).expect("slot"))
            .collect();
        assert_eq!(registry.fault_at(0x50_0800), Some((0x50_0000, 0x1000)));
        let flagged: Vec<bool> = watches.iter().map(Watch::faulted).collect();
        assert_eq!(
            flagged,
            [false, false, false, false, true, false, false, false]
        );
    }
}
