//! Hub's `fields` parameter: `id,name,owner(id,login)` picks those keys from
//! a JSON answer, nested selections applying to objects and arrays alike.
use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fields {
    children: BTreeMap<String, Option<Fields>>,
}

impl Fields {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        let mut chars = text.chars().peekable();
        let fields = parse_list(&mut chars, 0)?;
        if chars.next().is_some() {
            return Err(AppError::bad_field("fields", "unbalanced ')' in fields"));
        }
        Ok(fields)
    }

    /// `None` when the parameter is absent or blank: the caller's default view.
    pub fn from_param(param: Option<&str>) -> Result<Option<Self>, AppError> {
        match param.map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => Self::parse(text).map(Some),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.children.contains_key(name)
    }

    pub fn mentions_any(&self, names: &[&str]) -> bool {
        names.iter().any(|name| self.contains(name))
    }

    /// Keeps only the selected keys; unknown names are ignored, as in Hub.
    pub fn apply(&self, value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter_map(|(key, inner)| match self.children.get(&key) {
                        None => None,
                        Some(None) => Some((key, inner)),
                        Some(Some(nested)) => Some((key, nested.apply(inner))),
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.apply(v)).collect()),
            other => other,
        }
    }
}

const MAX_DEPTH: usize = 8;
const MAX_NAME: usize = 64;

fn parse_list(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    depth: usize,
) -> Result<Fields, AppError> {
    if depth > MAX_DEPTH {
        return Err(AppError::bad_field(
            "fields",
            "fields are nested too deeply",
        ));
    }
    let mut fields = Fields::default();
    let mut name = String::new();
    loop {
        match chars.peek().copied() {
            None | Some(')') => {
                push(&mut fields, &mut name, None)?;
                return Ok(fields);
            }
            Some(',') => {
                chars.next();
                push(&mut fields, &mut name, None)?;
            }
            Some('(') => {
                chars.next();
                let nested = parse_list(chars, depth + 1)?;
                if chars.next() != Some(')') {
                    return Err(AppError::bad_field("fields", "missing ')' in fields"));
                }
                if name.trim().is_empty() {
                    return Err(AppError::bad_field(
                        "fields",
                        "'(' must follow a field name",
                    ));
                }
                push(&mut fields, &mut name, Some(nested))?;
                match chars.peek() {
                    Some(',') => {
                        chars.next();
                    }
                    None | Some(')') => {}
                    Some(_) => {
                        return Err(AppError::bad_field("fields", "expected ',' after ')'"));
                    }
                }
            }
            Some(c) if c.is_alphanumeric() || c == '_' || c == '$' || c.is_whitespace() => {
                chars.next();
                name.push(c);
            }
            Some(c) => {
                return Err(AppError::bad_field(
                    "fields",
                    format!("unexpected character '{c}' in fields"),
                ));
            }
        }
    }
}

fn push(fields: &mut Fields, name: &mut String, nested: Option<Fields>) -> Result<(), AppError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        name.clear();
        return Ok(());
    }
    if trimmed.len() > MAX_NAME || trimmed.contains(char::is_whitespace) {
        return Err(AppError::bad_field(
            "fields",
            format!("bad field name '{trimmed}'"),
        ));
    }
    fields.children.insert(trimmed.to_owned(), nested);
    name.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flat_selection_keeps_named_keys() {
        let fields = Fields::parse("id, secret").unwrap();
        let out = fields.apply(json!({"id": "a", "name": "n", "secret": "s"}));
        assert_eq!(out, json!({"id": "a", "secret": "s"}));
    }

    #[test]
    fn nested_selection_applies_to_arrays_of_objects() {
        let fields = Fields::parse("total,services(id,owner(login))").unwrap();
        let out = fields.apply(json!({
            "total": 1, "skip": 0,
            "services": [{"id": "a", "name": "x", "owner": {"login": "l", "id": "u"}}]
        }));
        assert_eq!(
            out,
            json!({"total": 1, "services": [{"id": "a", "owner": {"login": "l"}}]})
        );
    }

    #[test]
    fn unknown_names_are_ignored_and_blank_is_default() {
        let fields = Fields::parse("id,nope").unwrap();
        assert_eq!(fields.apply(json!({"id": 1, "x": 2})), json!({"id": 1}));
        assert_eq!(Fields::from_param(Some("  ")).unwrap(), None);
        assert_eq!(Fields::from_param(None).unwrap(), None);
    }

    #[test]
    fn malformed_selections_are_rejected() {
        for bad in ["id,(name)", "a(b", "a)b", "a(b)c", "na-me", "a b"] {
            assert!(Fields::parse(bad).is_err(), "{bad} should fail");
        }
        let deep = "a(".repeat(20) + &")".repeat(20);
        assert!(Fields::parse(&deep).is_err());
    }
}
