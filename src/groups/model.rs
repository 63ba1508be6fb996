use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::user_groups;

/// A group as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_groups)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<String>,
    pub created: NaiveDateTime,
}

/// A reference to another entity, as Hub writes one: `{"id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Ref {
    pub id: String,
}

/// The REST view of a group, in Hub's shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The group it is inside; none for a top-level group.
    pub parent: Option<Ref>,
    /// Milliseconds since the epoch.
    pub created: i64,
}

impl From<Group> for GroupView {
    fn from(group: Group) -> Self {
        Self {
            id: group.id,
            name: group.name,
            description: group.description,
            parent: group.parent_id.map(|id| Ref { id }),
            created: crate::clock::millis(group.created),
        }
    }
}

/// What an update sets: `Some` fields only (`Some(None)` clears).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = user_groups)]
pub struct GroupChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub parent_id: Option<Option<String>>,
}
