DROP TRIGGER users_announce_change ON users;
DROP TRIGGER services_announce_change ON services;
DROP FUNCTION idhub_announce_change();
