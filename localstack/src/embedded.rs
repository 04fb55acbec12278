//! The default backend: an S3 server inside this process.

use std::fs::{File, OpenOptions, TryLockError};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::fs_store::FsStore;
use crate::{Credentials, LocalAwsError, S3Endpoint};

/// How long a graceful shutdown waits for requests in flight before dropping their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// An in-process S3 server (`s3s` + `s3s-fs`) on an ephemeral loopback port: zero set-up, works
/// offline, starts in milliseconds, and checks SigV4 signatures against one key pair so clients
/// exercise the same signing code as against real S3.
///
/// Storage is plain files: bucket `b` is the folder `<data_dir>/b` and object `k` in it is the
/// file `<data_dir>/b/k` holding exactly the object's bytes, so any tool can open the results.
/// Side data lives in hidden `.`-files directly in `<data_dir>`, never inside a bucket folder, so
/// listings only ever show objects (`b64` is URL-safe base64 without padding):
///
/// * `.bucket-<b64(bucket)>.object-<b64(key)>.internal.json`: the object's ETag and checksums;
/// * `.bucket-<b64(bucket)>.object-<b64(key)>.metadata.json`: content type and user metadata;
/// * `.tmp.<n>.internal.part`: a write in progress, renamed onto the object when complete (so
///   nobody sees half an object; leftovers are removed at start-up);
/// * `.upload-<uuid>.json`, `.upload_id-<uuid>.part-<n>`: multipart uploads in progress.
///
/// Sidecars are removed with their objects. ETags are the MD5 of the bytes (multipart uploads:
/// `<md5 of part md5s>-<parts>`), the same in `HEAD`, `GET` and listings; a file changed or
/// dropped in directly on disk gets the MD5 of its current bytes. Uploads into a bucket that
/// does not exist fail with `NoSuchBucket`, as on S3.
///
/// One server per data directory: the server holds an exclusive lock on `<data_dir>.lock` (e.g.
/// `.workbench/s3.lock`, beside the folder so removing the folder cannot drop it) for its whole
/// life; the OS releases it when the process ends, even by a crash. A second start over the same
/// folder fails with [`LocalAwsError::StoreInUse`] at once instead of corrupting the first one's
/// writes (`s3s-fs` names temporary files with a per-process counter and removes all of them at
/// start-up). Keys that could leave a bucket's folder are refused with `400 InvalidArgument`.
///
/// The server runs as a task on the tokio runtime that called [`EmbeddedS3::start`]. Call
/// [`EmbeddedS3::shutdown`] to stop it and wait; dropping the value only asks it to stop (without
/// blocking), and it stops by itself when that runtime ends.
#[derive(Debug)]
pub struct EmbeddedS3 {
    addr: SocketAddr,
    data_dir: PathBuf,
    credentials: Credentials,
    startup: Duration,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl EmbeddedS3 {
    /// Serves `data_dir` (created if missing) on `127.0.0.1:<ephemeral port>`, accepting only
    /// requests signed with `credentials`. Fails with [`LocalAwsError::StoreInUse`] when another
    /// server holds the folder's lock. Leftover temporary files from an earlier crash are removed;
    /// existing buckets and objects are served as they are.
    pub async fn start(data_dir: &Path, credentials: Credentials) -> Result<Self, LocalAwsError> {
        let started = Instant::now();
        let dir_error = |source| LocalAwsError::DataDir { path: data_dir.to_owned(), source };
        tokio::fs::create_dir_all(data_dir).await.map_err(dir_error)?;
        let root = tokio::fs::canonicalize(data_dir).await.map_err(dir_error)?;
        let lock = take_lock(&root)?;
        let store = FsStore::new(root.clone()).map_err(dir_error)?;

        let mut builder = S3ServiceBuilder::new(store);
        builder.set_auth(SimpleAuth::from_single(
            credentials.access_key_id.clone(),
            credentials.secret_access_key.clone(),
        ));
        let service = builder.build();

        let bind_error = |source| LocalAwsError::Bind { source };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(listener, service, stopped, lock));

        Ok(Self { addr, data_dir: root, credentials, startup: started.elapsed(), stop: Some(stop), task: Some(task) })
    }

    /// Where clients reach this server, with the credentials it accepts.
    pub fn endpoint(&self) -> S3Endpoint {
        S3Endpoint { url: format!("http://{}", self.addr), credentials: self.credentials.clone() }
    }

    /// The loopback address and port the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The (canonical) data directory holding one folder per bucket.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// How long [`EmbeddedS3::start`] took, from the call until the port accepted connections;
    /// kept so start-up cost can be reported without a benchmark (the target is under 100 ms).
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// Stops accepting connections, lets requests in flight finish (up to 5 s), and returns once
    /// the server task has ended.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmbeddedS3 {
    fn drop(&mut self) {
        // Never blocks: the server task sees the signal (or the closed channel) and winds down on
        // its own, bounded by SHUTDOWN_GRACE.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The lock file of a data directory: `<data_dir>.lock`, beside it.
pub fn lock_path(data_dir: &Path) -> PathBuf {
    let mut name = data_dir.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "s3".into());
    name.push(".lock");
    data_dir.with_file_name(name)
}

/// Takes the exclusive lock on `root`'s lock file without waiting.
fn take_lock(root: &Path) -> Result<File, LocalAwsError> {
    let path = lock_path(root);
    let lock_error = |source| LocalAwsError::DataDir { path: path.clone(), source };
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(lock_error)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(LocalAwsError::StoreInUse { data_dir: root.to_owned(), lock: path }),
        Err(TryLockError::Error(source)) => Err(lock_error(source)),
    }
}

/// Accepts connections until `stopped` fires (or its sender is dropped), then shuts down
/// gracefully. Holds `lock` until the last connection is done, so no other server takes the
/// folder while this one still writes.
async fn serve(listener: TcpListener, service: S3Service, mut stopped: oneshot::Receiver<()>, lock: File) {
    let http = ConnBuilder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _peer)) => {
                    let _ = socket.set_nodelay(true);
                    let conn = http.serve_connection(TokioIo::new(socket), service.clone());
                    let conn = graceful.watch(conn.into_owned());
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            _ = &mut stopped => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    drop(lock);
}
