//! ModelCar `directory` layers: a tarball (gzip-compressed or plain) of the model's files
//! below `/models/`, whose files the OMS manifest lists one by one, as rh-model-signing
//! 1.0.5 lists them (`_hash_tar_entries`): every regular file member (not directories,
//! symbolic or hard links, devices) with the SHA-256 of its contents, named by its path
//! less the `/models/` (or `models/`) prefix; a member whose name is then empty is left
//! out.
//!
//! The blob is streamed, never held: from its [`LayerSource`] through a SHA-256 of the
//! stored bytes (checked against the layer's digest and size once the stream ends), a
//! gzip decoder and a tar reader, hashing each member as it passes. A hostile tarball
//! (the image at verification is whatever the registry serves) is bounded: at most
//! [`crate::limits::MAX_RESOURCES`] members, extension headers (long names, pax records)
//! of at most [`MAX_EXTENSION_HEADER`] bytes, no more bytes than the layer's descriptor
//! gives, and every name a relative path inside the model.
//!
//! Where this differs from rh: rh opens the tarball with Python's `tarfile` mode `r:*`
//! (plain, gzip, bzip2, xz; zstd only on Python 3.14); here plain and gzip are read, and
//! zstd, bzip2 and xz layers are refused as unsupported (OCI layers are `tar` or
//! `tar+gzip`, and `tar+zstd` which rh on Python before 3.14 cannot read either). rh
//! normalises names through `PurePosixPath` (`a//b`, `./a` become `a/b`, `a`); here such
//! names are refused like `..`, as are GNU sparse members.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

use crate::error::OciError;
use crate::manifest::{sha256_string, ResourceDescriptor};
use crate::oci::mapping::{check_name, strip_model_folder, Descriptor};

/// The largest GNU long-name or pax extension header read: the tar reader holds each in
/// memory, and a path of a model file is far shorter (Linux allows 4096 bytes).
pub const MAX_EXTENSION_HEADER: u64 = 1 << 20;

/// Where layer blobs come from: a registry ([`crate::oci::registry::RegistryLayers`]) or
/// an image layout folder ([`crate::oci::layout::LayoutLayers`]).
pub trait LayerSource {
    /// The stored (compressed) bytes of the blob `layer`, as a stream. The caller checks
    /// them against the layer's digest and size. A read error should wrap (with
    /// `io::Error::other`) the [`OciError`] that says what failed; it is reported as is.
    fn open_layer(&self, layer: &Descriptor) -> Result<Box<dyn Read + '_>, OciError>;
}

/// No blob can be read: a mapping from the image manifest alone, which refuses ModelCar
/// directory layers.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLayers;

impl LayerSource for NoLayers {
    fn open_layer(&self, layer: &Descriptor) -> Result<Box<dyn Read + '_>, OciError> {
        Err(OciError::Unsupported {
            what: format!(
                "ModelCar directory layer {}: its files are listed from the layer's tarball, and no registry or layout folder to read it from was given",
                layer.digest
            ),
        })
    }
}

/// The files of the ModelCar directory layer `layer`, read from `source`: at most
/// `budget` members (what is left of [`crate::limits::MAX_RESOURCES`]).
pub fn directory_layer_files(
    layer: &Descriptor,
    source: &dyn LayerSource,
    budget: usize,
) -> Result<Vec<ResourceDescriptor>, OciError> {
    // The digest is checked before anything is fetched: a malformed one names no blob.
    crate::oci::mapping::sha256_digest(&layer.digest)?;
    let mut blob = DigestingReader {
        inner: source.open_layer(layer)?,
        hasher: Sha256::new(),
        read: 0,
        limit: layer.size,
        failure: None,
        over_limit: false,
    };
    let listed = list_tarball(layer, &mut blob, budget);
    // The digest covers the whole blob, also what follows the tar's end-of-archive blocks
    // or the gzip stream.
    if blob.failure.is_none() && !blob.over_limit {
        let _ = io::copy(&mut blob, &mut io::sink());
    }
    if let Some(failure) = blob.failure.take() {
        return Err(failure);
    }
    if blob.over_limit {
        return Err(OciError::DigestMismatch {
            what: format!(
                "ModelCar directory layer {} (more than the {} bytes its descriptor gives)",
                layer.digest, layer.size
            ),
            expected: layer.digest.clone(),
            actual: format!("unknown, over {} bytes", layer.size),
        });
    }
    let actual = sha256_string(&blob.hasher.finalize());
    if actual != layer.digest || blob.read != layer.size {
        return Err(OciError::DigestMismatch {
            what: format!(
                "ModelCar directory layer {} ({} bytes, the descriptor gives {})",
                layer.digest, blob.read, layer.size
            ),
            expected: layer.digest.clone(),
            actual,
        });
    }
    listed
}

/// The blob as it streams: hashed, counted, and cut off past the descriptor's size. The
/// source's own error is kept, so that it is reported rather than what the decoder made of
/// it.
struct DigestingReader<'a> {
    inner: Box<dyn Read + 'a>,
    hasher: Sha256,
    read: u64,
    limit: u64,
    failure: Option<OciError>,
    over_limit: bool,
}

impl Read for DigestingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failure.is_some() || self.over_limit {
            return Err(io::Error::other("the layer blob could not be read"));
        }
        match self.inner.read(buf) {
            Ok(n) => {
                self.hasher.update(&buf[..n]);
                self.read += n as u64;
                if self.read > self.limit {
                    self.over_limit = true;
                    return Err(io::Error::other(
                        "the layer blob is larger than its descriptor says",
                    ));
                }
                Ok(n)
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => Err(error),
            Err(error) => {
                let message = error.to_string();
                self.failure = Some(match error.into_inner().map(|e| e.downcast::<OciError>()) {
                    Some(Ok(oci)) => *oci,
                    _ => OciError::Registry {
                        registry: String::new(),
                        message: format!("reading a layer blob: {message}"),
                    },
                });
                Err(io::Error::other(message))
            }
        }
    }
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const BZIP2_MAGIC: &[u8] = b"BZh";
const XZ_MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0];

fn list_tarball(
    layer: &Descriptor,
    blob: &mut DigestingReader<'_>,
    budget: usize,
) -> Result<Vec<ResourceDescriptor>, OciError> {
    let unreadable = |e: io::Error| OciError::BadManifest {
        reason: format!(
            "ModelCar directory layer {} ({}) is not a readable tar archive: {e}",
            layer.digest, layer.media_type
        ),
    };
    // The compression is told by the content, as Python's `tarfile` mode `r:*` tells it,
    // not by the media type.
    let mut magic = [0u8; 6];
    let mut filled = 0;
    while filled < magic.len() {
        match blob.read(&mut magic[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(unreadable(e)),
        }
    }
    let head = &magic[..filled];
    let compression = [
        (ZSTD_MAGIC, "zstd"),
        (BZIP2_MAGIC, "bzip2"),
        (XZ_MAGIC, "xz"),
    ]
    .into_iter()
    .find(|(m, _)| head.starts_with(m));
    if let Some((_, name)) = compression {
        return Err(OciError::Unsupported {
            what: format!(
                "ModelCar directory layer {} ({}) is {name}-compressed; only plain and gzip-compressed tar layers are read (rebuild the image with gzip layers)",
                layer.digest, layer.media_type
            ),
        });
    }
    let stream = io::Cursor::new(head.to_vec()).chain(blob);
    let decompressed: Box<dyn Read + '_> = if head.starts_with(GZIP_MAGIC) {
        // Concatenated gzip members are one stream, as Python's gzip reads them.
        Box::new(flate2::read::MultiGzDecoder::new(stream))
    } else {
        Box::new(stream)
    };
    let mut guarded = ExtensionGuard::new(decompressed);
    let mut archive = tar::Archive::new(&mut guarded);
    let mut files = Vec::new();
    let mut members = 0usize;
    let mut buffer = vec![0u8; 1 << 16];
    for entry in archive.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        members += 1;
        if members > budget {
            return Err(OciError::BadManifest {
                reason: format!(
                    "ModelCar directory layer {} has more than {} members, over the {}-resource limit",
                    layer.digest,
                    budget,
                    crate::limits::MAX_RESOURCES
                ),
            });
        }
        let header = entry.header();
        let path = entry.path_bytes().into_owned();
        let regular = match header.entry_type() {
            // Python's tarfile takes an old-style regular member (type NUL) whose name ends
            // in `/` for a directory.
            tar::EntryType::Regular => !(header.as_bytes()[156] == 0 && path.ends_with(b"/")),
            tar::EntryType::Continuous => true,
            _ => false,
        };
        if !regular {
            continue;
        }
        let path = String::from_utf8(path).map_err(|e| OciError::BadManifest {
            reason: format!(
                "ModelCar directory layer {} has a member whose name '{}' is not UTF-8",
                layer.digest,
                crate::text::printable(&String::from_utf8_lossy(e.as_bytes()))
            ),
        })?;
        let name = strip_model_folder(&path);
        if name.is_empty() {
            continue;
        }
        check_name(name).map_err(|_| OciError::BadManifest {
            reason: format!(
                "ModelCar directory layer {} has a member '{}', which is not a relative path inside the model",
                layer.digest,
                crate::text::printable(&path)
            ),
        })?;
        let mut hasher = Sha256::new();
        loop {
            let n = match entry.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(unreadable(e)),
            };
            hasher.update(&buffer[..n]);
        }
        files.push(ResourceDescriptor {
            name: name.to_owned(),
            digest: hasher.finalize().to_vec(),
        });
    }
    Ok(files)
}

const BLOCK: usize = 512;

/// Follows the tar stream beside the `tar` reader and stops it before it reads an
/// oversized GNU long name or pax header into memory (the reader holds those whole). It
/// tracks member boundaries as the `tar` crate does: each header block, then the member's
/// size rounded up to whole blocks, where a pax `size` record overrides the size of the
/// member it describes.
struct ExtensionGuard<R> {
    inner: R,
    state: GuardState,
    /// The `size` of the pending pax header, for the next member that is not itself an
    /// extension header.
    pax_size: Option<u64>,
}

enum GuardState {
    /// Collecting a header block.
    Header(Vec<u8>),
    /// Passing member data and padding through.
    Skip(u64),
    /// Collecting a pax header's records (then skipping its padding).
    Pax {
        records: Vec<u8>,
        remaining: u64,
        padding: u64,
    },
    /// A header the tar reader will refuse itself: nothing more is tracked.
    Untracked,
}

impl<R: Read> ExtensionGuard<R> {
    fn new(inner: R) -> Self {
        ExtensionGuard {
            inner,
            state: GuardState::Header(Vec::with_capacity(BLOCK)),
            pax_size: None,
        }
    }

    fn follow(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match &mut self.state {
                GuardState::Untracked => return Ok(()),
                GuardState::Skip(left) => {
                    let n = bytes
                        .len()
                        .min(usize::try_from(*left).unwrap_or(usize::MAX));
                    *left -= n as u64;
                    bytes = &bytes[n..];
                    if *left == 0 {
                        self.state = GuardState::Header(Vec::with_capacity(BLOCK));
                    }
                }
                GuardState::Header(block) => {
                    let n = bytes.len().min(BLOCK - block.len());
                    block.extend_from_slice(&bytes[..n]);
                    bytes = &bytes[n..];
                    if block.len() == BLOCK {
                        let block = std::mem::take(block);
                        self.state = self.after_header(&block)?;
                    }
                }
                GuardState::Pax {
                    records,
                    remaining,
                    padding,
                } => {
                    let n = bytes
                        .len()
                        .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                    records.extend_from_slice(&bytes[..n]);
                    *remaining -= n as u64;
                    bytes = &bytes[n..];
                    if *remaining == 0 {
                        self.pax_size = pax_size(records);
                        self.state = match *padding {
                            0 => GuardState::Header(Vec::with_capacity(BLOCK)),
                            left => GuardState::Skip(left),
                        };
                    }
                }
            }
        }
        Ok(())
    }

    fn after_header(&mut self, block: &[u8]) -> io::Result<GuardState> {
        if block.iter().all(|b| *b == 0) {
            return Ok(GuardState::Header(Vec::with_capacity(BLOCK)));
        }
        let header = tar::Header::from_byte_slice(block);
        let Ok(stored_size) = header.entry_size() else {
            return Ok(GuardState::Untracked);
        };
        let kind = header.entry_type();
        let recognized = header.as_gnu().is_some() || header.as_ustar().is_some();
        let extension = recognized
            && (kind.is_gnu_longname() || kind.is_gnu_longlink() || kind.is_pax_local_extensions());
        if kind.is_gnu_sparse() {
            return Err(io::Error::other(
                "it has a GNU sparse member, which is not supported",
            ));
        }
        let size = if extension {
            if stored_size > MAX_EXTENSION_HEADER {
                return Err(io::Error::other(format!(
                    "it has an extension header (long name or pax records) of {stored_size} bytes, over the {MAX_EXTENSION_HEADER}-byte limit"
                )));
            }
            stored_size
        } else {
            // The tar crate applies a pending pax size to any header but an extension
            // header (a global pax header, or one it does not recognise, included).
            let is_header = kind.is_gnu_longname()
                || kind.is_gnu_longlink()
                || kind.is_pax_local_extensions()
                || kind.is_pax_global_extensions();
            match (is_header, self.pax_size) {
                (false, Some(size)) => size,
                _ => stored_size,
            }
        };
        // Every header but those the tar crate consumes ends a pending pax header, which
        // the member it describes (or a global pax header returned as a member) takes.
        if !extension {
            self.pax_size = None;
        }
        let padded = size
            .checked_add(BLOCK as u64 - 1)
            .map(|s| s & !(BLOCK as u64 - 1))
            .ok_or_else(|| io::Error::other("a member size overflows"))?;
        Ok(if extension && kind.is_pax_local_extensions() {
            if size == 0 {
                self.pax_size = None;
                GuardState::Header(Vec::with_capacity(BLOCK))
            } else {
                GuardState::Pax {
                    records: Vec::with_capacity(size as usize),
                    remaining: size,
                    padding: padded - size,
                }
            }
        } else if padded == 0 {
            GuardState::Header(Vec::with_capacity(BLOCK))
        } else {
            GuardState::Skip(padded)
        })
    }
}

/// The `size` record of pax header records, as the tar crate reads it.
fn pax_size(records: &[u8]) -> Option<u64> {
    for extension in tar::PaxExtensions::new(records) {
        let extension = extension.ok()?;
        if extension.key() == Ok("size") {
            return extension.value().ok()?.parse().ok();
        }
    }
    None
}

impl<R: Read> Read for ExtensionGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.follow(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
