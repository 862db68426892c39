//! How long X considers a post: the weighted length of twitter-text v3.
//!
//! X counts the NFC form of the text. A URL counts 23 whatever its length, an emoji
//! sequence (ZWJ family, skin tone, flag, keycap) 2 as a whole, and every other code point
//! 1 if it lies in one of four ranges (most Latin, Greek, Cyrillic, Hebrew, Arabic, …,
//! general punctuation) or 2 otherwise (CJK, kana, full-width forms, emoji). The limit is
//! 280, so Japanese text holds about 140 characters.

mod tlds;
mod urls;

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use crate::error::Error;

/// The most a post may weigh.
pub const MAX_WEIGHTED_LENGTH: usize = 280;

/// What every URL weighs, the length of the t.co link X replaces it with.
const URL_WEIGHT: usize = 23;

/// What an emoji sequence weighs, however many code points it has.
const EMOJI_WEIGHT: usize = 2;

/// Code points X refuses in a post.
const INVALID_CHARACTERS: [char; 3] = ['\u{FFFE}', '\u{FEFF}', '\u{FFFF}'];

/// Why X would refuse a text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LengthError {
    #[error("the post is empty; give it some text")]
    Empty,
    #[error(
        "the post weighs {length} characters as X counts them, {over} over the limit of {MAX_WEIGHTED_LENGTH} \
         (CJK, kana and emoji count 2, a URL 23): shorten it by {over}"
    )]
    TooLong { length: usize, over: usize },
    #[error("the post contains the code point U+{code:04X}, which X refuses; remove it")]
    InvalidCharacter { code: u32 },
}

impl From<LengthError> for Error {
    fn from(err: LengthError) -> Self {
        Error::other(err.to_string())
    }
}

/// The weighted length of `text` as X computes it.
pub fn weighted_length(text: &str) -> usize {
    let text: String = text.nfc().collect();
    let mut urls = urls::find(&text).into_iter().peekable();
    let mut length = 0;
    let mut pos = 0;
    while let Some(rest) = text.get(pos..).filter(|rest| !rest.is_empty()) {
        if let Some(url) = urls.next_if(|url| url.start == pos) {
            length += URL_WEIGHT;
            pos = url.end;
            continue;
        }
        let next_url = urls.peek().map_or(text.len(), |url| url.start);
        let cluster = rest.graphemes(true).next().unwrap_or(rest);
        if pos + cluster.len() <= next_url && is_emoji_sequence(cluster) {
            length += EMOJI_WEIGHT;
            pos += cluster.len();
        } else if let Some(c) = rest.chars().next() {
            length += char_weight(c);
            pos += c.len_utf8();
        }
    }
    length
}

/// Byte ranges of the URLs in `text` as twitter-text finds them: with a protocol, or a
/// bare domain such as `example.com/path`.
pub fn urls(text: &str) -> Vec<std::ops::Range<usize>> {
    urls::find(text)
}

/// Checks that X would accept `text`, returning its weighted length.
pub fn check(text: &str) -> Result<usize, LengthError> {
    if let Some(c) = text.chars().find(|c| INVALID_CHARACTERS.contains(c)) {
        return Err(LengthError::InvalidCharacter { code: c.into() });
    }
    match weighted_length(text) {
        0 => Err(LengthError::Empty),
        length if length > MAX_WEIGHTED_LENGTH => Err(LengthError::TooLong {
            length,
            over: length - MAX_WEIGHTED_LENGTH,
        }),
        length => Ok(length),
    }
}

/// The v3 weight of one code point: 1 inside the four ranges of `config/v3.json`, else 2.
fn char_weight(c: char) -> usize {
    match u32::from(c) {
        0x0000..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
        _ => 2,
    }
}

/// Whether a grapheme cluster of several code points is one emoji, which twemoji (and
/// so X) counts as 2: a flag, a keycap, or a pictograph followed only by variation
/// selectors, skin tones, tags and ZWJ-joined pictographs. A single code point is left to
/// [`char_weight`], which already gives every emoji outside the ranges 2.
fn is_emoji_sequence(cluster: &str) -> bool {
    let mut chars = cluster.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let rest: Vec<char> = chars.collect();
    if rest.is_empty() {
        return false;
    }
    if is_regional_indicator(first) {
        return matches!(rest.as_slice(), [second] if is_regional_indicator(*second));
    }
    if matches!(first, '0'..='9' | '#' | '*') {
        return matches!(rest.as_slice(), ['\u{FE0F}', '\u{20E3}'] | ['\u{20E3}']);
    }
    // most pictographs weigh 2; © and ® are the weight-1 ones with an emoji form
    if char_weight(first) == 1 && !matches!(first, '©' | '®') {
        return false;
    }
    let mut after_zwj = false;
    rest.into_iter().all(|c| {
        let fits = is_emoji_modifier(c) || (after_zwj && char_weight(c) == 2);
        after_zwj = c == '\u{200D}';
        fits
    })
}

fn is_regional_indicator(c: char) -> bool {
    matches!(c, '\u{1F1E6}'..='\u{1F1FF}')
}

/// Code points that modify the emoji before them: emoji presentation selector, ZWJ,
/// skin tones and the tag characters of subdivision flags.
fn is_emoji_modifier(c: char) -> bool {
    matches!(
        c,
        '\u{FE0F}' | '\u{200D}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HIRAGANA_10: &str = "あいうえおかきくけこ";
    const POEMS: &str = "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口夕阳斜。旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。遥知兄弟登高处，遍插茱萸少一人。";
    const FAMILY: &str = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}";

    fn assert_length(text: &str, expected: usize) {
        assert_eq!(weighted_length(text), expected, "{text:?}");
    }

    /// 120 hiragana, a space, then `http://` and a host of `host_kana` hiragana + `.com`.
    fn hiragana_with_url(host_kana: usize) -> String {
        let host: String = HIRAGANA_10.repeat(6).chars().take(host_kana).collect();
        format!("{} http://{host}.com", HIRAGANA_10.repeat(12))
    }

    // twitter-text conformance/validate.yml, section WeightedTweetsWithDiscountedEmojiCounterTest
    // (the v3 configuration), and UnicodeDirectionalMarkerCounterTest.

    #[test]
    fn conformance_urls_count_23() {
        assert_length("Hi http://test.co", 26);
        assert_length("http://test.co", 23);
        let xs = "xxxxxxxxxx-";
        assert_length(&format!("285 chars-{}", xs.repeat(25)), 285);
        assert_length(
            &format!("285 chars- http://www.twitter.com/jack {}", xs.repeat(24)),
            299,
        );
        assert_length(
            &format!("{} http://www.twitter.com/jack ", xs.repeat(24)),
            289,
        );
        assert_length(&"https://www.twitter.com/aloha ".repeat(10), 240);
    }

    #[test]
    fn conformance_cjk_counts_2() {
        assert_eq!(POEMS.chars().count(), 160);
        assert_length(POEMS, 320);
        assert_length(&format!("the{POEMS}"), 323);
        assert!(matches!(
            check(POEMS),
            Err(LengthError::TooLong {
                length: 320,
                over: 40
            })
        ));
    }

    #[test]
    fn conformance_hiragana_host_within_63_punycode_characters_is_a_url() {
        let text = hiragana_with_url(52);
        assert_length(&text, 264);
        assert_eq!(check(&text), Ok(264));
    }

    #[test]
    fn conformance_hiragana_host_over_63_punycode_characters_is_not_a_url() {
        let text = hiragana_with_url(53);
        assert_length(&text, 358);
        assert!(check(&text).is_err());
    }

    #[test]
    fn conformance_labels_over_63_characters_are_not_urls() {
        assert_length(
            "randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com",
            68,
        );
        let long = format!("https://{}.com/foo", "somesuperlongurl".repeat(249));
        let text = format!(
            "Long url with invalid domain labels and a short url: {long} {long} {long} https://validurl.com"
        );
        assert_length(&text, 12079);
    }

    #[test]
    fn conformance_nfc_comes_first() {
        let text = format!("282 chars-{}xxxxxA\u{301}x", "xxxxxxxxxx-".repeat(24));
        assert_length(&text, 281);
        assert!(matches!(
            check(&text),
            Err(LengthError::TooLong { over: 1, .. })
        ));
    }

    #[test]
    fn conformance_emoji_sequences_count_2() {
        assert_length(&format!("H\u{1F431}\u{263A}{FAMILY}"), 7);
        assert_length("😷👾😡🔥💩", 10);
        assert_length("\u{1F64B}\u{1F3FD}\u{1F468}\u{200D}\u{1F3A4}", 4);
        assert_length(&"😷".repeat(160), 320);
        assert_length(&FAMILY.repeat(140), 280);
        assert_eq!(check(&FAMILY.repeat(140)), Ok(280));
        let england = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}";
        assert_length(
            &format!("Unicode 10.0 emoji: 🤪; 🧕; 🧕\u{1F3FE}; {england}"),
            34,
        );
        assert_length("Unicode 9.0 emoji: 🤠; 💃; 💃\u{1F3FE}", 29);
    }

    #[test]
    fn conformance_general_punctuation_counts_1() {
        let spaces: String = ('\u{2000}'..='\u{200B}').collect();
        let marks: Vec<String> = ('\u{2010}'..='\u{201F}')
            .chain('\u{2032}'..='\u{2037}')
            .map(String::from)
            .collect();
        // the conformance text has two spaces before U+2017
        let marks = marks.join(" ").replace(" \u{2017}", "  \u{2017}");
        let text = format!("This is a tweet with general punctuation characters: {spaces} {marks}");
        assert_length(&text, 110);
    }

    #[test]
    fn conformance_invalid_and_directional_characters() {
        let text = "ABC\u{202A}\u{FFFF}ABC\u{FFFE}";
        assert_length(text, 12);
        assert_eq!(
            check(text),
            Err(LengthError::InvalidCharacter { code: 0xFFFF })
        );
        assert!(check("\u{FEFF}hello").is_err());
        let text = "\u{2066}\u{202A}http://foobar.پاکستان/\u{202C}\u{2069}";
        assert_length(text, 31);
        assert_eq!(check(text), Ok(31));
    }

    #[test]
    fn conformance_urls_without_protocol() {
        for text in [
            "example.com",
            "www.example.com",
            "t.co",
            "foo.co.jp",
            "example.com/path/to/resource?search=foo&lang=en",
        ] {
            assert_length(text, 23);
        }
    }

    #[test]
    fn conformance_urls_with_protocol() {
        for text in [
            "http://example.com",
            "https://example.com/path/to/resource?search=foo&lang=en",
            "http://twitter.com/#!/twitter",
            "HTTPS://www.ExaMPLE.COM/index.html",
            "http://sports.yahoo.com/nfl/news;_ylt=Aom0;ylu=XyZ?slug=ap-superbowlnotebook",
            "http://test_underscore.twitter.com",
            "http://☃.net/",
            "http://example.com/Русские_слова",
            "https://www.youtube.com/playlist?list=PL0ZPu8XSRTB7wZzn0mLHMvyzVFeRxbWn-",
        ] {
            assert_length(text, 23);
        }
    }

    // The derived examples of the reference (no URLs or emoji), as in a daily summary.

    #[test]
    fn japanese_and_english_summaries() {
        assert_length("昨日の歩数: 8,532歩\n睡眠: 7時間12分", 35);
        assert_length("Steps: 8,532\nSleep: 7h 12m", 26);
        assert_length("歩数 10,234歩 / 距離 7.1km / 消費 2,145kcal", 43);
    }

    #[test]
    fn punctuation_and_width_variants() {
        assert_length("。、「」", 8);
        assert_length("ｱｲｳ", 6);
        assert_length("—–…’“", 6);
        assert_length("cafe\u{301}", 4);
    }

    #[test]
    fn domain_like_tokens() {
        assert_length("fitbit.com", 23);
        assert_length("Synced from fitbit.com today", 41);
        // a single label under a country code is not a URL without a path...
        assert_length("example.jp", 10);
        assert_length("example.jp/a", 23);
        // ...except under .co and .tv
        assert_length("example.co", 23);
        // no URL after @, nor after a slash, nor with an unknown scheme
        assert_length("me@example.com", 14);
        assert_length("ftp://www.example.com/", 22);
        // a trailing period or comma is not part of the URL
        assert_length("see example.com.", 28);
        assert_length("https://t.co/abc/def", 27);
    }

    #[test]
    fn keycaps_flags_and_text_symbols() {
        assert_length("#\u{FE0F}\u{20E3}", 2);
        assert_length("\u{1F1EF}\u{1F1F5}", 2);
        assert_length("©", 1);
        assert_length("©\u{FE0F}", 2);
        // a Devanagari conjunct with ZWJ is not an emoji: every code point counts
        assert_length("क्\u{200D}ष", 4);
    }

    #[test]
    fn empty_text_is_refused() {
        assert_eq!(check(""), Err(LengthError::Empty));
    }

    #[test]
    fn the_limit_itself_is_accepted() {
        assert_eq!(check(&"a".repeat(280)), Ok(280));
        let err = check(&"あ".repeat(141)).unwrap_err();
        assert_eq!(
            err,
            LengthError::TooLong {
                length: 282,
                over: 2
            }
        );
        assert!(err.to_string().contains("shorten it by 2"), "{err}");
    }
}
