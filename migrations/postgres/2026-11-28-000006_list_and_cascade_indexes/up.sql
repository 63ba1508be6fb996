-- Listing services in name order (the default) walks an index instead of
-- sorting the table; `is: trusted` narrows within the same order.
CREATE INDEX services_name_order ON services (lower(name), id);
CREATE INDEX services_trusted_name_order ON services (trusted, lower(name), id);
DROP INDEX services_name_lower;
-- Deleting a grant or a service finds its codes and consents by index, not by
-- scanning every code (the foreign keys cascade).
CREATE INDEX authorization_codes_grant ON authorization_codes (grant_id);
CREATE INDEX consents_service ON consents (service_id);
