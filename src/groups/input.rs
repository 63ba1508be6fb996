//! The JSON body of group create and update, checked field by field.
use serde::Deserialize;

use super::model::{GroupChanges, Ref};
use crate::error::AppError;
use crate::validate::{self, MAX_LONG_TEXT, MAX_SHORT_TEXT};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct GroupInput {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub description: Option<Option<String>>,
    /// The group to put it in; `null` makes it a top-level group.
    #[serde(default, deserialize_with = "crate::validate::nullable")]
    pub parent: Option<Option<Ref>>,
}

impl GroupInput {
    /// The changes to store; `creating` requires a name.
    pub fn check(self, creating: bool) -> Result<GroupChanges, AppError> {
        let name = match (creating, self.name.as_deref()) {
            (false, None) => None,
            (_, value) => Some(validate::required_text("name", value, MAX_SHORT_TEXT)?),
        };
        let description = self
            .description
            .map(|text| validate::optional_text("description", text.as_deref(), MAX_LONG_TEXT))
            .transpose()?;
        Ok(GroupChanges {
            name,
            description,
            parent_id: self.parent.map(|parent| parent.map(|p| p.id)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_group_needs_a_name_and_null_parent_means_top_level() {
        assert!(GroupInput::default().check(true).is_err());
        let input: GroupInput =
            serde_json::from_str(r#"{"name": " Developers ", "parent": null}"#).unwrap();
        let changes = input.check(true).unwrap();
        assert_eq!(changes.name.as_deref(), Some("Developers"));
        assert_eq!(changes.parent_id, Some(None));
        let moved: GroupInput = serde_json::from_str(r#"{"parent": {"id": "g1"}}"#).unwrap();
        let changes = moved.check(false).unwrap();
        assert_eq!(changes.name, None);
        assert_eq!(changes.parent_id, Some(Some("g1".into())));
    }
}
