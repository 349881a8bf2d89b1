//! Bad input gets a clear finding, never a crash or a hang.

use crate::{shared, validator};
use rathaus_einvoice::{Layer, Limits, Report, Severity, Validator, XmlError};
use std::time::{Duration, Instant};

fn only(report: &Report) -> &rathaus_einvoice::Finding {
    assert!(!report.valid, "accepted: {report:?}");
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    &report.findings[0]
}

fn check(xml: &[u8], rule: &str, needle: &str) {
    let started = Instant::now();
    let report = validator().validate(xml, Layer::All);
    assert!(started.elapsed() < Duration::from_secs(5), "too slow");
    let f = only(&report);
    assert_eq!(f.rule, rule, "{f:?}");
    assert_eq!(f.severity, Severity::Fatal);
    assert!(
        f.text.contains(needle),
        "{:?} does not mention {needle:?}",
        f.text
    );
}

#[test]
fn malformed_xml_is_a_fatal_finding_with_its_line() {
    check(
        b"<?xml version=\"1.0\"?>\n<Invoice>\n<a></b>\n</Invoice>",
        "XML",
        "Zeile 3",
    );
    check(b"", "XML", "kein Wurzelelement");
    check(b"<a/><b/>", "XML", "mehr als ein Wurzelelement");
    check(b"<a>", "XML", "Dateiende");
    check(b"\xff\xfe<a/>", "XML", "UTF-8");
}

#[test]
fn billion_laughs_is_refused_without_expansion() {
    let mut xml =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        xml.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    xml.push_str("]>\n<lolz>&lol9;</lolz>");
    check(xml.as_bytes(), "XML", "DOCTYPE");
    // The test suite's own file as well.
    let file = shared().join("testdata/xrechnung/invalid/billion-laughs.xml");
    check(&std::fs::read(file).expect("file"), "XML", "DOCTYPE");
}

#[test]
fn external_and_undeclared_entities_are_refused() {
    let xxe = b"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
    check(xxe, "XML", "DOCTYPE");
    check(b"<r>&x;</r>", "XML", "&x;");
    check(b"<r a=\"&x;\"/>", "XML", "&x;");
    // predefined entities and character references are fine
    let report = validator().validate(b"<r>&amp;&lt;&#65;&#x42;</r>", Layer::All);
    assert_eq!(only(&report).rule, "NO-SCENARIO");
}

#[test]
fn wrong_namespace_finds_no_scenario() {
    let xml = br#"<Invoice xmlns="urn:example:not-ubl"><ID>1</ID></Invoice>"#;
    check(xml, "NO-SCENARIO", "Wurzelelement");
    let report = validator().validate(xml, Layer::En16931);
    assert_eq!(only(&report).rule, "NO-SCENARIO");
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let limits = Limits {
        max_bytes: 1024,
        ..Limits::default()
    };
    let v = Validator::load(&crate::config_dir())
        .expect("configuration")
        .with_limits(limits);
    let big = format!("<a>{}</a>", "x".repeat(4096));
    let report = v.validate(big.as_bytes(), Layer::All);
    let f = only(&report);
    assert_eq!(f.rule, "XML");
    assert!(
        f.text.contains("größer als die erlaubten 1024 Bytes"),
        "{}",
        f.text
    );
}

#[test]
fn a_100_mb_file_is_refused_quickly_with_default_limits() {
    let big = vec![b' '; 100 * 1024 * 1024];
    let started = Instant::now();
    let report = validator().validate(&big, Layer::All);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(only(&report).text.contains("größer als"));
}

#[test]
fn deep_nesting_is_refused() {
    let depth = 10_000;
    let xml = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    let report = validator().validate(xml.as_bytes(), Layer::All);
    let f = only(&report);
    assert_eq!(f.rule, "XML");
    assert!(f.text.contains("Ebenen verschachtelt"), "{}", f.text);
    let err = rathaus_einvoice::xml::Document::parse(
        xml.as_bytes(),
        Limits::default(),
        &Default::default(),
    )
    .expect_err("refused");
    assert!(matches!(err, XmlError::TooDeep { .. }));
}

#[test]
fn cii_sent_as_ubl_is_judged_by_its_own_syntax_not_as_ubl() {
    // A CII invoice renamed *.ubl.xml or declared as UBL by the sender: the root namespace decides.
    let cii = shared()
        .join("testdata/xrechnung/visible/business-cases/standard/01.01a-INVOICE_uncefact.xml");
    let bytes = std::fs::read(cii).expect("file");
    let report = validator().validate(&bytes, Layer::All);
    assert_eq!(report.scenario.as_deref(), Some("EN16931 XRechnung (CII)"));
    assert!(report.valid);
    // A CII body under a UBL root element is schema-invalid UBL, reported as such.
    let text = String::from_utf8_lossy(&bytes);
    let start = text.find("<rsm:ExchangedDocumentContext").expect("context");
    let end = text.rfind("</rsm:CrossIndustryInvoice>").expect("end");
    let ubl = format!(
        "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2\" \
         xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\" \
         xmlns:rsm=\"urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100\" \
         xmlns:ram=\"urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100\" \
         xmlns:udt=\"urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100\" \
         xmlns:qdt=\"urn:un:unece:uncefact:data:standard:QualifiedDataType:100\">\
         <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0</cbc:CustomizationID>{}</Invoice>",
        &text[start..end]
    );
    let report = validator().validate(ubl.as_bytes(), Layer::All);
    assert!(!report.valid);
    assert_eq!(
        report.error_rules(),
        vec!["XSD".to_string()],
        "{:#?}",
        report.findings
    );
}

#[test]
fn truncated_and_garbage_input_never_panics() {
    let file = shared()
        .join("testdata/xrechnung/visible/technical-cases/cius/01.01_comprehensive_test_ubl.xml");
    let bytes = std::fs::read(file).expect("file");
    for cut in (0..bytes.len()).step_by(997) {
        let r = validator().validate(&bytes[..cut], Layer::All);
        assert!(!r.valid);
    }
    let mut noisy = bytes.clone();
    for i in (0..noisy.len()).step_by(131) {
        noisy[i] = noisy[i].wrapping_add(1);
    }
    let _ = validator().validate(&noisy, Layer::All);
    let _ = validator().validate(&noisy, Layer::En16931);
}
