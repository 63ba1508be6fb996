-- A client registered by someone other than an administrator (open RFC 7591
-- registration) is unverified until an administrator verifies or trusts it:
-- it may not ask for the Hub service's scope, its consent page says so, its
-- errors and sign-outs do not redirect without a click, and idhub calls its
-- URLs on public hosts only. Clients registered before this column existed
-- through RFC 7591, untrusted, start unverified: who registered them is not
-- known here.
ALTER TABLE services ADD COLUMN verified BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE services SET verified = FALSE
 WHERE trusted = FALSE AND id IN (SELECT service_id FROM client_registrations);
-- What such a client got for the Hub service before is revoked: one consent
-- click on a phishing client must not keep refreshing a Hub token.
UPDATE grants SET revoked_at = CURRENT_TIMESTAMP
 WHERE revoked_at IS NULL
   AND service_id IN (SELECT id FROM services WHERE verified = FALSE)
   AND (' ' || scope || ' ') LIKE '% 0-0-0-0-0 %';
