//! Hub's authorization model beyond groups: permissions a service declares,
//! roles that bundle them, projects, and roles granted in a project to a
//! user or a group. `access` answers what a user may do, and where, from a
//! view kept in memory (`graph` for what everyone shares, per user what they
//! hold directly), so a service's question costs no join.
/// `$query` kept to the rows of `$table` whose key or name contains every
/// word of `$text`, whatever its case: the `query` of permissions, roles
/// and projects. A macro because diesel's boxed queries are typed by table.
macro_rules! key_or_name_contains {
    ($query:expr, $table:ident, $text:expr) => {{
        let mut query = $query;
        for word in $text.split_whitespace() {
            let pattern = crate::validate::like_pattern(word);
            query = query.filter(
                crate::db::lower($table::key)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(crate::db::lower($table::name).like(pattern).escape('\\')),
            );
        }
        query
    }};
}

pub mod access;
pub mod cache;
pub mod graph;
pub mod input;
pub mod model;
pub mod permissions;
pub mod project_roles;
pub mod projects;
pub mod roles;
