//! A filesystem store whose every write is atomic: a value goes to a
//! uniquely named hidden sibling (`.NAME.XXXXXX.partial`), is synced, and
//! is renamed over its key, then the folder is synced. A reader (or a
//! process killed mid-write) sees the old value or the new one, never part
//! of either, and concurrent writers of one key each leave a whole value.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zarrs::filesystem::FilesystemStore;
use zarrs::storage::byte_range::ByteRangeIterator;
use zarrs::storage::{
    Bytes, ListableStorageTraits, MaybeBytesIterator, OffsetBytesIterator, ReadableStorageTraits,
    StorageError, StoreKey, StoreKeys, StoreKeysPrefixes, StorePrefix, WritableStorageTraits,
};

/// The suffix of a value being written.
pub(crate) const PARTIAL_SUFFIX: &str = ".partial";

/// Reads through [`FilesystemStore`]; writes each value atomically.
#[derive(Debug)]
pub(crate) struct AtomicFileStore {
    root: PathBuf,
    inner: FilesystemStore,
}

fn io(e: std::io::Error) -> StorageError {
    StorageError::IOError(Arc::new(e))
}

impl AtomicFileStore {
    /// The store rooted at `root` (created if missing).
    pub fn new(root: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(root).map_err(io)?;
        let inner = FilesystemStore::new(root).map_err(|e| StorageError::Other(e.to_string()))?;
        Ok(AtomicFileStore {
            root: root.to_path_buf(),
            inner,
        })
    }

    /// The file holding `key`.
    pub fn path_of(&self, key: &StoreKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    /// Writes `value` to `path` atomically.
    pub fn write_file(path: &Path, value: &[u8]) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{name}.");
        let mut tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(PARTIAL_SUFFIX)
            .tempfile_in(dir)?;
        tmp.write_all(value)?;
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        // The rename itself survives a power loss only once the folder is
        // synced.
        File::open(dir)?.sync_all()
    }
}

impl ReadableStorageTraits for AtomicFileStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        self.inner.get_partial_many(key, byte_ranges)
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        self.inner.size_key(key)
    }

    fn supports_get_partial(&self) -> bool {
        self.inner.supports_get_partial()
    }
}

impl ListableStorageTraits for AtomicFileStore {
    fn list(&self) -> Result<StoreKeys, StorageError> {
        self.inner.list()
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> Result<StoreKeys, StorageError> {
        self.inner.list_prefix(prefix)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> Result<StoreKeysPrefixes, StorageError> {
        self.inner.list_dir(prefix)
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> Result<u64, StorageError> {
        self.inner.size_prefix(prefix)
    }
}

impl WritableStorageTraits for AtomicFileStore {
    fn set(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
        Self::write_file(&self.path_of(key), &value).map_err(io)
    }

    fn set_partial_many(
        &self,
        key: &StoreKey,
        offset_values: OffsetBytesIterator,
    ) -> Result<(), StorageError> {
        // Whole values only: read, patch, write atomically.
        let mut bytes = self.inner.get(key)?.map(|b| b.to_vec()).unwrap_or_default();
        for (offset, value) in offset_values {
            let offset = usize::try_from(offset)
                .map_err(|_| StorageError::Other(format!("offset {offset} too large")))?;
            if bytes.len() < offset + value.len() {
                bytes.resize(offset + value.len(), 0);
            }
            bytes[offset..offset + value.len()].copy_from_slice(&value);
        }
        Self::write_file(&self.path_of(key), &bytes).map_err(io)
    }

    fn erase(&self, key: &StoreKey) -> Result<(), StorageError> {
        self.inner.erase(key)
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> Result<(), StorageError> {
        self.inner.erase_prefix(prefix)
    }

    fn supports_set_partial(&self) -> bool {
        false
    }
}
