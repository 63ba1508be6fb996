ALTER TABLE services DROP COLUMN token_exchange_enabled;
ALTER TABLE services DROP COLUMN dpop_required;
ALTER TABLE services DROP COLUMN device_flow_enabled;
DROP TABLE server_secrets;
ALTER TABLE authorization_codes DROP COLUMN dpop_jkt;
ALTER TABLE refresh_tokens DROP COLUMN jkt;
ALTER TABLE used_jtis RENAME TO used_client_assertions;
DROP TABLE device_codes;
