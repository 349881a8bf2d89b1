//! Accessibility feedback (BITV 2.0 § 7 Feedback-Mechanismus): citizens report barriers, editors handle them.

use crate::{FeedbackId, TenantId};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use thiserror::Error;

/// Processing status of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackStatus {
    /// Received, not yet looked at.
    Neu,
    /// Being handled.
    InBearbeitung,
    /// Done.
    Erledigt,
}

impl FeedbackStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Neu => "neu",
            Self::InBearbeitung => "in_bearbeitung",
            Self::Erledigt => "erledigt",
        }
    }
}

impl FromStr for FeedbackStatus {
    type Err = FeedbackError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "neu" => Ok(Self::Neu),
            "in_bearbeitung" => Ok(Self::InBearbeitung),
            "erledigt" => Ok(Self::Erledigt),
            other => Err(FeedbackError::Status(other.to_owned())),
        }
    }
}

/// A stored report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Feedback {
    /// Id.
    pub id: FeedbackId,
    /// Tenant the report was sent to.
    #[serde(skip)]
    pub tenant: TenantId,
    /// Page the barrier was found on.
    pub page: String,
    /// Description of the barrier.
    pub message: String,
    /// Optional e-mail address for an answer.
    pub contact: Option<String>,
    /// Status.
    pub status: FeedbackStatus,
    /// Received at (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// Input from the public form.
#[derive(Clone, Debug)]
pub struct NewFeedback {
    /// Page.
    pub page: String,
    /// Description.
    pub message: String,
    /// Optional e-mail.
    pub contact: Option<String>,
}

/// Maximum length of a description.
pub const MAX_MESSAGE: usize = 5000;

impl NewFeedback {
    /// Trims and checks the input.
    pub fn validate(mut self) -> Result<Self, FeedbackError> {
        self.message = self.message.trim().to_owned();
        self.page = self.page.trim().chars().take(500).collect();
        self.contact = self
            .contact
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if self.message.is_empty() {
            return Err(FeedbackError::EmptyMessage);
        }
        if self.message.chars().count() > MAX_MESSAGE {
            return Err(FeedbackError::TooLong);
        }
        if let Some(c) = &self.contact {
            let valid = c.len() <= 254
                && c.split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
                && !c.chars().any(char::is_whitespace);
            if !valid {
                return Err(FeedbackError::Contact);
            }
        }
        Ok(self)
    }
}

/// Why a report was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FeedbackError {
    /// Empty description.
    #[error("Bitte beschreiben Sie die Barriere.")]
    EmptyMessage,
    /// Too long.
    #[error("Die Beschreibung darf höchstens 5000 Zeichen lang sein.")]
    TooLong,
    /// Invalid e-mail.
    #[error("Bitte geben Sie eine gültige E-Mail-Adresse an oder lassen Sie das Feld leer.")]
    Contact,
    /// Unknown status.
    #[error("unbekannter Status {0:?} (erlaubt: neu, in_bearbeitung, erledigt)")]
    Status(String),
}
