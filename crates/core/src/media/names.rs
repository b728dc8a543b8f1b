//! Client file names made safe to store as metadata, show in chats and
//! send in `Content-Disposition`. Names never become storage keys.

/// Longest name kept, in bytes (what most file systems allow).
const MAX_NAME_BYTES: usize = 255;

/// Longest extension kept when a long name is shortened, in bytes.
const MAX_EXTENSION_BYTES: usize = 16;

/// Device names Windows reserves, with or without an extension.
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Characters that are invisible or reorder text: with them
/// `invoice<U+202E>fdp.exe` displays as `invoiceexe.pdf`.
fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Makes a client-supplied file name safe: keeps only the last path
/// component (`/` and `\` both count), drops control characters (NUL
/// included) and bidi/invisible formatting characters, leading dots and
/// spaces, trailing dots and spaces, prefixes Windows device names (`CON`,
/// `com1.txt`...) with `_`, and caps the result at 255 bytes on a char
/// boundary, keeping a short extension. An empty result becomes `file`.
pub fn sanitize_file_name(name: &str) -> String {
    let last = name
        .split(['/', '\\'])
        .rev()
        .find(|part| !part.trim().is_empty())
        .unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|&c| !c.is_control() && !is_invisible_or_bidi(c))
        .collect();
    let mut name = trim_ends(&cleaned).to_owned();
    let stem = name.split('.').next().unwrap_or("").trim_end();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        name.insert(0, '_');
    }
    let name = trim_ends(&cap(&name)).to_owned();
    if name.is_empty() {
        "file".to_owned()
    } else {
        name
    }
}

fn trim_ends(name: &str) -> &str {
    name.trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace())
}

/// At most [`MAX_NAME_BYTES`], cut on a char boundary, extension kept if
/// it is short.
fn cap(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_owned();
    }
    let extension = match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= MAX_EXTENSION_BYTES => &name[dot..],
        _ => "",
    };
    let stem = &name[..name.len() - extension.len()];
    format!(
        "{}{extension}",
        prefix(stem, MAX_NAME_BYTES - extension.len())
    )
}

/// The longest prefix of `s` of at most `max` bytes ending on a char boundary.
fn prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::sanitize_file_name as clean;

    #[test]
    fn path_components_are_stripped() {
        assert_eq!(clean("../../etc/passwd"), "passwd");
        assert_eq!(clean("..\\..\\windows\\system32\\cmd.exe"), "cmd.exe");
        assert_eq!(clean("C:\\Users\\me\\photo.jpg"), "photo.jpg");
        assert_eq!(clean("dir/"), "dir");
        assert_eq!(clean("../.."), "file");
        assert_eq!(clean("/"), "file");
    }

    #[test]
    fn control_characters_and_nul_are_removed() {
        assert_eq!(clean("a\0b.png"), "ab.png");
        assert_eq!(clean("line\nbreak\r\t.txt"), "linebreak.txt");
        assert_eq!(clean("bell\u{7}\u{7f}\u{85}.txt"), "bell.txt");
    }

    #[test]
    fn bidi_overrides_cannot_disguise_an_extension() {
        assert_eq!(clean("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(clean("\u{2067}photo\u{2069}.jpg\u{200B}"), "photo.jpg");
        assert_eq!(clean("\u{FEFF}report.pdf"), "report.pdf");
    }

    #[test]
    fn leading_dots_and_trailing_dots_and_spaces_go() {
        assert_eq!(clean(".htaccess"), "htaccess");
        assert_eq!(clean("...hidden.txt. . "), "hidden.txt");
        assert_eq!(clean("  spaced name.txt  "), "spaced name.txt");
        assert_eq!(clean("..."), "file");
        assert_eq!(clean(""), "file");
    }

    #[test]
    fn windows_reserved_names_are_defused() {
        assert_eq!(clean("CON"), "_CON");
        assert_eq!(clean("CON.txt"), "_CON.txt");
        assert_eq!(clean("con.tar.gz"), "_con.tar.gz");
        assert_eq!(clean("lpt9"), "_lpt9");
        assert_eq!(clean("Com1 .txt"), "_Com1 .txt");
        assert_eq!(clean("nul."), "_nul");
        assert_eq!(clean("CONSOLE.txt"), "CONSOLE.txt");
        assert_eq!(clean("COM10"), "COM10");
    }

    #[test]
    fn long_names_are_capped_keeping_the_extension() {
        let long = format!("{}.png", "a".repeat(1000));
        let out = clean(&long);
        assert_eq!(out.len(), 255);
        assert!(out.ends_with(".png"));

        // Multi-byte characters are never split.
        let wide = format!("{}.jpeg", "é".repeat(1000));
        let out = clean(&wide);
        assert!(out.len() <= 255 && out.ends_with(".jpeg"));
        assert!(out.trim_end_matches(".jpeg").chars().all(|c| c == 'é'));

        // A "extension" too long to be one is cut like the rest.
        let odd = format!("x.{}", "b".repeat(1000));
        assert_eq!(clean(&odd).len(), 255);
    }

    #[test]
    fn ordinary_names_are_left_alone() {
        for name in [
            "holiday photo.jpg",
            "résumé (final).pdf",
            "日本語.txt",
            "a.b.c",
        ] {
            assert_eq!(clean(name), name);
        }
    }
}
