DROP TRIGGER users_deleted;
DROP TRIGGER users_updated;
DROP TRIGGER services_deleted;
DROP TRIGGER services_updated;
DROP TABLE cache_changes;
