//! Top-level domains that make a dotted word a URL: every country code (twitter-text's
//! `country` list, internationalized ones included) and the common generic ones.

/// Whether a TLD is a country code: a single label under one is a URL only with a path
/// (`example.jp/a`), except under `.co` and `.tv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Country,
    Generic,
}

/// A TLD at the start of some text: its length in chars and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tld {
    pub len: usize,
    pub kind: Kind,
}

/// The TLD that `chars` starts with, if it ends where twitter-text lets a TLD end: at the
/// end of the text or before anything but an ASCII letter, digit, `@`, `+` or `-`.
pub(super) fn at_start(chars: &[char]) -> Option<Tld> {
    let ends_cleanly = |len: usize| {
        chars
            .get(len)
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || matches!(c, '@' | '+' | '-')))
    };
    let ascii_len = chars
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if ascii_len > 0 {
        let name: String = chars[..ascii_len]
            .iter()
            .map(char::to_ascii_lowercase)
            .collect();
        return match kind_of(&name) {
            Some(kind) if ends_cleanly(ascii_len) => Some(Tld {
                len: ascii_len,
                kind,
            }),
            _ => punycode_at_start(chars),
        };
    }
    COUNTRY_IDN
        .iter()
        .map(|tld| (tld, Kind::Country))
        .chain(GENERIC_IDN.iter().map(|tld| (tld, Kind::Generic)))
        .filter_map(|(tld, kind)| {
            let len = tld.chars().count();
            let starts = chars.len() >= len && chars[..len].iter().copied().eq(tld.chars());
            (starts && ends_cleanly(len)).then_some(Tld { len, kind })
        })
        .max_by_key(|tld| tld.len)
}

fn kind_of(name: &str) -> Option<Kind> {
    if COUNTRY.binary_search(&name).is_ok() {
        Some(Kind::Country)
    } else if GENERIC.binary_search(&name).is_ok() {
        Some(Kind::Generic)
    } else {
        None
    }
}

/// An ASCII-encoded internationalized TLD, `xn--` and at least one more character.
fn punycode_at_start(chars: &[char]) -> Option<Tld> {
    let prefix: String = chars.iter().take(4).map(char::to_ascii_lowercase).collect();
    if prefix != "xn--" {
        return None;
    }
    let rest = chars[4..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '-')
        .count();
    (rest > 0).then_some(Tld {
        len: 4 + rest,
        kind: Kind::Generic,
    })
}

/// Sorted, for binary search.
const COUNTRY: &[&str] = &[
    "ac", "ad", "ae", "af", "ag", "ai", "al", "am", "an", "ao", "aq", "ar", "as", "at", "au", "aw",
    "ax", "az", "ba", "bb", "bd", "be", "bf", "bg", "bh", "bi", "bj", "bl", "bm", "bn", "bo", "bq",
    "br", "bs", "bt", "bv", "bw", "by", "bz", "ca", "cc", "cd", "cf", "cg", "ch", "ci", "ck", "cl",
    "cm", "cn", "co", "cr", "cu", "cv", "cw", "cx", "cy", "cz", "de", "dj", "dk", "dm", "do", "dz",
    "ec", "ee", "eg", "eh", "er", "es", "et", "eu", "fi", "fj", "fk", "fm", "fo", "fr", "ga", "gb",
    "gd", "ge", "gf", "gg", "gh", "gi", "gl", "gm", "gn", "gp", "gq", "gr", "gs", "gt", "gu", "gw",
    "gy", "hk", "hm", "hn", "hr", "ht", "hu", "id", "ie", "il", "im", "in", "io", "iq", "ir", "is",
    "it", "je", "jm", "jo", "jp", "ke", "kg", "kh", "ki", "km", "kn", "kp", "kr", "kw", "ky", "kz",
    "la", "lb", "lc", "li", "lk", "lr", "ls", "lt", "lu", "lv", "ly", "ma", "mc", "md", "me", "mf",
    "mg", "mh", "mk", "ml", "mm", "mn", "mo", "mp", "mq", "mr", "ms", "mt", "mu", "mv", "mw", "mx",
    "my", "mz", "na", "nc", "ne", "nf", "ng", "ni", "nl", "no", "np", "nr", "nu", "nz", "om", "pa",
    "pe", "pf", "pg", "ph", "pk", "pl", "pm", "pn", "pr", "ps", "pt", "pw", "py", "qa", "re", "ro",
    "rs", "ru", "rw", "sa", "sb", "sc", "sd", "se", "sg", "sh", "si", "sj", "sk", "sl", "sm", "sn",
    "so", "sr", "ss", "st", "su", "sv", "sx", "sy", "sz", "tc", "td", "tf", "tg", "th", "tj", "tk",
    "tl", "tm", "tn", "to", "tp", "tr", "tt", "tv", "tw", "tz", "ua", "ug", "uk", "um", "us", "uy",
    "uz", "va", "vc", "ve", "vg", "vi", "vn", "vu", "wf", "ws", "ye", "yt", "za", "zm", "zw",
];

/// The generic TLDs a post is likely to name; sorted, for binary search.
const GENERIC: &[&str] = &[
    "aero",
    "app",
    "art",
    "asia",
    "audio",
    "bar",
    "best",
    "bet",
    "bid",
    "bike",
    "bio",
    "biz",
    "blog",
    "blue",
    "book",
    "buzz",
    "cafe",
    "cam",
    "camp",
    "care",
    "cash",
    "cat",
    "center",
    "chat",
    "city",
    "click",
    "cloud",
    "club",
    "codes",
    "coffee",
    "com",
    "company",
    "cool",
    "coop",
    "design",
    "dev",
    "digital",
    "domains",
    "earth",
    "edu",
    "email",
    "energy",
    "events",
    "expert",
    "fan",
    "fashion",
    "fit",
    "fitness",
    "fun",
    "fund",
    "games",
    "garden",
    "gift",
    "global",
    "gmbh",
    "gold",
    "golf",
    "gov",
    "group",
    "guide",
    "guru",
    "health",
    "help",
    "homes",
    "host",
    "house",
    "icu",
    "info",
    "ink",
    "int",
    "jobs",
    "kim",
    "land",
    "lat",
    "life",
    "link",
    "live",
    "loan",
    "lol",
    "love",
    "ltd",
    "market",
    "media",
    "men",
    "mil",
    "mobi",
    "moe",
    "mom",
    "money",
    "museum",
    "name",
    "net",
    "network",
    "news",
    "ninja",
    "one",
    "onion",
    "online",
    "ooo",
    "org",
    "page",
    "photo",
    "photos",
    "pics",
    "pink",
    "plus",
    "post",
    "press",
    "pro",
    "pub",
    "red",
    "rest",
    "review",
    "rocks",
    "run",
    "sale",
    "school",
    "science",
    "services",
    "sex",
    "shop",
    "show",
    "site",
    "social",
    "software",
    "solutions",
    "space",
    "store",
    "studio",
    "style",
    "sucks",
    "support",
    "team",
    "tech",
    "tel",
    "today",
    "tokyo",
    "top",
    "tours",
    "trade",
    "travel",
    "tube",
    "video",
    "vip",
    "vote",
    "wang",
    "website",
    "wiki",
    "win",
    "work",
    "works",
    "world",
    "wtf",
    "xxx",
    "xyz",
    "yoga",
    "zone",
];

const COUNTRY_IDN: &[&str] = &[
    "한국",
    "香港",
    "澳門",
    "新加坡",
    "台灣",
    "台湾",
    "中國",
    "中国",
    "გე",
    "ไทย",
    "ලංකා",
    "ഭാരതം",
    "ಭಾರತ",
    "భారత్",
    "சிங்கப்பூர்",
    "இலங்கை",
    "இந்தியா",
    "ଭାରତ",
    "ભારત",
    "ਭਾਰਤ",
    "ভাৰত",
    "ভারত",
    "বাংলা",
    "भारत",
    "پاکستان",
    "مليسيا",
    "مصر",
    "قطر",
    "فلسطين",
    "عمان",
    "عراق",
    "سورية",
    "سودان",
    "تونس",
    "بھارت",
    "ایران",
    "امارات",
    "المغرب",
    "السعودية",
    "الجزائر",
    "الاردن",
    "հայ",
    "қаз",
    "укр",
    "срб",
    "рф",
    "мон",
    "мкд",
    "ею",
    "бел",
    "бг",
    "ελ",
];

/// The Japanese generic TLDs, since posts may be in Japanese.
const GENERIC_IDN: &[&str] = &[
    "みんな",
    "コム",
    "ストア",
    "セール",
    "クラウド",
    "ポイント",
    "ファッション",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> Vec<char> {
        text.chars().collect()
    }

    #[test]
    fn ascii_lists_are_sorted_lowercase_and_disjoint() {
        for list in [COUNTRY, GENERIC] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
            assert!(
                list.iter()
                    .all(|t| t.bytes().all(|b| b.is_ascii_lowercase()))
            );
        }
        assert!(GENERIC.iter().all(|t| COUNTRY.binary_search(t).is_err()));
    }

    #[test]
    fn a_tld_must_end_at_a_boundary() {
        let tld = |text: &str| at_start(&chars(text));
        assert_eq!(
            tld("com/path"),
            Some(Tld {
                len: 3,
                kind: Kind::Generic
            })
        );
        assert_eq!(
            tld("JP"),
            Some(Tld {
                len: 2,
                kind: Kind::Country
            })
        );
        assert_eq!(tld("comx"), None);
        assert_eq!(tld("com-x"), None);
        assert_eq!(tld("km2"), None);
        assert_eq!(tld("xn--p1ai/").map(|t| t.len), Some(8));
        assert_eq!(tld("рф/").map(|t| t.kind), Some(Kind::Country));
    }
}
