//! What idhub says about a user, by scope (OpenID Connect Core §5.1, §5.4):
//! the userinfo answer, and the same claims in an ID token.
use serde::Serialize;
use utoipa::ToSchema;

use crate::scope::{EMAIL, PROFILE};
use crate::users::model::User;

/// `name` and `preferred_username` only with `profile`, `email` only with
/// `email`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UserInfo)]
pub struct UserClaims {
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// With `groups`: the names of the user's groups and of every group
    /// they are inside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

impl UserClaims {
    /// The claims `user` may be described by, where `allows` says which
    /// scopes the token carries.
    pub fn of(user: &User, allows: impl Fn(&str) -> bool) -> Self {
        let (profile, email) = (allows(PROFILE), allows(EMAIL));
        Self {
            sub: user.id.clone(),
            name: profile.then(|| user.name.clone()),
            preferred_username: profile.then(|| user.login.clone()),
            email: user.email.clone().filter(|_| email),
            // idhub does not run e-mail verification, so it never vouches
            // for an address.
            email_verified: (email && user.email.is_some()).then_some(false),
            groups: None,
        }
    }
}
