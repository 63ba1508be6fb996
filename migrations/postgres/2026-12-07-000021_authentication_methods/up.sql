-- How a browser session signed in (RFC 8176 `amr` values, space-separated:
-- `pwd`, or `pwd otp mfa` after a second factor), and the same on the
-- grants made in it, for the `amr` and `acr` claims of the ID tokens the
-- grant's codes and refresh tokens bring. NULL on grants made without a
-- browser sign-in recorded (before this column, or the guest).
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE grants ADD COLUMN amr TEXT;
