//! Export of a form as an XDF 3.0.0 `xdatenfelder.stammdatenschema.0102` message.
//!
//! XDF 3 requires ids of a letter and eleven digits and versions of three parts: XDF 2 ids
//! (`G00000630`) get the Unternummernkreis `000` inserted after the Nummernkreis
//! (`G00000000630`), exactly like the reference converter (`Unternummernkreis=000`), and
//! versions `1.0` become `1.0.0` ([`xdf3_id`], [`xdf3_version`]). Elements without FIM metadata
//! (made with the builder) are written as harmonised (`HAR`) elements in status "Entwurf" (3)
//! with the default Dokumentsteckbrief `D99000000001`; the output labels default to the labels.

use super::NS_XDF3;
use crate::model::{
    CodeList, Condition, DataType, Element, Field, FimMeta, Form, Group, Rule, anzahl,
};
use crate::xml::escape;
use std::fmt::Write;

/// Maps an XDF 2 id (`[SGFRDC]` + 8 digits) to XDF 3 (+ Unternummernkreis `000`); other ids
/// are returned unchanged.
pub fn xdf3_id(id: &str) -> String {
    let b = id.as_bytes();
    if b.len() == 9
        && matches!(b[0], b'S' | b'G' | b'F' | b'R' | b'D' | b'C')
        && b[1..].iter().all(u8::is_ascii_digit)
    {
        format!("{}000{}", &id[..3], &id[3..])
    } else {
        id.to_string()
    }
}

/// Maps a version to the three-part XDF 3 form (`1.0` → `1.0.0`, empty → `1.0.0`).
pub fn xdf3_version(version: &str) -> String {
    let v = version.trim();
    if v.is_empty() {
        return "1.0.0".into();
    }
    let parts = v.split('.').count();
    if parts < 3
        && v.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
    {
        let mut out = v.to_string();
        for _ in parts..3 {
            out.push_str(".0");
        }
        out
    } else {
        v.to_string()
    }
}

/// Rules documenting the builder conditions of `children`; they belong to the parent (QS 1001:
/// a rule can only reach elements below the element it is attached to).
fn condition_rules(children: &[Element]) -> Vec<Rule> {
    children
        .iter()
        .filter_map(|e| condition_rule(e.id(), e.condition()))
        .collect()
}

/// The rule documenting a builder condition in XDF 3 (which has no conditions): id `R` + the
/// digits of the element id, type `K`.
fn condition_rule(id: &str, condition: Option<&Condition>) -> Option<Rule> {
    let c = condition?;
    let value = match &c.equals {
        serde_json::Value::String(s) => format!("\"{s}\""),
        serde_json::Value::Bool(true) => "ja".to_string(),
        serde_json::Value::Bool(false) => "nein".to_string(),
        other => other.to_string(),
    };
    let xid = xdf3_id(id);
    let digits: String = xid.chars().skip(1).collect();
    Some(Rule {
        id: format!("R{digits}"),
        version: Some("1.0.0".into()),
        name: format!("Bedingung {xid}"),
        description: None,
        text: Some(format!(
            "{xid} ist nur auszufüllen, wenn {} den Wert {value} hat; sonst bleibt es leer.",
            xdf3_id(&c.field)
        )),
        script: None,
        kind: Some("K".into()),
    })
}

/// Rewrites XDF 2 ids in a rule text to XDF 3 ids (`F00001028` → `F00000001028`), as the
/// reference converter does (`FreitextRegelKorrektur`).
pub fn xdf3_ids_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let boundary_before = i == 0 || !chars[i - 1].is_alphanumeric();
        if boundary_before
            && matches!(chars[i], 'S' | 'G' | 'F' | 'R' | 'D')
            && i + 9 <= chars.len()
            && chars[i + 1..i + 9].iter().all(char::is_ascii_digit)
            && (i + 9 == chars.len() || !chars[i + 9].is_alphanumeric())
        {
            let id: String = chars[i..i + 9].iter().collect();
            out.push_str(&xdf3_id(&id));
            i += 9;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Today as `YYYY-MM-DD` (UTC).
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

struct Head<'a> {
    id: &'a str,
    version: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    label: &'a str,
    help: Option<&'a str>,
    fim: &'a FimMeta,
}

struct W {
    out: String,
    date: String,
}

impl W {
    fn open(&mut self, name: &str) {
        let _ = write!(self.out, "<xdf3:{name}>");
    }
    fn close(&mut self, name: &str) {
        let _ = write!(self.out, "</xdf3:{name}>");
    }
    fn text(&mut self, name: &str, value: &str) {
        let _ = write!(self.out, "<xdf3:{name}>{}</xdf3:{name}>", escape(value));
    }
    fn opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            self.text(name, v);
        }
    }
    fn code(&mut self, name: &str, list_uri: &str, list_version: &str, code: &str) {
        let _ = write!(
            self.out,
            "<xdf3:{name} listURI=\"{list_uri}\" listVersionID=\"{list_version}\"><code>{}</code></xdf3:{name}>",
            escape(code)
        );
    }
    fn ident(&mut self, id: &str, version: &str) {
        self.open("identifikation");
        self.text("id", &xdf3_id(id));
        self.text("version", &xdf3_version(version));
        self.close("identifikation");
    }
    /// Status, dates and author (the part of the common metadata after `bezug`).
    fn status(&mut self, fim: &FimMeta) {
        self.code(
            "freigabestatus",
            "urn:xoev-de:xprozess:codeliste:status",
            "2020-03-19",
            "3",
        );
        let date = self.date.clone();
        self.text("statusGesetztAm", &date);
        self.opt("statusGesetztDurch", fim.creator.as_deref());
        self.text("letzteAenderung", &format!("{date}T00:00:00Z"));
    }
    fn bezug(&mut self, text: Option<&str>) {
        if let Some(t) = text {
            for line in t.lines().filter(|l| !l.trim().is_empty()) {
                self.text("bezug", line.trim());
            }
        }
    }
    fn element_head(&mut self, h: Head<'_>) {
        let Head {
            id,
            version,
            name,
            description,
            label,
            help,
            fim,
        } = h;
        self.ident(id, version);
        self.text("name", name);
        self.opt("beschreibung", description);
        self.opt("definition", fim.definition.as_deref());
        self.bezug(fim.legal_basis.as_deref());
        self.status(fim);
        self.text("bezeichnungEingabe", label);
        // The output label defaults to the label, unless that would equal the output help
        // (QS 1098 forbids equal label and help).
        let output_label = fim
            .output_label
            .as_deref()
            .or((fim.output_help.as_deref() != Some(label)).then_some(label));
        self.opt("bezeichnungAusgabe", output_label);
        self.code(
            "schemaelementart",
            "urn:xoev-de:fim:codeliste:xdatenfelder.schemaelementart",
            "1.0",
            fim.element_kind.as_deref().unwrap_or("HAR"),
        );
        self.opt("hilfetextEingabe", help);
        self.opt("hilfetextAusgabe", fim.output_help.as_deref());
    }
    fn rule(&mut self, r: &Rule) {
        self.open("regel");
        self.ident(&r.id, r.version.as_deref().unwrap_or(""));
        self.text("name", &r.name);
        self.opt("beschreibung", r.description.as_deref());
        // QS requires a Freitextregel; the name stands in when the source had none.
        self.text(
            "freitextRegel",
            &xdf3_ids_in_text(r.text.as_deref().unwrap_or(&r.name)),
        );
        let date = self.date.clone();
        self.text("letzteAenderung", &format!("{date}T00:00:00Z"));
        self.code(
            "typ",
            "urn:xoev-de:fim:codeliste:xdatenfelder.regeltyp",
            "1.0",
            r.kind.as_deref().unwrap_or("K"),
        );
        self.opt("skript", r.script.as_deref());
        self.close("regel");
    }
    /// Writes the `struktur` of each element; `default_basis` is the `bezug` used where an
    /// element has no usage basis of its own (the schema's legal basis for its top level).
    fn children(&mut self, elements: &[Element], default_basis: Option<&str>) {
        for e in elements {
            self.open("struktur");
            // A conditional element is optional in XDF 3 (the condition becomes a rule).
            let min = if e.condition().is_some() { 0 } else { e.min() };
            self.text("anzahl", &anzahl(min, e.max()));
            let usage = match e {
                Element::Group(g) => g.fim.usage_basis.as_deref(),
                Element::Field(f) => f.fim.usage_basis.as_deref(),
            };
            self.bezug(usage.or(default_basis));
            self.open("enthaelt");
            match e {
                Element::Group(g) => self.group(g),
                Element::Field(f) => self.field(f),
            }
            self.close("enthaelt");
            self.close("struktur");
        }
    }
    fn group(&mut self, g: &Group) {
        self.open("datenfeldgruppe");
        self.element_head(Head {
            id: &g.id,
            version: &g.version,
            name: &g.name,
            description: g.description.as_deref(),
            label: &g.label,
            help: g.help.as_deref(),
            fim: &g.fim,
        });
        for r in g.rules.iter().chain(&condition_rules(&g.children)) {
            self.rule(r);
        }
        self.children(&g.children, None);
        self.close("datenfeldgruppe");
    }
    fn field(&mut self, f: &Field) {
        self.open("datenfeld");
        self.element_head(Head {
            id: &f.id,
            version: &f.version,
            name: &f.name,
            description: f.description.as_deref(),
            label: &f.label,
            help: f.help.as_deref(),
            fim: &f.fim,
        });
        self.code(
            "feldart",
            "urn:xoev-de:fim:codeliste:xdatenfelder.feldart",
            "2.0",
            f.kind.code(),
        );
        self.code(
            "datentyp",
            "urn:xoev-de:fim:codeliste:xdatenfelder.datentyp",
            "2.0",
            f.datatype.code(),
        );
        let c = &f.constraints;
        if !c.is_empty() {
            self.out.push_str("<xdf3:praezisierung");
            let mut attr = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    let _ = write!(self.out, " {k}=\"{}\"", escape(&v));
                }
            };
            attr("minLength", c.min_length.map(|n| n.to_string()));
            attr("maxLength", c.max_length.map(|n| n.to_string()));
            attr("minValue", c.min_value.clone());
            attr("maxValue", c.max_value.clone());
            attr("pattern", c.pattern.clone());
            self.out.push_str("/>");
        }
        if !matches!(f.datatype, DataType::File | DataType::Object) {
            self.opt("inhalt", f.content.as_deref());
        }
        let prefill = if f.prefill.is_some() {
            "optional"
        } else {
            "keine"
        };
        self.code(
            "vorbefuellung",
            "urn:xoev-de:fim:codeliste:xdatenfelder.vorbefuellung",
            "1.0",
            prefill,
        );
        if let Some(cl) = &f.code_list {
            self.code_list(cl);
        }
        if let Some(ms) = f.max_size {
            self.text("maxSize", &ms.to_string());
        }
        for m in &f.media_types {
            self.text("mediaType", m);
        }
        for r in &f.rules {
            self.rule(r);
        }
        self.close("datenfeld");
    }
    fn code_list(&mut self, cl: &CodeList) {
        if cl.urn.is_empty() {
            self.open("werte");
            for v in &cl.values {
                self.open("wert");
                self.text("code", &v.code);
                self.text("name", &v.label);
                self.close("wert");
            }
            self.close("werte");
        } else {
            self.open("codelisteReferenz");
            self.text("canonicalIdentification", &cl.urn);
            if let Some(v) = &cl.version {
                self.text("version", v);
                self.text("canonicalVersionUri", &format!("{}_{v}", cl.urn));
            }
            self.close("codelisteReferenz");
        }
    }
}

/// Writes the form as an `xdatenfelder.stammdatenschema.0102` message (XDF 3.0.0).
///
/// Resolved code lists are written as `codelisteReferenz` (their URN and version), inline
/// value lists (empty URN) as `werte`. Builder-only features (conditions, prefill attributes,
/// steps, trust level, fee, placeholders) have no place in XDF 3 and are not written; a
/// prefilled field is marked `vorbefuellung` "optional".
pub fn export_xdf3(form: &Form) -> String {
    let date = today();
    let mut w = W {
        out: String::with_capacity(64 * 1024),
        date: date.clone(),
    };
    let _ = write!(
        w.out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xdf3:xdatenfelder.stammdatenschema.0102 xmlns:xdf3=\"{NS_XDF3}\">"
    );
    w.open("header");
    w.text(
        "nachrichtID",
        &format!("{}-{}", xdf3_id(&form.id), xdf3_version(&form.version)),
    );
    w.text("erstellungszeitpunkt", &format!("{date}T00:00:00Z"));
    w.close("header");
    w.open("stammdatenschema");
    w.ident(&form.id, &form.version);
    w.text("name", &form.name);
    w.opt("beschreibung", form.description.as_deref());
    w.opt("definition", form.fim.definition.as_deref());
    w.bezug(form.fim.legal_basis.as_deref());
    w.status(&form.fim);
    w.text("bezeichnung", &form.title);
    w.opt("hilfetext", form.help.as_deref());
    w.code(
        "ableitungsmodifikationenStruktur",
        "urn:xoev-de:fim:codeliste:xdatenfelder.ableitungsmodifikationenStruktur",
        "1.0",
        "0",
    );
    w.code(
        "ableitungsmodifikationenRepraesentation",
        "urn:xoev-de:fim:codeliste:xdatenfelder.ableitungsmodifikationenRepraesentation",
        "1.0",
        "0",
    );
    w.open("dokumentsteckbrief");
    w.text("id", "D99000000001");
    w.close("dokumentsteckbrief");
    for r in form.rules.iter().chain(&condition_rules(&form.elements)) {
        w.rule(r);
    }
    w.children(&form.elements, form.fim.legal_basis.as_deref());
    w.close("stammdatenschema");
    w.close("xdatenfelder.stammdatenschema.0102");
    w.out.push('\n');
    w.out
}
