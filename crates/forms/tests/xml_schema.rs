//! XML of submissions: every accepted sample, converted to XML, is valid against the generated
//! XSD (xmllint); rejected samples with a wrong value are invalid there too.

use crate::reference::{manifest, sample, xmllint};
use crate::*;
use rathaus_forms::*;

/// Samples rejected in JSON must fail in the XSD too where XML can tell (not for JSON type
/// errors like `"true"` for a boolean, which become the same XML text, nor for conditions).
fn check_dir(form: &Form, name: &str, must_fail_in_xsd: &[&str]) {
    let dir = samples_dir(name);
    let tmp = tempfile::tempdir().unwrap();
    let xsd_path = tmp.path().join("form.xsd");
    std::fs::write(&xsd_path, xsd(form)).unwrap();
    let mut checked = 0;
    for s in manifest(&dir) {
        let data = sample(&dir, &s);
        let xml_path = tmp.path().join(s.file.replace(".json", ".xml"));
        if s.valid {
            std::fs::write(&xml_path, to_xml(form, &data).unwrap()).unwrap();
            let (ok, msg) = xmllint(&xsd_path, &xml_path);
            assert!(ok, "{name}/{}: {msg}", s.file);
            checked += 1;
        } else if must_fail_in_xsd.contains(&s.file.as_str()) {
            std::fs::write(&xml_path, to_xml(form, &data).unwrap()).unwrap();
            let (ok, msg) = xmllint(&xsd_path, &xml_path);
            assert!(!ok, "{name}/{} must be invalid", s.file);
            assert!(msg.contains("fails to validate"), "{msg}");
            checked += 1;
        }
    }
    assert!(checked >= 5);
}

#[test]
fn blaue_karte_samples_as_xml() {
    check_dir(
        blaue_karte(),
        "blaue-karte",
        &[
            "invalid-missing-required-field.json",
            "invalid-missing-required-group.json",
            "invalid-too-long.json",
            "invalid-too-short.json",
            "invalid-empty-string-minlength.json",
            "invalid-number-as-string.json",
            "invalid-bool-as-string.json",
            "invalid-bool-as-number.json",
            "invalid-too-many-lines.json",
            "invalid-too-few-lines.json",
            "invalid-empty-repeated-group.json",
            "invalid-repeated-group-entry.json",
        ],
    );
    // The divergent dates (accepted by the reference JSON Schema, refused by ours) fail in the
    // XSD as in our JSON Schema.
    let dir = samples_dir("blaue-karte/divergent");
    let tmp = tempfile::tempdir().unwrap();
    let xsd_path = tmp.path().join("form.xsd");
    std::fs::write(&xsd_path, xsd(blaue_karte())).unwrap();
    for s in manifest(&dir) {
        let p = tmp.path().join("x.xml");
        std::fs::write(&p, to_xml(blaue_karte(), &sample(&dir, &s)).unwrap()).unwrap();
        assert!(!xmllint(&xsd_path, &p).0, "{}", s.file);
    }
}

#[test]
fn hundesteuer_samples_as_xml() {
    check_dir(
        &hundesteuer(),
        "hundesteuer",
        &[
            "invalid-six-dogs.json",
            "invalid-wrong-breed-code.json",
            "invalid-wrong-kind-code.json",
            "invalid-chip-pattern.json",
            "invalid-chip-too-short.json",
            "invalid-postal-code.json",
            "invalid-email-with-space.json",
            "invalid-birthdate-format.json",
            "invalid-date-impossible.json",
            "invalid-missing-confirmation.json",
            "invalid-name-too-long.json",
        ],
    );
}

#[test]
fn xml_shape_and_errors() {
    let form = hundesteuer();
    let dir = samples_dir("hundesteuer");
    let data = sample(&dir, &manifest(&dir)[0]);
    let xml = to_xml(&form, &data).unwrap();
    assert!(
        xml.contains("<S99000000001 xmlns=\"urn:rathaus:forms:S99000000001:1.0.0\">"),
        "{xml}"
    );
    assert!(
        xml.contains("<G99000000003><F99000000010>Bello</F99000000010>"),
        "{xml}"
    );
    assert!(xml.contains("<F99000000030>true</F99000000030>"));
    let x = xsd(&form);
    assert!(x.contains("targetNamespace=\"urn:rathaus:forms:S99000000001:1.0.0\""));
    assert!(x.contains("<xs:element name=\"G99000000003\" minOccurs=\"1\" maxOccurs=\"5\">"));
    // The conditional proof is optional in the XSD.
    assert!(x.contains("<xs:element name=\"F99000000015\" minOccurs=\"0\" maxOccurs=\"1\">"));
    assert!(!x.contains("F99000000019"), "label fields carry no data");
    let mut bad = data.clone();
    bad["G99000000003"][0]["F99000000099"] = "x".into();
    assert_eq!(
        to_xml(&form, &bad).unwrap_err(),
        XmlExportError::UnknownKey {
            path: "G99000000003[0]/F99000000099".into()
        }
    );
    let mut bad = data.clone();
    bad["G99000000003"] = bad["G99000000003"][0].clone();
    assert!(matches!(
        to_xml(&form, &bad),
        Err(XmlExportError::NotAList { .. })
    ));
    let mut bad = data;
    bad["F99000000030"] = serde_json::json!({"a": 1});
    assert!(
        to_xml(&form, &bad)
            .unwrap_err()
            .to_string()
            .contains("einzelner Wert")
    );
}
