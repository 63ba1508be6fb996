//! `idhub tokens create`: a permanent token for scripts.
use clap::Subcommand;
use serde_json::json;

use super::common::{fail, with_conn, Output};
use crate::audit::Caller;
use crate::error::AppError;
use crate::registry::model::HUB_SERVICE_ID;
use crate::registry::repo as services_repo;
use crate::state::AppState;
use crate::users::{permanent_tokens as tokens, repo as users_repo};
use crate::{clock, scope, validate};

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create a permanent token; prints the token alone.
    Create {
        /// The user's login.
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        /// Space-separated service ids the token may be used with.
        #[arg(long, default_value = HUB_SERVICE_ID)]
        scope: String,
        #[command(flatten)]
        output: Output,
    },
}

pub fn run(command: TokensCommand, state: &AppState) -> anyhow::Result<String> {
    let TokensCommand::Create {
        user,
        name,
        scope,
        output,
    } = command;
    let name =
        validate::required_text("name", Some(&name), validate::MAX_SHORT_TEXT).map_err(fail)?;
    let ids = scope::parse("scope", &scope).map_err(fail)?;
    let (row, plain) = with_conn(state, |conn| {
        let user =
            users_repo::find_by_login(conn, &user)?.ok_or_else(|| AppError::not_found("user"))?;
        services_repo::require_registered(conn, "scope", &ids)?;
        tokens::create(conn, &user, name, &ids, clock::now(), &Caller::cli())
    })?;
    Ok(if output.json {
        json!({ "id": row.id, "name": row.name, "scope": row.scope, "token": plain }).to_string()
    } else {
        plain
    })
}
