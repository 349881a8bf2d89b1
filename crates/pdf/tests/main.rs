//! Renders documents through the public API and checks the PDFs with tools
//! written elsewhere: qpdf (structure, decompression) and poppler's
//! pdfinfo/pdftotext. A missing tool fails the test with an explanation.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use rathaus_pdf::{Block, Document, PdfError, render};

/// Writes `pdf` to a fresh file in cargo's per-test temporary directory.
fn write(pdf: &[u8], name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rathaus-pdf-{}-{n}-{name}.pdf", std::process::id()));
    std::fs::write(&path, pdf).expect("write PDF to the temporary directory");
    path
}

/// Runs `tool` and returns its stdout; fails clearly if the tool is missing.
fn run(tool: &str, args: &[&str], path: &Path) -> (bool, String) {
    let output = Command::new(tool)
        .args(args)
        .arg(path)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run `{tool}` ({error}); install it, e.g. \
                 `apt-get install -y poppler-utils qpdf`"
            )
        });
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

fn qpdf_check(path: &Path) {
    let (ok, out) = run("qpdf", &["--check"], path);
    assert!(ok, "qpdf --check failed:\n{out}");
    assert!(out.contains("No syntax or stream encoding errors"), "{out}");
}

fn pdfinfo(path: &Path) -> String {
    let (ok, out) = run("pdfinfo", &[], path);
    assert!(ok, "pdfinfo failed:\n{out}");
    out
}

/// The value of one `pdfinfo` line, e.g. `Pages`.
fn info_field(info: &str, key: &str) -> String {
    info.lines()
        .find_map(|line| line.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("pdfinfo has no {key}:\n{info}"))
        .trim()
        .to_owned()
}

fn text_of(path: &Path, pages: Option<(usize, usize)>) -> String {
    let mut args = vec!["-layout".to_owned(), "-enc".to_owned(), "UTF-8".to_owned()];
    if let Some((first, last)) = pages {
        args.extend([
            "-f".into(),
            first.to_string(),
            "-l".into(),
            last.to_string(),
        ]);
    }
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    // pdftotext writes to stdout with "-" after the input file.
    let output = Command::new("pdftotext")
        .args(&args)
        .arg(path)
        .arg("-")
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run `pdftotext` ({error}); install it: `apt-get install -y poppler-utils`"
            )
        });
    args.clear();
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("pdftotext writes UTF-8")
}

/// The PDF with all streams uncompressed (qpdf's QDF mode), for looking at
/// the structure tree and catalog.
fn uncompressed(path: &Path) -> String {
    let out_path = path.with_extension("qdf.pdf");
    let output = Command::new("qpdf")
        .args(["--qdf", "--object-streams=disable"])
        .arg(path)
        .arg(&out_path)
        .output()
        .unwrap_or_else(|error| panic!("cannot run `qpdf` ({error}); `apt-get install -y qpdf`"));
    assert!(output.status.success(), "qpdf --qdf failed");
    let bytes = std::fs::read(&out_path).expect("read QDF output");
    String::from_utf8_lossy(&bytes).into_owned()
}

fn receipt() -> Document {
    Document {
        title: "Eingangsbestätigung – Antrag auf Wohngeld".into(),
        lang: "de-DE".into(),
        author: Some("Stadt Musterhausen, Bürgeramt".into()),
        subject: Some("Bestätigung über den Eingang Ihres Online-Antrags".into()),
        blocks: vec![
            Block::Heading {
                level: 1,
                text: "Eingangsbestätigung".into(),
            },
            Block::Paragraph(
                "Sehr geehrte Frau Müller, wir haben Ihren Antrag „Wohngeld für Familie Weiß“ \
                 am 14. März 2025 um 09:41 Uhr erhalten. Bitte bewahren Sie diese Bestätigung \
                 auf – Sie benötigen das Aktenzeichen für Rückfragen…"
                    .into(),
            ),
            Block::Heading {
                level: 2,
                text: "Angaben zum Vorgang".into(),
            },
            Block::Fields(vec![
                ("Aktenzeichen".into(), "WG-2025-000815".into()),
                ("Eingegangen am".into(), "14.03.2025, 09:41 Uhr".into()),
                (
                    "Antragstellerin".into(),
                    "Jördis Müller-Lüdenscheidt".into(),
                ),
                (
                    "Anschrift".into(),
                    "Große Straße 7\n12345 Musterhausen".into(),
                ),
                ("Gebühr".into(), "0,00 €".into()),
            ]),
            Block::Spacer,
            Block::Heading {
                level: 2,
                text: "Eingereichte Unterlagen".into(),
            },
            Block::Table {
                caption: Some("Anlagen".into()),
                header: vec!["Nr.".into(), "Dokument".into(), "Größe".into()],
                rows: vec![
                    vec!["1".into(), "Mietvertrag.pdf".into(), "1,2 MB".into()],
                    vec![
                        "2".into(),
                        "Gehaltsnachweis_März.pdf".into(),
                        "380 KB".into(),
                    ],
                    vec![
                        "3".into(),
                        "Bescheinigung über Kindergeld".into(),
                        "95 KB".into(),
                    ],
                ],
                widths: vec![1.0, 6.0, 2.0],
                numeric: vec![true, false, true],
            },
            Block::Heading {
                level: 3,
                text: "Hinweise".into(),
            },
            Block::Paragraph(
                "Die Bearbeitung dauert in der Regel 4–6 Wochen. Über Änderungen informieren \
                 wir Sie per E-Mail."
                    .into(),
            ),
        ],
    }
}

fn invoice_table(rows: usize) -> Block {
    Block::Table {
        caption: Some("Rechnungspositionen".into()),
        header: vec![
            "Pos.".into(),
            "Bezeichnung".into(),
            "Menge".into(),
            "Einzelpreis".into(),
            "Betrag".into(),
        ],
        rows: (1..=rows)
            .map(|i| {
                vec![
                    i.to_string(),
                    format!("Leistung Nr. {i}: Wartung der Straßenbeleuchtung"),
                    format!("{},00", i % 7 + 1),
                    "12,50 €".into(),
                    format!("{},50 €", (i % 7 + 1) * 12),
                ]
            })
            .collect(),
        widths: vec![1.0, 6.0, 1.5, 2.0, 2.0],
        numeric: vec![true, false, true, true, true],
    }
}

#[test]
fn receipt_passes_qpdf_and_pdfinfo_reports_tagged_a4_with_metadata() {
    let pdf = render(&receipt()).expect("render receipt");
    let path = write(&pdf, "receipt");
    qpdf_check(&path);
    let info = pdfinfo(&path);
    assert_eq!(info_field(&info, "Pages"), "1", "{info}");
    assert_eq!(info_field(&info, "Tagged"), "yes", "{info}");
    assert_eq!(
        info_field(&info, "Title"),
        "Eingangsbestätigung – Antrag auf Wohngeld"
    );
    assert_eq!(info_field(&info, "Author"), "Stadt Musterhausen, Bürgeramt");
    assert_eq!(
        info_field(&info, "Subject"),
        "Bestätigung über den Eingang Ihres Online-Antrags"
    );
    assert_eq!(info_field(&info, "Creator"), "Rathaus");
    assert!(!info_field(&info, "CreationDate").is_empty());
    assert_eq!(info_field(&info, "PDF version"), "1.7");
    let size = info_field(&info, "Page size");
    assert!(
        size.starts_with("595.") && size.contains(" x 841."),
        "A4 expected: {size}"
    );
}

#[test]
fn receipt_text_comes_back_with_umlauts_quotes_and_euro() {
    let pdf = render(&receipt()).expect("render receipt");
    let path = write(&pdf, "receipt-text");
    let text = text_of(&path, None);
    for expected in [
        "Eingangsbestätigung",
        "Sehr geehrte Frau Müller",
        "„Wohngeld für Familie Weiß“",
        "auf – Sie",
        "Rückfragen…",
        "WG-2025-000815",
        "Jördis Müller-Lüdenscheidt",
        "Große Straße 7",
        "12345 Musterhausen",
        "0,00 €",
        "Gehaltsnachweis_März.pdf",
        "Bescheinigung über Kindergeld",
        "Größe",
        "4–6 Wochen",
        "Änderungen",
        "Seite 1 von 1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // Label and value of a field share a line, in this order.
    assert!(
        text.lines()
            .any(|line| line.contains("Aktenzeichen") && line.contains("WG-2025-000815")),
        "{text}"
    );
    // Numeric columns are right-aligned: "1,2 MB" and "95 KB" end in the same column.
    let end_of = |needle: &str| {
        text.lines()
            .find(|line| line.contains(needle))
            .map(|line| line.trim_end().chars().count())
            .unwrap_or_else(|| panic!("no line with {needle:?}"))
    };
    assert_eq!(end_of("1,2 MB"), end_of("95 KB"), "{text}");
}

#[test]
fn receipt_is_small() {
    let pdf = render(&receipt()).expect("render receipt");
    assert!(
        pdf.len() < 60_000,
        "one-page receipt has {} bytes",
        pdf.len()
    );
}

#[test]
fn structure_tree_catalog_and_artifacts() {
    let pdf = render(&receipt()).expect("render receipt");
    let path = write(&pdf, "receipt-structure");
    let qdf = uncompressed(&path);
    // qpdf spaces dictionaries but leaves content streams as written: compare without blanks.
    let compact: String = qdf.chars().filter(|c| !c.is_whitespace()).collect();
    for expected in [
        "/StructTreeRoot",
        "/MarkInfo",
        "/DisplayDocTitle true",
        "/Lang (de-DE)",
        "/S /H1",
        "/S /H2",
        "/S /H3",
        "/S /P",
        "/S /Table",
        "/S /Caption",
        "/S /THead",
        "/S /TBody",
        "/S /TR",
        "/S /TH",
        "/S /TD",
        "/Scope /Column",
        "/Scope /Row",
        "/Outlines",
        "pdfuaid:part",
        "pdfaid:part",
        "/Artifact",
        "/Subtype /Footer",
        "/FontFile2",
    ] {
        let expected: String = expected.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(
            compact.contains(&expected),
            "missing {expected:?} in the PDF"
        );
    }
    // Both faces are embedded as subsets (six-letter tag before the name).
    for face in ["DejaVuSans", "DejaVuSans-Bold"] {
        let subset = qdf.match_indices(&format!("+{face}")).any(|(at, _)| {
            at >= 7
                && qdf[at - 6..at].bytes().all(|b| b.is_ascii_uppercase())
                && qdf.as_bytes()[at - 7] == b'/'
        });
        assert!(subset, "{face} is not embedded as a subset");
    }
}

#[test]
fn long_table_spans_pages_repeats_header_and_numbers_pages() {
    let doc = Document {
        title: "Rechnung 2025-0042".into(),
        lang: "de-DE".into(),
        author: None,
        subject: None,
        blocks: vec![
            Block::Heading {
                level: 1,
                text: "Rechnung".into(),
            },
            invoice_table(200),
            Block::Paragraph("Summe: 9.999,00 €".into()),
        ],
    };
    let pdf = render(&doc).expect("render invoice");
    let path = write(&pdf, "invoice");
    qpdf_check(&path);
    let info = pdfinfo(&path);
    let pages: usize = info_field(&info, "Pages").parse().expect("page count");
    assert!(
        pages >= 3,
        "200 rows should need several pages, got {pages}"
    );
    assert_eq!(info_field(&info, "Tagged"), "yes");
    assert_eq!(info_field(&info, "Title"), "Rechnung 2025-0042");

    let mut seen_rows = 0;
    for page in 1..=pages {
        let text = text_of(&path, Some((page, page)));
        let header = text
            .lines()
            .find(|line| line.contains("Bezeichnung"))
            .unwrap_or_else(|| panic!("page {page} has no table header:\n{text}"));
        assert!(
            header.contains("Pos.") && header.contains("Einzelpreis") && header.contains("Betrag"),
            "page {page}: {header}"
        );
        assert!(
            text.contains(&format!("Seite {page} von {pages}")),
            "page {page} footer missing:\n{text}"
        );
        seen_rows += text.matches("Leistung Nr. ").count();
    }
    assert_eq!(seen_rows, 200, "every row appears exactly once");
    let all = text_of(&path, None);
    assert!(all.contains("Leistung Nr. 200:"));
    assert!(all.contains("Summe: 9.999,00 €"));
    // Rows are not split: the last row's first line holds all its cells.
    assert!(
        all.lines().any(
            |line| line.trim_start().starts_with("200 Leistung Nr. 200:")
                && line.trim_end().ends_with("60,50 €")
        ),
        "{all}"
    );
}

#[test]
fn very_long_word_and_long_cell_do_not_panic() {
    let word = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen".repeat(20);
    let doc = Document {
        title: "Lang".into(),
        lang: "de-DE".into(),
        author: None,
        subject: None,
        blocks: vec![
            Block::Heading {
                level: 1,
                text: word.clone(),
            },
            Block::Paragraph(word.clone()),
            Block::Fields(vec![(word.clone(), word.clone())]),
            Block::Table {
                caption: None,
                header: vec!["A".into(), "B".into()],
                // One cell taller than a page: the row must split across pages.
                rows: vec![vec!["x".into(), "Zeile ".repeat(3000)]],
                widths: vec![],
                numeric: vec![],
            },
        ],
    };
    let pdf = render(&doc).expect("render long word");
    let path = write(&pdf, "long-word");
    qpdf_check(&path);
    let text: String = text_of(&path, None)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(text.contains(&word), "the broken word reads back whole");
    let pages: usize = info_field(&pdfinfo(&path), "Pages").parse().expect("pages");
    assert!(pages >= 2);
}

#[test]
fn empty_document_renders_one_page() {
    let doc = Document {
        title: "Leer".into(),
        lang: "de-DE".into(),
        ..Document::default()
    };
    let pdf = render(&doc).expect("render empty document");
    let path = write(&pdf, "empty");
    qpdf_check(&path);
    let info = pdfinfo(&path);
    assert_eq!(info_field(&info, "Pages"), "1");
    assert!(text_of(&path, None).contains("Seite 1 von 1"));

    // Empty blocks and cells are fine too.
    let doc = Document {
        title: "Leere Blöcke".into(),
        lang: "de-DE".into(),
        blocks: vec![
            Block::Heading {
                level: 9,
                text: "  ".into(),
            },
            Block::Paragraph(String::new()),
            Block::Fields(vec![]),
            Block::Fields(vec![("Leer".into(), String::new())]),
            Block::Table {
                caption: Some(String::new()),
                header: vec!["Spalte".into(), String::new()],
                rows: vec![vec![], vec!["nur eine Zelle".into()]],
                widths: vec![0.0, f32::NAN],
                numeric: vec![true],
            },
            Block::Spacer,
        ],
        ..Document::default()
    };
    let pdf = render(&doc).expect("render empty blocks");
    let path = write(&pdf, "empty-blocks");
    qpdf_check(&path);
    assert!(text_of(&path, None).contains("nur eine Zelle"));
}

#[test]
fn characters_missing_from_the_font_are_replaced() {
    let doc = Document {
        title: "Emoji 😀 und 漢字".into(),
        lang: "de-DE".into(),
        blocks: vec![
            Block::Heading {
                level: 1,
                text: "Danke 👍🏽!".into(),
            },
            Block::Paragraph(
                "Vorher 漢字 nachher, Symbol \u{E000}, weiches Trenn\u{00AD}zeichen.".into(),
            ),
            Block::Fields(vec![("Status 🚀".into(), "erledigt ✓".into())]),
        ],
        ..Document::default()
    };
    let pdf = render(&doc).expect("characters without glyphs must not fail the document");
    let path = write(&pdf, "missing-glyphs");
    qpdf_check(&path);
    let info = pdfinfo(&path);
    // The title is metadata, not drawn: it keeps every character.
    assert_eq!(info_field(&info, "Title"), "Emoji 😀 und 漢字");
    let text = text_of(&path, None);
    assert!(text.contains("Danke \u{FFFD}\u{FFFD}!"), "{text}");
    assert!(text.contains("Vorher \u{FFFD}\u{FFFD} nachher"), "{text}");
    assert!(text.contains("Symbol \u{FFFD},"), "{text}");
    assert!(text.contains("Trennzeichen."), "{text}");
    assert!(text.contains("erledigt ✓"), "{text}");
}

#[test]
fn invalid_documents_are_errors() {
    let mut doc = receipt();
    doc.title = "  ".into();
    assert!(matches!(render(&doc), Err(PdfError::MissingTitle)));

    let mut doc = receipt();
    doc.lang = String::new();
    assert!(matches!(render(&doc), Err(PdfError::MissingLanguage)));

    let mut doc = receipt();
    doc.blocks.push(Block::Table {
        caption: None,
        header: vec!["A".into()],
        rows: vec![vec!["1".into()], vec!["1".into(), "2".into()]],
        widths: vec![],
        numeric: vec![],
    });
    let error = render(&doc).expect_err("row longer than header");
    assert!(
        matches!(
            error,
            PdfError::TableRowTooLong {
                row: 1,
                cells: 2,
                columns: 1,
                ..
            }
        ),
        "{error}"
    );

    let mut doc = receipt();
    doc.blocks.push(Block::Table {
        caption: None,
        header: vec![],
        rows: vec![],
        widths: vec![],
        numeric: vec![],
    });
    assert!(matches!(
        render(&doc),
        Err(PdfError::EmptyTableHeader { .. })
    ));
}
