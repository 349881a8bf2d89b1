//! Integration tests of the E-Rechnung crate: agreement with the official rules (the oracle in
//! SaxonC) on the XRechnung test suite and the broken invoices, the CEN unit tests, bad input.

mod bad_input;
mod cen_unit;
mod model;
mod oracle;
mod view;

use rathaus_einvoice::Validator;
use std::path::PathBuf;
use std::sync::OnceLock;

/// `../shared` beside the project root.
pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// The KoSIT configuration.
pub fn config_dir() -> PathBuf {
    shared().join("testdata/xrechnung/config")
}

/// One validator for all tests (loading compiles about 1,900 rules).
pub fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| match Validator::load(&config_dir()) {
        Ok(v) => v,
        Err(e) => panic!("configuration: {e}"),
    })
}

/// All `.xml` files below a directory, sorted.
pub fn xml_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "xml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
