//! `idhub groups`: list, add, delete, add-member, remove-member, for
//! bootstrapping the authorization model from a shell. Changes go through
//! `groups::repo`, audited as the REST API's are, with the CLI as actor.
use clap::Subcommand;
use serde_json::json;

use super::common::{with_conn, Output};
use super::users;
use crate::audit::Caller;
use crate::clock;
use crate::error::AppError;
use crate::groups::input::GroupInput;
use crate::groups::model::{Group, GroupView, Ref};
use crate::groups::repo;
use crate::paging::{Page, MAX_TOP};
use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List groups: id, name and the parent's id, one per line, by name.
    List {
        /// Only groups whose name contains every word.
        #[arg(long, default_value = "")]
        query: String,
        #[command(flatten)]
        output: Output,
    },
    /// Create a group; prints its id.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// The group (id or name) to put it in.
        #[arg(long)]
        parent: Option<String>,
        #[command(flatten)]
        output: Output,
    },
    /// Delete a group (id or name) without subgroups.
    Delete { group: String },
    /// Add a user (login, email or id) to a group (id or name).
    AddMember { group: String, user: String },
    /// Remove a user (login, email or id) from a group (id or name).
    RemoveMember { group: String, user: String },
}

pub fn run(command: GroupsCommand, state: &AppState) -> anyhow::Result<String> {
    let cli = Caller::cli();
    match command {
        GroupsCommand::List { query, output } => {
            let page = Page {
                skip: 0,
                top: MAX_TOP,
                count_total: false,
            };
            let (found, _) = with_conn(state, |conn| repo::list(conn, &query, page))?;
            let lines: Vec<String> = found
                .into_iter()
                .map(|group| match output.json {
                    true => serde_json::to_string(&GroupView::from(group)).unwrap_or_default(),
                    false => {
                        let parent = group.parent_id.map(|p| format!("  in {p}"));
                        format!("{}  {}{}", group.id, group.name, parent.unwrap_or_default())
                    }
                })
                .collect();
            Ok(lines.join("\n"))
        }
        GroupsCommand::Add {
            name,
            description,
            parent,
            output,
        } => {
            let group = with_conn(state, |conn| {
                let parent = parent
                    .map(|p| named(conn, &p).map(|g| Ref { id: g.id }))
                    .transpose()?;
                let input = GroupInput {
                    name: Some(name),
                    description: Some(description),
                    parent: Some(parent),
                };
                repo::create(conn, input.check(true)?, clock::now(), &cli)
            })?;
            Ok(match output.json {
                true => json!({ "id": group.id }).to_string(),
                false => group.id,
            })
        }
        GroupsCommand::Delete { group } => {
            let deleted = with_conn(state, |conn| {
                let group = named(conn, &group)?;
                repo::delete(conn, &group.id, clock::now(), &cli)?;
                Ok(group)
            })?;
            Ok(format!("group {} ({}) deleted", deleted.name, deleted.id))
        }
        GroupsCommand::AddMember { group, user } => {
            let (group, user) = with_conn(state, |conn| {
                let (group, user) = (named(conn, &group)?, users::find(conn, &user)?);
                repo::add_member(conn, &group.id, &user.id, clock::now(), &cli)?;
                Ok((group, user))
            })?;
            Ok(format!("{} is in group {}", user.login, group.name))
        }
        GroupsCommand::RemoveMember { group, user } => {
            let (group, user) = with_conn(state, |conn| {
                let (group, user) = (named(conn, &group)?, users::find(conn, &user)?);
                repo::remove_member(conn, &group.id, &user.id, clock::now(), &cli)?;
                Ok((group, user))
            })?;
            Ok(format!(
                "{} is no longer in group {}",
                user.login, group.name
            ))
        }
    }
}

/// A group by id, or by name whatever its case.
fn named(conn: &mut crate::db::DbConn, group: &str) -> Result<Group, AppError> {
    match repo::get(conn, group)? {
        Some(found) => Ok(found),
        None => repo::find_by_name(conn, group),
    }
}
