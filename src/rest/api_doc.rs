//! What the OpenAPI document says of the REST API beyond the handlers'
//! annotations: the error body, the errors every resource may answer, and
//! the list envelopes. The entities' schemas are derived from the types the
//! handlers serialize.
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

use crate::audit::event::EventView;
use crate::auth_modules::model::AuthModuleView;
use crate::authz::model::{PermissionView, ProjectRoleView, ProjectView, RoleView};
use crate::groups::model::GroupView;
use crate::oauth2::authorized_apps::AuthorizedApp;
use crate::registry::model::ServiceView;
use crate::users::model::UserView;
use crate::users::permanent_tokens::TokenView;

/// Hub's error body.
#[derive(Serialize, ToSchema)]
pub struct HubError {
    /// The status in words: `Bad Request`, `Unauthorized`, `Forbidden`, `Not Found`, …
    pub error: String,
    pub error_description: String,
    /// The request field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_field: Option<String>,
}

/// What any REST call may answer besides its success.
#[derive(IntoResponses)]
pub enum RestErrors {
    /// A parameter or body field is wrong (`error_field` names it).
    #[response(status = 400)]
    BadRequest(#[to_schema] HubError),
    /// No or an invalid bearer token.
    #[response(status = 401)]
    Unauthorized(#[to_schema] HubError),
    /// The caller may not do this.
    #[response(status = 403)]
    Forbidden(#[to_schema] HubError),
    /// No such entity.
    #[response(status = 404)]
    NotFound(#[to_schema] HubError),
    /// The database did not answer in time.
    #[response(status = 503)]
    Unavailable(#[to_schema] HubError),
}

/// A service's new secret.
#[derive(Serialize, ToSchema)]
pub struct NewSecret {
    pub id: String,
    pub secret: String,
}

/// `{}`: what a delete answers.
#[derive(Serialize, ToSchema)]
pub struct Empty {}

macro_rules! envelope {
    ($name:ident, $items:ident, $item:ty) => {
        /// A page of a list, in Hub's envelope.
        #[derive(Serialize, ToSchema)]
        pub struct $name {
            pub skip: i64,
            pub top: i64,
            /// Left out when `fields` shapes the envelope without it.
            pub total: Option<i64>,
            pub $items: Vec<$item>,
        }
    };
}

envelope!(ServiceList, services, ServiceView);
envelope!(UserList, users, UserView);
envelope!(TokenList, permanenttokens, TokenView);
envelope!(AuthorizedAppList, authorizedapps, AuthorizedApp);
envelope!(EventList, events, EventView);
envelope!(GroupList, usergroups, GroupView);
envelope!(PermissionList, permissions, PermissionView);
envelope!(RoleList, roles, RoleView);
envelope!(ProjectList, projects, ProjectView);
envelope!(AuthModuleList, authmodules, AuthModuleView);
envelope!(ProjectRoleList, projectroles, ProjectRoleView);
