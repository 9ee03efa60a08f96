//! The support console for tests that need it running: `flspost serve` on a free loopback
//! port, and a real browser on it (Debian's headless Chromium over `chromedriver`, from
//! `scripts/test-deps.sh`, driven with fantoccini and kept off every network but loopback).
//! `console` tests its pages; `certification` photographs a step's message page.

use super::{ensure_tool, free_port, World};
use fantoccini::{Client as Browser, Locator};
use std::io::{BufRead, Read};
use std::path::Path;
use std::process::{Child, Stdio};

/// `flspost serve` on a free loopback port, stopped (SIGTERM) when dropped.
pub struct Server {
    #[allow(dead_code)]
    pub url: String,
    pub addr: String,
    child: Child,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    pub fn start(w: &World, cfg: &Path) -> Server {
        Server::try_start(w, cfg).unwrap_or_else(|(code, err)| panic!("serve exited {code}: {err}"))
    }

    /// The server, or how it exited and what it said when it did not start.
    pub fn try_start(w: &World, cfg: &Path) -> Result<Server, (i32, String)> {
        let mut text = std::fs::read_to_string(cfg).unwrap();
        if !text.contains("[server]") {
            text.push_str("\n[server]\nlisten = \"127.0.0.1:0\"\n");
            std::fs::write(cfg, text).unwrap();
        }
        let mut child = w
            .cmd()
            .args(["serve", "--config", cfg.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            if err.read_line(&mut line).unwrap() == 0 {
                let code = child.wait().unwrap().code().unwrap_or(-1);
                return Err((code, seen));
            }
            seen.push_str(&line);
            if let Some(url) = line.split("url=").nth(1).or_else(|| line.split("\"url\":\"").nth(1)) {
                let url = url.trim().trim_end_matches(['"', '}']).trim_end_matches('/').to_string();
                let addr = url.split("://").nth(1).unwrap().to_string();
                let stderr = std::sync::Arc::new(std::sync::Mutex::new(seen));
                let keep = stderr.clone();
                std::thread::spawn(move || {
                    let mut rest = String::new();
                    let _ = err.read_to_string(&mut rest);
                    keep.lock().unwrap().push_str(&rest);
                });
                return Ok(Server { url, addr, child, stderr });
            }
        }
    }

    /// SIGTERM, then its exit code and everything it logged.
    pub fn stop(mut self) -> (i32, String) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let log = self.stderr.lock().unwrap().clone();
        (code, log)
    }

    /// The server's process id (to send it a signal of one's own).
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
            let _ = self.child.wait();
        }
    }
}

/// chromedriver on a free loopback port, stopped when dropped.
pub struct Driver {
    pub url: String,
    child: std::process::Child,
}

impl Driver {
    pub fn start() -> Driver {
        let exe = ensure_tool("chromedriver", "chromium-driver");
        ensure_tool("chromium", "chromium");
        let port = free_port();
        let child = std::process::Command::new(exe)
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Driver { url: format!("http://127.0.0.1:{port}"), child };
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("chromedriver did not start");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session, its profile in `profile`.
pub async fn browser(driver: &Driver, profile: &std::path::Path) -> Browser {
    let args = [
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--window-size=1366,1000".into(),
        format!("--user-data-dir={}", profile.display()),
        // Off the network: every name resolves to nothing but loopback, no background
        // services, no first-run or sync traffic.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--no-default-browser-check".into(),
        "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication".into(),
    ];
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args },
    }))
    .unwrap();
    fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// Signs in through the login form and waits for the summary.
pub async fn sign_in(b: &Browser, base: &str, who: (&str, &str)) {
    b.goto(&format!("{base}/login")).await.unwrap();
    b.find(Locator::Css("input[name=name]")).await.unwrap().send_keys(who.0).await.unwrap();
    b.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(who.1).await.unwrap();
    click(b, "form.login button").await;
    if let Err(e) =
        b.wait().at_most(std::time::Duration::from_secs(10)).for_element(Locator::Css("nav a[href='/queue']")).await
    {
        panic!("not signed in ({e}): {}\n{}", b.current_url().await.unwrap(), b.source().await.unwrap());
    }
    assert_eq!(b.current_url().await.unwrap().path(), "/", "signed in, on the summary");
}

/// The browser's window as a PNG.
pub async fn png(b: &Browser) -> Vec<u8> {
    let png = b.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    png
}

/// Clicks what `css` finds and waits for the page it leads to (a link or a form's submit).
pub async fn click(b: &Browser, css: &str) {
    let before = b.current_url().await.unwrap();
    b.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
    for _ in 0..200 {
        if b.current_url().await.unwrap() != before {
            b.wait().for_element(Locator::Css("body")).await.unwrap();
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{css} led nowhere from {before}");
}

/// The text of the page's `main`.
pub async fn text(b: &Browser) -> String {
    b.find(Locator::Css("main")).await.unwrap().text().await.unwrap()
}
