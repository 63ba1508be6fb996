//! The admin console at `/admin`: server-rendered pages over the same domain
//! functions as the REST API and the CLI. Every page and form needs a
//! signed-in administrator: others get 403, strangers the sign-in page (or
//! 403 for a form). Every form carries the CSRF token.
mod access_forms;
mod access_pages;
mod audit;
mod common;
pub mod connect;
mod keys;
mod service_changes;
pub mod service_form;
mod services;
mod user_changes;
mod users;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use common::administrator;

use super::page::{render, PageError};
use super::page_routes::{get_page, post_page};
use super::templates::AdminIndex;
use crate::state::AppState;

/// Every form the console posts to, with `{id}` and `{key}` for path
/// parameters: the tests post to each without a session, as a
/// non-administrator and without a CSRF token.
pub const FORMS: &[&str] = &[
    "/admin/services",
    "/admin/services/{id}",
    "/admin/services/{id}/trust",
    "/admin/services/{id}/reset-secret",
    "/admin/services/{id}/delete",
    "/admin/users",
    "/admin/users/{id}",
    "/admin/users/{id}/ban",
    "/admin/users/{id}/password",
    "/admin/users/{id}/apps/{key}/revoke",
    "/admin/users/{id}/tokens/{key}/delete",
    "/admin/users/{id}/delete",
    "/admin/users/{id}/second-factor/remove",
    "/admin/users/{id}/second-factor/required",
    "/admin/keys/rotate",
    "/admin/groups",
    "/admin/groups/{id}/members",
    "/admin/groups/{id}/members/{key}/remove",
    "/admin/groups/{id}/projectroles",
    "/admin/groups/{id}/projectroles/{key}/revoke",
    "/admin/groups/{id}/delete",
    "/admin/roles",
    "/admin/roles/{id}/permissions",
    "/admin/roles/{id}/permissions/{key}/remove",
    "/admin/roles/{id}/delete",
    "/admin/projects",
    "/admin/projects/{id}/delete",
    "/admin/users/{id}/groups",
    "/admin/users/{id}/groups/{key}/leave",
    "/admin/users/{id}/projectroles",
    "/admin/users/{id}/projectroles/{key}/revoke",
    "/admin/services/{id}/permissions",
    "/admin/services/{id}/permissions/{key}/delete",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(get_page("/admin", index))
        .service(get_page("/admin/services", services::list))
        .service(post_page("/admin/services", service_changes::create))
        .service(get_page("/admin/services/new", services::new))
        .service(get_page("/admin/services/{id}", services::show))
        .service(post_page("/admin/services/{id}", service_changes::update))
        .service(get_page("/admin/services/{id}/edit", service_changes::edit))
        .service(post_page(
            "/admin/services/{id}/trust",
            service_changes::trust,
        ))
        .service(post_page(
            "/admin/services/{id}/reset-secret",
            service_changes::reset_secret,
        ))
        .service(post_page(
            "/admin/services/{id}/delete",
            service_changes::delete,
        ))
        .service(get_page(
            "/admin/services/{id}/permissions",
            access_pages::service_permissions,
        ))
        .service(post_page(
            "/admin/services/{id}/permissions",
            access_forms::declare_permission,
        ))
        .service(post_page(
            "/admin/services/{id}/permissions/{permission_id}/delete",
            access_forms::delete_permission,
        ))
        .service(get_page(
            "/admin/services/{id}/{action}",
            service_changes::confirm,
        ))
        .service(get_page("/admin/users", users::list))
        .service(post_page("/admin/users", user_changes::create))
        .service(get_page("/admin/users/new", users::new))
        .service(get_page("/admin/users/{id}", users::show))
        .service(get_page(
            "/admin/users/{id}/access",
            access_pages::user_access,
        ))
        .service(post_page(
            "/admin/users/{id}/groups",
            access_forms::join_group,
        ))
        .service(post_page(
            "/admin/users/{id}/groups/{group_id}/leave",
            access_forms::leave_group,
        ))
        .service(post_page(
            "/admin/users/{id}/projectroles",
            access_forms::grant_to_user,
        ))
        .service(post_page(
            "/admin/users/{id}/projectroles/{project_role_id}/revoke",
            access_forms::revoke_from_user,
        ))
        .service(post_page("/admin/users/{id}", user_changes::update))
        .service(post_page("/admin/users/{id}/ban", user_changes::ban))
        .service(post_page(
            "/admin/users/{id}/password",
            user_changes::set_password,
        ))
        .service(post_page(
            "/admin/users/{id}/apps/{service_id}/revoke",
            user_changes::revoke_app,
        ))
        .service(post_page(
            "/admin/users/{id}/tokens/{token_id}/delete",
            user_changes::delete_token,
        ))
        .service(get_page(
            "/admin/users/{id}/delete",
            user_changes::confirm_delete,
        ))
        .service(post_page("/admin/users/{id}/delete", user_changes::delete))
        .service(post_page(
            "/admin/users/{id}/second-factor/remove",
            user_changes::remove_second_factor,
        ))
        .service(post_page(
            "/admin/users/{id}/second-factor/required",
            user_changes::require_second_factor,
        ))
        .service(get_page("/admin/keys", keys::list))
        .service(post_page("/admin/keys/rotate", keys::rotate))
        .service(get_page("/admin/audit", audit::list))
        .configure(access_routes);
}

/// Groups, roles and projects; a user's and a service's parts are above.
fn access_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(get_page("/admin/groups", access_pages::groups_list))
        .service(post_page("/admin/groups", access_forms::create_group))
        .service(get_page("/admin/groups/{id}", access_pages::group_show))
        .service(post_page(
            "/admin/groups/{id}/members",
            access_forms::add_member,
        ))
        .service(post_page(
            "/admin/groups/{id}/members/{user_id}/remove",
            access_forms::remove_member,
        ))
        .service(post_page(
            "/admin/groups/{id}/projectroles",
            access_forms::grant_to_group,
        ))
        .service(post_page(
            "/admin/groups/{id}/projectroles/{project_role_id}/revoke",
            access_forms::revoke_from_group,
        ))
        .service(get_page("/admin/roles", access_pages::roles_list))
        .service(post_page("/admin/roles", access_forms::create_role))
        .service(get_page("/admin/roles/{id}", access_pages::role_show))
        .service(post_page(
            "/admin/roles/{id}/permissions",
            access_forms::add_role_permission,
        ))
        .service(post_page(
            "/admin/roles/{id}/permissions/{permission_id}/remove",
            access_forms::remove_role_permission,
        ))
        .service(get_page("/admin/projects", access_pages::projects_list))
        .service(post_page("/admin/projects", access_forms::create_project))
        .service(get_page(
            "/admin/groups/{id}/delete",
            access_forms::confirm_delete,
        ))
        .service(post_page("/admin/groups/{id}/delete", access_forms::delete))
        .service(get_page(
            "/admin/roles/{id}/delete",
            access_forms::confirm_delete,
        ))
        .service(post_page("/admin/roles/{id}/delete", access_forms::delete))
        .service(get_page(
            "/admin/projects/{id}/delete",
            access_forms::confirm_delete,
        ))
        .service(post_page(
            "/admin/projects/{id}/delete",
            access_forms::delete,
        ));
}

async fn index(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let admin = match administrator(&state, &req).await? {
        Ok(session) => session,
        Err(redirect) => return Ok(redirect),
    };
    let page = AdminIndex {
        login: admin.user.login,
    };
    Ok(render(StatusCode::OK, &page, vec![]))
}
