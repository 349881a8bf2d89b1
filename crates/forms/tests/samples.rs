//! JSON Schema and native validation on the sample submissions, compared with the reference
//! JSON Schema generator (XDF3_2_JSON on the reference XDF 3 conversion) and with an
//! independent validator (python jsonschema, Draft 2020-12, format checking on).

use crate::reference::{self, Sample, manifest, python_verdicts, sample, tool};
use crate::*;
use rathaus_forms::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The reference conversion of Blaue Karte (XDF 3) and the reference JSON Schema made from it
/// (made once per test run).
pub fn blaue_karte_reference() -> (&'static Path, &'static Path) {
    static REF: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    let r = REF.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let xdf3 = dir.path().join("S00000121.reference.xdf3.xml");
        let schema = dir.path().join("S00000121.reference.schema.json");
        let (code, out) = tool(&[
            "convert",
            blaue_karte_path().to_str().unwrap(),
            xdf3.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{out}");
        let (code, out) = tool(&[
            "jsonschema",
            xdf3.to_str().unwrap(),
            schema.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{out}");
        (dir, xdf3, schema)
    });
    (&r.1, &r.2)
}

fn write_schema(form: &Form, dir: &Path) -> PathBuf {
    let path = dir.join("ours.schema.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json_schema(form)).unwrap(),
    )
    .unwrap();
    path
}

/// Our three verdicts (native, python on our schema) must equal the expected one for each sample.
fn check_ours(form: &Form, dir: &Path, samples: &[Sample], expected: impl Fn(&Sample) -> bool) {
    let tmp = tempfile::tempdir().unwrap();
    let schema = write_schema(form, tmp.path());
    let files: Vec<PathBuf> = samples.iter().map(|s| dir.join(&s.file)).collect();
    let python = python_verdicts(&schema, &files);
    let mut failures = Vec::new();
    for (s, py) in samples.iter().zip(python) {
        let native = validate(form, &sample(dir, s));
        let want = expected(s);
        if native.is_ok() != want || py != want {
            failures.push(format!(
                "{}: expected {want}, native {:?}, python {py} ({})",
                s.file, native, s.why
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn blaue_karte_samples_agree_with_reference_and_python() {
    let dir = samples_dir("blaue-karte");
    let samples = manifest(&dir);
    assert!(samples.len() >= 30);
    assert!(samples.iter().any(|s| s.valid) && samples.iter().any(|s| !s.valid));
    // Reference schema (keys mapped to XDF 3 ids by the tool): no disagreement.
    let (_, ref_schema) = blaue_karte_reference();
    let (code, out) = tool(&[
        "samples",
        ref_schema.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "reference disagrees:\n{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("ok ")).count(),
        samples.len(),
        "{out}"
    );
    // Our schema in python jsonschema and our native validation: the same verdicts.
    check_ours(blaue_karte(), &dir, &samples, |s| s.valid);
}

/// Where the reference generator differs on purpose (dates without praezisierung are plain
/// strings there), the reference accepts and we refuse; both verdicts are pinned.
#[test]
fn blaue_karte_divergent_date_samples() {
    let dir = samples_dir("blaue-karte/divergent");
    let samples = manifest(&dir);
    let (_, ref_schema) = blaue_karte_reference();
    let (code, out) = tool(&[
        "samples",
        ref_schema.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "reference verdicts changed:\n{out}");
    assert!(samples.iter().all(|s| s.valid && s.ours == Some(false)));
    check_ours(blaue_karte(), &dir, &samples, |s| s.ours.unwrap_or(s.valid));
}

#[test]
fn blaue_karte_schema_structure_matches_reference() {
    // Same properties, required lists, array/object decisions and constraints as the
    // reference, after mapping the keys (XDF 2 → XDF 3 ids). Differences: dates (see above).
    let (_, ref_schema) = blaue_karte_reference();
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(ref_schema).unwrap()).unwrap();
    let ours = json_schema(blaue_karte());
    fn shape(v: &Value, xdf3: bool) -> Value {
        let key = |k: &str| {
            if xdf3 {
                k.to_string()
            } else {
                rathaus_forms::xdf::xdf3_id(k)
            }
        };
        let mut out = serde_json::Map::new();
        for k in [
            "type",
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
            "additionalProperties",
        ] {
            if let Some(x) = v.get(k) {
                out.insert(k.into(), x.clone());
            }
        }
        if let Some(Value::Array(r)) = v.get("required") {
            let mut r: Vec<String> = r.iter().map(|x| key(x.as_str().unwrap())).collect();
            r.sort();
            out.insert("required".into(), serde_json::json!(r));
        }
        if let Some(Value::Object(p)) = v.get("properties") {
            let m: serde_json::Map<String, Value> =
                p.iter().map(|(k, x)| (key(k), shape(x, xdf3))).collect();
            out.insert("properties".into(), Value::Object(m));
        }
        if let Some(items) = v.get("items") {
            let mut i = shape(items, xdf3);
            // The reference leaves out "type": "object" on array items.
            if let Value::Object(m) = &mut i
                && m.contains_key("properties")
            {
                m.insert("type".into(), serde_json::json!("object"));
            }
            out.insert("items".into(), i);
        }
        Value::Object(out)
    }
    assert_eq!(shape(&ours, false), shape(&reference, true));
    // What we add: date format and pattern.
    let date = &ours["properties"]["G00000629"]["properties"]["F00001016"];
    assert_eq!(date["format"], "date");
    assert_eq!(date["pattern"], json_schema::DATE_PATTERN);
    let ref_date = &reference["properties"]["G00000000629"]["properties"]["F00000001016"];
    assert!(ref_date.get("format").is_none() && ref_date.get("pattern").is_none());
}

#[test]
fn hundesteuer_samples_ours_and_reference_on_our_export() {
    let dir = samples_dir("hundesteuer");
    let samples = manifest(&dir);
    assert!(samples.len() >= 20);
    check_ours(&hundesteuer(), &dir, &samples, |s| s.valid);
    // The reference generator on our XDF 3 export: it knows the Wertelisten (enum), patterns,
    // lengths and cardinalities, but no conditions, no date checks and unanchored patterns;
    // where it differs, the manifest says so (reference_valid).
    let tmp = tempfile::tempdir().unwrap();
    let xdf3 = tmp.path().join("hundesteuer.xdf3.xml");
    std::fs::write(&xdf3, export_xdf3(&hundesteuer())).unwrap();
    let ref_schema = tmp.path().join("hundesteuer.reference.schema.json");
    let (code, out) = tool(&[
        "jsonschema",
        xdf3.to_str().unwrap(),
        ref_schema.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let ref_dir = tmp.path().join("samples");
    std::fs::create_dir(&ref_dir).unwrap();
    let mut entries = Vec::new();
    for s in &samples {
        std::fs::copy(dir.join(&s.file), ref_dir.join(&s.file)).unwrap();
        entries.push(
            serde_json::json!({"file": s.file, "valid": s.reference_valid.unwrap_or(s.valid)}),
        );
    }
    std::fs::write(
        ref_dir.join("manifest.json"),
        serde_json::json!({ "samples": entries }).to_string(),
    )
    .unwrap();
    let (code, out) = tool(&[
        "samples",
        ref_schema.to_str().unwrap(),
        ref_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "reference disagrees with the manifest:\n{out}");
    // The wrong codes are rejected by the reference as well (its enum comes from our werte).
    assert!(
        out.contains("ok   invalid-wrong-breed-code.json: rejected"),
        "{out}"
    );
    let differing = samples
        .iter()
        .filter(|s| s.reference_valid.is_some())
        .count();
    assert_eq!(differing, 6);
}

#[test]
fn native_errors_name_every_field_in_german() {
    let form = hundesteuer();
    let dir = samples_dir("hundesteuer");
    let mut data = sample(&dir, &manifest(&dir)[0]);
    data["G99000000001"]["G99000000002"]["F99000000006"] = "5114".into();
    data["G99000000001"]
        .as_object_mut()
        .unwrap()
        .remove("F99000000002");
    data["G99000000003"][0]["F99000000011"] = "wolf".into();
    data["G99000000003"][0]["F99000000015"] = "upload:x".into();
    data["G99000000003"][0]["F99000000013"] = "12345678901234X".into();
    data["F99000000030"] = "ja".into();
    data["F99000000099"] = true.into();
    let dog2 = data["G99000000003"][0].clone();
    data["G99000000003"].as_array_mut().unwrap().push(dog2);
    data["G99000000003"][1]["F99000000010"] = Value::String("x".repeat(51));
    data["G99000000003"][1]["F99000000012"] = "2021-13-01".into();
    let errors = validate(&form, &data).unwrap_err();
    let got: Vec<(String, String)> = errors.into_iter().map(|e| (e.field, e.message)).collect();
    let expect = [
        (
            "F99000000099",
            "Unbekanntes Feld: dieses Formular enthält es nicht.",
        ),
        ("G99000000001/F99000000002", "Pflichtfeld: bitte ausfüllen."),
        (
            "G99000000001/G99000000002/F99000000006",
            "Mindestens 5 Zeichen.",
        ),
        (
            "G99000000003[0]/F99000000011",
            "Ungültige Auswahl „wolf“: bitte einen Eintrag aus der Liste wählen.",
        ),
        (
            "G99000000003[0]/F99000000013",
            "Die Angabe hat nicht das erwartete Format.",
        ),
        (
            "G99000000003[0]/F99000000015",
            "Dieses Feld ist ausgeblendet und darf nicht ausgefüllt werden.",
        ),
        ("G99000000003[1]/F99000000010", "Höchstens 50 Zeichen."),
        (
            "G99000000003[1]/F99000000011",
            "Ungültige Auswahl „wolf“: bitte einen Eintrag aus der Liste wählen.",
        ),
        (
            "G99000000003[1]/F99000000012",
            "Bitte ein gültiges Datum im Format JJJJ-MM-TT angeben.",
        ),
        (
            "G99000000003[1]/F99000000013",
            "Die Angabe hat nicht das erwartete Format.",
        ),
        (
            "G99000000003[1]/F99000000015",
            "Dieses Feld ist ausgeblendet und darf nicht ausgefüllt werden.",
        ),
        ("F99000000030", "Bitte ja oder nein angeben."),
    ];
    let expect: Vec<(String, String)> = expect
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, expect);
    // Counts and arrays.
    let mut data = sample(&dir, &manifest(&dir)[0]);
    data["G99000000003"] = serde_json::json!([]);
    let e = validate(&form, &data).unwrap_err();
    assert_eq!(
        e,
        [FieldError {
            field: "G99000000003".into(),
            message: "Mindestens 1 Einträge.".into()
        }]
    );
    let e = validate(&form, &serde_json::json!([])).unwrap_err();
    assert_eq!(e[0].field, "");
    // Conditions: required when shown.
    let mut data = sample(&dir, &manifest(&dir)[0]);
    data["G99000000003"][0]["F99000000017"] = true.into();
    let e = validate(&form, &data).unwrap_err();
    assert_eq!(
        e,
        [FieldError {
            field: "G99000000003[0]/F99000000018".into(),
            message: "Pflichtfeld: bitte ausfüllen.".into()
        }]
    );
}

#[test]
fn every_sample_file_is_listed() {
    for name in ["blaue-karte", "blaue-karte/divergent", "hundesteuer"] {
        let dir = samples_dir(name);
        let listed: Vec<String> = manifest(&dir).into_iter().map(|s| s.file).collect();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let file = entry.unwrap().file_name().to_string_lossy().into_owned();
            if file.ends_with(".json") && file != "manifest.json" {
                assert!(listed.contains(&file), "{name}/{file} not in manifest");
            }
        }
    }
    let _ = reference::tool_path;
}
