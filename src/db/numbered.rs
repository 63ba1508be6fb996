//! Hand-written PostgreSQL statements (a data-modifying CTE diesel's query
//! builder cannot express) that are still prepared once per connection.
//! `diesel::sql_query` is never cached: PostgreSQL would parse and plan the
//! statement on every call. A statement type of its own with a static
//! `QueryId` is cached like any built query; `walk` writes its text.
use diesel::pg::Pg;
use diesel::query_builder::AstPass;
use diesel::QueryResult;

/// Writes `sql`, binding each `$n` in it with `bind("n", out)`. diesel numbers
/// binds in the order they are pushed, so a parameter that appears twice is
/// bound twice; `sql` must hold no other `$`.
pub fn walk<'b>(
    sql: &'static str,
    out: &mut AstPass<'_, 'b, Pg>,
    mut bind: impl FnMut(&str, &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>,
) -> QueryResult<()> {
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_sql(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        bind(&after[..digits], out)?;
        rest = &after[digits..];
    }
    out.push_sql(rest);
    Ok(())
}

/// Makes a statement type with its own `QueryFragment<Pg>` runnable on a
/// PostgreSQL connection, prepared once per connection (a static query id).
macro_rules! prepared_once {
    ($statement:ty) => {
        impl diesel::query_builder::QueryId for $statement {
            type QueryId = Self;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::query_builder::Query for $statement {
            type SqlType = diesel::sql_types::Untyped;
        }

        impl diesel::RunQueryDsl<diesel::PgConnection> for $statement {}
    };
}
pub(crate) use prepared_once;

/// The error of a `$n` a statement does not bind.
pub fn unknown(n: &str) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("no parameter ${n} in this statement").into())
}

#[cfg(test)]
mod tests {
    use diesel::query_builder::QueryFragment;
    use diesel::sql_types::Text;

    use super::*;

    struct Twice(String);

    impl QueryFragment<Pg> for Twice {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
            walk("SELECT $1 || $1", &mut out, |n, out| match n {
                "1" => out.push_bind_param::<Text, _>(&self.0),
                other => Err(unknown(other)),
            })
        }
    }

    #[test]
    fn every_placeholder_becomes_a_bind_of_its_own() {
        let sql = diesel::debug_query::<Pg, _>(&Twice("a".into())).to_string();
        assert!(
            sql.starts_with("SELECT $1 || $2 -- binds: [\"a\", \"a\"]"),
            "{sql}"
        );
    }
}
