//! The readable view of an E-Rechnung (`rathaus_einvoice::view`: every business term, grouped as
//! the XRechnung visualisation groups them) as HTML and as a tagged PDF.

use maud::{Markup, html};
use rathaus_einvoice::view::{Section, Table, View};
use rathaus_pdf::{Block, Document};

/// The view as HTML, its sections from `h2` down (nested sections one level deeper, at most `h4`).
pub fn html(view: &View) -> Markup {
    html! {
        @for s in &view.sections { (section(s, 2)) }
    }
}

fn section(s: &Section, level: u8) -> Markup {
    let id = format!("abschnitt-{}", s.id.to_lowercase());
    html! {
        section class="rechnung-abschnitt" aria-labelledby=(id) {
            @match level {
                2 => h2 id=(id) { (s.title) },
                3 => h3 id=(id) { (s.title) },
                _ => h4 id=(id) { (s.title) },
            }
            @if !s.terms.is_empty() {
                dl class="kopfdaten" {
                    @for t in &s.terms { dt { (t.label) } dd { (t.value) } }
                }
            }
            @for t in &s.tables { (table(t)) }
            @for sub in &s.subsections { (section(sub, (level + 1).min(4))) }
        }
    }
}

fn table(t: &Table) -> Markup {
    let numeric = |i: usize| t.numeric.get(i).copied().unwrap_or(false);
    html! {
        div class="tabelle" {
            table class="data" {
                caption { (t.caption) }
                thead { tr { @for (i, c) in t.columns.iter().enumerate() { th scope="col" class=[numeric(i).then_some("zahl")] { (c) } } } }
                tbody {
                    @for row in &t.rows {
                        tr {
                            @for (i, cell) in row.iter().enumerate() {
                                @if i == 0 { th scope="row" { (cell) } }
                                @else { td class=[numeric(i).then_some("zahl")] { (cell) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The view as a document for `rathaus-pdf`, headed by `heading` (the receiving authority's
/// context: status, reception date) as label/value lines.
pub fn document(
    view: &View,
    title: &str,
    author: &str,
    heading: Vec<(String, String)>,
) -> Document {
    let mut blocks = vec![
        Block::Heading {
            level: 1,
            text: title.to_owned(),
        },
        Block::Fields(heading),
    ];
    for s in &view.sections {
        section_blocks(s, 2, &mut blocks);
    }
    Document {
        title: title.to_owned(),
        lang: "de-DE".into(),
        author: Some(author.to_owned()),
        subject: Some(view.title.clone()),
        blocks,
    }
}

fn section_blocks(s: &Section, level: u8, out: &mut Vec<Block>) {
    out.push(Block::Heading {
        level: level.min(3),
        text: s.title.clone(),
    });
    if !s.terms.is_empty() {
        out.push(Block::Fields(
            s.terms
                .iter()
                .map(|t| (t.label.clone(), t.value.clone()))
                .collect(),
        ));
    }
    for t in &s.tables {
        out.push(Block::Table {
            caption: Some(t.caption.clone()),
            header: t.columns.clone(),
            rows: t.rows.clone(),
            widths: Vec::new(),
            numeric: t.numeric.clone(),
        });
    }
    for sub in &s.subsections {
        section_blocks(sub, level + 1, out);
    }
}
