DROP INDEX logout_outbox_service;
DROP INDEX logout_outbox_due;
DROP TABLE logout_outbox;
