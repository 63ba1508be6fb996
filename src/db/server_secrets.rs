//! Secrets every instance shares (HMAC keys), in the `server_secrets` table:
//! made by whichever instance needs one first, read by the rest.
use diesel::prelude::*;

use super::schema::server_secrets;
use super::DbConn;
use crate::error::StoreError;
use crate::secrets;

/// The secret called `name`, made now if nobody made it yet. Two instances
/// making it at once agree: the second insert fails and both read the first.
pub fn load_or_create(conn: &mut DbConn, name: &str) -> Result<String, StoreError> {
    let existing: Option<String> = server_secrets::table
        .find(name)
        .select(server_secrets::value)
        .first(conn)
        .optional()?;
    if let Some(value) = existing {
        return Ok(value);
    }
    let inserted = diesel::insert_into(server_secrets::table)
        .values((
            server_secrets::name.eq(name),
            server_secrets::value.eq(secrets::generate()),
        ))
        .execute(conn);
    match inserted.map_err(StoreError::from) {
        Ok(_) | Err(StoreError::Duplicate(_)) => {}
        Err(other) => return Err(other),
    }
    Ok(server_secrets::table
        .find(name)
        .select(server_secrets::value)
        .first(conn)?)
}
