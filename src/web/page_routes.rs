//! Routes a person's browser shows, marked where they are declared: the
//! errors actix answers by itself there (a wrong method, an unreadable body)
//! become error pages, not JSON (`rest::error_bodies`).
use actix_web::dev::HttpServiceFactory;
use actix_web::{guard, web, FromRequest, Handler, HttpRequest, Resource, Responder};

/// The mark a page's resource carries in its app data.
#[derive(Debug, Clone, Copy)]
pub struct PageRoute;

/// True when the request was routed to a page.
pub fn is_page(req: &HttpRequest) -> bool {
    req.app_data::<PageRoute>().is_some()
}

/// A page's resource, for its routes to be added to.
pub fn page(path: &str) -> Resource {
    web::resource(path).app_data(PageRoute)
}

/// A page answering GET only. Like `ServiceConfig::route`, the method guards
/// the resource, so another resource of the same path may serve others.
pub fn get_page<F, Args>(path: &str, handler: F) -> impl HttpServiceFactory
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    page(path).guard(guard::Get()).route(web::get().to(handler))
}

/// A form a page posts to, answering POST only (guarded as `get_page`).
pub fn post_page<F, Args>(path: &str, handler: F) -> impl HttpServiceFactory
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    page(path)
        .guard(guard::Post())
        .route(web::post().to(handler))
}
