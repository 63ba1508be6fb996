//! Hub's query syntax for services: `is: trusted`, `name: {My App}`, `key: k`,
//! `redirectUri: https://…`, free words over the name, optional `and`.
use crate::error::AppError;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ServiceQuery {
    pub trusted: Option<bool>,
    pub names: Vec<String>,
    pub keys: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub words: Vec<String>,
}

const MAX_QUERY: usize = 1024;

impl ServiceQuery {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        if text.len() > MAX_QUERY {
            return Err(AppError::bad_field(
                "query",
                format!("query must have at most {MAX_QUERY} characters"),
            ));
        }
        let mut query = Self::default();
        let mut rest = text.trim();
        while !rest.is_empty() {
            let (term, after) = next_term(rest)?;
            rest = after.trim_start();
            match term {
                Term::Word(word) if word.eq_ignore_ascii_case("and") => {}
                Term::Word(word) => query.words.push(word.to_lowercase()),
                Term::Keyed(key, value) => query.add(&key, value)?,
            }
        }
        Ok(query)
    }

    fn add(&mut self, key: &str, value: String) -> Result<(), AppError> {
        match key.to_ascii_lowercase().as_str() {
            "is" | "not" => {
                let wanted = key.eq_ignore_ascii_case("is");
                match value.to_ascii_lowercase().as_str() {
                    "trusted" => self.trusted = Some(wanted),
                    other => {
                        return Err(AppError::bad_field(
                            "query",
                            format!("unknown flag '{other}' after {key}:"),
                        ));
                    }
                }
            }
            "name" => self.names.push(value.to_lowercase()),
            "key" => self.keys.push(value),
            "redirecturi" => self.redirect_uris.push(value),
            _ => {
                return Err(AppError::bad_field(
                    "query",
                    format!("unknown query key '{key}'"),
                ))
            }
        }
        Ok(())
    }
}

enum Term {
    Word(String),
    Keyed(String, String),
}

fn next_term(text: &str) -> Result<(Term, &str), AppError> {
    let (first, rest) = split_value(text)?;
    // `key:` binds to the following value; a URI's own ':' does not start a key
    // because keys are plain letters.
    if let Some(key) = first.strip_suffix(':').filter(|k| is_key(k)) {
        let rest = rest.trim_start();
        if rest.is_empty() {
            return Err(AppError::bad_field(
                "query",
                format!("missing value after {key}:"),
            ));
        }
        let (value, rest) = split_value(rest)?;
        return Ok((Term::Keyed(key.to_owned(), value), rest));
    }
    if let Some((key, value)) = first
        .split_once(':')
        .filter(|(k, v)| is_key(k) && !v.is_empty())
    {
        if !value.starts_with("//") {
            return Ok((Term::Keyed(key.to_owned(), value.to_owned()), rest));
        }
    }
    Ok((Term::Word(first), rest))
}

fn is_key(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphabetic())
}

/// One value: `{braced text}`, `"quoted text"`, or up to the next whitespace.
fn split_value(text: &str) -> Result<(String, &str), AppError> {
    for (open, close) in [('{', '}'), ('"', '"')] {
        if let Some(inner) = text.strip_prefix(open) {
            let end = inner.find(close).ok_or_else(|| {
                AppError::bad_field("query", format!("missing '{close}' in query"))
            })?;
            return Ok((inner[..end].to_owned(), &inner[end + 1..]));
        }
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    Ok((text[..end].to_owned(), &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_terms_and_words() {
        let q = ServiceQuery::parse(
            "is: trusted and name: {My App} key:k1 redirectUri: https://a.example/cb Foo",
        )
        .unwrap();
        assert_eq!(
            q,
            ServiceQuery {
                trusted: Some(true),
                names: vec!["my app".into()],
                keys: vec!["k1".into()],
                redirect_uris: vec!["https://a.example/cb".into()],
                words: vec!["foo".into()],
            }
        );
    }

    #[test]
    fn bare_uri_is_a_word_and_errors_name_query() {
        assert_eq!(
            ServiceQuery::parse("https://x").unwrap().words,
            vec!["https://x"]
        );
        assert_eq!(
            ServiceQuery::parse("not: trusted").unwrap().trusted,
            Some(false)
        );
        assert!(ServiceQuery::parse("owner: me").is_err());
        assert!(ServiceQuery::parse("name: {open").is_err());
        assert!(ServiceQuery::parse("name:").is_err());
        assert!(ServiceQuery::parse(&"a ".repeat(600)).is_err());
        assert_eq!(ServiceQuery::parse("").unwrap(), ServiceQuery::default());
    }
}
