//! A real headless browser for tests of pages: Debian's Chromium driven through ChromeDriver
//! with the W3C WebDriver protocol (JSON over HTTP on loopback, so no client crate is needed).
//!
//! `.ci/run` installs `chromium` and `chromium-driver`. When they are missing, a test under CI
//! (`CI` set to anything) panics; elsewhere it gets `None` (see `requires` for the harness).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// How long one WebDriver command may take (a cold Chromium start on a busy 2-core machine
/// takes seconds).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A headless Chromium session; the browser and its driver end when this is dropped.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// One WebDriver exchange: `Connection: close`, the body read to its `Content-Length`.
fn exchange(port: u16, method: &str, path: &str, body: Option<&Value>) -> std::io::Result<Value> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(COMMAND_TIMEOUT))?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    )?;
    let mut reader = BufReader::new(stream);
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let mut raw = Vec::new();
    match length {
        Some(n) => {
            raw.resize(n, 0);
            reader.read_exact(&mut raw)?;
        }
        None => {
            reader.read_to_end(&mut raw)?;
        }
    }
    serde_json::from_slice(&raw)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// ChromeDriver and Chromium on `PATH`, or why they cannot be used.
pub fn programs() -> Result<(PathBuf, PathBuf), String> {
    match (
        find(&["chromedriver"]),
        find(&["chromium", "chromium-browser", "google-chrome"]),
    ) {
        (Some(driver), Some(chromium)) => Ok((driver, chromium)),
        _ => Err(
            "Chromium and ChromeDriver are not installed (on Debian: `apt-get install \
                  chromium chromium-driver`; `.ci/run` does this)"
                .to_owned(),
        ),
    }
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium session, or `None` (outside CI) when they
    /// are not installed.
    pub fn start(test: &str) -> Option<Self> {
        let (driver, chromium) = match programs() {
            Ok(found) => found,
            Err(why) => {
                let message = format!("{test}: {why}");
                if crate::ci::ci() {
                    panic!("{message}");
                }
                eprintln!("NOT RUN: {message}");
                return None;
            }
        };
        let port = free_port().expect("a free loopback port");
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut browser = Self {
            driver,
            port,
            session: String::new(),
        };
        let started = Instant::now();
        while exchange(port, "GET", "/status", None).is_err() {
            assert!(
                started.elapsed() < COMMAND_TIMEOUT,
                "chromedriver did not answer on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let created = browser.command(
            "POST",
            "/session",
            &json!({"capabilities": {"alwaysMatch": {
                "goog:chromeOptions": {
                    "binary": chromium,
                    // No sandbox: CI runs as root in a container. A laptop-sized window.
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--window-size=1280,900"],
                },
            }}}),
        );
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_owned();
        Some(browser)
    }

    /// A WebDriver command; panics with the driver's error.
    fn command(&self, method: &str, path: &str, body: &Value) -> Value {
        let body = (!body.is_null()).then_some(body);
        let answer = exchange(self.port, method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let value = answer["value"].clone();
        if let Some(error) = value.get("error") {
            panic!("WebDriver {method} {path}: {error}: {}", value["message"]);
        }
        value
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}/{rest}", self.session)
    }

    /// Loads `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.command("POST", &self.session_path("url"), &json!({"url": url}));
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub fn execute(&self, script: &str) -> Value {
        self.command(
            "POST",
            &self.session_path("execute/sync"),
            &json!({"script": script, "args": []}),
        )
    }

    /// Polls `script` until it returns `true`; fails the test naming `what` after `limit`.
    pub fn wait_for(&self, what: &str, limit: Duration, script: &str) {
        let started = Instant::now();
        while self.execute(script) != Value::Bool(true) {
            assert!(
                started.elapsed() < limit,
                "timed out waiting in the browser for: {what}\npage text:\n{}",
                self.execute("return document.body.innerText")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Saves a PNG screenshot of the page to `path`.
    pub fn screenshot(&self, path: &Path) {
        let encoded = self.command("GET", &self.session_path("screenshot"), &Value::Null);
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("the screenshot is base64");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("screenshot folder");
        }
        std::fs::write(path, png).expect("screenshot written");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = exchange(
                self.port,
                "DELETE",
                &format!("/session/{}", self.session),
                None,
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
