//! Choosing a backend by name, and the `endpoint` backend's environment handling.

use std::collections::HashMap;
use std::time::Duration;

use localstack::{
    Backend, Credentials, EMBEDDED_VERSION, EmbeddedS3, ExternalS3, LocalAwsError, RunningBackend, S3Endpoint,
    embedded_data_dir,
};
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;

#[test]
fn backend_names_round_trip() {
    for backend in Backend::ALL {
        let name = backend.to_string();
        assert_eq!(name.parse::<Backend>().unwrap(), backend);
    }
    assert_eq!(Backend::ALL.map(|b| b.to_string()), ["embedded", "localstack", "container", "endpoint"]);
    assert_eq!(" LocalStack ".parse::<Backend>().unwrap(), Backend::LocalStack);
    assert_eq!(Backend::default(), Backend::Embedded);

    let err = "minio".parse::<Backend>().unwrap_err();
    assert!(matches!(err, LocalAwsError::UnknownBackend { .. }));
    let message = err.to_string();
    assert!(message.contains("minio") && message.contains("embedded"), "{message}");
}

#[tokio::test]
async fn embedded_backend_starts_with_a_fresh_secret() {
    let dir = tempfile::tempdir().unwrap();
    let running = Backend::Embedded.start(dir.path()).await.unwrap();
    assert_eq!(running.backend(), Backend::Embedded);
    assert_eq!(running.version(), EMBEDDED_VERSION);
    assert!(running.startup() < Duration::from_secs(1), "{:?}", running.startup());
    let endpoint = running.endpoint();
    let local = Credentials::local();
    assert_eq!(
        (endpoint.credentials.access_key_id.as_str(), endpoint.credentials.region.as_str()),
        ("workbench", "us-east-1")
    );
    assert_ne!(endpoint.credentials.secret_access_key, local.secret_access_key, "the public secret is refused");
    endpoint.create_bucket("raw").await.unwrap();
    assert!(embedded_data_dir(dir.path()).join("raw").is_dir());
    assert!(dir.path().join("s3/raw").is_dir(), "the state directory's s3/ holds the buckets");
    running.shutdown().await;
}

fn lookup(vars: &HashMap<&str, &str>) -> impl Fn(&str) -> Option<String> {
    move |name| vars.get(name).map(|v| (*v).to_owned())
}

#[test]
fn endpoint_from_lookup_names_the_missing_variable() {
    let mut vars = HashMap::from([
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/"),
        ("AWS_ACCESS_KEY_ID", "key"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
    ]);
    let endpoint = S3Endpoint::from_lookup(lookup(&vars)).unwrap();
    assert_eq!(endpoint.url, "http://127.0.0.1:4566");
    assert_eq!(endpoint.credentials.region, "eu-west-1");

    vars.insert("AWS_REGION", "ap-southeast-2");
    let endpoint = S3Endpoint::from_lookup(lookup(&vars)).unwrap();
    assert_eq!(endpoint.credentials.region, "ap-southeast-2", "AWS_REGION wins");

    for var in ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        let mut missing = vars.clone();
        missing.remove(var);
        let err = S3Endpoint::from_lookup(lookup(&missing)).unwrap_err();
        assert!(err.to_string().contains(var), "{err}");
        let mut empty = vars.clone();
        empty.insert(var, "  ");
        let err = S3Endpoint::from_lookup(lookup(&empty)).unwrap_err();
        assert!(matches!(err, LocalAwsError::MissingEnv { var: v } if v == var));
    }

    vars.remove("AWS_REGION");
    vars.remove("AWS_DEFAULT_REGION");
    let err = S3Endpoint::from_lookup(lookup(&vars)).unwrap_err();
    assert!(err.to_string().contains("AWS_REGION"), "{err}");
}

#[test]
fn debug_output_hides_the_secret() {
    let shown = format!("{:?}", Credentials::local());
    assert!(shown.contains("workbench"));
    assert!(!shown.contains("workbench-secret"), "{shown}");
}

/// The `endpoint` code path against a real S3 server: the embedded one, named only by variables.
#[tokio::test]
async fn endpoint_backend_works_against_any_s3_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedS3::start(dir.path(), Credentials::local()).await.unwrap();
    let url = server.endpoint().url;
    let vars = HashMap::from([
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("AWS_ACCESS_KEY_ID", "workbench"),
        ("AWS_SECRET_ACCESS_KEY", "workbench-secret"),
        ("AWS_REGION", "us-east-1"),
    ]);
    let external = ExternalS3::connect(S3Endpoint::from_lookup(lookup(&vars)).unwrap()).await.unwrap();
    let running = RunningBackend::Endpoint(external);
    assert_eq!(running.backend(), Backend::Endpoint);
    assert!(running.version().starts_with("S3 endpoint"), "{}", running.version());
    let endpoint = running.endpoint();
    endpoint.create_bucket("raw").await.unwrap();
    let store = endpoint.object_store("raw").unwrap();
    store.put(&ObjectPath::from("k.txt"), "v".into()).await.unwrap();
    assert_eq!(std::fs::read(dir.path().join("raw/k.txt")).unwrap(), b"v");
    running.shutdown().await;
    server.shutdown().await;
}

/// A region other than us-east-1 sends a LocationConstraint body, which the server must accept.
#[tokio::test]
async fn create_bucket_outside_us_east_1() {
    let dir = tempfile::tempdir().unwrap();
    let credentials = Credentials { region: "eu-central-1".to_owned(), ..Credentials::local() };
    let server = EmbeddedS3::start(dir.path(), credentials).await.unwrap();
    let endpoint = server.endpoint();
    endpoint.create_bucket("raw").await.unwrap();
    endpoint.create_bucket("raw").await.unwrap();
    assert!(dir.path().join("raw").is_dir());
    server.shutdown().await;
}
