//! The builder's pages (maud): the list with new form, import and templates of other tenants,
//! the editor, and the preview.

use super::edit::{self, KINDS, MEDIA_TYPES, PREFILLS};
use super::inputs::{ElementInput, Posted, SettingsInput};
use crate::csrf;
use crate::forms::fields::{self, Upload, View};
use crate::html::layout::{Chrome, page};
use crate::state::AppState;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use rathaus_core::Tenant;
use rathaus_core::staff::StaffPrincipal;
use rathaus_forms::{Element, Field, FieldKind, Form};
use rathaus_storage::forms::{FormRecord, FormVersion, TenantForm};
use std::collections::BTreeMap;

/// Where an error happened (its box is shown there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Top,
    New,
    Import,
    Fim,
    Activation,
    Add,
    Element,
    Settings,
    Publish,
}

/// The list page.
pub struct ListPage {
    pub forms: Vec<TenantForm>,
    pub templates: Vec<FormRecord>,
    /// Tenant names by id.
    pub owner_names: BTreeMap<String, String>,
    pub who: StaffPrincipal,
    pub message: Option<String>,
    pub errors: Vec<String>,
    pub error_in: Section,
    pub new_title: String,
    /// The activation form as entered (after an error).
    pub activation: Option<ActivationInput>,
}

/// The parameters of a template activation as entered.
#[derive(Clone, Debug, Default)]
pub struct ActivationInput {
    pub form_id: String,
    pub office: String,
    pub fee_hint: String,
    pub target: String,
    pub logo: String,
}

impl ActivationInput {
    fn from_params(form_id: &str, params: Option<&serde_json::Value>) -> Self {
        let get = |k: &str| {
            params
                .and_then(|p| p.get(k))
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Self {
            form_id: form_id.to_owned(),
            office: get("dienststelle"),
            fee_hint: get("gebuehr_hinweis"),
            target: get("ziel"),
            logo: get("logo"),
        }
    }

    /// The params JSON on top of the `existing` ones (other keys are kept); German messages for
    /// bad entries.
    pub fn params(
        &self,
        existing: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, Vec<String>> {
        let mut errors = Vec::new();
        if self.office.trim().is_empty() {
            errors.push("Bitte geben Sie die zuständige Dienststelle an.".to_owned());
        }
        let logo = self.logo.trim();
        if !(logo.is_empty() || logo.starts_with("https://") || logo.starts_with('/')) {
            errors.push(
                "Die Logo-Adresse muss mit https:// beginnen (oder ein Pfad dieser Plattform sein)."
                    .to_owned(),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut params = match existing {
            Some(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        for (k, v) in [
            ("dienststelle", &self.office),
            ("gebuehr_hinweis", &self.fee_hint),
            ("ziel", &self.target),
            ("logo", &self.logo),
        ] {
            if v.trim().is_empty() {
                params.remove(k);
            } else {
                params.insert(k.into(), serde_json::Value::String(v.trim().to_owned()));
            }
        }
        Ok(serde_json::Value::Object(params))
    }
}

/// The "add an element" form as entered.
#[derive(Clone, Debug, Default)]
pub struct AddInput {
    /// Path of the group to add into (`""` = top level).
    pub parent: String,
    pub kind: String,
    pub label: String,
    pub values: String,
}

impl AddInput {
    pub fn from_posted(p: &Posted) -> Self {
        Self {
            parent: p.get("ziel").to_owned(),
            kind: p.get("art").to_owned(),
            label: p.get("bezeichnung").to_owned(),
            values: p.get("werte").to_owned(),
        }
    }

    /// The new element.
    pub fn build(&self, form: &Form) -> Result<Element, Vec<String>> {
        let label = self.label.trim();
        if label.is_empty() && self.kind != "adresse" {
            return Err(vec!["Bitte geben Sie eine Bezeichnung an.".into()]);
        }
        Ok(match self.kind.as_str() {
            "gruppe" => Element::Group(edit::new_group(form, label)),
            "adresse" => {
                let mut g = edit::address_group(form);
                if !label.is_empty() {
                    g.label = label.to_owned();
                    g.name = label.to_owned();
                }
                Element::Group(g)
            }
            kind if KINDS.iter().any(|(k, _)| *k == kind) => {
                let mut f = edit::new_field(edit::new_id(form, 'F'), label, kind);
                if kind == "auswahl" {
                    let values = edit::parse_values(&self.values);
                    if values.is_empty() {
                        return Err(vec![
                            "Bitte geben Sie die Auswahlwerte an, eine Zeile je Wert: code=Bezeichnung.".into(),
                        ]);
                    }
                    if let Some(cl) = f.code_list.as_mut() {
                        cl.values = values;
                    }
                }
                Element::Field(f)
            }
            _ => {
                return Err(vec![
                    "Bitte wählen Sie, was hinzugefügt werden soll.".into(),
                ]);
            }
        })
    }
}

/// The editor page.
pub struct EditorPage<'a> {
    pub tenant: &'a Tenant,
    pub record: &'a FormRecord,
    pub version: &'a FormVersion,
    pub form: &'a Form,
    pub published: Option<i64>,
    pub element: Option<ElementInput>,
    pub settings: SettingsInput,
    pub add: AddInput,
    pub errors: Vec<String>,
    pub error_in: Section,
    pub message: Option<String>,
}

fn respond(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    title: &str,
    chrome: &Chrome<'_>,
    body: impl FnOnce(&str) -> Markup,
) -> Response {
    let (token, set_cookie) = csrf::token(
        headers,
        &state.config.csrf_secret,
        state.config.secure_cookies,
    );
    let content = body(&token);
    let mut res = (status, Html(page(chrome, title, content).into_string())).into_response();
    if let Some(c) = set_cookie {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// The error box of a section (id `fehler-<section>`), if the errors belong there.
fn errors_box(errors: &[String], here: bool, id: &str) -> Markup {
    html! {
        @if here && !errors.is_empty() {
            div class="fehler" role="alert" id=(id) tabindex="-1" {
                p { strong { "Nicht gespeichert. Bitte prüfen Sie:" } }
                ul { @for e in errors { li { (e) } } }
            }
        }
    }
}

/// `aria-describedby`/`aria-invalid` of the first input of a section with errors.
fn described(here: bool, id: &str) -> (Option<String>, Option<&'static str>) {
    if here {
        (Some(id.to_owned()), Some("true"))
    } else {
        (None, None)
    }
}

fn status_text(f: &TenantForm) -> String {
    match (f.published_version, f.latest_version) {
        (None, v) => format!("Entwurf (Version {v})"),
        (Some(p), v) if v > p => {
            format!("veröffentlicht Version {p}, Entwurf Version {v} in Arbeit")
        }
        (Some(p), _) => format!("veröffentlicht Version {p}"),
    }
}

/// The list of forms.
pub fn list(
    state: &AppState,
    headers: &HeaderMap,
    tenant: &Tenant,
    p: &ListPage,
    status: StatusCode,
) -> Response {
    let base = format!("/{}/verwaltung/formulare", tenant.slug);
    let chrome = Chrome::tenant(tenant)
        .crumb("Verwaltung", format!("/{}/verwaltung", tenant.slug))
        .crumb("Formulare", base.clone());
    respond(state, headers, status, "Formulare", &chrome, |token| {
        let (new_desc, new_invalid) = described(p.error_in == Section::New, "fehler-neu");
        let (imp_desc, imp_invalid) = described(p.error_in == Section::Import, "fehler-import");
        html! {
            h1 { "Formulare" }
            p { "Angemeldet als " strong { (p.who.login) } " (" (p.who.role.as_str()) ", " (p.who.office) ")." }
            @if let Some(m) = &p.message { div class="notice" role="status" { p { (m) } } }
            @if p.forms.is_empty() {
                p { "Ihre Kommune hat noch keine Online-Formulare." }
            } @else {
                table class="data" {
                    caption { "Formulare Ihrer Kommune" }
                    thead { tr {
                        th scope="col" { "Titel" } th scope="col" { "Herkunft" } th scope="col" { "Status" }
                        th scope="col" { "Aktionen" }
                    } }
                    tbody {
                        @for f in &p.forms {
                            tr {
                                td { (f.form.title) }
                                td {
                                    @if f.owned {
                                        "Eigenes Formular"
                                        @if f.form.template { " (als Vorlage für alle Kommunen angeboten)" }
                                    } @else {
                                        "Vorlage von " (p.owner_names.get(&f.form.owner_tenant_id).map_or("einer anderen Kommune", String::as_str))
                                    }
                                }
                                td { (status_text(f)) }
                                td {
                                    ul class="actions" {
                                        @if f.owned {
                                            li { a href={ (base) "/" (f.form.id) } { "Bearbeiten" span class="visually-hidden" { ": " (f.form.title) } } }
                                        }
                                        @if f.published_version.is_some() {
                                            li { a href={ "/" (tenant.slug) "/formulare/" (f.form.id) } { "Öffentliche Seite ansehen" span class="visually-hidden" { ": " (f.form.title) } } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 id="neu" { "Neues Formular" }
            (errors_box(&p.errors, p.error_in == Section::New, "fehler-neu"))
            form method="post" action=(base) class="form" novalidate {
                input type="hidden" name=(csrf::FIELD) value=(token);
                div class="field" {
                    label for="titel" { "Titel des Formulars" }
                    input id="titel" name="titel" type="text" value=(p.new_title) required
                        aria-describedby=[new_desc] aria-invalid=[new_invalid];
                }
                button type="submit" class="button" { "Neues Formular anlegen" }
            }
            h2 id="import" { "Formularpaket importieren" }
            p class="hint" { "Ein Formularpaket (JSON, Format rathaus-formular/1) wird als neuer Entwurf Ihrer Kommune übernommen." }
            (errors_box(&p.errors, p.error_in == Section::Import, "fehler-import"))
            form method="post" action={ (base) "/paket-import" } enctype="multipart/form-data" class="form" novalidate {
                input type="hidden" name=(csrf::FIELD) value=(token);
                div class="field" {
                    label for="paket" { "Paketdatei (JSON)" }
                    input id="paket" name="paket" type="file" accept="application/json,.json"
                        aria-describedby=[imp_desc] aria-invalid=[imp_invalid];
                }
                button type="submit" class="button" { "Paket importieren" }
            }
            h2 id="fim" { "FIM-Datenfeldschema importieren" }
            p class="hint" id="fim-hinweis" { "Ein Stammdatenschema aus dem FIM-Baukasten (XDatenfelder 2 oder 3.0.0, XML) wird als veröffentlichtes Formular Ihrer Kommune übernommen; eine neue Fassung desselben Schemas wird eine neue Version. Codelisten (genericode) können Sie mit hochladen; fehlende Codelisten werden zu Freitextfeldern und als Warnung genannt." }
            (errors_box(&p.errors, p.error_in == Section::Fim, "fehler-fim"))
            form method="post" action={ (base) "/fim-import" } enctype="multipart/form-data" class="form" novalidate {
                input type="hidden" name=(csrf::FIELD) value=(token);
                div class="field" {
                    label for="fim-schema" { "Schemadatei (XML)" }
                    input id="fim-schema" name="schema" type="file" accept="application/xml,text/xml,.xml"
                        aria-describedby=[if p.error_in == Section::Fim { Some("fim-hinweis fehler-fim") } else { Some("fim-hinweis") }]
                        aria-invalid=[(p.error_in == Section::Fim).then_some("true")];
                }
                div class="field" {
                    label for="fim-codelisten" { "Codelisten (genericode, optional, mehrere möglich)" }
                    input id="fim-codelisten" name="codelisten" type="file" multiple accept="application/xml,text/xml,.xml";
                }
                button type="submit" class="button" { "Schema importieren" }
            }
            h2 id="vorlagen" { "Vorlagen anderer Kommunen" }
            @if p.templates.is_empty() {
                p { "Zurzeit bieten andere Kommunen keine Formulare als Vorlage an." }
            } @else {
                p class="hint" { "Einer für Alle: Sie nutzen das Formular der anderen Kommune (immer in deren neuester veröffentlichter Version) mit Ihren eigenen Angaben. Es wird nicht kopiert." }
                @for t in &p.templates {
                    (template_item(&base, token, p, t))
                }
            }
        }
    })
}

fn template_item(base: &str, token: &str, p: &ListPage, t: &FormRecord) -> Markup {
    let active = p.forms.iter().find(|f| f.form.id == t.id && !f.owned);
    let input = match &p.activation {
        Some(a) if a.form_id == t.id => a.clone(),
        _ => ActivationInput::from_params(&t.id, active.and_then(|f| f.params.as_ref())),
    };
    let here = p.error_in == Section::Activation
        && p.activation.as_ref().is_some_and(|a| a.form_id == t.id);
    let err_id = format!("fehler-aktivieren-{}", t.id);
    let (desc, invalid) = described(here, &err_id);
    let id = |name: &str| format!("{name}-{}", t.id);
    html! {
        section class="card" aria-labelledby=(id("vorlage")) {
            h3 id=(id("vorlage")) { (t.title) }
            p {
                "Angeboten von " (p.owner_names.get(&t.owner_tenant_id).map_or("einer anderen Kommune", String::as_str)) ". "
                @if active.is_some() { strong { "Für Ihre Kommune aktiviert." } } @else { "Noch nicht aktiviert." }
            }
            (errors_box(&p.errors, here, &err_id))
            form method="post" action={ (base) "/" (t.id) "/aktivieren" } class="form" novalidate {
                input type="hidden" name=(csrf::FIELD) value=(token);
                div class="field" {
                    label for=(id("dienststelle")) { "Zuständige Dienststelle" }
                    input id=(id("dienststelle")) name="dienststelle" type="text" value=(input.office)
                        aria-describedby=[desc.as_deref()] aria-invalid=[invalid];
                }
                div class="field" {
                    label for=(id("gebuehr")) { "Gebührenhinweis (optional)" }
                    input id=(id("gebuehr")) name="gebuehr_hinweis" type="text" value=(input.fee_hint);
                }
                div class="field" {
                    label for=(id("ziel")) { "Ziel-Postfach oder E-Mail-Adresse für Anträge (optional)" }
                    input id=(id("ziel")) name="ziel" type="text" value=(input.target);
                }
                div class="field" {
                    label for=(id("logo")) { "Adresse eines Logos (optional, https://…)" }
                    input id=(id("logo")) name="logo" type="text" value=(input.logo);
                }
                button type="submit" class="button" {
                    @if active.is_some() { "Angaben speichern" } @else { "Für meine Kommune aktivieren" }
                    span class="visually-hidden" { ": " (t.title) }
                }
            }
        }
    }
}

/// Hidden fields every editor form carries.
fn hidden(token: &str, p: &EditorPage<'_>, action: &str) -> Markup {
    html! {
        input type="hidden" name=(csrf::FIELD) value=(token);
        input type="hidden" name="version" value=(p.version.version);
        input type="hidden" name="stand" value=(p.version.revision);
        input type="hidden" name="aktion" value=(action);
    }
}

/// A short description of an element for the tree.
fn summary(e: &Element) -> String {
    let mut parts = Vec::new();
    match e {
        Element::Group(_) => parts.push("Gruppe".to_owned()),
        Element::Field(f) if f.kind == FieldKind::Label => parts.push("Hinweistext".to_owned()),
        Element::Field(f) => parts.push(edit::kind_of(f).map_or_else(
            || format!("Typ {}", f.datatype.code()),
            |k| edit::kind_label(k).to_owned(),
        )),
    }
    if e.has_data() {
        parts.push(if e.min() >= 1 { "Pflicht" } else { "optional" }.to_owned());
    }
    match e.max() {
        Some(0) | Some(1) => {}
        Some(n) => parts.push(format!("bis zu {n}-mal")),
        None => parts.push("beliebig oft".to_owned()),
    }
    if let Some(c) = e.condition() {
        parts.push(format!("nur wenn {} = {}", c.field, c.equals));
    }
    parts.join(", ")
}

fn tree(token: &str, p: &EditorPage<'_>, list: &[Element], prefix: &str) -> Markup {
    let base = format!("/{}/verwaltung/formulare/{}", p.tenant.slug, p.record.id);
    html! {
        ol class="baum" {
            @for (i, e) in list.iter().enumerate() {
                @let path = edit::join(prefix, e.id());
                li {
                    strong { (if e.label().is_empty() { e.id() } else { e.label() }) }
                    " " span class="hint" { "(" (summary(e)) "; Kennung " (e.id()) ")" }
                    div class="actions" {
                        a href={ (base) "?element=" (path) "#bearbeiten" } { "Bearbeiten" span class="visually-hidden" { ": " (e.label()) } }
                        @if i > 0 {
                            form method="post" action=(base) {
                                (hidden(token, p, "hoch"))
                                input type="hidden" name="pfad" value=(path);
                                button type="submit" { "Nach oben" span class="visually-hidden" { ": " (e.label()) } }
                            }
                        }
                        @if i + 1 < list.len() {
                            form method="post" action=(base) {
                                (hidden(token, p, "runter"))
                                input type="hidden" name="pfad" value=(path);
                                button type="submit" { "Nach unten" span class="visually-hidden" { ": " (e.label()) } }
                            }
                        }
                        form method="post" action=(base) {
                            (hidden(token, p, "loeschen"))
                            input type="hidden" name="pfad" value=(path);
                            button type="submit" { "Löschen" span class="visually-hidden" { ": " (e.label()) } }
                        }
                    }
                    @if let Element::Group(g) = e {
                        (tree(token, p, &g.children, &path))
                    }
                }
            }
        }
    }
}

fn text_input(id: &str, name: &str, label: &str, value: &str, hint: Option<&str>) -> Markup {
    let hint_id = format!("{id}-hinweis");
    html! {
        div class="field" {
            label for=(id) { (label) }
            @if let Some(h) = hint { p class="hint" id=(hint_id) { (h) } }
            input id=(id) name=(name) type="text" value=(value) aria-describedby=[hint.map(|_| hint_id.as_str())];
        }
    }
}

fn radios(name: &str, legend: &str, options: &[(&str, &str)], checked: &str) -> Markup {
    html! {
        fieldset class="field" {
            legend { (legend) }
            @for (value, label) in options {
                @let id = format!("{name}-{value}");
                div class="choice" {
                    input type="radio" id=(id) name=(name) value=(value) checked[*value == checked];
                    label for=(id) { (label) }
                }
            }
        }
    }
}

fn element_panel(token: &str, p: &EditorPage<'_>, input: &ElementInput) -> Markup {
    let base = format!("/{}/verwaltung/formulare/{}", p.tenant.slug, p.record.id);
    let here = p.error_in == Section::Element;
    let (desc, invalid) = described(here, "fehler-element");
    let siblings: Vec<&Field> = edit::siblings(p.form, &input.path)
        .iter()
        .filter_map(|e| match e {
            Element::Field(f)
                if f.id != input.path.rsplit('/').next().unwrap_or_default()
                    && f.kind != FieldKind::Label =>
            {
                Some(f)
            }
            _ => None,
        })
        .collect();
    let is_field = !input.group;
    let imported_kind = is_field && input.kind.is_empty();
    html! {
        h2 id="bearbeiten" tabindex="-1" { "Element bearbeiten: " (input.label) }
        (errors_box(&p.errors, here, "fehler-element"))
        form method="post" action=(base) class="form" novalidate {
            (hidden(token, p, "element"))
            input type="hidden" name="pfad" value=(input.path);
            input type="hidden" name="gruppe" value=(if input.group { "ja" } else { "nein" });
            div class="field" {
                label for="el-bezeichnung" { "Bezeichnung (wie sie Bürgerinnen und Bürger sehen)" }
                input id="el-bezeichnung" name="bezeichnung" type="text" value=(input.label)
                    aria-describedby=[desc.as_deref()] aria-invalid=[invalid];
            }
            div class="field" {
                label for="el-hilfe" { "Hilfetext (optional)" }
                textarea id="el-hilfe" name="hilfe" rows="2" { (input.help) }
            }
            (radios("pflicht", "Angabe erforderlich?", &[("ja", "Pflichtangabe"), ("nein", "Optional")], if input.required { "ja" } else { "nein" }))
            (radios("wiederholung", "Wie oft kann die Angabe gemacht werden?", &[("einmal", "Einmal"), ("mehrfach", "Mehrfach, höchstens so oft wie unten angegeben"), ("unbegrenzt", "Beliebig oft")], &input.repeat))
            (text_input("el-hoechstanzahl", "hoechstanzahl", "Höchstanzahl (bei „Mehrfach“)", &input.max_count, None))
            @if is_field {
                div class="field" {
                    label for="el-art" { "Feldtyp" }
                    select id="el-art" name="art" {
                        @if imported_kind { option value="" selected { "Unverändert (importierter Typ)" } }
                        @for (k, l) in KINDS.iter().filter(|(k, _)| *k != "adresse") {
                            option value=(k) selected[input.kind == *k] { (l) }
                        }
                    }
                }
                fieldset class="field" {
                    legend { "Einschränkungen (optional)" }
                    (text_input("el-min-laenge", "min_laenge", "Mindestlänge (Zeichen, bei Text)", &input.min_length, None))
                    (text_input("el-max-laenge", "max_laenge", "Höchstlänge (Zeichen, bei Text; über 255 = mehrzeilig)", &input.max_length, None))
                    (text_input("el-min-wert", "min_wert", "Mindestwert (bei Zahl, Betrag oder Datum)", &input.min_value, None))
                    (text_input("el-max-wert", "max_wert", "Höchstwert (bei Zahl, Betrag oder Datum)", &input.max_value, None))
                    (text_input("el-muster", "muster", "Muster (regulärer Ausdruck, bei Text)", &input.pattern, Some("Der ganze Wert muss passen, z. B. [0-9]{5} für eine Postleitzahl.")))
                }
                div class="field" {
                    label for="el-werte" { "Auswahlwerte (bei „Auswahl aus Liste“)" }
                    p class="hint" id="el-werte-hinweis" { "Eine Zeile je Wert im Format code=Bezeichnung, z. B. ja=Ja." }
                    textarea id="el-werte" name="werte" rows="5" aria-describedby="el-werte-hinweis" { (input.values) }
                }
                fieldset class="field" {
                    legend { "Erlaubte Dateitypen (bei „Datei-Upload“)" }
                    @for (m, l) in MEDIA_TYPES {
                        @let id = format!("el-typ-{l}");
                        div class="choice" {
                            input type="checkbox" id=(id) name="dateityp" value=(m) checked[input.media.iter().any(|x| x == m)];
                            label for=(id) { (l) }
                        }
                    }
                }
                (text_input("el-max-mb", "max_mb", "Höchstgröße einer Datei in MB (bei „Datei-Upload“)", &input.max_mb, None))
                div class="field" {
                    label for="el-vorbelegung" { "Vorbelegung aus dem Servicekonto" }
                    select id="el-vorbelegung" name="vorbelegung" {
                        option value="" selected[input.prefill.is_empty()] { "Keine" }
                        @for (_, k, l) in PREFILLS {
                            option value=(k) selected[input.prefill == k] { (l) }
                        }
                    }
                }
            }
            fieldset class="field" {
                legend { "Nur anzeigen, wenn …" }
                div class="field" {
                    label for="el-bedingung-feld" { "Feld derselben Ebene" }
                    select id="el-bedingung-feld" name="bedingung_feld" {
                        option value="" selected[input.cond_field.is_empty()] { "Immer anzeigen" }
                        @for f in &siblings {
                            option value=(f.id) selected[input.cond_field == f.id] { (f.label) " (" (f.id) ")" }
                        }
                    }
                }
                (text_input("el-bedingung-wert", "bedingung_wert", "… diesen Wert hat", &input.cond_value, Some("Bei Ja/Nein-Feldern „ja“ oder „nein“, bei Auswahlfeldern der Code.")))
            }
            button type="submit" class="button" { "Element speichern" }
        }
        p { a href=(base) { "Bearbeitung schließen" } }
    }
}

fn add_panel(token: &str, p: &EditorPage<'_>) -> Markup {
    let base = format!("/{}/verwaltung/formulare/{}", p.tenant.slug, p.record.id);
    let here = p.error_in == Section::Add;
    let (desc, invalid) = described(here, "fehler-neu");
    let a = &p.add;
    html! {
        h2 id="hinzufuegen" { "Element hinzufügen" }
        (errors_box(&p.errors, here, "fehler-neu"))
        form method="post" action=(base) class="form" novalidate {
            (hidden(token, p, "hinzufuegen"))
            div class="field" {
                label for="neu-art" { "Art" }
                select id="neu-art" name="art" {
                    option value="gruppe" selected[a.kind == "gruppe"] { "Gruppe" }
                    @for (k, l) in KINDS {
                        option value=(k) selected[a.kind == k] { (l) }
                    }
                }
            }
            div class="field" {
                label for="neu-bezeichnung" { "Bezeichnung" }
                input id="neu-bezeichnung" name="bezeichnung" type="text" value=(a.label)
                    aria-describedby=[desc.as_deref()] aria-invalid=[invalid];
            }
            div class="field" {
                label for="neu-ziel" { "Einfügen in" }
                select id="neu-ziel" name="ziel" {
                    option value="" selected[a.parent.is_empty()] { "Oberste Ebene" }
                    @for (path, label) in edit::groups(p.form) {
                        option value=(path) selected[a.parent == path] { "Gruppe „" (label) "“" }
                    }
                }
            }
            div class="field" {
                label for="neu-werte" { "Auswahlwerte (nur bei „Auswahl aus Liste“)" }
                p class="hint" id="neu-werte-hinweis" { "Eine Zeile je Wert im Format code=Bezeichnung." }
                textarea id="neu-werte" name="werte" rows="4" aria-describedby="neu-werte-hinweis" { (a.values) }
            }
            button type="submit" class="button" { "Hinzufügen" }
        }
    }
}

fn settings_panel(token: &str, p: &EditorPage<'_>) -> Markup {
    let base = format!("/{}/verwaltung/formulare/{}", p.tenant.slug, p.record.id);
    let here = p.error_in == Section::Settings;
    let (desc, invalid) = described(here, "fehler-einstellungen");
    let s = &p.settings;
    let n = p.form.elements.len().max(1);
    html! {
        h2 id="einstellungen" { "Einstellungen des Formulars" }
        (errors_box(&p.errors, here, "fehler-einstellungen"))
        form method="post" action=(base) class="form" novalidate {
            (hidden(token, p, "einstellungen"))
            div class="field" {
                label for="titel" { "Titel" }
                input id="titel" name="titel" type="text" value=(s.title) aria-describedby=[desc.as_deref()] aria-invalid=[invalid];
            }
            div class="field" {
                label for="beschreibung" { "Beschreibung (optional)" }
                textarea id="beschreibung" name="beschreibung" rows="3" { (s.description) }
            }
            (text_input("gebuehr-betrag", "gebuehr_betrag", "Gebühr in Euro (optional)", &s.fee_amount, Some("Zum Beispiel 12,50. Leer lassen, wenn keine feste Gebühr anfällt.")))
            (text_input("gebuehr-hinweis", "gebuehr_hinweis", "Hinweis zu den Kosten (optional)", &s.fee_hint, None))
            div class="field" {
                label for="rechtsgrundlage" { "Rechtsgrundlage (optional)" }
                p class="hint" id="rechtsgrundlage-hinweis" { "Die Handlungsgrundlage, z. B. „§ 18 StrWG NRW i. V. m. der Sondernutzungssatzung“. Der Export nach XDatenfelder 3 verlangt sie; eine Zeile je Grundlage." }
                textarea id="rechtsgrundlage" name="rechtsgrundlage" rows="2" aria-describedby="rechtsgrundlage-hinweis" { (s.legal_basis) }
            }
            (radios("vertrauensniveau", "Erforderliche Anmeldung (Vertrauensniveau)", &[("keins", "Keine Anmeldung nötig"), ("niedrig", "Niedrig (Servicekonto)"), ("substanziell", "Substanziell"), ("hoch", "Hoch (Online-Ausweis)")], &s.trust))
            fieldset class="field" {
                legend { "Seiten" }
                div class="choice" {
                    input type="radio" id="seiten-standard" name="seiten" value="standard" checked[s.default_pages];
                    label for="seiten-standard" { "Automatisch: eine Seite je Gruppe der obersten Ebene" }
                }
                div class="choice" {
                    input type="radio" id="seiten-eigene" name="seiten" value="eigene" checked[!s.default_pages];
                    label for="seiten-eigene" { "Eigene Aufteilung wie unten angegeben" }
                }
                @for (id, page_no) in &s.page_of {
                    @let label = p.form.elements.iter().find(|e| e.id() == id).map_or(id.as_str(), |e| e.label());
                    div class="field" {
                        label for={ "seite-" (id) } { "Seite für „" (label) "“" }
                        select id={ "seite-" (id) } name={ "seite:" (id) } {
                            @for k in 1..=n {
                                option value=(k) selected[*page_no == k.to_string()] { "Seite " (k) }
                            }
                        }
                    }
                }
                @for k in 1..=n {
                    (text_input(&format!("seitentitel-{k}"), &format!("seitentitel:{k}"), &format!("Titel von Seite {k}"), s.page_titles.get(k - 1).map_or("", String::as_str), None))
                }
            }
            button type="submit" class="button" { "Einstellungen speichern" }
        }
    }
}

/// The editor.
pub fn editor(
    state: &AppState,
    headers: &HeaderMap,
    p: &EditorPage<'_>,
    status: StatusCode,
) -> Response {
    let list = format!("/{}/verwaltung/formulare", p.tenant.slug);
    let base = format!("{list}/{}", p.record.id);
    let chrome = Chrome::tenant(p.tenant)
        .crumb("Verwaltung", format!("/{}/verwaltung", p.tenant.slug))
        .crumb("Formulare", list.clone())
        .crumb(p.form.title.clone(), base.clone());
    let title = format!("Formular bearbeiten: {}", p.form.title);
    let is_draft = !p.version.published;
    respond(state, headers, status, &title, &chrome, |token| {
        html! {
            h1 { (title) }
            p {
                "Version " (p.version.version) ": "
                @if is_draft { strong { "Entwurf" } } @else { strong { "veröffentlicht" } " (Änderungen legen automatisch einen neuen Entwurf an)" }
                @if let Some(v) = p.published.filter(|v| *v != p.version.version) { "; veröffentlicht ist Version " (v) }
                "."
            }
            ul class="actions" {
                li { a href={ (base) "/vorschau" } { "Vorschau des aktuellen Stands" } }
                @if p.published.is_some() {
                    li { a href={ "/" (p.tenant.slug) "/formulare/" (p.record.id) } { "Öffentliche Seite" } }
                    li { a href={ (base) "/paket" } { "Formularpaket herunterladen (JSON)" } }
                }
                li { a href={ (base) "/xdf3" } { "Export als XDatenfelder 3 (XML)" } }
            }
            @if p.form.fim.legal_basis.is_none() {
                p class="hint" { "Hinweis: Für einen fehlerfreien Export nach XDatenfelder 3 geben Sie bitte in den Einstellungen die Rechtsgrundlage an." }
            }
            @if let Some(m) = &p.message { div class="notice" role="status" { p { (m) } } }
            (errors_box(&p.errors, p.error_in == Section::Top, "fehler"))
            h2 { "Aufbau" }
            @if p.form.elements.is_empty() {
                p { "Das Formular enthält noch keine Elemente." }
            } @else {
                (tree(token, p, &p.form.elements, ""))
            }
            @if let Some(input) = &p.element {
                (element_panel(token, p, input))
            }
            (add_panel(token, p))
            (settings_panel(token, p))
            h2 id="veroeffentlichen" { "Veröffentlichen" }
            (errors_box(&p.errors, p.error_in == Section::Publish, "fehler-veroeffentlichen"))
            @if is_draft {
                p { "Veröffentlichte Versionen bleiben unverändert; Anträge werden immer gegen die Version gestellt, mit der sie begonnen wurden." }
                form method="post" action={ (base) "/veroeffentlichen" } {
                    (hidden(token, p, "veroeffentlichen"))
                    button type="submit" class="button" { "Veröffentlichen" }
                }
            } @else {
                p { "Diese Version ist veröffentlicht." }
            }
            @if p.published.is_some() {
                h2 { "Einer für Alle" }
                @if p.record.template {
                    p { "Das Formular wird allen Kommunen als Vorlage angeboten." }
                } @else {
                    p { "Andere Kommunen können das Formular mit ihren eigenen Angaben (Dienststelle, Gebühren) nutzen, ohne es zu kopieren." }
                }
                form method="post" action={ (base) "/vorlage" } {
                    input type="hidden" name=(csrf::FIELD) value=(token);
                    input type="hidden" name="anbieten" value=(if p.record.template { "nein" } else { "ja" });
                    button type="submit" class="button" {
                        @if p.record.template { "Nicht mehr als Vorlage anbieten" } @else { "Als Vorlage für alle Kommunen anbieten" }
                    }
                }
            }
        }
    })
}

/// The preview of the current state with the citizen form renderer (nothing is sent).
pub fn preview(
    tenant: &Tenant,
    record: &FormRecord,
    version: &FormVersion,
    form: &Form,
) -> Response {
    let base = format!("/{}/verwaltung/formulare/{}", tenant.slug, record.id);
    let chrome = Chrome::tenant(tenant)
        .crumb("Verwaltung", format!("/{}/verwaltung", tenant.slug))
        .crumb(
            "Formulare",
            format!("/{}/verwaltung/formulare", tenant.slug),
        )
        .crumb(form.title.clone(), base.clone());
    let errors = BTreeMap::new();
    let uploads: BTreeMap<String, Upload> = BTreeMap::new();
    let view = View {
        errors: &errors,
        uploads: &uploads,
    };
    let title = format!("Vorschau: {}", form.title);
    let content = html! {
        h1 { (title) }
        div class="notice" role="status" {
            p { "Vorschau von Version " (version.version) (if version.published { " (veröffentlicht)" } else { " (Entwurf)" }) ". Eingaben werden hier nicht gespeichert." }
        }
        p { a href=(base) { "Zurück zum Editor" } }
        @if let Some(d) = &form.description { p class="einleitung" { (d) } }
        @if let Some(f) = &form.fee { p class="gebuehr" { strong { "Kosten: " } (f.hint) } }
        div class="vorschau" {
            @for s in form.effective_steps() {
                @let list: Vec<&Element> = s.elements.iter().filter_map(|id| form.elements.iter().find(|e| e.id() == id)).collect();
                section class="schritt" {
                    h2 { (s.title) }
                    (fields::elements(&list, "", None, &view))
                }
            }
        }
    };
    Html(page(&chrome, &title, content).into_string()).into_response()
}

/// The answer to a FIM import in the staff UI: what was imported, every warning, where to go on.
pub fn fim_imported(
    tenant: &Tenant,
    imported: &rathaus_forms::Imported,
    saved: &rathaus_storage::forms::Saved,
) -> Response {
    let list = format!("/{}/verwaltung/formulare", tenant.slug);
    let chrome = Chrome::tenant(tenant)
        .crumb("Verwaltung", format!("/{}/verwaltung", tenant.slug))
        .crumb("Formulare", list.clone());
    let body = page(
        &chrome,
        "FIM-Schema importiert",
        html! {
            h1 { "FIM-Schema importiert" }
            div class="hinweisbox erfolg" role="status" {
                p {
                    "„" (imported.form.title) "“ ist "
                    @if saved.changed { "als Version " (saved.version) " veröffentlicht" } @else { "unverändert (Version " (saved.version) ")" }
                    ": " (imported.groups) " Datenfeldgruppen, " (imported.fields) " Datenfelder."
                }
            }
            @if !imported.warnings.is_empty() {
                h2 { "Warnungen (" (imported.warnings.len()) ")" }
                ul { @for w in &imported.warnings { li { (w) } } }
            }
            ul {
                li { a href={ (list) "/" (saved.form_id) } { "Formular im Editor öffnen" } }
                li { a href={ "/" (tenant.slug) "/formulare/" (saved.form_id) } { "Formular ansehen, wie Bürgerinnen und Bürger es sehen" } }
                li { a href=(list) { "Zurück zur Übersicht" } }
            }
        },
    );
    let mut res = Html(body.into_string()).into_response();
    *res.status_mut() = StatusCode::CREATED;
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}
