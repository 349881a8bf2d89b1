//! The CEN unit tests (`shared/testdata/en16931-unit/`): every rule in a test set's scope fires or
//! stays silent as each test states, with the EN 16931 layer alone.

use crate::{shared, validator, xml_files};
use rathaus_einvoice::Layer;
use rathaus_einvoice::xml::{Document, Kind, Limits, NONE, Names};
use std::collections::BTreeSet;

const VEFA: &str = "http://difi.no/xsd/vefa/validator/1.0";

fn is(doc: &Document, id: u32, local: &str) -> bool {
    doc.node(id).kind == Kind::Element
        && doc
            .qname(id)
            .is_some_and(|q| &*q.ns == VEFA && &*q.local == local)
}

fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    out
}

/// Writes a subtree as a standalone document, declaring the namespaces in scope at its root.
fn serialize(doc: &Document, id: u32, root: bool, out: &mut String) {
    let n = doc.node(id);
    match n.kind {
        Kind::Text => out.push_str(&escape(&doc.string_value(id), false)),
        Kind::Element => {
            let Some(q) = doc.qname(id) else { return };
            let name = q.display();
            out.push('<');
            out.push_str(&name);
            let decls: Vec<(String, String)> = if root {
                let mut seen = std::collections::HashMap::new();
                for (p, u) in doc.in_scope_namespaces(id) {
                    seen.insert(p, u);
                }
                seen.into_iter().collect()
            } else {
                doc.ns_decls
                    .iter()
                    .filter(|d| d.node == id)
                    .map(|d| (d.prefix.to_string(), d.uri.to_string()))
                    .collect()
            };
            for (p, u) in decls {
                if p.is_empty() {
                    out.push_str(&format!(" xmlns=\"{}\"", escape(&u, true)));
                } else {
                    out.push_str(&format!(" xmlns:{p}=\"{}\"", escape(&u, true)));
                }
            }
            for a in doc.attributes(id) {
                if let Some(aq) = doc.qname(a) {
                    out.push_str(&format!(
                        " {}=\"{}\"",
                        aq.display(),
                        escape(&doc.string_value(a), true)
                    ));
                }
            }
            out.push('>');
            for c in doc.children(id) {
                serialize(doc, c, false, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        _ => {}
    }
}

struct Case {
    file: String,
    index: usize,
    must_fire: BTreeSet<String>,
    must_not_fire: BTreeSet<String>,
    xml: String,
}

fn cases() -> (Vec<Case>, usize) {
    let dir = shared().join("testdata/en16931-unit");
    let mut out = Vec::new();
    let mut sets = 0;
    for f in xml_files(&dir) {
        let bytes = std::fs::read(&f).expect("test set");
        let doc = Document::parse(&bytes, Limits::default(), &Names::default())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let Some(root) = doc.root_element() else {
            continue;
        };
        if !is(&doc, root, "testSet") {
            continue;
        }
        sets += 1;
        let mut scope = BTreeSet::new();
        for a in doc.children(root).filter(|&c| is(&doc, c, "assert")) {
            for s in doc.children(a).filter(|&c| is(&doc, c, "scope")) {
                scope.insert(doc.string_value(s).trim().to_string());
            }
        }
        let tests: Vec<u32> = doc
            .children(root)
            .filter(|&c| is(&doc, c, "test"))
            .collect();
        for (index, t) in tests.into_iter().enumerate() {
            let mut must_fire = BTreeSet::new();
            let mut stated = BTreeSet::new();
            let mut invoice = NONE;
            for c in doc.children(t) {
                if is(&doc, c, "assert") {
                    for e in doc.children(c) {
                        let rule = doc.string_value(e).trim().to_string();
                        if is(&doc, e, "error") || is(&doc, e, "warning") {
                            must_fire.insert(rule.clone());
                            stated.insert(rule);
                        } else if is(&doc, e, "success") {
                            stated.insert(rule);
                        }
                    }
                } else if doc.node(c).kind == Kind::Element {
                    invoice = c;
                }
            }
            assert_ne!(
                invoice,
                NONE,
                "{}: test {index} has no invoice",
                f.display()
            );
            // Only rules in scope are judged; a rule in scope that the test does not mention
            // must not fire either (the test set's convention).
            let must_fire: BTreeSet<String> = must_fire.intersection(&scope).cloned().collect();
            let must_not_fire: BTreeSet<String> = scope.difference(&must_fire).cloned().collect();
            let _ = stated;
            let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            serialize(&doc, invoice, true, &mut xml);
            out.push(Case {
                file: f.display().to_string(),
                index,
                must_fire,
                must_not_fire,
                xml,
            });
        }
    }
    (out, sets)
}

#[test]
fn cen_unit_tests_agree() {
    let (cases, sets) = cases();
    assert!(sets >= 200, "only {sets} test sets found");
    let firing = cases.iter().filter(|c| !c.must_fire.is_empty()).count();
    assert!(firing >= 300, "only {firing} cases expect a rule to fire");
    let v = validator();
    let mut failures = Vec::new();
    for c in &cases {
        let report = v.validate(c.xml.as_bytes(), Layer::En16931);
        assert!(
            report.scenario.is_some(),
            "{} #{}: {:?}",
            c.file,
            c.index,
            report.findings
        );
        let fired: BTreeSet<String> = report.findings.iter().map(|f| f.rule.clone()).collect();
        let missing: Vec<&String> = c.must_fire.iter().filter(|r| !fired.contains(*r)).collect();
        let extra: Vec<&String> = c
            .must_not_fire
            .iter()
            .filter(|r| fired.contains(*r))
            .collect();
        if !missing.is_empty() || !extra.is_empty() {
            failures.push(format!(
                "{} test #{}: should fire but did not {missing:?}; fired but should not {extra:?}",
                c.file, c.index
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} CEN unit cases disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!("{} CEN unit cases from {sets} test sets agree", cases.len());
}
