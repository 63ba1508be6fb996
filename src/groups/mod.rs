//! User groups (Hub's usergroups): nested by a parent, with direct members.
//! A user's transitive groups are their groups and every ancestor of them;
//! the authorization model's roles granted to a group reach its members
//! through them.
pub mod input;
pub mod model;
pub mod repo;
