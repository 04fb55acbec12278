//! Provisioning, the same for every backend: create the buckets (the four stage buckets and `reports`) and load each selected market's fixture
//! files into `raw` at `{market}/{file}`, so `raw/{market}/` mirrors the fixture folder.
//!
//! A file whose MD5 equals the object's ETag is not uploaded again (the embedded S3's ETags, like S3's for
//! single-part uploads, are the MD5 of the bytes), so a cached re-run stays fast. Local MD5s are kept in a small
//! index keyed by path, size, inode, and modification and status-change times in nanoseconds, so large fixtures
//! are not re-hashed on every run. The change time (ctime) cannot be set back by a program, so an edit that keeps
//! a file's size and restores its mtime still re-hashes it (and re-uploads it); so does a file replaced by a
//! rename (a new inode). Every
//! upload is a single PUT for the same reason: a multipart upload's ETag is not the file's MD5.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use localstack::{LocalAwsError, S3Endpoint};
use md5::{Digest, Md5};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use pipeline_core::Buckets;
use serde::{Deserialize, Serialize};

use markets::MarketId;

/// The command that writes the committed fixtures, named in messages about missing fixtures.
pub const GENERATE_FIXTURES: &str = "cargo run -p fixtures -- generate";

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The fixtures directory does not exist.
    #[error("fixtures directory {path} does not exist: run `{GENERATE_FIXTURES}` or pass --fixtures DIR")]
    MissingFixtures {
        /// The directory looked for.
        path: PathBuf,
    },
    /// The fixtures directory has no folder for a selected market.
    #[error("no fixtures for market {market}: {path} does not exist; run `{GENERATE_FIXTURES}` or pass --fixtures DIR")]
    MissingMarket {
        /// The market.
        market: String,
        /// The folder looked for.
        path: PathBuf,
    },
    /// A fixture file could not be read.
    #[error("cannot read fixture {path}: {source}; check that it exists and is readable")]
    ReadLocal {
        /// The file or folder.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A fixture file name is not valid UTF-8, so it cannot be an S3 key.
    #[error("cannot load fixture {path}: its name is not valid UTF-8; rename it")]
    NonUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// The backend refused to create a bucket or list one.
    #[error(transparent)]
    Backend(#[from] LocalAwsError),
    /// An object request failed.
    #[error("{op} s3://{bucket}/{key} failed: {source}; check that the backend is running")]
    Store {
        /// `head`, `put` or `delete`.
        op: &'static str,
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// What object_store said.
        #[source]
        source: Box<object_store::Error>,
    },
}

/// What provisioning did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provisioned {
    /// Keys uploaded because they were new or changed.
    pub uploaded: Vec<String>,
    /// Keys already up to date.
    pub unchanged: Vec<String>,
    /// Keys removed from `raw` because their fixture file no longer exists.
    pub removed: Vec<String>,
}

/// Checks that `fixtures` has a folder per market, before anything is started or created.
pub fn check_fixtures(fixtures: &Path, markets: &[MarketId]) -> Result<(), ProvisionError> {
    if !fixtures.is_dir() {
        return Err(ProvisionError::MissingFixtures { path: fixtures.to_path_buf() });
    }
    for market in markets {
        let path = fixtures.join(market.as_str());
        if !path.is_dir() {
            return Err(ProvisionError::MissingMarket { market: market.to_string(), path });
        }
    }
    Ok(())
}

/// Creates the buckets and mirrors `fixtures/{market}/` into `raw/{market}/` for each market. `index` is the
/// MD5 index file (created when missing; a damaged one is rebuilt).
pub async fn provision(
    endpoint: &S3Endpoint,
    buckets: &Buckets,
    fixtures: &Path,
    markets: &[MarketId],
    index: &Path,
) -> Result<Provisioned, ProvisionError> {
    check_fixtures(fixtures, markets)?;
    for bucket in buckets.all() {
        endpoint.create_bucket(bucket).await?;
    }
    let store = endpoint.object_store(&buckets.raw)?;
    let mut hashes = Md5Index::load(index);
    let mut done = Provisioned::default();
    for market in markets {
        let dir = fixtures.join(market.as_str());
        let files = fixture_files(&dir)?;
        let mut wanted = BTreeSet::new();
        for (name, path) in files {
            let key = format!("{market}/{name}");
            wanted.insert(key.clone());
            let md5 = hashes.md5(&path)?;
            let current = match store.head(&ObjectPath::from(key.as_str())).await {
                Ok(meta) => meta.e_tag.map(|e| e.trim_matches('"').to_ascii_lowercase()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(source) => return Err(store_error("head", &buckets.raw, &key, source)),
            };
            if current.as_deref() == Some(md5.as_str()) {
                done.unchanged.push(key);
                continue;
            }
            let bytes =
                std::fs::read(&path).map_err(|source| ProvisionError::ReadLocal { path: path.clone(), source })?;
            store
                .put(&ObjectPath::from(key.as_str()), PutPayload::from(bytes))
                .await
                .map_err(|source| store_error("put", &buckets.raw, &key, source))?;
            done.uploaded.push(key);
        }
        for key in endpoint.list_keys(&buckets.raw, market.as_str()).await? {
            if !wanted.contains(&key) {
                store
                    .delete(&ObjectPath::from(key.as_str()))
                    .await
                    .map_err(|source| store_error("delete", &buckets.raw, &key, source))?;
                done.removed.push(key);
            }
        }
    }
    hashes.save(index);
    Ok(done)
}

fn store_error(op: &'static str, bucket: &str, key: &str, source: object_store::Error) -> ProvisionError {
    ProvisionError::Store { op, bucket: bucket.to_string(), key: key.to_string(), source: Box::new(source) }
}

/// The regular files directly in `dir` (hidden files skipped), by name.
fn fixture_files(dir: &Path) -> Result<BTreeMap<String, PathBuf>, ProvisionError> {
    let read_error = |source| ProvisionError::ReadLocal { path: dir.to_path_buf(), source };
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let path = entry.path();
        if !entry.file_type().map_err(read_error)?.is_file() {
            continue;
        }
        let name = entry.file_name().into_string().map_err(|_| ProvisionError::NonUtf8 { path: path.clone() })?;
        if !name.starts_with('.') {
            files.insert(name, path);
        }
    }
    Ok(files)
}

/// MD5s of local files, valid while a file's size, inode, modification and change times are unchanged.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Md5Index {
    files: BTreeMap<String, Md5Entry>,
    #[serde(skip)]
    changed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Md5Entry {
    size: u64,
    mtime_s: u64,
    mtime_ns: u32,
    /// The inode (0 off Unix).
    inode: u64,
    /// The status-change time (0 off Unix): any write or `touch` moves it, and nothing can set it back.
    ctime_s: i64,
    ctime_ns: i64,
    md5: String,
}

/// What identifies a file's content without reading it: size, mtime, inode, ctime.
type StatKey = (u64, u64, u32, u64, i64, i64);

/// The [`StatKey`] of `meta`.
fn stat_key(meta: &std::fs::Metadata) -> StatKey {
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).unwrap_or_default();
    #[cfg(unix)]
    let (inode, ctime_s, ctime_ns) = {
        use std::os::unix::fs::MetadataExt;
        (meta.ino(), meta.ctime(), meta.ctime_nsec())
    };
    #[cfg(not(unix))]
    let (inode, ctime_s, ctime_ns) = (0, 0, 0);
    (meta.len(), mtime.as_secs(), mtime.subsec_nanos(), inode, ctime_s, ctime_ns)
}

impl Md5Index {
    /// The index at `path`, or an empty one when it is missing or unreadable (it is only a cache).
    fn load(path: &Path) -> Self {
        std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }

    /// Writes the index if it changed; a failure only costs re-hashing next time, so it is ignored.
    fn save(&self, path: &Path) {
        if !self.changed {
            return;
        }
        let Ok(json) = serde_json::to_vec_pretty(self) else { return };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        if std::fs::write(&tmp, json).is_ok() && std::fs::rename(&tmp, path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    /// The lower-case hex MD5 of the file at `path`, from the index when its [`StatKey`] matches.
    fn md5(&mut self, path: &Path) -> Result<String, ProvisionError> {
        let read_error = |source| ProvisionError::ReadLocal { path: path.to_path_buf(), source };
        let meta = std::fs::metadata(path).map_err(read_error)?;
        let key = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string();
        let stat = stat_key(&meta);
        if let Some(entry) = self.files.get(&key)
            && (entry.size, entry.mtime_s, entry.mtime_ns, entry.inode, entry.ctime_s, entry.ctime_ns) == stat
        {
            return Ok(entry.md5.clone());
        }
        let md5 = md5_file(path).map_err(read_error)?;
        let (size, mtime_s, mtime_ns, inode, ctime_s, ctime_ns) = stat;
        let entry = Md5Entry { size, mtime_s, mtime_ns, inode, ctime_s, ctime_ns, md5: md5.clone() };
        self.files.insert(key, entry);
        self.changed = true;
        Ok(md5)
    }
}

/// Lower-case hex MD5 of a file, read in 1 MiB blocks.
pub fn md5_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_the_known_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(md5_file(&path).unwrap(), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn the_index_serves_unchanged_files_and_rehashes_changed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (path, index_path) = (dir.path().join("f.csv"), dir.path().join("index.json"));
        std::fs::write(&path, b"abc").unwrap();
        let mut index = Md5Index::load(&index_path);
        let first = index.md5(&path).unwrap();
        index.save(&index_path);

        // A stale entry with the same size and mtime is trusted: proof the file was not re-hashed.
        let mut index = Md5Index::load(&index_path);
        assert!(!index.changed);
        for entry in index.files.values_mut() {
            entry.md5 = "cached".into();
        }
        assert_eq!(index.md5(&path).unwrap(), "cached");

        std::fs::write(&path, b"abcd").unwrap();
        let mut index = Md5Index::load(&index_path);
        assert_ne!(index.md5(&path).unwrap(), first);
        assert!(index.changed);
    }

    #[test]
    fn missing_fixtures_name_the_path_and_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let market = MarketId::parse("foobar-au").unwrap();
        let err = check_fixtures(&dir.path().join("data"), std::slice::from_ref(&market)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "fixtures directory {} does not exist: run `cargo run -p fixtures -- generate` or pass --fixtures DIR",
                dir.path().join("data").display()
            )
        );
        let err = check_fixtures(dir.path(), &[market]).unwrap_err();
        assert!(err.to_string().starts_with("no fixtures for market foobar-au:"), "{err}");
    }
}
