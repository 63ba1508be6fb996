DROP INDEX group_members_user;
DROP TABLE group_members;
DROP INDEX user_groups_parent;
DROP INDEX user_groups_name;
DROP TABLE user_groups;
