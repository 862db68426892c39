//! Text for the chart, drawn from the embedded font subsets (assets/fonts/README.md) so
//! that no system font is read: the static binary draws the same image on a bare server.

use tiny_skia::{Color, FillRule, Paint, PathBuilder, Pixmap, Transform};
use ttf_parser::{Face, GlyphId, OutlineBuilder};

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/NotoSansCJKjp-Regular-subset.otf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/NotoSansCJKjp-Bold-subset.otf");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Pixels per em.
    pub size: f32,
    pub weight: Weight,
    pub color: Color,
    pub align: Align,
}

pub struct Fonts {
    regular: Face<'static>,
    bold: Face<'static>,
}

impl Fonts {
    pub fn embedded() -> Fonts {
        // The files are part of the binary and a unit test parses them, so a failure here
        // can only be a broken build, not a runtime condition.
        Fonts {
            regular: Face::parse(REGULAR, 0).expect("the embedded regular font parses"),
            bold: Face::parse(BOLD, 0).expect("the embedded bold font parses"),
        }
    }

    pub fn face(&self, weight: Weight) -> &Face<'static> {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// Width in pixels of one line of `text` at `size` pixels per em.
    pub fn width(&self, text: &str, size: f32, weight: Weight) -> f32 {
        let face = self.face(weight);
        let scale = size / f32::from(face.units_per_em());
        text.chars()
            .map(|c| advance(face, glyph(face, c)) * scale)
            .sum()
    }

    /// Fills one line of text whose baseline starts (or centres, or ends) at `x`, `baseline`.
    pub fn draw(&self, pixmap: &mut Pixmap, text: &str, x: f32, baseline: f32, style: &Style) {
        let Style {
            size,
            weight,
            color,
            align,
        } = *style;
        let face = self.face(weight);
        let scale = size / f32::from(face.units_per_em());
        let width = self.width(text, size, weight);
        let mut pen = match align {
            Align::Left => x,
            Align::Center => x - width / 2.0,
            Align::Right => x - width,
        };
        let mut builder = PathBuilder::new();
        for c in text.chars() {
            let id = glyph(face, c);
            let mut sink = Sink {
                builder: &mut builder,
                x: pen,
                y: baseline,
                scale,
            };
            // A glyph without an outline (the space) draws nothing and returns None.
            let _ = face.outline_glyph(id, &mut sink);
            pen += advance(face, id) * scale;
        }
        // A text of spaces only has no path; tiny-skia would log a warning for it.
        if let Some(path) = builder.finish() {
            let mut paint = Paint::default();
            paint.set_color(color);
            paint.anti_alias = true;
            pixmap.fill_path(
                &path,
                &paint,
                FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
    }
}

/// The glyph for `c`, or glyph 0 (the font's "missing" box) when the subset lacks it; the
/// unit test `every_label_character_has_a_glyph` keeps that from happening for our labels.
fn glyph(face: &Face, c: char) -> GlyphId {
    face.glyph_index(c).unwrap_or(GlyphId(0))
}

fn advance(face: &Face, id: GlyphId) -> f32 {
    f32::from(face.glyph_hor_advance(id).unwrap_or(0))
}

/// Font units (y up) to pixels (y down), offset to the pen position.
struct Sink<'a> {
    builder: &'a mut PathBuilder,
    x: f32,
    y: f32,
    scale: f32,
}

impl Sink<'_> {
    fn point(&self, x: f32, y: f32) -> (f32, f32) {
        (self.x + x * self.scale, self.y - y * self.scale)
    }
}

impl OutlineBuilder for Sink<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.point(x, y);
        self.builder.move_to(x, y);
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.point(x, y);
        self.builder.line_to(x, y);
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1) = self.point(x1, y1);
        let (x, y) = self.point(x, y);
        self.builder.quad_to(x1, y1, x, y);
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x1, y1) = self.point(x1, y1);
        let (x2, y2) = self.point(x2, y2);
        let (x, y) = self.point(x, y);
        self.builder.cubic_to(x1, y1, x2, y2, x, y);
    }

    fn close(&mut self) {
        self.builder.close();
    }
}
