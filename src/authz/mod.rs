//! Hub's authorization model beyond groups: permissions a service declares,
//! roles that bundle them, projects, and roles granted in a project to a
//! user or a group. `access` answers what a user may do, and where, from a
//! view kept in memory (`graph` for what everyone shares, per user what they
//! hold directly), so a service's question costs no join.
pub mod access;
pub mod cache;
pub mod graph;
pub mod input;
pub mod model;
pub mod permissions;
pub mod project_roles;
pub mod projects;
pub mod roles;
