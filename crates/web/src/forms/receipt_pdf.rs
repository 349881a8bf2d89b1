//! The receipt (Eingangsbestätigung) of a submission as a document for `rathaus-pdf`: what the
//! HTML receipt shows, as headings, label/value lists and tables.

use super::fields;
use super::pages::{ReceiptData, TAX_CAPTION, TAX_NOTE, step_elements, tax_of};
use rathaus_forms::hundesteuer::euro;
use rathaus_pdf::{Block, Document};
use serde_json::Value;

/// The receipt of `data` as a document.
pub(super) fn document(data: &ReceiptData) -> Document {
    let ReceiptData {
        loaded,
        submission,
        form,
        uploads,
    } = data;
    let authority = &loaded.tenant.branding.display_name;
    let received = rathaus_core::time::display_de(&submission.created_at);
    let mut blocks = vec![
        Block::Heading {
            level: 1,
            text: "Eingangsbestätigung".into(),
        },
        Block::Paragraph(format!(
            "Ihr Antrag „{}“ ist am {received} bei {authority} eingegangen.",
            form.title
        )),
    ];
    let mut facts = vec![
        ("Aktenzeichen".to_owned(), submission.reference.clone()),
        ("Eingegangen am".to_owned(), received.clone()),
        ("Behörde".to_owned(), authority.clone()),
    ];
    if let Some(office) = loaded.params.get("dienststelle").and_then(Value::as_str) {
        facts.push(("Zuständige Stelle".to_owned(), office.to_owned()));
    }
    facts.push((
        "Formular".to_owned(),
        format!("{} (Version {})", form.title, submission.form_version),
    ));
    blocks.push(Block::Fields(facts));
    blocks.push(Block::Heading {
        level: 2,
        text: "Ihre Angaben".into(),
    });
    for step in form.effective_steps() {
        let mut lines = Vec::new();
        fields::summary_lines(
            &step_elements(form, &step),
            Some(&submission.data),
            uploads,
            "",
            &mut lines,
        );
        if lines.is_empty() {
            continue;
        }
        blocks.push(Block::Heading {
            level: 3,
            text: step.title.clone(),
        });
        blocks.push(Block::Fields(lines));
    }
    if let Some(tax) = tax_of(loaded, &submission.data) {
        blocks.push(Block::Heading {
            level: 2,
            text: "Voraussichtliche Hundesteuer".into(),
        });
        let mut rows: Vec<Vec<String>> = tax
            .lines
            .iter()
            .map(|l| {
                let kind = if l.exemption_requested {
                    format!("{} (Befreiung beantragt)", l.kind)
                } else {
                    l.kind.clone()
                };
                vec![l.name.clone(), kind, euro(l.cents)]
            })
            .collect();
        rows.push(vec![
            "Summe pro Jahr".into(),
            String::new(),
            euro(tax.total_cents),
        ]);
        blocks.push(Block::Table {
            caption: Some(format!("{TAX_CAPTION} {authority}")),
            header: vec!["Hund".into(), "Art".into(), "Steuer pro Jahr".into()],
            rows,
            widths: vec![3.0, 4.0, 2.0],
            numeric: vec![false, false, true],
        });
        blocks.push(Block::Paragraph(TAX_NOTE.into()));
    }
    blocks.push(Block::Spacer);
    blocks.push(Block::Paragraph(
        "Diese Bestätigung wurde maschinell erstellt und ist ohne Unterschrift gültig. Bitte bewahren Sie sie auf."
            .into(),
    ));
    Document {
        title: format!("Eingangsbestätigung {}", submission.reference),
        lang: "de-DE".into(),
        author: Some(authority.clone()),
        subject: Some(form.title.clone()),
        blocks,
    }
}
