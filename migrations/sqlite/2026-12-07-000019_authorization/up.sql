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

-- Every change that can alter someone's permissions is recorded for the
-- other processes' permission caches: `access-user:ID` when it touches one
-- user, `access-graph:TABLE` when it touches the shared structure.
CREATE TRIGGER group_members_added AFTER INSERT ON group_members
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-user:' || NEW.user_id);
END;
CREATE TRIGGER group_members_removed AFTER DELETE ON group_members
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-user:' || OLD.user_id);
END;
CREATE TRIGGER project_roles_granted AFTER INSERT ON project_roles
BEGIN
    INSERT INTO cache_changes (entity) VALUES (
        CASE WHEN NEW.user_id IS NULL THEN 'access-graph:project_roles'
             ELSE 'access-user:' || NEW.user_id END);
END;
CREATE TRIGGER project_roles_revoked AFTER DELETE ON project_roles
BEGIN
    INSERT INTO cache_changes (entity) VALUES (
        CASE WHEN OLD.user_id IS NULL THEN 'access-graph:project_roles'
             ELSE 'access-user:' || OLD.user_id END);
END;
CREATE TRIGGER user_groups_added AFTER INSERT ON user_groups
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:user_groups');
END;
CREATE TRIGGER user_groups_changed AFTER UPDATE ON user_groups
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:user_groups');
END;
CREATE TRIGGER user_groups_deleted AFTER DELETE ON user_groups
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:user_groups');
END;
CREATE TRIGGER roles_added AFTER INSERT ON roles
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:roles');
END;
CREATE TRIGGER roles_changed AFTER UPDATE ON roles
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:roles');
END;
CREATE TRIGGER roles_deleted AFTER DELETE ON roles
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:roles');
END;
CREATE TRIGGER role_permissions_added AFTER INSERT ON role_permissions
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:role_permissions');
END;
CREATE TRIGGER role_permissions_removed AFTER DELETE ON role_permissions
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:role_permissions');
END;
CREATE TRIGGER permissions_added AFTER INSERT ON permissions
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:permissions');
END;
CREATE TRIGGER permissions_changed AFTER UPDATE ON permissions
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:permissions');
END;
CREATE TRIGGER permissions_deleted AFTER DELETE ON permissions
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:permissions');
END;
CREATE TRIGGER projects_added AFTER INSERT ON projects
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:projects');
END;
CREATE TRIGGER projects_changed AFTER UPDATE ON projects
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:projects');
END;
CREATE TRIGGER projects_deleted AFTER DELETE ON projects
BEGIN
    INSERT INTO cache_changes (entity) VALUES ('access-graph:projects');
END;
