//! The real `inkan-tsa` binary as a child process: started with JSON logs, ready when its
//! "inkan-tsa listening" line names the address; stopped with SIGTERM or killed with SIGKILL.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_inkan-tsa")
}

pub struct TsaProcess {
    pub child: Child,
    pub addr: SocketAddr,
    pub stdout: Arc<Mutex<String>>,
    pub stderr: Arc<Mutex<String>>,
}

fn pump(
    r: impl Read + Send + 'static,
    buf: Arc<Mutex<String>>,
    lines: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            buf.lock().unwrap().push_str(&line);
            buf.lock().unwrap().push('\n');
            if let Some(tx) = &lines {
                let _ = tx.send(line);
            }
        }
    });
}

impl TsaProcess {
    /// `inkan-tsa serve ARGS` in `cwd`; waits (up to 60 s) for the listening line.
    pub fn start(args: &[&str], cwd: &Path) -> Self {
        Self::start_env(args, cwd, &[])
    }

    /// `inkan-tsa serve` in `pki` with its `tsa.key` and `chain.pem` (as [`super::make_pki`]
    /// writes them), policy 1.2.3.4.1, accuracy 500 ms and data in `data`, on 127.0.0.1:0,
    /// with the extra environment variables `env`.
    pub fn start_with_pki(pki: &Path, data: &Path, env: &[(&str, &str)]) -> Self {
        let key = pki.join("tsa.key");
        let chain = pki.join("chain.pem");
        let args = [
            "--listen",
            "127.0.0.1:0",
            "--key",
            key.to_str().unwrap(),
            "--cert-chain",
            chain.to_str().unwrap(),
            "--policy",
            "1.2.3.4.1",
            "--accuracy-ms",
            "500",
            "--data-dir",
            data.to_str().unwrap(),
        ];
        Self::start_env(&args, pki, env)
    }

    /// [`TsaProcess::start`] with extra environment variables (e.g. libfaketime's).
    pub fn start_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(bin())
            .arg("serve")
            .args(args)
            .current_dir(cwd)
            .envs(env.iter().copied())
            .env("INKAN_LOG_FORMAT", "json")
            .env("INKAN_LOG", "warn,inkan_tsa=info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("inkan-tsa starts");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        pump(child.stdout.take().unwrap(), stdout.clone(), None);
        pump(child.stderr.take().unwrap(), stderr.clone(), Some(tx));
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                        continue;
                    };
                    if v["fields"]["message"] == "inkan-tsa listening" {
                        let addr = v["fields"]["addr"]
                            .as_str()
                            .expect("addr field")
                            .parse()
                            .unwrap();
                        return Self {
                            child,
                            addr,
                            stdout,
                            stderr,
                        };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait();
                    panic!(
                        "inkan-tsa {args:?} did not start ({status:?}):\n{}",
                        stderr.lock().unwrap()
                    );
                }
            }
        }
    }

    /// SIGTERM and wait; returns whether it exited 0.
    pub fn stop(mut self) -> bool {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let status = self.child.wait().unwrap();
        status.success()
    }

    /// SIGKILL and wait.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for TsaProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `inkan-tsa records ARGS`: (exit code, stdout).
pub fn records(args: &[&str]) -> (i32, String) {
    let out = Command::new(bin())
        .arg("records")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
