//! Starting the real binary and talking to it.

use rathaus_storage::testing::TestDatabase;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// Path of the binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_rathaus");

/// A running `rathaus demo` with its own database.
pub struct Server {
    pub url: String,
    db: Option<TestDatabase>,
    pub client: reqwest::Client,
    child: Child,
}

impl Server {
    /// Starts `rathaus demo` on a free port with a fresh database of the given backend.
    pub async fn demo(backend: &str) -> Self {
        let db = TestDatabase::new(backend).await.expect("test database");
        Self::start(db, "demo", &[])
    }

    /// Starts `rathaus <command>` with extra environment variables.
    pub fn start(db: TestDatabase, command: &str, env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.args([command, "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&db.dir);
        cmd.env("RATHAUS_DATABASE_URL", &db.url)
            .env("RUST_LOG", "warn");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rathaus");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(i) = line.find("http://") {
                    let _ = tx.send(line[i..].trim_end_matches('/').to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server did not report readiness");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            url,
            db: Some(db),
            client,
            child,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// A staff token from the CLI, as an operator would get one.
    pub fn token(&self, tenant: &str, user: &str, role: &str) -> String {
        let out = self.cli(&[
            "staff", "token", "--tenant", tenant, "--user", user, "--office", "Hauptamt", "--role",
            role,
        ]);
        assert!(
            out.status.success(),
            "staff token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.lines().count(), 1, "exactly one line: {text:?}");
        text.trim().to_owned()
    }

    /// Runs a CLI command against this server's data dir and database.
    pub fn cli(&self, args: &[&str]) -> Output {
        run_cli(self.db(), args)
    }

    /// The database (and data dir) of this server.
    pub fn db(&self) -> &TestDatabase {
        self.db.as_ref().expect("database")
    }

    /// Sends SIGTERM, waits for the exit status and hands back the database for a restart.
    pub fn terminate(mut self) -> (std::process::ExitStatus, TestDatabase) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().expect("wait");
        (status, self.db.take().expect("database"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `rathaus ARGS --data-dir DIR` with the database of `db`.
pub fn run_cli(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(&db.dir)
        .env("RATHAUS_DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run rathaus")
}

impl Server {
    /// Announces a body of `len` bytes with `Expect: 100-continue` (as curl does for large
    /// uploads) and returns the status line and body the server answers with before any body
    /// byte is sent. Shows that oversized bodies are refused by their declared length.
    pub async fn oversized(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        len: usize,
    ) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.url.trim_start_matches("http://").to_owned();
        let mut stream = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {len}\r\nExpect: 100-continue\r\nConnection: close\r\n"
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.expect("write");
        // Read one complete response (headers, then Content-Length bytes); the server may keep
        // the connection open waiting for the body we never send.
        let mut buf = Vec::new();
        let read = async {
            let mut chunk = [0u8; 4096];
            loop {
                let n = stream.read(&mut chunk).await.expect("read");
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("answer in time");
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }
}

impl Server {
    /// Opens a page with a form as a browser would: returns the CSRF cookie (`name=value`) and
    /// the token from the hidden field.
    pub async fn form_session(&self, path: &str) -> (String, String) {
        let page = self.get(path).await;
        let cookie = page.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let html = page.text().await.unwrap();
        let token = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        (cookie, token)
    }
}

impl Server {
    /// `GET path` with a staff token.
    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
    }

    /// `GET path` with a staff token, expecting 200 and JSON.
    pub async fn json_as(&self, token: &str, path: &str) -> serde_json::Value {
        let res = self.get_as(token, path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("JSON")
    }
}

/// Status, `Location` and body of an answer.
pub struct Answer {
    pub status: u16,
    pub location: String,
    pub body: String,
}

/// A minimal browser: keeps cookies by name, follows no redirects.
pub struct Browser<'a> {
    s: &'a Server,
    pub cookies: std::collections::BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(s: &'a Server) -> Self {
        Self {
            s,
            cookies: Default::default(),
        }
    }

    /// The `Cookie` header with every cookie kept.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// GET of a binary download with the kept cookies: status, `Content-Type`, bytes.
    pub async fn download(&mut self, path: &str) -> (u16, String, Vec<u8>) {
        let res = self
            .s
            .client
            .get(self.s.url(path))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, ct, res.bytes().await.unwrap().to_vec())
    }

    /// GET of a path of the server or of an absolute URL.
    pub async fn get(&mut self, path_or_url: &str) -> Answer {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            self.s.url(path_or_url)
        };
        let req = self.s.client.get(url);
        self.send(req).await
    }

    /// POST of a form (`application/x-www-form-urlencoded`).
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let req = self.s.client.post(self.s.url(path)).form(form);
        self.send(req).await
    }

    /// Logs in to the Servicekonto with the password form; `weiter` is where it returns to.
    pub async fn sign_in(&mut self, email: &str, password: &str, weiter: &str) -> Answer {
        let page = self.get("/anmelden").await.body;
        self.post(
            "/anmelden",
            &[
                ("csrf", &input(&page, "csrf")),
                ("weiter", weiter),
                ("email", email),
                ("passwort", password),
            ],
        )
        .await
    }

    /// Sends a request with the cookies and keeps the ones set by the answer.
    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let res = req
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        for v in res.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        Answer {
            status,
            location,
            body: res.text().await.unwrap(),
        }
    }
}

/// The value of the hidden or text input `name` in a page (entities decoded).
pub fn input(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let raw = html
        .split(&marker)
        .nth(1)
        .unwrap_or_else(|| panic!("no input {name} in {html}"))
        .split('"')
        .next()
        .unwrap();
    raw.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// The text of a PDF by poppler's `pdftotext`, after `qpdf --check` passed and `pdfinfo` found
/// it tagged (tools from the `poppler-utils` and `qpdf` packages; `.ci/run` installs them).
pub fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let run = |cmd: &str, args: &[&str]| {
        let out = std::process::Command::new(cmd)
            .args(args)
            .arg(&file)
            .args(if cmd == "pdftotext" {
                &["-"][..]
            } else {
                &[][..]
            })
            .output()
            .unwrap_or_else(|e| {
                panic!("{cmd} is missing (apt-get install poppler-utils qpdf): {e}")
            });
        assert!(
            out.status.success(),
            "{cmd} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run("qpdf", &["--check"]);
    let info = run("pdfinfo", &[]);
    assert!(
        info.lines()
            .any(|l| l.starts_with("Tagged:") && l.trim_end().ends_with("yes")),
        "{info}"
    );
    run("pdftotext", &["-layout"])
}
