//! The REST API's part of the OpenAPI 3.1 document, generated from the
//! handlers' `#[utoipa::path]` annotations and the types they answer with.
//! `crate::endpoints::openapi` adds the OAuth endpoints and serves it.
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::api_doc::{
    AuthModuleList, AuthorizedAppList, Empty, EventList, GroupList, HubError, NewSecret,
    PermissionList, ProjectList, ProjectRoleList, RoleList, ServiceList, TokenList, UserList,
};
use super::{
    audit_events, auth_modules, authorized_apps, identities, permanent_tokens, permission_cache,
    permissions, project_roles, projects, roles, services, two_factor, usergroups, users,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "idhub REST API",
        description = "Services, users, user groups, permissions, roles, projects and project roles, the permission cache, permanent tokens, authorized applications and \
                       the audit trail, in JetBrains Hub's style: `fields`, `$skip`/`$top` paging, `query`. \
                       Every call takes a bearer token: a permanent token (`perm:…`) or an \
                       access token for the Hub service `0-0-0-0-0`."
    ),
    paths(
        services::list,
        services::create,
        services::get,
        services::update,
        services::delete,
        services::reset_secret,
        users::list,
        users::create,
        users::get,
        users::update,
        users::delete,
        permanent_tokens::list,
        permanent_tokens::create,
        permanent_tokens::get,
        permanent_tokens::delete,
        authorized_apps::list,
        authorized_apps::revoke,
        audit_events::list,
        usergroups::list,
        usergroups::create,
        usergroups::get,
        usergroups::update,
        usergroups::delete,
        usergroups::members,
        usergroups::add_member,
        usergroups::remove_member,
        usergroups::groups_of,
        usergroups::transitive_groups_of,
        permissions::list,
        permissions::create,
        permissions::get,
        permissions::update,
        permissions::delete,
        permission_cache::permission_cache,
        roles::list,
        roles::create,
        roles::get,
        roles::update,
        roles::delete,
        roles::permissions,
        roles::add_permission,
        roles::remove_permission,
        projects::list,
        projects::create,
        projects::get,
        projects::update,
        projects::delete,
        auth_modules::list,
        auth_modules::create,
        auth_modules::get,
        auth_modules::update,
        auth_modules::delete,
        identities::list,
        identities::unlink,
        project_roles::of_user,
        project_roles::grant_to_user,
        project_roles::revoke_from_user,
        project_roles::of_group,
        project_roles::grant_to_group,
        project_roles::revoke_from_group,
        project_roles::transitive_of_user,
        two_factor::status,
        two_factor::remove,
        two_factor::require,
    ),
    components(schemas(
        HubError,
        Empty,
        NewSecret,
        ServiceList,
        UserList,
        TokenList,
        AuthorizedAppList,
        EventList,
        GroupList,
        PermissionList,
        RoleList,
        ProjectList,
        ProjectRoleList,
        AuthModuleList
    )),
    modifiers(&BearerAuth)
)]
pub struct RestApi;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
