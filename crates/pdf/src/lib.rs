//! Accessible, tagged PDF documents for Rathaus.
//!
//! [`render`] turns a small, domain-free [`Document`] (headings, paragraphs,
//! label/value fields, data tables) into an A4 PDF that
//!
//! - embeds DejaVu Sans (regular and bold, subset to the glyphs used), so
//!   German text (ä ö ü ß €, „“ – …) is shown and extracted correctly;
//! - is tagged: headings `H1`–`H3`, paragraphs `P`, tables
//!   `Table`/`THead`/`TBody`/`TR`/`TH`/`TD` with an optional `Caption`,
//!   label/value fields as a two-column `Table` whose labels are row headers
//!   (`TH` with scope `Row`); rules, repeated table headers and the page
//!   footer ("Seite N von M") are artifacts;
//! - declares and is checked by krilla against PDF/UA-1 and PDF/A-2a
//!   (document title shown in the viewer's title bar, language, XMP and
//!   document-info metadata, outline from the headings); a violation krilla
//!   detects surfaces as [`PdfError::Validation`].
//!
//! Characters the fonts cannot show (emoji, CJK, private-use characters) are
//! replaced by `U+FFFD` (`�`); invisible formatting characters (soft hyphen,
//! zero-width space/joiner, variation selectors, BOM) and control characters
//! are dropped; a tab counts as a space and `\n` breaks the line.

mod layout;
mod text;

use std::num::NonZeroU16;
use std::time::{SystemTime, UNIX_EPOCH};

use krilla::SerializeSettings;
use krilla::color::luma;
use krilla::configure::{Accessibility, Archival, ConfigurationBuilder};
use krilla::destination::XyzDestination;
use krilla::error::KrillaError;
use krilla::geom::{PathBuilder, Point, Size};
use krilla::metadata::{DateTime, Metadata};
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Identifier, SpanTag, Tag, TagGroup, TagKind, TagTree,
};

use crate::layout::{Kind, Mark, Node, Op, OutlineEntry, Weight};
use crate::text::Fonts;

/// A document to render: metadata and a flat sequence of blocks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    /// Document title; shown in the viewer's title bar and required (not blank).
    pub title: String,
    /// Natural language as a BCP 47 tag, e.g. `"de-DE"`; required (not blank).
    pub lang: String,
    /// Author, e.g. the issuing authority.
    pub author: Option<String>,
    /// Subject (document-info `Subject`, XMP `dc:description`).
    pub subject: Option<String>,
    /// The content, top to bottom.
    pub blocks: Vec<Block>,
}

/// A block of content.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A heading; `level` 1 to 3 (other values are clamped to that range).
    Heading {
        /// 1 (largest) to 3.
        level: u8,
        /// The heading text.
        text: String,
    },
    /// A paragraph of running text; `\n` forces a line break.
    Paragraph(String),
    /// Label/value pairs shown as a two-column list (e.g. "Aktenzeichen" → "…").
    Fields(Vec<(String, String)>),
    /// A data table; `numeric[i]` right-aligns column i; `widths` are relative column weights.
    ///
    /// The header must not be empty and no row may have more cells than the
    /// header; shorter rows are filled with empty cells. Missing, zero,
    /// negative or non-finite weights count as 1; missing `numeric` entries
    /// as `false`. Rows do not break across pages unless a single row is
    /// taller than a page; the header row is repeated on every further page.
    Table {
        /// Optional caption above the table (tagged `Caption`).
        caption: Option<String>,
        /// Column headers (tagged `TH`).
        header: Vec<String>,
        /// Data rows (cells tagged `TD`).
        rows: Vec<Vec<String>>,
        /// Relative column widths.
        widths: Vec<f32>,
        /// Right-align column i (amounts, quantities).
        numeric: Vec<bool>,
    },
    /// Vertical space (ignored at the top of a page).
    Spacer,
}

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The title is blank; PDF/UA-1 requires one.
    #[error("the document has no title")]
    MissingTitle,
    /// The language is blank; PDF/UA-1 and PDF/A-2a require one.
    #[error("the document has no language")]
    MissingLanguage,
    /// A table without header cells.
    #[error("block {block}: the table has no header cells")]
    EmptyTableHeader {
        /// Index of the block in [`Document::blocks`].
        block: usize,
    },
    /// A table row with more cells than the header.
    #[error("block {block}: table row {row} has {cells} cells, but the header only {columns}")]
    TableRowTooLong {
        /// Index of the block in [`Document::blocks`].
        block: usize,
        /// Index of the row in the table's rows.
        row: usize,
        /// Cells in that row.
        cells: usize,
        /// Cells in the header.
        columns: usize,
    },
    /// krilla found violations of PDF/UA-1 or PDF/A-2a (one description each).
    #[error("PDF/UA-1 / PDF/A-2a validation failed: {}", .0.join("; "))]
    Validation(Vec<String>),
    /// Any other failure inside the PDF library (fonts, limits, a defect here).
    #[error("PDF generation failed: {0}")]
    Pdf(String),
}

impl From<KrillaError> for PdfError {
    fn from(error: KrillaError) -> Self {
        match error {
            KrillaError::Validation(errors) => PdfError::Validation(
                errors
                    .iter()
                    .map(|(error, validators)| format!("{error:?} ({validators:?})"))
                    .collect(),
            ),
            other => PdfError::Pdf(other.to_string()),
        }
    }
}

/// Renders `doc` as a tagged A4 PDF (PDF 1.7, PDF/UA-1 and PDF/A-2a).
///
/// Layout: 20 mm margins, body text 10 pt, tables 9 pt, headings 18/14/12 pt
/// bold; lines are wrapped with the font's advance widths, words wider than a
/// line are broken, pages are added as needed and every page has the footer
/// "Seite N von M". The creation date is the current time (UTC).
pub fn render(doc: &Document) -> Result<Vec<u8>, PdfError> {
    if doc.title.trim().is_empty() {
        return Err(PdfError::MissingTitle);
    }
    if doc.lang.trim().is_empty() {
        return Err(PdfError::MissingLanguage);
    }
    let fonts = text::fonts().ok_or_else(|| PdfError::Pdf("embedded font unreadable".into()))?;
    let laid = layout::layout(fonts, &doc.blocks)?;

    let configuration = ConfigurationBuilder::new()
        .with_accessibility_validator(Accessibility::UA1)
        .with_archival_validator(Archival::A2_A)
        .finish()
        .map_err(|error| PdfError::Pdf(format!("configuration: {error:?}")))?;
    let settings = SerializeSettings {
        configuration,
        enable_tagging: true,
        ..SerializeSettings::default()
    };
    let mut pdf = krilla::Document::new_with(settings);

    let page_size = Size::from_wh(layout::PAGE_WIDTH, layout::PAGE_HEIGHT)
        .ok_or_else(|| PdfError::Pdf("page size".into()))?;
    let page_count = laid.pages.len();
    let mut identifiers: Vec<Option<Identifier>> = vec![None; laid.leaves];
    for (index, ops) in laid.pages.iter().enumerate() {
        let mut page = pdf.start_page_with(PageSettings::new(page_size));
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, fonts, op, &mut identifiers);
        }
        let footer = format!("Seite {} von {}", index + 1, page_count);
        let footer_width = fonts.regular.width(&footer, layout::FOOTER_SIZE);
        draw(
            &mut surface,
            fonts,
            &Op::Text {
                x: layout::PAGE_WIDTH - layout::MARGIN - footer_width,
                baseline: layout::FOOTER_BASELINE,
                weight: Weight::Regular,
                size: layout::FOOTER_SIZE,
                text: footer,
                mark: Mark::Artifact(ArtifactType::Footer),
            },
            &mut identifiers,
        );
        surface.finish();
        page.finish();
    }

    let mut tree = TagTree::new().with_lang(Some(doc.lang.clone()));
    for node in laid.structure {
        tree.push(tag_node(node, &identifiers)?);
    }
    pdf.set_tag_tree(tree);
    pdf.set_outline(outline(&laid.outline));

    let mut metadata = Metadata::new()
        .title(doc.title.clone())
        .language(doc.lang.clone())
        .creator("Rathaus".into())
        .creation_date(now());
    if let Some(author) = &doc.author {
        metadata = metadata.authors(vec![author.clone()]);
    }
    if let Some(subject) = &doc.subject {
        metadata = metadata.description(subject.clone());
    }
    pdf.set_metadata(metadata);

    Ok(pdf.finish()?)
}

/// Draws one operation, recording the identifier of tagged content.
fn draw(surface: &mut Surface<'_>, fonts: &Fonts, op: &Op, identifiers: &mut [Option<Identifier>]) {
    match op {
        Op::Text {
            x,
            baseline,
            weight,
            size,
            text,
            mark,
        } => {
            let identifier = match mark {
                Mark::Leaf(_) => surface.start_tagged(ContentTag::Span(SpanTag::empty())),
                Mark::Artifact(kind) => {
                    surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(*kind)))
                }
            };
            if !text.is_empty() {
                let face = weight.face(fonts);
                let grey = if matches!(mark, Mark::Artifact(ArtifactType::Footer)) {
                    80
                } else {
                    layout::TEXT_GREY
                };
                surface.set_fill(Some(Fill {
                    paint: luma::Color::new(grey).into(),
                    ..Fill::default()
                }));
                surface.draw_glyphs(
                    Point::from_xy(*x, *baseline),
                    &face.glyphs(text),
                    face.font.clone(),
                    text,
                    *size,
                    false,
                );
            }
            surface.end_tagged();
            if let Mark::Leaf(leaf) = mark
                && let Some(slot) = identifiers.get_mut(*leaf)
            {
                *slot = Some(identifier);
            }
        }
        Op::Rule {
            x1,
            x2,
            y,
            width,
            grey,
        } => {
            let mut builder = PathBuilder::new();
            builder.move_to(*x1, *y);
            builder.line_to(*x2, *y);
            let Some(path) = builder.finish() else {
                return;
            };
            surface.start_tagged(ContentTag::Artifact(Artifact::with_kind(
                ArtifactType::Layout,
            )));
            surface.set_fill(None);
            surface.set_stroke(Some(Stroke {
                paint: luma::Color::new(*grey).into(),
                width: *width,
                ..Stroke::default()
            }));
            surface.draw_path(&path);
            surface.set_stroke(None);
            surface.end_tagged();
        }
    }
}

/// Converts the layout's structure into krilla's tag tree.
fn tag_node(node: Node, identifiers: &[Option<Identifier>]) -> Result<TagGroup, PdfError> {
    let (kind, children) = match node {
        Node::Group(kind, children) => (kind, children),
        Node::Leaf(_) => return Err(PdfError::Pdf("leaf at the structure root".into())),
    };
    let tag: TagKind = match kind {
        Kind::Heading { level, title } => Tag::Hn(
            NonZeroU16::MIN.saturating_add(u16::from(level.saturating_sub(1))),
            Some(title),
        )
        .into(),
        Kind::Paragraph => Tag::P.into(),
        Kind::Table => Tag::Table.into(),
        Kind::Caption => Tag::Caption.into(),
        Kind::THead => Tag::THead.into(),
        Kind::TBody => Tag::TBody.into(),
        Kind::Row => Tag::TR.into(),
        Kind::HeaderCell(scope) => Tag::TH(scope).into(),
        Kind::DataCell => Tag::TD.into(),
    };
    let mut group = TagGroup::new(tag);
    for child in children {
        match child {
            Node::Leaf(leaf) => {
                let identifier = identifiers
                    .get(leaf)
                    .copied()
                    .flatten()
                    .ok_or_else(|| PdfError::Pdf(format!("content {leaf} was not drawn")))?;
                group.push(identifier);
            }
            group_node @ Node::Group(..) => group.push(tag_node(group_node, identifiers)?),
        }
    }
    Ok(group)
}

/// Bookmarks from the headings, nested by level.
fn outline(entries: &[OutlineEntry]) -> Outline {
    fn build(entries: &[OutlineEntry], index: &mut usize, level: u8) -> Vec<OutlineNode> {
        let mut nodes = Vec::new();
        while let Some(entry) = entries.get(*index) {
            if entry.level < level {
                break;
            }
            *index += 1;
            let mut node = OutlineNode::new(
                entry.title.clone(),
                XyzDestination::new(entry.page, Point::from_xy(layout::MARGIN, entry.y)),
            );
            for child in build(entries, index, entry.level + 1) {
                node.push_child(child);
            }
            nodes.push(node);
        }
        nodes
    }
    let mut outline = Outline::new();
    let mut index = 0;
    while index < entries.len() {
        for node in build(entries, &mut index, 1) {
            outline.push_child(node);
        }
    }
    outline
}

/// The current time as a PDF date (UTC).
fn now() -> DateTime {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |duration| duration.as_secs());
    let (year, month, day, hour, minute, second) = civil(seconds);
    DateTime::new(year)
        .month(month)
        .day(day)
        .hour(hour)
        .minute(minute)
        .second(second)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

/// Year, month, day, hour, minute, second (UTC) of a Unix time, by Howard
/// Hinnant's days-to-civil algorithm.
fn civil(unix_seconds: u64) -> (u16, u8, u8, u8, u8, u8) {
    let days = i64::try_from(unix_seconds / 86_400).unwrap_or(0);
    let rest = unix_seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let small = |value: u64| u8::try_from(value).unwrap_or(0);
    (
        u16::try_from(year).unwrap_or(u16::MAX),
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
        small(rest / 3_600),
        small(rest % 3_600 / 60),
        small(rest % 60),
    )
}

#[cfg(test)]
mod tests {
    use krilla::configure::ValidationError;

    use super::*;

    #[test]
    fn krilla_validation_errors_become_pdf_errors() {
        let configuration = ConfigurationBuilder::new()
            .with_accessibility_validator(Accessibility::UA1)
            .with_archival_validator(Archival::A2_A)
            .finish()
            .expect("UA-1 and A-2a are compatible");
        let error = PdfError::from(KrillaError::Validation(vec![(
            ValidationError::NoDocumentTitle,
            configuration.validators(),
        )]));
        let PdfError::Validation(messages) = &error else {
            panic!("expected a validation error, got {error:?}");
        };
        assert_eq!(messages.len(), 1);
        assert!(messages[0].contains("NoDocumentTitle"), "{messages:?}");
        assert!(
            error
                .to_string()
                .starts_with("PDF/UA-1 / PDF/A-2a validation failed")
        );
    }

    #[test]
    fn unix_time_to_civil_date() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(civil(1_741_945_275), (2025, 3, 14, 9, 41, 15));
        assert_eq!(civil(4_107_542_399), (2100, 2, 28, 23, 59, 59));
    }
}
