//! The form builder of the back office (`/{slug}/verwaltung/formulare`), for staff with role
//! Redaktion (or admin): the tenant's forms and the templates of other tenants, the editor of
//! the element tree and the form settings, publishing, Einer-für-Alle templates and their
//! activation, the portable package and the XDF 3 export.
//!
//! Works without JavaScript: every change is a normal form POST with CSRF token, the version
//! the page was loaded with (`version`) and its revision (`stand`), followed by a redirect
//! back. A stale version or revision (another tab saved meanwhile) saves nothing and
//! says so. Every save runs [`edit::validate`] ([`rathaus_forms::Form::check`] and the
//! builder's rules); errors are shown with the entered data kept.

pub(crate) mod edit;
mod inputs;
pub(crate) mod package;
mod render;

use crate::csrf;
use crate::html::backoffice::scope;
use crate::html::layout::error_page;
use crate::identity::SignedIn;
use crate::state::AppState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use inputs::{ElementInput, Posted, SettingsInput};
use package::BuilderError;
use rathaus_core::Tenant;
use rathaus_core::staff::{Role, StaffPrincipal};
use rathaus_forms::Form;
use rathaus_storage::StorageError;
use rathaus_storage::forms::{Base, FormRecord, FormVersion};
use render::{ActivationInput, AddInput, EditorPage, ListPage, Section};
use serde::Deserialize;

/// Roles that build forms (admins are admitted by `scope`).
pub(crate) const BUILDER_ROLES: &[Role] = &[Role::Redaktion];

/// Stamp of a stored definition: detects a save by someone else within the same draft version.
/// The version and revision a builder page was loaded with (hidden fields `version`, `stand`).
fn posted_base(p: &Posted) -> Base {
    Base {
        version: p.get("version").parse().unwrap_or(-1),
        revision: p.get("stand").parse().unwrap_or(-1),
    }
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "form builder failed");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Technischer Fehler",
        "Die Seite kann gerade nicht angezeigt werden. Bitte versuchen Sie es später erneut.",
    )
}

fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Formular nicht gefunden",
        "Dieses Formular gibt es bei Ihrer Kommune nicht. Vorlagen anderer Kommunen bearbeitet nur die Kommune, der sie gehören.",
    )
}

fn expired() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Formular abgelaufen",
        "Die Seite war zu lange geöffnet. Bitte laden Sie sie neu und wiederholen Sie Ihre Änderung.",
    )
}

fn storage(e: StorageError) -> Response {
    match e {
        StorageError::NotFound(_) => not_found(),
        e => internal(e),
    }
}

/// Query of the pages: a message after a redirect, the element being edited.
#[derive(Deserialize, Default)]
pub struct Show {
    meldung: Option<String>,
    element: Option<String>,
}

/// German text of a message code.
fn message(code: &str) -> Option<&'static str> {
    Some(match code {
        "angelegt" => "Das Formular wurde angelegt. Fügen Sie jetzt Gruppen und Felder hinzu.",
        "importiert" => "Das Formularpaket wurde als neuer Entwurf übernommen.",
        "neu" => "Das Element wurde hinzugefügt. Unten können Sie es weiter einstellen.",
        "gespeichert" => "Die Änderung wurde gespeichert.",
        "verschoben" => "Das Element wurde verschoben.",
        "geloescht" => "Das Element wurde gelöscht.",
        "veroeffentlicht" => {
            "Das Formular wurde veröffentlicht. Bürgerinnen und Bürger sehen ab sofort diese Version."
        }
        "vorlage-an" => "Das Formular wird jetzt allen Kommunen als Vorlage angeboten.",
        "vorlage-aus" => "Das Formular wird nicht mehr als Vorlage angeboten.",
        "aktiviert" => "Die Vorlage ist für Ihre Kommune aktiviert.",
        _ => return None,
    })
}

fn redirect(path: &str) -> Response {
    Redirect::to(path).into_response()
}

fn base(tenant: &Tenant) -> String {
    format!("/{}/verwaltung/formulare", tenant.slug)
}

// ---------------------------------------------------------------------------------------------
// The list

/// Everything the list page shows.
async fn list_page(
    state: &AppState,
    tenant: &Tenant,
    who: &StaffPrincipal,
) -> Result<ListPage, StorageError> {
    let forms = state.forms.list_for(tenant.id).await?;
    let templates = state.forms.templates(tenant.id).await?;
    let tenants = state.tenants.list().await?;
    let owner_names = tenants
        .into_iter()
        .map(|t| (t.id.to_string(), t.name))
        .collect();
    Ok(ListPage {
        forms,
        templates,
        owner_names,
        who: who.clone(),
        message: None,
        errors: Vec::new(),
        error_in: Section::Top,
        new_title: String::new(),
        activation: None,
    })
}

/// `GET /{slug}/verwaltung/formulare`
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Query(q): Query<Show>,
) -> Response {
    let (tenant, _, who) = match scope(&state, &slug, &account.id, BUILDER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut page = match list_page(&state, &tenant, &who).await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    page.message = q.meldung.as_deref().and_then(message).map(str::to_owned);
    render::list(&state, &headers, &tenant, &page, StatusCode::OK)
}

/// `POST /{slug}/verwaltung/formulare`: a new form with a title.
pub async fn create(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let (tenant, _, who) = match scope(&state, &slug, &account.id, BUILDER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let p = Posted(pairs);
    if !csrf::verify(&headers, p.get(csrf::FIELD), &state.config.csrf_secret) {
        return expired();
    }
    let title = p.get("titel").trim();
    let result = if title.is_empty() {
        Err(BuilderError::Invalid(vec![
            "Bitte geben Sie einen Titel für das neue Formular an.".into(),
        ]))
    } else {
        package::create(&state, &tenant, &edit::new_form(title), &who.actor()).await
    };
    match result {
        Ok(saved) => redirect(&format!(
            "{}/{}?meldung=angelegt",
            base(&tenant),
            saved.form_id
        )),
        Err(BuilderError::Invalid(errors)) => {
            let mut page = match list_page(&state, &tenant, &who).await {
                Ok(p) => p,
                Err(e) => return internal(e),
            };
            page.errors = errors;
            page.error_in = Section::New;
            page.new_title = p.get("titel").to_owned();
            render::list(
                &state,
                &headers,
                &tenant,
                &page,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(BuilderError::Storage(e)) => internal(e),
    }
}

/// The files of a multipart post by field name (file name, bytes), after its CSRF token was
/// checked; empty files are left out.
struct Upload(Vec<(String, String, bytes::Bytes)>);

impl Upload {
    fn first(&self, field: &str) -> Option<bytes::Bytes> {
        self.0
            .iter()
            .find(|(f, ..)| f == field)
            .map(|(.., b)| b.clone())
    }

    fn all(&self, field: &str) -> Vec<(String, bytes::Bytes)> {
        self.0
            .iter()
            .filter(|(f, ..)| f == field)
            .map(|(_, name, b)| (name.clone(), b.clone()))
            .collect()
    }
}

/// Reads a multipart post of the builder: its CSRF token must be valid.
async fn read_upload(
    state: &AppState,
    headers: &HeaderMap,
    mut multipart: Multipart,
) -> Result<Upload, Response> {
    let mut token = String::new();
    let mut files = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let file = field.file_name().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(b) if name == csrf::FIELD => {
                        token = String::from_utf8_lossy(&b).into_owned()
                    }
                    Ok(b) if !b.is_empty() => files.push((name, file, b)),
                    Ok(_) => {}
                    Err(_) => return Err(bad_upload()),
                }
            }
            Ok(None) => break,
            Err(_) => return Err(bad_upload()),
        }
    }
    if !csrf::verify(headers, &token, &state.config.csrf_secret) {
        return Err(expired());
    }
    Ok(Upload(files))
}

/// The list page again with `errors` in `section` (422).
async fn list_with_errors(
    state: &AppState,
    headers: &HeaderMap,
    tenant: &Tenant,
    who: &StaffPrincipal,
    errors: Vec<String>,
    section: Section,
) -> Response {
    let mut page = match list_page(state, tenant, who).await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    page.errors = errors;
    page.error_in = section;
    render::list(
        state,
        headers,
        tenant,
        &page,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// `POST /{slug}/verwaltung/formulare/paket-import` (multipart: `csrf`, `paket`).
pub async fn import(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    multipart: Multipart,
) -> Response {
    let (tenant, _, who) = match scope(&state, &slug, &account.id, BUILDER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let files = match read_upload(&state, &headers, multipart).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let bytes = files.first("paket");
    let result = match bytes.filter(|b| !b.is_empty()) {
        None => Err(BuilderError::Invalid(vec![
            "Bitte wählen Sie eine Paketdatei (JSON) aus.".into(),
        ])),
        Some(b) => match package::read(&b) {
            Ok(form) => package::create(&state, &tenant, &form, &who.actor()).await,
            Err(errors) => Err(BuilderError::Invalid(errors)),
        },
    };
    match result {
        Ok(saved) => redirect(&format!(
            "{}/{}?meldung=importiert",
            base(&tenant),
            saved.form_id
        )),
        Err(BuilderError::Invalid(errors)) => {
            list_with_errors(&state, &headers, &tenant, &who, errors, Section::Import).await
        }
        Err(BuilderError::Storage(e)) => internal(e),
    }
}

/// `POST /{slug}/verwaltung/formulare/fim-import` (multipart: `schema`, optional `codelisten`):
/// imports a FIM XDatenfelder schema (XDF 2 or 3) as a published form of the tenant, with code
/// lists from the genericode files uploaded beside it; shows the counts and every warning.
pub async fn import_fim(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    multipart: Multipart,
) -> Response {
    let (tenant, _, who) = match scope(&state, &slug, &account.id, BUILDER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let files = match read_upload(&state, &headers, multipart).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let refuse = |errors: Vec<String>| {
        list_with_errors(&state, &headers, &tenant, &who, errors, Section::Fim)
    };
    let schema = files.first("schema");
    let lists = files.all("codelisten");
    let Some(schema) = schema else {
        return refuse(vec!["Bitte wählen Sie eine Schemadatei (XML) aus.".into()]).await;
    };
    let imported = match import_with_lists(schema, lists).await {
        Ok(i) => i,
        Err(message) => return refuse(vec![message]).await,
    };
    let saved =
        match crate::forms::store_import(&state.forms, tenant.id, &imported, &who.actor()).await {
            Ok(s) => s,
            Err(e) => return storage(e),
        };
    render::fim_imported(&tenant, &imported, &saved)
}

/// Imports in a blocking task; uploaded code lists go to a private temporary directory that is
/// removed afterwards. The error is the German message naming the problem.
async fn import_with_lists(
    schema: bytes::Bytes,
    lists: Vec<(String, bytes::Bytes)>,
) -> Result<rathaus_forms::Imported, String> {
    tokio::task::spawn_blocking(move || {
        if lists.is_empty() {
            return rathaus_forms::import(&schema, &rathaus_forms::NoCodeLists)
                .map_err(|e| e.to_string());
        }
        let dir = std::env::temp_dir().join(format!("rathaus-codelisten-{}", uuid::Uuid::new_v4()));
        let written = std::fs::create_dir(&dir).and_then(|()| {
            for (i, (name, bytes)) in lists.iter().enumerate() {
                // Keep the list's id in the name (lists are found by it), nothing else of the path.
                let clean: String = name
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                    .take(120)
                    .collect();
                std::fs::write(dir.join(format!("{i}_{clean}.xml")), bytes)?;
            }
            Ok(())
        });
        let result = match written {
            Ok(()) => rathaus_forms::import(&schema, &rathaus_forms::CodeListDir::new(&dir))
                .map_err(|e| e.to_string()),
            Err(e) => Err(format!("Die Codelisten konnten nicht gelesen werden: {e}")),
        };
        let _ = std::fs::remove_dir_all(&dir);
        result
    })
    .await
    .unwrap_or_else(|e| Err(format!("Der Import ist abgebrochen: {e}")))
}

fn bad_upload() -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "Hochladen fehlgeschlagen",
        "Die Datei konnte nicht gelesen werden. Bitte versuchen Sie es erneut.",
    )
}

/// `POST /{slug}/verwaltung/formulare/{form_id}/aktivieren`: activates another tenant's
/// template (or updates the parameters) for this tenant.
pub async fn activate(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let (tenant, _, who) = match scope(&state, &slug, &account.id, BUILDER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let p = Posted(pairs);
    if !csrf::verify(&headers, p.get(csrf::FIELD), &state.config.csrf_secret) {
        return expired();
    }
    let input = ActivationInput {
        form_id: form_id.clone(),
        office: p.get("dienststelle").to_owned(),
        fee_hint: p.get("gebuehr_hinweis").to_owned(),
        target: p.get("ziel").to_owned(),
        logo: p.get("logo").to_owned(),
    };
    // Keep parameters the builder does not edit (e.g. the demo's tax rates).
    let existing = match state.forms.list_for(tenant.id).await {
        Ok(forms) => forms
            .into_iter()
            .find(|f| f.form.id == form_id && !f.owned)
            .and_then(|f| f.params),
        Err(e) => return internal(e),
    };
    let result = match input.params(existing) {
        Ok(params) => state
            .forms
            .activate(tenant.id, &form_id, &params, &who.actor())
            .await
            .map_err(BuilderError::Storage),
        Err(errors) => Err(BuilderError::Invalid(errors)),
    };
    match result {
        Ok(()) => redirect(&format!("{}?meldung=aktiviert", base(&tenant))),
        Err(BuilderError::Invalid(errors)) => {
            let mut page = match list_page(&state, &tenant, &who).await {
                Ok(p) => p,
                Err(e) => return internal(e),
            };
            page.errors = errors;
            page.error_in = Section::Activation;
            page.activation = Some(input);
            render::list(
                &state,
                &headers,
                &tenant,
                &page,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(BuilderError::Storage(e)) => storage(e),
    }
}

// ---------------------------------------------------------------------------------------------
// The editor

/// The form being edited.
struct Editing {
    tenant: Tenant,
    record: FormRecord,
    version: FormVersion,
    form: Form,
    /// Newest published version, if any.
    published: Option<i64>,
}

async fn editing(state: &AppState, tenant: Tenant, form_id: &str) -> Result<Editing, Response> {
    let (record, version) = package::owned(state, &tenant, form_id)
        .await
        .map_err(storage)?;
    let form = package::parse(&version).map_err(internal)?;
    let published = match state.forms.published_for(tenant.id, form_id).await {
        Ok(found) => found.map(|(_, v, _)| v.version),
        Err(e) => return Err(internal(e)),
    };
    Ok(Editing {
        tenant,
        record,
        version,
        form,
        published,
    })
}

impl Editing {
    fn page(&self) -> EditorPage<'_> {
        EditorPage {
            tenant: &self.tenant,
            record: &self.record,
            version: &self.version,
            form: &self.form,
            published: self.published,
            element: None,
            settings: SettingsInput::from_form(&self.form),
            add: AddInput::default(),
            errors: Vec::new(),
            error_in: Section::Top,
            message: None,
        }
    }
}

/// `GET /{slug}/verwaltung/formulare/{form_id}`
pub async fn editor(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    Query(q): Query<Show>,
) -> Response {
    let (tenant, _, _) = match scope(&state, &slug, &account.id, BUILDER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ed = match editing(&state, tenant, &form_id).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let mut page = ed.page();
    page.message = q.meldung.as_deref().and_then(message).map(str::to_owned);
    if let Some(path) = q.element.as_deref() {
        match edit::find(&ed.form, path) {
            Some(e) => page.element = Some(ElementInput::from_element(path, e)),
            None => {
                page.errors = vec!["Dieses Element gibt es nicht (mehr).".into()];
            }
        }
    }
    render::editor(&state, &headers, &page, StatusCode::OK)
}

/// What a change did, for the redirect.
struct Done {
    message: &'static str,
    element: Option<String>,
}

/// `POST /{slug}/verwaltung/formulare/{form_id}`: one change (`aktion`): `hinzufuegen`,
/// `element`, `hoch`, `runter`, `loeschen`, `einstellungen`.
pub async fn change(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let (tenant, _, who) = match scope(&state, &slug, &account.id, BUILDER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let p = Posted(pairs);
    if !csrf::verify(&headers, p.get(csrf::FIELD), &state.config.csrf_secret) {
        return expired();
    }
    let ed = match editing(&state, tenant, &form_id).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let action = p.get("aktion");
    let section = match action {
        "hinzufuegen" => Section::Add,
        "element" => Section::Element,
        "einstellungen" => Section::Settings,
        _ => Section::Top,
    };
    // The page shown again keeps what was entered.
    let again = |errors: Vec<String>, status: StatusCode| {
        let mut page = ed.page();
        page.errors = errors;
        page.error_in = section;
        match section {
            Section::Add => page.add = AddInput::from_posted(&p),
            Section::Element => page.element = Some(ElementInput::from_posted(&p)),
            Section::Settings => page.settings = SettingsInput::from_posted(&p, &ed.form),
            _ => {}
        }
        render::editor(&state, &headers, &page, status)
    };
    let posted = posted_base(&p);
    if posted != ed.version.base() {
        return again(vec![conflict_text()], StatusCode::CONFLICT);
    }
    let mut form = ed.form.clone();
    let done = match apply(&mut form, action, &p) {
        Ok(d) => d,
        Err(errors) => return again(errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    match package::save(&state, &ed.tenant, &form_id, posted, &form, &who.actor()).await {
        Ok(_) => {
            let mut to = format!("{}/{}?meldung={}", base(&ed.tenant), form_id, done.message);
            if let Some(path) = done.element {
                let q: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
                to.push_str(&format!("&element={q}#bearbeiten"));
            }
            redirect(&to)
        }
        Err(BuilderError::Invalid(errors)) => again(errors, StatusCode::UNPROCESSABLE_ENTITY),
        Err(BuilderError::Storage(
            StorageError::VersionMismatch { .. } | StorageError::Stale { .. },
        )) => again(vec![conflict_text()], StatusCode::CONFLICT),
        Err(BuilderError::Storage(e)) => storage(e),
    }
}

fn conflict_text() -> String {
    "Das Formular wurde inzwischen an anderer Stelle geändert (in einem anderen Fenster oder von einer anderen Person). \
     Ihre Änderung wurde nicht gespeichert, damit nichts überschrieben wird. Die Seite zeigt jetzt den aktuellen Stand; \
     bitte prüfen Sie ihn und wiederholen Sie Ihre Änderung."
        .into()
}

/// Applies one editor action to the model.
fn apply(form: &mut Form, action: &str, p: &Posted) -> Result<Done, Vec<String>> {
    let path = p.get("pfad");
    match action {
        "hinzufuegen" => {
            let add = AddInput::from_posted(p);
            let element = add.build(form)?;
            let path = edit::add(form, &add.parent, element).ok_or_else(|| {
                vec![
                    "Die gewählte Gruppe gibt es nicht mehr. Bitte laden Sie die Seite neu."
                        .to_owned(),
                ]
            })?;
            Ok(Done {
                message: "neu",
                element: Some(path),
            })
        }
        "element" => {
            ElementInput::from_posted(p).apply(form)?;
            Ok(Done {
                message: "gespeichert",
                element: Some(path.to_owned()),
            })
        }
        "hoch" | "runter" => {
            let by = if action == "hoch" { -1 } else { 1 };
            if !edit::shift(form, path, by) {
                return Err(vec![
                    "Das Element lässt sich nicht weiter in diese Richtung verschieben.".into(),
                ]);
            }
            Ok(Done {
                message: "verschoben",
                element: None,
            })
        }
        "loeschen" => {
            if !edit::delete(form, path) {
                return Err(vec!["Dieses Element gibt es nicht (mehr).".into()]);
            }
            Ok(Done {
                message: "geloescht",
                element: None,
            })
        }
        "einstellungen" => {
            SettingsInput::from_posted(p, form).apply(form)?;
            Ok(Done {
                message: "gespeichert",
                element: None,
            })
        }
        _ => Err(vec!["Unbekannte Aktion.".into()]),
    }
}

/// `POST /{slug}/verwaltung/formulare/{form_id}/veroeffentlichen`
pub async fn publish(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let (tenant, _, who) = match scope(&state, &slug, &account.id, BUILDER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let p = Posted(pairs);
    if !csrf::verify(&headers, p.get(csrf::FIELD), &state.config.csrf_secret) {
        return expired();
    }
    let ed = match editing(&state, tenant, &form_id).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let again = |errors: Vec<String>, status| {
        let mut page = ed.page();
        page.errors = errors;
        page.error_in = Section::Publish;
        render::editor(&state, &headers, &page, status)
    };
    let posted = posted_base(&p);
    if posted != ed.version.base() {
        return again(vec![conflict_text()], StatusCode::CONFLICT);
    }
    match package::publish(&state, &ed.tenant, &form_id, Some(posted), &who.actor()).await {
        Ok(_) => redirect(&format!(
            "{}/{}?meldung=veroeffentlicht",
            base(&ed.tenant),
            form_id
        )),
        Err(BuilderError::Invalid(errors)) => again(errors, StatusCode::UNPROCESSABLE_ENTITY),
        Err(BuilderError::Storage(StorageError::Conflict(m))) => {
            again(vec![m], StatusCode::CONFLICT)
        }
        Err(BuilderError::Storage(
            StorageError::VersionMismatch { .. } | StorageError::Stale { .. },
        )) => again(vec![conflict_text()], StatusCode::CONFLICT),
        Err(BuilderError::Storage(e)) => storage(e),
    }
}

/// `POST /{slug}/verwaltung/formulare/{form_id}/vorlage` (`anbieten=ja|nein`)
pub async fn template(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    headers: HeaderMap,
    SignedIn(_, account): SignedIn,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let (tenant, _, who) = match scope(&state, &slug, &account.id, BUILDER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let p = Posted(pairs);
    if !csrf::verify(&headers, p.get(csrf::FIELD), &state.config.csrf_secret) {
        return expired();
    }
    let on = p.get("anbieten") == "ja";
    match state
        .forms
        .set_template(tenant.id, &form_id, on, &who.actor())
        .await
    {
        Ok(()) => redirect(&format!(
            "{}/{}?meldung={}",
            base(&tenant),
            form_id,
            if on { "vorlage-an" } else { "vorlage-aus" }
        )),
        Err(e) => storage(e),
    }
}

/// `GET /{slug}/verwaltung/formulare/{form_id}/vorschau`: the current state (draft included)
/// as citizens will see it.
pub async fn preview(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    SignedIn(_, account): SignedIn,
) -> Response {
    let (tenant, _, _) = match scope(&state, &slug, &account.id, BUILDER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match editing(&state, tenant, &form_id).await {
        Ok(ed) => render::preview(&ed.tenant, &ed.record, &ed.version, &ed.form),
        Err(r) => r,
    }
}

/// `GET /{slug}/verwaltung/formulare/{form_id}/paket`: the package of the newest published
/// version as a download.
pub async fn export_package(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    SignedIn(_, account): SignedIn,
) -> Response {
    let (tenant, _, _) = match scope(&state, &slug, &account.id, BUILDER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match package::export(&state, &tenant, &form_id).await {
        Ok(pkg) => download(
            serde_json::to_string_pretty(&pkg).unwrap_or_default(),
            "application/json",
            &package::file_name(&format!("formular-{form_id}"), "json"),
        ),
        Err(StorageError::NotFound(_)) => error_page(
            StatusCode::NOT_FOUND,
            "Noch nicht veröffentlicht",
            "Ein Formularpaket enthält die neueste veröffentlichte Version. Bitte veröffentlichen Sie das Formular zuerst.",
        ),
        Err(e) => internal(e),
    }
}

/// `GET /{slug}/verwaltung/formulare/{form_id}/xdf3`: the current state as XDatenfelder 3.
pub async fn export_xdf3(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    SignedIn(_, account): SignedIn,
) -> Response {
    let (tenant, _, _) = match scope(&state, &slug, &account.id, BUILDER_ROLES).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match editing(&state, tenant, &form_id).await {
        Ok(ed) => download(
            rathaus_forms::export_xdf3(&ed.form),
            "application/xml; charset=utf-8",
            &package::file_name(&format!("{}.xdf3", ed.form.id), "xml"),
        ),
        Err(r) => r,
    }
}

fn download(body: String, content_type: &'static str, disposition: &str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(content_type),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}
