-- Hub's authorization model: permissions a service declares, roles that
-- bundle them, projects, and roles granted in a project to a user or a
-- group. The project `0-0-0-0-0` is Global: a role granted there holds in
-- every project. Deleting a service, role, project, user or group deletes
-- what hangs from it.
CREATE TABLE permissions (
    id TEXT PRIMARY KEY NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    global BOOLEAN NOT NULL DEFAULT FALSE,
    created TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX permissions_key ON permissions (service_id, key);
CREATE TABLE roles (
    id TEXT PRIMARY KEY NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    created TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX roles_key ON roles (lower(key));
CREATE TABLE role_permissions (
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);
CREATE INDEX role_permissions_permission ON role_permissions (permission_id);
CREATE TABLE projects (
    id TEXT PRIMARY KEY NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    created TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX projects_key ON projects (lower(key));
INSERT INTO projects (id, key, name, description, created)
VALUES ('0-0-0-0-0', 'GLOBAL', 'Global',
        'Every project: a role granted here holds in all of them', CURRENT_TIMESTAMP);
-- Owned by a user or by a group, never both.
CREATE TABLE project_roles (
    id TEXT PRIMARY KEY NOT NULL,
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    group_id TEXT REFERENCES user_groups (id) ON DELETE CASCADE,
    created TIMESTAMP NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX project_roles_of_user ON project_roles (user_id, role_id, project_id);
CREATE UNIQUE INDEX project_roles_of_group ON project_roles (group_id, role_id, project_id);
CREATE INDEX project_roles_role ON project_roles (role_id);
CREATE INDEX project_roles_project ON project_roles (project_id);

-- Every change that can alter someone's permissions is announced to the
-- other instances' permission caches: `access-user:ID` when it touches one
-- user, `access-graph:TABLE` when it touches the shared structure. One
-- announcement per statement for the structure, however many rows.
CREATE FUNCTION idhub_announce_access_of_user() RETURNS trigger AS $$
DECLARE
    row_user TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_user := OLD.user_id;
    ELSE
        row_user := NEW.user_id;
    END IF;
    IF row_user IS NULL THEN
        PERFORM pg_notify('idhub_changes', 'access-graph:' || TG_TABLE_NAME);
    ELSE
        PERFORM pg_notify('idhub_changes', 'access-user:' || row_user);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION idhub_announce_access_graph() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('idhub_changes', 'access-graph:' || TG_TABLE_NAME);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER group_members_announce AFTER INSERT OR DELETE ON group_members
    FOR EACH ROW EXECUTE FUNCTION idhub_announce_access_of_user();
CREATE TRIGGER project_roles_announce AFTER INSERT OR DELETE ON project_roles
    FOR EACH ROW EXECUTE FUNCTION idhub_announce_access_of_user();
CREATE TRIGGER user_groups_announce AFTER INSERT OR UPDATE OR DELETE ON user_groups
    FOR EACH STATEMENT EXECUTE FUNCTION idhub_announce_access_graph();
CREATE TRIGGER roles_announce AFTER INSERT OR UPDATE OR DELETE ON roles
    FOR EACH STATEMENT EXECUTE FUNCTION idhub_announce_access_graph();
CREATE TRIGGER role_permissions_announce AFTER INSERT OR DELETE ON role_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION idhub_announce_access_graph();
CREATE TRIGGER permissions_announce AFTER INSERT OR UPDATE OR DELETE ON permissions
    FOR EACH STATEMENT EXECUTE FUNCTION idhub_announce_access_graph();
CREATE TRIGGER projects_announce AFTER INSERT OR UPDATE OR DELETE ON projects
    FOR EACH STATEMENT EXECUTE FUNCTION idhub_announce_access_graph();
