DROP TABLE permanent_tokens;
DROP TABLE service_redirect_uris;
DROP TABLE services;
DROP TABLE users;
