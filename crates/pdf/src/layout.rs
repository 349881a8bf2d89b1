//! Page layout: places the blocks on A4 pages and records, next to the drawing
//! operations, the logical structure (headings, paragraphs, tables) they belong to.

use krilla::tagging::{ArtifactType, TableHeaderScope};

use crate::text::{Face, Fonts};
use crate::{Block, PdfError};

/// A4 width in points.
pub(crate) const PAGE_WIDTH: f32 = 595.2756;
/// A4 height in points.
pub(crate) const PAGE_HEIGHT: f32 = 841.8898;
/// 20 mm.
pub(crate) const MARGIN: f32 = 56.692_913;
const TOP: f32 = MARGIN;
const BOTTOM: f32 = PAGE_HEIGHT - MARGIN;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const BODY_HEIGHT: f32 = BOTTOM - TOP;

const BODY_SIZE: f32 = 10.0;
const BODY_LEADING: f32 = 1.4;
const PARAGRAPH_AFTER: f32 = 6.0;
const HEADING_LEADING: f32 = 1.25;
const HEADING_AFTER: f32 = 6.0;
const TABLE_SIZE: f32 = 9.0;
const TABLE_LEADING: f32 = 1.3;
const CELL_PAD_X: f32 = 3.0;
const CELL_PAD_Y: f32 = 2.5;
const FIELD_LABEL_SHARE: f32 = 0.35;
const SPACER: f32 = 12.0;
/// Page footer: font size and baseline (10 mm above the bottom edge).
pub(crate) const FOOTER_SIZE: f32 = 8.0;
pub(crate) const FOOTER_BASELINE: f32 = PAGE_HEIGHT - MARGIN / 2.0;

/// Grey levels (0 = black).
pub(crate) const TEXT_GREY: u8 = 0;
pub(crate) const RULE_GREY: u8 = 150;
const HEADER_RULE_GREY: u8 = 60;

/// Which face a text run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

impl Weight {
    pub(crate) fn face(self, fonts: &Fonts) -> &Face {
        match self {
            Weight::Regular => &fonts.regular,
            Weight::Bold => &fonts.bold,
        }
    }
}

/// How drawn content relates to the logical structure.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mark {
    /// Real content: leaf number `n` of the structure tree.
    Leaf(usize),
    /// Not part of the logical structure (rules, repeated table headers).
    Artifact(ArtifactType),
}

/// One drawing operation; coordinates from the top-left corner, in points.
#[derive(Debug)]
pub(crate) enum Op {
    /// A line of sanitized text; an empty `text` with a leaf mark is an empty table cell.
    Text {
        x: f32,
        baseline: f32,
        weight: Weight,
        size: f32,
        text: String,
        mark: Mark,
    },
    /// A horizontal rule (always an artifact).
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        width: f32,
        grey: u8,
    },
}

/// Structure element kinds this crate produces.
#[derive(Debug)]
pub(crate) enum Kind {
    Heading { level: u8, title: String },
    Paragraph,
    Table,
    Caption,
    THead,
    TBody,
    Row,
    HeaderCell(TableHeaderScope),
    DataCell,
}

/// A node of the logical structure.
#[derive(Debug)]
pub(crate) enum Node {
    Group(Kind, Vec<Node>),
    Leaf(usize),
}

/// A heading for the document outline (bookmarks).
#[derive(Debug)]
pub(crate) struct OutlineEntry {
    pub level: u8,
    pub title: String,
    pub page: usize,
    pub y: f32,
}

/// The laid-out document.
#[derive(Debug)]
pub(crate) struct Laid {
    pub pages: Vec<Vec<Op>>,
    pub structure: Vec<Node>,
    pub leaves: usize,
    pub outline: Vec<OutlineEntry>,
}

/// One cell of a row being laid out.
struct CellSpec {
    lines: Vec<String>,
    weight: Weight,
    x: f32,
    width: f32,
    right: bool,
}

/// A row of cells: geometry and style shared by its lines.
struct RowSpec {
    cells: Vec<CellSpec>,
    size: f32,
    leading: f32,
}

impl RowSpec {
    fn line_count(&self) -> usize {
        self.cells
            .iter()
            .map(|cell| cell.lines.len())
            .max()
            .unwrap_or(0)
            .max(1)
    }

    fn height(&self) -> f32 {
        self.line_count() as f32 * self.size * self.leading + 2.0 * CELL_PAD_Y
    }
}

struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    y: f32,
    leaves: usize,
    outline: Vec<OutlineEntry>,
}

/// Lays out `blocks` on as many pages as needed (at least one).
pub(crate) fn layout(fonts: &Fonts, blocks: &[Block]) -> Result<Laid, PdfError> {
    let mut layout = Layout {
        fonts,
        pages: vec![Vec::new()],
        y: TOP,
        leaves: 0,
        outline: Vec::new(),
    };
    let mut structure = Vec::new();
    for (index, block) in blocks.iter().enumerate() {
        let node = match block {
            Block::Heading { level, text } => layout.heading(*level, text),
            Block::Paragraph(text) => layout.paragraph(text),
            Block::Fields(pairs) => layout.fields(pairs),
            Block::Table {
                caption,
                header,
                rows,
                widths,
                numeric,
            } => layout.table(index, caption.as_deref(), header, rows, widths, numeric)?,
            Block::Spacer => {
                if !layout.at_top() {
                    layout.y += SPACER;
                }
                None
            }
        };
        structure.extend(node);
    }
    Ok(Laid {
        pages: layout.pages,
        structure,
        leaves: layout.leaves,
        outline: layout.outline,
    })
}

impl Layout<'_> {
    fn at_top(&self) -> bool {
        self.y <= TOP + 0.01
    }

    fn page(&self) -> usize {
        self.pages.len() - 1
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Starts a new page unless `height` still fits on this one (or this
    /// page is still empty, so a new one would not help).
    fn fit(&mut self, height: f32) {
        if self.y + height > BOTTOM + 0.01 && !self.at_top() {
            self.new_page();
        }
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    /// Draws one line whose box starts at `self.y`; returns its leaf if tagged.
    #[allow(clippy::too_many_arguments)]
    fn line(
        &mut self,
        x: f32,
        weight: Weight,
        size: f32,
        leading: f32,
        text: String,
        artifact: Option<ArtifactType>,
    ) -> Option<usize> {
        let face = weight.face(self.fonts);
        let line_height = size * leading;
        let baseline =
            self.y + (line_height - (face.ascent + face.descent) * size) / 2.0 + face.ascent * size;
        let (mark, leaf) = match artifact {
            Some(kind) => (Mark::Artifact(kind), None),
            None => {
                let leaf = self.leaves;
                self.leaves += 1;
                (Mark::Leaf(leaf), Some(leaf))
            }
        };
        self.push(Op::Text {
            x,
            baseline,
            weight,
            size,
            text,
            mark,
        });
        leaf
    }

    fn rule(&mut self, width: f32, grey: u8) {
        let y = self.y;
        self.push(Op::Rule {
            x1: MARGIN,
            x2: MARGIN + CONTENT_WIDTH,
            y,
            width,
            grey,
        });
    }

    fn heading(&mut self, level: u8, text: &str) -> Option<Node> {
        let level = level.clamp(1, 3);
        let size = match level {
            1 => 18.0,
            2 => 14.0,
            _ => 12.0,
        };
        let before = size * 0.8;
        let lines = self.fonts.bold.wrap(text, size, CONTENT_WIDTH);
        if lines.is_empty() {
            return None;
        }
        let line_height = size * HEADING_LEADING;
        if !self.at_top() {
            self.y += before;
        }
        // Keep the heading together with two lines of what follows.
        self.fit(lines.len() as f32 * line_height + HEADING_AFTER + 2.0 * BODY_SIZE * BODY_LEADING);
        self.outline.push(OutlineEntry {
            level,
            title: text.split_whitespace().collect::<Vec<_>>().join(" "),
            page: self.page(),
            y: self.y,
        });
        let mut children = Vec::new();
        for line in lines {
            self.fit(line_height);
            if !line.is_empty() {
                children.extend(
                    self.line(MARGIN, Weight::Bold, size, HEADING_LEADING, line, None)
                        .map(Node::Leaf),
                );
            }
            self.y += line_height;
        }
        self.y += HEADING_AFTER;
        let title = text.split_whitespace().collect::<Vec<_>>().join(" ");
        Some(Node::Group(Kind::Heading { level, title }, children))
    }

    fn paragraph(&mut self, text: &str) -> Option<Node> {
        let lines = self.fonts.regular.wrap(text, BODY_SIZE, CONTENT_WIDTH);
        if lines.is_empty() {
            return None;
        }
        let line_height = BODY_SIZE * BODY_LEADING;
        let mut children = Vec::new();
        for line in lines {
            self.fit(line_height);
            if !line.is_empty() {
                children.extend(
                    self.line(MARGIN, Weight::Regular, BODY_SIZE, BODY_LEADING, line, None)
                        .map(Node::Leaf),
                );
            }
            self.y += line_height;
        }
        self.y += PARAGRAPH_AFTER;
        Some(Node::Group(Kind::Paragraph, children))
    }

    /// Label/value pairs: a two-column table whose first column holds row headers.
    fn fields(&mut self, pairs: &[(String, String)]) -> Option<Node> {
        if pairs.is_empty() {
            return None;
        }
        let label_width = CONTENT_WIDTH * FIELD_LABEL_SHARE;
        let mut rows = Vec::new();
        for (label, value) in pairs {
            let spec = RowSpec {
                cells: vec![
                    self.cell(label, Weight::Bold, MARGIN, label_width, BODY_SIZE, false),
                    self.cell(
                        value,
                        Weight::Regular,
                        MARGIN + label_width,
                        CONTENT_WIDTH - label_width,
                        BODY_SIZE,
                        false,
                    ),
                ],
                size: BODY_SIZE,
                leading: BODY_LEADING,
            };
            let mut cells = self.row(&spec, None, None).into_iter();
            let label = cells.next().unwrap_or_default();
            let value = cells.next().unwrap_or_default();
            rows.push(Node::Group(
                Kind::Row,
                vec![
                    Node::Group(Kind::HeaderCell(TableHeaderScope::Row), label),
                    Node::Group(Kind::DataCell, value),
                ],
            ));
        }
        self.y += PARAGRAPH_AFTER;
        Some(Node::Group(Kind::Table, rows))
    }

    fn cell(
        &self,
        text: &str,
        weight: Weight,
        x: f32,
        width: f32,
        size: f32,
        right: bool,
    ) -> CellSpec {
        let inner = (width - 2.0 * CELL_PAD_X).max(1.0);
        CellSpec {
            lines: weight.face(self.fonts).wrap(text, size, inner),
            weight,
            x,
            width,
            right,
        }
    }

    /// Lays out one row and returns the leaves of each cell. A row that does
    /// not fit moves to the next page (repeating `header` there); a row taller
    /// than a page is split between lines. `artifact` marks the whole row as
    /// an artifact (a repeated header) and then no leaves are returned.
    fn row(
        &mut self,
        spec: &RowSpec,
        header: Option<&RowSpec>,
        artifact: Option<ArtifactType>,
    ) -> Vec<Vec<Node>> {
        let line_height = spec.size * spec.leading;
        let mut leaves: Vec<Vec<Node>> = spec.cells.iter().map(|_| Vec::new()).collect();
        let header_height = header.map_or(0.0, RowSpec::height);
        if self.y + spec.height() > BOTTOM + 0.01 && spec.height() <= BODY_HEIGHT - header_height {
            self.page_break_in_table(header);
        }
        let row_top_page = self.page();
        let row_top = self.y;
        self.y += CELL_PAD_Y;
        for index in 0..spec.line_count() {
            if self.y + line_height > BOTTOM - CELL_PAD_Y + 0.01 && self.y > TOP + CELL_PAD_Y + 0.01
            {
                self.page_break_in_table(header);
                self.y += CELL_PAD_Y;
            }
            for (cell, cell_leaves) in spec.cells.iter().zip(leaves.iter_mut()) {
                let Some(text) = cell.lines.get(index) else {
                    continue;
                };
                if text.is_empty() {
                    continue;
                }
                let face = cell.weight.face(self.fonts);
                let x = if cell.right {
                    cell.x + cell.width - CELL_PAD_X - face.width(text, spec.size)
                } else {
                    cell.x + CELL_PAD_X
                };
                let leaf = self.line(
                    x,
                    cell.weight,
                    spec.size,
                    spec.leading,
                    text.clone(),
                    artifact,
                );
                cell_leaves.extend(leaf.map(Node::Leaf));
            }
            self.y += line_height;
        }
        // Empty cells still get a (empty) piece of marked content, so that
        // every row keeps all its cells in the structure tree.
        if artifact.is_none() {
            for (cell, cell_leaves) in spec.cells.iter().zip(leaves.iter_mut()) {
                if cell_leaves.is_empty() {
                    let leaf = self.leaves;
                    self.leaves += 1;
                    let op = Op::Text {
                        x: cell.x + CELL_PAD_X,
                        baseline: row_top + CELL_PAD_Y + spec.size,
                        weight: cell.weight,
                        size: spec.size,
                        text: String::new(),
                        mark: Mark::Leaf(leaf),
                    };
                    if let Some(page) = self.pages.get_mut(row_top_page) {
                        page.push(op);
                    }
                    cell_leaves.push(Node::Leaf(leaf));
                }
            }
        }
        self.y += CELL_PAD_Y;
        leaves
    }

    fn page_break_in_table(&mut self, header: Option<&RowSpec>) {
        self.new_page();
        if let Some(header) = header {
            self.row(header, None, Some(ArtifactType::PaginationOther));
            self.rule(0.8, HEADER_RULE_GREY);
        }
    }

    fn table(
        &mut self,
        index: usize,
        caption: Option<&str>,
        header: &[String],
        rows: &[Vec<String>],
        widths: &[f32],
        numeric: &[bool],
    ) -> Result<Option<Node>, PdfError> {
        let columns = header.len();
        if columns == 0 {
            return Err(PdfError::EmptyTableHeader { block: index });
        }
        if let Some((row, cells)) = rows
            .iter()
            .enumerate()
            .find(|(_, cells)| cells.len() > columns)
        {
            return Err(PdfError::TableRowTooLong {
                block: index,
                row,
                cells: cells.len(),
                columns,
            });
        }
        // Column geometry from the relative weights (missing or invalid weights count 1).
        let weights: Vec<f32> = (0..columns)
            .map(|i| {
                widths
                    .get(i)
                    .copied()
                    .filter(|w| w.is_finite() && *w > 0.0)
                    .unwrap_or(1.0)
            })
            .collect();
        let total: f32 = weights.iter().sum();
        let mut xs = Vec::with_capacity(columns);
        let mut x = MARGIN;
        for weight in &weights {
            let width = CONTENT_WIDTH * weight / total;
            xs.push((x, width));
            x += width;
        }
        let right = |i: usize| numeric.get(i).copied().unwrap_or(false);
        let spec = |layout: &Self, cells: &mut dyn Iterator<Item = &str>, weight: Weight| RowSpec {
            cells: xs
                .iter()
                .enumerate()
                .map(|(i, (x, width))| {
                    let text = cells.next().unwrap_or("");
                    layout.cell(text, weight, *x, *width, TABLE_SIZE, right(i))
                })
                .collect(),
            size: TABLE_SIZE,
            leading: TABLE_LEADING,
        };
        let header_spec = spec(self, &mut header.iter().map(String::as_str), Weight::Bold);
        let row_specs: Vec<RowSpec> = rows
            .iter()
            .map(|row| spec(self, &mut row.iter().map(String::as_str), Weight::Regular))
            .collect();

        let caption_lines = caption
            .map(|caption| self.fonts.bold.wrap(caption, BODY_SIZE, CONTENT_WIDTH))
            .unwrap_or_default();
        let caption_line_height = BODY_SIZE * BODY_LEADING;
        // Keep caption, header and first row together if they fit on a page at all.
        let start = caption_lines.len() as f32 * caption_line_height
            + header_spec.height()
            + row_specs.first().map_or(0.0, RowSpec::height);
        if start <= BODY_HEIGHT {
            self.fit(start);
        }

        let mut children = Vec::new();
        if !caption_lines.is_empty() {
            let mut leaves = Vec::new();
            for line in caption_lines {
                self.fit(caption_line_height);
                if !line.is_empty() {
                    leaves.extend(
                        self.line(MARGIN, Weight::Bold, BODY_SIZE, BODY_LEADING, line, None)
                            .map(Node::Leaf),
                    );
                }
                self.y += caption_line_height;
            }
            children.push(Node::Group(Kind::Caption, leaves));
        }

        let header_cells = self.row(&header_spec, None, None);
        self.rule(0.8, HEADER_RULE_GREY);
        children.push(Node::Group(
            Kind::THead,
            vec![Node::Group(
                Kind::Row,
                header_cells
                    .into_iter()
                    .map(|leaves| Node::Group(Kind::HeaderCell(TableHeaderScope::Column), leaves))
                    .collect(),
            )],
        ));
        // Repeat the header on later pages only if it leaves room for content.
        let repeat = (header_spec.height() <= BODY_HEIGHT / 3.0).then_some(&header_spec);
        let mut body = Vec::with_capacity(row_specs.len());
        for row_spec in &row_specs {
            let cells = self.row(row_spec, repeat, None);
            self.rule(0.3, RULE_GREY);
            body.push(Node::Group(
                Kind::Row,
                cells
                    .into_iter()
                    .map(|leaves| Node::Group(Kind::DataCell, leaves))
                    .collect(),
            ));
        }
        if !body.is_empty() {
            children.push(Node::Group(Kind::TBody, body));
        }
        self.y += PARAGRAPH_AFTER;
        Ok(Some(Node::Group(Kind::Table, children)))
    }
}
