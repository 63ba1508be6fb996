//! `idhub services`: list, show, add, update, trust, reset-secret, delete. Changes go
//! through `registry::changes` as the server's do; a running server hears of
//! them through the change feed.
use clap::Subcommand;
use serde_json::json;

use super::common::{fail, with_conn, Output};
use crate::audit::Caller;
use crate::clock;
use crate::paging::{Direction, Page, MAX_TOP};
use crate::registry::application_type::ApplicationType;
use crate::registry::changes;
use crate::registry::input::ServiceInput;
use crate::registry::model::ServiceView;
use crate::registry::query::ServiceQuery;
use crate::registry::repo as services_repo;
use crate::registry::switches::SWITCHES;
use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum ServicesCommand {
    /// List services: id, name and whether trusted, one per line, by name.
    List {
        /// Hub's query, as the REST API takes it (e.g. "is: trusted").
        #[arg(long, default_value = "")]
        query: String,
        /// How many at most.
        #[arg(long, default_value_t = MAX_TOP)]
        top: i64,
        #[command(flatten)]
        output: Output,
    },
    /// One service with every field, as the REST API shows it.
    Show {
        id: String,
        #[command(flatten)]
        output: Output,
    },
    /// Register a service; prints its id and secret (the secret only this once).
    Add {
        #[command(flatten)]
        service: NewService,
        #[command(flatten)]
        output: Output,
    },
    /// Change a service with the REST API's JSON (Hub's partial update:
    /// fields left out stay, null clears), e.g.
    /// '{"pkceRequired": true, "tokenEndpointAuthMethod": "private_key_jwt"}';
    /// prints the service as it now is (JSON).
    Update {
        id: String,
        /// The fields to change, as a JSON object (docs/api.md).
        fields: String,
    },
    /// Mark a service trusted (or not, with --off).
    Trust {
        id: String,
        #[arg(long)]
        off: bool,
    },
    /// Replace a service's secret; prints the new one.
    ResetSecret {
        id: String,
        #[command(flatten)]
        output: Output,
    },
    /// Delete a service; its grants, codes and refresh tokens go with it.
    Delete { id: String },
}

pub fn run(command: ServicesCommand, state: &AppState) -> anyhow::Result<String> {
    match command {
        ServicesCommand::List { query, top, output } => list(state, &query, top, output.json),
        ServicesCommand::Show { id, output } => show(state, &id, output.json),
        ServicesCommand::Add { service, output } => add(state, service, output.json),
        ServicesCommand::Update { id, fields } => update(state, &id, &fields),
        ServicesCommand::Trust { id, off } => {
            with_conn(state, |conn| {
                changes::set_trusted(conn, &state.services, &id, !off, &Caller::cli())
            })?;
            let state = if off { "not trusted" } else { "trusted" };
            Ok(format!("service {id} is {state}"))
        }
        ServicesCommand::ResetSecret { id, output } => {
            let secret = with_conn(state, |conn| {
                changes::reset_secret(conn, &state.services, &id, clock::now(), &Caller::cli())
            })?;
            Ok(match output.json {
                true => json!({ "id": id, "secret": secret }).to_string(),
                false => secret,
            })
        }
        ServicesCommand::Delete { id } => {
            with_conn(state, |conn| {
                changes::delete(conn, &state.services, &id, &Caller::cli())
            })?;
            Ok(format!("service {id} deleted; its grants are revoked"))
        }
    }
}

fn list(state: &AppState, query: &str, top: i64, as_json: bool) -> anyhow::Result<String> {
    let query = ServiceQuery::parse(query).map_err(fail)?;
    let page = Page {
        skip: 0,
        top: top.clamp(1, MAX_TOP),
        count_total: false,
    };
    let (found, _) = with_conn(state, |conn| {
        services_repo::list(conn, &query, ("name", Direction::Asc), page, None)
    })?;
    let lines: Vec<String> = found
        .into_iter()
        .map(|(service, uris)| match as_json {
            true => serde_json::to_string(&ServiceView::new(service, uris)).unwrap_or_default(),
            false => {
                let trusted = if service.trusted { "  trusted" } else { "" };
                format!("{}  {}{trusted}", service.id, service.name)
            }
        })
        .collect();
    Ok(lines.join("\n"))
}

fn show(state: &AppState, id: &str, as_json: bool) -> anyhow::Result<String> {
    let view = with_conn(state, |conn| services_repo::find_view(conn, id))?;
    if as_json {
        return Ok(serde_json::to_string_pretty(&view)?);
    }
    let service = &view.service;
    let switches: Vec<&str> = SWITCHES
        .iter()
        .filter(|switch| (switch.stored)(service))
        .map(|switch| switch.json)
        .collect();
    let lines = [
        format!("id: {}", service.id),
        format!("name: {}", service.name),
        format!("redirect URIs: {}", view.redirect_uris.join(" ")),
        format!(
            "client authentication: {}",
            service
                .token_endpoint_auth_method
                .as_deref()
                .unwrap_or("any method")
        ),
        format!("on: {}", switches.join(" ")),
        format!("created: {}", crate::clock::shown(service.created)),
    ];
    Ok(lines.join("\n"))
}

fn update(state: &AppState, id: &str, fields: &str) -> anyhow::Result<String> {
    let input: ServiceInput = serde_json::from_str(fields)
        .map_err(|e| anyhow::anyhow!("the fields are not a service's JSON: {e}"))?;
    let checked = input.check(false).map_err(fail)?;
    let view = with_conn(state, |conn| {
        changes::update(conn, &state.services, id, checked, &Caller::cli())
    })?;
    Ok(serde_json::to_string_pretty(&view)?)
}

/// What `services add` registers.
#[derive(Debug, clap::Args)]
pub struct NewService {
    /// The service's name, as users see it.
    #[arg(long)]
    name: String,
    /// A redirect URI (repeat for several).
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// Where sign-out may send users back (repeat for several).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// Where back-channel logout tokens are posted.
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// What kind of application it is: sets PKCE, flows and whether it
    /// keeps a secret as RFC 9700 advises (docs/api.md); without it, Hub's
    /// defaults. Flags given here win.
    #[arg(long = "type", value_enum)]
    application_type: Option<ApplicationType>,
    /// Mark it trusted (no consent; client credentials allowed).
    #[arg(long)]
    trusted: bool,
    /// Let it use the device flow (RFC 8628).
    #[arg(long)]
    device_flow: bool,
    /// Let it exchange users' tokens it receives (RFC 8693).
    #[arg(long)]
    token_exchange: bool,
}

fn add(state: &AppState, service: NewService, as_json: bool) -> anyhow::Result<String> {
    let input = ServiceInput {
        name: Some(service.name),
        redirect_uris: Some(service.redirect_uris),
        post_logout_redirect_uris: Some(service.post_logout_redirect_uris),
        backchannel_logout_uri: Some(service.backchannel_logout_uri),
        // A flag left out leaves the switch to the type or the default.
        trusted: service.trusted.then_some(true),
        device_flow_enabled: service.device_flow.then_some(true),
        token_exchange_enabled: service.token_exchange.then_some(true),
        application_type: service.application_type,
        ..ServiceInput::default()
    };
    let checked = input.check(true).map_err(fail)?;
    let created = with_conn(state, |conn| {
        changes::create(conn, checked, clock::now(), &Caller::cli())
    })?;
    let (id, secret) = (created.service.id, created.secret);
    Ok(if as_json {
        json!({ "id": id, "secret": secret }).to_string()
    } else {
        format!("id: {id}\nsecret: {secret}")
    })
}
