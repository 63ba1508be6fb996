DROP TABLE auth_module_group_mappings;
DROP TABLE auth_modules;
