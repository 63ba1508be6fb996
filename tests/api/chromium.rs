//! A headless Chromium for the browser tests, driven by chromedriver
//! (fantoccini). Needs Debian's chromium + chromium-driver; .ci/run installs
//! them and sets IDHUB_BROWSER_TESTS=required. Elsewhere a browser test says
//! it is skipped, unless that variable requires it.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether to run: Chromium, chromedriver and `extra` files are present.
/// Panics when CI requires the browser tests and a piece is missing.
pub fn prerequisites_present(extra: &[PathBuf]) -> bool {
    let missing: Vec<String> = [
        Path::new(CHROMEDRIVER).to_path_buf(),
        Path::new(CHROMIUM).to_path_buf(),
    ]
    .iter()
    .chain(extra)
    .filter(|p| !p.exists())
    .map(|p| p.display().to_string())
    .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("IDHUB_BROWSER_TESTS").as_deref() == Ok("required") {
        panic!("browser test required but missing: {missing:?}");
    }
    crate::helpers::skipped(&format!("browser test needs {missing:?} (see .ci/run)"));
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Driver {
    process: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

pub async fn start_chromedriver() -> Driver {
    let port = free_port();
    let process = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    // Dropping the Driver kills and reaps the process, on every path.
    let driver = Driver {
        process,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not listen");
}

pub async fn browser(driver: &Driver) -> Client {
    let profile = tempfile::tempdir().unwrap().keep();
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--hide-scrollbars", "--force-device-scale-factor=1",
                     format!("--user-data-dir={}", profile.display())],
        }
    });
    let capabilities = capabilities
        .as_object()
        .unwrap()
        .clone()
        .into_iter()
        .collect();
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

pub const WAIT: Duration = Duration::from_secs(15);

pub async fn click(chrome: &Client, css: &str) {
    chrome
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

pub async fn fill(chrome: &Client, css: &str, text: &str) {
    chrome
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

/// Picks the option of select `css` whose text contains `text`.
pub async fn choose(chrome: &Client, css: &str, text: &str) {
    let select = chrome
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    let option = select
        .find(Locator::XPath(&format!("option[contains(., '{text}')]")))
        .await
        .unwrap_or_else(|e| panic!("{css} has no option '{text}': {e}"));
    option.click().await.unwrap();
}

pub async fn wait_for(chrome: &Client, xpath: &str) {
    chrome
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("{xpath}: {e}"));
}

pub async fn screenshot(chrome: &Client, name: &str) {
    let png = chrome.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut targets = vec![root.join("target/screenshots")];
    if std::env::var("IDHUB_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        targets.push(root.join("docs/images"));
    }
    for dir in targets {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    }
}

/// chromedriver's WebAuthn endpoint `path` of this session (the W3C
/// WebAuthn WebDriver extension, which chromedriver runs through CDP's
/// `WebAuthn` domain).
async fn webauthn(driver: &Driver, chrome: &Client, path: &str) -> String {
    let session = chrome
        .session_id()
        .await
        .unwrap()
        .expect("a WebDriver session");
    format!("{}/session/{session}/webauthn/{path}", driver.url)
}

/// Gives the browser a virtual passkey authenticator (CTAP2, built in,
/// discoverable credentials, user verification that always succeeds):
/// CDP's `WebAuthn.addVirtualAuthenticator`. Returns its id.
pub async fn add_virtual_authenticator(driver: &Driver, chrome: &Client) -> String {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(webauthn(driver, chrome, "authenticator").await)
        .json(&json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserConsenting": true,
            "isUserVerified": true,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["value"]
        .as_str()
        .unwrap_or_else(|| panic!("a virtual authenticator: {answer}"))
        .to_owned()
}

/// The credentials the virtual authenticator holds.
pub async fn authenticator_credentials(
    driver: &Driver,
    chrome: &Client,
    authenticator: &str,
) -> Vec<serde_json::Value> {
    let path = format!("authenticator/{authenticator}/credentials");
    let answer: serde_json::Value = reqwest::Client::new()
        .get(webauthn(driver, chrome, &path).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["value"].as_array().cloned().unwrap_or_default()
}
