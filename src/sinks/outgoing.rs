//! What goes to a sink: one message of one day, and the image that may go with it
//! (always with its description), and what a sink does when a service refuses the image.

use chrono::NaiveDate;

use crate::day::MessageKind;

/// One message of one day, on its way to a sink.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub date: NaiveDate,
    pub kind: MessageKind,
    pub text: &'a str,
    /// A picture to attach (the week's chart) where the sink can; the text is the post,
    /// the image goes with it when the service takes it.
    pub image: Option<&'a Image>,
}

/// A PNG with the text that describes it. There is no image without a description: one
/// is made only with non-blank alt text, so no sink can post an image without it.
#[derive(Clone, PartialEq, Eq)]
pub struct Image {
    png: Vec<u8>,
    alt: String,
    width: u32,
    height: u32,
}

impl Image {
    /// The name the image is uploaded under, where a service asks for one.
    pub const FILE_NAME: &'static str = "week.png";
    pub const MIME: &'static str = "image/png";

    /// None when `alt` is blank.
    pub fn png(png: Vec<u8>, alt: String, width: u32, height: u32) -> Option<Image> {
        (!alt.trim().is_empty()).then_some(Image {
            png,
            alt,
            width,
            height,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.png
    }

    pub fn alt(&self) -> &str {
        &self.alt
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The image as a file part of a multipart form, named and typed.
    pub(super) fn part(&self) -> reqwest::multipart::Part {
        reqwest::multipart::Part::bytes(self.png.clone())
            .file_name(Self::FILE_NAME)
            .mime_str(Self::MIME)
            .expect("image/png is a valid MIME type")
    }
}

/// Not the bytes: a log line shows the size and the description.
impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Image({} bytes of PNG, {}x{}, alt {:?})",
            self.png.len(),
            self.width,
            self.height,
            self.alt
        )
    }
}

/// Whether an error answer to an upload refuses the image itself (its size, its type, a
/// quota, a missing permission for media), so the text goes alone, rather than saying that
/// the service cannot take anything now (a rate limit, a server error) or that the
/// credentials are wrong, which would fail the post as well.
pub(super) fn refuses_the_image(status: reqwest::StatusCode) -> bool {
    status.is_client_error() && !matches!(status.as_u16(), 401 | 429)
}

/// Says that `post` goes to `title` without its image, and why.
pub(super) fn without_image(title: &str, post: &Outgoing<'_>, why: &str) {
    log::warn!(
        "{title} did not take the image of the {} message of {} ({why}); posting its text alone",
        post.kind.name(),
        post.date
    );
}
