//! "Connect your application": what a developer needs to point an OpenID
//! Connect library at a service, on its page and after it is created: the
//! issuer, the discovery URL, the client id, the redirect URI, and a snippet
//! for the kind of application the service looks like
//! (`ApplicationType::of`): openid-client and Spring Boot for a web server,
//! oidc-client-ts for a single-page app, curl for the device flow, client
//! credentials and introspection. Snippets never hold the secret.
use crate::oidc::discovery::OAUTH_BASE;
use crate::registry::application_type::ApplicationType;
use crate::registry::model::Service;

/// The panel's contents.
pub struct Connect {
    pub issuer: String,
    pub discovery: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// The application type the snippet is for.
    pub kind: &'static str,
    /// No secret: it signs in with PKCE alone.
    pub public_client: bool,
    pub snippets: Vec<Snippet>,
}

/// Code for one library or tool.
pub struct Snippet {
    pub language: &'static str,
    pub code: String,
}

/// Where the snippet says users come back when the service has no
/// redirect URI yet.
const NO_REDIRECT_URI: &str = "https://app.example.com/callback";

impl Connect {
    pub fn of(issuer: &str, service: &Service, redirect_uris: &[String]) -> Self {
        let kind = ApplicationType::of(service, redirect_uris);
        let redirect_uri = redirect_uris
            .first()
            .map(String::as_str)
            .unwrap_or(NO_REDIRECT_URI);
        let endpoint = |name: &str| format!("{issuer}{OAUTH_BASE}/{name}");
        let id = service.id.as_str();
        // openid-client refuses plain http unless told it is meant.
        let insecure = match issuer.starts_with("http://") {
            true => ", undefined, {\n  execute: [client.allowInsecureRequests] }",
            false => "",
        };
        let snippet = |language: &'static str, code: String| Snippet { language, code };
        let snippets = match kind {
            ApplicationType::Web => vec![
                snippet(
                    "JavaScript (Node, openid-client 6)",
                    format!(
                        r#"import * as client from "openid-client";

const config = await client.discovery(
  new URL("{issuer}"), "{id}", process.env.CLIENT_SECRET{insecure});

// Sign-in: keep verifier and state in the user's session, send them to url.
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const url = client.buildAuthorizationUrl(config, {{
  redirect_uri: "{redirect_uri}",
  scope: "openid profile email",
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: "S256",
  state,
}});

// At {redirect_uri}, with the URL the user came back to:
const tokens = await client.authorizationCodeGrant(config, currentUrl, {{
  pkceCodeVerifier: verifier,
  expectedState: state,
}});"#
                    ),
                ),
                snippet(
                    "Spring Boot (application.yml; PKCE needs Spring Security 6.3 or later)",
                    format!(
                        r#"# Register https://YOUR-HOST/login/oauth2/code/idhub as a redirect URI.
spring.security.oauth2.client:
  registration.idhub:
    client-id: {id}
    client-secret: ${{CLIENT_SECRET}}
    scope: openid, profile, email
    # PKCE is required: Spring Security 6.3+ adds it to confidential clients
    # with OAuth2AuthorizationRequestCustomizers.withPkce(), or switch
    # "PKCE required" off on Edit.
  provider.idhub:
    issuer-uri: {issuer}"#
                    ),
                ),
            ],
            ApplicationType::Spa => vec![snippet(
                "JavaScript (browser, oidc-client-ts)",
                format!(
                    r#"import {{ UserManager }} from "oidc-client-ts";

const users = new UserManager({{
  authority: "{issuer}",
  client_id: "{id}",
  redirect_uri: "{redirect_uri}",
  scope: "openid profile",
}});

// On the sign-in button:
await users.signinRedirect();
// On the page at {redirect_uri}:
const user = await users.signinRedirectCallback();"#
                ),
            )],
            ApplicationType::Native => vec![snippet(
                "shell (the device flow, RFC 8628)",
                format!(
                    r#"curl -s -d client_id={id} -d 'scope=openid offline_access' \
  {device}
# Show the user verification_uri_complete, then every `interval` seconds:
curl -s -d client_id={id} -d device_code=DEVICE_CODE \
  -d grant_type=urn:ietf:params:oauth:grant-type:device_code \
  {token}"#,
                    device = endpoint("device"),
                    token = endpoint("token"),
                ),
            )],
            ApplicationType::Machine => vec![snippet(
                "shell (client credentials)",
                format!(
                    r#"curl -s -u "{id}:$CLIENT_SECRET" -d grant_type=client_credentials \
  -d 'scope=IDS_OF_THE_SERVICES_IT_CALLS' {token}"#,
                    token = endpoint("token"),
                ),
            )],
            ApplicationType::ResourceServer => vec![snippet(
                "shell (introspection, RFC 7662)",
                format!(
                    r#"# Is the access token a client sent still good, and for whom?
curl -s -u "{id}:$CLIENT_SECRET" -d token=ACCESS_TOKEN {introspect}
# Or check its signature with the keys at {keys}"#,
                    introspect = endpoint("introspect"),
                    keys = endpoint("keys"),
                ),
            )],
        };
        Self {
            issuer: issuer.to_owned(),
            discovery: format!("{issuer}/.well-known/openid-configuration"),
            client_id: service.id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            kind: kind.label(),
            public_client: service.public_client,
            snippets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(public_client: bool, client_credentials: bool) -> Service {
        let mut service = Service::new("App".into(), String::new(), chrono::NaiveDateTime::MIN);
        service.public_client = public_client;
        service.client_credentials_flow_enabled = client_credentials;
        service
    }

    fn code(connect: &Connect) -> String {
        let all: Vec<&str> = connect.snippets.iter().map(|s| s.code.as_str()).collect();
        all.join("\n")
    }

    #[test]
    fn each_kind_gets_its_library_and_never_the_secret() {
        let uris = ["https://spa.example/cb".to_owned()];
        let spa = Connect::of("https://id.example.com", &service(true, false), &uris);
        assert!(code(&spa).contains("oidc-client-ts"));
        assert!(code(&spa).contains(r#"redirect_uri: "https://spa.example/cb""#));
        let web = Connect::of("http://127.0.0.1:8080", &service(false, false), &uris);
        assert!(code(&web).contains("openid-client"));
        assert!(code(&web).contains("allowInsecureRequests"), "plain http");
        assert!(
            code(&web).contains("issuer-uri: http://127.0.0.1:8080"),
            "Spring Boot"
        );
        let machine = Connect::of("https://id.example.com", &service(false, true), &[]);
        assert!(code(&machine).contains("grant_type=client_credentials"));
        assert!(code(&machine).contains("https://id.example.com/api/rest/oauth2/token"));
        for connect in [spa, web, machine] {
            assert!(code(&connect).contains("CLIENT_SECRET") || connect.public_client);
            assert!(connect
                .discovery
                .ends_with("/.well-known/openid-configuration"));
        }
    }
}
