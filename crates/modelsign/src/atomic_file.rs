//! Files put in place whole or not at all, for signatures and keys. The contents go to a
//! temporary file in the directory of the path they are for, are flushed to disk, and only
//! then is that file renamed to the path: the rename stays on one file system, so it is
//! atomic, and an interrupted or failed write never leaves a partial file behind.

use std::fs::Permissions;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Contents on disk beside the path they are for, not yet in place. Dropping it deletes the
/// temporary file.
pub(crate) struct StagedFile(tempfile::NamedTempFile);

impl StagedFile {
    /// Writes `contents` to a new temporary file `<prefix>*.tmp` beside `path`, with
    /// permissions `mode`, and flushes it to disk.
    pub(crate) fn write(path: &Path, prefix: &str, contents: &[u8], mode: u32) -> io::Result<Self> {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        // tempfile creates the file 0600 and `mode` is set before any contents are written,
        // so what is for its owner alone (a private key) is never readable by others, not
        // even for an instant.
        let mut temp = tempfile::Builder::new()
            .prefix(prefix)
            .suffix(".tmp")
            .tempfile_in(dir)?;
        temp.as_file()
            .set_permissions(Permissions::from_mode(mode))?;
        temp.write_all(contents)?;
        temp.as_file().sync_all()?;
        Ok(StagedFile(temp))
    }

    /// Renames the file to `path`, replacing whatever file is there.
    pub(crate) fn replace(self, path: &Path) -> io::Result<()> {
        self.0.persist(path).map(drop).map_err(|e| e.error)
    }

    /// Renames the file to `path` unless something is there, even something that appeared
    /// after the caller looked: then [`io::ErrorKind::AlreadyExists`], and the temporary file
    /// is deleted.
    pub(crate) fn create(self, path: &Path) -> io::Result<()> {
        self.0
            .persist_noclobber(path)
            .map(drop)
            .map_err(|e| e.error)
    }
}

/// The mode a newly created file gets (0666 less the process's umask), for files meant to be
/// shared such as signatures. The umask is read from the kernel's report in
/// `/proc/self/status` rather than with umask(2), which can only be read by setting it and
/// would race with other threads creating files; where that report is missing, the usual
/// umask 022 is assumed.
pub(crate) fn shared_file_mode() -> u32 {
    let umask = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Umask:"))
                .and_then(|octal| u32::from_str_radix(octal.trim(), 8).ok())
        })
        .unwrap_or(0o022);
    0o666 & !umask
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// The names in `dir` other than `keep`: what a write left beside its file.
    fn leftovers(dir: &Path, keep: &str) -> Vec<String> {
        fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|name| name != keep)
            .collect()
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn a_staged_file_has_its_mode_before_it_is_put_in_place_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key.pem");
        fs::write(&path, "old").expect("write");
        let staged = StagedFile::write(&path, ".modelsign-test-", b"new", 0o640).expect("stage");
        assert_eq!(fs::read(&path).expect("read"), b"old", "not in place yet");
        let temp = leftovers(dir.path(), "key.pem");
        assert!(
            matches!(&temp[..], [name] if name.starts_with(".modelsign-test-") && name.ends_with(".tmp")),
            "{temp:?}"
        );
        assert_eq!(mode(&dir.path().join(&temp[0])), 0o640);
        staged.replace(&path).expect("replace");
        assert_eq!(fs::read(&path).expect("read"), b"new");
        assert_eq!(mode(&path), 0o640);
        assert_eq!(leftovers(dir.path(), "key.pem"), Vec::<String>::new());
    }

    #[test]
    fn create_never_replaces_a_file_and_deletes_the_staged_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key.pem");
        let staged = StagedFile::write(&path, ".modelsign-test-", b"new", 0o600).expect("stage");
        // Appears after the caller looked, as in a race with another writer.
        fs::write(&path, "theirs").expect("write");
        let err = staged.create(&path).expect_err("a file is there");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
        assert_eq!(fs::read(&path).expect("read"), b"theirs");
        assert_eq!(leftovers(dir.path(), "key.pem"), Vec::<String>::new());

        let fresh = dir.path().join("fresh.pem");
        let staged = StagedFile::write(&fresh, ".modelsign-test-", b"new", 0o600).expect("stage");
        staged.create(&fresh).expect("nothing is there");
        assert_eq!(fs::read(&fresh).expect("read"), b"new");
        assert_eq!(mode(&fresh), 0o600);
    }
}
