//! The embedded fonts: glyph lookup, advance widths, replacement of characters
//! the fonts cannot show, and greedy line breaking.

use std::sync::LazyLock;

use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

/// DejaVu Sans, licence in `fonts/LICENSE`.
const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold, licence in `fonts/LICENSE`.
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Shown instead of a character the font has no glyph for.
const REPLACEMENT: char = '\u{FFFD}';

/// One font face, parsed once.
pub(crate) struct Face {
    /// The face as krilla embeds (and subsets) it.
    pub font: Font,
    charmap: skrifa::charmap::Charmap<'static>,
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
    /// Ascender in em.
    pub ascent: f32,
    /// Descender in em (positive).
    pub descent: f32,
    /// `U+FFFD` if the face has it, `?` otherwise.
    replacement: char,
}

/// Regular and bold face.
pub(crate) struct Fonts {
    pub regular: Face,
    pub bold: Face,
}

static FONTS: LazyLock<Option<Fonts>> = LazyLock::new(|| {
    Some(Fonts {
        regular: Face::load(REGULAR)?,
        bold: Face::load(BOLD)?,
    })
});

/// The embedded fonts, or `None` if they could not be parsed (a build defect).
pub(crate) fn fonts() -> Option<&'static Fonts> {
    FONTS.as_ref()
}

impl Face {
    fn load(data: &'static [u8]) -> Option<Face> {
        let font_ref = FontRef::new(data).ok()?;
        let metrics = font_ref.metrics(Size::unscaled(), LocationRef::default());
        let units_per_em = f32::from(metrics.units_per_em);
        if units_per_em <= 0.0 {
            return None;
        }
        let mut face = Face {
            font: Font::new(data.into(), 0)?,
            charmap: font_ref.charmap(),
            metrics: font_ref.glyph_metrics(Size::unscaled(), LocationRef::default()),
            units_per_em,
            ascent: metrics.ascent / units_per_em,
            descent: metrics.descent.abs() / units_per_em,
            replacement: '?',
        };
        if face.glyph(REPLACEMENT).is_some() {
            face.replacement = REPLACEMENT;
        }
        Some(face)
    }

    /// Glyph id and advance (in em) of `c`, if the face has a glyph for it.
    fn glyph(&self, c: char) -> Option<(skrifa::GlyphId, f32)> {
        let id = self.charmap.map(c).filter(|id| id.to_u32() != 0)?;
        let advance = self.metrics.advance_width(id).unwrap_or(0.0) / self.units_per_em;
        Some((id, advance))
    }

    /// Makes `text` (a single line, no `\n`) drawable with this face:
    /// tabs become spaces, control and invisible formatting characters
    /// (soft hyphen, zero-width space/joiner, variation selectors, BOM) are
    /// dropped, and characters the face has no glyph for (emoji, CJK, …) as
    /// well as private-use characters become `U+FFFD` (`�`).
    pub fn sanitize(&self, text: &str) -> String {
        text.chars()
            .filter_map(|c| match c {
                '\t' => Some(' '),
                c if c.is_control() || is_invisible(c) => None,
                c if is_private_use(c) => Some(self.replacement),
                c if self.glyph(c).is_some() => Some(c),
                _ => Some(self.replacement),
            })
            .collect()
    }

    /// Width of sanitized `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.glyph(c).map_or(0.0, |(_, advance)| advance))
            .sum::<f32>()
            * size
    }

    /// One glyph per character of sanitized `text` (no shaping: DejaVu's
    /// Latin text needs none, and it keeps measuring and drawing identical).
    pub fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .filter_map(|(start, c)| {
                let (id, advance) = self.glyph(c)?;
                Some(KrillaGlyph::new(
                    GlyphId::new(id.to_u32()),
                    advance,
                    0.0,
                    0.0,
                    0.0,
                    start..start + c.len_utf8(),
                    None,
                ))
            })
            .collect()
    }

    /// Breaks `text` into lines no wider than `max_width` points at `size`.
    ///
    /// `\n` forces a line break (an empty line stays as an empty string);
    /// runs of spaces collapse; a word wider than the line is broken between
    /// characters. Text with nothing visible gives no lines.
    pub fn wrap(&self, text: &str, size: f32, max_width: f32) -> Vec<String> {
        let max_width = max_width + 0.01;
        let mut lines = Vec::new();
        let space = self.width(" ", size);
        for hard_line in text.split('\n') {
            let hard_line = self.sanitize(hard_line);
            let mut current = String::new();
            let mut current_width = 0.0;
            for word in hard_line.split(' ').filter(|word| !word.is_empty()) {
                let width = self.width(word, size);
                if !current.is_empty() && current_width + space + width <= max_width {
                    current.push(' ');
                    current.push_str(word);
                    current_width += space + width;
                    continue;
                }
                if !current.is_empty() {
                    lines.push(std::mem::take(&mut current));
                }
                if width <= max_width {
                    current = word.to_owned();
                    current_width = width;
                } else {
                    // Break the over-long word; every piece holds at least one character.
                    current_width = 0.0;
                    for c in word.chars() {
                        let w = self.width(c.encode_utf8(&mut [0; 4]), size);
                        if !current.is_empty() && current_width + w > max_width {
                            lines.push(std::mem::take(&mut current));
                            current_width = 0.0;
                        }
                        current.push(c);
                        current_width += w;
                    }
                }
            }
            lines.push(current);
        }
        // Drop trailing empty lines (and so all lines of blank text).
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines
    }
}

/// Invisible formatting characters that would otherwise show as a box or,
/// for the soft hyphen, as a hyphen in the middle of a word.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// Private-use characters carry no meaning for text extraction and are not
/// allowed in PDF/A-2a.
fn is_private_use(c: char) -> bool {
    matches!(c,
        '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{FFFFD}' | '\u{100000}'..='\u{10FFFD}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regular() -> &'static Face {
        &fonts().expect("embedded fonts parse").regular
    }

    #[test]
    fn german_characters_are_in_the_font() {
        let text = "Äpfel, Öl, Übung, Straße: 12,50 € „Zitat“ – …";
        assert_eq!(regular().sanitize(text), text);
    }

    #[test]
    fn missing_characters_are_replaced_and_invisible_ones_dropped() {
        assert_eq!(regular().sanitize("a🚀b漢"), "a\u{FFFD}b\u{FFFD}");
        assert_eq!(regular().sanitize("Gr\u{00AD}u\u{200B}ß\u{FE0F}"), "Gruß");
        assert_eq!(regular().sanitize("a\tb\u{7}c"), "a bc");
        assert_eq!(regular().sanitize("\u{E000}"), "\u{FFFD}");
    }

    #[test]
    fn wrapping_respects_the_width() {
        let face = regular();
        let text = "Die Eingangsbestätigung wird automatisch erstellt und enthält alle Angaben.";
        let lines = face.wrap(text, 10.0, 120.0);
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(face.width(line, 10.0) <= 120.01, "{line}");
        }
        assert_eq!(lines.join(" "), text);
    }

    #[test]
    fn long_words_are_broken_and_blank_text_gives_no_lines() {
        let face = regular();
        let word = "X".repeat(300);
        let lines = face.wrap(&word, 10.0, 100.0);
        assert!(lines.len() > 10);
        assert_eq!(lines.concat(), word);
        assert!(face.wrap("  \n \n", 10.0, 100.0).is_empty());
        assert_eq!(face.wrap("a\n\nb", 10.0, 100.0), ["a", "", "b"]);
        // Narrower than one character: still one character a line, no endless loop.
        assert_eq!(face.wrap("ab", 10.0, 1.0), ["a", "b"]);
    }
}
