//! XDF 3 export: the official quality checks (QS-DF 1.20) and the round trip through import.

use crate::reference::{fehler_codes, qs};
use crate::samples::blaue_karte_reference;
use crate::*;
use rathaus_forms::xdf::{xdf3_id, xdf3_version};
use rathaus_forms::*;
use serde_json::{Value, json};

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn hundesteuer_export_has_no_qs_fehler() {
    let tmp = tempfile::tempdir().unwrap();
    let xml = export_xdf3(&hundesteuer());
    let msgs = qs(&write(tmp.path(), "hundesteuer.xdf3.xml", &xml));
    assert!(fehler_codes(&msgs).is_empty(), "{msgs:#?}");
    // The report really looked at the elements (it warns about the default Dokumentsteckbrief
    // and missing legal references of harmonised elements).
    assert!(msgs.iter().any(|m| m.code == "1096"), "{msgs:#?}");
    assert!(msgs.iter().any(|m| m.at == "F99000000013"), "{msgs:#?}");
    // Control: the same check finds a broken id and an unreachable rule reference.
    let broken = xml.replacen(
        "<xdf3:id>F99000000010</xdf3:id>",
        "<xdf3:id>F9910</xdf3:id>",
        1,
    );
    let msgs = qs(&write(tmp.path(), "broken.xdf3.xml", &broken));
    assert!(fehler_codes(&msgs).contains("1039"), "{msgs:#?}");
}

#[test]
fn blaue_karte_export_has_no_qs_fehler_beyond_the_reference_conversion() {
    let tmp = tempfile::tempdir().unwrap();
    let ours = qs(&write(
        tmp.path(),
        "S00000121.ours.xdf3.xml",
        &export_xdf3(blaue_karte()),
    ));
    let (reference_xdf3, _) = blaue_karte_reference();
    let reference = qs(reference_xdf3);
    let (ours_codes, ref_codes) = (fehler_codes(&ours), fehler_codes(&reference));
    assert!(
        !ref_codes.is_empty(),
        "the source has methodical errors (RNG without Bezug, …)"
    );
    let extra: Vec<_> = ours_codes.difference(&ref_codes).collect();
    assert!(
        extra.is_empty(),
        "Fehler only in our export: {extra:?}\n{ours:#?}"
    );
    // We fill 'Bezeichnung Eingabe' from the name, so 1009 of the reference is gone.
    assert!(ref_codes.contains("1009") && !ours_codes.contains("1009"));
    // No more messages of any Fehler code than the reference has.
    for code in &ours_codes {
        let n = |m: &[reference::Qs]| m.iter().filter(|x| &x.code == code).count();
        assert!(
            n(&ours) <= n(&reference),
            "{code}: {} > {}",
            n(&ours),
            n(&reference)
        );
    }
}

/// The structure of a form for comparison: ids, versions, cardinalities, kinds, types,
/// constraints, code values, labels, help texts and rule ids. `map` applies the XDF 2 → XDF 3
/// mapping of ids and versions; conditional elements are optional after an export.
fn signature(elements: &[Element], map: bool, exported: bool) -> Value {
    let id = |s: &str| if map { xdf3_id(s) } else { s.to_string() };
    let ver = |s: &str| if map { xdf3_version(s) } else { s.to_string() };
    Value::Array(
        elements
            .iter()
            .map(|e| {
                let min = if exported && e.condition().is_some() {
                    0
                } else {
                    e.min()
                };
                match e {
                    Element::Group(g) => json!({
                        "group": id(&g.id), "version": ver(&g.version), "min": min, "max": g.max,
                        "label": g.label, "help": g.help,
                        "rules": g.rules.iter().map(|r| id(&r.id)).collect::<Vec<_>>(),
                        "children": signature(&g.children, map, exported),
                    }),
                    Element::Field(f) => json!({
                        "field": id(&f.id), "version": ver(&f.version), "min": min, "max": f.max,
                        "kind": f.kind, "datatype": f.datatype, "constraints": f.constraints,
                        "codes": f.code_list.as_ref().map(|c| c.values.clone()),
                        "label": f.label, "help": f.help, "content": f.content,
                        "media_types": f.media_types, "max_size": f.max_size,
                        "rules": f.rules.iter().map(|r| id(&r.id)).collect::<Vec<_>>(),
                    }),
                }
            })
            .collect(),
    )
}

#[test]
fn hundesteuer_round_trip() {
    let form = hundesteuer();
    let back = import(export_xdf3(&form).as_bytes(), &NoCodeLists).unwrap();
    assert!(back.warnings.is_empty(), "{:?}", back.warnings);
    assert_eq!((back.groups, back.fields), (3, 20));
    let f = &back.form;
    assert_eq!(
        (f.id.as_str(), f.version.as_str(), f.title.as_str()),
        (form.id.as_str(), "1.0.0", form.title.as_str())
    );
    assert_eq!(f.description, form.description);
    assert_eq!(f.help, form.help);
    assert_eq!(f.source.as_ref().unwrap().xdf_version, XdfVersion::V3);
    // Groups and fields are the same, except: conditions become rules on the parent group
    // (R + digits of the element) and conditional elements become optional.
    let mut expected = signature(&form.elements, false, true);
    expected[1]["rules"] = json!(["R99000000015", "R99000000018"]);
    assert_eq!(signature(&f.elements, false, false), expected);
    let Element::Group(dog) = &f.elements[1] else {
        panic!()
    };
    let text = dog.rules[0].text.as_deref().unwrap();
    assert!(
        text.contains("F99000000015")
            && text.contains("F99000000014")
            && text.contains("\"gefaehrlicher_hund\""),
        "{text}"
    );
}

#[test]
fn blaue_karte_round_trip_with_xdf3_ids() {
    let form = blaue_karte();
    let back = import(export_xdf3(form).as_bytes(), &NoCodeLists).unwrap();
    assert_eq!((back.groups, back.fields), (23, 71));
    assert_eq!(back.form.id, "S00000000121");
    assert_eq!(back.form.version, "1.0.0");
    assert_eq!(
        signature(&back.form.elements, false, false),
        signature(&form.elements, true, true)
    );
    // Rule texts refer to the new ids.
    let Element::Group(kv) = back
        .form
        .elements
        .iter()
        .find(|e| e.id() == "G00000000636")
        .unwrap()
    else {
        panic!()
    };
    assert!(
        kv.rules[0]
            .text
            .as_deref()
            .unwrap()
            .contains("F00000001028")
    );
    // A second export of the re-imported form is identical to the first (fixpoint).
    assert_eq!(
        export_xdf3(&back.form).replace("S00000000121", "X"),
        export_xdf3(
            &import(export_xdf3(&back.form).as_bytes(), &NoCodeLists)
                .unwrap()
                .form
        )
        .replace("S00000000121", "X")
    );
}

#[test]
fn ids_and_versions_are_mapped_like_the_reference_converter() {
    assert_eq!(xdf3_id("F00000227"), "F00000000227");
    assert_eq!(xdf3_id("G60000001"), "G60000000001");
    assert_eq!(xdf3_id("F60000000243"), "F60000000243");
    assert_eq!(xdf3_id("F123"), "F123");
    assert_eq!(xdf3_version("1.0"), "1.0.0");
    assert_eq!(xdf3_version("1.2.0"), "1.2.0");
    assert_eq!(xdf3_version(""), "1.0.0");
    assert_eq!(
        rathaus_forms::xdf::export::xdf3_ids_in_text(
            "\"F00001028 X\" wenn F00001027, nicht XF00001027"
        ),
        "\"F00000001028 X\" wenn F00000001027, nicht XF00001027"
    );
    // The reference conversion uses the same ids for every element of Blaue Karte.
    let (reference_xdf3, _) = blaue_karte_reference();
    let reference = import(&std::fs::read(reference_xdf3).unwrap(), &NoCodeLists).unwrap();
    let ours = import(export_xdf3(blaue_karte()).as_bytes(), &NoCodeLists).unwrap();
    let ids = |f: &Form| {
        let mut v = Vec::new();
        f.walk(|e| v.push((e.id().to_string(), e.version().to_string(), e.anzahl())));
        v
    };
    assert_eq!(ids(&ours.form), ids(&reference.form));
    assert_eq!((reference.groups, reference.fields), (23, 71));
}
