-- The client authentication method a client registered (RFC 7591
-- token_endpoint_auth_method), enforced at the token, introspection and
-- revocation endpoints; NULL for services an administrator made, which may
-- use any method they have credentials for. Kept on the service row so the
-- check reads the service cache, not the registration.
ALTER TABLE services ADD COLUMN token_endpoint_auth_method TEXT;
UPDATE services SET token_endpoint_auth_method = registration.metadata::json ->> 'token_endpoint_auth_method'
  FROM client_registrations registration
 WHERE registration.service_id = services.id;
-- The stored metadata holds client_secret_basic also for clients that named
-- no method (the default), which could send the secret in the form until
-- now: those stay free to.
UPDATE services SET token_endpoint_auth_method = NULL
 WHERE token_endpoint_auth_method = 'client_secret_basic';
