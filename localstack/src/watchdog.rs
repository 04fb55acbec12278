//! A last-resort cleaner for what this process starts (a LocalStack process group, a container),
//! for the cases where no Rust code runs any more: the owning process is killed, aborts, or exits
//! without dropping the backend.
//!
//! The watchdog is a tiny `/bin/sh` script in its own process group (so Ctrl-C to the terminal's
//! foreground group does not reach it) that blocks reading its stdin, a pipe whose only write end
//! this process holds. A normal shutdown writes `done` and the script exits. Any other line, or
//! end-of-file because this process is gone (the kernel closes the pipe however it died), makes
//! the script clean up. No `unsafe` (`prctl(PR_SET_PDEATHSIG)`) is needed, and it works whatever
//! thread started the child.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

/// Sends SIGTERM to process group `$1`, waits up to 10 s for it to go, then sends SIGKILL.
const PROCESS_GROUP_SCRIPT: &str = r#"trap '' INT HUP
IFS= read -r word
[ "$word" = done ] && exit 0
kill -s TERM -- "-$1" 2>/dev/null || exit 0
i=0
while kill -s 0 -- "-$1" 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -gt 100 ]; then kill -s KILL -- "-$1" 2>/dev/null; exit 0; fi
  sleep 0.1
done
"#;

/// Removes container `$1` (stopping it first) with the Docker CLI.
const CONTAINER_SCRIPT: &str = r#"trap '' INT HUP
IFS= read -r word
[ "$word" = done ] && exit 0
docker rm --force --volumes "$1" >/dev/null 2>&1
"#;

/// A running watchdog; see the module docs. Dropping it without [`Watchdog::disarm`] fires it.
#[derive(Debug)]
pub(crate) struct Watchdog {
    child: Option<Child>,
}

impl Watchdog {
    /// Guards process group `pgid`: SIGTERM, then SIGKILL after 10 s.
    pub(crate) fn for_process_group(pgid: u32) -> std::io::Result<Self> {
        Self::spawn(PROCESS_GROUP_SCRIPT, &pgid.to_string())
    }

    /// Guards container `id` with `docker rm --force`; `None` when the Docker CLI is not on `PATH`
    /// (then only the in-process clean-up on drop and shutdown remains).
    pub(crate) fn for_container(id: &str) -> Option<Self> {
        let has_cli = std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("docker").is_file()));
        if has_cli { Self::spawn(CONTAINER_SCRIPT, id).ok() } else { None }
    }

    fn spawn(script: &str, target: &str) -> std::io::Result<Self> {
        let child = Command::new("/bin/sh")
            .args(["-c", script, "workbench-watchdog", target])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        Ok(Self { child: Some(child) })
    }

    /// The work is done cleanly: the watchdog exits without touching anything.
    pub(crate) fn disarm(mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(b"done\n");
            }
            // The script exits at once after reading `done`.
            let _ = child.wait();
        }
    }

    /// Cleans up now, in the background: returns at once.
    pub(crate) fn fire(mut self) {
        self.fire_now();
    }

    fn fire_now(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(b"fire\n");
            }
            // Reap it when it is done so it does not linger as a zombie in a long-lived process.
            let _ = std::thread::Builder::new().name("localstack-watchdog-reaper".into()).spawn(move || {
                let _ = child.wait();
            });
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.fire_now();
    }
}
