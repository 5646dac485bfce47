//! Configuration: a TOML file (every key documented in `tsa/inkan-tsa.example.toml`, unknown keys
//! refused) overridden by command-line flags, resolved once into a typed [`Settings`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use const_oid::ObjectIdentifier;
use serde::Deserialize;

/// The policy OID `--dev` uses when none is configured: `1.2.3.4.1`, the example policy of
/// OpenSSL's sample `openssl.cnf` (`tsa_policy1`), recognisable as a placeholder and never a
/// production policy.
pub const DEV_POLICY: &str = "1.2.3.4.1";

/// The default data directory (relative to the working directory) when neither the file nor a
/// flag names one. A service unit sets `WorkingDirectory` or `data_dir`; a developer finds the
/// files beside where they ran the command.
pub const DEFAULT_DATA_DIR: &str = "inkan-tsa-data";

/// The records store's default page cache, MiB (redb's own default is 1 GiB, which a busy
/// TSA fills: resident memory grew by hundreds of MB under load).
pub const DEFAULT_STORE_CACHE_MB: usize = 64;

/// The default listen address (the contract: `--dev` listens on 127.0.0.1:3161).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3161";

/// The TOML file as written. Every key is optional; flags override them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Listen address `ADDR:PORT`.
    pub listen: Option<String>,
    /// Data directory (records store, development PKI).
    pub data_dir: Option<PathBuf>,
    /// Shared records store `postgresql://USER@HOST[:PORT]/DB` (default: the embedded store).
    pub store: Option<String>,
    /// KEYREF: PKCS#8 PEM path or `pkcs11:` URI.
    pub key: Option<String>,
    /// PEM file: the TSA certificate first, then (optionally) its issuers.
    pub cert_chain: Option<PathBuf>,
    /// Default TSA policy OID.
    pub policy: Option<String>,
    /// Further policy OIDs a client may request.
    pub accepted_policies: Option<Vec<String>>,
    /// Declared accuracy in milliseconds (1..=1000).
    pub accuracy_ms: Option<u64>,
    /// Put the TSA certificate's subject in `TSTInfo.tsa`.
    pub include_tsa_name: Option<bool>,
    /// With `certReq`, also include the issuers from `cert_chain` (default true).
    pub include_chain: Option<bool>,
    /// RSA signature scheme: `"pkcs1"` (default) or `"pss"`.
    pub rsa_scheme: Option<String>,
    /// Instance id (0..=65535), distinct for every instance sharing a TSA certificate.
    pub instance_id: Option<u16>,
    /// SNTP servers `HOST[:PORT]`.
    pub ntp_servers: Option<Vec<String>>,
    /// SNTP poll interval in milliseconds.
    pub ntp_poll_ms: Option<u64>,
    /// How long a measurement counts as fresh, in milliseconds (default 3 poll intervals).
    pub ntp_freshness_ms: Option<u64>,
    /// Per-query SNTP timeout in milliseconds.
    pub ntp_timeout_ms: Option<u64>,
    /// Leap-second policy: `"refuse"` (default) or `"ignore"`.
    pub leap_policy: Option<String>,
    /// Seconds either side of a announced leap second during which `"refuse"` issues nothing.
    pub leap_window_s: Option<u64>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: Option<usize>,
    /// Time allowed to read a request's headers, in milliseconds.
    pub header_read_timeout_ms: Option<u64>,
    /// Time allowed for a whole request, in milliseconds.
    pub request_timeout_ms: Option<u64>,
    /// Most connections served at once; further ones wait in the kernel backlog.
    pub max_connections: Option<usize>,
    /// Most records committed in one group commit.
    pub max_batch: Option<usize>,
    /// Signing threads (default: the number of CPUs, at least 2).
    pub signing_threads: Option<usize>,
    /// Threads of the async runtime that serves HTTP (default: half the CPUs, at least 1).
    pub runtime_threads: Option<usize>,
    /// Under load, the least time between two group commits, in milliseconds (default 0:
    /// commit as soon as the previous commit returns, holding a group only while the signing
    /// threads are saturated; see `records`).
    pub commit_interval_ms: Option<u64>,
    /// Grace period for in-flight requests at shutdown, in milliseconds.
    pub shutdown_grace_ms: Option<u64>,
    /// A connection with no request in flight for this long is closed, in milliseconds
    /// (HTTP/1.1 keep-alive and HTTP/2 alike).
    pub idle_timeout_ms: Option<u64>,
    /// HTTP/2 keep-alive: a PING after this much silence from the client, in milliseconds;
    /// no answer within the same time closes the connection (0: no pings).
    pub http2_keep_alive_ms: Option<u64>,
    /// Most requests waiting for a signing thread; past it a request is rejected at once with
    /// systemFailure.
    pub max_queue: Option<usize>,
    /// Keep each issued token (DER) with its record.
    pub keep_tokens: Option<bool>,
    /// Interval of the clock measurements and rejection counts written to the events, in
    /// seconds (0: none).
    pub clock_record_interval_s: Option<u64>,
    /// Page cache of the records store, in MiB.
    pub store_cache_mb: Option<usize>,
}

/// Command-line overrides (`serve` flags).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--listen ADDR:PORT`.
    pub listen: Option<String>,
    /// `--key KEYREF`.
    pub key: Option<String>,
    /// `--cert-chain PEM`.
    pub cert_chain: Option<PathBuf>,
    /// `--policy OID`.
    pub policy: Option<String>,
    /// `--accuracy-ms N`.
    pub accuracy_ms: Option<u64>,
    /// `--data-dir DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--store URL`.
    pub store: Option<String>,
    /// `--dev`.
    pub dev: bool,
    /// `--ntp HOST[:PORT]`, repeatable.
    pub ntp: Vec<String>,
    /// `--ntp-poll-ms N`.
    pub ntp_poll_ms: Option<u64>,
}

/// What to do around an announced leap second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeapPolicy {
    /// Issue nothing within `leap_window` of the leap (the default: a token stamped inside the
    /// window cannot be placed on UTC unambiguously by every verifier).
    RefuseInWindow,
    /// Issue throughout; the host clock's own leap handling (step or smear) applies.
    Ignore,
}

/// RSA signature scheme for the TSA key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RsaScheme {
    /// RSASSA-PKCS1-v1_5 (default: OpenSSL 3.0 `ts -verify` rejects PSS tokens).
    Pkcs1,
    /// RSASSA-PSS.
    Pss,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Shared records store URL (`None`: the embedded store under `data_dir`).
    pub store: Option<String>,
    /// KEYREF (`None` with `--dev`: the development key is used).
    pub key: Option<String>,
    /// Certificate chain PEM (`None` with `--dev`).
    pub cert_chain: Option<PathBuf>,
    /// Default policy.
    pub policy: ObjectIdentifier,
    /// Every policy a request may name (the default first).
    pub accepted_policies: Vec<ObjectIdentifier>,
    /// Declared accuracy.
    pub accuracy: Duration,
    /// Include `TSTInfo.tsa`.
    pub include_tsa_name: bool,
    /// Include the chain (not only the TSA certificate) when `certReq` (default: a relying
    /// party that trusts only the root can then validate the token, as with the public TSAs
    /// of DigiCert and GlobalSign).
    pub include_chain: bool,
    /// RSA scheme.
    pub rsa_scheme: RsaScheme,
    /// Instance id.
    pub instance_id: u16,
    /// SNTP servers as given (`HOST[:PORT]`).
    pub ntp_servers: Vec<String>,
    /// Poll interval.
    pub ntp_poll: Duration,
    /// Freshness window.
    pub ntp_freshness: Duration,
    /// Per-query timeout.
    pub ntp_timeout: Duration,
    /// Leap policy.
    pub leap_policy: LeapPolicy,
    /// Leap window either side of the leap.
    pub leap_window: Duration,
    /// Body limit.
    pub max_body_bytes: usize,
    /// Header read timeout.
    pub header_read_timeout: Duration,
    /// Request timeout.
    pub request_timeout: Duration,
    /// Connection limit.
    pub max_connections: usize,
    /// Group-commit batch limit.
    pub max_batch: usize,
    /// Signing threads.
    pub signing_threads: usize,
    /// HTTP runtime threads.
    pub runtime_threads: usize,
    /// Least time between two group commits under load (zero: none, the default).
    pub commit_interval: Duration,
    /// Shutdown grace.
    pub shutdown_grace: Duration,
    /// Idle connection timeout.
    pub idle_timeout: Duration,
    /// HTTP/2 keep-alive ping interval (and timeout); `None`: no pings.
    pub http2_keep_alive: Option<Duration>,
    /// Signing queue bound.
    pub max_queue: usize,
    /// Keep issued tokens with their records.
    pub keep_tokens: bool,
    /// Interval of the periodic clock and rejection events (`None`: none).
    pub clock_record_interval: Option<Duration>,
    /// Records store page cache, bytes.
    pub store_cache_bytes: usize,
    /// Development mode.
    pub dev: bool,
}

/// A configuration the operator must fix; the message names the key and the bad value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

impl FileConfig {
    /// Parses TOML text; unknown keys are errors.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| {
            // Name the key the error is about (the text of its line before `=`), then the
            // parser's own words, so that the operator knows which setting to fix.
            let at = e.span().map(|sp| {
                let start = text[..sp.start.min(text.len())]
                    .rfind('\n')
                    .map_or(0, |i| i + 1);
                let line_no = text[..start].matches('\n').count() + 1;
                let line = text[start..].lines().next().unwrap_or("");
                (
                    line_no,
                    line.split('=').next().unwrap_or("").trim().to_owned(),
                )
            });
            match at {
                Some((n, key)) if !key.is_empty() && !key.starts_with('[') => {
                    ConfigError(format!("{key} (line {n}): {}", e.message().trim()))
                }
                Some((n, _)) => ConfigError(format!("line {n}: {}", e.message().trim())),
                None => ConfigError(format!("configuration: {}", e.message().trim())),
            }
        })
    }

    /// Reads and parses a file. Relative paths in it (`data_dir`, `cert_chain`, and `key` when
    /// it is a file rather than a `pkcs11:` URI) are resolved from the file's folder, so that
    /// the configuration means the same whatever the working directory of the service.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        let mut f =
            Self::parse(&text).map_err(|e| ConfigError(format!("{}: {}", path.display(), e.0)))?;
        let base = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => {
                std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
            }
            _ => std::env::current_dir().unwrap_or_default(),
        };
        f.resolve_paths(&base);
        Ok(f)
    }

    /// Makes the relative paths of the file absolute from `base` (its folder).
    pub fn resolve_paths(&mut self, base: &Path) {
        let from = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = self.data_dir.as_mut() {
            from(p);
        }
        if let Some(p) = self.cert_chain.as_mut() {
            from(p);
        }
        if let Some(k) = self.key.as_mut()
            && !k.starts_with("pkcs11:")
            && Path::new(k.as_str()).is_relative()
        {
            *k = base.join(k.as_str()).display().to_string();
        }
    }
}

fn oid(key: &str, s: &str) -> Result<ObjectIdentifier, ConfigError> {
    ObjectIdentifier::new(s.trim()).map_err(|_| ConfigError(format!("{key}: not an OID: {s:?}")))
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Resolves the file (if any) and the flags into [`Settings`].
pub fn resolve(file: FileConfig, o: &Overrides) -> Result<Settings, ConfigError> {
    let listen_s = o
        .listen
        .clone()
        .or(file.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let listen: SocketAddr = listen_s
        .parse()
        .map_err(|_| ConfigError(format!("listen: not ADDR:PORT: {listen_s:?}")))?;
    let data_dir = o
        .data_dir
        .clone()
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let store = o.store.clone().or(file.store);
    let key = o.key.clone().or(file.key);
    let cert_chain = o.cert_chain.clone().or(file.cert_chain);
    if !o.dev {
        if key.is_none() {
            return err("no key: give --key KEYREF (or `key` in the config file), or use --dev");
        }
        if cert_chain.is_none() {
            return err(
                "no certificate: give --cert-chain PEM (or `cert_chain` in the config file), or use --dev",
            );
        }
    } else if key.is_some() != cert_chain.is_some() {
        return err("--key and --cert-chain go together (with --dev, give both or neither)");
    }
    let policy_s = match o.policy.clone().or(file.policy) {
        Some(p) => p,
        None if o.dev => DEV_POLICY.to_owned(),
        None => return err("no policy: give --policy OID (or `policy` in the config file)"),
    };
    let policy = oid("policy", &policy_s)?;
    let mut accepted_policies = vec![policy];
    for p in file.accepted_policies.unwrap_or_default() {
        let p = oid("accepted_policies", &p)?;
        if !accepted_policies.contains(&p) {
            accepted_policies.push(p);
        }
    }
    let accuracy_ms = o.accuracy_ms.or(file.accuracy_ms).unwrap_or(1000);
    if !(1..=1000).contains(&accuracy_ms) {
        return err(format!(
            "accuracy_ms: {accuracy_ms} is outside 1..=1000 (EN 319 421 requires 1 s or better)"
        ));
    }
    let rsa_scheme = match file.rsa_scheme.as_deref() {
        None | Some("pkcs1") => RsaScheme::Pkcs1,
        Some("pss") => RsaScheme::Pss,
        Some(other) => return err(format!("rsa_scheme: {other:?} is not \"pkcs1\" or \"pss\"")),
    };
    // `--ntp none` (or `ntp_servers = ["none"]`) means no servers: the host clock is trusted.
    // It overrides the file's servers, and is never taken for a host name.
    let ntp_servers = if o.ntp.is_empty() {
        file.ntp_servers.unwrap_or_default()
    } else {
        o.ntp.clone()
    };
    let none = ntp_servers
        .iter()
        .filter(|n| n.trim().eq_ignore_ascii_case("none"))
        .count();
    let ntp_servers = match (none, ntp_servers.len()) {
        (0, _) => ntp_servers,
        (1, 1) => Vec::new(),
        _ => {
            return err(
                "ntp_servers: \"none\" (no servers, trust the host clock) cannot be combined with servers",
            );
        }
    };
    for n in &ntp_servers {
        if n.trim().is_empty() {
            return err("ntp_servers: an empty server name");
        }
    }
    let ntp_poll_ms = o.ntp_poll_ms.or(file.ntp_poll_ms).unwrap_or(16_000);
    if ntp_poll_ms < 10 {
        return err(format!("ntp_poll_ms: {ntp_poll_ms} is below 10"));
    }
    let ntp_freshness_ms = file
        .ntp_freshness_ms
        .unwrap_or_else(|| ntp_poll_ms.saturating_mul(3));
    if ntp_freshness_ms < ntp_poll_ms {
        return err("ntp_freshness_ms must be at least ntp_poll_ms");
    }
    let ntp_timeout_ms = file
        .ntp_timeout_ms
        .unwrap_or_else(|| ntp_poll_ms.clamp(10, 1000));
    let leap_policy = match file.leap_policy.as_deref() {
        None | Some("refuse") => LeapPolicy::RefuseInWindow,
        Some("ignore") => LeapPolicy::Ignore,
        Some(other) => {
            return err(format!(
                "leap_policy: {other:?} is not \"refuse\" or \"ignore\""
            ));
        }
    };
    let max_body_bytes = file.max_body_bytes.unwrap_or(16 * 1024);
    if max_body_bytes < 64 {
        return err("max_body_bytes must be at least 64");
    }
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let idle_timeout_ms = file.idle_timeout_ms.unwrap_or(30_000);
    if idle_timeout_ms < 10 {
        return err(format!("idle_timeout_ms: {idle_timeout_ms} is below 10"));
    }
    let h2_ka = file.http2_keep_alive_ms.unwrap_or(20_000);
    let max_queue = file.max_queue.unwrap_or(4096);
    if max_queue == 0 {
        return err("max_queue must be at least 1");
    }
    let cache_mb = file.store_cache_mb.unwrap_or(DEFAULT_STORE_CACHE_MB);
    if cache_mb == 0 || cache_mb > 1 << 20 {
        return err(format!("store_cache_mb: {cache_mb} is outside 1..=1048576"));
    }
    Ok(Settings {
        listen,
        data_dir,
        store,
        key,
        cert_chain,
        policy,
        accepted_policies,
        accuracy: ms(accuracy_ms),
        include_tsa_name: file.include_tsa_name.unwrap_or(false),
        include_chain: file.include_chain.unwrap_or(true),
        rsa_scheme,
        instance_id: file.instance_id.unwrap_or(0),
        ntp_servers,
        ntp_poll: ms(ntp_poll_ms),
        ntp_freshness: ms(ntp_freshness_ms),
        ntp_timeout: ms(ntp_timeout_ms),
        leap_policy,
        leap_window: Duration::from_secs(file.leap_window_s.unwrap_or(2)),
        max_body_bytes,
        header_read_timeout: ms(file.header_read_timeout_ms.unwrap_or(5_000)),
        request_timeout: ms(file.request_timeout_ms.unwrap_or(10_000)),
        max_connections: file.max_connections.unwrap_or(1024).max(1),
        max_batch: file.max_batch.unwrap_or(4096).max(1),
        signing_threads: file.signing_threads.unwrap_or(cpus.max(2)).max(1),
        runtime_threads: file.runtime_threads.unwrap_or(cpus.div_ceil(2)).max(1),
        commit_interval: ms(file.commit_interval_ms.unwrap_or(0)),
        shutdown_grace: ms(file.shutdown_grace_ms.unwrap_or(10_000)),
        idle_timeout: ms(idle_timeout_ms),
        http2_keep_alive: (h2_ka > 0).then(|| ms(h2_ka)),
        max_queue,
        keep_tokens: file.keep_tokens.unwrap_or(false),
        clock_record_interval: match file.clock_record_interval_s.unwrap_or(60) {
            0 => None,
            s => Some(Duration::from_secs(s)),
        },
        store_cache_bytes: cache_mb << 20,
        dev: o.dev,
    })
}

/// Loads `--config` (when given) and applies the overrides.
pub fn load(o: &Overrides) -> Result<Settings, ConfigError> {
    let file = match &o.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    resolve(file, o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_parses() {
        let text = include_str!("../inkan-tsa.example.toml");
        let file = FileConfig::parse(text).unwrap();
        let s = resolve(file, &Overrides::default()).unwrap();
        assert_eq!(s.accuracy, Duration::from_millis(500));
        assert_eq!(s.ntp_servers.len(), 3);
    }

    #[test]
    fn unknown_key_is_refused() {
        let e = FileConfig::parse("listne = \"127.0.0.1:1\"\n").unwrap_err();
        assert!(e.0.contains("listne"), "{e}");
        // A value of the wrong type names its key and line.
        let e = FileConfig::parse("policy = \"1.2.3\"\naccuracy_ms = \"x\"\n").unwrap_err();
        assert!(e.0.starts_with("accuracy_ms (line 2): "), "{e}");
    }

    #[test]
    fn flags_override_file() {
        let file = FileConfig::parse(
            "listen = \"127.0.0.1:1\"\npolicy = \"1.2.3\"\nkey = \"k.pem\"\ncert_chain = \"c.pem\"\nntp_servers = [\"a\"]\n",
        )
        .unwrap();
        let o = Overrides {
            listen: Some("127.0.0.1:2".into()),
            ntp: vec!["b".into(), "c".into()],
            accuracy_ms: Some(100),
            ..Overrides::default()
        };
        let s = resolve(file, &o).unwrap();
        assert_eq!(s.listen.port(), 2);
        assert_eq!(s.ntp_servers, vec!["b", "c"]);
        assert_eq!(s.accuracy, Duration::from_millis(100));
        assert_eq!(s.policy.to_string(), "1.2.3");
    }

    #[test]
    fn bad_values_name_the_key() {
        let o = Overrides {
            dev: true,
            accuracy_ms: Some(2000),
            ..Overrides::default()
        };
        assert!(
            resolve(FileConfig::default(), &o)
                .unwrap_err()
                .0
                .contains("accuracy_ms")
        );
        let o = Overrides {
            dev: true,
            policy: Some("x.y".into()),
            ..Overrides::default()
        };
        assert!(
            resolve(FileConfig::default(), &o)
                .unwrap_err()
                .0
                .contains("policy")
        );
        assert!(
            resolve(FileConfig::default(), &Overrides::default())
                .unwrap_err()
                .0
                .contains("--key")
        );
    }

    #[test]
    fn connection_queue_audit_and_cache_keys() {
        let o = Overrides {
            dev: true,
            ..Overrides::default()
        };
        let s = resolve(FileConfig::default(), &o).unwrap();
        assert_eq!(s.store_cache_bytes, DEFAULT_STORE_CACHE_MB << 20);
        assert_eq!(s.idle_timeout, Duration::from_secs(30));
        assert_eq!(s.http2_keep_alive, Some(Duration::from_secs(20)));
        assert_eq!(s.max_queue, 4096);
        assert!(!s.keep_tokens);
        assert_eq!(s.clock_record_interval, Some(Duration::from_secs(60)));
        let file = FileConfig::parse(
            "store_cache_mb = 16\nhttp2_keep_alive_ms = 0\nclock_record_interval_s = 0\nkeep_tokens = true\n",
        )
        .unwrap();
        let s = resolve(file, &o).unwrap();
        assert_eq!(s.store_cache_bytes, 16 << 20);
        assert_eq!(s.http2_keep_alive, None);
        assert_eq!(s.clock_record_interval, None);
        assert!(s.keep_tokens);
        for bad in ["store_cache_mb = 0", "max_queue = 0", "idle_timeout_ms = 1"] {
            let e = resolve(FileConfig::parse(bad).unwrap(), &o).unwrap_err();
            assert!(e.0.contains(bad.split(' ').next().unwrap()), "{e}");
        }
    }

    #[test]
    fn ntp_none_means_no_servers_and_paths_resolve_from_the_file() {
        let o = Overrides {
            dev: true,
            ntp: vec!["none".into()],
            ..Overrides::default()
        };
        let file = FileConfig::parse("ntp_servers = [\"a\", \"b\", \"c\"]\n").unwrap();
        assert!(resolve(file, &o).unwrap().ntp_servers.is_empty());
        let o = Overrides {
            dev: true,
            ntp: vec!["none".into(), "a".into()],
            ..Overrides::default()
        };
        let e = resolve(FileConfig::default(), &o).unwrap_err();
        assert!(e.0.contains("ntp_servers"), "{e}");

        let mut f = FileConfig::parse(
            "key = \"keys/tsa.key\"\ncert_chain = \"chain.pem\"\ndata_dir = \"/var/lib/x\"\n",
        )
        .unwrap();
        f.resolve_paths(Path::new("/etc/inkan"));
        assert_eq!(f.key.as_deref(), Some("/etc/inkan/keys/tsa.key"));
        assert_eq!(
            f.cert_chain.as_deref(),
            Some(Path::new("/etc/inkan/chain.pem"))
        );
        assert_eq!(f.data_dir.as_deref(), Some(Path::new("/var/lib/x")));
        let mut f = FileConfig::parse("key = \"pkcs11:token=t;object=k\"\n").unwrap();
        f.resolve_paths(Path::new("/etc/inkan"));
        assert_eq!(f.key.as_deref(), Some("pkcs11:token=t;object=k"));
    }

    #[test]
    fn dev_defaults() {
        let o = Overrides {
            dev: true,
            ..Overrides::default()
        };
        let s = resolve(FileConfig::default(), &o).unwrap();
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.policy.to_string(), DEV_POLICY);
        assert_eq!(s.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
    }
}
