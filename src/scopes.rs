//! Scopes are space-separated service ids (plus a few OIDC words later on).
use crate::error::AppError;

pub const MAX_SCOPES: usize = 50;
const MAX_SCOPE_LENGTH: usize = 128;

/// Splits a scope string into distinct entries, keeping their first order.
pub fn parse(field: &str, text: &str) -> Result<Vec<String>, AppError> {
    let mut scopes: Vec<String> = Vec::new();
    for entry in text.split_whitespace() {
        if entry.len() > MAX_SCOPE_LENGTH
            || entry
                .chars()
                .any(|c| c.is_control() || c == '"' || c == '\\')
        {
            return Err(AppError::bad_field(
                field,
                "scope entries must be printable and short",
            ));
        }
        if !scopes.iter().any(|s| s == entry) {
            scopes.push(entry.to_owned());
        }
        if scopes.len() > MAX_SCOPES {
            return Err(AppError::bad_field(
                field,
                format!("at most {MAX_SCOPES} scope entries"),
            ));
        }
    }
    Ok(scopes)
}

pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_dedupes_and_bounds() {
        assert_eq!(parse("scope", " a  b a ").unwrap(), vec!["a", "b"]);
        assert!(parse("scope", "").unwrap().is_empty());
        let many: Vec<String> = (0..=MAX_SCOPES).map(|i| format!("s{i}")).collect();
        assert!(parse("scope", &many.join(" ")).is_err());
        assert!(parse("scope", &"x".repeat(200)).is_err());
        assert_eq!(join(&["a".into(), "b".into()]), "a b");
    }
}
