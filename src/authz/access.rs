//! What a user may do, and where: their permissions through their own
//! project roles and those of every group they are in (directly or through
//! a subgroup), a role granted in the Global project holding everywhere.
//! Pure functions of the in-memory `Graph` and the user's `Holdings`.
use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use super::graph::{Graph, Holdings};
use super::model::GLOBAL_PROJECT_ID;
use crate::groups::model::Ref;
use crate::groups::repo::MAX_DEPTH;

/// A permission as the cache names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PermissionRef {
    pub id: String,
    pub key: String,
    pub name: String,
    pub service: Ref,
}

/// A project as the cache names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProjectRef {
    pub id: String,
    pub key: String,
}

/// One permission the user holds: everywhere (`global`, granted in the
/// Global project) and in the projects listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Held {
    pub permission: PermissionRef,
    pub global: bool,
    pub projects: Vec<ProjectRef>,
}

/// The user's groups and every group they are inside, as ids.
pub fn transitive_groups<'g>(graph: &'g Graph, holdings: &'g Holdings) -> Vec<&'g str> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut found = Vec::new();
    for direct in &holdings.groups {
        let mut current = Some(direct.as_str());
        for _ in 0..MAX_DEPTH {
            let Some(id) = current else { break };
            let Some(node) = graph.groups.get(id) else {
                break;
            };
            if !seen.insert(id) {
                break;
            }
            found.push(id);
            current = node.parent.as_deref();
        }
    }
    found
}

/// The names of the user's transitive groups, sorted: the `groups` claim.
pub fn group_names(graph: &Graph, holdings: &Holdings) -> Vec<String> {
    let mut names: Vec<String> = transitive_groups(graph, holdings)
        .into_iter()
        .filter_map(|id| graph.groups.get(id).map(|g| g.name.clone()))
        .collect();
    names.sort_by_key(|name| name.to_lowercase());
    names
}

/// The user's permissions, of one service when `service` is given, by
/// service and key; each with its projects by key.
pub fn effective(graph: &Graph, holdings: &Holdings, service: Option<&str>) -> Vec<Held> {
    let groups = transitive_groups(graph, holdings);
    let grants = holdings.grants.iter().chain(
        groups
            .iter()
            .filter_map(|group| graph.group_grants.get(*group))
            .flatten(),
    );
    // permission id → (held in Global, the other projects by id)
    let mut held: BTreeMap<&str, (bool, BTreeSet<&str>)> = BTreeMap::new();
    for grant in grants {
        if !graph.projects.contains_key(&grant.project) {
            continue;
        }
        for permission in graph
            .role_permissions
            .get(&grant.role)
            .into_iter()
            .flatten()
        {
            let Some(info) = graph.permissions.get(permission) else {
                continue;
            };
            if service.is_some_and(|wanted| wanted != info.service) {
                continue;
            }
            let entry = held.entry(permission.as_str()).or_default();
            if grant.project == GLOBAL_PROJECT_ID {
                entry.0 = true;
            } else {
                entry.1.insert(grant.project.as_str());
            }
        }
    }
    let mut answer: Vec<Held> = held
        .into_iter()
        .filter_map(|(id, (global, projects))| {
            let info = graph.permissions.get(id)?;
            let mut projects: Vec<ProjectRef> = projects
                .into_iter()
                .filter_map(|project| {
                    Some(ProjectRef {
                        id: project.to_owned(),
                        key: graph.projects.get(project)?.clone(),
                    })
                })
                .collect();
            projects.sort_by(|a, b| a.key.cmp(&b.key));
            Some(Held {
                permission: PermissionRef {
                    id: id.to_owned(),
                    key: info.key.clone(),
                    name: info.name.clone(),
                    service: Ref {
                        id: info.service.clone(),
                    },
                },
                global,
                projects,
            })
        })
        .collect();
    answer.sort_by(|a, b| {
        (&a.permission.service.id, &a.permission.key)
            .cmp(&(&b.permission.service.id, &b.permission.key))
    });
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::graph::{Grant, GroupNode, PermissionInfo};

    fn grant(role: &str, project: &str) -> Grant {
        Grant {
            role: role.into(),
            project: project.into(),
        }
    }

    /// Company > Engineering > Backend; a Developer role (read, write) and a
    /// Reader role (read) of service S; projects P1, P2 and Global.
    fn model() -> Graph {
        let mut graph = Graph::default();
        for (id, parent) in [
            ("company", None),
            ("eng", Some("company")),
            ("backend", Some("eng")),
        ] {
            graph.groups.insert(
                id.into(),
                GroupNode {
                    name: id.to_uppercase(),
                    parent: parent.map(Into::into),
                },
            );
        }
        for (id, key) in [
            ("read", "issue.read"),
            ("write", "issue.write"),
            ("other", "x"),
        ] {
            graph.permissions.insert(
                id.into(),
                PermissionInfo {
                    key: key.into(),
                    name: key.into(),
                    service: if id == "other" { "T" } else { "S" }.into(),
                },
            );
        }
        graph
            .role_permissions
            .insert("developer".into(), vec!["read".into(), "write".into()]);
        graph
            .role_permissions
            .insert("reader".into(), vec!["read".into(), "other".into()]);
        for (id, key) in [("p1", "P1"), ("p2", "P2"), (GLOBAL_PROJECT_ID, "GLOBAL")] {
            graph.projects.insert(id.into(), key.into());
        }
        graph
    }

    #[test]
    fn roles_reach_members_through_every_ancestor_group() {
        let mut graph = model();
        graph
            .group_grants
            .insert("company".into(), vec![grant("reader", "p2")]);
        let holdings = Holdings {
            groups: vec!["backend".into()],
            grants: vec![grant("developer", "p1")],
        };
        assert_eq!(
            group_names(&graph, &holdings),
            vec!["BACKEND", "COMPANY", "ENG"]
        );
        let held = effective(&graph, &holdings, None);
        let keys: Vec<(&str, Vec<&str>)> = held
            .iter()
            .map(|h| {
                (
                    h.permission.key.as_str(),
                    h.projects.iter().map(|p| p.key.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            vec![
                ("issue.read", vec!["P1", "P2"]),
                ("issue.write", vec!["P1"]),
                ("x", vec!["P2"]),
            ]
        );
        assert!(held.iter().all(|h| !h.global));
        let only_t = effective(&graph, &holdings, Some("T"));
        assert_eq!(only_t.len(), 1);
        assert_eq!(only_t[0].permission.service.id, "T");
    }

    #[test]
    fn a_global_grant_holds_everywhere_and_vanished_entities_are_skipped() {
        let graph = model();
        let holdings = Holdings {
            groups: vec!["no-such-group".into()],
            grants: vec![
                grant("developer", GLOBAL_PROJECT_ID),
                grant("developer", "p2"),
                grant("no-such-role", "p1"),
                grant("reader", "no-such-project"),
            ],
        };
        let held = effective(&graph, &holdings, Some("S"));
        assert_eq!(held.len(), 2);
        assert!(held.iter().all(|h| h.global));
        assert_eq!(held[0].projects[0].key, "P2");
        assert!(group_names(&graph, &holdings).is_empty());
    }

    #[test]
    fn a_loop_in_the_parents_ends_the_walk() {
        let mut graph = model();
        if let Some(company) = graph.groups.get_mut("company") {
            company.parent = Some("backend".into());
        }
        let holdings = Holdings {
            groups: vec!["backend".into()],
            grants: Vec::new(),
        };
        assert_eq!(transitive_groups(&graph, &holdings).len(), 3);
    }
}
