//! The Python venv LocalStack runs from: created once per state directory from the pinned lock
//! file, then reused for as long as the lock file is unchanged.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::{LocalAwsError, find_python};

/// `localstack-core` 2026.3.0 and every dependency, pinned (`localstack/requirements-lock.txt`,
/// compiled in so nothing outside the binary is read at run time). Installed with
/// `pip install --no-deps -r`: a full pin set needs no resolver run.
pub const LOCK_FILE: &str = include_str!("../requirements-lock.txt");

/// The LocalStack version the lock file pins (what `/_localstack/health` reports).
pub const LOCALSTACK_VERSION: &str = "2026.3.0";

/// The venv's folder name inside the state directory.
pub const VENV_DIR_NAME: &str = "localstack-venv";

/// Written into the venv last, after pip succeeded: the SHA-256 of the lock file it holds.
pub const VENV_HASH_FILE: &str = "workbench-lock.sha256";

/// Hex SHA-256 of [`LOCK_FILE`]; also the label the container image is built with.
pub fn lock_hash() -> String {
    hex::encode(Sha256::digest(LOCK_FILE.as_bytes()))
}

/// Where [`ensure_venv`] keeps the venv for `state_dir`: `<state_dir>/localstack-venv`.
pub fn venv_dir(state_dir: &Path) -> PathBuf {
    state_dir.join(VENV_DIR_NAME)
}

/// The venv's interpreter.
pub fn venv_python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

/// Makes sure `<state_dir>/localstack-venv` holds exactly the pinned LocalStack and returns its
/// path. Blocking; call it from `spawn_blocking` in async code.
///
/// * Reused as is when its recorded lock-file hash matches [`LOCK_FILE`] and its interpreter
///   still exists (a few milliseconds).
/// * Otherwise recreated: a Python >= 3.13 is located with [`find_python`], `python -m venv`, then
///   `pip install --no-deps -r <lock>` (needs PyPI, or whatever pip is configured with, once;
///   about 90 s). The hash is written last, so an interrupted install is redone next time.
/// * Concurrent callers (parallel tests, the CLI and a recipe) serialise on
///   `<state_dir>/localstack-venv.lock`; the second one finds the venv ready.
///
/// Output of `venv` and `pip` goes to `<state_dir>/logs/localstack-venv.log`; errors quote its
/// last lines.
pub fn ensure_venv(state_dir: &Path) -> Result<PathBuf, LocalAwsError> {
    let venv = venv_dir(state_dir);
    if is_current(&venv) {
        return Ok(venv);
    }
    let state_error = |source| LocalAwsError::StateDir { path: state_dir.to_owned(), source };
    std::fs::create_dir_all(state_dir).map_err(state_error)?;
    let lock = File::create(state_dir.join(format!("{VENV_DIR_NAME}.lock"))).map_err(state_error)?;
    lock.lock().map_err(state_error)?;
    if is_current(&venv) {
        return Ok(venv);
    }

    let python = find_python()?;
    let log_path = state_dir.join("logs").join("localstack-venv.log");
    let log_error = |source| LocalAwsError::StateDir { path: log_path.clone(), source };
    std::fs::create_dir_all(log_path.parent().expect("log path has a parent")).map_err(log_error)?;
    let mut log = File::create(&log_path).map_err(log_error)?;
    let _ = writeln!(log, "workbench: creating {} with {} ({})", venv.display(), python.path.display(), python.version);

    let fail = |step: &'static str, detail: String| LocalAwsError::Venv {
        venv: venv.clone(),
        step,
        detail,
        log: log_path.clone(),
        tail: log_tail(&log_path, 12),
    };
    if venv.exists() {
        std::fs::remove_dir_all(&venv).map_err(|e| fail("remove the outdated venv", e.to_string()))?;
    }
    run(Command::new(&python.path).arg("-m").arg("venv").arg(&venv), &mut log)
        .map_err(|detail| fail("python -m venv", detail))?;
    let lock_copy = venv.join("requirements-lock.txt");
    std::fs::write(&lock_copy, LOCK_FILE).map_err(|e| fail("write the lock file", e.to_string()))?;
    run(
        Command::new(venv_python(&venv))
            .args(["-m", "pip", "install", "--no-deps", "--no-input", "--disable-pip-version-check", "-r"])
            .arg(&lock_copy),
        &mut log,
    )
    .map_err(|detail| fail("pip install --no-deps -r requirements-lock.txt", detail))?;
    std::fs::write(venv.join(VENV_HASH_FILE), format!("{}\n", lock_hash()))
        .map_err(|e| fail("record the lock hash", e.to_string()))?;
    let _ = writeln!(log, "workbench: venv ready");
    Ok(venv)
}

/// The venv exists, its interpreter resolves, and it was installed from this lock file.
/// Whether the venv at `venv` holds exactly the pinned LocalStack (its interpreter exists and its recorded
/// lock-file hash matches [`LOCK_FILE`]), so [`ensure_venv`] would reuse it as is.
pub fn is_current(venv: &Path) -> bool {
    venv_python(venv).exists()
        && std::fs::read_to_string(venv.join(VENV_HASH_FILE)).is_ok_and(|recorded| recorded.trim() == lock_hash())
}

/// Runs `command` with its output appended to `log`; the error says how it ended.
fn run(command: &mut Command, log: &mut File) -> Result<(), String> {
    let _ = writeln!(log, "workbench: running {command:?}");
    let _ = log.flush();
    let out = log.try_clone().map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    // Bytecode is compiled into the venv (faster LocalStack start-ups) even where the
    // environment turns it off.
    let status = command
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot run it: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("it failed ({status})")) }
}

/// The last `lines` non-empty lines of a log file (empty when unreadable).
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let kept: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    kept[kept.len().saturating_sub(lines)..].join("\n")
}
