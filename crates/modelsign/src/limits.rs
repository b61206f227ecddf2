//! Resource bounds: the most that any input may make modelsign read, hold or do. A signing
//! tool is attacked through its inputs (the model directory, the signature, the keys and
//! certificates, the card), so every quantity an input controls has a ceiling, and hitting
//! one is an error that names it rather than an exhausted machine.
//!
//! Each limit is far above what any real input needs; README lists them.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Key, certificate, password, PIN and identity-token files. A PEM certificate is about
/// 1 KiB and a key less, so even a long chain fits many times over.
pub const MAX_SMALL_FILE: u64 = 1 << 20;

/// Signature bundles. A statement listing [`MAX_RESOURCES`] resources at about 130 bytes
/// of JSON each is some 170 MiB once base64-encoded in the envelope.
pub const MAX_SIGNATURE_FILE: u64 = 256 << 20;

/// Lists of digests a pipeline already computed (`sign --digests`): a checksum list or an
/// OMS manifest of up to [`MAX_RESOURCES`] resources. A Sigstore bundle is one of the
/// accepted forms, so the limit is a signature's; a checksum line of a sha256 digest and a
/// 100-byte name is some 170 bytes, so a full list fits too.
pub const MAX_DIGEST_LIST_FILE: u64 = MAX_SIGNATURE_FILE;

/// Sigstore trusted roots and trust configs. Public-good's trusted root is about 10 KiB.
pub const MAX_TRUST_ROOT_FILE: u64 = 4 << 20;

/// Model cards, evaluation results, and the README / config files `card init` reads. A
/// card with hundreds of metrics is a few tens of KiB.
pub const MAX_CARD_FILE: u64 = 4 << 20;

/// Claims (Sigstore bundles, one per line) a `claims.jsonl` file may hold. A model gathers
/// a handful over its life (signature, card, provenance per pipeline stage, scans).
pub const MAX_CLAIMS: usize = 10_000;

/// Resources (files or shards) a manifest may list, and so the tasks a model may be split
/// into when it is hashed. The largest public checkpoints have thousands of files; this
/// bound stops a signed `shard_size: 1` from turning a 5 MiB model into millions of tasks.
pub const MAX_RESOURCES: usize = 1_000_000;

/// Reads a whole input file of at most `limit` bytes. Only a regular file (or a symbolic
/// link to one) is read: a device, FIFO or socket could be endless (`/dev/zero`) or block
/// forever, so it is refused, and so is a file larger than `limit`. The errors are I/O
/// errors whose message says which rule was broken, for the caller to wrap with the path.
pub fn read_input_file(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let (file, len) = open_regular(path)?;
    if len > limit {
        return Err(too_large(limit));
    }
    read_at_most(file, len, limit)
}

/// The first `limit` bytes of a regular file (refused as [`read_input_file`] refuses), and
/// whether that is the whole file: for files of which only the start matters, such as the
/// front matter of a README.
pub fn read_input_prefix(path: &Path, limit: u64) -> io::Result<(Vec<u8>, bool)> {
    let (file, _) = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    let complete = bytes.len() as u64 <= limit;
    bytes.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok((bytes, complete))
}

/// Opens a regular file (or a link to one) for reading, with its size.
fn open_regular(path: &Path) -> io::Result<(File, u64)> {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before the
    // type check below could refuse it. It has no effect on regular files.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is {}, not a regular file",
                describe_file_type(&meta.file_type())
            ),
        ));
    }
    Ok((file, meta.len()))
}

/// As [`read_input_file`], for a file that must be UTF-8 text.
pub fn read_input_text(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_input_file(path, limit)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "it is not UTF-8 text".to_owned(),
        )
    })
}

/// Reads to the end, failing past `limit` bytes: the size checked before reading can grow.
fn read_at_most(file: File, len: u64, limit: u64) -> io::Result<Vec<u8>> {
    // Sized from the stat: `take` hides the file's length from `read_to_end`, which would
    // otherwise grow (and copy) a signature of hundreds of KiB many times over.
    let mut bytes = Vec::with_capacity(usize::try_from(len.saturating_add(1)).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!(
            "it is larger than {}, the limit for this kind of file",
            format_bytes(limit)
        ),
    )
}

/// What a non-regular file is, for messages ("a directory", "a character device").
pub fn describe_file_type(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// `1 MiB`, `256 MiB`, `4 KiB`, `100 bytes`: limits as people write them.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if bytes >= size && bytes % size == 0 {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_device_is_refused_without_reading_it() {
        let error = read_input_file(Path::new("/dev/zero"), MAX_SMALL_FILE).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            error.to_string(),
            "it is a character device, not a regular file"
        );
    }

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let error = read_input_file(&fifo, MAX_SMALL_FILE).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it is a FIFO (named pipe), not a regular file"
        );
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_input_file(dir.path(), MAX_SMALL_FILE).unwrap_err();
        assert_eq!(error.to_string(), "it is a directory, not a regular file");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_and_one_at_the_limit_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, vec![b'a'; 1024]).unwrap();
        assert_eq!(read_input_file(&path, 1024).unwrap().len(), 1024);
        let error = read_input_file(&path, 1023).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(
            error.to_string(),
            "it is larger than 1023 bytes, the limit for this kind of file"
        );
    }

    #[test]
    fn a_symbolic_link_to_a_regular_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, b"key").unwrap();
        let link = dir.path().join("link.pem");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert_eq!(read_input_file(&link, MAX_SMALL_FILE).unwrap(), b"key");
    }

    #[test]
    fn text_files_must_be_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.yaml");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        let error = read_input_text(&path, MAX_CARD_FILE).unwrap_err();
        assert_eq!(error.to_string(), "it is not UTF-8 text");
    }

    #[test]
    fn limits_are_printed_in_binary_units() {
        assert_eq!(format_bytes(MAX_SMALL_FILE), "1 MiB");
        assert_eq!(format_bytes(MAX_SIGNATURE_FILE), "256 MiB");
        assert_eq!(format_bytes(4096), "4 KiB");
        assert_eq!(format_bytes(1000), "1000 bytes");
    }
}
