//! `wb diff` and `wb explore`.
//!
//! `wb diff --stage S A B` compares the latest output of stage S of market A with market B's;
//! `wb diff --stage S --market M --against RUN_ID|REV|base` compares market M's latest output (B) with the output
//! of another run, or of another git revision (A, the baseline), which is built and run in a worktree under
//! `.workbench/worktrees/` when it has not been run yet (see [`revision`]). The latest output of a market's stage
//! is the cache key of the newest run in history that recorded the stage as ok or alert; outputs are read through
//! the S3 endpoint (the backend `wb aws up` left running, else one started for the command), so every backend
//! works. The diff itself is `workbench_diff`'s; this module finds and loads the two sides.
//!
//! `wb explore [MARKET] [--against MARKET]` shows the market explorer: every market at a glance, one market's
//! hooks, configuration, model and raw format, or two markets side by side.

use workbench_diff::doc::Style;
use workbench_diff::explore::{self, Overview};
use workbench_diff::{explore_render, render};

use crate::cli::diff::{DiffArgs, ExploreArgs};
use crate::exit::ExitStatus;
use crate::present::output::document;
use crate::services::diff::{self, DiffQuery, DiffQueryError, Sides};
use crate::workspace::Workspace;
use markets::MarketId;

/// Runs `wb diff` from the current directory; prints the diff and returns the exit code.
pub async fn diff(args: DiffArgs) -> ExitStatus {
    let result = async {
        let query = query(&args)?;
        diff::compare(&Workspace::discover_from_cwd()?, &query, None).await
    };
    document(result.await.map(|diff| {
        if args.json {
            render::json(&diff) + "\n"
        } else if args.markdown {
            render::markdown(&diff)
        } else {
            render::text(&diff)
        }
    }))
}

/// The typed query of `wb diff`'s options: two markets, or one market `--against` a run or revision.
pub fn query(args: &DiffArgs) -> Result<DiffQuery, DiffQueryError> {
    let sides = match (&args.markets[..], &args.market, &args.against) {
        ([a, b], None, None) => Sides::Markets(a.clone(), b.clone()),
        ([], Some(market), Some(against)) => Sides::Against { market: market.clone(), against: against.clone() },
        _ => return Err(DiffQueryError::Usage { stage: args.stage }),
    };
    Ok(DiffQuery {
        stage: args.stage,
        sides,
        keys: args.keys.clone(),
        table: args.table.clone(),
        tolerance: args.tolerance,
        sample: args.sample,
        backend: args.backend.aws,
    })
}

/// Runs `wb explore`: prints the overview, one market, or two side by side; returns the exit code.
pub fn explore(args: &ExploreArgs) -> ExitStatus {
    let style = if args.markdown { Style::Markdown } else { Style::Text };
    let load = |id: &MarketId| markets::load(id.as_str()).map_err(|e| e.to_string());
    let text = (|| -> Result<String, String> {
        Ok(match (&args.market, &args.against) {
            (None, _) => {
                let all = markets::load_all().map_err(|e| e.to_string())?;
                let refs: Vec<&dyn pipeline_core::Market> = all.iter().map(|m| m.as_ref()).collect();
                let overview = Overview::of(&refs);
                if args.json { json(&overview) } else { explore_render::overview(&overview, style) }
            }
            (Some(m), None) => {
                let profile = explore::profile(load(m)?.as_ref());
                if args.json { json(&profile) } else { explore_render::profile(&profile, style) }
            }
            (Some(a), Some(b)) => {
                let c = explore::compare(&explore::profile(load(a)?.as_ref()), &explore::profile(load(b)?.as_ref()));
                if args.json { json(&c) } else { explore_render::comparison(&c, style) }
            }
        })
    })();
    document(text)
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("explorer results serialise") + "\n"
}
