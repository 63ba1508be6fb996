//! Hub's query syntax for services: `is: trusted`, `name: {My App}`, `key: k`,
//! `redirectUri: https://…`, free words over the name, optional `and`.
use crate::error::AppError;
use crate::query_terms::{terms, unknown_key, Term};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ServiceQuery {
    pub trusted: Option<bool>,
    pub names: Vec<String>,
    pub keys: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub words: Vec<String>,
}

impl ServiceQuery {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        let mut query = Self::default();
        for term in terms(text)? {
            match term {
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
            _ => return Err(unknown_key(key)),
        }
        Ok(())
    }
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
