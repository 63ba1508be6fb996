-- Users an administrator requires to sign in with a second factor,
-- whatever IDHUB_REQUIRE_SECOND_FACTOR says: one without a factor sets one
-- up at the next sign-in.
CREATE TABLE second_factor_required (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    since TIMESTAMP NOT NULL
);
