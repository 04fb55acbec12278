//! Outputs of another git revision, for `wb diff --against REV|base`: the revision is resolved with git2 (`base`
//! is the merge base of `HEAD` with the main branch), checked out in a detached worktree under
//! `.workbench/worktrees/<commit>`, its `wb` built once with the main target directory (so only the workspace's
//! own crates compile), and its `wb run --json --market M --stage S` run against the same S3 endpoint. Its work
//! outputs land in the shared work bucket under their own cache keys (so a re-run is served from the cache); its
//! raw extracts and export files go to buckets of its own (`<bucket>-rev-<commit>`), so the checkout's fixtures
//! and exports never replace the main workspace's.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use localstack::S3Endpoint;
use pipeline_core::{Buckets, Stage};

use crate::history::StageOutput;
use crate::services::runs::RunSummary;
use crate::workspace::Workspace;

/// Branches tried, in order, as the main branch for `base`.
pub const MAIN_BRANCHES: [&str; 4] = ["main", "master", "origin/main", "origin/master"];

/// A resolved git revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// What was asked for (`base`, a branch, a commit, `HEAD~1`).
    pub spec: String,
    /// The full commit id.
    pub commit: String,
}

impl Revision {
    /// The commit's first 12 characters.
    pub fn short(&self) -> &str {
        &self.commit[..self.commit.len().min(12)]
    }

    /// `spec (short)`, or just the short id when the spec is the commit itself.
    pub fn label(&self) -> String {
        if self.commit.starts_with(&self.spec) {
            self.short().to_string()
        } else {
            format!("{} ({})", self.spec, self.short())
        }
    }
}

/// Why another revision's output could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum RevisionError {
    /// The workspace is not in a git repository.
    #[error("--against {spec}: {root} is not in a git repository ({reason}); diff against a run id instead")]
    NotARepository {
        /// What was asked for.
        spec: String,
        /// The workspace root.
        root: PathBuf,
        /// What git said.
        reason: String,
    },
    /// No main branch to take the merge base with.
    #[error("--against base: no main branch found (tried {}); give a branch or commit instead", MAIN_BRANCHES.join(", "))]
    NoMainBranch,
    /// git2 failed.
    #[error("--against {spec}: {reason}")]
    Git {
        /// What was asked for.
        spec: String,
        /// What git said.
        reason: String,
    },
    /// A command (git, cargo, the revision's wb) could not be started or failed.
    #[error("{what} failed{}: {detail}; the worktree is {}", status.map(|s| format!(" (exit {s})")).unwrap_or_default(), worktree.display())]
    Command {
        /// What was run.
        what: String,
        /// Exit status.
        status: Option<i32>,
        /// The end of its output, or why it did not start.
        detail: String,
        /// The worktree.
        worktree: PathBuf,
    },
    /// The revision's run did not produce the stage.
    #[error(
        "the run of {market} {stage} at {revision} (worktree {}) produced no {stage} output{}",
        worktree.display(),
        error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
    )]
    NoOutput {
        /// Market.
        market: String,
        /// Stage.
        stage: Stage,
        /// The revision's label.
        revision: String,
        /// The worktree.
        worktree: PathBuf,
        /// The run's error, when it said one.
        error: Option<String>,
    },
}

/// Resolves `spec` in the repository holding `root`: `base` to the merge base of `HEAD` and the main branch,
/// anything else through `git rev-parse` rules. `Ok(None)` when `spec` names no revision (or `root` is in no
/// repository and `spec` is not `base`).
pub fn resolve(root: &Path, spec: &str) -> Result<Option<Revision>, RevisionError> {
    let git = |e: git2::Error| RevisionError::Git { spec: spec.to_string(), reason: e.message().to_string() };
    let repo = match git2::Repository::discover(root) {
        Ok(repo) => repo,
        Err(e) if spec == "base" => {
            return Err(RevisionError::NotARepository {
                spec: spec.to_string(),
                root: root.to_path_buf(),
                reason: e.message().to_string(),
            });
        }
        Err(_) => return Ok(None),
    };
    if spec == "base" {
        let head = repo.head().and_then(|h| h.peel_to_commit()).map_err(git)?.id();
        let main = MAIN_BRANCHES
            .iter()
            .find_map(|name| repo.revparse_single(name).and_then(|o| o.peel_to_commit()).ok())
            .ok_or(RevisionError::NoMainBranch)?;
        let base = repo.merge_base(head, main.id()).map_err(git)?;
        return Ok(Some(Revision { spec: spec.to_string(), commit: base.to_string() }));
    }
    match repo.revparse_single(spec).and_then(|o| o.peel_to_commit()) {
        Ok(commit) => Ok(Some(Revision { spec: spec.to_string(), commit: commit.id().to_string() })),
        Err(_) => Ok(None),
    }
}

/// `.workbench/worktrees/<commit>` of a workspace.
pub fn worktree_dir(workspace: &Workspace, rev: &Revision) -> PathBuf {
    workspace.state_dir().join("worktrees").join(rev.short())
}

/// Where the revision's `wb` is kept once built (in the worktree's own `.workbench/`); while it exists, the
/// revision is not built again.
pub fn binary_path(worktree: &Path) -> PathBuf {
    worktree.join(".workbench").join("wb")
}

/// The buckets a revision's runs use: the shared work bucket, and raw, exports and quarantine of its own.
pub fn revision_buckets(main: &Buckets, rev: &Revision) -> Buckets {
    let own = |bucket: &str| format!("{bucket}-rev-{}", rev.short());
    Buckets {
        raw: own(&main.raw),
        work: main.work.clone(),
        exports: own(&main.exports),
        quarantine: own(&main.quarantine),
        reports: own(&main.reports),
    }
}

/// The revision's output of `market`'s `stage`: checks the worktree out (once), builds its `wb` (once), and
/// runs it against `endpoint` (served from the cache when already run).
pub async fn output_at(
    workspace: &Workspace,
    rev: &Revision,
    market: &markets::MarketId,
    stage: Stage,
    endpoint: &S3Endpoint,
) -> Result<OutputRef, RevisionError> {
    let worktree = worktree_dir(workspace, rev);
    let buckets = revision_buckets(&workspace.settings().buckets, rev);
    prepare_worktree(workspace.root(), rev, &worktree, &buckets).await?;
    let bin = binary_path(&worktree);
    if !bin.is_file() {
        eprintln!("building {} in {} (first time; later diffs reuse it)…", rev.label(), worktree.display());
        // The main target directory (or the one CARGO_TARGET_DIR names), so dependencies are not built again.
        let target = crate::services::build::target_dir(workspace.root());
        build_wb(&worktree, &target, &bin).await?;
    }
    eprintln!("running {market} {stage} at {} …", rev.label());
    run_stage(&bin, &worktree, rev, market.as_str(), stage, endpoint, &buckets).await
}

/// Checks `rev` out detached at `worktree` (unless already there) and writes its `workbench.toml` naming the
/// revision's buckets.
pub async fn prepare_worktree(
    repo_root: &Path,
    rev: &Revision,
    worktree: &Path,
    buckets: &Buckets,
) -> Result<(), RevisionError> {
    if !worktree.join("Cargo.toml").is_file() {
        if let Some(parent) = worktree.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| command_error("creating the worktrees folder", None, e.to_string(), worktree))?;
        }
        let mut git = tokio::process::Command::new("git");
        git.arg("-C").arg(repo_root).args(["worktree", "add", "--detach"]).arg(worktree).arg(&rev.commit);
        run_quiet(git, "git worktree add", worktree).await?;
    }
    let settings = format!(
        "# Written by `wb diff --against`: this revision's runs share the work bucket and keep their own raw,\n\
         # exports and quarantine buckets.\n[buckets]\nraw = \"{}\"\nwork = \"{}\"\nexports = \"{}\"\nquarantine = \"{}\"\n",
        buckets.raw, buckets.work, buckets.exports, buckets.quarantine
    );
    std::fs::write(worktree.join(crate::workspace::CONFIG_FILE), settings)
        .map_err(|e| command_error("writing workbench.toml", None, e.to_string(), worktree))
}

/// Builds the worktree's `wb` with `target_dir` as the target directory and copies it to `bin`. Cargo places the
/// built binary at `<target_dir>/debug/wb`, where the main workspace's own `wb` lives too: it is put back right
/// after the build.
pub async fn build_wb(worktree: &Path, target_dir: &Path, bin: &Path) -> Result<(), RevisionError> {
    let shared = target_dir.join("debug").join("wb");
    let saved = target_dir.join("debug").join(format!("wb.saved-{}", std::process::id()));
    let had_main = std::fs::copy(&shared, &saved).is_ok();
    let mut cargo = crate::services::build::command();
    cargo.current_dir(worktree).args(["build", "-p", "workbench", "--bin", "wb"]).env("CARGO_TARGET_DIR", target_dir);
    let built = run_quiet(cargo, "cargo build (the revision's wb)", worktree).await;
    let copied = built.and_then(|()| {
        if let Some(dir) = bin.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| command_error("copying the built wb", None, e.to_string(), worktree))?;
        }
        std::fs::copy(&shared, bin)
            .map(|_| ())
            .map_err(|e| command_error("copying the built wb", None, e.to_string(), worktree))
    });
    if had_main {
        let _ = std::fs::rename(&saved, &shared);
    }
    copied
}

/// Runs the revision's `wb run --json` for one market and stage against `endpoint` and returns the stage's
/// output from its events.
pub async fn run_stage(
    bin: &Path,
    worktree: &Path,
    rev: &Revision,
    market: &str,
    stage: Stage,
    endpoint: &S3Endpoint,
    buckets: &Buckets,
) -> Result<OutputRef, RevisionError> {
    let c = &endpoint.credentials;
    let output = tokio::process::Command::new(bin)
        .current_dir(worktree)
        .args(["run", "--json", "--aws", "endpoint", "--market", market, "--stage", stage.name()])
        .env("AWS_ENDPOINT_URL", &endpoint.url)
        .env("AWS_ACCESS_KEY_ID", &c.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &c.secret_access_key)
        .env("AWS_REGION", &c.region)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| command_error("the revision's wb run", None, e.to_string(), worktree))?;
    let mut found: Option<(String, String)> = None;
    let (mut as_of, mut error) = (None, None);
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        // The final summary line: the one [`RunSummary`] type reads it (older revisions' lines parse too).
        if let Some(summary) = RunSummary::parse(line) {
            if let Some(e) = summary.error {
                error = Some(e);
            }
            continue;
        }
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        match event["event"].as_str() {
            Some("run_started") => as_of = event["as_of"].as_str().map(str::to_string),
            Some("stage_finished") => {
                let record = &event["record"];
                let ok = matches!(record["status"].as_str(), Some("ok" | "alert"));
                if ok && record["stage"].as_str() == Some(stage.name()) {
                    let key = record["cache_key"].as_str().unwrap_or_default().to_string();
                    let run_id = record["produced_by"].as_str().unwrap_or_default().to_string();
                    found = Some((key, run_id));
                }
            }
            Some("run_finished") => {
                if let Some(e) = event["error"].as_str() {
                    error = Some(e.to_string());
                }
            }
            _ => {}
        }
    }
    let (cache_key, run_id) = found.ok_or_else(|| RevisionError::NoOutput {
        market: market.to_string(),
        stage,
        revision: rev.label(),
        worktree: worktree.to_path_buf(),
        error: error.or_else(|| Some(tail(&output.stderr))).filter(|e| !e.is_empty()),
    })?;
    Ok(OutputRef {
        market: market.to_string(),
        stage,
        run_id,
        cache_key,
        as_of,
        revision: Some(rev.short().to_string()),
        buckets: buckets.clone(),
    })
}

/// Runs a command to completion, its output kept for the error.
async fn run_quiet(mut command: tokio::process::Command, what: &str, worktree: &Path) -> Result<(), RevisionError> {
    let output =
        command.stdin(Stdio::null()).output().await.map_err(|e| command_error(what, None, e.to_string(), worktree))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(command_error(what, output.status.code(), tail(&output.stderr), worktree))
    }
}

fn command_error(what: &str, status: Option<i32>, detail: String, worktree: &Path) -> RevisionError {
    RevisionError::Command { what: what.to_string(), status, detail, worktree: worktree.to_path_buf() }
}

/// The last 20 lines of some output.
fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Where one side's output is: the run that recorded it and its cache key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRef {
    /// Market.
    pub market: String,
    /// Stage.
    pub stage: Stage,
    /// The run that recorded the stage.
    pub run_id: String,
    /// The stage's cache key in that run.
    pub cache_key: String,
    /// The run's as_of for the market (export files are filed under it).
    pub as_of: Option<String>,
    /// The commit the run was made from, `+dirty` when the tree had changes.
    pub revision: Option<String>,
    /// The bucket names the run wrote to (another revision's run has its own raw and exports buckets).
    pub buckets: Buckets,
}

impl OutputRef {
    /// Where `market`'s `stage` output recorded as `output` is, read through `buckets`.
    pub fn new(market: &str, stage: Stage, buckets: &Buckets, output: StageOutput) -> Self {
        let dirty = if output.git_dirty == Some(true) { "+dirty" } else { "" };
        OutputRef {
            market: market.to_string(),
            stage,
            run_id: output.run_id,
            cache_key: output.cache_key,
            as_of: output.as_of,
            revision: output.git_commit.map(|c| format!("{}{dirty}", &c[..c.len().min(12)])),
            buckets: buckets.clone(),
        }
    }
}
