//! The image store: files under `images/` named by the SHA-256 of their bytes, written
//! the way git writes loose objects: into a temporary file inside the store while
//! hashing, fsynced, then renamed into place. A crash leaves at most a stray file in
//! `images/tmp/`, never a half-written image under its name.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// How many leading bytes are kept to tell the file's type.
pub const HEAD_BYTES: usize = 4096;

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// A file being written into the store.
pub struct Incoming {
    file: NamedTempFile,
    hasher: Sha256,
    bytes: u64,
    head: Vec<u8>,
}

/// A file renamed into place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub sha256: String,
    pub bytes: u64,
    pub path: PathBuf,
}

/// Where an image lives, relative to the archive folder.
pub fn relative_path(sha256: &str, ext: &str) -> String {
    format!("images/{}/{sha256}.{ext}", &sha256[..2])
}

impl Store {
    pub fn new(archive_dir: &Path) -> Store {
        Store {
            root: archive_dir.join("images"),
        }
    }

    /// The folder of unfinished files; anything left there is garbage.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    pub fn path_of(&self, sha256: &str, ext: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(format!("{sha256}.{ext}"))
    }

    /// Starts a new file. It lives in the store's own folder, so the final rename never
    /// crosses a file system.
    pub fn incoming(&self) -> io::Result<Incoming> {
        let tmp = self.tmp_dir();
        std::fs::create_dir_all(&tmp)?;
        Ok(Incoming {
            file: tempfile::Builder::new()
                .prefix("incoming-")
                .tempfile_in(tmp)?,
            hasher: Sha256::new(),
            bytes: 0,
            head: Vec::new(),
        })
    }
}

impl Incoming {
    pub fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        if self.head.len() < HEAD_BYTES {
            let take = chunk.len().min(HEAD_BYTES - self.head.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
        self.file.write_all(chunk)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The first bytes written, up to [`HEAD_BYTES`].
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Syncs the file to disk and renames it to its content's name. If that content is
    /// already stored, the new copy is dropped: one file per content.
    pub fn keep(self, store: &Store, ext: &str) -> io::Result<Kept> {
        self.file.as_file().sync_all()?;
        let sha256 = hex::encode(self.hasher.finalize());
        let path = store.path_of(&sha256, ext);
        if !path.exists() {
            let folder = path.parent().expect("store paths have a folder");
            std::fs::create_dir_all(folder)?;
            self.file.persist(&path).map_err(|e| e.error)?;
            // The rename itself must survive a crash before any row refers to the file.
            File::open(folder)?.sync_all()?;
        }
        Ok(Kept {
            sha256,
            bytes: self.bytes,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_file_is_named_by_its_hash_and_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let mut first = store.incoming().unwrap();
        first.write(b"hello ").unwrap();
        first.write(b"world").unwrap();
        let kept = first.keep(&store, "png").unwrap();
        let expected = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
        assert_eq!(kept.sha256, expected);
        assert_eq!(
            kept.path,
            dir.path().join(format!("images/b9/{expected}.png"))
        );
        assert_eq!(std::fs::read(&kept.path).unwrap(), b"hello world");

        let mut second = store.incoming().unwrap();
        second.write(b"hello world").unwrap();
        assert_eq!(second.keep(&store, "png").unwrap().path, kept.path);
        let leftovers = std::fs::read_dir(store.tmp_dir()).unwrap().count();
        assert_eq!(
            leftovers, 0,
            "temporary files are gone once kept or dropped"
        );
    }

    #[test]
    fn a_dropped_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let mut incoming = store.incoming().unwrap();
        incoming.write(&[0u8; 10_000]).unwrap();
        assert_eq!(incoming.head().len(), HEAD_BYTES);
        drop(incoming);
        assert_eq!(std::fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
    }
}
