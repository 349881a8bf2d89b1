//! Integration tests of the forms crate: FIM import of the real fixtures, JSON Schema and
//! native validation against the reference generator (vs5000 XSLTs via saxonche) and python
//! jsonschema, XDF 3 export against the official quality checks (QS-DF), XML Schema of
//! submissions with xmllint. The reference tools must be installed (CI installs them): tests
//! that need them fail, they do not skip.

mod export;
mod import;
mod model;
mod reference;
mod samples;
mod xml_schema;

use rathaus_forms::{Form, NoCodeLists, import};
use std::path::PathBuf;
use std::sync::OnceLock;

/// `/work/shared` (three levels above the crate).
pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// The XDatenfelder fixtures.
pub fn xdf_dir() -> PathBuf {
    shared().join("testdata/xdatenfelder")
}

/// The Blaue-Karte schema (XDF 2).
pub fn blaue_karte_path() -> PathBuf {
    xdf_dir().join("v2/S00000121_Antrag_Blaue_Karte_EU.xdf2.xml")
}

/// The sample directory of a form.
pub fn samples_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/samples")
        .join(name)
}

/// Reads a fixture.
pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(xdf_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Blaue Karte imported without code lists (imported once).
pub fn blaue_karte() -> &'static Form {
    static FORM: OnceLock<Form> = OnceLock::new();
    FORM.get_or_init(|| {
        import(&std::fs::read(blaue_karte_path()).unwrap(), &NoCodeLists)
            .expect("Blaue Karte imports")
            .form
    })
}
