//! What an audit event says.
use serde::Serialize;
use serde_json::{Map, Value};

/// The kinds of event, with the names the API and the CLI show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SignInSucceeded,
    SignInFailed,
    SignOut,
    ConsentGiven,
    ConsentRefused,
    TokenIssued,
    CodeReplayed,
    RefreshTokenReused,
    TokenRevoked,
    GrantRevoked,
    PermanentTokenCreated,
    PermanentTokenDeleted,
    ServiceCreated,
    ServiceUpdated,
    ServiceTrusted,
    ServiceUntrusted,
    ServiceSecretReset,
    ServiceDeleted,
    UserCreated,
    UserUpdated,
    UserBanned,
    UserUnbanned,
    UserAdminGranted,
    UserAdminRevoked,
    UserPasswordSet,
    UserDeleted,
    KeyRotated,
    KeysEncrypted,
    LogoutDelivered,
    LogoutDeliveryFailed,
    GroupCreated,
    GroupUpdated,
    GroupDeleted,
    GroupMemberAdded,
    GroupMemberRemoved,
    PermissionCreated,
    PermissionUpdated,
    PermissionDeleted,
    RoleCreated,
    RoleUpdated,
    RoleDeleted,
    ProjectCreated,
    ProjectUpdated,
    ProjectDeleted,
    ProjectRoleGranted,
    ProjectRoleRevoked,
    SecondFactorEnrolled,
    SecondFactorRemoved,
    RecoveryCodeUsed,
    /// The password was right and the sign-in goes on to a second factor
    /// (or to setting one up): not signed in yet.
    SignInPasswordVerified,
    AuthModuleCreated,
    AuthModuleUpdated,
    AuthModuleDeleted,
    IdentityLinked,
    IdentityUnlinked,
}

impl Kind {
    pub const ALL: [Kind; 55] = [
        Kind::SignInSucceeded,
        Kind::SignInFailed,
        Kind::SignOut,
        Kind::ConsentGiven,
        Kind::ConsentRefused,
        Kind::TokenIssued,
        Kind::CodeReplayed,
        Kind::RefreshTokenReused,
        Kind::TokenRevoked,
        Kind::GrantRevoked,
        Kind::PermanentTokenCreated,
        Kind::PermanentTokenDeleted,
        Kind::ServiceCreated,
        Kind::ServiceUpdated,
        Kind::ServiceTrusted,
        Kind::ServiceUntrusted,
        Kind::ServiceSecretReset,
        Kind::ServiceDeleted,
        Kind::UserCreated,
        Kind::UserUpdated,
        Kind::UserBanned,
        Kind::UserUnbanned,
        Kind::UserAdminGranted,
        Kind::UserAdminRevoked,
        Kind::UserPasswordSet,
        Kind::UserDeleted,
        Kind::KeyRotated,
        Kind::KeysEncrypted,
        Kind::LogoutDelivered,
        Kind::LogoutDeliveryFailed,
        Kind::GroupCreated,
        Kind::GroupUpdated,
        Kind::GroupDeleted,
        Kind::GroupMemberAdded,
        Kind::GroupMemberRemoved,
        Kind::PermissionCreated,
        Kind::PermissionUpdated,
        Kind::PermissionDeleted,
        Kind::RoleCreated,
        Kind::RoleUpdated,
        Kind::RoleDeleted,
        Kind::ProjectCreated,
        Kind::ProjectUpdated,
        Kind::ProjectDeleted,
        Kind::ProjectRoleGranted,
        Kind::ProjectRoleRevoked,
        Kind::SecondFactorEnrolled,
        Kind::SecondFactorRemoved,
        Kind::RecoveryCodeUsed,
        Kind::SignInPasswordVerified,
        Kind::AuthModuleCreated,
        Kind::AuthModuleUpdated,
        Kind::AuthModuleDeleted,
        Kind::IdentityLinked,
        Kind::IdentityUnlinked,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::SignInSucceeded => "signin.succeeded",
            Kind::SignInFailed => "signin.failed",
            Kind::SignOut => "signout",
            Kind::ConsentGiven => "consent.given",
            Kind::ConsentRefused => "consent.refused",
            Kind::TokenIssued => "token.issued",
            Kind::CodeReplayed => "code.replayed",
            Kind::RefreshTokenReused => "refresh_token.reused",
            Kind::TokenRevoked => "token.revoked",
            Kind::GrantRevoked => "grant.revoked",
            Kind::PermanentTokenCreated => "permanent_token.created",
            Kind::PermanentTokenDeleted => "permanent_token.deleted",
            Kind::ServiceCreated => "service.created",
            Kind::ServiceUpdated => "service.updated",
            Kind::ServiceTrusted => "service.trusted",
            Kind::ServiceUntrusted => "service.untrusted",
            Kind::ServiceSecretReset => "service.secret_reset",
            Kind::ServiceDeleted => "service.deleted",
            Kind::UserCreated => "user.created",
            Kind::UserUpdated => "user.updated",
            Kind::UserBanned => "user.banned",
            Kind::UserUnbanned => "user.unbanned",
            Kind::UserAdminGranted => "user.admin_granted",
            Kind::UserAdminRevoked => "user.admin_revoked",
            Kind::UserPasswordSet => "user.password_set",
            Kind::UserDeleted => "user.deleted",
            Kind::KeyRotated => "key.rotated",
            Kind::KeysEncrypted => "keys.encrypted",
            Kind::LogoutDelivered => "logout.delivered",
            Kind::LogoutDeliveryFailed => "logout.delivery_failed",
            Kind::GroupCreated => "group.created",
            Kind::GroupUpdated => "group.updated",
            Kind::GroupDeleted => "group.deleted",
            Kind::GroupMemberAdded => "group.member_added",
            Kind::GroupMemberRemoved => "group.member_removed",
            Kind::PermissionCreated => "permission.created",
            Kind::PermissionUpdated => "permission.updated",
            Kind::PermissionDeleted => "permission.deleted",
            Kind::RoleCreated => "role.created",
            Kind::RoleUpdated => "role.updated",
            Kind::RoleDeleted => "role.deleted",
            Kind::ProjectCreated => "project.created",
            Kind::ProjectUpdated => "project.updated",
            Kind::ProjectDeleted => "project.deleted",
            Kind::ProjectRoleGranted => "project_role.granted",
            Kind::ProjectRoleRevoked => "project_role.revoked",
            Kind::SecondFactorEnrolled => "second_factor.enrolled",
            Kind::SecondFactorRemoved => "second_factor.removed",
            Kind::RecoveryCodeUsed => "recovery_code.used",
            Kind::SignInPasswordVerified => "signin.password_verified",
            Kind::AuthModuleCreated => "authmodule.created",
            Kind::AuthModuleUpdated => "authmodule.updated",
            Kind::AuthModuleDeleted => "authmodule.deleted",
            Kind::IdentityLinked => "identity.linked",
            Kind::IdentityUnlinked => "identity.unlinked",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// The names of the fields an update sets, for its event's `fields`.
pub fn changed_fields(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
    fields
        .iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| *name)
        .collect()
}

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in person or the owner of a token, by user id.
    User(String),
    /// A service acting for itself (client credentials), by service id.
    Service(String),
    /// Someone at the command line of the server's machine.
    Cli,
    /// idhub itself (the first start's admin, guest and Hub service).
    System,
    /// Nobody known (a failed sign-in, an unauthenticated request).
    Anonymous,
}

impl Actor {
    /// The `actor` stored: the id, `cli`, `system`, or nothing.
    pub fn stored(&self) -> Option<&str> {
        match self {
            Actor::User(id) | Actor::Service(id) => Some(id),
            Actor::Cli => Some("cli"),
            Actor::System => Some("system"),
            Actor::Anonymous => None,
        }
    }
}

/// Who asks for a change, and from where: what an admin change records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub actor: Actor,
    pub origin: Origin,
}

impl Caller {
    /// A person, by user id, acting through a request from `origin`.
    pub fn user(id: &str, origin: Origin) -> Self {
        Self {
            actor: Actor::User(id.to_owned()),
            origin,
        }
    }

    /// A service acting for itself (managing its own registration).
    pub fn service(id: &str, origin: Origin) -> Self {
        Self {
            actor: Actor::Service(id.to_owned()),
            origin,
        }
    }

    /// Somebody unknown (open client registration).
    pub fn anonymous(origin: Origin) -> Self {
        Self {
            actor: Actor::Anonymous,
            origin,
        }
    }

    pub fn cli() -> Self {
        Self {
            actor: Actor::Cli,
            origin: Origin::default(),
        }
    }

    pub fn system() -> Self {
        Self {
            actor: Actor::System,
            origin: Origin::default(),
        }
    }

    /// An event of `kind` caused by this caller.
    pub fn event(&self, kind: Kind) -> Event {
        Event::new(kind, self.actor.clone(), self.origin.clone())
    }
}

/// Where a request came from: the client's address (as `TRUSTED_PROXIES`
/// makes it out) and its `User-Agent`, cut to a sane length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

const MAX_USER_AGENT: usize = 256;

impl Origin {
    pub fn new(ip: Option<std::net::IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            ip: ip.map(|ip| ip.to_string()),
            user_agent: user_agent
                .map(|agent| {
                    agent
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(MAX_USER_AGENT)
                        .collect::<String>()
                })
                .filter(|agent| !agent.is_empty()),
        }
    }
}

/// One event, before it is stored.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: Kind,
    pub actor: Actor,
    pub service_id: Option<String>,
    pub user_id: Option<String>,
    pub origin: Origin,
    /// Facts of this kind of event (grant type, scope, fields changed,
    /// reason); never a secret.
    pub details: Map<String, Value>,
}

impl Event {
    pub fn new(kind: Kind, actor: Actor, origin: Origin) -> Self {
        Self {
            kind,
            actor,
            service_id: None,
            user_id: None,
            origin,
            details: Map::new(),
        }
    }

    pub fn service(mut self, id: impl Into<String>) -> Self {
        self.service_id = Some(id.into());
        self
    }

    pub fn user(mut self, id: impl Into<String>) -> Self {
        self.user_id = Some(id.into());
        self
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

/// A stored event as the API and the console show it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Milliseconds since the epoch, like every time in the REST API.
    pub timestamp: i64,
    pub actor: Option<String>,
    pub service_id: Option<String>,
    pub user_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[schema(value_type = Object)]
    pub details: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_name_that_reads_back() {
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        for kind in Kind::ALL {
            assert_eq!(Kind::from_name(kind.name()), Some(kind));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len());
    }

    #[test]
    fn user_agents_are_cut_and_cleaned() {
        let long = "a\u{7}".repeat(400);
        let origin = Origin::new(None, Some(&long));
        assert_eq!(origin.user_agent.map(|a| a.len()), Some(MAX_USER_AGENT));
        assert_eq!(Origin::new(None, Some("\n")).user_agent, None);
    }
}
