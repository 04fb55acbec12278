//! The workspace the workbench runs in: its root (found by walking up from the current directory), where its
//! state lives (`.workbench/`), and its optional `workbench.toml`.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use localstack::Backend;
use pipeline_core::Buckets;
use serde::Deserialize;

/// Name of the optional settings file at the workspace root.
pub const CONFIG_FILE: &str = "workbench.toml";

/// Name of the state directory at the workspace root (S3 data, run history, indexes).
pub const STATE_DIR: &str = ".workbench";

/// Why the workspace could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// No directory above the start holds the workspace's `Cargo.toml` and `markets/`.
    #[error(
        "no workspace found at or above {start}: run wb inside the repository (the directory whose Cargo.toml has \
         [workspace] and which holds markets/)"
    )]
    NotFound {
        /// Where the search began.
        start: PathBuf,
    },
    /// The current directory could not be read.
    #[error("cannot read the current directory: {source}; cd into the repository and try again")]
    CurrentDir {
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// `workbench.toml` exists but cannot be read.
    #[error("cannot read {path}: {source}; check its permissions or remove it to use the defaults")]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// `workbench.toml` is not valid (syntax, an unknown key, a bad value).
    #[error("invalid {path}: {message}; fix the file or remove it to use the defaults")]
    BadConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// Settings from `workbench.toml`; every section and key is optional and unknown keys are errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Bucket names (`[buckets] raw = "...", work, exports, quarantine`).
    pub buckets: Buckets,
    /// `[aws]`: which backend to use when `--aws` is not given.
    pub aws: AwsSettings,
    /// `[run]`: defaults for `wb run`.
    pub run: RunSettings,
    /// `[coverage]`: the line and patch coverage thresholds of `wb coverage` (defaults 80 % and 90 %).
    pub coverage: workbench_coverage::Thresholds,
}

/// The `[aws]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwsSettings {
    /// Default backend (`embedded`, `endpoint`, ...), checked when the file is loaded.
    pub backend: Option<String>,
}

/// The `[run]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunSettings {
    /// How many markets run at once when `--jobs` is not given.
    pub jobs: Option<NonZeroUsize>,
}

/// A workspace root with its settings.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
    settings: Settings,
    backend: Option<Backend>,
}

impl Workspace {
    /// Finds the workspace from the current directory.
    pub fn discover_from_cwd() -> Result<Self, WorkspaceError> {
        let cwd = std::env::current_dir().map_err(|source| WorkspaceError::CurrentDir { source })?;
        Self::discover(&cwd)
    }

    /// Finds the workspace at or above `start`: the first directory whose `Cargo.toml` has a `[workspace]`
    /// table and which holds `markets/`. Loads `workbench.toml` when present.
    pub fn discover(start: &Path) -> Result<Self, WorkspaceError> {
        let root = start
            .ancestors()
            .find(|dir| is_root(dir))
            .ok_or_else(|| WorkspaceError::NotFound { start: start.to_path_buf() })?;
        Self::open(root)
    }

    /// Uses `root` as the workspace root without searching, loading its `workbench.toml` when present.
    pub fn open(root: &Path) -> Result<Self, WorkspaceError> {
        let path = root.join(CONFIG_FILE);
        let settings = match std::fs::read_to_string(&path) {
            Ok(text) => parse_settings(&path, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
            Err(source) => return Err(WorkspaceError::ReadConfig { path, source }),
        };
        let backend = match &settings.aws.backend {
            Some(name) => Some(name.parse::<Backend>().map_err(|e| WorkspaceError::BadConfig {
                path: path.clone(),
                message: format!("[aws] backend: {e}"),
            })?),
            None => None,
        };
        Ok(Self { root: root.to_path_buf(), settings, backend })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The settings from `workbench.toml` (defaults when there is none).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The backend `workbench.toml` asks for, if any.
    pub fn backend(&self) -> Option<Backend> {
        self.backend
    }

    /// `.workbench/`, where the workbench keeps its state.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(STATE_DIR)
    }

    /// Data directory of the embedded S3 (`.workbench/s3`): one folder per bucket, one file per object.
    pub fn s3_dir(&self) -> PathBuf {
        localstack::embedded_data_dir(&self.state_dir())
    }

    /// The run history database.
    pub fn history_path(&self) -> PathBuf {
        self.state_dir().join("history.sqlite")
    }

    /// The index of fixture files' MD5s, so unchanged files are not re-hashed on every run.
    pub fn fixture_index_path(&self) -> PathBuf {
        self.state_dir().join("fixture-md5.json")
    }

    /// The committed fixtures (`fixtures/data`), the default for `--fixtures`.
    pub fn default_fixtures_dir(&self) -> PathBuf {
        self.root.join("fixtures").join("data")
    }
}

/// Whether `dir` is the workspace root.
fn is_root(dir: &Path) -> bool {
    if !dir.join("markets").is_dir() {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else { return false };
    text.parse::<toml::Table>().is_ok_and(|t| t.contains_key("workspace"))
}

fn parse_settings(path: &Path, text: &str) -> Result<Settings, WorkspaceError> {
    toml::from_str(text)
        .map_err(|e| WorkspaceError::BadConfig { path: path.to_path_buf(), message: e.to_string().trim().to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_with(config: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
        std::fs::create_dir(dir.path().join("markets")).unwrap();
        if let Some(config) = config {
            std::fs::write(dir.path().join(CONFIG_FILE), config).unwrap();
        }
        dir
    }

    #[test]
    fn root_is_found_from_a_subdirectory_and_a_member_crate_is_skipped() {
        let dir = root_with(None);
        let member = dir.path().join("markets").join("au");
        std::fs::create_dir_all(member.join("src")).unwrap();
        std::fs::write(member.join("Cargo.toml"), "[package]\nname = \"au\"\n").unwrap();
        let ws = Workspace::discover(&member.join("src")).unwrap();
        assert_eq!(ws.root(), dir.path());
        assert_eq!(ws.settings(), &Settings::default());
        assert_eq!(ws.backend(), None);
        assert_eq!(ws.history_path(), dir.path().join(".workbench/history.sqlite"));
    }

    #[test]
    fn no_root_is_an_error_naming_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let err = Workspace::discover(dir.path()).unwrap_err();
        assert!(err.to_string().starts_with(&format!("no workspace found at or above {}", dir.path().display())));
    }

    #[test]
    fn settings_are_read_from_workbench_toml() {
        let dir = root_with(Some("[buckets]\nraw = \"src\"\n[aws]\nbackend = \"endpoint\"\n[run]\njobs = 3\n"));
        let ws = Workspace::discover(dir.path()).unwrap();
        assert_eq!(ws.settings().buckets.raw, "src");
        assert_eq!(ws.settings().buckets.work, "work");
        assert_eq!(ws.backend(), Some(Backend::Endpoint));
        assert_eq!(ws.settings().run.jobs, NonZeroUsize::new(3));
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key_and_the_file() {
        for (config, key) in
            [("[run]\nparallel = 2\n", "parallel"), ("[s3]\nx = 1\n", "s3"), ("[buckets]\nraws = \"r\"\n", "raws")]
        {
            let dir = root_with(Some(config));
            let err = Workspace::discover(dir.path()).unwrap_err().to_string();
            assert!(err.contains(&format!("unknown field `{key}`")), "{err}");
            assert!(err.contains(&dir.path().join(CONFIG_FILE).display().to_string()), "{err}");
        }
    }

    #[test]
    fn an_unknown_backend_names_the_key() {
        let dir = root_with(Some("[aws]\nbackend = \"moto\"\n"));
        let err = Workspace::discover(dir.path()).unwrap_err().to_string();
        assert!(err.contains("[aws] backend: unknown backend `moto`"), "{err}");
    }
}
