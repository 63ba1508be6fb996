DROP INDEX consents_service;
DROP INDEX authorization_codes_grant;
CREATE INDEX services_name_lower ON services (lower(name));
DROP INDEX services_trusted_name_order;
DROP INDEX services_name_order;
