//! Any bytes: the secure loader, the streaming model reader, the readable view and the XPath
//! evaluation over the loaded tree must return a value or an error, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rathaus_einvoice::xml::{Document, Limits, Names};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_bytes: 1 << 20,
        max_depth: 64,
        max_nodes: 100_000,
    };
    if let Ok(doc) = Document::parse(data, limits, &Names::default()) {
        if let Some(root) = doc.root_element() {
            let _ = doc.string_value(root);
            let _ = rathaus_einvoice::schematron::location(&doc, doc.subtree_end(root));
        }
    }
    if let Ok(invoice) = rathaus_einvoice::model::parse(data, limits) {
        let _ = invoice.view();
    }
});
