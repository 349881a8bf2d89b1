//! Tenants (Mandanten): the Land, its Kreise and Gemeinden, each with its official keys.

use crate::{Ags, Ars, KeyError, TenantId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// What kind of Gebietskörperschaft a tenant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TenantKind {
    /// A German Land (state); the root of the tenant tree.
    Land,
    /// A Kreis (district).
    Kreis,
    /// A Gemeinde or Stadt, kreisangehörig or kreisfrei.
    Gemeinde,
}

impl TenantKind {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Land => "land",
            Self::Kreis => "kreis",
            Self::Gemeinde => "gemeinde",
        }
    }
    /// German label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Self::Land => "Land",
            Self::Kreis => "Kreis",
            Self::Gemeinde => "Gemeinde",
        }
    }
}

impl FromStr for TenantKind {
    type Err = TenantError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "land" => Ok(Self::Land),
            "kreis" => Ok(Self::Kreis),
            "gemeinde" => Ok(Self::Gemeinde),
            other => Err(TenantError::Kind(other.to_owned())),
        }
    }
}

/// The modules (bounded contexts) a tenant can enable.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Module {
    /// Service catalogue and search.
    Catalog,
    /// Online forms.
    Forms,
    /// Postfach (two-way mailbox).
    Mailbox,
    /// E-payment.
    Payment,
    /// E-Akte and E-Laufmappe.
    Records,
    /// E-Rechnung.
    Einvoice,
    /// Open data catalogue.
    Opendata,
}

impl Module {
    /// Every module, in display order.
    pub const ALL: [Module; 7] = [
        Self::Catalog,
        Self::Forms,
        Self::Mailbox,
        Self::Payment,
        Self::Records,
        Self::Einvoice,
        Self::Opendata,
    ];

    /// German label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Self::Catalog => "Leistungen und Suche",
            Self::Forms => "Online-Anträge",
            Self::Mailbox => "Postfach",
            Self::Payment => "E-Payment",
            Self::Records => "E-Akte",
            Self::Einvoice => "E-Rechnung",
            Self::Opendata => "Offene Daten",
        }
    }
}

/// A URL-safe tenant name: lowercase ASCII letters, digits and single hyphens, 2–63 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantSlug(String);

/// Path segments that can never be tenant slugs because the web frontend uses them.
pub const RESERVED_SLUGS: &[&str] = &[
    "api",
    "assets",
    "healthz",
    "readyz",
    "metrics",
    "static",
    "well-known",
    "barrierefreiheit",
    "impressum",
    "datenschutz",
    "login",
    "logout",
    "admin",
    "favicon.ico",
    "robots.txt",
    "anmelden",
    "abmelden",
    "konto",
    "oidc",
    "suche",
    "assistent",
    "leistungen",
    "ozg-dashboard",
];

impl TenantSlug {
    /// Validates a slug.
    pub fn parse(value: &str) -> Result<Self, TenantError> {
        let ok = (2..=63).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !value.starts_with('-')
            && !value.ends_with('-')
            && !value.contains("--")
            && !RESERVED_SLUGS.contains(&value);
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(TenantError::Slug(value.to_owned()))
        }
    }
    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantSlug {
    type Error = TenantError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<TenantSlug> for String {
    fn from(value: TenantSlug) -> String {
        value.0
    }
}
impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a tenant presents itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Branding {
    /// The name shown in the page header, e.g. "Stadt Köln".
    pub display_name: String,
    /// Main colour as `#rrggbb`; white text on it must reach WCAG AA contrast (4.5:1).
    pub primary_color: String,
    /// Accent colour as `#rrggbb` (links, focus); must reach 4.5:1 against white.
    pub accent_color: String,
    /// Whether a logo has been uploaded (served at `/{slug}/logo`).
    #[serde(default)]
    pub has_logo: bool,
}

impl Branding {
    /// Default branding for a new tenant.
    pub fn for_name(display_name: &str) -> Self {
        Self {
            display_name: display_name.to_owned(),
            primary_color: "#00506e".to_owned(),
            accent_color: "#005a9c".to_owned(),
            has_logo: false,
        }
    }

    /// Checks colour syntax and contrast against white (WCAG 2.1 AA, 4.5:1).
    pub fn validate(&self) -> Result<(), TenantError> {
        if self.display_name.trim().is_empty() || self.display_name.chars().count() > 120 {
            return Err(TenantError::Name);
        }
        for (field, value) in [
            ("primary_color", &self.primary_color),
            ("accent_color", &self.accent_color),
        ] {
            let rgb = parse_hex_color(value).ok_or_else(|| TenantError::Color {
                field,
                value: value.clone(),
            })?;
            let ratio = contrast_ratio(rgb, (255, 255, 255));
            if ratio < 4.5 {
                return Err(TenantError::Contrast {
                    field,
                    value: value.clone(),
                    ratio,
                });
            }
        }
        Ok(())
    }
}

/// Parses `#rrggbb`.
pub fn parse_hex_color(value: &str) -> Option<(u8, u8, u8)> {
    let hex = value.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let c = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some((c(0)?, c(2)?, c(4)?))
}

fn relative_luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG 2.1 contrast ratio of two colours (1.0 to 21.0).
pub fn contrast_ratio(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (relative_luminance(a), relative_luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// A tenant: one Gebietskörperschaft on the shared installation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// Internal id.
    pub id: TenantId,
    /// URL name, e.g. `koeln`.
    pub slug: TenantSlug,
    /// Official name, e.g. "Stadt Köln".
    pub name: String,
    /// Land, Kreis or Gemeinde.
    pub kind: TenantKind,
    /// Amtlicher Gemeindeschlüssel.
    pub ags: Ags,
    /// Amtlicher Regionalschlüssel.
    pub ars: Ars,
    /// Slug of the enclosing tenant (Kreis or Land); `None` only for a Land.
    pub parent: Option<TenantSlug>,
    /// Presentation.
    pub branding: Branding,
    /// Enabled modules.
    pub modules: Vec<Module>,
    /// Optimistic-locking version, increased by every change.
    pub version: i64,
}

/// Input for creating a tenant.
#[derive(Clone, Debug)]
pub struct NewTenant {
    /// URL name.
    pub slug: TenantSlug,
    /// Official name.
    pub name: String,
    /// Land, Kreis or Gemeinde.
    pub kind: TenantKind,
    /// AGS.
    pub ags: Ags,
    /// ARS.
    pub ars: Ars,
    /// Slug of the parent tenant.
    pub parent: Option<TenantSlug>,
    /// Presentation.
    pub branding: Branding,
    /// Enabled modules.
    pub modules: Vec<Module>,
}

impl NewTenant {
    /// Checks the rules that do not need the database: keys agree, kind fits the keys, branding is valid.
    pub fn validate(&self) -> Result<(), TenantError> {
        if self.name.trim().is_empty() || self.name.chars().count() > 120 {
            return Err(TenantError::Name);
        }
        self.ars.check_ags(&self.ags)?;
        let ags = self.ags.as_str();
        let shape_ok = match self.kind {
            TenantKind::Land => &ags[2..] == "000000",
            TenantKind::Kreis => &ags[5..] == "000" && &ags[2..] != "000000",
            TenantKind::Gemeinde => &ags[5..] != "000" || &ags[3..5] != "00",
        };
        if !shape_ok {
            return Err(TenantError::KindMismatch {
                kind: self.kind,
                ags: ags.to_owned(),
            });
        }
        if (self.kind == TenantKind::Land) != self.parent.is_none() {
            return Err(TenantError::Parent);
        }
        self.branding.validate()
    }
}

/// Why a tenant was refused.
#[derive(Debug, Error, PartialEq)]
pub enum TenantError {
    /// Bad slug.
    #[error(
        "ungültiger Kurzname {0:?}: 2–63 Kleinbuchstaben, Ziffern oder Bindestriche, nicht reserviert"
    )]
    Slug(String),
    /// Unknown kind.
    #[error("unbekannte Art {0:?} (erlaubt: land, kreis, gemeinde)")]
    Kind(String),
    /// Empty or too long name.
    #[error("der Name darf nicht leer und höchstens 120 Zeichen lang sein")]
    Name,
    /// Key error.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The AGS does not fit the kind (e.g. a Kreis whose AGS names a Gemeinde).
    #[error("AGS {ags} passt nicht zur Art {kind:?}")]
    KindMismatch {
        /// Declared kind.
        kind: TenantKind,
        /// The AGS.
        ags: String,
    },
    /// A Land has no parent; every other tenant has one.
    #[error("ein Land hat keinen übergeordneten Mandanten, jeder andere Mandant genau einen")]
    Parent,
    /// Bad colour syntax.
    #[error("{field}: {value:?} ist keine Farbe der Form #rrggbb")]
    Color {
        /// Field name.
        field: &'static str,
        /// The refused input.
        value: String,
    },
    /// Too little contrast.
    #[error(
        "{field}: {value} hat gegen Weiß nur ein Kontrastverhältnis von {ratio:.2}:1 (WCAG AA verlangt 4,5:1)"
    )]
    Contrast {
        /// Field name.
        field: &'static str,
        /// The refused colour.
        value: String,
        /// Its contrast against white.
        ratio: f64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn koeln() -> NewTenant {
        NewTenant {
            slug: TenantSlug::parse("koeln").unwrap(),
            name: "Stadt Köln".into(),
            kind: TenantKind::Gemeinde,
            ags: Ags::parse("05315000").unwrap(),
            ars: Ars::parse("053150000000").unwrap(),
            parent: Some(TenantSlug::parse("nrw").unwrap()),
            branding: Branding::for_name("Stadt Köln"),
            modules: vec![Module::Catalog],
        }
    }

    #[test]
    fn valid_tenant_passes() {
        assert_eq!(koeln().validate(), Ok(()));
    }

    #[test]
    fn kind_must_fit_the_keys() {
        let mut t = koeln();
        t.kind = TenantKind::Land;
        t.parent = None;
        assert!(matches!(
            t.validate(),
            Err(TenantError::KindMismatch { .. })
        ));
        let mut t = koeln();
        t.parent = None;
        assert_eq!(t.validate(), Err(TenantError::Parent));
    }

    #[test]
    fn slugs() {
        assert!(TenantSlug::parse("rhein-sieg-kreis").is_ok());
        for bad in [
            "", "a", "Koeln", "köln", "-x", "x-", "a--b", "api", "metrics",
        ] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn contrast_is_enforced() {
        assert!((contrast_ratio((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 1e-9);
        let mut b = Branding::for_name("X");
        assert_eq!(b.validate(), Ok(()));
        b.primary_color = "#ffff00".into();
        assert!(matches!(b.validate(), Err(TenantError::Contrast { .. })));
        b.primary_color = "red".into();
        assert!(matches!(b.validate(), Err(TenantError::Color { .. })));
    }
}
