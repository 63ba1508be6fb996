//! Driving the HTML pages as a browser would: follow the sign-in form and the
//! consent form, keep cookies, read the redirect back to the client.
use regex::Regex;
use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;
use crate::run_log;

pub fn unescape(text: &str) -> String {
    let numeric = Regex::new(r"&#(x[0-9a-fA-F]+|[0-9]+);").unwrap();
    let decoded = numeric.replace_all(text, |c: &regex::Captures<'_>| {
        let code = &c[1];
        let value = match code.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => code.parse::<u32>(),
        };
        value
            .ok()
            .and_then(char::from_u32)
            .map(String::from)
            .unwrap_or_default()
    });
    decoded
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden inputs of the page's forms, in order.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let pattern = Regex::new(r#"<input type="hidden" name="([^"]+)" value="([^"]*)">"#).unwrap();
    pattern
        .captures_iter(html)
        .map(|c| (unescape(&c[1]), unescape(&c[2])))
        .collect()
}

/// The hidden inputs of the page's form that posts to `action` (a page
/// may have several forms, each with its CSRF token).
pub fn form_inputs(html: &str, action: &str) -> Vec<(String, String)> {
    let start = format!(r#"<form method="post" action="{action}""#);
    let form = html
        .find(&start)
        .map(|at| &html[at..])
        .and_then(|rest| rest.find("</form>").map(|end| &rest[..end]))
        .unwrap_or_else(|| panic!("a form posting to {action}: {html}"));
    hidden_inputs(form)
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location on a {} answer", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// The parameters the client receives, from the query or the fragment.
pub fn callback_params(url: &str) -> Vec<(String, String)> {
    let parsed = url::Url::parse(url).expect("absolute redirect");
    let source = parsed
        .fragment()
        .map(str::to_owned)
        .or_else(|| parsed.query().map(str::to_owned))
        .unwrap_or_default();
    let params: Vec<(String, String)> = url::form_urlencoded::parse(source.as_bytes())
        .into_owned()
        .collect();
    run_log::saw_form(&params);
    params
}

pub fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

impl TestApp {
    /// A fresh browser: its own cookie jar, no redirects followed.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap()
    }

    pub fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') {
            self.url(location)
        } else {
            location.to_owned()
        }
    }

    /// A fresh browser opens `url` (absolute, or a path here), which sends it
    /// to sign in; it signs in and follows the way back. The browser, and
    /// the page it lands on.
    pub async fn signed_in_at(
        &self,
        url: &str,
        login: &str,
        password: &str,
    ) -> (reqwest::Client, Response) {
        let browser = self.browser();
        let first = browser.get(self.absolute(url)).send().await.unwrap();
        assert_eq!(first.status(), StatusCode::SEE_OTHER, "sign in first");
        let signed_in = self
            .sign_in(&browser, &location(&first), login, password)
            .await;
        let landed = self.follow(&browser, signed_in).await;
        (browser, landed)
    }

    /// Starts an authorization in `browser` with the given parameters.
    pub async fn authorize(&self, browser: &reqwest::Client, params: &[(&str, &str)]) -> Response {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        browser
            .get(self.url(&format!("/api/rest/oauth2/auth?{query}")))
            .send()
            .await
            .unwrap()
    }

    /// Posts a form of `page` (its CSRF token and `return_to`, once each:
    /// every form of a page repeats them) with `fields` to `action`.
    pub async fn submit(
        &self,
        browser: &reqwest::Client,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let (status, html) = self.page(browser, page).await;
        assert_eq!(status, 200, "{page}: {html}");
        let mut form: Vec<(String, String)> = Vec::new();
        for (name, value) in hidden_inputs(&html) {
            let wanted = name == "csrf_token" || name == "return_to";
            if wanted && !form.iter().any(|(seen, _)| *seen == name) {
                form.push((name, value));
            }
        }
        form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        browser
            .post(self.url(action))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// A page as this browser gets it: status and HTML.
    pub async fn page(&self, browser: &reqwest::Client, path: &str) -> (u16, String) {
        let response = browser.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// From a redirect to the sign-in page: fill it in and submit; returns the answer to the POST.
    pub async fn sign_in(
        &self,
        browser: &reqwest::Client,
        login_location: &str,
        login: &str,
        password: &str,
    ) -> Response {
        let page = browser
            .get(self.absolute(login_location))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains(r#"type="password""#),
            "a sign-in form: {html}"
        );
        let mut form = form_inputs(&html, "/login");
        form.push(("login".into(), login.into()));
        form.push(("password".into(), password.into()));
        browser
            .post(self.url("/login"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Follows 303s within idhub until a page or a redirect elsewhere.
    pub async fn follow(&self, browser: &reqwest::Client, mut response: Response) -> Response {
        while response.status() == StatusCode::SEE_OTHER {
            let next = location(&response);
            if !next.starts_with('/') && !next.starts_with(&self.address) {
                break;
            }
            response = browser.get(self.absolute(&next)).send().await.unwrap();
        }
        response
    }

    /// Submits the consent page's form with Allow or Deny.
    pub async fn decide(
        &self,
        browser: &reqwest::Client,
        consent_page: Response,
        decision: &str,
    ) -> Response {
        let html = consent_page.text().await.unwrap();
        assert!(
            html.contains(">Allow<") && html.contains(">Deny<"),
            "a consent page: {html}"
        );
        let mut form = hidden_inputs(&html);
        form.push(("decision".into(), decision.into()));
        browser
            .post(self.url("/api/rest/oauth2/auth/consent"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// A client with one redirect URI; returns `(id, secret)`.
    pub async fn web_client(
        &self,
        redirect_uri: &str,
        extra: serde_json::Value,
    ) -> (String, String) {
        let mut body = json!({"redirectUris": [redirect_uri]});
        if let (Some(target), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            target.extend(extra.clone());
        }
        self.service_with(body).await
    }
}
