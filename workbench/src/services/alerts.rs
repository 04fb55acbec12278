//! Alerts that reach someone: after a run is recorded, every market of it that ended `alert` or `fail` (or has a
//! check that did not pass) gets ONE summary email ([`alert_email::render`]) to the recipients of its market
//! config (`[alerts]`), through the mocked AWS:
//!
//! - on LocalStack (host process or container): SES `SendEmail` at the run's endpoint, the sender verified first
//!   (`VerifyEmailIdentity`, idempotent);
//! - on the embedded backend (whose S3 has no SES): the same message as an RFC 5322 file in the workspace's
//!   outbox, `.workbench/outbox/{run_id}-{market}.eml`, written to a temporary file and renamed;
//! - on any other endpoint: SES is tried, and when it fails the message goes to the outbox, the SES error kept.
//!
//! Nothing here changes a run's outcome: each market's delivery is reported ([`AlertSent`]) for the caller to say,
//! failures included. The outbox is read back by [`list_outbox`] and [`read_outbox`] (`wb outbox`, the TUI's mail
//! screen). Nothing here prints.

use std::future::Future;
use std::path::{Path, PathBuf};

use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use localstack::{Backend, Email, S3Endpoint, SesError};
use serde::{Deserialize, Serialize};

use crate::history::{History, HistoryError};
use crate::services::alert_email::{self, AlertEmail};
use crate::workspace::Workspace;

/// The header naming the market of an outbox message.
pub const MARKET_HEADER: &str = "X-Workbench-Market";
/// The header naming the run of an outbox message.
pub const RUN_HEADER: &str = "X-Workbench-Run";

/// The outbox folder of a workspace: `.workbench/outbox`.
pub fn outbox_dir(workspace: &Workspace) -> PathBuf {
    workspace.state_dir().join("outbox")
}

/// What to alert about: a recorded run, where its backend is, and where the outbox is.
#[derive(Debug, Clone)]
pub struct AlertRequest<'a> {
    /// The run (recorded and finished in history).
    pub run_id: &'a str,
    /// The backend the run used.
    pub backend: Backend,
    /// Its endpoint, still up (SES is called there).
    pub endpoint: &'a S3Endpoint,
    /// The outbox folder ([`outbox_dir`]).
    pub outbox: &'a Path,
    /// The bucket of the run reports, for the link in the message.
    pub reports_bucket: &'a str,
}

/// How one market's alert went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Sent with SES.
    Ses,
    /// Written to the outbox (the embedded backend, or SES failed: see `error`).
    Outbox,
    /// The market has no recipients: nothing sent.
    NoRecipients,
    /// Neither SES nor the outbox took it: see `error`.
    Failed,
}

/// One market's alert, as the run summary reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSent {
    /// The market.
    pub market: String,
    /// How it went.
    pub delivery: Delivery,
    /// The subject.
    pub subject: String,
    /// The recipients.
    #[serde(default)]
    pub to: Vec<String>,
    /// The outbox file, when written there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// SES's message id, when sent with SES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// What failed: SES (then the outbox took the message), or both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why an alert could not be made or delivered.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// The run could not be read back from history.
    #[error("alerts: {0}")]
    History(#[from] HistoryError),
    /// The run is not in history.
    #[error("alerts: no run {run_id} in history")]
    NoRun {
        /// The run id.
        run_id: String,
    },
    /// The market's config could not be loaded (a market removed from the registry since).
    #[error("alerts for {market}: cannot load its config: {reason}")]
    Config {
        /// The market.
        market: String,
        /// Why.
        reason: String,
    },
    /// An address of `[alerts]` is not one (the config key is named).
    #[error("alerts for {market}: [alerts] {key} = {address:?} is not an email address: {reason}")]
    Address {
        /// The market.
        market: String,
        /// `sender` or `recipients`.
        key: &'static str,
        /// The value.
        address: String,
        /// What the parser said.
        reason: String,
    },
    /// The message could not be built.
    #[error("alerts for {market}: cannot build the message: {reason}")]
    Message {
        /// The market.
        market: String,
        /// Why.
        reason: String,
    },
    /// SES refused or did not answer.
    #[error(transparent)]
    Ses(#[from] SesError),
    /// The outbox file could not be written.
    #[error("alerts: cannot write {path}: {source}; check that the folder is writable")]
    Outbox {
        /// The file (or folder).
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// An outbox file could not be read or is not a message.
    #[error("outbox: cannot read {path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// `wb outbox show NAME` named no message.
    #[error("outbox: no message {name} in {dir}; `wb outbox` lists them")]
    NoMessage {
        /// What was asked.
        name: String,
        /// The outbox.
        dir: PathBuf,
    },
}

/// Sends (or writes) the alert of every market of `request.run_id` that needs one, one message per market, in
/// the run's market order. The run is read from `history` at once (the returned future holds no reference to it,
/// so it stays `Send`). `Err` only when the run cannot be read; a market's failure is its [`AlertSent`] with
/// [`Delivery::Failed`].
pub fn notify<'a>(
    history: &History,
    request: AlertRequest<'a>,
) -> impl Future<Output = Result<Vec<AlertSent>, AlertError>> + Send + 'a {
    let detail = history.run_detail(request.run_id);
    async move {
        let detail = detail?.ok_or_else(|| AlertError::NoRun { run_id: request.run_id.to_string() })?;
        let mut sent = Vec::new();
        for market in &detail.markets {
            if !alert_email::needs_alert(&detail, &market.market) {
                continue;
            }
            let settings = match markets::load(&market.market) {
                Ok(m) => m.config().alerts.clone(),
                Err(e) => {
                    let error = AlertError::Config { market: market.market.clone(), reason: e.to_string() };
                    sent.push(failed(&market.market, String::new(), Vec::new(), &error));
                    continue;
                }
            };
            let link = alert_email::report_link(request.reports_bucket, &market.market, request.run_id);
            let Some(email) = alert_email::render(&detail, &market.market, &settings, &link) else { continue };
            sent.push(deliver(&request, &email).await);
        }
        Ok(sent)
    }
}

/// Delivers one message the way the backend allows.
async fn deliver(request: &AlertRequest<'_>, email: &AlertEmail) -> AlertSent {
    let mut sent = AlertSent {
        market: email.market.clone(),
        delivery: Delivery::NoRecipients,
        subject: email.subject.clone(),
        to: email.to.clone(),
        file: None,
        message_id: None,
        error: None,
    };
    if email.to.is_empty() {
        return sent;
    }
    let ses_error = match request.backend {
        Backend::Embedded => None,
        Backend::LocalStack | Backend::Container | Backend::Endpoint => match send_ses(request.endpoint, email).await {
            Ok(id) => {
                sent.delivery = Delivery::Ses;
                sent.message_id = Some(id);
                return sent;
            }
            Err(e) => Some(e.to_string()),
        },
    };
    match write_outbox(request.outbox, email) {
        Ok(file) => {
            sent.delivery = Delivery::Outbox;
            sent.file = Some(file);
            sent.error = ses_error.map(|e| format!("{e}; written to the outbox instead"));
        }
        Err(e) => {
            sent.delivery = Delivery::Failed;
            sent.error = Some(match ses_error {
                Some(ses) => format!("{ses}; and the outbox: {e}"),
                None => e.to_string(),
            });
        }
    }
    sent
}

fn failed(market: &str, subject: String, to: Vec<String>, error: &AlertError) -> AlertSent {
    AlertSent {
        market: market.to_string(),
        delivery: Delivery::Failed,
        subject,
        to,
        file: None,
        message_id: None,
        error: Some(error.to_string()),
    }
}

/// Verifies the sender (idempotent) and sends the message with SES; SES's message id.
pub async fn send_ses(endpoint: &S3Endpoint, email: &AlertEmail) -> Result<String, SesError> {
    endpoint.verify_email_identity(&email.from).await?;
    let message = Email {
        from: email.from.clone(),
        to: email.to.clone(),
        subject: email.subject.clone(),
        text: email.text.clone(),
        html: None,
    };
    endpoint.send_email(&message).await
}

/// The RFC 5322 message of `email` (lettre's builder: Date, Message-ID, MIME headers, the body's transfer
/// encoding), with the market and run in [`MARKET_HEADER`] and [`RUN_HEADER`].
pub fn mime_message(email: &AlertEmail) -> Result<Vec<u8>, AlertError> {
    let address = |key: &'static str, value: &str| {
        value.parse::<Mailbox>().map_err(|e| AlertError::Address {
            market: email.market.clone(),
            key,
            address: value.to_string(),
            reason: e.to_string(),
        })
    };
    let mut builder = Message::builder()
        .from(address("sender", &email.from)?)
        .subject(email.subject.clone())
        .message_id(Some(format!("<{}.{}@workbench>", email.run_id, email.market)))
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str(MARKET_HEADER), email.market.clone()))
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str(RUN_HEADER), email.run_id.clone()));
    for to in &email.to {
        builder = builder.to(address("recipients", to)?);
    }
    let message = builder
        .header(ContentType::TEXT_PLAIN)
        .body(email.text.clone())
        .map_err(|e| AlertError::Message { market: email.market.clone(), reason: e.to_string() })?;
    Ok(message.formatted())
}

/// Writes `email` to `{outbox}/{run_id}-{market}.eml`: a temporary file in the same folder, renamed into place,
/// so a reader never sees half a message. Returns the file.
pub fn write_outbox(outbox: &Path, email: &AlertEmail) -> Result<PathBuf, AlertError> {
    let bytes = mime_message(email)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| AlertError::Outbox { path, source }
    };
    std::fs::create_dir_all(outbox).map_err(io(outbox))?;
    let file = outbox.join(format!("{}-{}.eml", email.run_id, email.market));
    let temp = outbox.join(format!(".{}-{}.eml.tmp", email.run_id, email.market));
    std::fs::write(&temp, bytes).map_err(io(&temp))?;
    if let Err(e) = std::fs::rename(&temp, &file) {
        let _ = std::fs::remove_file(&temp);
        return Err(io(&file)(e));
    }
    Ok(file)
}

/// One message of the outbox, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    /// The file name, e.g. `20261207T101500123Z-4f2a-foobar-au.eml`.
    pub file: String,
    /// The market ([`MARKET_HEADER`]).
    pub market: String,
    /// The run ([`RUN_HEADER`]).
    pub run_id: String,
    /// The subject.
    pub subject: String,
    /// The Date header, RFC 3339 (UTC).
    pub date: String,
    /// The sender.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
}

/// One message of the outbox, opened: its entry and its decoded text body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    /// What the list shows.
    #[serde(flatten)]
    pub entry: OutboxEntry,
    /// The text body, decoded.
    pub body: String,
}

/// The outbox's messages, newest first (by Date, then file name); an outbox that does not exist yet is empty.
/// Temporary files are skipped; a file that is not a message is an error naming it.
pub fn list_outbox(outbox: &Path) -> Result<Vec<OutboxEntry>, AlertError> {
    let entries = match std::fs::read_dir(outbox) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(AlertError::Unreadable { path: outbox.to_path_buf(), reason: e.to_string() }),
    };
    let mut list = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| AlertError::Unreadable { path: outbox.to_path_buf(), reason: e.to_string() })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".eml") {
            continue;
        }
        list.push(read_message(&entry.path())?.entry);
    }
    list.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| b.file.cmp(&a.file)));
    Ok(list)
}

/// The message `name` names: a file name in the outbox (with or without `.eml`), or `latest` for the newest.
pub fn read_outbox(outbox: &Path, name: &str) -> Result<OutboxMessage, AlertError> {
    let no_message = || AlertError::NoMessage { name: name.to_string(), dir: outbox.to_path_buf() };
    let file = if name == "latest" {
        list_outbox(outbox)?.into_iter().next().ok_or_else(no_message)?.file
    } else {
        let base = Path::new(name).file_name().ok_or_else(no_message)?.to_string_lossy().into_owned();
        if base.ends_with(".eml") { base } else { format!("{base}.eml") }
    };
    let path = outbox.join(&file);
    if !path.is_file() {
        return Err(no_message());
    }
    read_message(&path)
}

/// Parses one `.eml` file.
fn read_message(path: &Path) -> Result<OutboxMessage, AlertError> {
    let unreadable = |reason: String| AlertError::Unreadable { path: path.to_path_buf(), reason };
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    let message = mail_parser::MessageParser::default()
        .parse(&bytes)
        .ok_or_else(|| unreadable("not an RFC 5322 message".into()))?;
    let raw = |name: &str| message.header_raw(name).map(|v| v.trim().to_string()).unwrap_or_default();
    let addresses = |address: Option<&mail_parser::Address>| -> Vec<String> {
        address.map(|a| a.iter().filter_map(|addr| addr.address().map(str::to_string)).collect()).unwrap_or_default()
    };
    let entry = OutboxEntry {
        file: path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        market: raw(MARKET_HEADER),
        run_id: raw(RUN_HEADER),
        subject: message.subject().unwrap_or_default().to_string(),
        date: message.date().map(|d| d.to_rfc3339()).unwrap_or_default(),
        from: addresses(message.from()).join(", "),
        to: addresses(message.to()),
    };
    // The wire format ends lines with CRLF; the text is shown with the lines it was written with.
    let body = message.body_text(0).map(|b| b.replace("\r\n", "\n")).unwrap_or_default();
    Ok(OutboxMessage { entry, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(to: &[&str]) -> AlertEmail {
        AlertEmail {
            market: "foobar-au".into(),
            run_id: "20261207T101500123Z-4f2a".into(),
            from: "wb@foobar.example".into(),
            to: to.iter().map(|s| s.to_string()).collect(),
            subject: "[workbench] foobar-au run 20261207T101500123Z-4f2a ALERT: 1 alert, 0 failures".into(),
            text: "measured 4\nmessage   outside mean ± 3σ (a line long enough to be folded by nobody but read whole by everyone)\n".into(),
        }
    }

    #[test]
    fn an_outbox_message_round_trips_through_lettre_and_the_parser() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox");
        let file = write_outbox(&outbox, &email(&["dq@foobar.example", "oncall@foobar.example"])).unwrap();
        assert_eq!(file, outbox.join("20261207T101500123Z-4f2a-foobar-au.eml"));
        let names: Vec<_> = std::fs::read_dir(&outbox).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, [std::ffi::OsString::from("20261207T101500123Z-4f2a-foobar-au.eml")], "no temp file left");
        let message = read_outbox(&outbox, "latest").unwrap();
        assert_eq!(message.entry.file, "20261207T101500123Z-4f2a-foobar-au.eml");
        assert_eq!(message.entry.market, "foobar-au");
        assert_eq!(message.entry.run_id, "20261207T101500123Z-4f2a");
        assert_eq!(message.entry.subject, email(&[]).subject);
        assert_eq!(message.entry.from, "wb@foobar.example");
        assert_eq!(message.entry.to, ["dq@foobar.example", "oncall@foobar.example"]);
        assert_eq!(message.body, email(&[]).text);
        assert_eq!(read_outbox(&outbox, "20261207T101500123Z-4f2a-foobar-au").unwrap(), message);
        assert_eq!(list_outbox(&outbox).unwrap(), [message.entry]);
    }

    #[test]
    fn a_bad_address_names_the_config_key_and_a_missing_message_says_how_to_list() {
        let mut bad = email(&["not an address"]);
        let error = write_outbox(Path::new("/nonexistent"), &bad).unwrap_err().to_string();
        assert!(
            error.starts_with(
                "alerts for foobar-au: [alerts] recipients = \"not an address\" is not an email address: "
            ),
            "{error}"
        );
        bad.from = "nobody".into();
        let error = mime_message(&bad).unwrap_err().to_string();
        assert!(error.starts_with("alerts for foobar-au: [alerts] sender = \"nobody\""), "{error}");
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(list_outbox(&dir.path().join("none")).unwrap(), []);
        assert_eq!(
            read_outbox(dir.path(), "latest").unwrap_err().to_string(),
            format!("outbox: no message latest in {}; `wb outbox` lists them", dir.path().display())
        );
    }
}
