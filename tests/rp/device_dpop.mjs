// An independent public client: openid-client (Node) registers itself at
// idhub (RFC 7591) with no secret, then
// 1. signs a user in with the device flow (RFC 8628), polling while the
//    user allows the code at /device, and
// 2. signs a user in with code + PKCE with every token bound to its own
//    DPoP key (RFC 9449), reads userinfo with a DPoP proof and refreshes
//    with one.
// The test that runs it (tests/api/independent_rp.rs) plays the user: it
// reads one JSON line per step on stdout and answers on stdin.
import * as client from "openid-client";
import readline from "node:readline";

const [issuer, initialAccessToken] = process.argv.slice(2);
const input = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (step, value) => console.log(JSON.stringify({ step, value }));
const redirect_uri = "https://rp.example/callback";

const register = (metadata) =>
  client.dynamicClientRegistration(
    new URL(issuer),
    { token_endpoint_auth_method: "none", ...metadata },
    client.None(),
    { initialAccessToken, execute: [client.allowInsecureRequests] },
  );

// 1. The device flow.
const device = await register({
  client_name: "openid-client device",
  grant_types: ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
  response_types: [],
});
const started = await client.initiateDeviceAuthorization(device, { scope: "openid offline_access" });
say("device", {
  user_code: started.user_code,
  verification_uri: started.verification_uri,
  verification_uri_complete: started.verification_uri_complete,
});
const deviceTokens = await client.pollDeviceAuthorizationGrant(device, started);
say("device_tokens", { claims: deviceTokens.claims(), refresh: Boolean(deviceTokens.refresh_token) });

// 2. Code + PKCE, bound with DPoP.
const config = await register({
  client_name: "openid-client DPoP",
  redirect_uris: [redirect_uri],
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  dpop_bound_access_tokens: true,
});
const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256"));
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri,
  scope: "openid profile offline_access",
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: "S256",
  state,
});
say("authorize", url.href);
const callback = (await input.next()).value;
const tokens = await client.authorizationCodeGrant(
  config,
  new URL(callback),
  { pkceCodeVerifier: verifier, expectedState: state },
  undefined,
  { DPoP: dpop },
);
say("dpop_tokens", { token_type: tokens.token_type, access_token: tokens.access_token });
const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub, {
  DPoP: dpop,
});
say("dpop_userinfo", userinfo);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, {
  DPoP: dpop,
});
say("dpop_refreshed", { token_type: refreshed.token_type, access_token: refreshed.access_token });
process.exit(0);
