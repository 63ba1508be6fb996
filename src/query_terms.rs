//! Hub's query syntax, shared by every list that takes `query`: terms
//! `key: value` (value plain, `{braced}` or `"quoted"`) and free words, joined
//! by an optional `and`. Each list says which keys it knows.
use crate::error::AppError;

const MAX_QUERY: usize = 1024;

#[derive(Debug, PartialEq, Eq)]
pub enum Term {
    Word(String),
    Keyed(String, String),
}

/// The terms of `text`, `and` left out.
pub fn terms(text: &str) -> Result<Vec<Term>, AppError> {
    if text.len() > MAX_QUERY {
        return Err(AppError::bad_field(
            "query",
            format!("query must have at most {MAX_QUERY} characters"),
        ));
    }
    let mut found = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (term, after) = next_term(rest)?;
        rest = after.trim_start();
        match term {
            Term::Word(word) if word.eq_ignore_ascii_case("and") => {}
            term => found.push(term),
        }
    }
    Ok(found)
}

/// An error naming an unknown key, for lists to give alike.
pub fn unknown_key(key: &str) -> AppError {
    AppError::bad_field("query", format!("unknown query key '{key}'"))
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
