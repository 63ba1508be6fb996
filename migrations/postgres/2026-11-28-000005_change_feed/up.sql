-- Every change to a service or a user is announced to every instance
-- (LISTEN idhub_changes), which drops its cached copy at once. A trigger, so
-- that no write path (REST, CLI, console, hand-written SQL) can forget it.
CREATE FUNCTION idhub_announce_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('idhub_changes', TG_ARGV[0] || ':' || OLD.id);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER services_announce_change AFTER UPDATE OR DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION idhub_announce_change('service');
CREATE TRIGGER users_announce_change AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION idhub_announce_change('user');
