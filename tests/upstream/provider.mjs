// An upstream OpenID provider for the auth-module tests: node-oidc-provider
// (unmodified, from npm) with its development sign-in pages, one client
// (idhub), and accounts whose claims the tests know. Any password signs in.
// Usage: node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const accounts = {
  grace: { email: "grace@example.com", email_verified: true, name: "Grace Hopper", groups: ["eng"] },
  lin: { email: "lin@example.com", email_verified: true, name: "Lin", groups: [] },
  mallory: { email: "ada@example.com", email_verified: false, name: "Mallory", groups: [] },
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ["authorization_code"],
    response_types: ["code"],
  }],
  scopes: ["openid", "email", "profile", "groups"],
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username"],
    groups: ["groups"],
  },
  conformIdTokenClaims: false,
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({
      preferred_username: id,
      ...(accounts[id] ?? { email: `${id}@example.com`, email_verified: false, groups: [] }),
    }),
  }),
  cookies: { keys: ["upstream-test-cookie-key"] },
});
provider.listen(Number(port), () => console.log("ready"));
