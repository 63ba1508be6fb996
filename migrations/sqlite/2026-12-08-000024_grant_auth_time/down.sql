ALTER TABLE grants DROP COLUMN auth_time;
