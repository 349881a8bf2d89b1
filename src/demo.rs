//! The demo data: the Land Nordrhein-Westfalen and real municipalities with their official keys.

use anyhow::Result;
use rathaus_core::tenant::NewTenant;
use rathaus_core::{Ars, Branding, Module, TenantKind, TenantSlug};
use rathaus_storage::Db;
use rathaus_storage::catalog::{CatalogStore, Offer};
use rathaus_storage::tenants::{SeedOutcome, TenantStore};
use std::path::{Path, PathBuf};

/// One demo tenant: (slug, name, kind, ARS, parent slug, primary colour). AGS follows from the ARS.
type DemoTenant = (
    &'static str,
    &'static str,
    TenantKind,
    &'static str,
    Option<&'static str>,
    &'static str,
);

const TENANTS: &[DemoTenant] = &[
    (
        "nrw",
        "Nordrhein-Westfalen",
        TenantKind::Land,
        "050000000000",
        None,
        "#00506e",
    ),
    (
        "duesseldorf",
        "Landeshauptstadt Düsseldorf",
        TenantKind::Gemeinde,
        "051110000000",
        Some("nrw"),
        "#a3000b",
    ),
    (
        "koeln",
        "Stadt Köln",
        TenantKind::Gemeinde,
        "053150000000",
        Some("nrw"),
        "#8a1538",
    ),
    (
        "muenster",
        "Stadt Münster",
        TenantKind::Gemeinde,
        "055150000000",
        Some("nrw"),
        "#00576b",
    ),
    (
        "kreis-euskirchen",
        "Kreis Euskirchen",
        TenantKind::Kreis,
        "053660000000",
        Some("nrw"),
        "#1f5c2e",
    ),
    (
        "euskirchen",
        "Stadt Euskirchen",
        TenantKind::Gemeinde,
        "053660016016",
        Some("kreis-euskirchen"),
        "#2f4f8f",
    ),
    (
        "dahlem",
        "Gemeinde Dahlem",
        TenantKind::Gemeinde,
        "053660012012",
        Some("kreis-euskirchen"),
        "#4d5d1e",
    ),
];

/// The demo tenants as they are seeded.
pub fn tenants() -> Result<Vec<NewTenant>> {
    TENANTS
        .iter()
        .map(|(slug, name, kind, ars, parent, color)| {
            let ars = Ars::parse(ars)?;
            let display = if *kind == TenantKind::Land {
                format!("Land {name}")
            } else {
                (*name).to_owned()
            };
            Ok(NewTenant {
                slug: TenantSlug::parse(slug)?,
                name: (*name).to_owned(),
                kind: *kind,
                ags: ars.ags(),
                ars,
                parent: parent.map(TenantSlug::parse).transpose()?,
                branding: Branding {
                    primary_color: (*color).to_owned(),
                    ..Branding::for_name(&display)
                },
                modules: Module::ALL.to_vec(),
            })
        })
        .collect()
}

/// Seeds the demo idempotently; returns (created, updated, unchanged).
pub async fn seed(db: &Db) -> Result<(usize, usize, usize)> {
    let store = TenantStore::new(db.clone());
    let mut counts = (0, 0, 0);
    for t in tenants()? {
        match store.seed(&t, "system:demo").await? {
            SeedOutcome::Created => counts.0 += 1,
            SeedOutcome::Updated => counts.1 += 1,
            SeedOutcome::Unchanged => counts.2 += 1,
        }
    }
    Ok(counts)
}

/// Where the demo finds the catalogue: the configured directory, else the shared test data.
fn catalog_dir(configured: Option<&Path>) -> Option<PathBuf> {
    let candidates = [
        configured.map(Path::to_path_buf),
        Some(PathBuf::from("../shared/testdata/ozg-leika")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("leika_leistungen.csv").exists())
}

/// Share (percent) of the main services each demo municipality offers.
const DEMO_SHARE: &[(&str, u64)] = &[
    ("koeln", 45),
    ("duesseldorf", 40),
    ("muenster", 50),
    ("kreis-euskirchen", 25),
    ("euskirchen", 20),
    ("dahlem", 10),
];

/// A stable pseudo-random number per tenant and service (FNV-1a), so the demo is the same everywhere.
fn demo_hash(slug: &str, id: i64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in slug.bytes().chain(id.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Demo offers: (tenant, LeiKa key, online, maturity).
const OFFERS: &[(&str, &str, bool, i64)] = &[
    ("koeln", "99110009104000", true, 3),   // Hundehaltung Anmeldung
    ("koeln", "99115005104000", true, 2),   // Wohnsitz Anmeldung
    ("dahlem", "99110009104000", false, 0), // Hundehaltung Anmeldung, vor Ort
    ("muenster", "99115005104000", true, 3), // Wohnsitz Anmeldung
];

/// Imports the catalogue on the first demo start (when the Land has none) and sets demo offers.
pub async fn seed_catalog(db: &Db, configured: Option<&Path>) -> Result<()> {
    let store = CatalogStore::new(db.clone());
    let tenants = TenantStore::new(db.clone());
    let land = tenants.get("nrw").await?;
    if store.counts(land.id).await?.leistungen > 0 {
        return Ok(());
    }
    let Some(dir) = catalog_dir(configured) else {
        tracing::warn!(
            "no catalogue data found (set catalog_dir); the demo starts without a service catalogue"
        );
        return Ok(());
    };
    let report = crate::catalog::import(db, &dir, "nrw", false).await?;
    tracing::info!(
        services = report.imported.leistungen,
        rejected = report.rejected.len(),
        "demo catalogue imported"
    );
    let docs = store.services(land.id).await?;
    // A plausible spread of online services per municipality, so the OZG dashboard has something to
    // compare: a deterministic share of the main LeiKa services (keys ending in 000000) per tenant.
    for (slug, share) in DEMO_SHARE {
        let tenant = tenants.get(slug).await?;
        let offers: Vec<Offer> = docs
            .iter()
            .filter(|d| {
                d.leika
                    .as_ref()
                    .is_some_and(|k| k.as_str().ends_with("000000"))
            })
            .filter_map(|d| {
                let h = demo_hash(slug, d.id);
                (h % 100 < *share).then(|| Offer {
                    leistung_id: d.id,
                    online: !h.is_multiple_of(7),
                    url: None,
                    maturity: i64::try_from(1 + (h / 100) % 4).unwrap_or(1),
                })
            })
            .collect();
        store.set_offers(tenant.id, &offers, "system:demo").await?;
    }
    for (slug, leika, online, maturity) in OFFERS {
        let Some(doc) = docs
            .iter()
            .find(|d| d.leika.as_ref().is_some_and(|k| k.as_str() == *leika))
        else {
            continue;
        };
        let tenant = tenants.get(slug).await?;
        let url = online.then(|| format!("/{slug}/leistungen/{}", doc.id));
        store
            .set_offer(
                tenant.id,
                &Offer {
                    leistung_id: doc.id,
                    online: *online,
                    url,
                    maturity: *maturity,
                },
                "system:demo",
            )
            .await?;
    }
    Ok(())
}

/// The demo citizen of the Servicekonto (README).
pub const DEMO_EMAIL: &str = "erika.mustermann@example.org";
/// A clerk of Köln (staff member `sachbearbeitung`, role Sachbearbeitung), same password.
pub const DEMO_STAFF_EMAIL: &str = "sachbearbeitung.koeln@example.org";
/// Demo staff of Köln: (e-mail, given name, login, Organisationseinheit, role), password
/// [`DEMO_PASSWORD`].
const DEMO_STAFF: &[(&str, &str, &str, &str, rathaus_core::staff::Role)] = &[
    (
        DEMO_STAFF_EMAIL,
        "Sabine",
        "sachbearbeitung",
        "Bürgeramt",
        rathaus_core::staff::Role::Sachbearbeitung,
    ),
    (
        "redaktion.koeln@example.org",
        "Rainer",
        "redaktion",
        "Online-Redaktion",
        rathaus_core::staff::Role::Redaktion,
    ),
];

/// A staff member of Köln with a Servicekonto login, unless the e-mail exists already.
async fn seed_staff(
    provider: &rathaus_identity::provider::Provider,
    email: &str,
    given_name: &str,
    login: &str,
    office: &str,
    role: rathaus_core::staff::Role,
) -> Result<()> {
    use rathaus_identity::accounts::{AccountKind, NewAccount, Profile};
    let actor = "system:demo";
    if provider.accounts.by_email(email).await?.is_some() {
        return Ok(());
    }
    let account = provider
        .accounts
        .create(
            &NewAccount {
                kind: AccountKind::Person,
                email: email.into(),
                password_hash: Some(provider.hasher().hash(DEMO_PASSWORD)?),
                profile: Profile {
                    given_name: Some(given_name.into()),
                    family_name: Some("Muster (Demo)".into()),
                    ..Profile::default()
                },
                email_verified: true,
            },
            actor,
        )
        .await?;
    let db = provider.accounts.db().clone();
    let koeln = rathaus_storage::tenants::TenantStore::new(db.clone())
        .get("koeln")
        .await?;
    rathaus_storage::staff::StaffStore::new(db)
        .link_account(koeln.id, login, office, role, &account.id, actor)
        .await?;
    Ok(())
}
/// The demo password.
pub const DEMO_PASSWORD: &str = "Demo-Passwort-1";

/// Seeds the Servicekonto demo idempotently: the citizen Erika Mustermann (member of a demo
/// company account), the machine client `demo-backoffice` and the public client `demo-spa`.
pub async fn seed_identity(provider: &rathaus_identity::provider::Provider) -> Result<()> {
    use rathaus_identity::accounts::{AccountKind, Address, NewAccount, Profile};
    use rathaus_identity::clients::{Client, ClientKind, NewClient};
    let actor = "system:demo";
    if provider.accounts.by_email(DEMO_EMAIL).await?.is_none() {
        let erika = provider
            .accounts
            .create(
                &NewAccount {
                    kind: AccountKind::Person,
                    email: DEMO_EMAIL.into(),
                    password_hash: Some(provider.hasher().hash(DEMO_PASSWORD)?),
                    profile: Profile {
                        given_name: Some("Erika".into()),
                        family_name: Some("Mustermann".into()),
                        birthdate: Some("1964-08-12".into()),
                        address: Address {
                            street: Some("Heidestraße 17".into()),
                            postal_code: Some("51147".into()),
                            locality: Some("Köln".into()),
                            country: Some("DE".into()),
                        },
                        organisation_name: None,
                    },
                    email_verified: true,
                },
                actor,
            )
            .await?;
        let company = provider
            .accounts
            .create(
                &NewAccount {
                    kind: AccountKind::Organisation,
                    email: "kontakt@musterfirma.example".into(),
                    password_hash: None,
                    profile: Profile {
                        organisation_name: Some("Musterfirma GmbH".into()),
                        ..Profile::default()
                    },
                    email_verified: true,
                },
                actor,
            )
            .await?;
        provider
            .accounts
            .add_member(&company.id, &erika.id, "admin", actor)
            .await?;
    }
    // Staff of Köln for the back office (/koeln/verwaltung): a clerk and an editor of forms.
    for (email, given, login, office, role) in DEMO_STAFF {
        seed_staff(provider, email, given, login, office, *role).await?;
    }
    let scopes = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    let clients = [
        NewClient {
            client: Client {
                client_id: "demo-backoffice".into(),
                tenant_id: None,
                name: "Fachverfahren des Landes (Demo)".into(),
                kind: ClientKind::Confidential,
                secret_hash: None,
                redirect_uris: vec![],
                post_logout_redirect_uris: vec![],
                grant_types: scopes(&["client_credentials"]),
                scopes: scopes(&["openid"]),
                acts_for: scopes(&["*"]),
                staff_role: Some(rathaus_core::staff::Role::Admin),
                id_token_alg: None,
            },
            secret: Some("demo-secret".into()),
        },
        NewClient {
            client: Client {
                client_id: "demo-spa".into(),
                tenant_id: None,
                name: "Demo-Anwendung (SPA)".into(),
                kind: ClientKind::Public,
                secret_hash: None,
                redirect_uris: scopes(&["http://127.0.0.1/callback"]),
                post_logout_redirect_uris: scopes(&["http://127.0.0.1/"]),
                grant_types: scopes(&["authorization_code", "refresh_token"]),
                scopes: scopes(&["openid", "profile", "email", "address", "offline_access"]),
                acts_for: vec![],
                staff_role: None,
                id_token_alg: None,
            },
            secret: None,
        },
    ];
    for c in clients {
        if provider.clients.get(&c.client.client_id).await?.is_none() {
            provider.clients.upsert(&c, actor).await?;
        }
    }
    Ok(())
}

/// Demo dog-tax rates per municipality (euros per year: first dog, each further dog, dangerous
/// dog) — example figures for the demo, not the municipalities' statutes.
const DOG_TAX: &[(&str, &str, [u32; 3])] = &[
    (
        "koeln",
        "Steueramt, Kassen- und Steueramt der Stadt Köln",
        [156, 156, 852],
    ),
    (
        "duesseldorf",
        "Steueramt der Landeshauptstadt Düsseldorf",
        [96, 150, 600],
    ),
    ("muenster", "Steueramt der Stadt Münster", [138, 174, 720]),
    (
        "euskirchen",
        "Fachbereich Finanzen, Stadt Euskirchen",
        [96, 120, 600],
    ),
    ("dahlem", "Gemeindekasse Dahlem", [60, 84, 480]),
];

/// Seeds the reference service: the Hundesteuer-Anmeldung as the Land's Einer-für-Alle template,
/// activated by each demo municipality with its office and rates. Idempotent.
pub async fn seed_forms(db: &Db) -> Result<()> {
    use rathaus_storage::forms::FormStore;
    let tenants = TenantStore::new(db.clone());
    let forms = FormStore::new(db.clone());
    let land = tenants.get("nrw").await?;
    let mut form = rathaus_forms::hundesteuer();
    // The demo takes applications without login too (logged-in citizens get their data
    // prefilled); a municipality can require a trust level in its own version.
    form.trust_level = None;
    let definition = serde_json::to_string(&form)?;
    let schema = rathaus_forms::json_schema(&form).to_string();
    let saved = forms
        .import(
            land.id,
            "rathaus-hundesteuer",
            &form.title,
            &definition,
            &schema,
            "system:demo",
        )
        .await?;
    if saved.changed {
        forms
            .set_template(land.id, &saved.form_id, true, "system:demo")
            .await?;
    }
    for (slug, office, [first, further, dangerous]) in DOG_TAX {
        let tenant = tenants.get(slug).await?;
        let active = forms
            .list_for(tenant.id)
            .await?
            .iter()
            .any(|f| f.form.id == saved.form_id);
        if active {
            continue;
        }
        let params = serde_json::json!({
            "dienststelle": office,
            "gebuehr_hinweis": format!(
                "Hundesteuer pro Jahr: {first} € für den ersten Hund, {further} € für jeden weiteren, {dangerous} € für einen gefährlichen Hund (Beispielsätze der Demo)."
            ),
            "hundesteuer_saetze": {"ersthund": first, "weiterer_hund": further, "gefaehrlicher_hund": dangerous},
        });
        forms
            .activate(tenant.id, &saved.form_id, &params, "system:demo")
            .await?;
    }
    Ok(())
}

/// Leitweg-IDs (or their leading parts) of the XRechnung test suite's invoices, mapped to demo
/// tenants and offices, so that the demo receives the suite's files: (prefix, tenant, office).
const EINVOICE_ROUTES: &[(&str, &str, &str)] = &[
    ("04011000", "koeln", "Kämmerei"),
    ("04011000-12350-85", "koeln", "Amt für Schulentwicklung"),
    ("99000000", "duesseldorf", "Stadtkasse"),
    ("90000000", "muenster", "Stadtkasse"),
    ("11002002", "kreis-euskirchen", "Kreiskasse"),
    ("12345678", "euskirchen", "Stadtkasse"),
    ("1234567890", "dahlem", "Gemeindekasse"),
    ("991", "nrw", "Landeshauptkasse"),
    ("992", "nrw", "Landeshauptkasse"),
];

/// Seeds the Leitweg-ID routes of the demo. Idempotent.
pub async fn seed_einvoice_routes(db: &Db, blobs: &rathaus_storage::Blobs) -> Result<()> {
    let tenants = TenantStore::new(db.clone());
    let store = rathaus_storage::einvoices::EinvoiceStore::new(db.clone(), blobs.clone());
    for (prefix, slug, office) in EINVOICE_ROUTES {
        let tenant = tenants.get(slug).await?;
        store
            .put_route(tenant.id, prefix, office, "system:demo")
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_tenants_are_valid() {
        let all = super::tenants().unwrap();
        assert!(all.len() >= 6);
        for t in &all {
            t.validate().unwrap_or_else(|e| panic!("{}: {e}", t.slug));
        }
        let dahlem = all.iter().find(|t| t.slug.as_str() == "dahlem").unwrap();
        assert_eq!(dahlem.ags.as_str(), "05366012");
    }
}
