//! Input checks shared by the REST resources; every error names its field.
use crate::error::AppError;

pub const MAX_SHORT_TEXT: usize = 255;
pub const MAX_LONG_TEXT: usize = 4096;
pub const MAX_URL: usize = 2048;

/// For optional JSON fields: `Some(None)` is an explicit `null` (clear the field),
/// `None` (with `#[serde(default)]`) means the field was absent (leave it alone).
pub fn nullable<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// A required, trimmed, non-empty string of at most `max` characters.
pub fn required_text(field: &str, value: Option<&str>, max: usize) -> Result<String, AppError> {
    match value.map(str::trim) {
        None | Some("") => Err(AppError::bad_field(field, format!("{field} is required"))),
        Some(text) => bounded(field, text, max).map(str::to_owned),
    }
}

/// An optional string: blank becomes `None`, long is an error.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, AppError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => bounded(field, text, max).map(|t| Some(t.to_owned())),
    }
}

fn bounded<'a>(field: &str, text: &'a str, max: usize) -> Result<&'a str, AppError> {
    if text.chars().count() > max {
        return Err(AppError::bad_field(
            field,
            format!("{field} must have at most {max} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    if text.chars().any(invisible) {
        return Err(AppError::bad_field(
            field,
            format!("{field} must not contain invisible or direction-changing characters"),
        ));
    }
    Ok(text)
}

/// Characters that show nothing or turn the text around, so that a name
/// reads as another: direction marks, embeddings, overrides and isolates,
/// zero-width spaces, the byte-order mark, soft hyphens, Hangul fillers and
/// tag characters. The joiners some scripts need (ZWJ, ZWNJ) stay allowed.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// The scripts whose letters pass for one another (Latin a, Cyrillic а,
/// Greek ο and Latin o): a login that mixes them imitates another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LookalikeScript {
    Latin,
    Greek,
    Cyrillic,
    Armenian,
}

fn lookalike_script(c: char) -> Option<LookalikeScript> {
    match u32::from(c) {
        0x41..=0x5A
        | 0x61..=0x7A
        | 0xC0..=0x24F
        | 0x1E00..=0x1EFF
        | 0x2C60..=0x2C7F
        | 0xA720..=0xA7FF
        | 0xAB30..=0xAB6F => Some(LookalikeScript::Latin),
        0x370..=0x3FF | 0x1F00..=0x1FFF => Some(LookalikeScript::Greek),
        0x400..=0x52F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => {
            Some(LookalikeScript::Cyrillic)
        }
        0x530..=0x58F | 0xFB13..=0xFB17 => Some(LookalikeScript::Armenian),
        _ => None,
    }
}

/// Unicode compatibility normalization (NFKC): fullwidth and other
/// compatibility forms become their ordinary letters.
pub fn nfkc(text: &str) -> std::borrow::Cow<'_, str> {
    icu_normalizer::ComposingNormalizerBorrowed::new_nfkc().normalize(text)
}

/// A login as stored: NFKC (so fullwidth `ａｄｍｉｎ` is `admin`), letters
/// beyond ASCII in lower case (so `lower()` in SQLite, which folds ASCII
/// only, and in PostgreSQL agree with the lookup's), and one of the Latin,
/// Greek, Cyrillic and Armenian scripts at most. ASCII keeps the case it was given.
pub fn login(value: &str) -> Result<String, AppError> {
    let normalized = nfkc(value.trim());
    let mut text = String::with_capacity(normalized.len());
    for c in normalized.chars() {
        match c.is_ascii() {
            true => text.push(c),
            false => text.extend(c.to_lowercase()),
        }
    }
    // Hangul fillers are letters, and invisible.
    let valid_chars = text.chars().all(|c| {
        (c.is_alphanumeric() && !invisible(c)) || matches!(c, '.' | '-' | '_' | '@' | '+')
    });
    if text.is_empty() || text.chars().count() > 64 || !valid_chars {
        return Err(AppError::bad_field(
            "login",
            "login must be 1 to 64 letters, digits or . - _ @ +",
        ));
    }
    let mut scripts = text.chars().filter_map(lookalike_script);
    if let Some(first) = scripts.next() {
        if scripts.any(|script| script != first) {
            return Err(AppError::bad_field(
                "login",
                "login must not mix Latin, Greek, Cyrillic and Armenian letters",
            ));
        }
    }
    Ok(text)
}

/// An absolute `http`/`https` URL such as a home page or icon.
pub fn web_url(field: &str, value: &str) -> Result<String, AppError> {
    let text = bounded(field, value.trim(), MAX_URL)?;
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(text.to_owned())
        }
        _ => Err(AppError::bad_field(
            field,
            format!("{field} must be an absolute http(s) URL"),
        )),
    }
}

pub fn email(value: &str) -> Result<String, AppError> {
    let text = bounded("email", value.trim(), 254)?;
    let well_formed = match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !text.contains(char::is_whitespace)
        }
        None => false,
    };
    if !well_formed {
        return Err(AppError::bad_field(
            "email",
            "email must look like name@domain",
        ));
    }
    Ok(text.to_owned())
}

/// Escapes `%`, `_` and `\` so user text matches literally inside `LIKE`.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert!(required_text("name", None, 10).is_err());
        assert!(required_text("name", Some("   "), 10).is_err());
        assert_eq!(required_text("name", Some(" a "), 10).unwrap(), "a");
        assert!(required_text("name", Some(&"x".repeat(11)), 10).is_err());
        assert!(required_text("name", Some("a\u{0}b"), 10).is_err());
        assert!(required_text("name", Some("idhub\u{202E}elosnoC"), 40).is_err());
        assert!(required_text("name", Some("id\u{200B}hub"), 40).is_err());
        assert!(required_text("name", Some("Ünïcödé ok"), 40).is_ok());
        assert_eq!(optional_text("v", Some(""), 10).unwrap(), None);
    }

    #[test]
    fn urls_logins_emails() {
        assert!(web_url("homeUrl", "https://example.com/x").is_ok());
        assert!(web_url("homeUrl", "javascript:alert(1)").is_err());
        assert!(web_url("homeUrl", "/relative").is_err());
        assert!(login("jane.doe").is_ok());
        assert!(login("jane doe").is_err());
        assert!(login("").is_err());
        assert_eq!(
            login("Jane.Doe").unwrap(),
            "Jane.Doe",
            "ASCII keeps its case"
        );
        assert_eq!(login("Ädmin").unwrap(), "ädmin");
        assert_eq!(login("ａｄｍｉｎ").unwrap(), "admin");
        assert_eq!(login("админ").unwrap(), "админ");
        assert!(login("\u{0430}dmin").is_err(), "Cyrillic a among Latin");
        assert!(
            login("p\u{03BF}stmaster").is_err(),
            "Greek omicron among Latin"
        );
        assert!(login("ad\u{200D}min").is_err());
        assert!(
            login("admin\u{3164}").is_err(),
            "a Hangul filler, invisible"
        );
        assert!(
            login("p\u{0585}stmaster").is_err(),
            "Armenian o among Latin"
        );
        assert!(login("田中tanaka").is_ok());
        assert!(email("a@b.c").is_ok());
        assert!(email("nope").is_err());
        assert!(email("a@b@c").is_err());
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("A_b%"), "%a\\_b\\%%");
    }
}
