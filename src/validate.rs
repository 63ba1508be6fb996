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

pub fn login(value: &str) -> Result<String, AppError> {
    let text = value.trim();
    let valid_chars = text
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | '+'));
    if text.is_empty() || text.chars().count() > 64 || !valid_chars {
        return Err(AppError::bad_field(
            "login",
            "login must be 1 to 64 letters, digits or . - _ @ +",
        ));
    }
    Ok(text.to_owned())
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
        assert!(email("a@b.c").is_ok());
        assert!(email("nope").is_err());
        assert!(email("a@b@c").is_err());
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("A_b%"), "%a\\_b\\%%");
    }
}
