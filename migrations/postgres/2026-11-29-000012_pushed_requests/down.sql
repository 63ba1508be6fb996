ALTER TABLE services DROP COLUMN par_required;
DROP TABLE pushed_requests;
