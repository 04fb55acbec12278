//! `wb new-market`: a market created from a registered one in one step (see [`crate::services::new_market`]).

use crate::cli::NewMarketArgs;
use crate::exit::ExitStatus;
use crate::present::new_market::{json, step_line, text};
use crate::services::new_market::{NewMarketRequest, create};
use crate::workspace::Workspace;

/// Runs `wb new-market`: 0 when the market is created, 2 on bad input (nothing written) or a failed step.
pub fn main(args: &NewMarketArgs) -> ExitStatus {
    let workspace = match Workspace::discover_from_cwd() {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    let request = NewMarketRequest {
        root: workspace.root().to_path_buf(),
        id: args.id.clone(),
        like: args.like.to_string(),
        currency: args.currency.clone(),
        fx: args.fx,
        timezone: args.timezone.clone(),
        languages: args.languages.clone(),
        delimiter: args.delimiter.clone(),
        goldens: !args.no_goldens,
    };
    match create(&request, |step| eprintln!("{}", step_line(&request.id, &step))) {
        Ok(created) => {
            if args.json {
                println!("{}", json(&created));
            } else {
                print!("{}", text(&created));
            }
            ExitStatus::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitStatus::Error
        }
    }
}
