//! The OpenAPI description, the browsable API page (Swagger UI, vendored, works offline) and
//! the human-readable pages behind the problem `type` URIs.

use crate::html::layout;
use crate::problem::Problem;
use axum::Json;
use axum::extract::Path;
use axum::response::{Html, IntoResponse, Response};
use maud::html;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Token aus `rathaus staff token`"))
                    .build(),
            ),
        );
    }
}

/// Documents the error responses every operation can give, all as problem+json: 400 (bad
/// parameters), 404 on paths with a tenant or id and where a `tenant` parameter is taken, 401/403 where a token is needed, 413/415 where
/// a body is accepted. Error responses declared by a handler are switched to problem+json too.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = || {
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(Ref::from_schema_name("Problem"))))
                .build()
        };
        let text = |code: &str| match code {
            "400" => "Ungültige Anfrage",
            "401" => "Anmeldung erforderlich",
            "403" => "Keine Berechtigung",
            "404" => "Nicht gefunden",
            "409" => "Konflikt",
            "412" => "Zwischenzeitlich geändert",
            "413" => "Anfrage zu groß",
            "415" => "Nicht unterstützter Inhaltstyp",
            _ => "Fehler",
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_params = path.contains('{');
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let mut needed = vec!["400"];
                let names_tenant = op.parameters.iter().flatten().any(|p| p.name == "tenant");
                if has_params || names_tenant {
                    needed.push("404");
                }
                if op.security.is_some() {
                    needed.extend(["401", "403"]);
                }
                if op.request_body.is_some() {
                    needed.extend(["413", "415"]);
                }
                for code in needed {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| {
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description(text(code))
                                    .content(crate::problem::PROBLEM_JSON, problem())
                                    .build(),
                            )
                        });
                }
                for (code, response) in op.responses.responses.iter_mut() {
                    if (code.starts_with('4') || code.starts_with('5'))
                        && let RefOr::T(r) = response
                    {
                        r.content.clear();
                        r.content
                            .insert(crate::problem::PROBLEM_JSON.to_owned(), problem());
                        if r.description.is_empty() {
                            r.description = text(code).to_owned();
                        }
                    }
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Rathaus API", description = "JSON-API der Plattform Rathaus. Fehler als RFC 9457 application/problem+json."),
    paths(
        super::tenants::list, super::tenants::get_one, super::tenants::create, super::tenants::update,
        super::tenants::put_logo, super::tenants::me,
        super::feedback::list, super::feedback::update,
        super::audit::list,
        super::services::search, super::services::assistant, super::services::export,
        super::services::suggest,
        super::offers::list, super::offers::get_one, super::offers::save_draft, super::offers::publish,
        super::offers::withdraw, super::offers::reuse,
        super::dashboard::json, super::dashboard::csv,
        super::inventory::list, super::inventory::put, super::inventory::csv,
        super::clients::list, super::clients::register, super::clients::remove,
        super::forms::get_form, super::forms::submit, super::forms::form_xsd, super::forms::import_fim,
        super::forms::list, super::forms::get_submission, super::forms::submission_xml, super::forms::attachment,
        super::form_builder::list, super::form_builder::create, super::form_builder::get_draft,
        super::form_builder::save_draft, super::form_builder::publish, super::form_builder::export_package,
        super::form_builder::import_package,
        super::einvoices::receive, super::einvoices::report, super::einvoices::list,
        super::einvoices::get_one, super::einvoices::factual, super::einvoices::arithmetic,
        super::einvoices::reject, super::einvoices::hkr_export,
        super::leitweg_routes::list, super::leitweg_routes::create, super::leitweg_routes::update,
        super::leitweg_routes::remove,
        crate::ops::healthz, crate::ops::readyz,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth, &ProblemResponses),
    tags(
        (name = "Mandanten", description = "Land, Kreise und Gemeinden"),
        (name = "Leistungen", description = "Leistungskatalog und Suche"),
        (name = "Barrierefreiheit", description = "Rückmeldungen zu Barrieren (BITV 2.0 § 7)"),
        (name = "Protokoll", description = "Revisionssicheres Protokoll"),
        (name = "Servicekonto", description = "OpenID-Connect-Clients der Mandanten"),
        (name = "Formulare", description = "Online-Formulare (FIM) und eingegangene Anträge"),
        (name = "E-Rechnung", description = "Empfang von XRechnungen, Vier-Augen-Freigabe und Übergabe an die Kasse (HKR)"),
        (name = "Betrieb", description = "Health checks"),
    )
)]
struct ApiDoc;

/// The OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// `GET /api/openapi.json`
pub async fn spec() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

/// `GET /api/docs`: Swagger UI from vendored assets.
pub async fn docs_page() -> Html<String> {
    let page = html! {
        (maud::DOCTYPE)
        html lang="de" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Rathaus API – Dokumentation" }
                link rel="stylesheet" href="/assets/vendor/swagger-ui/swagger-ui.css";
                link rel="stylesheet" href="/assets/api-docs.css";
            }
            body {
                a class="skip-link" href="#swagger-ui" { "Zum Inhalt springen" }
                main {
                    h1 class="api-title" { "Rathaus API" }
                    p { "Maschinenlesbar: " a href="/api/openapi.json" { "OpenAPI-Beschreibung (JSON)" } }
                    div id="swagger-ui" data-spec="/api/openapi.json" {}
                }
                script src="/assets/vendor/swagger-ui/swagger-ui-bundle.js" {}
                script src="/assets/api-docs.js" {}
            }
        }
    };
    Html(page.into_string())
}

const PROBLEM_TYPES: &[(&str, &str, &str)] = &[
    (
        "too-many-submissions",
        "Zu viele Anträge",
        "Von dieser Adresse kamen in der letzten Minute mehr Anträge ohne Servicekonto, als `forms.anonymous_submissions_per_minute` erlaubt; `Retry-After` nennt die Wartezeit in Sekunden.",
    ),
    (
        "too-many-einvoices",
        "Zu viele E-Rechnungen",
        "Von diesem Absender (Token oder Adresse) kamen in der letzten Minute mehr E-Rechnungen, als `einvoice.receptions_per_minute` erlaubt; `Retry-After` nennt die Wartezeit in Sekunden.",
    ),
    (
        "not-found",
        "Nicht gefunden",
        "Die Ressource oder der Mandant existiert nicht.",
    ),
    (
        "invalid-input",
        "Ungültige Eingabe",
        "Die Eingabe verletzt eine Regel; `field` nennt das Feld.",
    ),
    (
        "unauthenticated",
        "Anmeldung erforderlich",
        "Es fehlt ein gültiges Bearer-Token.",
    ),
    (
        "forbidden",
        "Keine Berechtigung",
        "Das Token gehört zu einem anderen Mandanten oder einer Rolle ohne dieses Recht.",
    ),
    (
        "conflict",
        "Konflikt",
        "Ein eindeutiger Wert (z. B. Kurzname, AGS, Leitweg-ID-Präfix) ist bereits vergeben.",
    ),
    (
        "version-mismatch",
        "Zwischenzeitlich geändert",
        "If-Match nennt eine veraltete Version.",
    ),
    (
        "payload-too-large",
        "Anfrage zu groß",
        "Der Inhalt überschreitet die zulässige Größe.",
    ),
    (
        "unsupported-media-type",
        "Nicht unterstützter Inhaltstyp",
        "Erwartet wird application/json.",
    ),
    (
        "method-not-allowed",
        "Methode nicht erlaubt",
        "Der Pfad unterstützt die HTTP-Methode nicht.",
    ),
    (
        "internal",
        "Interner Fehler",
        "Ein unerwarteter Fehler; die Request-ID hilft bei der Suche im Log.",
    ),
    (
        "invalid-submission",
        "Ungültige Angaben",
        "Die Antragsdaten passen nicht zum Formular; `errors` nennt jedes betroffene Feld (FIM-Pfad) mit einer Meldung.",
    ),
    (
        "idempotency-key-reused",
        "Schlüssel schon verwendet",
        "Derselbe Idempotency-Key wurde bereits für andere Antragsdaten verwendet.",
    ),
    (
        "invalid-fim-schema",
        "Kein verwendbares FIM-Schema",
        "Die Datei ist kein unterstütztes XDatenfelder-Schema (XDF 2 oder 3); `detail` nennt das Problem.",
    ),
    (
        "invalid-form",
        "Ungültiges Formular",
        "Die Formulardefinition verletzt eine Regel des Formularbaukastens; `errors` nennt jede Stelle.",
    ),
    (
        "precondition-required",
        "If-Match erforderlich",
        "Änderungen an einem Entwurf brauchen den Kopf If-Match mit der gelesenen Version.",
    ),
    (
        "invalid-offer",
        "Ungültige Angaben zum Angebot",
        "Die Angaben zum Angebot einer Leistung verletzen eine Regel (Link, Postleitzahl, E-Mail, Reifegrad, Länge) oder die Nachnutzung ist nicht möglich; `errors` nennt jedes Feld.",
    ),
    (
        "einvoice-invalid",
        "E-Rechnung ungültig",
        "Die Rechnung verletzt Regeln von EN 16931 oder XRechnung; `findings` nennt die Regeln.",
    ),
    (
        "einvoice-duplicate",
        "E-Rechnung doppelt",
        "Eine Rechnung desselben Rechnungsstellers mit dieser Rechnungsnummer ist bereits eingegangen.",
    ),
    (
        "einvoice-unknown-recipient",
        "Leitweg-ID unbekannt",
        "Die Leitweg-ID (BT-10) ist keinem Empfänger auf dieser Plattform zugeordnet.",
    ),
    (
        "einvoice-unavailable",
        "E-Rechnungsempfang nicht verfügbar",
        "Die Prüfkonfiguration (KoSIT) ist auf diesem Server nicht eingerichtet.",
    ),
    (
        "einvoice-status",
        "Schritt nicht möglich",
        "Die Rechnung ist nicht in dem Status, den dieser Freigabeschritt verlangt.",
    ),
    (
        "four-eyes",
        "Vier-Augen-Prinzip",
        "Sachliche und rechnerische Richtigkeit müssen zwei verschiedene Personen bestätigen.",
    ),
];

/// `GET /api/probleme/{code}`: what a problem type means.
pub async fn problem_type(Path(code): Path<String>) -> Response {
    match PROBLEM_TYPES.iter().find(|(c, _, _)| *c == code) {
        Some((code, title, text)) => layout::plain_page(
            title,
            html! {
                h1 { "Problemtyp: " (title) }
                p { (text) }
                p { "Typ-URI: " code { "/api/probleme/" (code) } }
                p { a href="/api/docs" { "Zur API-Dokumentation" } }
            },
        )
        .into_response(),
        None => Problem::not_found(format!("Unbekannter Problemtyp {code:?}.")).into_response(),
    }
}
