//! `/admin/audit`: the audit trail, newest first, filtered with the REST
//! API's query and paged by event id.
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::common::{administrator, page_link, ListQuery, PAGE_ROWS};
use crate::audit::query::AuditQuery;
use std::collections::HashMap;

use crate::audit::event::EventView;
use crate::audit::store;
use crate::db;
use crate::error::AppError;
use crate::paging::Page;
use crate::registry::repo as services_repo;
use crate::state::AppState;
use crate::users::repo as users_repo;
use crate::web::page::{render, PageError};
use crate::web::templates::{AdminAudit, EventRow, Named};

pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    if let Err(redirect) = administrator(&state, &req).await? {
        return Ok(redirect);
    }
    let text = params.query.trim().to_owned();
    let query = AuditQuery::parse(&text)?;
    let before = params.before.as_deref().and_then(|b| b.parse::<i64>().ok());
    let page = Page {
        skip: 0,
        top: PAGE_ROWS,
        count_total: false,
    };
    let (events, names) = db::run(&state.pool, move |conn| {
        let (events, _) = store::list(conn, &query, page, before)?;
        let names = Names::of(conn, &events)?;
        Ok((events, names))
    })
    .await?;
    let older = (events.len() == usize::try_from(PAGE_ROWS).unwrap_or(usize::MAX))
        .then(|| {
            events
                .last()
                .map(|e| page_link("/admin/audit", &text, "before", &e.id))
        })
        .flatten();
    let rows = events
        .into_iter()
        .map(|event| EventRow {
            time: chrono::DateTime::from_timestamp_millis(event.timestamp)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
            actor: names.actor(event.actor.as_deref()),
            user: names.named(event.user_id.as_deref()),
            service: names.named(event.service_id.as_deref()),
            kind: event.kind,
            ip: event.ip.unwrap_or_default(),
            details: match event.details.as_object() {
                Some(details) if !details.is_empty() => event.details.to_string(),
                _ => String::new(),
            },
        })
        .collect();
    let page = AdminAudit {
        query: text,
        rows,
        older,
    };
    Ok(render(StatusCode::OK, &page, vec![]))
}

/// The users and services a page of events names, so the page shows
/// logins and names linked to their pages instead of bare ids.
struct Names {
    users: HashMap<String, String>,
    services: HashMap<String, String>,
}

impl Names {
    fn of(conn: &mut db::DbConn, events: &[EventView]) -> Result<Self, AppError> {
        let mut ids: Vec<String> = events
            .iter()
            .flat_map(|e| [&e.actor, &e.user_id, &e.service_id])
            .filter_map(|id| id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        let users = users_repo::get_many(conn, &ids)?
            .into_iter()
            .map(|user| (user.id, user.login))
            .collect();
        let services = services_repo::names_of(conn, &ids)?.into_iter().collect();
        Ok(Self { users, services })
    }

    /// An id as the page shows it: a linked login or name, or the bare id
    /// of what no longer exists.
    fn named(&self, id: Option<&str>) -> Named {
        let Some(id) = id else {
            return Named::plain("");
        };
        if let Some(login) = self.users.get(id) {
            return Named {
                label: login.clone(),
                link: Some(format!("/admin/users/{id}")),
            };
        }
        if let Some(name) = self.services.get(id) {
            return Named {
                label: name.clone(),
                link: Some(format!("/admin/services/{id}")),
            };
        }
        Named::plain(id)
    }

    fn actor(&self, actor: Option<&str>) -> Named {
        match actor {
            None => Named::plain("anonymous"),
            Some(word @ ("cli" | "system")) => Named::plain(word),
            id => self.named(id),
        }
    }
}
