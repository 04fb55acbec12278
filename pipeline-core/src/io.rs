//! Stage IO through `object_store`: every read and write is an S3 object, so the pipeline runs the same on the
//! embedded S3, LocalStack, MinIO or AWS by changing only the endpoint.

use std::io::Cursor;
use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{GetOptions, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};
use crate::stages::BucketKind;

/// Bucket names (spec: "Buckets"); configurable per workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Buckets {
    /// Source extracts.
    pub raw: String,
    /// Stage outputs.
    pub work: String,
    /// Files for the CRM loader.
    pub exports: String,
    /// Rejected raw rows.
    pub quarantine: String,
    /// Per-run reports (`{market}/{run_id}/report.{json,html}`) and their index (`index.html`), written by the
    /// control plane after a run; stages never read or write it, so it has no [`BucketKind`].
    pub reports: String,
}

impl Default for Buckets {
    fn default() -> Self {
        Self {
            raw: "raw".into(),
            work: "work".into(),
            exports: "exports".into(),
            quarantine: "quarantine".into(),
            reports: "reports".into(),
        }
    }
}

impl Buckets {
    /// The bucket name of a kind.
    pub fn name(&self, kind: BucketKind) -> &str {
        match kind {
            BucketKind::Raw => &self.raw,
            BucketKind::Work => &self.work,
            BucketKind::Exports => &self.exports,
            BucketKind::Quarantine => &self.quarantine,
        }
    }

    /// Every bucket name (the four stage buckets and the reports bucket): what provisioning creates.
    pub fn all(&self) -> [&str; 5] {
        [&self.raw, &self.work, &self.exports, &self.quarantine, &self.reports]
    }
}

/// The four buckets' object stores.
#[derive(Clone)]
pub struct StageIo {
    buckets: Buckets,
    stores: [Arc<dyn ObjectStore>; 4],
}

impl StageIo {
    /// Builds the IO from bucket names and a function returning the store of a bucket.
    pub fn new(buckets: Buckets, mut store_for: impl FnMut(&str) -> Arc<dyn ObjectStore>) -> Self {
        let stores = [
            store_for(&buckets.raw),
            store_for(&buckets.work),
            store_for(&buckets.exports),
            store_for(&buckets.quarantine),
        ];
        Self { buckets, stores }
    }

    /// The bucket names.
    pub fn buckets(&self) -> &Buckets {
        &self.buckets
    }

    fn store(&self, kind: BucketKind) -> &Arc<dyn ObjectStore> {
        &self.stores[kind as usize]
    }

    /// `s3://bucket/key`, for messages and events.
    pub fn url(&self, kind: BucketKind, key: &str) -> String {
        format!("s3://{}/{}", self.buckets.name(kind), key)
    }

    /// An object's bytes, or `None` when it does not exist.
    pub async fn get(&self, kind: BucketKind, key: &str) -> Result<Option<Bytes>> {
        match self.store(kind).get(&Path::from(key)).await {
            Ok(found) => Ok(Some(found.bytes().await.map_err(|source| self.err("get", kind, key, source))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(source) => Err(self.err("get", kind, key, source)),
        }
    }

    /// The bytes of the object whose ETag is `etag` (an If-Match read): the raw extracts whose ETags went into a
    /// cache key are read this way, so a file replaced between the key and the read fails the run instead of
    /// being computed under the old key. `None` when the object does not exist.
    pub async fn get_if_match(&self, kind: BucketKind, key: &str, etag: &str) -> Result<Option<Bytes>> {
        let options = GetOptions { if_match: Some(etag.to_string()), ..Default::default() };
        let found = match self.store(kind).get_opts(&Path::from(key), options).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(object_store::Error::Precondition { .. }) => {
                return Err(PipelineError::Changed { url: self.url(kind, key), etag: etag.to_string() });
            }
            Err(source) => return Err(self.err("get", kind, key, source)),
        };
        // A store that ignores If-Match still answers with the object's current ETag: check it here too.
        if let Some(now) = found.meta.e_tag.as_deref()
            && now != etag
        {
            return Err(PipelineError::Changed { url: self.url(kind, key), etag: etag.to_string() });
        }
        Ok(Some(found.bytes().await.map_err(|source| self.err("get", kind, key, source))?))
    }

    /// An object's metadata (size, ETag), or `None` when it does not exist.
    pub async fn head(&self, kind: BucketKind, key: &str) -> Result<Option<ObjectMeta>> {
        match self.store(kind).head(&Path::from(key)).await {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(source) => Err(self.err("head", kind, key, source)),
        }
    }

    /// Writes an object whole.
    pub async fn put(&self, kind: BucketKind, key: &str, bytes: Bytes) -> Result<()> {
        self.put_etag(kind, key, bytes).await.map(|_| ())
    }

    /// Writes an object whole and returns the ETag the store gave it (`None` when the store sends none).
    pub async fn put_etag(&self, kind: BucketKind, key: &str, bytes: Bytes) -> Result<Option<String>> {
        self.store(kind)
            .put(&Path::from(key), PutPayload::from_bytes(bytes))
            .await
            .map(|put| put.e_tag)
            .map_err(|source| self.err("put", kind, key, source))
    }

    /// Reads a Parquet object into a frame.
    pub async fn read_parquet(&self, kind: BucketKind, key: &str) -> Result<Option<DataFrame>> {
        let Some(bytes) = self.get(kind, key).await? else { return Ok(None) };
        ParquetReader::new(Cursor::new(bytes))
            .finish()
            .map(Some)
            .map_err(|e| PipelineError::Other(format!("cannot read {} as Parquet: {e}", self.url(kind, key))))
    }

    /// Writes a frame as a Parquet object; returns the bytes written.
    pub async fn write_parquet(&self, kind: BucketKind, key: &str, frame: &mut DataFrame) -> Result<u64> {
        let bytes = encode_parquet(frame)
            .map_err(|e| PipelineError::Other(format!("cannot encode {} as Parquet: {e}", self.url(kind, key))))?;
        let n = bytes.len() as u64;
        self.put(kind, key, bytes.into()).await?;
        Ok(n)
    }

    fn err(&self, op: &'static str, kind: BucketKind, key: &str, source: object_store::Error) -> PipelineError {
        PipelineError::Store { op, url: self.url(kind, key), source }
    }
}

/// Encodes a frame as Parquet (Snappy: fast to write and read on a laptop).
pub fn encode_parquet(frame: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf).with_compression(ParquetCompression::Snappy).finish(frame)?;
    Ok(buf)
}
