//! The readable view shows every value of the source document ("nothing dropped"), and the
//! main terms exactly.

use crate::{shared, xml_files};
use quick_xml::events::Event;
use rathaus_einvoice::Limits;
use rathaus_einvoice::model::parse;
use rathaus_einvoice::view::{Section, View};
use rust_decimal::Decimal;
use std::path::Path;
use std::str::FromStr;

/// Leaf elements whose text the view does not show, with the reason:
/// - UBL `TaxScheme/ID` and CII tax `TypeCode` are always `VAT` (for a party, `FC` selects
///   BT-32 instead of BT-31: the value chooses the term, it is not one);
/// - `ChargeIndicator` decides between allowance (BG-20/27) and charge (BG-21/28): the view shows
///   them in separate tables;
/// - document type codes of references (UBL `DocumentTypeCode`, CII `TypeCode` of
///   `AdditionalReferencedDocument`: 130, 50, 916) decide between BT-18/BT-128, BT-17 and BG-24;
/// - the base64 content of attachments (`EmbeddedDocumentBinaryObject`,
///   `AttachmentBinaryObject`): the view shows file name, mime type and size;
/// - UBL `UBLVersionID`.
fn technical(path: &[String]) -> bool {
    let name = path.last().map(String::as_str).unwrap_or_default();
    let parent = path
        .len()
        .checked_sub(2)
        .map(|i| path[i].as_str())
        .unwrap_or_default();
    match name {
        "ID" => parent == "TaxScheme",
        "TypeCode" => matches!(
            parent,
            "ApplicableTradeTax" | "CategoryTradeTax" | "AdditionalReferencedDocument"
        ),
        "ChargeIndicator" | "Indicator" => true,
        "DocumentTypeCode" => matches!(parent, "AdditionalDocumentReference" | "DocumentReference"),
        "EmbeddedDocumentBinaryObject" | "AttachmentBinaryObject" | "UBLVersionID" => true,
        _ => false,
    }
}

/// `(path, text)` of every leaf element with text.
fn leaves(xml: &[u8]) -> Vec<(Vec<String>, String)> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut stack: Vec<(String, String, bool)> = Vec::new();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).expect("xml") {
            Event::Start(e) => {
                if let Some(top) = stack.last_mut() {
                    top.2 = true;
                }
                let name = e.local_name().as_ref().to_string();
                stack.push((name, String::new(), false));
            }
            Event::Empty(_) => {
                if let Some(top) = stack.last_mut() {
                    top.2 = true;
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.1.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.1.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(g) => {
                if let Some(top) = stack.last_mut() {
                    let c = match g.resolve_char_ref().expect("ref") {
                        Some(c) => c,
                        None => match &*g.xml10_content() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            _ => '\'',
                        },
                    };
                    top.1.push(c);
                }
            }
            Event::End(_) => {
                let path: Vec<String> = stack.iter().map(|s| s.0.clone()).collect();
                let (_, text, has_children) = stack.pop().expect("stack");
                if !has_children && !text.trim().is_empty() {
                    out.push((path, text.trim().to_string()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

fn collect(s: &Section, out: &mut Vec<String>) {
    for t in &s.terms {
        out.push(t.value.clone());
    }
    for t in &s.tables {
        for r in &t.rows {
            out.extend(r.iter().cloned());
        }
    }
    for sub in &s.subsections {
        collect(sub, out);
    }
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `needle` occurs in `hay` not inside a longer word or number.
fn contains_word(hay: &str, needle: &str) -> bool {
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    hay.match_indices(needle).any(|(i, _)| {
        boundary(hay[..i].chars().next_back()) && boundary(hay[i + needle.len()..].chars().next())
    })
}

/// Forms in which a source value may appear: as is, a date as `TT.MM.JJJJ`.
fn forms(v: &str) -> Vec<String> {
    let mut f = vec![normalise(v)];
    let b = v.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        f.push(format!("{}.{}.{}", &v[8..10], &v[5..7], &v[..4]));
    }
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        f.push(format!("{}.{}.{}", &v[6..8], &v[4..6], &v[..4]));
    }
    f
}

fn shown(values: &[String], v: &str) -> bool {
    let f = forms(v);
    if values.iter().any(|h| f.iter().any(|n| contains_word(h, n))) {
        return true;
    }
    // Decimal numbers compare numerically.
    let Ok(d) = Decimal::from_str(v.trim()) else {
        return false;
    };
    values.iter().any(|h| {
        h.split(|c: char| c.is_whitespace() || "()%;".contains(c))
            .any(|tok| Decimal::from_str(tok).is_ok_and(|x| x == d))
    })
}

fn view_of(path: &Path) -> View {
    let bytes = std::fs::read(path).expect("file");
    parse(&bytes, Limits::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .view()
}

#[test]
fn the_view_shows_every_value_of_the_test_suite() {
    let files = xml_files(&shared().join("testdata/xrechnung/visible"));
    assert_eq!(files.len(), 65);
    let mut missing = Vec::new();
    let mut extras = Vec::new();
    let mut checked = 0;
    for f in &files {
        let bytes = std::fs::read(f).expect("file");
        let view = match parse(&bytes, Limits::default()) {
            Ok(inv) => inv.view(),
            Err(e) => {
                missing.push(format!("{}: {e}", f.display()));
                continue;
            }
        };
        let mut values = Vec::new();
        for s in &view.sections {
            collect(s, &mut values);
        }
        let values: Vec<String> = values.iter().map(|v| normalise(v)).collect();
        for (path, text) in leaves(&bytes) {
            if technical(&path) {
                continue;
            }
            checked += 1;
            if !shown(&values, &text) {
                missing.push(format!(
                    "{}: {} = {text:?}",
                    f.display(),
                    path[1..].join("/")
                ));
            }
        }
        if let Some(s) = view.sections.iter().find(|s| s.id == "weitere-angaben") {
            extras.push(format!("{}: {:?}", f.display(), s.tables[0].rows));
        }
    }
    assert!(checked > 5000, "only {checked} values checked");
    for e in &extras {
        eprintln!("weitere Angaben: {e}");
    }
    assert!(
        missing.is_empty(),
        "{} values not shown:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

/// The value of the first term with this id anywhere in the view.
fn term<'v>(view: &'v View, id: &str) -> Option<&'v str> {
    fn find<'s>(s: &'s Section, id: &str) -> Option<&'s str> {
        s.terms
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.value.as_str())
            .or_else(|| s.subsections.iter().find_map(|s| find(s, id)))
    }
    view.sections.iter().find_map(|s| find(s, id))
}

fn section<'v>(view: &'v View, id: &str) -> &'v Section {
    view.sections
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("section {id}"))
}

/// The same terms, shown the same way, in the UBL and the CII form of the comprehensive test.
fn check_comprehensive(file: &str, buyer: &str) {
    let dir = shared().join("testdata/xrechnung/visible/technical-cases/cius");
    let v = view_of(&dir.join(file));
    assert_eq!(v.title, "Rechnung 1234567", "{file}");
    let expect = [
        ("BT-1", "1234567"),
        ("BT-2", "13.04.2018"),
        ("BT-3", "380 – Rechnung"),
        ("BT-5", "EUR"),
        ("BT-10", "90000000-03083-72"),
        ("BT-27", "[Seller name]"),
        ("BT-44", buyer),
        ("BT-112", "12829.69 EUR"),
        ("BT-115", "12829.69 EUR"),
    ];
    for (id, value) in expect {
        assert_eq!(term(&v, id), Some(value), "{file}: {id}");
    }
    // BG-17: both credit transfers.
    let pay = section(&v, "BG-16");
    let transfers = &pay.tables[0];
    assert_eq!(transfers.caption, "Überweisung (BG-17)");
    assert_eq!(transfers.columns[0], "Kontonummer / IBAN (BT-84)");
    let accounts: Vec<&str> = transfers.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        accounts,
        ["DE79000000001234567890", "DE16000000002345678901"],
        "{file}"
    );
    // Terms appear once per id and only with a value.
    let head = section(&v, "uebersicht");
    assert!(head.terms.iter().all(|t| !t.value.is_empty()));
    assert!(head.terms[0].label == "Rechnungsnummer (BT-1)", "{file}");

    // The first line.
    let lines = section(&v, "BG-25");
    let first = &lines.subsections[0];
    assert_eq!(first.title, "Position 1", "{file}");
    let line_term = |id: &str| {
        let mut s = first.clone();
        s.subsections
            .retain(|s| !s.title.starts_with("Unterposition"));
        term(
            &View {
                title: String::new(),
                sections: vec![s],
            },
            id,
        )
        .map(str::to_string)
    };
    assert_eq!(line_term("BT-153").as_deref(), Some("Beratung"), "{file}");
    assert_eq!(
        line_term("BT-131").as_deref(),
        Some("4743.75 EUR"),
        "{file}"
    );
    let overview = &lines.tables[0];
    assert_eq!(overview.caption, "Übersicht der Positionen");
    assert_eq!(overview.columns.len(), overview.numeric.len());
    assert_eq!(overview.rows.len(), lines.subsections.len(), "{file}");

    // BG-20 and BG-21: two allowances, two charges.
    let ac = section(&v, "nachlaesse-zuschlaege");
    let allowances = ac
        .tables
        .iter()
        .find(|t| t.caption.contains("BG-20"))
        .expect("BG-20");
    let charges = ac
        .tables
        .iter()
        .find(|t| t.caption.contains("BG-21"))
        .expect("BG-21");
    assert_eq!(allowances.rows.len(), 2, "{file}");
    assert_eq!(charges.rows.len(), 2, "{file}");
    let col = |t: &rathaus_einvoice::view::Table, prefix: &str| {
        t.columns
            .iter()
            .position(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("{file}: column {prefix}"))
    };
    let amount = &allowances.rows[0][col(allowances, "Betrag (BT-92)")];
    let (n, cur) = amount.split_once(' ').expect("amount and currency");
    assert_eq!(Decimal::from_str(n).ok(), Some(Decimal::from(10)), "{file}");
    assert_eq!(cur, "EUR", "{file}");
    assert_eq!(
        allowances.rows[0][col(allowances, "Grund (BT-97)")],
        "Fixed long term"
    );
    assert_eq!(
        allowances.rows[0][col(allowances, "Grund-Code (BT-98)")],
        "102"
    );
    assert_eq!(charges.rows[1][col(charges, "Grund (BT-104)")], "Testing 2");
    assert_eq!(charges.rows[1][col(charges, "Grund-Code (BT-105)")], "TAC");
    assert!(
        charges.rows[1][col(charges, "USt-Kategorie (BT-102)")].starts_with("E – "),
        "{file}"
    );
    assert!(
        v.sections.iter().all(|s| s.id != "weitere-angaben"),
        "{file}"
    );
}

#[test]
fn ubl_terms_are_shown_exactly() {
    check_comprehensive("01.01_comprehensive_test_ubl.xml", "[Buyer trading name]");
}

#[test]
fn cii_terms_are_shown_exactly() {
    check_comprehensive("01.01_comprehensive_test_uncefact.xml", "[Buyer name]");
}
