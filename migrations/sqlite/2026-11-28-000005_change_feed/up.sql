-- Every change to a service or a user is recorded here; each process sharing
-- the file (a server, the CLI) notices new rows and drops its cached copy.
-- Triggers, so that no write path can forget it. Old rows are purged.
CREATE TABLE cache_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TRIGGER services_updated AFTER UPDATE ON services
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('service:' || OLD.id);
END;
CREATE TRIGGER services_deleted AFTER DELETE ON services
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('service:' || OLD.id);
END;
CREATE TRIGGER users_updated AFTER UPDATE ON users
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('user:' || OLD.id);
END;
CREATE TRIGGER users_deleted AFTER DELETE ON users
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('user:' || OLD.id);
END;
