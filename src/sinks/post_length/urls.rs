//! The URLs X counts as 23 characters: twitter-text's URL extraction (`extractUrl` and
//! `extractUrlsWithIndices` of its JavaScript version), written as a scanner over chars.
//!
//! A URL is an optional `http://` or `https://`, a domain ending in a known TLD, then an
//! optional port, path and query. Without a protocol only the ASCII part of the domain
//! counts, and a lone name under a country code (`example.jp`) only with a path. A
//! domain with a label longer than 63 characters once punycode-encoded is no URL at all.

use std::ops::Range;

use super::tlds::{self, Kind};

/// Longer URLs are not URLs for twitter-text.
const MAX_URL_LENGTH: usize = 4096;

/// The longest DNS label, in the ASCII (punycode) form.
const MAX_LABEL_LENGTH: usize = 63;

/// Byte ranges of the URLs in `text`, in order and without overlap.
pub(super) fn find(text: &str) -> Vec<Range<usize>> {
    if !text.contains('.') {
        return Vec::new();
    }
    let text = Text::new(text);
    let mut urls = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let before = at.checked_sub(1).map(|i| text.chars[i]);
        let candidate = before
            .is_none_or(may_precede_url)
            .then(|| Candidate::at(&text, at))
            .flatten();
        match candidate {
            Some(candidate) => {
                urls.extend(
                    candidate
                        .urls(&text, before)
                        .into_iter()
                        .map(|url| text.bytes(url)),
                );
                // like the regex's lastIndex: a rejected candidate is skipped whole
                at = candidate.end;
            }
            None => at += 1,
        }
    }
    urls
}

/// The text as chars, with the byte offset of each (and of the end).
struct Text {
    chars: Vec<char>,
    offsets: Vec<usize>,
}

impl Text {
    fn new(text: &str) -> Self {
        let (offsets, chars) = text.char_indices().unzip::<_, _, Vec<_>, Vec<_>>();
        let offsets = offsets.into_iter().chain([text.len()]).collect();
        Text { chars, offsets }
    }

    fn len(&self) -> usize {
        self.chars.len()
    }

    fn get(&self, at: usize) -> Option<char> {
        self.chars.get(at).copied()
    }

    fn bytes(&self, chars: Range<usize>) -> Range<usize> {
        self.offsets[chars.start]..self.offsets[chars.end]
    }

    fn string(&self, chars: Range<usize>) -> String {
        self.chars[chars].iter().collect()
    }

    fn count_while(&self, from: usize, class: impl Fn(char) -> bool) -> usize {
        self.chars[from..].iter().take_while(|c| class(**c)).count()
    }
}

/// What the extraction regex matches at one position, before validation.
struct Candidate {
    start: usize,
    protocol: Option<Range<usize>>,
    domain: Range<usize>,
    has_path: bool,
    end: usize,
}

impl Candidate {
    fn at(text: &Text, start: usize) -> Option<Self> {
        let protocol = protocol_at(text, start);
        let domain_start = protocol.as_ref().map_or(start, |p| p.end);
        let domain = Domain::at(text, domain_start, text.len(), Labels::Unicode)?;
        let mut end = port_end(text, domain.end);
        let has_path = text.get(end) == Some('/');
        if has_path {
            end = path_end(text, end + 1);
        }
        end = query_end(text, end);
        Some(Candidate {
            start,
            protocol,
            domain: domain_start..domain.end,
            has_path,
            end,
        })
    }

    /// The URLs this candidate yields: itself with a protocol, else the ASCII domains in it.
    fn urls(&self, text: &Text, before: Option<char>) -> Vec<Range<usize>> {
        if !self.is_valid(text) {
            return Vec::new();
        }
        if self.protocol.is_some() {
            let url = self.start..self.tco_end(text).unwrap_or(self.end);
            return vec![url];
        }
        if before.is_some_and(|c| matches!(c, '-' | '_' | '.' | '/')) {
            return Vec::new();
        }
        let mut urls = Vec::new();
        for found in ascii_domains(text, self.domain.clone()) {
            let lone_country_name = found.names == 1 && found.tld_kind == Kind::Country;
            let special = found.names == 1
                && matches!(
                    text.string(found.tld.clone()).to_ascii_lowercase().as_str(),
                    "co" | "tv"
                );
            if self.has_path || special || !lone_country_name {
                urls.push(found.range);
            }
        }
        // with a path, the last domain runs to the end: `example.com/path?q=1`
        if self.has_path
            && let Some(last) = urls.last_mut()
        {
            last.end = self.end;
        }
        urls
    }

    /// twitter-text's `isValidUrl`: every label of the domain is 1 to 63 characters once
    /// punycode-encoded, and the encoded URL is not absurdly long.
    fn is_valid(&self, text: &Text) -> bool {
        let domain = text.string(self.domain.clone());
        let mut encoded_domain = domain.split('.').count() - 1;
        for label in domain.split('.') {
            let Some(length) = punycode_length(label) else {
                return false;
            };
            if !(1..=MAX_LABEL_LENGTH).contains(&length) {
                return false;
            }
            encoded_domain += length;
        }
        let utf16 = |range: Range<usize>| -> usize {
            text.chars[range].iter().map(|c| c.len_utf16()).sum()
        };
        let protocol = self.protocol.clone().map_or("https://".len(), utf16);
        let url = utf16(self.start..self.end) + encoded_domain - utf16(self.domain.clone());
        protocol + url <= MAX_URL_LENGTH
    }

    /// A t.co link ends after its id (and query): `https://t.co/abc/def` is `https://t.co/abc`.
    fn tco_end(&self, text: &Text) -> Option<usize> {
        let is_tco = text
            .string(self.domain.clone())
            .eq_ignore_ascii_case("t.co");
        if !is_tco || text.get(self.domain.end) != Some('/') {
            return None;
        }
        let id_start = self.domain.end + 1;
        let id = text.count_while(id_start, |c| c.is_ascii_alphanumeric());
        (id > 0).then(|| query_end(text, id_start + id).min(self.end))
    }
}

/// The length of `label` in the form DNS sees: unchanged when ASCII, else `xn--` + punycode.
fn punycode_length(label: &str) -> Option<usize> {
    if label.is_ascii() {
        Some(label.len())
    } else {
        idna::punycode::encode_str(label).map(|encoded| "xn--".len() + encoded.len())
    }
}

fn protocol_at(text: &Text, start: usize) -> Option<Range<usize>> {
    ["http://", "https://"].into_iter().find_map(|protocol| {
        let end = start + protocol.len();
        let matches = end <= text.len()
            && text.chars[start..end]
                .iter()
                .zip(protocol.chars())
                .all(|(c, p)| c.to_ascii_lowercase() == p);
        matches.then_some(start..end)
    })
}

/// Which characters labels are made of.
#[derive(Clone, Copy)]
enum Labels {
    /// Anything but punctuation, spaces and invisible marks, as in `http://☃.net`; a label
    /// neither starts nor ends with `-` or `_`, and the last one before the TLD has no `_`.
    Unicode,
    /// ASCII letters, digits, `-` and accented Latin letters: the part of a domain without
    /// a protocol that counts.
    Ascii,
}

impl Labels {
    fn contains(self, c: char) -> bool {
        match self {
            Labels::Unicode => is_domain_char(c) || matches!(c, '-' | '_'),
            Labels::Ascii => c.is_ascii_alphanumeric() || c == '-' || is_latin_accent(c),
        }
    }

    fn are_valid(self, text: &Text, names: &[Range<usize>]) -> bool {
        match self {
            Labels::Ascii => true,
            Labels::Unicode => {
                let is_edge = |c: char| matches!(c, '-' | '_');
                let well_formed = names.iter().all(|name| {
                    let label = &text.chars[name.clone()];
                    !label.first().copied().is_some_and(is_edge)
                        && !label.last().copied().is_some_and(is_edge)
                });
                let last_has_underscore = names
                    .last()
                    .is_some_and(|name| text.chars[name.clone()].contains(&'_'));
                well_formed && !last_has_underscore
            }
        }
    }
}

/// A domain: names separated by dots, then a TLD.
struct Domain {
    end: usize,
    names: usize,
    tld: Range<usize>,
    tld_kind: Kind,
}

impl Domain {
    /// The domain starting at `start` and ending by `limit`, with as many labels as
    /// possible (the regex's greedy `(label\.)+`).
    fn at(text: &Text, start: usize, limit: usize, labels: Labels) -> Option<Self> {
        let mut names = Vec::new();
        let mut at = start;
        loop {
            let label_end = at
                + text.chars[at..limit]
                    .iter()
                    .take_while(|c| labels.contains(**c))
                    .count();
            if label_end == at || label_end >= limit || text.chars[label_end] != '.' {
                break;
            }
            names.push(at..label_end);
            at = label_end + 1;
        }
        (1..=names.len()).rev().find_map(|count| {
            let names = &names[..count];
            let tld_start = names[count - 1].end + 1;
            let tld = tlds::at_start(&text.chars[tld_start..limit])?;
            labels.are_valid(text, names).then(|| Domain {
                end: tld_start + tld.len,
                names: count,
                tld: tld_start..tld_start + tld.len,
                tld_kind: tld.kind,
            })
        })
    }
}

/// A domain found in the ASCII part of a domain without a protocol.
struct AsciiDomain {
    range: Range<usize>,
    names: usize,
    tld: Range<usize>,
    tld_kind: Kind,
}

fn ascii_domains(text: &Text, domain: Range<usize>) -> Vec<AsciiDomain> {
    let mut found = Vec::new();
    let mut at = domain.start;
    while at < domain.end {
        match Domain::at(text, at, domain.end, Labels::Ascii) {
            Some(ascii) => {
                found.push(AsciiDomain {
                    range: at..ascii.end,
                    names: ascii.names,
                    tld: ascii.tld,
                    tld_kind: ascii.tld_kind,
                });
                at = ascii.end;
            }
            None => at += 1,
        }
    }
    found
}

fn port_end(text: &Text, at: usize) -> usize {
    if text.get(at) != Some(':') {
        return at;
    }
    match text.count_while(at + 1, |c| c.is_ascii_digit()) {
        0 => at,
        digits => at + 1 + digits,
    }
}

/// The end of a path that starts after its `/`: path characters and balanced parentheses,
/// cut back to the last character a URL may end with.
fn path_end(text: &Text, start: usize) -> usize {
    let mut at = start;
    let mut end = start;
    while let Some(c) = text.get(at) {
        if c == '(' {
            match balanced_parens_end(text, at) {
                Some(after) => {
                    at = after;
                    end = after;
                    continue;
                }
                None => break,
            }
        }
        if !is_path_char(c) {
            break;
        }
        at += 1;
        if is_path_end_char(c) {
            end = at;
        }
    }
    end
}

/// `(…)` or `(…(…)…)` in a path, as in Wikipedia links.
fn balanced_parens_end(text: &Text, open: usize) -> Option<usize> {
    let mut at = open + 1;
    let inner = text.count_while(at, is_path_char);
    at += inner;
    match text.get(at)? {
        ')' if inner > 0 => Some(at + 1),
        '(' => {
            let nested = text.count_while(at + 1, is_path_char);
            if nested == 0 || text.get(at + 1 + nested)? != ')' {
                return None;
            }
            at += 2 + nested;
            at += text.count_while(at, is_path_char);
            (text.get(at)? == ')').then_some(at + 1)
        }
        _ => None,
    }
}

/// The end of a `?query` at `at`, cut back to the last character a query may end with;
/// `at` itself when there is none.
fn query_end(text: &Text, at: usize) -> usize {
    if text.get(at) != Some('?') {
        return at;
    }
    let mut end = at;
    for (offset, c) in text.chars[at + 1..].iter().enumerate() {
        if !is_query_char(*c) {
            break;
        }
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '&' | '=' | '#' | '/') {
            end = at + 2 + offset;
        }
    }
    end
}

/// twitter-text's `validUrlPrecedingChars`: a URL does not continue a word, a mention,
/// a cashtag or a hashtag.
fn may_precede_url(c: char) -> bool {
    !(c.is_ascii_alphanumeric() || matches!(c, '@' | '＠' | '$' | '#' | '＃') || is_invalid(c))
}

fn is_domain_char(c: char) -> bool {
    !(c.is_ascii_punctuation()
        || c.is_whitespace()
        || c.is_control()
        || c == '\u{180E}'
        || is_invalid(c)
        || is_directional(c))
}

fn is_invalid(c: char) -> bool {
    matches!(c, '\u{FFFE}' | '\u{FEFF}' | '\u{FFFF}')
}

fn is_directional(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

fn is_latin_accent(c: char) -> bool {
    matches!(c,
        '\u{00C0}'..='\u{00D6}' | '\u{00D8}'..='\u{00F6}' | '\u{00F8}'..='\u{024F}'
        | '\u{0253}' | '\u{0254}' | '\u{0256}' | '\u{0257}' | '\u{0259}' | '\u{025B}'
        | '\u{0263}' | '\u{0268}' | '\u{026F}' | '\u{0272}' | '\u{0289}' | '\u{028B}'
        | '\u{02BB}' | '\u{0300}'..='\u{036F}' | '\u{1E00}'..='\u{1EFF}')
}

fn is_path_letter(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '\u{0400}'..='\u{04FF}') || is_latin_accent(c)
}

fn is_path_char(c: char) -> bool {
    is_path_letter(c) || "!*';:=+,.$/%#[]-_~&|@\u{2013}".contains(c)
}

fn is_path_end_char(c: char) -> bool {
    is_path_letter(c) || "+-=_#/".contains(c)
}

fn is_query_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!?*'();:&=+$/%#[]-_.,~|@".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<&str> {
        find(text).into_iter().map(|range| &text[range]).collect()
    }

    #[test]
    fn protocol_urls_keep_path_and_query_but_not_trailing_punctuation() {
        assert_eq!(
            urls("see https://example.com/a/b?x=1&y=2. ok"),
            ["https://example.com/a/b?x=1&y=2"]
        );
        assert_eq!(
            urls("(http://example.com/wiki/Foo_(bar))"),
            ["http://example.com/wiki/Foo_(bar)"]
        );
        assert_eq!(
            urls("http://example.com:8080/x"),
            ["http://example.com:8080/x"]
        );
    }

    #[test]
    fn protocol_less_domains_keep_only_their_ascii_part() {
        assert_eq!(urls("日本example.comを見て"), ["example.com"]);
        assert_eq!(urls("a.com b.org"), ["a.com", "b.org"]);
    }

    #[test]
    fn bad_labels_are_not_domains() {
        assert!(urls("http://www.-domain4352.com/").is_empty());
        assert!(urls("http://www.domain4352-.com/").is_empty());
        assert!(urls("http://domain-dash_2314352345_dfasd.foo-cow_4352.com").is_empty());
        assert!(urls("version 1.2.3 and 7.1km").is_empty());
    }

    #[test]
    fn byte_ranges_survive_multibyte_text() {
        let text = "睡眠 https://x.com/i 歩数";
        let found = find(text);
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].clone()], "https://x.com/i");
    }
}
