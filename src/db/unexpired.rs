//! "Not yet expired" in a lookup by a secret's hash, in a form PostgreSQL
//! does not answer through the expiry index. Its statistics only see expiry
//! times up to its last ANALYZE; every new row expires later, so the planner
//! takes `expires_at > now` for a match of about no rows, prices the expiry
//! index like the primary key and may pick it: then each lookup walks every
//! live row (measured: code exchange on a seeded table, 2,000/s → 300/s, each
//! UPDATE 30–40 ms). Wrapped in `COALESCE(…, FALSE)` (the same truth for a
//! NOT NULL column) the comparison is only a filter, and the lookup goes by
//! its key. Range scans over expiry (housekeeping, the revocations loaded at
//! start) keep the plain comparison and the index.
use chrono::NaiveDateTime;
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Timestamp};

diesel::define_sql_function! {
    fn coalesce(value: Nullable<Bool>, otherwise: Bool) -> Bool;
}

/// `COALESCE(column > now, FALSE)`.
pub fn unexpired<C>(
    column: C,
    now: NaiveDateTime,
) -> coalesce<diesel::dsl::Nullable<diesel::dsl::Gt<C, NaiveDateTime>>, bool>
where
    C: Expression<SqlType = Timestamp> + ExpressionMethods + NullableExpressionMethods,
    NaiveDateTime: AsExpression<Timestamp>,
    diesel::dsl::Gt<C, NaiveDateTime>: Expression<SqlType = Bool> + NullableExpressionMethods,
{
    coalesce(column.gt(now).nullable(), false)
}
