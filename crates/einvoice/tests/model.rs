//! The semantic model reads UBL and CII into the same EN 16931 terms.

use crate::{shared, xml_files};
use rathaus_einvoice::Limits;
use rathaus_einvoice::model::{Invoice, ModelError, SourceSyntax, parse};
use rust_decimal::Decimal;
use std::collections::HashMap;

fn read(path: &std::path::Path) -> Invoice {
    let bytes = std::fs::read(path).expect("file");
    parse(&bytes, Limits::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_test_suite_invoice_has_its_core_terms() {
    let dir = shared().join("testdata/xrechnung/visible");
    let files = xml_files(&dir);
    assert!(files.len() > 60);
    for f in &files {
        let inv = read(f);
        let name = f.display();
        assert!(inv.number.is_some(), "{name}: BT-1");
        let date = inv.issue_date.as_deref().unwrap_or_default();
        assert!(
            date.len() == 10 && date.as_bytes()[4] == b'-',
            "{name}: BT-2 {date:?}"
        );
        assert!(inv.currency.is_some(), "{name}: BT-5");
        assert!(inv.seller.name.is_some(), "{name}: BT-27");
        assert!(inv.buyer.name.is_some(), "{name}: BT-44");
        assert!(!inv.lines.is_empty(), "{name}: BG-25");
        assert!(!inv.vat_breakdown.is_empty(), "{name}: BG-23");
        // BR-CO-10: BT-106 is the sum of the line net amounts (the suite's invoices are valid).
        let sum: Decimal = inv.lines.iter().filter_map(|l| l.net_amount).sum();
        assert_eq!(inv.totals.line_net, Some(sum), "{name}: BT-106");
        assert!(inv.totals.payable.is_some(), "{name}: BT-115");
    }
}

#[test]
fn ubl_and_cii_twins_give_the_same_core_terms() {
    let dir = shared().join("testdata/xrechnung/visible/business-cases/standard");
    let mut by_case: HashMap<String, Vec<Invoice>> = HashMap::new();
    for f in xml_files(&dir) {
        let stem = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let case = stem.split('-').next().unwrap_or_default().to_string();
        by_case.entry(case).or_default().push(read(&f));
    }
    let mut pairs = 0;
    for (case, invoices) in &by_case {
        let (Some(u), Some(c)) = (
            invoices
                .iter()
                .find(|i| i.syntax == SourceSyntax::UblInvoice),
            invoices.iter().find(|i| i.syntax == SourceSyntax::Cii),
        ) else {
            continue;
        };
        pairs += 1;
        assert_eq!(u.number, c.number, "{case}: BT-1");
        assert_eq!(u.issue_date, c.issue_date, "{case}: BT-2");
        assert_eq!(u.currency, c.currency, "{case}: BT-5");
        assert_eq!(u.buyer_reference, c.buyer_reference, "{case}: BT-10");
        assert_eq!(u.seller.name, c.seller.name, "{case}: BT-27");
        assert_eq!(u.totals.payable, c.totals.payable, "{case}: BT-115");
        assert_eq!(u.lines.len(), c.lines.len(), "{case}: BG-25");
    }
    assert!(pairs >= 10, "only {pairs} UBL/CII pairs");
}

#[test]
fn the_model_refuses_what_the_loader_refuses() {
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#;
    assert!(matches!(
        parse(bomb, Limits::default()),
        Err(ModelError::Xml(_))
    ));
    assert!(matches!(
        parse(b"<Invoice xmlns=\"urn:x\"/>", Limits::default()),
        Err(ModelError::NotAnInvoice { .. })
    ));
    let ubl = br#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"><cac:LegalMonetaryTotal><cbc:PayableAmount>zehn</cbc:PayableAmount></cac:LegalMonetaryTotal></Invoice>"#;
    let err = parse(ubl, Limits::default()).expect_err("not a number");
    assert!(err.to_string().contains("BT-115"), "{err}");
    assert!(parse(b"<a>", Limits::default()).is_err());
}
