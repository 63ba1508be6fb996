-- User groups (Hub's usergroups), nested by `parent_id`, and their direct
-- members. A group's name is unique whatever its case. A group with
-- subgroups cannot be deleted (the REST API says so) so no subtree goes
-- by accident; deleting a group or a user removes the memberships.
CREATE TABLE user_groups (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    parent_id TEXT REFERENCES user_groups (id),
    created TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX user_groups_name ON user_groups (lower(name));
CREATE INDEX user_groups_parent ON user_groups (parent_id);
CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added TIMESTAMP NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);
