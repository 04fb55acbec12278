//! Finding a Python >= 3.13 to run LocalStack with, without assuming where it is installed.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::LocalAwsError;

/// The oldest Python that `localstack-core` 2026.3 (and the pinned lock file) runs on.
pub const MIN_PYTHON: PythonVersion = PythonVersion { major: 3, minor: 13, patch: 0 };

/// How long one interpreter may take to report its version before it counts as unusable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// A Python version as `sys.version_info` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PythonVersion {
    /// Major version, e.g. 3.
    pub major: u32,
    /// Minor version, e.g. 13.
    pub minor: u32,
    /// Micro (patch) version, e.g. 0.
    pub patch: u32,
}

impl PythonVersion {
    /// Parses `3.13.0` or `3.13` (no suffixes such as `t` or `-dev`).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let mut number = || -> Option<Option<u32>> {
            match parts.next() {
                None => Some(None),
                Some(part) if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) => {
                    part.parse().ok().map(Some)
                }
                Some(_) => None,
            }
        };
        let major = number()??;
        let minor = number()??;
        let patch = number()?.unwrap_or(0);
        if number()?.is_some() {
            return None;
        }
        Some(Self { major, minor, patch })
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A Python interpreter that is new enough for LocalStack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Python {
    /// The interpreter's path as found (not canonicalised, so a pyenv or venv path stays readable).
    pub path: PathBuf,
    /// What the interpreter itself reported.
    pub version: PythonVersion,
}

/// Finds a Python >= 3.13, in this order:
///
/// 1. `WB_PYTHON`, if set (then it must be usable: a wrong `WB_PYTHON` is an error, not skipped);
/// 2. `python3.13`, then `python3`, on `PATH`, if they run and report >= 3.13 (a pyenv shim for a
///    version that is not active fails to run and is skipped);
/// 3. pyenv installs: `$PYENV_ROOT/versions/3.X[.Y]/bin/python3`, then the same under
///    `~/.pyenv`, lowest version >= 3.13 first (3.13 is what the lock file was tested on).
///
/// Each candidate is run once (`-c "import sys; ..."`) to read its real version. When none fits,
/// the error lists what was looked at and how to get a suitable Python.
pub fn find_python() -> Result<Python, LocalAwsError> {
    find_python_with(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
}

/// [`find_python`] with environment variables (`WB_PYTHON`, `PATH`, `PYENV_ROOT`, `HOME`) read
/// through `env`, so the search can be tested without changing the process environment.
pub fn find_python_with(env: impl Fn(&str) -> Option<String>) -> Result<Python, LocalAwsError> {
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    if let Some(path) = env("WB_PYTHON") {
        let path = PathBuf::from(path);
        return match probe(&path) {
            Ok(version) if version >= MIN_PYTHON => Ok(Python { path, version }),
            Ok(version) => Err(LocalAwsError::WbPythonUnusable {
                path,
                reason: format!("it is Python {version}, older than 3.13"),
            }),
            Err(reason) => Err(LocalAwsError::WbPythonUnusable { path, reason }),
        };
    }

    let mut tried = vec!["WB_PYTHON: not set".to_owned()];
    let path_dirs: Vec<PathBuf> = env("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    for name in ["python3.13", "python3"] {
        let Some(path) = path_dirs.iter().map(|dir| dir.join(name)).find(|p| is_executable(p)) else {
            tried.push(format!("{name} on PATH: not found"));
            continue;
        };
        match probe(&path) {
            Ok(version) if version >= MIN_PYTHON => return Ok(Python { path, version }),
            Ok(version) => tried.push(format!("{name} on PATH: {} is {version}", path.display())),
            Err(reason) => tried.push(format!("{name} on PATH: {} {reason}", path.display())),
        }
    }

    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(root) = env("PYENV_ROOT") {
        roots.push(PathBuf::from(root));
    }
    if let Some(home) = env("HOME") {
        let root = Path::new(&home).join(".pyenv");
        if !roots.contains(&root) {
            roots.push(root);
        }
    }
    for root in roots {
        let versions_dir = root.join("versions");
        let mut installs: Vec<(PythonVersion, PathBuf)> = std::fs::read_dir(&versions_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let version = PythonVersion::parse(entry.file_name().to_str()?)?;
                (version >= MIN_PYTHON).then(|| (version, entry.path().join("bin/python3")))
            })
            .collect();
        installs.sort();
        if installs.is_empty() {
            tried.push(format!("pyenv: no 3.13+ under {}", versions_dir.display()));
        }
        for (_, path) in installs {
            match probe(&path) {
                Ok(version) if version >= MIN_PYTHON => return Ok(Python { path, version }),
                Ok(version) => tried.push(format!("pyenv: {} is {version}", path.display())),
                Err(reason) => tried.push(format!("pyenv: {} {reason}", path.display())),
            }
        }
    }
    Err(LocalAwsError::PythonNotFound { tried: tried.join("; ") })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `python` once to read its version; the error says why it is unusable.
fn probe(python: &Path) -> Result<PythonVersion, String> {
    let mut child = Command::new(python)
        .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot be run: {e}"))?;
    let deadline = Instant::now() + PROBE_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("did not answer within {} s", PROBE_TIMEOUT.as_secs()));
            }
            Err(e) => return Err(format!("cannot be waited for: {e}")),
        }
    }
    let output = child.wait_with_output().map_err(|e| format!("cannot be read: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first_line = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        return Err(format!(
            "fails to run ({}{}{})",
            output.status,
            if first_line.is_empty() { "" } else { ": " },
            first_line
        ));
    }
    PythonVersion::parse(&stdout).ok_or_else(|| format!("printed an unexpected version {:?}", stdout.trim()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A fake interpreter: a shell script that prints `version` (or fails when it is `None`).
    fn fake_python(path: &Path, version: Option<&str>) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let body = match version {
            Some(v) => format!("#!/bin/sh\necho {v}\n"),
            None => "#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n".to_owned(),
        };
        std::fs::write(path, body).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn search(vars: &HashMap<&str, String>) -> Result<Python, LocalAwsError> {
        find_python_with(|name| vars.get(name).cloned())
    }

    #[test]
    fn parses_plain_versions_only() {
        assert_eq!(PythonVersion::parse("3.13.0"), Some(PythonVersion { major: 3, minor: 13, patch: 0 }));
        assert_eq!(PythonVersion::parse("3.14"), Some(PythonVersion { major: 3, minor: 14, patch: 0 }));
        assert_eq!(PythonVersion::parse("3.13.0t"), None);
        assert_eq!(PythonVersion::parse("3.13-dev"), None);
        assert_eq!(PythonVersion::parse("3"), None);
        assert!(PythonVersion::parse("3.9.18").unwrap() < MIN_PYTHON);
    }

    #[test]
    fn path_then_pyenv_lowest_new_enough_first() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        fake_python(&bin.join("python3.13"), None);
        fake_python(&bin.join("python3"), Some("3.11.7"));
        let pyenv = dir.path().join("pyenv");
        fake_python(&pyenv.join("versions/3.12.1/bin/python3"), Some("3.12.1"));
        fake_python(&pyenv.join("versions/3.14.2/bin/python3"), Some("3.14.2"));
        fake_python(&pyenv.join("versions/3.13.0/bin/python3"), Some("3.13.0"));
        fake_python(&pyenv.join("versions/3.13.0t/bin/python3"), Some("3.13.0"));
        let mut vars = HashMap::from([
            ("PATH", bin.display().to_string()),
            ("PYENV_ROOT", pyenv.display().to_string()),
            ("HOME", dir.path().join("home").display().to_string()),
        ]);
        let found = search(&vars).unwrap();
        assert_eq!(found.path, pyenv.join("versions/3.13.0/bin/python3"));
        assert_eq!(found.version.to_string(), "3.13.0");

        fake_python(&bin.join("python3"), Some("3.13.5"));
        assert_eq!(search(&vars).unwrap().path, bin.join("python3"), "PATH comes before pyenv");

        vars.insert("WB_PYTHON", pyenv.join("versions/3.14.2/bin/python3").display().to_string());
        assert_eq!(search(&vars).unwrap().version.minor, 14, "WB_PYTHON comes first");
    }

    #[test]
    fn wrong_wb_python_is_an_error_not_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("python3.11");
        fake_python(&old, Some("3.11.7"));
        let vars = HashMap::from([("WB_PYTHON", old.display().to_string())]);
        let message = search(&vars).unwrap_err().to_string();
        assert!(message.contains("WB_PYTHON") && message.contains("3.11.7"), "{message}");

        let vars = HashMap::from([("WB_PYTHON", dir.path().join("missing").display().to_string())]);
        let message = search(&vars).unwrap_err().to_string();
        assert!(message.contains("cannot be run"), "{message}");
    }

    #[test]
    fn nothing_found_says_what_was_tried_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        fake_python(&bin.join("python3"), Some("3.11.7"));
        let vars = HashMap::from([("PATH", bin.display().to_string()), ("HOME", dir.path().display().to_string())]);
        let err = search(&vars).unwrap_err();
        assert!(matches!(err, LocalAwsError::PythonNotFound { .. }));
        let message = err.to_string();
        for expected in
            ["Python >= 3.13", "python3.13 on PATH: not found", "is 3.11.7", "pyenv install 3.13", "WB_PYTHON"]
        {
            assert!(message.contains(expected), "missing {expected:?} in {message}");
        }
    }
}
