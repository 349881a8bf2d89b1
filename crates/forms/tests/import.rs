//! Import of the XDatenfelder fixtures, code lists, hostile input.

use crate::*;
use rathaus_forms::xml::Limits;
use rathaus_forms::*;
use std::time::{Duration, Instant};

fn find<'a>(elements: &'a [Element], path: &[&str]) -> &'a Element {
    let e = elements
        .iter()
        .find(|e| e.id() == path[0])
        .unwrap_or_else(|| panic!("{} not found", path[0]));
    match (path.len(), e) {
        (1, _) => e,
        (_, Element::Group(g)) => find(&g.children, &path[1..]),
        _ => panic!("{} is no group", path[0]),
    }
}

fn field<'a>(form: &'a Form, path: &[&str]) -> &'a Field {
    match find(&form.elements, path) {
        Element::Field(f) => f,
        Element::Group(g) => panic!("{} is a group", g.id),
    }
}

fn group<'a>(form: &'a Form, path: &[&str]) -> &'a Group {
    match find(&form.elements, path) {
        Element::Group(g) => g,
        Element::Field(f) => panic!("{} is a field", f.id),
    }
}

fn err(rel: &str) -> String {
    import(&fixture(rel), &NoCodeLists)
        .expect_err(rel)
        .to_string()
}

#[test]
fn blaue_karte_counts_structure_and_warnings() {
    let i = import(&std::fs::read(blaue_karte_path()).unwrap(), &NoCodeLists).unwrap();
    // Distinct ids, counted independently with python/lxml on the fixture: 23 groups, 71 fields.
    assert_eq!((i.groups, i.fields), (23, 71));
    let f = &i.form;
    assert_eq!((f.id.as_str(), f.version.as_str()), ("S00000121", "1.0"));
    assert_eq!(f.title, "Antrag auf Blaue Karte EU");
    assert_eq!(
        f.source,
        Some(Source {
            schema_id: "S00000121".into(),
            schema_version: "1.0".into(),
            xdf_version: XdfVersion::V2
        })
    );
    assert_eq!(f.elements.len(), 20);
    // Cardinalities.
    let lines = field(
        f,
        &[
            "G00000633",
            "G00000632",
            "G00000587",
            "G00000046",
            "G00000245",
            "F00000087",
        ],
    );
    assert_eq!((lines.min, lines.max), (2, Some(5)));
    let comm = group(f, &["G00000642", "G00000132", "G00000016", "G00000015"]);
    assert_eq!((comm.min, comm.max), (1, None));
    let street = group(f, &["G00000771", "G00000236", "G00000237"]);
    assert_eq!((street.min, street.max), (0, Some(1)));
    // Types and praezisierung.
    let plz = field(
        f,
        &[
            "G00000771",
            "G00000236",
            "G00000237",
            "G00000113",
            "F00000054",
        ],
    );
    assert_eq!(plz.datatype, DataType::Text);
    assert_eq!(
        (plz.constraints.min_length, plz.constraints.max_length),
        (Some(5), Some(5))
    );
    assert_eq!(
        field(f, &["G00000630", "F00001017"]).datatype,
        DataType::Number
    );
    assert_eq!(
        field(f, &["G00000642", "F00000728"]).datatype,
        DataType::Currency
    );
    assert_eq!(
        field(f, &["G00000630", "F00001019"]).datatype,
        DataType::File
    );
    assert_eq!(
        field(f, &["G00000629", "F00001016"]).datatype,
        DataType::Date
    );
    assert_eq!(field(f, &["F00001029"]).datatype, DataType::Bool);
    // Labels and help texts.
    let name = field(f, &["G00000630", "F00000013"]);
    assert_eq!(name.label, "Familienname");
    assert_eq!(
        name.help.as_deref(),
        Some("Geben Sie den Nachnamen, Zunamen bzw. Familiennamen an.")
    );
    // Rules stay on their groups.
    let kv = group(f, &["G00000636"]);
    assert_eq!(kv.rules.len(), 1);
    assert_eq!(kv.rules[0].id, "R00000254");
    assert_eq!(kv.rules[0].name, "Krankenversicherung");
    assert!(kv.rules[0].text.as_deref().unwrap().contains("F00001028"));
    // The code lists are external and not here: free text with a warning naming the list.
    let sex = field(f, &["G00000630", "F00000065"]);
    assert_eq!((sex.kind, sex.datatype), (FieldKind::Input, DataType::Text));
    assert!(sex.code_list.is_none());
    assert_eq!(i.warnings.len(), 4, "{:#?}", i.warnings);
    assert!(i.warnings.iter().any(
        |w| w.contains("urn:xpersonenstand:schluesseltabelle:geschlecht")
            && w.contains("F00000065")
            && w.contains("Freitext")
    ));
    // Default steps: one per group, one per run of loose fields.
    let steps = f.default_steps();
    assert_eq!(steps[0].elements, vec!["G00000630"]);
    assert_eq!(steps[6].title, "Weitere Angaben");
    assert_eq!(steps[6].elements, vec!["F00001029"]);
    let last = steps.last().unwrap();
    assert_eq!(last.elements.len(), 8);
    assert_eq!(steps.iter().map(|s| s.elements.len()).sum::<usize>(), 20);
    assert!(f.check().is_ok(), "{:?}", f.check());
}

#[test]
fn flxbe_v2_valid_fixtures() {
    let simple = import(&fixture("v2/flxbe-tests/simple.xml"), &NoCodeLists).unwrap();
    assert_eq!((simple.groups, simple.fields), (1, 1));
    assert_eq!(simple.form.rules.len(), 1);
    assert_eq!(simple.form.rules[0].id, "R60000037");
    assert_eq!(
        simple.form.rules[0].script.as_deref(),
        Some("function script() {}")
    );
    let f = field(&simple.form, &["G00000082", "F60000227"]);
    assert_eq!(f.version, "1.1");
    assert_eq!(
        (f.constraints.min_length, f.constraints.max_length),
        (Some(1), Some(120))
    );
    assert_eq!(f.help.as_deref(), Some("Hilfe Eingabe"));
    assert_eq!(f.fim.output_help.as_deref(), Some("Hilfe Ausgabe"));

    let label = import(&fixture("v2/flxbe-tests/label.xml"), &NoCodeLists).unwrap();
    let l = field(&label.form, &["F123"]);
    assert_eq!(l.kind, FieldKind::Label);
    assert_eq!(l.content.as_deref(), Some("Hinweis Inhalt"));
    assert_eq!(label.fields, 1);

    let minimal = import(&fixture("v2/flxbe-tests/minimal.xml"), &NoCodeLists).unwrap();
    assert!(minimal.form.elements.is_empty());
    assert_eq!((minimal.groups, minimal.fields), (0, 0));

    let fr = import(&fixture("v2/flxbe-tests/data-field-rule.xml"), &NoCodeLists).unwrap();
    assert_eq!(field(&fr.form, &["F123"]).rules[0].id, "R60000037");
    let gr = import(&fixture("v2/flxbe-tests/data-group-rule.xml"), &NoCodeLists).unwrap();
    assert_eq!(
        group(&gr.form, &["G00000082"]).rules[0].name,
        "MindestEineAngabe"
    );
    let r = import(&fixture("v2/flxbe-tests/rule.xml"), &NoCodeLists).unwrap();
    assert_eq!(r.form.rules.len(), 1);

    let select = import(&fixture("v2/flxbe-tests/select.xml"), &NoCodeLists).unwrap();
    assert_eq!(select.warnings.len(), 1);
    assert!(select.warnings[0].contains("urn:de:example"));
}

#[test]
fn flxbe_v2_negative_fixtures() {
    let e = err("v2/flxbe-tests/duplicate-required-value.xml");
    assert!(e.contains("`xdf:name`") && e.contains("mehrfach"), "{e}");
    let e = err("v2/flxbe-tests/duplicate-optional-value.xml");
    assert!(
        e.contains("`xdf:beschreibung`") && e.contains("mehrfach"),
        "{e}"
    );
    let e = err("v2/flxbe-tests/unknown-namespace.xml");
    assert!(
        e.contains("Unbekannter Namensraum") && e.contains("xdatenfelder_unknown"),
        "{e}"
    );
}

#[test]
fn xdf1_is_refused_by_name() {
    let e = err("v1/S00000036_Waffenbesitzkarte.xdf1.xml");
    assert!(e.contains("XDatenfelder 1 wird nicht unterstützt"), "{e}");
}

#[test]
fn flxbe_v3_fixtures() {
    let s = import(&fixture("v3/flxbe-tests/simple.xml"), &NoCodeLists).unwrap();
    assert_eq!((s.groups, s.fields), (2, 1));
    assert_eq!(s.form.id, "G60000000088");
    assert_eq!(s.form.source.as_ref().unwrap().xdf_version, XdfVersion::V3);
    let root = group(&s.form, &["G60000000088"]);
    assert_eq!(root.rules[0].id, "R60000000019");
    assert_eq!(root.rules[0].kind.as_deref(), Some("V"));
    assert_eq!(root.rules[0].script.as_deref(), Some("some script content"));
    let street = field(&s.form, &["G60000000088", "G60000000086", "F60000000243"]);
    assert_eq!((street.min, street.max), (1, Some(1)));
    assert_eq!(
        (street.constraints.min_length, street.constraints.max_length),
        (Some(1), Some(55))
    );
    assert_eq!(street.rules.len(), 1);
    assert_eq!(
        group(&s.form, &["G60000000088", "G60000000086"]).min,
        0,
        "anzahl 0:1 of the struktur"
    );

    let e = err("v3/flxbe-tests/duplicate-id-node.xml");
    assert!(e.contains("`xdf:id`") && e.contains("mehrfach"), "{e}");
    let e = err("v3/flxbe-tests/empty-id-node.xml");
    assert!(e.contains("Kennung") && e.contains("leer"), "{e}");
    let e = err("v3/flxbe-tests/missing-id-node.xml");
    assert!(e.contains("`xdf:id` fehlt"), "{e}");
    let e = err("v3/flxbe-tests/unexpected-node.xml");
    assert!(
        e.contains("`xdf:unknown`") && e.contains("nicht unterstützt"),
        "{e}"
    );
    let e = err("v3/flxbe-tests/invalid-freigabestatus.xml");
    assert!(e.contains("„10“") && e.contains("freigabestatus"), "{e}");
    let e = err("v3/flxbe-tests/unknown-namespace.xml");
    assert!(e.contains("Unbekannter Namensraum"), "{e}");
}

/// `input.xml` is a parser stress test of flxbe: its field has `xdf:inhalt` twice, text inside
/// `praezisierung` and an empty `codelisteReferenz` on a select field. flxbe keeps the last
/// `inhalt`; we refuse the repetition like every other repeated single element (the v2 fixture
/// `duplicate-optional-value` requires that), and say which element and where.
#[test]
fn flxbe_v3_input_with_repeated_inhalt_is_refused() {
    let e = err("v3/flxbe-tests/input.xml");
    assert!(
        e.contains("`xdf:inhalt`")
            && e.contains("Datenfeld F60000000243")
            && e.contains("mehrfach"),
        "{e}"
    );
    // Without the repetition, the remaining problems are named as well.
    let text = String::from_utf8(fixture("v3/flxbe-tests/input.xml")).unwrap();
    let once = text.replacen("<xdf:inhalt/>", "", 1);
    let e = import(once.as_bytes(), &NoCodeLists)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("praezisierung") && e.contains("Text ist nicht erlaubt"),
        "{e}"
    );
    let fixed = once.replace(
        "\n                        Constraints\n                    ",
        "",
    );
    let e = import(fixed.as_bytes(), &NoCodeLists)
        .unwrap_err()
        .to_string();
    assert!(e.contains("canonicalIdentification"), "{e}");
}

const GC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gc:CodeList xmlns:gc="http://docs.oasis-open.org/codelist/ns/genericode/1.0/">
  <Identification><ShortName>geschlecht</ShortName><Version>2</Version>
    <CanonicalUri>urn:xpersonenstand:schluesseltabelle:geschlecht</CanonicalUri>
    <CanonicalVersionUri>urn:xpersonenstand:schluesseltabelle:geschlecht_2</CanonicalVersionUri></Identification>
  <ColumnSet>
    <Column Id="schluessel" Use="required"><ShortName>Schlüssel</ShortName><Data Type="string"/></Column>
    <Column Id="beschreibung" Use="required"><ShortName>Beschreibung</ShortName><Data Type="string"/></Column>
    <Key Id="schluesselKey"><ShortName>key</ShortName><ColumnRef Ref="schluessel"/></Key>
  </ColumnSet>
  <SimpleCodeList>
    <Row><Value ColumnRef="schluessel"><SimpleValue>m</SimpleValue></Value><Value ColumnRef="beschreibung"><SimpleValue>männlich</SimpleValue></Value></Row>
    <Row><Value ColumnRef="schluessel"><SimpleValue>w</SimpleValue></Value><Value ColumnRef="beschreibung"><SimpleValue>weiblich</SimpleValue></Value></Row>
    <Row><Value ColumnRef="schluessel"><SimpleValue>d</SimpleValue></Value><Value ColumnRef="beschreibung"><SimpleValue>divers</SimpleValue></Value></Row>
    <Row><Value ColumnRef="schluessel"><SimpleValue>x</SimpleValue></Value><Value ColumnRef="beschreibung"><SimpleValue>keine Angabe</SimpleValue></Value></Row>
  </SimpleCodeList>
</gc:CodeList>"#;

#[test]
fn genericode_lists_beside_the_schema_are_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("blaue-karte.xml");
    std::fs::copy(blaue_karte_path(), &schema).unwrap();
    // Found by file name (the XDF 2 reference id C00000001) ...
    std::fs::write(dir.path().join("C00000001_genericode.xml"), GC).unwrap();
    // ... and by CanonicalUri inside a file of any name (the erreichbarkeit list, code key
    // from the key "codeKey", label from the key "codenameKey").
    std::fs::write(
        dir.path().join("kanal.xml"),
        r#"<gc:CodeList xmlns:gc="http://docs.oasis-open.org/codelist/ns/genericode/1.0/">
  <Identification><ShortName>erreichbarkeit</ShortName><Version>2</Version>
    <CanonicalUri>urn:de:xoev:codeliste:erreichbarkeit</CanonicalUri></Identification>
  <ColumnSet>
    <Column Id="hinweis"><ShortName>Hinweis</ShortName></Column>
    <Column Id="code"><ShortName>Code</ShortName></Column>
    <Column Id="name"><ShortName>Name</ShortName></Column>
    <Key Id="codeKey"><ShortName>k</ShortName><ColumnRef Ref="code"/></Key>
    <Key Id="codenameKey"><ShortName>n</ShortName><ColumnRef Ref="name"/></Key>
  </ColumnSet>
  <SimpleCodeList>
    <Row><Value ColumnRef="hinweis"><SimpleValue>-</SimpleValue></Value><Value ColumnRef="code"><SimpleValue>01</SimpleValue></Value><Value ColumnRef="name"><SimpleValue>E-Mail</SimpleValue></Value></Row>
    <Row><Value ColumnRef="code"><SimpleValue>02</SimpleValue></Value><Value ColumnRef="name"><SimpleValue>Telefon</SimpleValue></Value></Row>
  </SimpleCodeList>
</gc:CodeList>"#,
    )
    .unwrap();
    // A genericode file of another list must not be taken.
    std::fs::write(
        dir.path().join("other.xml"),
        GC.replace("geschlecht</CanonicalUri>", "andere</CanonicalUri>"),
    )
    .unwrap();
    let i = import(
        &std::fs::read(&schema).unwrap(),
        &CodeListDir::beside(&schema),
    )
    .unwrap();
    let sex = field(&i.form, &["G00000630", "F00000065"]);
    assert_eq!(sex.kind, FieldKind::Select);
    let cl = sex.code_list.as_ref().unwrap();
    assert_eq!(cl.urn, "urn:xpersonenstand:schluesseltabelle:geschlecht");
    assert_eq!(cl.version.as_deref(), Some("2"));
    let pairs: Vec<(&str, &str)> = cl
        .values
        .iter()
        .map(|v| (v.code.as_str(), v.label.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("m", "männlich"),
            ("w", "weiblich"),
            ("d", "divers"),
            ("x", "keine Angabe")
        ]
    );
    let kanal = field(
        &i.form,
        &[
            "G00000642",
            "G00000132",
            "G00000016",
            "G00000015",
            "F00000025",
        ],
    );
    let codes: Vec<(&str, &str)> = kanal
        .code_list
        .as_ref()
        .unwrap()
        .values
        .iter()
        .map(|v| (v.code.as_str(), v.label.as_str()))
        .collect();
    assert_eq!(codes, [("01", "E-Mail"), ("02", "Telefon")]);
    // The other three lists are still missing.
    assert_eq!(i.warnings.len(), 2, "{:#?}", i.warnings);
    assert!(
        !i.warnings
            .iter()
            .any(|w| w.contains("geschlecht") || w.contains("erreichbarkeit"))
    );
    // The JSON Schema now restricts the field to the codes.
    let schema = json_schema(&i.form);
    assert_eq!(
        schema["properties"]["G00000630"]["properties"]["F00000065"]["enum"],
        serde_json::json!(["m", "w", "d", "x"])
    );
}

#[test]
fn broken_genericode_is_an_error_not_free_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("C00000001_genericode.xml"),
        GC.replace("<Key Id=\"schluesselKey\"><ShortName>key</ShortName><ColumnRef Ref=\"schluessel\"/></Key>", ""),
    )
    .unwrap();
    let e = import(
        &std::fs::read(blaue_karte_path()).unwrap(),
        &CodeListDir::new(dir.path()),
    )
    .unwrap_err();
    assert!(matches!(e, ImportError::CodeList(_)));
    assert!(e.to_string().contains("Schlüsselspalte"), "{e}");
}

#[test]
fn xdf3_inline_werte_and_file_attributes() {
    let xml = r#"<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_3.0.0">
<xdf:header><xdf:nachrichtID>1</xdf:nachrichtID><xdf:erstellungszeitpunkt>2024-01-01T00:00:00Z</xdf:erstellungszeitpunkt></xdf:header>
<xdf:stammdatenschema><xdf:identifikation><xdf:id>S99000000007</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
<xdf:name>Test</xdf:name><xdf:bezeichnung>Testformular</xdf:bezeichnung>
<xdf:struktur><xdf:anzahl>0:n</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
<xdf:identifikation><xdf:id>F99000000001</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
<xdf:name>Farbe</xdf:name><xdf:bezeichnungEingabe>Farbe</xdf:bezeichnungEingabe>
<xdf:feldart><code>select</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
<xdf:werte><xdf:wert><xdf:code>r</xdf:code><xdf:name>rot</xdf:name></xdf:wert><xdf:wert><xdf:code>g</xdf:code><xdf:name>grün</xdf:name><xdf:hilfe>wie Gras</xdf:hilfe></xdf:wert></xdf:werte>
</xdf:datenfeld></xdf:enthaelt></xdf:struktur>
<xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
<xdf:identifikation><xdf:id>F99000000002</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
<xdf:name>Foto</xdf:name><xdf:bezeichnungEingabe>Foto</xdf:bezeichnungEingabe>
<xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>file</code></xdf:datentyp>
<xdf:maxSize>1048576</xdf:maxSize><xdf:mediaType>image/png</xdf:mediaType><xdf:mediaType>image/jpeg</xdf:mediaType>
</xdf:datenfeld></xdf:enthaelt></xdf:struktur>
<xdf:struktur><xdf:anzahl>0:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
<xdf:identifikation><xdf:id>F99000000003</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
<xdf:name>Anzahl</xdf:name><xdf:bezeichnungEingabe>Anzahl</xdf:bezeichnungEingabe>
<xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>num_int</code></xdf:datentyp>
<xdf:praezisierung minValue="1" maxValue="9" pattern="[1-9]"/>
</xdf:datenfeld></xdf:enthaelt></xdf:struktur>
</xdf:stammdatenschema></xdf:xdatenfelder.stammdatenschema.0102>"#;
    let i = import(xml.as_bytes(), &NoCodeLists).unwrap();
    assert_eq!(i.form.title, "Testformular");
    let color = field(&i.form, &["F99000000001"]);
    assert_eq!((color.min, color.max), (0, None));
    let cl = color.code_list.as_ref().unwrap();
    assert_eq!(cl.urn, "");
    assert_eq!(cl.values[1].code, "g");
    assert_eq!(cl.values[1].label, "grün");
    let foto = field(&i.form, &["F99000000002"]);
    assert_eq!(foto.max_size, Some(1_048_576));
    assert_eq!(foto.media_types, ["image/png", "image/jpeg"]);
    let n = field(&i.form, &["F99000000003"]);
    assert_eq!(n.datatype, DataType::Integer);
    assert_eq!(n.constraints.min_value.as_deref(), Some("1"));
    assert_eq!(n.constraints.pattern.as_deref(), Some("[1-9]"));
    // An Auswahlgruppe is not supported and says so.
    let art = xml.replace(
        "<xdf:struktur><xdf:anzahl>0:n</xdf:anzahl>",
        "<xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeldgruppe><xdf:identifikation><xdf:id>G99000000001</xdf:id></xdf:identifikation><xdf:name>Wahl</xdf:name><xdf:art><code>X</code></xdf:art></xdf:datenfeldgruppe></xdf:enthaelt></xdf:struktur><xdf:struktur><xdf:anzahl>0:n</xdf:anzahl>",
    );
    let e = import(art.as_bytes(), &NoCodeLists)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Auswahlgruppe") && e.contains("G99000000001"),
        "{e}"
    );
}

fn v2_with_group_body(body: &str) -> String {
    format!(
        r#"<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_2"><xdf:header/>
<xdf:stammdatenschema><xdf:identifikation><xdf:id>S1</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:name>T</xdf:name>
{body}</xdf:stammdatenschema></xdf:xdatenfelder.stammdatenschema.0102>"#
    )
}

fn g(id: &str, inner: &str) -> String {
    format!(
        "<xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeldgruppe><xdf:identifikation><xdf:id>{id}</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:name>{id}</xdf:name>{inner}</xdf:datenfeldgruppe></xdf:enthaelt></xdf:struktur>"
    )
}

fn f(id: &str, datentyp: &str, extra: &str) -> String {
    format!(
        "<xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld><xdf:identifikation><xdf:id>{id}</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:name>{id}</xdf:name><xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>{datentyp}</code></xdf:datentyp>{extra}</xdf:datenfeld></xdf:enthaelt></xdf:struktur>"
    )
}

#[test]
fn cycles_conflicts_and_sibling_clashes_are_refused() {
    // A group containing itself (indirectly).
    let xml = v2_with_group_body(&g("G1", &g("G2", &g("G1", &f("F1", "text", "")))));
    let e = import(xml.as_bytes(), &NoCodeLists).unwrap_err();
    assert_eq!(
        e,
        ImportError::Cycle {
            id: "G1".into(),
            path: "G1 → G2 → G1".into()
        }
    );
    assert!(e.to_string().contains("Zirkelbezug"));
    // The same id and version with different content.
    let xml = v2_with_group_body(&format!(
        "{}{}",
        g("G1", &f("F1", "text", "")),
        g("G2", &f("F1", "date", ""))
    ));
    let e = import(xml.as_bytes(), &NoCodeLists)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("F1 (Version 1.0)") && e.contains("unterschiedlichem Inhalt"),
        "{e}"
    );
    // ... but the same content twice is fine (FIM reuses groups), counted once.
    let xml = v2_with_group_body(&format!(
        "{}{}",
        g("G1", &f("F1", "text", "")),
        g("G2", &f("F1", "text", ""))
    ));
    let i = import(xml.as_bytes(), &NoCodeLists).unwrap();
    assert_eq!((i.groups, i.fields), (2, 1));
    // Two children with one id would collide in the submission.
    let xml = v2_with_group_body(&g(
        "G1",
        &format!("{}{}", f("F1", "text", ""), f("F1", "text", "")),
    ));
    let e = import(xml.as_bytes(), &NoCodeLists)
        .unwrap_err()
        .to_string();
    assert!(e.contains("F1") && e.contains("mehrfach"), "{e}");
    // Unknown codes and broken praezisierung name the element.
    let xml = v2_with_group_body(&f("F1", "decimal", ""));
    let e = import(xml.as_bytes(), &NoCodeLists)
        .unwrap_err()
        .to_string();
    assert!(e.contains("„decimal“") && e.contains("Datenfeld F1"), "{e}");
    let xml = v2_with_group_body(&f(
        "F1",
        "text",
        "<xdf:praezisierung>{\"maxLength\":\"5\",\"minWords\":\"2\"}</xdf:praezisierung>",
    ));
    let e = import(xml.as_bytes(), &NoCodeLists)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("praezisierung/minWords") && e.contains("Datenfeld F1"),
        "{e}"
    );
    let xml = v2_with_group_body(&f(
        "F1",
        "text",
        "<xdf:praezisierung>{maxLength:5}</xdf:praezisierung>",
    ));
    let e = import(xml.as_bytes(), &NoCodeLists)
        .unwrap_err()
        .to_string();
    assert!(e.contains("JSON"), "{e}");
    let xml = v2_with_group_body(&f("F1", "text", "<xdf:foo/>"));
    let e = import(xml.as_bytes(), &NoCodeLists)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Element `xdf:foo` in Datenfeld F1 wird nicht unterstützt (Zeile 3)."
    );
    let xml = v2_with_group_body(&f("F1", "text", "").replace("1:1", "3:2"));
    let e = import(xml.as_bytes(), &NoCodeLists)
        .unwrap_err()
        .to_string();
    assert!(e.contains("„3:2“") && e.contains("anzahl"), "{e}");
    let xml = v2_with_group_body(
        &f("F1", "text", "").replace("<xdf:id>F1</xdf:id>", "<xdf:id>  </xdf:id>"),
    );
    assert!(matches!(
        import(xml.as_bytes(), &NoCodeLists),
        Err(ImportError::EmptyId { .. })
    ));
}

#[test]
fn cardinality_forms() {
    for (text, expected) in [
        ("1:1", (1, Some(1))),
        ("0:n", (0, None)),
        ("0:*", (0, None)),
        ("1:5", (1, Some(5))),
    ] {
        let xml = v2_with_group_body(&f("F1", "text", "").replace("1:1", text));
        let form = import(xml.as_bytes(), &NoCodeLists).unwrap().form;
        let Element::Field(fd) = &form.elements[0] else {
            panic!()
        };
        assert_eq!((fd.min, fd.max), expected, "{text}");
        assert_eq!(form.elements[0].anzahl(), text.replace('n', "*"));
    }
}

#[test]
fn hostile_input_is_refused_quickly() {
    // 50 MB: refused by size before anything is parsed.
    let mut big = b"<?xml version=\"1.0\"?><xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf=\"urn:xoev-de:fim:standard:xdatenfelder_2\">".to_vec();
    big.resize(50 * 1024 * 1024, b' ');
    let t = Instant::now();
    let e = import(&big, &NoCodeLists).unwrap_err();
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
    assert!(matches!(
        e,
        ImportError::Xml(xml::XmlError::TooLarge { .. })
    ));
    assert!(e.to_string().contains("zu groß"), "{e}");

    // Billion laughs: the DOCTYPE is refused, nothing is expanded.
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_2"><xdf:header><xdf:nachrichtID>&lol3;</xdf:nachrichtID></xdf:header></xdf:xdatenfelder.stammdatenschema.0102>"#;
    let t = Instant::now();
    let e = import(bomb.as_bytes(), &NoCodeLists).unwrap_err();
    assert!(t.elapsed() < Duration::from_millis(100));
    assert!(e.to_string().contains("DOCTYPE"), "{e}");
    // An undeclared entity without DOCTYPE.
    let e = import(
        v2_with_group_body("<xdf:beschreibung>&xxe;</xdf:beschreibung>").as_bytes(),
        &NoCodeLists,
    )
    .unwrap_err();
    assert!(e.to_string().contains("&xxe;"), "{e}");

    // Deep nesting: refused by the depth cap, quickly.
    let depth = 100_000;
    let mut deep = String::from(
        "<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf=\"urn:xoev-de:fim:standard:xdatenfelder_2\">",
    );
    deep.push_str(&"<a>".repeat(depth));
    deep.push_str(&"</a>".repeat(depth));
    deep.push_str("</xdf:xdatenfelder.stammdatenschema.0102>");
    let t = Instant::now();
    let e = import(deep.as_bytes(), &NoCodeLists).unwrap_err();
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    assert!(e.to_string().contains("zu tief"), "{e}");
    // Many groups nested legally also hit the cap instead of the stack.
    let mut nested = f("F1", "text", "");
    for n in 0..60 {
        nested = g(&format!("G{n}"), &nested);
    }
    let e = import(v2_with_group_body(&nested).as_bytes(), &NoCodeLists).unwrap_err();
    assert!(e.to_string().contains("zu tief"), "{e}");
    // Custom limits.
    let limits = Limits {
        max_bytes: 1000,
        ..Limits::default()
    };
    let e = rathaus_forms::xdf::import_with_limits(
        &fixture("v2/flxbe-tests/simple.xml"),
        &NoCodeLists,
        &limits,
    )
    .unwrap_err();
    assert!(e.to_string().contains("höchstens 1000 Bytes"), "{e}");

    // Not XML, not UTF-8, wrong message.
    assert!(import(b"hello", &NoCodeLists).is_err());
    assert!(
        import(b"<a>\xff</a>", &NoCodeLists)
            .unwrap_err()
            .to_string()
            .contains("UTF-8")
    );
    let e = import(
        b"<xdf:xdatenfelder.codeliste.0104 xmlns:xdf=\"urn:xoev-de:fim:standard:xdatenfelder_2\"/>",
        &NoCodeLists,
    )
    .unwrap_err();
    assert!(matches!(e, ImportError::UnsupportedMessage { .. }), "{e}");
}
