//! Amazon SES (email) at an endpoint: the Query API's `VerifyEmailIdentity` and `SendEmail`, signed with SigV4
//! exactly like [`S3Endpoint::create_bucket`], so the same call works on LocalStack and real AWS; plus LocalStack's
//! own record of what it "sent" (`GET /_aws/ses`), which is how a test or a person reads a message back.
//!
//! Why a hand-made Query request and not an SDK: the workspace already signs with object_store's
//! [`AwsAuthorizer`]; two form-encoded POSTs do not justify the AWS SDK's dependency tree.

use std::time::Duration;

use bytes::Bytes;
use object_store::ClientOptions;
use object_store::aws::{AwsAuthorizer, AwsCredential};
use object_store::client::{HttpConnector, HttpRequest, HttpRequestBody, ReqwestConnector};
use serde::Deserialize;

use crate::S3Endpoint;
use crate::endpoint::xml_element;

/// The SES Query API version every request names.
const API_VERSION: &str = "2010-12-01";

/// One email to send: sender, recipients, subject and the text (and optionally HTML) body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The sender address (`Source`); SES requires it to be verified ([`S3Endpoint::verify_email_identity`]).
    pub from: String,
    /// The recipients (`Destination.ToAddresses`); at least one.
    pub to: Vec<String>,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// An HTML body, sent as the alternative part when given.
    pub html: Option<String>,
}

/// A message LocalStack recorded as sent (an entry of `GET /_aws/ses`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    /// SES's message id (what `SendEmail` returned).
    pub id: String,
    /// The sender.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The text body.
    pub text: Option<String>,
    /// The HTML body.
    pub html: Option<String>,
}

/// What can go wrong talking to SES; every message names the endpoint and the operation.
#[derive(Debug, thiserror::Error)]
pub enum SesError {
    /// The request could not be built or signed (a bad endpoint URL, say).
    #[error("SES {operation} at {endpoint}: cannot build the request: {reason}")]
    Request {
        /// The endpoint.
        endpoint: String,
        /// `SendEmail`, `VerifyEmailIdentity`, `ListSentEmails`.
        operation: &'static str,
        /// Why.
        reason: String,
    },
    /// Nothing answered, or the connection broke.
    #[error("SES {operation} at {endpoint}: no answer: {source}; is the endpoint up and does it run SES?")]
    Unreachable {
        /// The endpoint.
        endpoint: String,
        /// The operation.
        operation: &'static str,
        /// The transport's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// SES answered with an error document.
    #[error("SES {operation} at {endpoint}: {code}: {message} (HTTP {status})")]
    Service {
        /// The endpoint.
        endpoint: String,
        /// The operation.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// SES's error code, e.g. `MessageRejected`.
        code: String,
        /// SES's message.
        message: String,
    },
    /// The answer was not what the operation returns.
    #[error("SES {operation} at {endpoint}: unexpected answer: {detail}")]
    Answer {
        /// The endpoint.
        endpoint: String,
        /// The operation.
        operation: &'static str,
        /// What was wrong with it.
        detail: String,
    },
}

impl S3Endpoint {
    /// Verifies `address` as a sender (SES `VerifyEmailIdentity`). Idempotent: verifying it again succeeds.
    /// LocalStack marks it verified at once; real SES sends the address a confirmation mail.
    pub async fn verify_email_identity(&self, address: &str) -> Result<(), SesError> {
        self.ses_call("VerifyEmailIdentity", &[("EmailAddress", address.to_owned())]).await.map(drop)
    }

    /// Sends `email` with SES `SendEmail` and returns SES's message id.
    pub async fn send_email(&self, email: &Email) -> Result<String, SesError> {
        const OPERATION: &str = "SendEmail";
        let mut form = vec![("Source", email.from.clone())];
        let to_keys: Vec<String> =
            (1..=email.to.len()).map(|n| format!("Destination.ToAddresses.member.{n}")).collect();
        let mut fields: Vec<(&str, String)> = Vec::new();
        for (key, address) in to_keys.iter().zip(&email.to) {
            fields.push((key.as_str(), address.clone()));
        }
        form.extend(fields);
        form.push(("Message.Subject.Data", email.subject.clone()));
        form.push(("Message.Subject.Charset", "UTF-8".to_owned()));
        form.push(("Message.Body.Text.Data", email.text.clone()));
        form.push(("Message.Body.Text.Charset", "UTF-8".to_owned()));
        if let Some(html) = &email.html {
            form.push(("Message.Body.Html.Data", html.clone()));
            form.push(("Message.Body.Html.Charset", "UTF-8".to_owned()));
        }
        let answer = self.ses_call(OPERATION, &form).await?;
        xml_element(&answer, "MessageId").filter(|id| !id.is_empty()).ok_or_else(|| SesError::Answer {
            endpoint: self.url.clone(),
            operation: OPERATION,
            detail: format!("no MessageId in {}", answer.chars().take(300).collect::<String>()),
        })
    }

    /// The messages LocalStack recorded as sent (`GET /_aws/ses`), oldest first. Only LocalStack has this
    /// endpoint; elsewhere it is an error.
    pub async fn localstack_sent_emails(&self) -> Result<Vec<SentEmail>, SesError> {
        const OPERATION: &str = "ListSentEmails";
        let url = format!("{}/_aws/ses", self.url.trim_end_matches('/'));
        let mut request = HttpRequest::new(HttpRequestBody::from(Bytes::new()));
        *request.uri_mut() = url.parse().map_err(|e| self.request_error(OPERATION, e))?;
        let (status, body) = self.execute(OPERATION, request).await?;
        if status != 200 {
            return Err(self.service_error(OPERATION, status, &body));
        }
        #[derive(Deserialize)]
        struct Listing {
            messages: Vec<Recorded>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Recorded {
            id: String,
            source: String,
            #[serde(default)]
            destination: Option<Destination>,
            #[serde(default)]
            subject: Option<String>,
            #[serde(default)]
            body: Option<RecordedBody>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Destination {
            #[serde(default)]
            to_addresses: Vec<String>,
        }
        #[derive(Deserialize)]
        struct RecordedBody {
            #[serde(default)]
            text_part: Option<String>,
            #[serde(default)]
            html_part: Option<String>,
        }
        let listing: Listing = serde_json::from_str(&body).map_err(|e| SesError::Answer {
            endpoint: self.url.clone(),
            operation: OPERATION,
            detail: format!("{e}: {}", body.chars().take(300).collect::<String>()),
        })?;
        Ok(listing
            .messages
            .into_iter()
            .map(|m| SentEmail {
                id: m.id,
                from: m.source,
                to: m.destination.map(|d| d.to_addresses).unwrap_or_default(),
                subject: m.subject.unwrap_or_default(),
                text: m.body.as_ref().and_then(|b| b.text_part.clone()),
                html: m.body.and_then(|b| b.html_part),
            })
            .collect())
    }

    /// One signed Query API call (`POST /`, form-encoded `Action`, `Version` and `params`); the answer's XML.
    async fn ses_call(&self, operation: &'static str, params: &[(&str, String)]) -> Result<String, SesError> {
        let body = Bytes::from(form_body(operation, params));
        let mut request = HttpRequest::new(HttpRequestBody::from(body));
        *request.method_mut() = "POST".parse().expect("POST is a valid HTTP method");
        let url = format!("{}/", self.url.trim_end_matches('/'));
        *request.uri_mut() = url.parse().map_err(|e| self.request_error(operation, e))?;
        request.headers_mut().insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8".parse().expect("a valid header value"),
        );
        let credential = AwsCredential {
            key_id: self.credentials.access_key_id.clone(),
            secret_key: self.credentials.secret_access_key.clone(),
            token: None,
        };
        AwsAuthorizer::new(&credential, "ses", &self.credentials.region)
            .try_authorize(&mut request, None)
            .map_err(|e| self.request_error(operation, e))?;
        let (status, body) = self.execute(operation, request).await?;
        if (200..300).contains(&status) { Ok(body) } else { Err(self.service_error(operation, status, &body)) }
    }

    async fn execute(&self, operation: &'static str, request: HttpRequest) -> Result<(u16, String), SesError> {
        let options = ClientOptions::new().with_allow_http(true).with_timeout(Duration::from_secs(30));
        let client = ReqwestConnector::default().connect(&options).map_err(|e| self.request_error(operation, e))?;
        let unreachable = |source: Box<dyn std::error::Error + Send + Sync>| SesError::Unreachable {
            endpoint: self.url.clone(),
            operation,
            source,
        };
        let response = client.execute(request).await.map_err(|e| unreachable(Box::new(e)))?;
        let status = response.status().as_u16();
        let body = response.into_body().bytes().await.map_err(|e| unreachable(Box::new(e)))?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    fn request_error(&self, operation: &'static str, reason: impl std::fmt::Display) -> SesError {
        SesError::Request { endpoint: self.url.clone(), operation, reason: reason.to_string() }
    }

    fn service_error(&self, operation: &'static str, status: u16, body: &str) -> SesError {
        let code = xml_element(body, "Code").filter(|c| !c.is_empty()).unwrap_or_else(|| "no SES error code".into());
        let message = xml_element(body, "Message")
            .unwrap_or_else(|| body.trim().chars().take(300).collect::<String>())
            .replace("&apos;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        SesError::Service { endpoint: self.url.clone(), operation, status, code, message }
    }
}

/// The form-encoded body of a Query API call. Built in a function of its own: the serializer is not `Send`, so
/// it must not live across an await.
fn form_body(operation: &str, params: &[(&str, String)]) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", operation).append_pair("Version", API_VERSION);
    for (key, value) in params {
        form.append_pair(key, value);
    }
    form.finish()
}
