// An independent relying party: openid-client (Node) registers itself at
// idhub (RFC 7591) with a public key, pushes its authorization request (PAR,
// RFC 9126) and signs a user in with code + PKCE, authenticating with
// private_key_jwt, validates the ID token (with the groups claim), then builds
// the RP-initiated logout URL. The test that runs it
// (tests/api/independent_rp.rs) plays the browser: it reads one JSON line
// per step on stdout and answers the callback URL on stdin.
import * as client from "openid-client";
import readline from "node:readline";

const [issuer, initialAccessToken] = process.argv.slice(2);
const input = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (step, value) => console.log(JSON.stringify({ step, value }));
const redirect_uri = "https://rp.example/callback";
const post_logout_redirect_uri = "https://rp.example/signed-out";

// The RP's own key: the public half is registered, the private half signs
// its client assertions.
const kid = "openid-client-rp-key";
const { publicKey, privateKey } = await crypto.subtle.generateKey(
  { name: "ECDSA", namedCurve: "P-256" },
  true,
  ["sign", "verify"],
);
const jwk = { ...(await crypto.subtle.exportKey("jwk", publicKey)), kid, alg: "ES256", use: "sig" };
delete jwk.key_ops;
delete jwk.ext;

const config = await client.dynamicClientRegistration(
  new URL(issuer),
  {
    client_name: "openid-client RP",
    redirect_uris: [redirect_uri],
    post_logout_redirect_uris: [post_logout_redirect_uri],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "private_key_jwt",
    jwks: { keys: [jwk] },
  },
  client.PrivateKeyJwt({ key: privateKey, kid }),
  { initialAccessToken, execute: [client.allowInsecureRequests] },
);
const registered = config.clientMetadata();
if (registered.client_secret) throw new Error("a private_key_jwt client got a secret");
say("registered", registered.client_id);

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
// The request is pushed first (RFC 9126): the browser gets only a request_uri.
const url = await client.buildAuthorizationUrlWithPAR(config, {
  redirect_uri,
  scope: "openid profile groups",
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: "S256",
  state,
  nonce,
});
say("authorize", url.href);

const callback = (await input.next()).value;
const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
});
say("claims", tokens.claims());

const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
say("userinfo", userinfo);

const endSession = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri,
  state: "signed-out-state",
});
say("end_session", endSession.href);
process.exit(0);
