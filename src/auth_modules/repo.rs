//! Auth modules as stored: created, listed in their order, changed and
//! deleted by admins, each change audited. The secret is sealed with the
//! key-encryption key when one is set (associated data `authmodule:ID`),
//! like signing keys and TOTP secrets.
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::input::{check_settings, merged, ModuleChanges};
use super::model::{AuthModule, AuthModuleView, GroupMapping, ModuleKind, Settings};
use crate::audit::{self, Caller, Kind};
use crate::db::schema::{auth_module_group_mappings as mappings, auth_modules, user_groups};
use crate::db::{lower, DbConn};
use crate::error::AppError;
use crate::groups::model::Ref;
use crate::key_encryption::{self, KeyEncryption};
use crate::paging::Page;

fn associated(id: &str) -> String {
    format!("authmodule:{id}")
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<AuthModule, AppError> {
    auth_modules::table
        .find(id)
        .select(AuthModule::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("auth module"))
}

/// Modules in their order (then by name), a page of them; and how many.
pub fn list(conn: &mut DbConn, page: Page) -> Result<(Vec<AuthModuleView>, i64), AppError> {
    let found: Vec<AuthModule> = auth_modules::table
        .order((
            auth_modules::ordinal,
            lower(auth_modules::name),
            auth_modules::id,
        ))
        .offset(page.skip)
        .limit(page.top)
        .select(AuthModule::as_select())
        .load(conn)?;
    let total = match page.count_total {
        true => auth_modules::table.count().get_result(conn)?,
        false => 0,
    };
    let views = found
        .into_iter()
        .map(|module| view(conn, module))
        .collect::<Result<_, _>>()?;
    Ok((views, total))
}

/// The enabled modules of `kind`, in their order.
pub fn enabled(conn: &mut DbConn, kind: ModuleKind) -> Result<Vec<AuthModule>, AppError> {
    Ok(auth_modules::table
        .filter(auth_modules::kind.eq(kind.name()))
        .filter(auth_modules::enabled.eq(true))
        .order((auth_modules::ordinal, lower(auth_modules::name)))
        .select(AuthModule::as_select())
        .load(conn)?)
}

pub fn settings_of(module: &AuthModule) -> Result<Settings, AppError> {
    serde_json::from_str(&module.settings)
        .map_err(|e| AppError::internal(format!("the settings of auth module {}: {e}", module.id)))
}

pub fn kind_of(module: &AuthModule) -> Result<ModuleKind, AppError> {
    ModuleKind::parse(&module.kind)
        .ok_or_else(|| AppError::internal(format!("auth module {} has no known kind", module.id)))
}

pub fn group_mappings(conn: &mut DbConn, module_id: &str) -> Result<Vec<GroupMapping>, AppError> {
    let rows: Vec<(String, String)> = mappings::table
        .filter(mappings::module_id.eq(module_id))
        .order((mappings::external, mappings::group_id))
        .select((mappings::external, mappings::group_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(external, id)| GroupMapping {
            external,
            group: Ref { id },
        })
        .collect())
}

pub fn view(conn: &mut DbConn, module: AuthModule) -> Result<AuthModuleView, AppError> {
    Ok(AuthModuleView {
        kind: kind_of(&module)?,
        settings: settings_of(&module)?,
        group_mappings: group_mappings(conn, &module.id)?,
        secret_set: module.secret.is_some(),
        order: module.ordinal,
        created: crate::clock::millis(module.created),
        updated: crate::clock::millis(module.updated),
        id: module.id,
        name: module.name,
        enabled: module.enabled,
        auto_create_users: module.auto_create_users,
        link_by_email: module.link_by_email,
    })
}

/// The module's secret, opened; none when it has none.
pub fn secret(
    encryption: Option<&KeyEncryption>,
    module: &AuthModule,
) -> Result<Option<String>, AppError> {
    module
        .secret
        .as_deref()
        .map(|stored| {
            key_encryption::open(encryption, &associated(&module.id), stored)
                .map_err(|e| AppError::internal(format!("the secret of an auth module: {e}")))
        })
        .transpose()
}

/// Seals every stored module secret with `new`, opening each with
/// `current` (or `new`, when sealed by it already): what `idhub keys
/// encrypt` and `change-encryption-key` do beside the signing keys.
pub fn seal_all(
    conn: &mut DbConn,
    current: Option<&KeyEncryption>,
    new: &KeyEncryption,
) -> Result<usize, AppError> {
    crate::db::transaction(conn, |conn| {
        let stored: Vec<(String, Option<String>)> = auth_modules::table
            .filter(auth_modules::secret.is_not_null())
            .select((auth_modules::id, auth_modules::secret))
            .load(conn)?;
        for (id, secret) in &stored {
            let Some(secret) = secret else { continue };
            let sealed = key_encryption::reseal(current, new, &associated(id), secret)
                .map_err(|e| AppError::internal(format!("the secret of an auth module: {e}")))?;
            diesel::update(auth_modules::table.find(id))
                .set(auth_modules::secret.eq(sealed))
                .execute(conn)?;
        }
        Ok(stored.len())
    })
}

fn sealed(
    encryption: Option<&KeyEncryption>,
    id: &str,
    secret: Option<String>,
) -> Result<Option<String>, AppError> {
    match (encryption, secret) {
        (Some(encryption), Some(secret)) => encryption
            .seal(&associated(id), &secret)
            .map(Some)
            .map_err(AppError::internal),
        (None, secret) => Ok(secret),
        (_, None) => Ok(None),
    }
}

fn name_taken(error: AppError) -> AppError {
    match error {
        AppError::Conflict { .. } => {
            AppError::conflict("name", "an auth module with that name already exists")
        }
        other => other,
    }
}

/// Replaces the module's group mappings; each names an existing group.
fn set_mappings(
    conn: &mut DbConn,
    module_id: &str,
    wanted: &[GroupMapping],
) -> Result<(), AppError> {
    diesel::delete(mappings::table.filter(mappings::module_id.eq(module_id))).execute(conn)?;
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for mapping in wanted {
        let key = (mapping.external.as_str(), mapping.group.id.as_str());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let exists: bool = diesel::select(diesel::dsl::exists(
            user_groups::table.find(&mapping.group.id),
        ))
        .get_result(conn)?;
        if !exists {
            return Err(AppError::bad_field(
                "groupMappings",
                format!("there is no group {}", mapping.group.id),
            ));
        }
        diesel::insert_into(mappings::table)
            .values((
                mappings::module_id.eq(module_id),
                mappings::external.eq(&mapping.external),
                mappings::group_id.eq(&mapping.group.id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn stored_settings(kind: ModuleKind, settings: Settings) -> Result<String, AppError> {
    let checked = check_settings(kind, settings)?;
    serde_json::to_string(&checked).map_err(|e| AppError::internal(e.to_string()))
}

pub fn create(
    conn: &mut DbConn,
    encryption: Option<&KeyEncryption>,
    changes: ModuleChanges,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<AuthModuleView, AppError> {
    let kind = changes
        .kind
        .ok_or_else(|| AppError::bad_field("type", "type is oidc, oauth2 or ldap"))?;
    let id = uuid::Uuid::new_v4().to_string();
    let module = AuthModule {
        name: changes.name.unwrap_or_default(),
        kind: kind.name().to_owned(),
        enabled: changes.enabled.unwrap_or(true),
        ordinal: changes.order.unwrap_or(0),
        auto_create_users: changes.auto_create_users.unwrap_or(false),
        link_by_email: changes.link_by_email.unwrap_or(false),
        settings: stored_settings(kind, changes.settings)?,
        secret: sealed(encryption, &id, changes.secret.flatten())?,
        created: now,
        updated: now,
        id,
    };
    crate::db::transaction(conn, |conn| {
        diesel::insert_into(auth_modules::table)
            .values(&module)
            .execute(conn)
            .map_err(|e| name_taken(e.into()))?;
        if let Some(wanted) = &changes.group_mappings {
            set_mappings(conn, &module.id, wanted)?;
        }
        let created = caller
            .event(Kind::AuthModuleCreated)
            .detail("authModule", module.id.clone())
            .detail("name", module.name.clone())
            .detail("type", kind.name());
        audit::store::record(conn, &created, now)?;
        let stored = find(conn, &module.id)?;
        view(conn, stored)
    })
}

pub fn update(
    conn: &mut DbConn,
    encryption: Option<&KeyEncryption>,
    id: &str,
    changes: ModuleChanges,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<AuthModuleView, AppError> {
    crate::db::transaction(conn, |conn| {
        let stored = find(conn, id)?;
        let kind = kind_of(&stored)?;
        let settings_sent = changes.settings != Settings::default();
        let fields = audit::event::changed_fields(&[
            ("name", changes.name.is_some()),
            ("enabled", changes.enabled.is_some()),
            ("order", changes.order.is_some()),
            ("autoCreateUsers", changes.auto_create_users.is_some()),
            ("linkByEmail", changes.link_by_email.is_some()),
            ("groupMappings", changes.group_mappings.is_some()),
            ("secret", changes.secret.is_some()),
            ("settings", settings_sent),
        ]);
        if fields.is_empty() {
            return view(conn, stored);
        }
        let settings = match settings_sent {
            true => stored_settings(kind, merged(settings_of(&stored)?, changes.settings))?,
            false => stored.settings.clone(),
        };
        let secret = match changes.secret {
            Some(secret) => sealed(encryption, id, secret)?,
            None => stored.secret.clone(),
        };
        diesel::update(auth_modules::table.find(id))
            .set((
                auth_modules::name.eq(changes.name.unwrap_or(stored.name)),
                auth_modules::enabled.eq(changes.enabled.unwrap_or(stored.enabled)),
                auth_modules::ordinal.eq(changes.order.unwrap_or(stored.ordinal)),
                auth_modules::auto_create_users.eq(changes
                    .auto_create_users
                    .unwrap_or(stored.auto_create_users)),
                auth_modules::link_by_email
                    .eq(changes.link_by_email.unwrap_or(stored.link_by_email)),
                auth_modules::settings.eq(settings),
                auth_modules::secret.eq(secret),
                auth_modules::updated.eq(now),
            ))
            .execute(conn)
            .map_err(|e| name_taken(e.into()))?;
        if let Some(wanted) = &changes.group_mappings {
            set_mappings(conn, id, wanted)?;
        }
        let updated = caller
            .event(Kind::AuthModuleUpdated)
            .detail("authModule", id.to_owned())
            .detail("fields", fields);
        audit::store::record(conn, &updated, now)?;
        let changed = find(conn, id)?;
        view(conn, changed)
    })
}

pub fn delete(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    caller: &Caller,
) -> Result<(), AppError> {
    crate::db::transaction(conn, |conn| {
        let module = find(conn, id)?;
        diesel::delete(mappings::table.filter(mappings::module_id.eq(id))).execute(conn)?;
        diesel::delete(auth_modules::table.find(id)).execute(conn)?;
        let deleted = caller
            .event(Kind::AuthModuleDeleted)
            .detail("authModule", id.to_owned())
            .detail("name", module.name);
        audit::store::record(conn, &deleted, now)?;
        Ok(())
    })
}
