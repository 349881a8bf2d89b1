//! Outgoing e-mail (address confirmation, password reset).
//!
//! Messages are written as RFC 5322 files into an outbox directory, one file per message, in
//! the manner of a mail pickup directory: an MTA (or an operator script) delivers them. The
//! log names recipient and file, never the message text, since links in it are secrets.

use crate::{IdentityError, Result};
use std::path::{Path, PathBuf};

/// Writes messages into an outbox directory.
#[derive(Clone, Debug)]
pub struct Outbox {
    dir: PathBuf,
    from: String,
}

impl Outbox {
    /// An outbox in `dir` (created on first use) sending as `from`.
    pub fn new(dir: impl Into<PathBuf>, from: impl Into<String>) -> Self {
        Self {
            dir: dir.into(),
            from: from.into(),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one plain-text message; returns its file.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<PathBuf> {
        if to.contains(['\r', '\n']) || subject.contains(['\r', '\n']) {
            return Err(IdentityError::Invalid("ungültige Kopfzeile".into()));
        }
        tokio::fs::create_dir_all(&self.dir).await.map_err(|e| {
            IdentityError::Invalid(format!("Postausgang {}: {e}", self.dir.display()))
        })?;
        let id = uuid::Uuid::now_v7();
        let date = chrono::Utc::now().to_rfc2822();
        let subject_encoded = encode_header(subject);
        let message = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject_encoded}\r\nDate: {date}\r\nMessage-ID: <{id}@rathaus>\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
            from = self.from,
            body = body.replace('\n', "\r\n"),
        );
        let path = self.dir.join(format!("{id}.eml"));
        let tmp = self.dir.join(format!(".{id}.tmp"));
        tokio::fs::write(&tmp, message.as_bytes())
            .await
            .and(tokio::fs::rename(&tmp, &path).await)
            .map_err(|e| IdentityError::Invalid(format!("Postausgang: {e}")))?;
        tracing::info!(to, file = %path.display(), "mail queued");
        Ok(path)
    }
}

/// RFC 2047 encoded-word for non-ASCII header text.
fn encode_header(text: &str) -> String {
    use base64::Engine;
    if text.is_ascii() {
        text.to_owned()
    } else {
        format!(
            "=?utf-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
    }
}
