//! The embedded backend's storage: `s3s-fs` with three fixes that keep ETags trustworthy.
//!
//! `s3s-fs` keeps every object as a plain file at `<root>/<bucket>/<key>` and its side data as
//! hidden files directly in `<root>` (never inside a bucket folder, so listings only ever see
//! objects):
//!
//! * `.bucket-<b64(bucket)>.object-<b64(key)>.internal.json`: the ETag (MD5 of the bytes, or
//!   `<md5-of-part-md5s>-<parts>` after a multipart upload) and any checksums sent with the upload;
//! * `.bucket-<b64(bucket)>.object-<b64(key)>.metadata.json`: content type and user metadata;
//! * `.tmp.<n>.internal.part`: a write in progress, renamed onto the object when complete (so
//!   readers never see half an object; leftovers are removed at start-up);
//! * `.upload-<uuid>.json`, `.upload_id-<uuid>.part-<n>`: multipart uploads in progress.
//!
//! (`b64` is URL-safe base64 without padding.) Left alone, `s3s-fs` (0.14) would
//! 1. leave both sidecars behind when an object or bucket is deleted,
//! 2. keep serving the recorded ETag after someone changes the file on disk directly, and
//! 3. return no ETag at all in `ListObjects(V2)` results, and
//! 4. accept uploads into a bucket that does not exist (creating its folder),
//! 5. resolve keys as paths, so `../work/x` lands in another bucket, `a/../../x` in the store's
//!    root, a crafted key on another object's sidecar (forging its ETag), and `..` panics, and
//! 6. ignore `If-Match` on `GET` and `HEAD`.
//!
//! Since the pipeline's cache keys hash raw objects' ETags, [`FsStore`] forwards every operation
//! to `s3s-fs` but first refuses unsafe bucket names, keys and list prefixes ([`check_key`]) with
//! `400 InvalidArgument`, deletes sidecars with their objects, drops a sidecar that is older than
//! its object (so the ETag is recomputed from the bytes), fills in ETags in listings, answers
//! `NoSuchBucket` to uploads into a missing bucket, as S3 does, and `412 PreconditionFailed` to a
//! `GET`/`HEAD` whose `If-Match` names another ETag.
//!
//! `s3s-fs` names temporary files with a per-process counter and deletes all of them at start-up,
//! so two servers over one root corrupt each other's writes: [`crate::EmbeddedS3`] holds a lock
//! for the server's life so that never happens.

use std::path::{Component, Path, PathBuf};

use futures::future::BoxFuture;
use s3s::crypto::{Checksum, Md5};
use s3s::dto;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use s3s_fs::FileSystem;
use tokio::io::AsyncReadExt;

/// `s3s-fs` plus sidecar hygiene; see the module docs.
#[derive(Debug)]
pub(crate) struct FsStore {
    fs: FileSystem,
    root: PathBuf,
}

/// The longest key S3 accepts, in bytes.
const MAX_KEY_BYTES: usize = 1024;

/// A `400 InvalidArgument` naming the refused `what` (`key`, `bucket`, `prefix`) and why.
fn refuse(what: &str, value: &str, why: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidArgument,
        format!("{what} {value:?} is not allowed: {why}; use relative `/`-separated names without `.` or `..`"),
    )
}

/// Why one `/`-separated segment of a key is unsafe on a file system, if it is.
fn segment_problem(segment: &str) -> Option<&'static str> {
    match segment {
        "" => Some("it has an empty segment (`//`, or a leading or trailing `/`)"),
        "." => Some("it has a `.` segment"),
        ".." => Some("it has a `..` segment"),
        _ => None,
    }
}

/// Why `value` is unsafe as a key (or, with `prefix`, a list prefix, whose last segment may be
/// empty), if it is: absolute, empty, `.`/`..`/empty segments, control bytes (NUL included).
fn name_problem(value: &str, prefix: bool) -> Option<&'static str> {
    if value.chars().any(char::is_control) {
        return Some("it contains a control character");
    }
    if value.starts_with('/') {
        return Some("it is absolute (starts with `/`)");
    }
    if prefix && value.is_empty() {
        return None;
    }
    let segments: Vec<&str> = value.split('/').collect();
    let last = segments.len() - 1;
    segments
        .iter()
        .enumerate()
        .filter(|(i, s)| !(prefix && *i == last && s.is_empty()))
        .find_map(|(_, s)| segment_problem(s))
}

/// Refuses an object key that could leave its bucket's folder or is not a plain file name there.
pub(crate) fn check_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::with_message(
            S3ErrorCode::KeyTooLongError,
            format!("key of {} bytes is longer than the {MAX_KEY_BYTES} bytes S3 allows", key.len()),
        ));
    }
    match name_problem(key, false) {
        Some(why) => Err(refuse("key", key, why)),
        None => Ok(()),
    }
}

/// Refuses a list prefix that could reach outside its bucket's folder.
fn check_prefix(prefix: Option<&str>) -> S3Result<()> {
    match prefix.and_then(|p| name_problem(p, true).map(|why| (p, why))) {
        Some((p, why)) => Err(refuse("prefix", p, why)),
        None => Ok(()),
    }
}

/// Refuses a bucket name that is not one plain folder name.
fn check_bucket(bucket: &str) -> S3Result<()> {
    match name_problem(bucket, false).or_else(|| bucket.contains('/').then_some("it contains `/`")) {
        Some(why) => Err(refuse("bucket", bucket, why)),
        None => Ok(()),
    }
}

/// Refuses an unsafe bucket or key.
fn check_object(bucket: &str, key: &str) -> S3Result<()> {
    check_bucket(bucket)?;
    check_key(key)
}

/// Refuses an unsafe copy source (the bucket/key form; other forms `s3s-fs` refuses itself).
fn check_copy_source(source: &dto::CopySource) -> S3Result<()> {
    match source {
        dto::CopySource::Bucket { bucket, key, .. } => check_object(bucket, key),
        _ => Ok(()),
    }
}

/// Whether an `If-Match` condition holds for an object whose ETag is `current` (`None`: no object).
fn if_match_holds(condition: &dto::ETagCondition, current: Option<&str>) -> bool {
    match (condition, current) {
        (_, None) => false,
        (dto::ETagCondition::ETag(expected), Some(current)) => {
            dto::ETag::Strong(current.to_owned()).strong_cmp(expected)
        }
        _ => true,
    }
}

impl FsStore {
    /// Serves `root`, which must exist; `root` must be canonical, like the one `s3s-fs` uses.
    pub(crate) fn new(root: PathBuf) -> std::io::Result<Self> {
        let fs = FileSystem::new(&root).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        Ok(Self { fs, root })
    }

    /// Where `s3s-fs` keeps the object, or `None` for keys it would normalise (`..`, `.`, `//`),
    /// which this wrapper then leaves alone.
    fn object_path(&self, bucket: &str, key: &str) -> Option<PathBuf> {
        let key = Path::new(key);
        let plain = key.components().all(|c| matches!(c, Component::Normal(_)));
        (plain && !bucket.is_empty()).then(|| self.root.join(bucket).join(key))
    }

    fn sidecar_prefix(bucket: &str) -> String {
        format!(".bucket-{}.object-", base64_url(bucket.as_bytes()))
    }

    fn sidecar(&self, bucket: &str, key: &str, kind: &str) -> PathBuf {
        let name = format!("{}{}.{kind}.json", Self::sidecar_prefix(bucket), base64_url(key.as_bytes()));
        self.root.join(name)
    }

    /// Fails with `NoSuchBucket` unless `bucket` exists, as S3 does; `s3s-fs` would silently
    /// create the folder on upload, hiding a missing bucket until the code meets real S3.
    async fn require_bucket(&self, bucket: &str) -> S3Result<()> {
        let exists = Path::new(bucket).components().all(|c| matches!(c, Component::Normal(_)))
            && tokio::fs::metadata(self.root.join(bucket)).await.is_ok_and(|m| m.is_dir());
        if exists {
            Ok(())
        } else {
            Err(S3Error::with_message(
                S3ErrorCode::NoSuchBucket,
                format!("bucket `{bucket}` does not exist; create it first"),
            ))
        }
    }

    /// Removes the ETag sidecar when the object file changed after it was written (someone edited
    /// the file directly), so `s3s-fs` falls back to hashing the current bytes.
    async fn drop_stale_sidecar(&self, bucket: &str, key: &str) {
        let Some(object) = self.object_path(bucket, key) else {
            return;
        };
        let internal = self.sidecar(bucket, key, "internal");
        let (Ok(object_meta), Ok(sidecar_meta)) =
            (tokio::fs::metadata(&object).await, tokio::fs::metadata(&internal).await)
        else {
            return;
        };
        if let (Ok(object_time), Ok(sidecar_time)) = (object_meta.modified(), sidecar_meta.modified())
            && object_time > sidecar_time
        {
            let _ = tokio::fs::remove_file(&internal).await;
        }
    }

    /// Removes both sidecars of `bucket/key` unless the object still exists.
    async fn remove_sidecars_if_gone(&self, bucket: &str, key: &str) {
        if let Some(object) = self.object_path(bucket, key)
            && tokio::fs::symlink_metadata(&object).await.is_ok()
        {
            return;
        }
        for kind in ["internal", "metadata"] {
            let _ = tokio::fs::remove_file(self.sidecar(bucket, key, kind)).await;
        }
    }

    /// Removes every object sidecar of `bucket` once the bucket folder is gone.
    async fn remove_bucket_sidecars(&self, bucket: &str) {
        if tokio::fs::metadata(self.root.join(bucket)).await.is_ok() {
            return;
        }
        let prefix = Self::sidecar_prefix(bucket);
        let Ok(mut entries) = tokio::fs::read_dir(&self.root).await else {
            return;
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name();
            if name.to_str().is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".json")) {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }

    /// The ETag `HeadObject` would report for `bucket/key`: the recorded one if still fresh,
    /// otherwise the MD5 of the file's bytes.
    async fn e_tag(&self, bucket: &str, key: &str) -> Option<String> {
        self.drop_stale_sidecar(bucket, key).await;
        if let Ok(content) = tokio::fs::read(self.sidecar(bucket, key, "internal")).await
            && let Ok(info) = serde_json::from_slice::<serde_json::Value>(&content)
            && let Some(e_tag) = info.get("e_tag").and_then(|v| v.as_str())
        {
            return Some(e_tag.to_owned());
        }
        let mut file = tokio::fs::File::open(self.object_path(bucket, key)?).await.ok()?;
        let mut md5 = Md5::new();
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = file.read(&mut buf).await.ok()?;
            if n == 0 {
                break;
            }
            md5.update(&buf[..n]);
        }
        Some(md5.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Fails with `412 PreconditionFailed` when `condition` (an `If-Match` header) does not hold for
    /// the object's current ETag; `s3s-fs` ignores `If-Match` on reads.
    async fn require_if_match(&self, bucket: &str, key: &str, condition: Option<&dto::ETagCondition>) -> S3Result<()> {
        let Some(condition) = condition else { return Ok(()) };
        let current = self.e_tag(bucket, key).await;
        if if_match_holds(condition, current.as_deref()) {
            return Ok(());
        }
        Err(S3Error::with_message(
            S3ErrorCode::PreconditionFailed,
            format!(
                "s3://{bucket}/{key} has ETag {} now, not the one If-Match names: it changed since it was read; \
                 re-run to pick up the new object",
                current.as_deref().unwrap_or("(no object)")
            ),
        ))
    }

    async fn fill_e_tags(&self, bucket: &str, contents: Option<&mut Vec<dto::Object>>) {
        for object in contents.into_iter().flatten() {
            if object.e_tag.is_none()
                && let Some(key) = object.key.as_deref()
            {
                object.e_tag = self.e_tag(bucket, key).await.map(dto::ETag::Strong);
            }
        }
    }
}

/// Implements one `S3` method with the signature `#[async_trait]` generates for the trait.
macro_rules! s3_method {
    ($name:ident($input:ident) -> $output:ident, |$this:ident, $req:ident| $body:expr) => {
        fn $name<'life0, 'async_trait>(
            &'life0 self,
            $req: S3Request<dto::$input>,
        ) -> BoxFuture<'async_trait, S3Result<S3Response<dto::$output>>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            let $this = self;
            Box::pin(async move { $body })
        }
    };
}

/// Implements `S3` methods by handing them to `s3s-fs` unchanged.
macro_rules! forward {
    ($($name:ident($input:ident) -> $output:ident;)*) => {
        $(s3_method!($name($input) -> $output, |this, req| S3::$name(&this.fs, req).await);)*
    };
}

impl S3 for FsStore {
    forward! {
        list_buckets(ListBucketsInput) -> ListBucketsOutput;
    }

    s3_method!(create_bucket(CreateBucketInput) -> CreateBucketOutput, |this, req| {
        check_bucket(&req.input.bucket)?;
        S3::create_bucket(&this.fs, req).await
    });

    s3_method!(get_bucket_location(GetBucketLocationInput) -> GetBucketLocationOutput, |this, req| {
        check_bucket(&req.input.bucket)?;
        S3::get_bucket_location(&this.fs, req).await
    });

    s3_method!(head_bucket(HeadBucketInput) -> HeadBucketOutput, |this, req| {
        check_bucket(&req.input.bucket)?;
        S3::head_bucket(&this.fs, req).await
    });

    s3_method!(upload_part(UploadPartInput) -> UploadPartOutput, |this, req| {
        check_object(&req.input.bucket, &req.input.key)?;
        S3::upload_part(&this.fs, req).await
    });

    s3_method!(upload_part_copy(UploadPartCopyInput) -> UploadPartCopyOutput, |this, req| {
        check_object(&req.input.bucket, &req.input.key)?;
        check_copy_source(&req.input.copy_source)?;
        S3::upload_part_copy(&this.fs, req).await
    });

    s3_method!(list_parts(ListPartsInput) -> ListPartsOutput, |this, req| {
        check_object(&req.input.bucket, &req.input.key)?;
        S3::list_parts(&this.fs, req).await
    });

    s3_method!(complete_multipart_upload(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput, |this, req| {
        check_object(&req.input.bucket, &req.input.key)?;
        S3::complete_multipart_upload(&this.fs, req).await
    });

    s3_method!(abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput, |this, req| {
        check_object(&req.input.bucket, &req.input.key)?;
        S3::abort_multipart_upload(&this.fs, req).await
    });

    s3_method!(put_object(PutObjectInput) -> PutObjectOutput, |this, req| {
        check_object(&req.input.bucket, &req.input.key)?;
        this.require_bucket(&req.input.bucket).await?;
        S3::put_object(&this.fs, req).await
    });

    s3_method!(copy_object(CopyObjectInput) -> CopyObjectOutput, |this, req| {
        check_object(&req.input.bucket, &req.input.key)?;
        check_copy_source(&req.input.copy_source)?;
        this.require_bucket(&req.input.bucket).await?;
        S3::copy_object(&this.fs, req).await
    });

    s3_method!(create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput, |this, req| {
        check_object(&req.input.bucket, &req.input.key)?;
        this.require_bucket(&req.input.bucket).await?;
        S3::create_multipart_upload(&this.fs, req).await
    });

    s3_method!(delete_bucket(DeleteBucketInput) -> DeleteBucketOutput, |this, req| {
        check_bucket(&req.input.bucket)?;
        let bucket = req.input.bucket.clone();
        let output = S3::delete_bucket(&this.fs, req).await?;
        this.remove_bucket_sidecars(&bucket).await;
        Ok(output)
    });

    s3_method!(delete_object(DeleteObjectInput) -> DeleteObjectOutput, |this, req| {
        check_object(&req.input.bucket, &req.input.key)?;
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let output = S3::delete_object(&this.fs, req).await?;
        this.remove_sidecars_if_gone(&bucket, &key).await;
        Ok(output)
    });

    s3_method!(delete_objects(DeleteObjectsInput) -> DeleteObjectsOutput, |this, req| {
        let bucket = req.input.bucket.clone();
        check_bucket(&bucket)?;
        let keys: Vec<String> = req.input.delete.objects.iter().map(|o| o.key.clone()).collect();
        keys.iter().try_for_each(|key| check_key(key))?;
        let output = S3::delete_objects(&this.fs, req).await?;
        for key in &keys {
            this.remove_sidecars_if_gone(&bucket, key).await;
        }
        Ok(output)
    });

    s3_method!(get_object(GetObjectInput) -> GetObjectOutput, |this, req| {
        check_object(&req.input.bucket, &req.input.key)?;
        this.drop_stale_sidecar(&req.input.bucket, &req.input.key).await;
        this.require_if_match(&req.input.bucket, &req.input.key, req.input.if_match.as_ref()).await?;
        S3::get_object(&this.fs, req).await
    });

    s3_method!(head_object(HeadObjectInput) -> HeadObjectOutput, |this, req| {
        check_object(&req.input.bucket, &req.input.key)?;
        this.drop_stale_sidecar(&req.input.bucket, &req.input.key).await;
        this.require_if_match(&req.input.bucket, &req.input.key, req.input.if_match.as_ref()).await?;
        S3::head_object(&this.fs, req).await
    });

    s3_method!(list_objects(ListObjectsInput) -> ListObjectsOutput, |this, req| {
        let bucket = req.input.bucket.clone();
        check_bucket(&bucket)?;
        check_prefix(req.input.prefix.as_deref())?;
        let mut output = S3::list_objects(&this.fs, req).await?;
        this.fill_e_tags(&bucket, output.output.contents.as_mut()).await;
        Ok(output)
    });

    s3_method!(list_objects_v2(ListObjectsV2Input) -> ListObjectsV2Output, |this, req| {
        let bucket = req.input.bucket.clone();
        check_bucket(&bucket)?;
        check_prefix(req.input.prefix.as_deref())?;
        let mut output = S3::list_objects_v2(&this.fs, req).await?;
        this.fill_e_tags(&bucket, output.output.contents.as_mut()).await;
        Ok(output)
    });
}

/// URL-safe base64 without padding, the encoding `s3s-fs` uses in sidecar file names.
fn base64_url(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64_url;

    #[test]
    fn base64_url_matches_rfc4648_without_padding() {
        assert_eq!(base64_url(b""), "");
        assert_eq!(base64_url(b"f"), "Zg");
        assert_eq!(base64_url(b"fo"), "Zm8");
        assert_eq!(base64_url(b"foo"), "Zm9v");
        assert_eq!(base64_url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_url(&[0xfb, 0xff]), "-_8");
    }
}
