//! `wb outbox` and `wb outbox show`: the alert emails a run on the embedded backend wrote to
//! `.workbench/outbox/` (see [`crate::services::alerts`]), listed newest first or one printed, as text or JSON.

use crate::cli::{OutboxArgs, OutboxCommand};
use crate::exit::ExitStatus;
use crate::present::outbox;
use crate::present::output::document;
use crate::services::alerts::{self, AlertError};
use crate::workspace::{Workspace, WorkspaceError};

/// Why `wb outbox` could not print what was asked.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// No workspace, or a bad `workbench.toml`.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The outbox or a message could not be read, or there is no such message.
    #[error(transparent)]
    Alerts(#[from] AlertError),
}

/// Runs `wb outbox` in the workspace holding the current directory: 0, or 2 on any error.
pub fn main(args: &OutboxArgs) -> ExitStatus {
    document((|| -> Result<String, OutboxError> {
        let workspace = Workspace::discover_from_cwd()?;
        let dir = alerts::outbox_dir(&workspace);
        Ok(match &args.command {
            None => {
                let entries = alerts::list_outbox(&dir)?;
                if args.json { format!("{}\n", outbox::outbox_json(&entries)) } else { outbox::outbox_text(&entries) }
            }
            Some(OutboxCommand::Show(show)) => {
                let message = alerts::read_outbox(&dir, &show.which)?;
                if show.json || args.json {
                    format!("{}\n", outbox::message_json(&message))
                } else {
                    outbox::message_text(&message)
                }
            }
        })
    })())
}
