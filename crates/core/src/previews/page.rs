//! What a fetched page says about itself: Open Graph (`og:*`), then
//! Twitter card (`twitter:*`) properties, then `<title>` and the meta
//! description. Parsed with scraper (html5ever), which recovers from
//! broken markup as a browser does. Pure: no I/O; the caller runs it off
//! the async runtime. Texts come back as plain one-paragraph text,
//! trimmed, without control characters and cut to a bounded length.
//! The bytes become text in the page's charset ([`decode`]).

use encoding_rs::{Encoding, UTF_8};
use scraper::{Html, Selector};
use url::Url;

/// Longest title kept, in characters.
const MAX_TITLE: usize = 300;
/// Longest description kept, in characters.
const MAX_DESCRIPTION: usize = 1000;
/// Longest site name kept, in characters.
const MAX_SITE_NAME: usize = 100;

/// The preview data found on a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PageMeta {
    pub title: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    /// The image's absolute URL (http or https), not fetched yet.
    pub image: Option<Url>,
}

impl PageMeta {
    /// True if there is nothing a card could show.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none() && self.image.is_none()
    }
}

/// How far into a page a `<meta charset>` is looked for (the HTML
/// standard's prescan looks at the first 1024 bytes).
const PRESCAN_BYTES: usize = 1024;

/// `bytes` of a page as text, in the charset a browser would pick: a
/// byte order mark, else the `Content-Type` charset (`declared`), else a
/// `<meta charset>` (or `http-equiv` `Content-Type`) in the first 1024
/// bytes, else UTF-8. Bytes invalid in it become U+FFFD.
pub(crate) fn decode(bytes: &[u8], declared: Option<&str>) -> String {
    let from_label = |label: &str| Encoding::for_label(label.trim().as_bytes());
    let encoding = declared
        .and_then(from_label)
        .or_else(|| {
            meta_charset(&bytes[..bytes.len().min(PRESCAN_BYTES)])
                .and_then(|label| from_label(&label))
        })
        // A page cannot name UTF-16 from inside itself (its ASCII bytes
        // would not read as such): the standard takes UTF-8 then.
        .map(|found| {
            if found.is_single_byte() || found == UTF_8 {
                found
            } else {
                found.output_encoding()
            }
        })
        .unwrap_or(UTF_8);
    // `decode` lets a byte order mark win over the label, as browsers do.
    let (text, _, _) = encoding.decode(bytes);
    text.into_owned()
}

/// The charset label of the first `<meta>` in `head` naming one, by a
/// `charset` attribute or a `content` with `charset=` (both forms end up
/// as "charset" followed by "=" inside the tag).
fn meta_charset(head: &[u8]) -> Option<String> {
    let lower = head.to_ascii_lowercase();
    let mut rest = lower.as_slice();
    while let Some(start) = find(rest, b"<meta") {
        let tag = &rest[start + 5..];
        let end = tag
            .iter()
            .position(|&byte| byte == b'>')
            .unwrap_or(tag.len());
        let tag = &tag[..end];
        if let Some(at) = find(tag, b"charset") {
            let after = tag[at + 7..].trim_ascii_start();
            if let Some(value) = after.strip_prefix(b"=") {
                let value = value.trim_ascii_start();
                let value = value
                    .strip_prefix(b"\"")
                    .or_else(|| value.strip_prefix(b"'"))
                    .unwrap_or(value);
                let label: Vec<u8> = value
                    .iter()
                    .copied()
                    .take_while(|byte| {
                        !matches!(byte, b'"' | b'\'' | b';' | b'/' | b'>')
                            && !byte.is_ascii_whitespace()
                    })
                    .collect();
                if !label.is_empty() {
                    return Some(String::from_utf8_lossy(&label).into_owned());
                }
            }
        }
        rest = &rest[start + 5 + end..];
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Reads the preview data of `html`, the page at `base` (the URL it was
/// finally fetched from, for relative image URLs).
pub(crate) fn parse(html: &str, base: &Url) -> PageMeta {
    let document = Html::parse_document(html);
    let meta = Selector::parse("meta[content]").expect("a valid selector");
    let mut properties: Vec<(String, String)> = Vec::new();
    for element in document.select(&meta) {
        let element = element.value();
        let key = element
            .attr("property")
            .or_else(|| element.attr("name"))
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if let Some(content) = element.attr("content")
            && !key.is_empty()
        {
            properties.push((key, content.to_owned()));
        }
    }
    // The first non-empty value of the first key, in order of preference.
    let first = |keys: &[&str], max: usize| {
        keys.iter().find_map(|key| {
            properties
                .iter()
                .filter(|(name, _)| name == key)
                .find_map(|(_, value)| clean(value, max))
        })
    };
    let title_element = Selector::parse("title").expect("a valid selector");
    let title = first(&["og:title", "twitter:title"], MAX_TITLE).or_else(|| {
        document
            .select(&title_element)
            .next()
            .and_then(|element| clean(&element.text().collect::<String>(), MAX_TITLE))
    });
    let image = [
        "og:image:secure_url",
        "og:image:url",
        "og:image",
        "twitter:image",
        "twitter:image:src",
    ]
    .iter()
    .find_map(|key| {
        properties
            .iter()
            .filter(|(name, _)| name == key)
            .find_map(|(_, value)| image_url(value, base))
    });
    PageMeta {
        title,
        description: first(
            &["og:description", "twitter:description", "description"],
            MAX_DESCRIPTION,
        ),
        site_name: first(&["og:site_name"], MAX_SITE_NAME),
        image,
    }
}

/// `text` on one line (runs of white space become one space), without
/// control or invisible formatting characters, at most `max` characters
/// (cut ones end in "…"); `None` if nothing is left.
fn clean(text: &str, max: usize) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined: String = words
        .join(" ")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect();
    let joined = joined.trim();
    if joined.is_empty() {
        return None;
    }
    if joined.chars().count() <= max {
        return Some(joined.to_owned());
    }
    let cut: String = joined.chars().take(max - 1).collect();
    Some(format!("{}…", cut.trim_end()))
}

/// An image URL from a page, made absolute; only http(s), bounded length.
fn image_url(value: &str, base: &Url) -> Option<Url> {
    let url = base.join(value.trim()).ok()?;
    super::target::check(&url).ok()?;
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.com/articles/one").unwrap()
    }

    #[test]
    fn open_graph_wins_over_twitter_and_the_title_element() {
        let html = r#"<!doctype html><html><head>
            <title>Plain title</title>
            <meta name="description" content="Plain description">
            <meta name="twitter:title" content="Twitter title">
            <meta property="og:title" content="  OG
               title ">
            <meta property="og:description" content="OG description">
            <meta property="og:site_name" content="Example">
            <meta property="og:image" content="/img/cover.png">
            </head><body></body></html>"#;
        let meta = parse(html, &base());
        assert_eq!(meta.title.as_deref(), Some("OG title"));
        assert_eq!(meta.description.as_deref(), Some("OG description"));
        assert_eq!(meta.site_name.as_deref(), Some("Example"));
        assert_eq!(
            meta.image.map(String::from).as_deref(),
            Some("https://example.com/img/cover.png")
        );
    }

    #[test]
    fn a_page_without_cards_falls_back_to_title_and_description() {
        let html = "<title>Hello &amp; welcome</title><meta name=Description content='About us'>";
        let meta = parse(html, &base());
        assert_eq!(meta.title.as_deref(), Some("Hello & welcome"));
        assert_eq!(meta.description.as_deref(), Some("About us"));
        assert_eq!((meta.site_name, meta.image), (None, None));
        assert!(parse("<p>hi</p>", &base()).title.is_none());
        assert!(parse("<p>just text</p>", &base()).is_empty());
    }

    #[test]
    fn twitter_cards_fill_in_and_hostile_values_are_dropped() {
        let html = concat!(
            r#"<meta name="twitter:title" content="T">"#,
            r#"<meta name="twitter:image" content="javascript:alert(1)">"#,
            r#"<meta property="og:image" content="data:image/png;base64,AAAA">"#,
            r#"<meta property="og:title" content="   ">"#,
            "<meta name=\"twitter:description\" content=\"a\u{7}b &#x202E;c\">",
        );
        let meta = parse(html, &base());
        assert_eq!(meta.title.as_deref(), Some("T"));
        assert_eq!(meta.image, None, "only http(s) images");
        assert_eq!(meta.description.as_deref(), Some("ab c"));
    }

    #[test]
    fn long_texts_are_cut_and_marked() {
        let html = format!("<title>{}</title>", "word ".repeat(200));
        let title = parse(&html, &base()).title.unwrap();
        assert_eq!(title.chars().count(), MAX_TITLE);
        assert!(title.ends_with('…'));
    }

    #[test]
    fn broken_markup_still_yields_what_a_browser_would_see() {
        let html = "<html><head><meta property=og:title content=\"Unclosed <b>bold\"><title>x";
        assert_eq!(
            parse(html, &base()).title.as_deref(),
            Some("Unclosed <b>bold")
        );
    }

    #[test]
    fn a_page_is_read_in_the_charset_it_declares() {
        // "Café" in windows-1252: é is the single byte 0xE9.
        let page = b"<html><head><title>Caf\xe9</title></head></html>";
        assert!(decode(page, Some("windows-1252")).contains("Café"));
        assert!(
            decode(page, Some("ISO-8859-1")).contains("Café"),
            "a label WHATWG maps to windows-1252"
        );
        assert!(
            decode(page, None).contains("Caf\u{FFFD}"),
            "UTF-8 when nothing is declared"
        );
        let meta = b"<meta charset=\"windows-1252\"><title>Caf\xe9</title>";
        assert!(decode(meta, None).contains("Café"));
        let equiv = b"<meta http-equiv=Content-Type content='text/html; charset=iso-8859-1'><title>Caf\xe9</title>";
        assert!(decode(equiv, None).contains("Café"));
        assert!(
            decode(meta, Some("utf-8")).contains('\u{FFFD}'),
            "the header wins over the page"
        );
        let utf8 = "<meta charset=utf-8><title>Café ✓</title>";
        assert!(decode(utf8.as_bytes(), None).contains("Café ✓"));
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), "<title>Café</title>".as_bytes()].concat();
        assert!(
            decode(&with_bom, Some("windows-1252")).contains("Café"),
            "a BOM wins"
        );
        assert!(decode("<meta charset=utf-16le><title>é</title>".as_bytes(), None).contains('é'));
        assert!(decode(b"<meta charset=nonsense><title>x</title>", None).contains('x'));
    }
}
