DROP TABLE password_attempts;
DROP TABLE revoked_access_tokens;
