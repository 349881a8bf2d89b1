//! Running the reference tools: `fim-reference.py` (vs5000 XSLTs in saxonche), python
//! `jsonschema` and `xmllint`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Path of `fim-reference.py`, relative to the crate as CI checks it out.
pub fn tool_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/fim-reference.py")
}

/// Runs `fim-reference.py ARGS`; returns (exit code, stdout). Panics if python cannot run.
pub fn tool(args: &[&str]) -> (i32, String) {
    let out = Command::new("python3")
        .arg(tool_path())
        .args(args)
        .output()
        .expect("python3 must be installed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("Traceback"),
        "fim-reference.py {args:?} failed:\n{stderr}"
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// One QS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qs {
    /// FehlerKritisch, FehlerMethodisch, Warnung, Hinweis.
    pub severity: String,
    /// Message code (e.g. 1010).
    pub code: String,
    /// Element id the message is about.
    pub at: String,
}

/// The QS-DF report of an XDF file. Asserts that the QS stylesheet recognised the document
/// (the summary line is there and the report is not the "unknown format" page, which has no
/// messages at all: QS-DF 1.20 only recognises the prefix `xdf3:`).
pub fn qs(path: &Path) -> Vec<Qs> {
    let (code, out) = tool(&["qs", path.to_str().unwrap()]);
    assert!(
        out.contains(" Fehler, "),
        "no QS summary for {}:\n{out}",
        path.display()
    );
    let msgs: Vec<Qs> = out
        .lines()
        .filter_map(|l| {
            let l = l.strip_prefix("  ")?;
            let mut parts = l.splitn(3, ' ');
            let severity = parts.next()?.to_string();
            let code = parts.next()?.to_string();
            let at = parts
                .next()?
                .strip_prefix('@')?
                .split(':')
                .next()?
                .to_string();
            Some(Qs { severity, code, at })
        })
        .collect();
    let fehler = msgs
        .iter()
        .filter(|m| m.severity.starts_with("Fehler"))
        .count();
    assert_eq!(code == 1, fehler > 0, "exit code {code} vs {fehler} Fehler");
    msgs
}

/// Codes of the messages of severity Fehler*.
pub fn fehler_codes(msgs: &[Qs]) -> std::collections::BTreeSet<String> {
    msgs.iter()
        .filter(|m| m.severity.starts_with("Fehler"))
        .map(|m| m.code.clone())
        .collect()
}

/// Verdicts (accepted?) of python `jsonschema` (Draft202012Validator with format checking) for
/// each file against the schema; also checks the schema itself against the meta-schema.
pub fn python_verdicts(schema: &Path, files: &[PathBuf]) -> Vec<bool> {
    let script = r#"
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1], encoding="utf-8"))
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
print(json.dumps([not list(v.iter_errors(json.load(open(f, encoding="utf-8")))) for f in sys.argv[2:]]))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(schema)
        .args(files)
        .output()
        .expect("python3 must be installed");
    assert!(
        out.status.success(),
        "python jsonschema failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("verdicts")
}

/// Runs `xmllint --noout --schema XSD XML`; true if valid.
pub fn xmllint(xsd: &Path, xml: &Path) -> (bool, String) {
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd)
        .arg(xml)
        .output()
        .expect("xmllint (libxml2-utils) must be installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An entry of a sample manifest.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Sample {
    /// File name in the sample directory.
    pub file: String,
    /// Our verdict (for `divergent/`: the reference's verdict).
    pub valid: bool,
    /// The reference's verdict where it differs from ours.
    #[serde(default)]
    pub reference_valid: Option<bool>,
    /// Our verdict in `divergent/` manifests.
    #[serde(default)]
    pub ours: Option<bool>,
    /// Why.
    #[serde(default)]
    pub why: String,
}

/// The samples of `dir/manifest.json`.
pub fn manifest(dir: &Path) -> Vec<Sample> {
    #[derive(serde::Deserialize)]
    struct M {
        samples: Vec<Sample>,
    }
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_str::<M>(&text).expect("manifest").samples
}

/// Reads a sample.
pub fn sample(dir: &Path, s: &Sample) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(&s.file)).unwrap()).unwrap()
}
