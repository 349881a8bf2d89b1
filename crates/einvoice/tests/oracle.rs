//! Same verdict and same set of error-level rule ids as `shared/tools/xrechnung-oracle.py` (the
//! official XSLT rules in SaxonC) on every file of `visible/` and `invalid/`.

use crate::{shared, validator, xml_files};
use rathaus_einvoice::Layer;
use std::collections::{BTreeSet, HashMap};
use std::process::Command;

struct Verdict {
    valid: bool,
    errors: BTreeSet<String>,
}

fn error_rules(findings: &serde_json::Value) -> BTreeSet<String> {
    findings
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| matches!(f["severity"].as_str(), Some("fatal" | "error")))
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect()
}

fn oracle(files: &[std::path::PathBuf]) -> HashMap<String, Verdict> {
    let script = shared().join("tools/xrechnung-oracle.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg("--json")
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("python3 {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.trim().is_empty(),
        "the oracle printed nothing (pip install saxonche lxml?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("oracle line {l}: {e}"));
            let file = v["file"].as_str().unwrap_or_default().to_string();
            let verdict = Verdict {
                valid: v["valid"].as_bool().unwrap_or(false),
                errors: error_rules(&v["findings"]),
            };
            (file, verdict)
        })
        .collect()
}

#[test]
fn same_verdicts_and_error_rules_as_the_official_rules() {
    let base = shared().join("testdata/xrechnung");
    let mut files = xml_files(&base.join("visible"));
    files.extend(xml_files(&base.join("invalid")));
    assert!(
        files.len() >= 90,
        "test suite incomplete: {} files",
        files.len()
    );
    let expected = oracle(&files);
    let v = validator();
    let mut disagreements = Vec::new();
    for f in &files {
        let key = f.display().to_string();
        let Some(exp) = expected.get(&key) else {
            disagreements.push(format!("{key}: no oracle verdict"));
            continue;
        };
        let bytes = std::fs::read(f).unwrap_or_else(|e| panic!("{key}: {e}"));
        let report = v.validate(&bytes, Layer::All);
        let ours: BTreeSet<String> = report.error_rules().into_iter().collect();
        if report.valid != exp.valid || ours != exp.errors {
            disagreements.push(format!(
                "{key}: oracle valid={} {:?}, rathaus valid={} {:?}",
                exp.valid, exp.errors, report.valid, ours
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} files disagree:\n{}",
        disagreements.len(),
        files.len(),
        disagreements.join("\n")
    );
}

#[test]
fn manifest_of_the_broken_invoices_holds() {
    // The manifest states the official error set of every broken invoice; checked without the
    // oracle so that this holds even where Python is missing.
    let dir = shared().join("testdata/xrechnung/invalid");
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).expect("manifest.tsv");
    let v = validator();
    let mut checked = 0;
    for line in manifest.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let mut cols = line.split('\t');
        let (Some(file), Some(rules)) = (cols.next(), cols.next()) else {
            continue;
        };
        let expected: BTreeSet<String> = rules.split(',').map(|r| r.trim().to_string()).collect();
        let bytes = std::fs::read(dir.join(file)).expect("broken invoice");
        let report = v.validate(&bytes, Layer::All);
        let ours: BTreeSet<String> = report.error_rules().into_iter().collect();
        assert!(!report.valid, "{file} accepted");
        assert_eq!(ours, expected, "{file}: {:#?}", report.findings);
        checked += 1;
    }
    assert_eq!(checked, 30);
}

#[test]
fn every_finding_carries_rule_severity_location_and_text() {
    let f = shared().join("testdata/xrechnung/invalid/line-sum-mismatch_01.01a-INVOICE_ubl.xml");
    let report = validator().validate(&std::fs::read(f).expect("file"), Layer::All);
    let co10 = report
        .findings
        .iter()
        .find(|f| f.rule == "BR-CO-10")
        .expect("BR-CO-10 fires");
    assert_eq!(co10.severity, rathaus_einvoice::Severity::Fatal);
    assert!(
        co10.location.starts_with("/*:Invoice[namespace-uri()="),
        "{}",
        co10.location
    );
    assert!(co10.text.contains("BR-CO-10"), "{}", co10.text);
    let json = serde_json::to_value(co10).expect("serialises");
    assert_eq!(json["severity"], "fatal");
}
