//! The alerts and the outbox as people read them: the lines `wb run` prints about a run's alerts, the outbox
//! list (`wb outbox`) and one message (`wb outbox show`), as text or JSON. The TUI's mail screen uses the same
//! columns.

use serde_json::{Value, json};

use crate::services::alerts::{AlertSent, Delivery, OutboxEntry, OutboxMessage};

/// What `wb outbox` prints for an empty outbox.
pub const EMPTY_OUTBOX: &str =
    "the outbox is empty: a run on the embedded backend writes one message per market that alerted or failed";

/// What `wb run` says about a run's alerts: one line per message delivered, one warning per failure (`warnings`,
/// for stderr), and at most one line for the markets that have no recipients.
pub fn alert_lines(sent: &[AlertSent]) -> (Vec<String>, Vec<String>) {
    let (mut lines, mut warnings) = (Vec::new(), Vec::new());
    for alert in sent {
        let to = alert.to.join(", ");
        match alert.delivery {
            Delivery::Ses => lines.push(format!(
                "alert {}: sent to {to} with SES (message {})",
                alert.market,
                alert.message_id.as_deref().unwrap_or("-")
            )),
            Delivery::Outbox => {
                let file = alert.file.as_ref().map(|f| f.display().to_string()).unwrap_or_default();
                lines.push(format!("alert {}: for {to}, written to {file}", alert.market));
            }
            Delivery::NoRecipients | Delivery::Failed => {}
        }
        if let Some(error) = &alert.error {
            warnings.push(format!("warning: alert {}: {error}", alert.market));
        }
    }
    let silent: Vec<&str> =
        sent.iter().filter(|a| a.delivery == Delivery::NoRecipients).map(|a| a.market.as_str()).collect();
    if !silent.is_empty() {
        lines.push(format!("alerts: no recipients in [alerts] of {}: nothing sent", silent.join(", ")));
    }
    (lines, warnings)
}

/// The outbox as an aligned table, newest first: date (UTC, to the second), market, run, subject; then the file
/// names to pass to `wb outbox show`.
pub fn outbox_text(entries: &[OutboxEntry]) -> String {
    if entries.is_empty() {
        return format!("{EMPTY_OUTBOX}\n");
    }
    let market_w = entries.iter().map(|e| e.market.len()).max().unwrap_or(0).max("market".len());
    let run_w = entries.iter().map(|e| e.run_id.len()).max().unwrap_or(0).max("run".len());
    let mut out = format!("{:<19}  {:<market_w$}  {:<run_w$}  subject\n", "date (UTC)", "market", "run");
    for e in entries {
        out.push_str(&format!(
            "{:<19}  {:<market_w$}  {:<run_w$}  {}\n",
            short_date(&e.date),
            e.market,
            e.run_id,
            e.subject
        ));
    }
    out.push_str("\nfiles (wb outbox show FILE, or latest):\n");
    for e in entries {
        out.push_str(&format!("  {}\n", e.file));
    }
    out
}

/// The outbox as one JSON array: file, market, run_id, subject, date, from, to.
pub fn outbox_json(entries: &[OutboxEntry]) -> Value {
    serde_json::to_value(entries).expect("outbox entries serialise")
}

/// One message as text: its headers, a blank line, its body.
pub fn message_text(message: &OutboxMessage) -> String {
    let e = &message.entry;
    let mut out = String::new();
    for (name, value) in [
        ("File", e.file.clone()),
        ("Date", e.date.clone()),
        ("From", e.from.clone()),
        ("To", e.to.join(", ")),
        ("Subject", e.subject.clone()),
    ] {
        out.push_str(&format!("{name:<8} {value}\n"));
    }
    out.push('\n');
    out.push_str(&message.body);
    if !message.body.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// One message as a JSON object: the list's fields and `body`.
pub fn message_json(message: &OutboxMessage) -> Value {
    json!(message)
}

/// `2026-12-07T10:15:00Z` → `2026-12-07 10:15:00`.
pub fn short_date(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn entry(file: &str, market: &str, run: &str, date: &str) -> OutboxEntry {
        OutboxEntry {
            file: file.into(),
            market: market.into(),
            run_id: run.into(),
            subject: format!("[workbench] {market} run {run} ALERT: 5 alerts, 0 failures"),
            date: date.into(),
            from: "wb@foobar.example".into(),
            to: vec!["dq@foobar.example".into()],
        }
    }

    #[test]
    fn the_outbox_lists_newest_first_with_the_files_to_open() {
        let entries = [
            entry("r2-foobar-br.eml", "foobar-br", "r2", "2026-12-07T10:16:00Z"),
            entry("r1-foobar-au.eml", "foobar-au", "r1", "2026-12-07T10:15:00Z"),
        ];
        assert_eq!(
            outbox_text(&entries),
            "date (UTC)           market     run  subject\n\
             2026-12-07 10:16:00  foobar-br  r2   [workbench] foobar-br run r2 ALERT: 5 alerts, 0 failures\n\
             2026-12-07 10:15:00  foobar-au  r1   [workbench] foobar-au run r1 ALERT: 5 alerts, 0 failures\n\
             \n\
             files (wb outbox show FILE, or latest):\n  \
               r2-foobar-br.eml\n  \
               r1-foobar-au.eml\n"
        );
        assert_eq!(outbox_text(&[]), format!("{EMPTY_OUTBOX}\n"));
        assert_eq!(outbox_json(&entries)[1]["run_id"], "r1");
    }

    #[test]
    fn a_message_shows_its_headers_then_its_body() {
        let message = OutboxMessage {
            entry: entry("r1-foobar-au.eml", "foobar-au", "r1", "2026-12-07T10:15:00Z"),
            body: "hello\n".into(),
        };
        assert_eq!(
            message_text(&message),
            "File     r1-foobar-au.eml\n\
             Date     2026-12-07T10:15:00Z\n\
             From     wb@foobar.example\n\
             To       dq@foobar.example\n\
             Subject  [workbench] foobar-au run r1 ALERT: 5 alerts, 0 failures\n\
             \n\
             hello\n"
        );
        assert_eq!(message_json(&message)["body"], "hello\n");
        assert_eq!(message_json(&message)["market"], "foobar-au");
    }

    #[test]
    fn a_run_says_each_delivery_its_failures_and_missing_recipients_once() {
        let alert = |market: &str, delivery, error: Option<&str>| AlertSent {
            market: market.into(),
            delivery,
            subject: "s".into(),
            to: if delivery == Delivery::NoRecipients { vec![] } else { vec!["dq@foobar.example".into()] },
            file: (delivery == Delivery::Outbox).then(|| PathBuf::from(".workbench/outbox/r1-foobar-au.eml")),
            message_id: (delivery == Delivery::Ses).then(|| "m-1".to_string()),
            error: error.map(str::to_string),
        };
        let (lines, warnings) = alert_lines(&[
            alert("foobar-au", Delivery::Outbox, Some("SES SendEmail at http://x: no answer")),
            alert("foobar-br", Delivery::Ses, None),
            alert("foobar-ca", Delivery::NoRecipients, None),
            alert("foobar-de", Delivery::NoRecipients, None),
            alert("foobar-jp", Delivery::Failed, Some("alerts: cannot write x: denied")),
        ]);
        assert_eq!(
            lines,
            [
                "alert foobar-au: for dq@foobar.example, written to .workbench/outbox/r1-foobar-au.eml",
                "alert foobar-br: sent to dq@foobar.example with SES (message m-1)",
                "alerts: no recipients in [alerts] of foobar-ca, foobar-de: nothing sent",
            ]
        );
        assert_eq!(
            warnings,
            [
                "warning: alert foobar-au: SES SendEmail at http://x: no answer",
                "warning: alert foobar-jp: alerts: cannot write x: denied",
            ]
        );
    }
}
