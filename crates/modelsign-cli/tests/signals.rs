//! Interrupting `modelsign sign` with Ctrl-C (SIGINT) or SIGTERM while it hashes: it stops
//! with the shell's status for that signal and a message, leaves no temporary file, and an
//! existing signature keeps every byte.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use test_support::{text, workspace_root};

const BIN: &str = env!("CARGO_BIN_EXE_modelsign");

/// Large enough that hashing it takes seconds (SHA-256 on one thread), sparse so it costs
/// no disk space.
const BIG_SPARSE_FILE: u64 = 3 << 30;

/// How long the test waits for signing to start hashing before it gives up.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A model with a big sparse file, and a signature file already in place beside it.
struct Interruptible {
    dir: tempfile::TempDir,
    big: PathBuf,
    signature: PathBuf,
    previous_signature: Vec<u8>,
}

impl Interruptible {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = dir.path().join("model");
        fs::create_dir(&model).expect("mkdir");
        fs::write(model.join("config.json"), "{}").expect("write");
        let big = model.join("weights.bin");
        fs::File::create(&big)
            .and_then(|f| f.set_len(BIG_SPARSE_FILE))
            .expect("sparse file");
        let signature = dir.path().join("model.sig");
        let previous_signature = b"{\"an existing signature\": \"must survive\"}\n".to_vec();
        fs::write(&signature, &previous_signature).expect("write signature");
        Interruptible {
            dir,
            big,
            signature,
            previous_signature,
        }
    }

    /// Starts signing, waits until it hashes the big file, sends `signal`, and returns the
    /// exit code and stderr.
    fn sign_and_interrupt(&self, signal: libc::c_int) -> (Option<i32>, String) {
        // modelsign keeps a signal ignored that was ignored when it started, as a job a
        // shell started in the background must (a non-interactive shell starts those with
        // SIGINT ignored, and the child inherits it). The test is about a signal the user
        // can send, so the child must not inherit that: restore the default here first.
        for inherited in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: setting a signal's disposition to its default; this test process
            // installs no handler of its own that this would replace.
            unsafe { libc::signal(inherited, libc::SIG_DFL) };
        }
        let key = workspace_root().join("examples/keys/demo-TEST-ONLY.pem");
        let child = Command::new(BIN)
            .args(["sign", "key"])
            .arg(self.dir.path().join("model"))
            .args(["--private-key", text(&key), "--signature"])
            .arg(&self.signature)
            .args(["--max-workers", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start modelsign");
        wait_until_it_reads(child.id(), &self.big);
        let pid = libc::pid_t::try_from(child.id()).expect("pid");
        // SAFETY: sends a signal to our own child, which has not been waited for yet, so
        // its pid cannot have been reused.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill");
        let out = child.wait_with_output().expect("wait");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn assert_left_as_it_was(&self) {
        assert_eq!(
            fs::read(&self.signature).expect("signature still there"),
            self.previous_signature,
            "the existing signature must keep every byte"
        );
        for dir in [self.dir.path().to_path_buf(), self.dir.path().join("model")] {
            let temporary: Vec<String> = fs::read_dir(&dir)
                .expect("read_dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(".modelsign-"))
                .collect();
            assert!(temporary.is_empty(), "left behind: {temporary:?}");
        }
    }
}

/// Waits until process `pid` has `file` open: the engine opens a file right before hashing
/// it, so from then on a signal lands mid-hash. No sleeping on a guess of how long start-up
/// takes.
fn wait_until_it_reads(pid: u32, file: &Path) {
    let fds = PathBuf::from(format!("/proc/{pid}/fd"));
    let started = Instant::now();
    loop {
        let open = fs::read_dir(&fds)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .any(|e| fs::read_link(e.path()).is_ok_and(|target| target == file))
            })
            .unwrap_or(false);
        if open {
            return;
        }
        assert!(
            started.elapsed() < START_TIMEOUT,
            "modelsign never opened {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn ctrl_c_while_signing_hashes_exits_130_and_keeps_the_existing_signature_byte_for_byte() {
    let model = Interruptible::new();
    let (code, stderr) = model.sign_and_interrupt(libc::SIGINT);
    assert_eq!(code, Some(130), "stderr: {stderr}");
    assert!(
        stderr.contains("Signing failed: interrupted by SIGINT"),
        "stderr: {stderr}"
    );
    model.assert_left_as_it_was();
}

#[test]
fn sigterm_while_signing_hashes_exits_143_and_keeps_the_existing_signature_byte_for_byte() {
    let model = Interruptible::new();
    let (code, stderr) = model.sign_and_interrupt(libc::SIGTERM);
    assert_eq!(code, Some(143), "stderr: {stderr}");
    assert!(
        stderr.contains("Signing failed: interrupted by SIGTERM"),
        "stderr: {stderr}"
    );
    model.assert_left_as_it_was();
}
