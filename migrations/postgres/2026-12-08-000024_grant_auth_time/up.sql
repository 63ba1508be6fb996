-- When the user signed in for a grant (the session's auth_time, not when
-- the grant was made), for the auth_time of the tokens its refresh tokens
-- bring. NULL on grants made before this column, or without a sign-in.
ALTER TABLE grants ADD COLUMN auth_time TIMESTAMP;
