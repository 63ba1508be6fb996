//! The shape every Hub-style resource shares: a list in Hub's envelope with
//! `fields`, `$skip`, `$top` (and `query`, read by the resource's own query
//! function), one entity shaped by `fields` (get, create, partial update), and
//! delete answering `{}`. A resource's handler checks who may call it, then
//! hands one of these its storage step, which runs on the blocking pool.
use actix_web::{web, FromRequest, Handler, HttpResponse, Responder, Route};
use serde::Serialize;
use serde_json::json;

use super::json::{respond, respond_list, shows_total, to_json, FieldsParam};
use crate::db::{self, DbConn, DbPool};
use crate::error::AppError;
use crate::paging::{ListParams, Page};

/// Hub's two paths of a collection: `{path}` (GET lists, POST creates) and
/// `{path}/{item}` (GET reads, POST updates part of it, DELETE deletes). A
/// resource registers the handlers it has.
pub struct Collection {
    path: String,
    item: String,
    on_collection: Vec<Route>,
    on_item: Vec<Route>,
}

impl Collection {
    /// `item` is the last path segment of one entity, e.g. `{id}`.
    pub fn at(path: &str, item: &str) -> Self {
        Self {
            path: path.to_owned(),
            item: format!("{path}/{item}"),
            on_collection: Vec::new(),
            on_item: Vec::new(),
        }
    }

    pub fn list<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on_collection.push(web::get().to(handler));
        self
    }

    pub fn create<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on_collection.push(web::post().to(handler));
        self
    }

    pub fn get<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on_item.push(web::get().to(handler));
        self
    }

    pub fn update<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on_item.push(web::post().to(handler));
        self
    }

    pub fn delete<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.on_item.push(web::delete().to(handler));
        self
    }

    pub fn register(self, cfg: &mut web::ServiceConfig) {
        for (path, routes) in [(self.path, self.on_collection), (self.item, self.on_item)] {
            if !routes.is_empty() {
                let resource = routes
                    .into_iter()
                    .fold(web::resource(path), |resource, route| resource.route(route));
                cfg.service(resource);
            }
        }
    }
}

/// `GET /…/{items}`: `read` gets the page and returns its items and the total.
pub async fn list<T, F>(
    pool: &DbPool,
    items_key: &str,
    params: &ListParams,
    read: F,
) -> Result<HttpResponse, AppError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut DbConn, Page) -> Result<(Vec<T>, i64), AppError> + Send + 'static,
{
    let mut page = params.page()?;
    let fields = params.fields()?;
    page.count_total = shows_total(items_key, fields.as_ref());
    let (items, total) = db::run(pool, move |conn| read(conn, page)).await?;
    let items = items
        .into_iter()
        .map(to_json)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(respond_list(items_key, items, total, page, fields.as_ref()))
}

/// A list kept in memory, paged here: for resources that are merged from
/// several tables and stay small (a user's authorized applications).
pub fn page_of<T>(items: Vec<T>, page: Page) -> (Vec<T>, i64) {
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let items = items
        .into_iter()
        .skip(usize::try_from(page.skip).unwrap_or(usize::MAX))
        .take(usize::try_from(page.top).unwrap_or(0))
        .collect();
    (items, total)
}

/// `GET`, create or partial update of one entity: `work` reads or changes it
/// and returns its view, which `fields` then shapes.
pub async fn one<T, F>(
    pool: &DbPool,
    fields: &FieldsParam,
    work: F,
) -> Result<HttpResponse, AppError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
{
    let fields = fields.parse()?;
    let view = db::run(pool, work).await?;
    Ok(respond(to_json(view)?, fields.as_ref()))
}

/// `DELETE`: Hub answers 200 with an empty object.
pub async fn delete<F>(pool: &DbPool, work: F) -> Result<HttpResponse, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<(), AppError> + Send + 'static,
{
    db::run(pool, work).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_pages_count_everything_and_return_the_slice() {
        let (items, total) = page_of(
            (0..10).collect(),
            Page {
                skip: 8,
                top: 5,
                count_total: true,
            },
        );
        assert_eq!((items, total), (vec![8, 9], 10));
        let (items, _) = page_of(
            vec![1, 2],
            Page {
                skip: 5,
                top: 5,
                count_total: true,
            },
        );
        assert!(items.is_empty());
    }
}
