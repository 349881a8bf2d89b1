//! Filling in a form: one page per step (`?schritt=N`) or all steps on one page
//! (`?ansicht=alle`), a draft saved after every page (to the account, or to an anonymous browser
//! cookie), a summary, the binding submission and the receipt (Eingangsbestätigung).

use super::fields::{self, Upload, View};
use super::posted::{self, Posted};
use super::{Loaded, load, receipt_token};
use crate::csrf;
use crate::html::layout::{Chrome, error_page, page};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use maud::html;
use rathaus_forms::{Element, Form, Prefill, Step};
use rathaus_identity::accounts::{Account, Session};
use rathaus_storage::StorageError;
use rathaus_storage::forms::{Attachment, Draft, DraftOwner, NewSubmission};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Cookie of an anonymous browser's drafts.
const DRAFT_COOKIE: &str = "rathaus_antrag";

/// Who fills in the form.
enum Filler {
    /// Signed in to the Servicekonto.
    Account(Box<(Session, Account)>),
    /// Anonymous: the hash of the draft cookie, and the cookie to set if it is new.
    Anonymous(String, Option<HeaderValue>),
}

impl Filler {
    fn owner(&self) -> DraftOwner<'_> {
        match self {
            Filler::Account(b) => DraftOwner::Account(&b.1.id),
            Filler::Anonymous(key, _) => DraftOwner::Anonymous(key),
        }
    }

    fn set_cookie(&self) -> Option<HeaderValue> {
        match self {
            Filler::Anonymous(_, c) => c.clone(),
            Filler::Account(_) => None,
        }
    }

    fn actor(&self) -> String {
        match self {
            Filler::Account(b) => format!("account:{}", b.1.id),
            Filler::Anonymous(..) => "anonymous".into(),
        }
    }
}

async fn filler(state: &AppState, headers: &HeaderMap, create: bool) -> Option<Filler> {
    if let Some(pair) = crate::identity::current(state, headers).await {
        return Some(Filler::Account(Box::new(pair)));
    }
    if let Some(token) = csrf::cookie(headers, DRAFT_COOKIE) {
        return Some(Filler::Anonymous(hash(&token), None));
    }
    if !create {
        return None;
    }
    let mut raw = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let cookie = format!(
        "{DRAFT_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000{}",
        if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    Some(Filler::Anonymous(
        hash(&token),
        HeaderValue::from_str(&cookie).ok(),
    ))
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "form page failed");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Technischer Fehler",
        "Die Seite kann gerade nicht angezeigt werden. Ihre bisherigen Angaben sind gespeichert. Bitte versuchen Sie es später erneut.",
    )
}

/// Query of a form page.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    schritt: Option<usize>,
    ansicht: Option<String>,
    hinweis: Option<String>,
}

/// The required trust level is missing: a page that explains and links to the login.
fn level_gate(loaded: &Loaded, filler: Option<&Filler>) -> Option<Response> {
    let required = loaded.form.trust_level?;
    let have = match filler {
        Some(Filler::Account(b)) => Some(b.0.level.as_str().to_owned()),
        _ => None,
    };
    let enough = have
        .as_deref()
        .is_some_and(|acr| level_rank(acr) >= required as u8);
    if enough {
        return None;
    }
    let back = format!("/{}/formulare/{}", loaded.tenant.slug, loaded.record.id);
    let target: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
    let (title, text) = match required {
        rathaus_forms::TrustLevel::Low => (
            "Anmeldung erforderlich",
            "Für diesen Antrag melden Sie sich bitte mit Ihrem Servicekonto an.",
        ),
        _ => (
            "Höheres Vertrauensniveau erforderlich",
            "Für diesen Antrag brauchen Sie eine Anmeldung mit zweitem Faktor oder mit dem Online-Ausweis (Vertrauensniveau substanziell oder hoch).",
        ),
    };
    let chrome = Chrome::tenant(&loaded.tenant);
    let body = page(
        &chrome,
        title,
        html! {
            h1 { (loaded.form.title) }
            p { (text) }
            p { a class="button" href={ "/anmelden?weiter=" (target) } { "Mit Servicekonto anmelden" } }
        },
    );
    Some((StatusCode::UNAUTHORIZED, Html(body.into_string())).into_response())
}

/// Rank of an `acr` value: low 0, substantial 1, high 2.
fn level_rank(acr: &str) -> u8 {
    if acr.ends_with("high") {
        2
    } else if acr.ends_with("substantial") {
        1
    } else {
        0
    }
}

/// Data to start a draft with: defaults and, for a signed-in account, its profile data in the
/// fields marked for prefill.
fn initial_data(form: &Form, account: Option<&Account>) -> Value {
    fn fill(elements: &[Element], account: Option<&Account>, out: &mut Map<String, Value>) {
        for e in elements {
            match e {
                Element::Group(g) if !e.is_repeated() => {
                    let mut obj = Map::new();
                    fill(&g.children, account, &mut obj);
                    if !obj.is_empty() {
                        out.insert(g.id.clone(), Value::Object(obj));
                    }
                }
                Element::Field(f) if !e.is_repeated() => {
                    let from_profile = account.and_then(|a| {
                        let p = &a.profile;
                        match f.prefill? {
                            Prefill::GivenName => p.given_name.clone(),
                            Prefill::FamilyName => p.family_name.clone(),
                            Prefill::Birthdate => p.birthdate.clone(),
                            Prefill::Street => p.address.street.clone(),
                            Prefill::PostalCode => p.address.postal_code.clone(),
                            Prefill::Locality => p.address.locality.clone(),
                            Prefill::Country => p.address.country.clone(),
                            Prefill::Email => Some(a.email.clone()),
                            Prefill::HouseNumber | Prefill::Phone => None,
                        }
                    });
                    let value = from_profile.or_else(|| {
                        (f.kind != rathaus_forms::FieldKind::Label)
                            .then(|| f.content.clone())
                            .flatten()
                    });
                    if let Some(v) = value.and_then(|v| posted::typed(f, &v)) {
                        out.insert(f.id.clone(), v);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Map::new();
    fill(&form.elements, account, &mut out);
    Value::Object(out)
}

/// The draft of this filler for the form, moved to the current version if it was started on
/// an older one (data of elements that no longer exist is dropped; the page says so).
async fn current_draft(
    state: &AppState,
    loaded: &Loaded,
    filler: &Filler,
) -> Result<Option<(Draft, bool)>, StorageError> {
    let Some(mut draft) = state
        .submissions
        .draft_for_form(loaded.tenant.id, &loaded.record.id, filler.owner())
        .await?
    else {
        return Ok(None);
    };
    if draft.form_version == loaded.version.version {
        return Ok(Some((draft, false)));
    }
    draft.data = keep_known(&loaded.form.elements, &draft.data);
    draft.form_version = loaded.version.version;
    draft.version = state
        .submissions
        .save_draft(loaded.tenant.id, &draft, filler.owner())
        .await?;
    Ok(Some((draft, true)))
}

/// The part of `data` that the elements still describe.
fn keep_known(elements: &[Element], data: &Value) -> Value {
    let Some(obj) = data.as_object() else {
        return Value::Object(Map::new());
    };
    let mut out = Map::new();
    for e in elements {
        let Some(v) = obj.get(e.id()) else { continue };
        let kept = match e {
            Element::Group(g) => match v {
                Value::Array(items) => {
                    Value::Array(items.iter().map(|i| keep_known(&g.children, i)).collect())
                }
                other => keep_known(&g.children, other),
            },
            Element::Field(_) => v.clone(),
        };
        out.insert(e.id().to_owned(), kept);
    }
    Value::Object(out)
}

/// The top-level elements of a step.
pub(super) fn step_elements<'a>(form: &'a Form, step: &Step) -> Vec<&'a Element> {
    step.elements
        .iter()
        .filter_map(|id| form.elements.iter().find(|e| e.id() == id))
        .collect()
}

/// Errors of the whole data by path (only the first message per path).
fn errors_of(form: &Form, data: &Value) -> BTreeMap<String, String> {
    let mut pruned = data.clone();
    posted::prune(&mut pruned);
    let mut out = BTreeMap::new();
    if let Err(errors) = rathaus_forms::validate(form, &pruned) {
        for e in errors {
            out.entry(e.field).or_insert(e.message);
        }
    }
    out
}

/// Errors that belong to the given top-level elements.
fn errors_within(
    all: &BTreeMap<String, String>,
    elements: &[&Element],
) -> BTreeMap<String, String> {
    all.iter()
        .filter(|(path, _)| {
            let top = path.split(['/', '[']).next().unwrap_or_default();
            elements.iter().any(|e| e.id() == top)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

async fn uploads(
    state: &AppState,
    loaded: &Loaded,
    draft: Option<&Draft>,
) -> BTreeMap<String, Upload> {
    let Some(draft) = draft else {
        return BTreeMap::new();
    };
    state
        .submissions
        .draft_attachments(loaded.tenant.id, &draft.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|a| {
            (
                a.id.clone(),
                Upload {
                    id: a.id,
                    name: a.file_name,
                    size: a.size,
                },
            )
        })
        .collect()
}

/// GET of a form page.
pub async fn show(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let loaded = match load(&state, &slug, &form_id).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let who = filler(&state, &headers, false).await;
    if let Some(r) = level_gate(&loaded, who.as_ref()) {
        return r;
    }
    let draft = match &who {
        Some(f) => match current_draft(&state, &loaded, f).await {
            Ok(d) => d,
            Err(e) => return internal(e),
        },
        None => None,
    };
    let migrated = draft.as_ref().is_some_and(|(_, m)| *m);
    let draft = draft.map(|(d, _)| d);
    let data = match &draft {
        Some(d) => d.data.clone(),
        None => initial_data(
            &loaded.form,
            match &who {
                Some(Filler::Account(b)) => Some(&b.1),
                _ => None,
            },
        ),
    };
    let uploads = uploads(&state, &loaded, draft.as_ref()).await;
    let all = q.ansicht.as_deref() == Some("alle");
    let steps = loaded.form.effective_steps();
    let step = q.schritt.unwrap_or(1).clamp(1, steps.len().max(1)) - 1;
    // Errors are shown when the page comes back from a failed "Weiter" (hinweis=fehler).
    let errors = if q.hinweis.as_deref() == Some("fehler") {
        let all_errors = errors_of(&loaded.form, &data);
        if all {
            all_errors
        } else {
            steps
                .get(step)
                .map(|s| errors_within(&all_errors, &step_elements(&loaded.form, s)))
                .unwrap_or_default()
        }
    } else {
        BTreeMap::new()
    };
    let notice = if migrated {
        Some(
            "Das Formular wurde geändert, seit Sie mit dem Ausfüllen begonnen haben. Ihre Angaben wurden übernommen; bitte prüfen Sie sie.",
        )
    } else if q.hinweis.as_deref() == Some("gespeichert") {
        Some(match &who {
            Some(Filler::Account(_)) => {
                "Ihre Angaben sind gespeichert. Sie finden den Entwurf auch später in Ihrem Servicekonto."
            }
            _ => {
                "Ihre Angaben sind in diesem Browser gespeichert. Sie können später hier weitermachen."
            }
        })
    } else {
        None
    };
    render_page(
        &state,
        &loaded,
        &headers,
        &data,
        &errors,
        &uploads,
        if all { None } else { Some(step) },
        notice,
        who.and_then(|w| w.set_cookie()),
    )
}

#[allow(clippy::too_many_arguments)]
fn render_page(
    state: &AppState,
    loaded: &Loaded,
    headers: &HeaderMap,
    data: &Value,
    errors: &BTreeMap<String, String>,
    uploads: &BTreeMap<String, Upload>,
    step: Option<usize>,
    notice: Option<&str>,
    set_cookie: Option<HeaderValue>,
) -> Response {
    let (token, csrf_cookie) = csrf::token(
        headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let form = &loaded.form;
    let steps = form.effective_steps();
    let base = format!("/{}/formulare/{}", loaded.tenant.slug, loaded.record.id);
    let view = View { errors, uploads };
    let title = match step {
        Some(i) => format!("{} – Schritt {} von {}", form.title, i + 1, steps.len()),
        None => format!("{} – alle Angaben", form.title),
    };
    let chrome = Chrome::tenant(&loaded.tenant)
        .crumb("Formulare", format!("/{}/formulare", loaded.tenant.slug))
        .crumb(form.title.clone(), base.clone());
    let fee = loaded
        .params
        .get("gebuehr_hinweis")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| form.fee.as_ref().map(|f| f.hint.clone()));
    let office = loaded.params.get("dienststelle").and_then(Value::as_str);
    let body = page(
        &chrome,
        &title,
        html! {
            h1 { (form.title) }
            @if let Some(d) = &form.description { p class="einleitung" { (d) } }
            @if let Some(o) = office { p { "Zuständig: " (o) } }
            @if let Some(f) = &fee { p class="gebuehr" { strong { "Kosten: " } (f) } }
            @if let Some(n) = notice { div class="hinweisbox" role="status" { p { (n) } } }
            @if !errors.is_empty() {
                div class="fehlerliste" role="alert" aria-labelledby="fehler-titel" tabindex="-1" {
                    h2 id="fehler-titel" { "Bitte prüfen Sie Ihre Angaben" }
                    ul {
                        @for (path, message) in errors {
                            li { a href={ "#" (fields::input_id(path)) } { (message) } }
                        }
                    }
                }
            }
            @if let Some(i) = step {
                nav aria-label="Schritte des Antrags" class="schritte" {
                    ol {
                        @for (n, s) in steps.iter().enumerate() {
                            @if n == i {
                                li aria-current="step" { strong { (s.title) } }
                            } @else {
                                li { a href={ (base) "?schritt=" (n + 1) } { (s.title) } }
                            }
                        }
                        li { a href={ (base) "/pruefen" } { "Zusammenfassung" } }
                    }
                }
                p { a href={ (base) "?ansicht=alle" } { "Alle Schritte auf einer Seite anzeigen (auch zum Drucken)" } }
            } @else {
                p { a href={ (base) "?schritt=1" } { "Schrittweise ausfüllen" } }
            }
            p class="hinweis" { "Pflichtangaben sind mit * gekennzeichnet." }
            form method="post" action=(base) enctype="multipart/form-data" novalidate {
                input type="hidden" name=(csrf::FIELD) value=(token);
                // Enter in a field submits the form's first button: make that "Weiter", not the
                // buttons that add or remove repetitions.
                button type="submit" name="aktion" value="weiter" hidden tabindex="-1" { "Weiter" }
                @match step {
                    Some(i) => {
                        input type="hidden" name="schritt" value=(i + 1);
                        @if let Some(s) = steps.get(i) {
                            h2 { (s.title) }
                            (fields::elements(&step_elements(form, s), "", Some(data), &view))
                        }
                    }
                    None => {
                        input type="hidden" name="schritt" value="alle";
                        @for s in &steps {
                            section class="schritt" {
                                h2 { (s.title) }
                                (fields::elements(&step_elements(form, s), "", Some(data), &view))
                            }
                        }
                    }
                }
                div class="aktionen" {
                    @if step.is_some_and(|i| i > 0) {
                        button type="submit" class="zweitrangig" name="aktion" value="zurueck" formnovalidate { "Zurück" }
                    }
                    button type="submit" name="aktion" value="weiter" { "Weiter" }
                    button type="submit" class="zweitrangig" name="aktion" value="speichern" formnovalidate { "Zwischenspeichern" }
                }
            }
            script src="/assets/bedingungen.js" defer {}
        },
    );
    let mut res = Html(body.into_string()).into_response();
    for c in [csrf_cookie, set_cookie].into_iter().flatten() {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// An uploaded file of a post.
struct PostedFile {
    path: String,
    name: String,
    bytes: Bytes,
}

/// Reads a multipart post: text values, files (each refused above the field's limit), or a
/// German message for the page.
async fn read_post(
    mut multipart: Multipart,
    form: &Form,
    max_file: usize,
) -> Result<(Posted, Vec<PostedFile>, BTreeMap<String, String>), String> {
    let mut values = Posted::new();
    let mut files = Vec::new();
    let mut refused = BTreeMap::new();
    loop {
        let next = multipart.next_field().await;
        let mut field = match next {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(format!(
                    "Die Übertragung ist unvollständig oder zu groß ({}).",
                    e.body_text()
                ));
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(path) = name.strip_prefix("datei:") {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            if file_name.is_empty() {
                continue;
            }
            let limit = match posted::element_at(form, path) {
                Some(Element::Field(f)) => {
                    f.max_size.map_or(max_file, |m| (m as usize).min(max_file))
                }
                _ => continue,
            };
            let mut buf = Vec::new();
            let mut too_big = false;
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if buf.len() + chunk.len() > limit {
                            too_big = true;
                            // Drain the rest without keeping it.
                            while let Ok(Some(_)) = field.chunk().await {}
                            break;
                        }
                        buf.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        return Err(format!(
                            "Die Datei wurde nicht vollständig übertragen ({}).",
                            e.body_text()
                        ));
                    }
                }
            }
            if too_big {
                refused.insert(
                    path.to_owned(),
                    format!(
                        "Die Datei „{file_name}“ ist zu groß: höchstens {} erlaubt.",
                        fields::kib(limit as i64)
                    ),
                );
                continue;
            }
            files.push(PostedFile {
                path: path.to_owned(),
                name: file_name,
                bytes: Bytes::from(buf),
            });
        } else {
            let text = match field.text().await {
                Ok(t) => t,
                Err(e) => {
                    return Err(format!(
                        "Die Übertragung ist unvollständig ({}).",
                        e.body_text()
                    ));
                }
            };
            if text.len() > 100_000 {
                return Err("Eine Eingabe ist zu lang.".into());
            }
            values.entry(name).or_default().push(text);
        }
    }
    Ok((values, files, refused))
}

/// Media type of an upload, from its first bytes (the browser's claim is not trusted).
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some("image/tiff")
    } else if bytes.starts_with(b"<?xml") {
        Some("application/xml")
    } else {
        None
    }
}

/// Media types allowed when a field names none.
const DEFAULT_MEDIA_TYPES: &[&str] = &["application/pdf", "image/jpeg", "image/png"];

/// Checks and stores an upload; the attachment, or a German message.
async fn store_upload(
    state: &AppState,
    loaded: &Loaded,
    draft: &Draft,
    file: &PostedFile,
) -> Result<Attachment, String> {
    let allowed: Vec<String> = match posted::element_at(&loaded.form, &file.path) {
        Some(Element::Field(f)) if !f.media_types.is_empty() => f.media_types.clone(),
        _ => DEFAULT_MEDIA_TYPES
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    };
    let Some(kind) = sniff(&file.bytes) else {
        return Err(format!(
            "Die Datei „{}“ hat kein erlaubtes Format (erlaubt: {}).",
            file.name,
            allowed.join(", ")
        ));
    };
    if !allowed
        .iter()
        .any(|a| a == kind || (a.ends_with("/*") && kind.starts_with(a.trim_end_matches('*'))))
    {
        return Err(format!(
            "Die Datei „{}“ ist vom Typ {kind}; erlaubt: {}.",
            file.name,
            allowed.join(", ")
        ));
    }
    if let Some(scanner) = &state.virus_scanner
        && let Err(found) = scanner.scan(&file.bytes).await
    {
        tracing::warn!(tenant = %loaded.tenant.slug, "upload refused by the virus scanner");
        return Err(format!(
            "Die Datei „{}“ wurde nicht angenommen: {found}",
            file.name
        ));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let key = format!("uploads/{}/{}", loaded.tenant.id, id);
    if let Err(e) = state.blobs.put(&key, file.bytes.clone()).await {
        tracing::error!(error = %e, "upload not stored");
        return Err(
            "Die Datei konnte nicht gespeichert werden. Bitte versuchen Sie es erneut.".into(),
        );
    }
    let attachment = Attachment {
        id,
        field_path: file.path.clone(),
        file_name: file
            .name
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect(),
        content_type: kind.to_owned(),
        size: file.bytes.len() as i64,
        sha256: hex::encode(Sha256::digest(&file.bytes)),
        blob_key: key,
    };
    if let Err(e) = state
        .submissions
        .add_draft_attachment(loaded.tenant.id, &draft.id, &attachment)
        .await
    {
        tracing::error!(error = %e, "upload not recorded");
        return Err(
            "Die Datei konnte nicht gespeichert werden. Bitte versuchen Sie es erneut.".into(),
        );
    }
    Ok(attachment)
}

/// POST of a form page: saves what was entered, then goes on, back, or shows the errors.
pub async fn save(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let loaded = match load(&state, &slug, &form_id).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let Some(who) = filler(&state, &headers, true).await else {
        return internal("no filler");
    };
    if let Some(r) = level_gate(&loaded, Some(&who)) {
        return r;
    }
    let (values, files, mut upload_errors) =
        match read_post(multipart, &loaded.form, state.config.max_upload_bytes).await {
            Ok(v) => v,
            Err(message) => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "Übertragung fehlgeschlagen",
                    &message,
                );
            }
        };
    let submitted_csrf = values
        .get(csrf::FIELD)
        .and_then(|v| v.first())
        .map(String::as_str)
        .unwrap_or_default();
    if !csrf::verify(&headers, submitted_csrf, &state.config.csrf_secret) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Sitzung abgelaufen",
            "Das Formular war zu lange geöffnet oder Cookies sind gesperrt. Bitte laden Sie die Seite neu; gespeicherte Angaben bleiben erhalten.",
        );
    }
    let draft = match current_draft(&state, &loaded, &who).await {
        Ok(Some((d, _))) => d,
        Ok(None) => {
            let initial = initial_data(
                &loaded.form,
                match &who {
                    Filler::Account(b) => Some(&b.1),
                    Filler::Anonymous(..) => None,
                },
            );
            match state
                .submissions
                .create_draft(
                    loaded.tenant.id,
                    &loaded.record.id,
                    loaded.version.version,
                    who.owner(),
                    &initial,
                )
                .await
            {
                Ok(d) => d,
                Err(e) => return internal(e),
            }
        }
        Err(e) => return internal(e),
    };
    let steps = loaded.form.effective_steps();
    let step_value = values
        .get("schritt")
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_default();
    let all = step_value == "alle";
    let step = step_value
        .parse::<usize>()
        .unwrap_or(1)
        .clamp(1, steps.len().max(1))
        - 1;
    let shown: Vec<&Element> = if all {
        loaded.form.elements.iter().collect()
    } else {
        steps
            .get(step)
            .map(|s| step_elements(&loaded.form, s))
            .unwrap_or_default()
    };
    let mut data = draft.data.clone();
    if !data.is_object() {
        data = Value::Object(Map::new());
    }
    if let Value::Object(obj) = &mut data {
        posted::merge(&shown, "", &values, obj);
    }
    // New uploads: checked, stored, then their attachment id is the field's value.
    for file in &files {
        match store_upload(&state, &loaded, &draft, file).await {
            Ok(a) => {
                if let Some(slot) = posted::slot(&mut data, &file.path, true) {
                    *slot = Value::String(a.id);
                }
            }
            Err(message) => {
                upload_errors.insert(file.path.clone(), message);
            }
        }
    }
    let action = values
        .get("aktion")
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_else(|| "weiter".into());
    if let Some(path) = action.strip_prefix("datei-entfernen:") {
        if let Some(Value::String(id)) = posted::slot(&mut data, path, false).map(|v| v.take())
            && let Ok(Some(key)) = state
                .submissions
                .remove_draft_attachment(loaded.tenant.id, &draft.id, &id)
                .await
        {
            let _ = state.blobs.delete(&key).await;
        }
        posted::prune(&mut data);
    } else {
        posted::apply_repetition(&loaded.form, &mut data, &action);
    }
    let next_step = match action.as_str() {
        "weiter" if !all => (step + 1).min(steps.len()),
        "zurueck" => step.saturating_sub(1),
        _ => step,
    };
    let mut saved = draft.clone();
    saved.data = data.clone();
    saved.step = next_step as i64;
    if let Err(e) = state
        .submissions
        .save_draft(loaded.tenant.id, &saved, who.owner())
        .await
    {
        return match e {
            StorageError::VersionMismatch { .. } => error_page(
                StatusCode::CONFLICT,
                "In einem anderen Fenster geändert",
                "Dieser Antrag wurde inzwischen in einem anderen Fenster oder auf einem anderen Gerät bearbeitet. Bitte laden Sie die Seite neu.",
            ),
            other => internal(other),
        };
    }
    let base = format!("/{}/formulare/{}", loaded.tenant.slug, loaded.record.id);
    let here = if all {
        format!("{base}?ansicht=alle")
    } else {
        format!("{base}?schritt={}", step + 1)
    };
    let uploads = uploads(&state, &loaded, Some(&saved)).await;
    if !upload_errors.is_empty() {
        let set_cookie = who.set_cookie();
        let mut res = render_page(
            &state,
            &loaded,
            &headers,
            &data,
            &upload_errors,
            &uploads,
            (!all).then_some(step),
            None,
            set_cookie,
        );
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return res;
    }
    let redirect_to = match action.as_str() {
        "weiter" => {
            let all_errors = errors_of(&loaded.form, &data);
            let errors = errors_within(&all_errors, &shown);
            if !errors.is_empty() {
                let mut res = render_page(
                    &state,
                    &loaded,
                    &headers,
                    &data,
                    &errors,
                    &uploads,
                    (!all).then_some(step),
                    None,
                    who.set_cookie(),
                );
                *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                return res;
            }
            if all || step + 1 >= steps.len() {
                format!("{base}/pruefen")
            } else {
                format!("{base}?schritt={}", step + 2)
            }
        }
        "zurueck" => format!("{base}?schritt={}", step.max(1)),
        "speichern" => format!("{here}&hinweis=gespeichert"),
        a if a.starts_with("plus:")
            || a.starts_with("minus:")
            || a.starts_with("datei-entfernen:") =>
        {
            let anchor = a
                .split_once(':')
                .map(|(_, p)| fields::input_id(p))
                .unwrap_or_default();
            format!("{here}#{anchor}")
        }
        _ => here,
    };
    let mut res = Redirect::to(&redirect_to).into_response();
    if let Some(c) = who.set_cookie() {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// The summary before the binding submission.
pub async fn review(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let loaded = match load(&state, &slug, &form_id).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let base = format!("/{}/formulare/{}", loaded.tenant.slug, loaded.record.id);
    let Some(who) = filler(&state, &headers, false).await else {
        return Redirect::to(&base).into_response();
    };
    if let Some(r) = level_gate(&loaded, Some(&who)) {
        return r;
    }
    let draft = match current_draft(&state, &loaded, &who).await {
        Ok(Some((d, _))) => d,
        Ok(None) => return Redirect::to(&base).into_response(),
        Err(e) => return internal(e),
    };
    let errors = errors_of(&loaded.form, &draft.data);
    if let Some(first) = errors.keys().next() {
        let steps = loaded.form.effective_steps();
        let top = first.split(['/', '[']).next().unwrap_or_default();
        let n = steps
            .iter()
            .position(|s| s.elements.iter().any(|e| e == top))
            .unwrap_or(0);
        return Redirect::to(&format!("{base}?schritt={}&hinweis=fehler", n + 1)).into_response();
    }
    let uploads = uploads(&state, &loaded, Some(&draft)).await;
    let (token, csrf_cookie) = csrf::token(
        &headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let chrome = Chrome::tenant(&loaded.tenant)
        .crumb("Formulare", format!("/{}/formulare", loaded.tenant.slug))
        .crumb(loaded.form.title.clone(), base.clone());
    let mut data = draft.data.clone();
    posted::prune(&mut data);
    let body = page(
        &chrome,
        &format!("{} – Zusammenfassung", loaded.form.title),
        html! {
            h1 { (loaded.form.title) }
            h2 { "Zusammenfassung Ihrer Angaben" }
            p { "Bitte prüfen Sie Ihre Angaben. Mit „Verbindlich absenden“ geht der Antrag an " (loaded.tenant.branding.display_name) "." }
            @for (i, s) in loaded.form.effective_steps().iter().enumerate() {
                section class="schritt" {
                    h3 { (s.title) }
                    (fields::summary(&step_elements(&loaded.form, s), Some(&data), &uploads))
                    p { a href={ (base) "?schritt=" (i + 1) } { "Angaben zu „" (s.title) "“ ändern" } }
                }
            }
            (tax_estimate(&loaded, &data))
            form method="post" action={ (base) "/absenden" } {
                input type="hidden" name=(csrf::FIELD) value=(token);
                input type="hidden" name="entwurf" value=(draft.id);
                button type="submit" { "Verbindlich absenden" }
            }
        },
    );
    let mut res = Html(body.into_string()).into_response();
    if let Some(c) = csrf_cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The summary page's post.
#[derive(Deserialize)]
pub struct SubmitForm {
    csrf: String,
    entwurf: String,
}

/// The binding submission: validated again, stored once (the draft id is the idempotency key,
/// so a double click sends one application), then the receipt.
pub async fn submit(
    State(state): State<AppState>,
    Path((slug, form_id)): Path<(String, String)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Form(input): axum::Form<SubmitForm>,
) -> Response {
    let loaded = match load(&state, &slug, &form_id).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    if !csrf::verify(&headers, &input.csrf, &state.config.csrf_secret) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Sitzung abgelaufen",
            "Bitte laden Sie die Zusammenfassung neu und senden Sie erneut.",
        );
    }
    let base = format!("/{}/formulare/{}", loaded.tenant.slug, loaded.record.id);
    let Some(who) = filler(&state, &headers, false).await else {
        return Redirect::to(&base).into_response();
    };
    if let Some(r) = level_gate(&loaded, Some(&who)) {
        return r;
    }
    let key = format!("entwurf:{}", input.entwurf);
    let draft = match state
        .submissions
        .draft(loaded.tenant.id, &input.entwurf, who.owner())
        .await
    {
        Ok(d) => d,
        Err(e) => return internal(e),
    };
    let Some(draft) = draft else {
        // Sent already (second click) — show the receipt of that submission — or unknown.
        return match state
            .submissions
            .by_idempotency_key(loaded.tenant.id, &loaded.record.id, &key)
            .await
        {
            Ok(Some(s)) if owns(&who, &s) => {
                Redirect::to(&receipt_url(&state, &base, &s.id)).into_response()
            }
            Ok(_) => Redirect::to(&base).into_response(),
            Err(e) => internal(e),
        };
    };
    if matches!(who, Filler::Anonymous(..))
        && let Some(wait) =
            crate::ratelimit::refused(state.submission_limiter.as_ref(), &headers, peer)
    {
        let res = error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Zu viele Anträge",
            "Von Ihrem Anschluss kamen gerade sehr viele Anträge ohne Servicekonto. Ihre Angaben sind gespeichert: Bitte warten Sie eine Minute und senden Sie dann erneut.",
        );
        return crate::ratelimit::with_retry_after(res, wait);
    }
    let mut data = draft.data.clone();
    posted::prune(&mut data);
    if !errors_of(&loaded.form, &data).is_empty() || draft.form_version != loaded.version.version {
        return Redirect::to(&format!("{base}/pruefen")).into_response();
    }
    let actor = who.actor();
    let account_id = match &who {
        Filler::Account(b) => Some(b.1.id.as_str()),
        Filler::Anonymous(..) => None,
    };
    let result = state
        .submissions
        .create(&NewSubmission {
            tenant: loaded.tenant.id,
            form_id: &loaded.record.id,
            form_version: loaded.version.version,
            account_id,
            idempotency_key: Some(&key),
            data: &data,
            draft_id: Some(&draft.id),
            actor: &actor,
        })
        .await;
    match result {
        Ok((s, _)) => {
            let mut res = Redirect::to(&receipt_url(&state, &base, &s.id)).into_response();
            if let Filler::Anonymous(..) = who {
                // The receipt link carries its own token; nothing else to remember.
                res.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            res
        }
        Err(e) => internal(e),
    }
}

fn owns(who: &Filler, s: &rathaus_storage::forms::Submission) -> bool {
    match who {
        Filler::Account(b) => s.account_id.as_deref() == Some(b.1.id.as_str()),
        Filler::Anonymous(..) => s.account_id.is_none(),
    }
}

fn receipt_url(state: &AppState, base: &str, id: &str) -> String {
    format!("{base}/eingang/{id}?t={}", receipt_token(state, id))
}

/// Query of the receipt page.
#[derive(Deserialize, Default)]
pub struct ReceiptQuery {
    t: Option<String>,
}

/// What a receipt shows, loaded after checking access.
pub(super) struct ReceiptData {
    pub loaded: Loaded,
    pub submission: rathaus_storage::forms::Submission,
    pub form: std::sync::Arc<Form>,
    pub uploads: BTreeMap<String, Upload>,
}

/// Loads a receipt for the sender's account, or with the token of the link; else the error page.
async fn receipt_data(
    state: &AppState,
    (slug, form_id, id): (String, String, String),
    token: Option<&str>,
    headers: &HeaderMap,
) -> Result<ReceiptData, Response> {
    let loaded = load(state, &slug, &form_id).await?;
    let submission = match state.submissions.get(loaded.tenant.id, &id).await {
        Ok(Some(s)) if s.form_id == loaded.record.id => s,
        Ok(_) => {
            return Err(error_page(
                StatusCode::NOT_FOUND,
                "Nicht gefunden",
                "Diese Eingangsbestätigung gibt es nicht.",
            ));
        }
        Err(e) => return Err(internal(e)),
    };
    let by_token = token.is_some_and(|t| super::token_matches(state, &id, t));
    let by_account = match crate::identity::current(state, headers).await {
        Some((_, account)) => submission.account_id.as_deref() == Some(account.id.as_str()),
        None => false,
    };
    if !by_token && !by_account {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "Kein Zugriff",
            "Die Eingangsbestätigung ist nur über den Link nach dem Absenden oder im Servicekonto abrufbar.",
        ));
    }
    let form = state
        .form_definition(loaded.tenant.id, &loaded.record.id, submission.form_version)
        .await?;
    let attachments = state
        .submissions
        .attachments(loaded.tenant.id, &submission.id)
        .await
        .unwrap_or_default();
    let uploads: BTreeMap<String, Upload> = attachments
        .into_iter()
        .map(|a| {
            (
                a.id.clone(),
                Upload {
                    id: a.id,
                    name: a.file_name,
                    size: a.size,
                },
            )
        })
        .collect();
    Ok(ReceiptData {
        loaded,
        submission,
        form,
        uploads,
    })
}

/// The receipt (Eingangsbestätigung): for the sender's account, or with the token of the link.
pub async fn receipt(
    State(state): State<AppState>,
    Path(path): Path<(String, String, String)>,
    Query(q): Query<ReceiptQuery>,
    headers: HeaderMap,
) -> Response {
    let ReceiptData {
        loaded,
        submission,
        form,
        uploads,
    } = match receipt_data(&state, path, q.t.as_deref(), &headers).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let pdf_link = match &q.t {
        Some(t) => format!(
            "/{}/formulare/{}/eingang/{}/pdf?t={t}",
            loaded.tenant.slug, loaded.record.id, submission.id
        ),
        None => format!(
            "/{}/formulare/{}/eingang/{}/pdf",
            loaded.tenant.slug, loaded.record.id, submission.id
        ),
    };
    let chrome = Chrome::tenant(&loaded.tenant);
    let received = rathaus_core::time::display_de(&submission.created_at);
    let body = page(
        &chrome,
        "Eingangsbestätigung",
        html! {
            h1 { "Eingangsbestätigung" }
            div class="hinweisbox erfolg" role="status" {
                p { "Ihr Antrag „" (form.title) "“ ist am " (received) " bei " (loaded.tenant.branding.display_name) " eingegangen." }
                p { "Aktenzeichen für Rückfragen: " strong { (submission.reference) } }
            }
            p { a href=(pdf_link) download { "Eingangsbestätigung als PDF herunterladen" } }
            @if let Some(o) = loaded.params.get("dienststelle").and_then(Value::as_str) { p { "Zuständige Stelle: " (o) } }
            h2 { "Ihre Angaben" }
            @for s in form.effective_steps() {
                section class="schritt" {
                    h3 { (s.title) }
                    (fields::summary(&step_elements(&form, &s), Some(&submission.data), &uploads))
                }
            }
            (tax_estimate(&loaded, &submission.data))
            p { "Bitte bewahren Sie diese Bestätigung auf (als PDF oder ausgedruckt)." }
        },
    );
    let mut res = Html(body.into_string()).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The receipt as PDF (tagged, accessible), with the same access as the HTML receipt.
pub async fn receipt_pdf(
    State(state): State<AppState>,
    Path(path): Path<(String, String, String)>,
    Query(q): Query<ReceiptQuery>,
    headers: HeaderMap,
) -> Response {
    let data = match receipt_data(&state, path, q.t.as_deref(), &headers).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let doc = super::receipt_pdf::document(&data);
    let reference = data.submission.reference.clone();
    match tokio::task::spawn_blocking(move || rathaus_pdf::render(&doc)).await {
        Ok(Ok(bytes)) => {
            crate::html::pdf_response(bytes, &format!("Eingangsbestaetigung-{reference}.pdf"))
        }
        Ok(Err(e)) => crate::html::internal_error(e),
        Err(e) => crate::html::internal_error(e),
    }
}

/// For the reference service Hundesteuer: the annual tax the entered dogs lead to under the
/// tenant's rates (parameter `hundesteuer_saetze`). `None` for other forms.
pub(super) fn tax_of(
    loaded: &Loaded,
    data: &Value,
) -> Option<rathaus_forms::hundesteuer::TaxEstimate> {
    use rathaus_forms::hundesteuer::{HUNDESTEUER_ID, TaxRates, estimate_tax};
    if loaded.form.id != HUNDESTEUER_ID {
        return None;
    }
    estimate_tax(data, TaxRates::from_params(&loaded.params)?)
}

/// [`tax_of`] as a table (empty for other forms).
fn tax_estimate(loaded: &Loaded, data: &Value) -> maud::Markup {
    use rathaus_forms::hundesteuer::euro;
    let Some(e) = tax_of(loaded, data) else {
        return html! {};
    };
    html! {
        section class="steuer" aria-labelledby="steuer-titel" {
            h2 id="steuer-titel" { "Voraussichtliche Hundesteuer" }
            table class="data" {
                caption { (TAX_CAPTION) " " (loaded.tenant.branding.display_name) }
                thead { tr { th scope="col" { "Hund" } th scope="col" { "Art" } th scope="col" class="zahl" { "Steuer pro Jahr" } } }
                tbody {
                    @for l in &e.lines {
                        tr {
                            th scope="row" { (l.name) }
                            td { (l.kind) @if l.exemption_requested { " (Befreiung beantragt)" } }
                            td class="zahl" { (euro(l.cents)) }
                        }
                    }
                }
                tfoot { tr { th scope="row" colspan="2" { "Summe pro Jahr" } td class="zahl" { strong { (euro(e.total_cents)) } } } }
            }
            p { (TAX_NOTE) }
        }
    }
}

/// Caption of the tax table (followed by the tenant's name).
pub(super) const TAX_CAPTION: &str = "Jahresbetrag nach der Hundesteuersatzung von";
/// What the estimate means.
pub(super) const TAX_NOTE: &str = "Die Gemeinde setzt die Steuer per Bescheid fest; über eine beantragte Befreiung entscheidet sie dabei.";
