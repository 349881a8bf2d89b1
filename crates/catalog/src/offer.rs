//! A tenant's own variant of a service (the municipality's offer): whether and where it is
//! offered online, the office that handles it, fees and a local note, with the rules every
//! edit must satisfy. Pure data and validation; storage keeps drafts and published variants.

use serde::{Deserialize, Serialize};

/// Longest text of a single-line field (name, street, city).
pub const MAX_LINE: usize = 200;
/// Longest text of a multi-line field (opening hours, fee text).
pub const MAX_TEXT: usize = 1000;
/// Longest local note.
pub const MAX_NOTE: usize = 2000;
/// Longest link.
pub const MAX_URL: usize = 2000;
/// Highest fee in cent (one million euro), to catch typing errors.
pub const MAX_FEE_CENT: i64 = 100_000_000;

/// The office (Organisationseinheit) that handles the service. Empty texts mean "not given".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Office {
    /// Name of the Organisationseinheit, e.g. "Bürgeramt Innenstadt".
    pub name: String,
    /// Street and house number.
    pub street: String,
    /// Postal code (5 digits).
    pub postal_code: String,
    /// City.
    pub city: String,
    /// Opening hours as free text.
    pub opening_hours: String,
    /// Phone number.
    pub phone: String,
    /// E-mail address.
    pub email: String,
}

impl Office {
    /// Whether nothing is given.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Fees of the service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Fees {
    /// The fees in words, e.g. "15 Euro je Hund und Jahr".
    pub text: String,
    /// A single amount in cent, if there is one.
    pub amount_cent: Option<i64>,
}

impl Fees {
    /// Whether nothing is given.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.amount_cent.is_none()
    }
}

/// What a tenant says about a service it offers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
// No `deny_unknown_fields` here: the API flattens the variant into its answers, and OpenAPI would
// then forbid their other properties.
pub struct OfferVariant {
    /// Offered online.
    pub online: bool,
    /// Link to the online service: `https://…` or a path of this instance (`/koeln/formulare/…`).
    #[serde(default)]
    pub url: Option<String>,
    /// OZG Reifegrad 0–4.
    pub maturity: i64,
    /// The office.
    #[serde(default)]
    pub office: Office,
    /// Fees.
    #[serde(default)]
    pub fees: Fees,
    /// A local note for citizens.
    #[serde(default)]
    pub note: String,
}

/// An offending field of a variant, with a German message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `office.postal_code`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn trim(s: &mut String) {
    let t = s.trim();
    if t.len() != s.len() {
        *s = t.to_owned();
    }
}

/// Whether `url` is an https link with a host or an absolute path of this instance.
pub fn is_allowed_link(url: &str) -> bool {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    if let Some(rest) = url.strip_prefix("https://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        return !host.is_empty() && !host.starts_with(':') && !host.contains('@');
    }
    url.starts_with('/') && !url.starts_with("//") && !url.contains('\\')
}

/// Whether `email` looks like an address (one `@`, a dot in the domain, no spaces).
pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

fn is_plausible_phone(phone: &str) -> bool {
    phone.chars().filter(char::is_ascii_digit).count() >= 3
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-/()".contains(c))
}

impl OfferVariant {
    /// Trims every text and turns an empty link into none.
    pub fn normalized(mut self) -> Self {
        let o = &mut self.office;
        for s in [
            &mut o.name,
            &mut o.street,
            &mut o.postal_code,
            &mut o.city,
            &mut o.opening_hours,
            &mut o.phone,
            &mut o.email,
            &mut self.fees.text,
            &mut self.note,
        ] {
            trim(s);
        }
        self.url = self
            .url
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty());
        self
    }

    /// Checks every rule; returns all offending fields at once.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            });
        };
        if !(0..=4).contains(&self.maturity) {
            err(
                "maturity",
                "Der Reifegrad muss zwischen 0 und 4 liegen.".into(),
            );
        }
        match &self.url {
            Some(u) if u.chars().count() > MAX_URL => err(
                "url",
                format!("Der Link darf höchstens {MAX_URL} Zeichen lang sein."),
            ),
            Some(u) if !is_allowed_link(u) => err(
                "url",
                "Der Link muss mit https:// beginnen oder ein Pfad dieses Portals sein (beginnend mit /).".into(),
            ),
            None if self.online => err(
                "url",
                "Für ein Online-Angebot geben Sie bitte den Link zum Online-Dienst an.".into(),
            ),
            _ => {}
        }
        let o = &self.office;
        for (field, label, value, max) in [
            ("office.name", "Name der Stelle", &o.name, MAX_LINE),
            (
                "office.street",
                "Straße und Hausnummer",
                &o.street,
                MAX_LINE,
            ),
            ("office.city", "Ort", &o.city, MAX_LINE),
            (
                "office.opening_hours",
                "Öffnungszeiten",
                &o.opening_hours,
                MAX_TEXT,
            ),
            ("office.phone", "Telefon", &o.phone, 50),
            ("office.email", "E-Mail-Adresse", &o.email, 254),
            ("fees.text", "Gebühren", &self.fees.text, MAX_TEXT),
            ("note", "Hinweis", &self.note, MAX_NOTE),
        ] {
            if value.chars().count() > max {
                err(
                    field,
                    format!(
                        "{label}: höchstens {max} Zeichen (jetzt {}).",
                        value.chars().count()
                    ),
                );
            }
        }
        let plz_ok = o.postal_code.len() == 5 && o.postal_code.bytes().all(|b| b.is_ascii_digit());
        if !o.postal_code.is_empty() && !plz_ok {
            err(
                "office.postal_code",
                "Die Postleitzahl besteht aus genau 5 Ziffern.".into(),
            );
        }
        if !o.email.is_empty() && !is_plausible_email(&o.email) {
            err(
                "office.email",
                "Bitte geben Sie eine gültige E-Mail-Adresse an, z. B. buergeramt@stadt.de.".into(),
            );
        }
        if !o.phone.is_empty() && !is_plausible_phone(&o.phone) {
            err(
                "office.phone",
                "Die Telefonnummer darf nur Ziffern, Leerzeichen und + - / ( ) enthalten.".into(),
            );
        }
        if let Some(c) = self.fees.amount_cent
            && !(0..=MAX_FEE_CENT).contains(&c)
        {
            err(
                "fees.amount_cent",
                "Der Betrag muss zwischen 0 und 1.000.000 Euro liegen (Angabe in Cent).".into(),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// An amount in cent as German text: `1500` → `15,00 €`.
pub fn euro(cent: i64) -> String {
    let sign = if cent < 0 { "-" } else { "" };
    let c = cent.unsigned_abs();
    let euros = (c / 100).to_string();
    // Thousands separated by dots.
    let mut grouped = String::new();
    for (i, ch) in euros.chars().enumerate() {
        if i > 0 && (euros.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped},{:02} €", c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> OfferVariant {
        OfferVariant {
            online: true,
            url: Some("https://service.example.org/hund".into()),
            maturity: 3,
            office: Office {
                postal_code: "50667".into(),
                email: "amt@stadt.de".into(),
                phone: "+49 221 221-0".into(),
                ..Office::default()
            },
            fees: Fees {
                text: "15 Euro".into(),
                amount_cent: Some(1500),
            },
            note: String::new(),
        }
    }

    #[test]
    fn accepts_a_complete_variant() {
        assert_eq!(valid().validate(), Ok(()));
    }

    #[test]
    fn reports_every_broken_rule() {
        let mut v = valid();
        v.url = Some("http://unsicher.example.org".into());
        v.maturity = 5;
        v.office.postal_code = "5066".into();
        v.office.email = "kein-at".into();
        v.note = "x".repeat(MAX_NOTE + 1);
        let fields: Vec<String> = v
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "maturity",
                "url",
                "note",
                "office.postal_code",
                "office.email"
            ]
        );
    }

    #[test]
    fn links() {
        assert!(is_allowed_link("https://a.de/x?y=1"));
        assert!(is_allowed_link("/koeln/formulare/S1"));
        for bad in [
            "http://a.de",
            "//a.de/x",
            "https://",
            "javascript:alert(1)",
            "https://a.de/ x",
            "https://u@a.de",
        ] {
            assert!(!is_allowed_link(bad), "{bad}");
        }
    }

    #[test]
    fn online_needs_a_link_and_normalizing_trims() {
        let mut v = valid();
        v.url = Some("   ".into());
        v.office.city = "  Köln ".into();
        let v = v.normalized();
        assert_eq!(v.office.city, "Köln");
        assert_eq!(v.validate().unwrap_err()[0].field, "url");
    }

    #[test]
    fn euro_text() {
        assert_eq!(euro(1500), "15,00 €");
        assert_eq!(euro(123_456_789), "1.234.567,89 €");
        assert_eq!(euro(5), "0,05 €");
    }
}
