//! The corpus of real answers in `tests/fixtures/real/` (each file's public source is
//! named in its `SOURCES.md`), read for the parsers' tests: every module that parses
//! answers runs its parsers over every file, its own service's and the others', and
//! checks what its own service's files must map to.

use std::fs;
use std::path::PathBuf;

use crate::net::http::Reply;

/// The services the corpus has a folder for; each has a parser test that reads it.
pub const SERVICES: [&str; 7] = [
    "bluesky", "discord", "fitbit", "google", "mastodon", "slack", "x",
];

/// One answer body and the status it came with.
pub struct RealAnswer {
    /// `service/file`.
    pub name: String,
    pub status: u16,
    pub body: Vec<u8>,
}

impl RealAnswer {
    pub fn reply(&self) -> Reply {
        Reply::fake(self.status, &[], &String::from_utf8_lossy(&self.body))
    }

    pub fn is(&self, name: &str) -> bool {
        self.name == name
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real")
}

/// The status in a file name: its first token of three digits between 100 and 599
/// (`createSession_401_AccountTakedown.json`, `200_ok.txt`); a name without one is a
/// success answer (`status.json`).
fn status_of(file: &str) -> u16 {
    file.split(['_', '.'])
        .filter(|token| token.len() == 3)
        .find_map(|token| token.parse().ok().filter(|s| (100..600).contains(s)))
        .unwrap_or(200)
}

/// Every answer of one service, sorted by name.
pub fn of(service: &str) -> Vec<RealAnswer> {
    let mut answers: Vec<RealAnswer> = fs::read_dir(root().join(service))
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            RealAnswer {
                name: format!("{service}/{file}"),
                status: status_of(&file),
                body: fs::read(&path).unwrap(),
            }
        })
        .collect();
    answers.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(!answers.is_empty(), "no answers for {service}");
    answers
}

/// Every answer of every service.
pub fn all() -> Vec<RealAnswer> {
    SERVICES.iter().flat_map(|service| of(service)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_come_from_the_file_names() {
        assert_eq!(status_of("createSession_401_AccountTakedown.json"), 401);
        assert_eq!(status_of("200_ok.txt"), 200);
        assert_eq!(status_of("400_error_50035_array.json"), 400);
        assert_eq!(status_of("instance_v2.json"), 200);
        assert_eq!(status_of("media_error_422.json"), 422);
    }

    /// A folder added to the corpus without a parser test reading it fails here.
    #[test]
    fn every_folder_of_the_corpus_is_read() {
        let mut folders: Vec<String> = fs::read_dir(root())
            .unwrap()
            .filter_map(|entry| {
                let entry = entry.unwrap();
                entry
                    .file_type()
                    .unwrap()
                    .is_dir()
                    .then(|| entry.file_name().to_string_lossy().into_owned())
            })
            .collect();
        folders.sort();
        assert_eq!(folders, SERVICES);
        assert!(all().len() >= 30);
    }
}
