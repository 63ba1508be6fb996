// A browser app of the kind idhub serves: the implicit flow written by hand
// (oidc-client-ts no longer supports it), code + PKCE through oidc-client-ts.
// Each path ends by calling idhub's userinfo with the token it got; sign-out
// goes through oidc-client-ts's signoutRedirect and back.
const config = await (await fetch("/config.json")).json();
const result = document.getElementById("result");
const show = (flow, value) => { result.textContent = flow + " " + JSON.stringify(value); };

const manager = new oidc.UserManager({
  authority: config.authority,
  client_id: config.client_id,
  redirect_uri: location.origin + "/callback-pkce",
  post_logout_redirect_uri: location.origin + "/signed-out",
  response_type: "code",
  scope: "openid profile",
  loadUserInfo: false,
  // Keep amr, acr and auth_time in the profile: the tests read how the
  // user signed in from the ID token oidc-client-ts validated.
  filterProtocolClaims: false,
});

async function userinfo(accessToken) {
  const response = await fetch(config.authority + "/api/rest/oauth2/userinfo", {
    headers: { Authorization: "Bearer " + accessToken },
  });
  if (!response.ok) throw new Error("userinfo answered " + response.status);
  return response.json();
}

try {
  if (location.pathname === "/callback-pkce") {
    const user = await manager.signinRedirectCallback();
    document.getElementById("id-token").textContent = user.id_token;
    const { amr, acr, auth_time } = user.profile;
    document.getElementById("claims").textContent = JSON.stringify({ amr, acr, auth_time });
    show("pkce", await userinfo(user.access_token));
  } else if (location.pathname === "/signed-out") {
    await manager.signoutRedirectCallback();
    show("signedout", { user: await manager.getUser() });
  } else if (location.pathname === "/callback-implicit") {
    const params = new URLSearchParams(location.hash.slice(1));
    if (params.get("error")) throw new Error(params.get("error") + ": " + params.get("error_description"));
    if (params.get("state") !== sessionStorage.getItem("state")) throw new Error("state mismatch");
    document.getElementById("id-token").textContent = params.get("id_token");
    document.getElementById("nonce").textContent = sessionStorage.getItem("nonce");
    show("implicit", await userinfo(params.get("access_token")));
  }
} catch (error) {
  result.textContent = "error " + error.message;
}

document.getElementById("implicit").onclick = () => {
  const state = crypto.randomUUID();
  const nonce = crypto.randomUUID();
  sessionStorage.setItem("state", state);
  sessionStorage.setItem("nonce", nonce);
  const query = new URLSearchParams({
    response_type: "id_token token",
    client_id: config.client_id,
    redirect_uri: location.origin + "/callback-implicit",
    scope: "openid profile",
    state,
    nonce,
  });
  location.assign(config.authority + "/api/rest/oauth2/auth?" + query);
};
// `?acr_values=mfa` in the SPA's own address asks idhub for a step-up.
const acrValues = new URLSearchParams(location.search).get("acr_values") || undefined;
document.getElementById("pkce").onclick = () => manager.signinRedirect({ acr_values: acrValues });
document.getElementById("signout").onclick = () => manager.signoutRedirect();
