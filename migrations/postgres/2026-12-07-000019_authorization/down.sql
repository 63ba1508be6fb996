DROP TABLE project_roles;
DROP TABLE projects;
DROP TABLE role_permissions;
DROP TABLE roles;
DROP TABLE permissions;
DROP TRIGGER user_groups_announce ON user_groups;
DROP TRIGGER group_members_announce ON group_members;
DROP FUNCTION idhub_announce_access_graph();
DROP FUNCTION idhub_announce_access_of_user();
