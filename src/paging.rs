//! Hub's list parameters (`$skip`, `$top`, `query`, `orderBy`, `fields`) and envelope.
use serde::Deserialize;

use crate::error::AppError;
use crate::fields::Fields;

pub const DEFAULT_TOP: i64 = 100;
pub const MAX_TOP: i64 = 1000;

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[serde(rename = "$skip")]
    pub skip: Option<String>,
    #[serde(rename = "$top")]
    pub top: Option<String>,
    pub query: Option<String>,
    #[serde(rename = "orderBy")]
    pub order_by: Option<String>,
    pub fields: Option<String>,
    /// Keyset paging: the page after the entity with this id, in the list's
    /// order. Unlike `$skip`, as fast deep in a big list as at its start.
    #[serde(rename = "$after")]
    pub after: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub skip: i64,
    pub top: i64,
    /// False when the caller's `fields` leave `total` out of the answer: a
    /// list need not count what nobody reads (a `COUNT(*)` of a million rows
    /// costs more than the page).
    pub count_total: bool,
}

impl ListParams {
    pub fn page(&self) -> Result<Page, AppError> {
        let skip = parse_count("$skip", self.skip.as_deref(), 0)?;
        let top = parse_count("$top", self.top.as_deref(), DEFAULT_TOP)?;
        if top > MAX_TOP {
            return Err(AppError::bad_field(
                "$top",
                format!("$top must be at most {MAX_TOP}"),
            ));
        }
        Ok(Page {
            skip,
            top,
            count_total: true,
        })
    }

    pub fn fields(&self) -> Result<Option<Fields>, AppError> {
        Fields::from_param(self.fields.as_deref())
    }

    /// `$after`, refused together with a `$skip` other than 0.
    pub fn after(&self) -> Result<Option<&str>, AppError> {
        let after = self
            .after
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty());
        if after.is_some() && self.page()?.skip > 0 {
            return Err(AppError::bad_field(
                "$after",
                "use $after or $skip, not both",
            ));
        }
        Ok(after)
    }

    pub fn query_text(&self) -> &str {
        self.query.as_deref().unwrap_or("").trim()
    }

    /// `query` as words to search for, within `search_text`'s bounds.
    pub fn search_text(&self) -> Result<&str, AppError> {
        search_text(self.query_text())
    }
}

/// Characters and words a free-text search may have: each word is one more
/// `LIKE` in the query, and the databases refuse expressions past a depth.
pub const MAX_SEARCH_CHARS: usize = 1024;
pub const MAX_SEARCH_WORDS: usize = 16;

/// `text` when it is a search the databases can run, else a 400 naming `query`.
pub fn search_text(text: &str) -> Result<&str, AppError> {
    if text.len() > MAX_SEARCH_CHARS || text.split_whitespace().count() > MAX_SEARCH_WORDS {
        return Err(AppError::bad_field(
            "query",
            format!(
                "query must have at most {MAX_SEARCH_WORDS} words and {MAX_SEARCH_CHARS} characters"
            ),
        ));
    }
    Ok(text)
}

fn parse_count(name: &str, value: Option<&str>, default: i64) -> Result<i64, AppError> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => text.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            AppError::bad_field(name, format!("{name} must be a non-negative integer"))
        }),
    }
}

/// Sort direction of an `orderBy=field:asc|desc` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// Splits `orderBy=name:desc` into its field and direction.
pub fn parse_order_by<'a>(
    text: &'a str,
    allowed: &[&str],
) -> Result<(&'a str, Direction), AppError> {
    let (field, direction) = match text.split_once(':') {
        Some((f, d)) => (f.trim(), d.trim()),
        None => (text.trim(), "asc"),
    };
    if !allowed.contains(&field) {
        return Err(AppError::bad_field(
            "orderBy",
            format!(
                "cannot order by '{field}'; use one of {}",
                allowed.join(", ")
            ),
        ));
    }
    let direction = match direction.to_ascii_lowercase().as_str() {
        "asc" => Direction::Asc,
        "desc" => Direction::Desc,
        _ => {
            return Err(AppError::bad_field(
                "orderBy",
                "direction must be asc or desc",
            ))
        }
    };
    Ok((field, direction))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_defaults_and_bounds() {
        let params = ListParams::default();
        assert_eq!(
            params.page().unwrap(),
            Page {
                skip: 0,
                top: DEFAULT_TOP,
                count_total: true
            }
        );
        let params = ListParams {
            skip: Some("5".into()),
            top: Some("2".into()),
            ..Default::default()
        };
        assert_eq!(
            params.page().unwrap(),
            Page {
                skip: 5,
                top: 2,
                count_total: true
            }
        );
        for bad in ["-1", "x", "1e3"] {
            let params = ListParams {
                skip: Some(bad.into()),
                ..Default::default()
            };
            assert!(params.page().is_err());
        }
        let params = ListParams {
            top: Some("100000".into()),
            ..Default::default()
        };
        assert!(params.page().is_err());
    }

    #[test]
    fn order_by_parses_direction() {
        assert_eq!(
            parse_order_by("name:desc", &["name"]).unwrap(),
            ("name", Direction::Desc)
        );
        assert_eq!(
            parse_order_by("name", &["name"]).unwrap(),
            ("name", Direction::Asc)
        );
        assert!(parse_order_by("secret:asc", &["name"]).is_err());
        assert!(parse_order_by("name:sideways", &["name"]).is_err());
    }
}
