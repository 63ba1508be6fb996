ALTER TABLE services DROP COLUMN token_endpoint_auth_method;
