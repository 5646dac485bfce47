//! What a records store keeps, wherever it keeps it: the token record and its binary format,
//! the hash chain over the records, the service events, the serial space a start-up reserves,
//! and the store's error. The embedded store ([`crate::records`]) and the shared PostgreSQL
//! store ([`crate::pgstore`]) both write and read exactly these.

use serde::{Deserialize, Serialize};

use inkan_profiles::time::UnixTime;

use crate::serial::{self, Serial};
use crate::timefmt;

/// One issued token, as stored and as printed by `inkan-tsa records` (one JSON line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Serial number, lower-case hex without leading zeros.
    pub serial: String,
    /// genTime, RFC 3339 UTC.
    pub gen_time: String,
    /// Policy OID.
    pub policy: String,
    /// Imprint hash algorithm name (`sha256`, ...).
    pub imprint_alg: String,
    /// Imprint octets, hex.
    pub imprint: String,
    /// SHA-256 of the DER TSA certificate that signed, hex.
    pub cert_sha256: String,
    /// The request nonce as hex of its DER INTEGER content octets, if any.
    pub nonce: Option<String>,
    /// The issued token (DER `ContentInfo`, hex), when the TSA keeps tokens (`keep_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A token record ready for the store: the binary keys the indexes need and the encoded
/// record ([`encode_record`]).
#[derive(Clone, Debug)]
pub struct Issued {
    /// Serial.
    pub serial: Serial,
    /// genTime.
    pub gen_time: UnixTime,
    /// Imprint octets.
    pub imprint: Vec<u8>,
    /// The binary record.
    pub record: Vec<u8>,
}

/// Format byte of [`encode_record`].
pub(crate) const RECORD_FORMAT: u8 = 1;
/// Format byte of a stored, chained record: format 1 followed by the chain link (see
/// [`Chain`]) and the optional token.
pub(crate) const CHAINED_FORMAT: u8 = 2;

/// Digits of the genTime fraction every token carries (microseconds; RFC 3161 §2.4.2 lets
/// the TSA choose, and records must say exactly what the token says).
pub const GEN_TIME_DIGITS: u32 = 6;

/// `t` cut to the precision of a token's genTime ([`GEN_TIME_DIGITS`]): what the token says.
pub fn token_time(t: UnixTime) -> UnixTime {
    const STEP: u32 = 10u32.pow(9 - GEN_TIME_DIGITS);
    UnixTime::new(t.secs(), t.subsec_nanos() / STEP * STEP)
}
/// Nonce length marking "no nonce".
pub(crate) const NO_NONCE: u16 = u16::MAX;

/// Encodes a token record (format 1): format byte, genTime seconds (u64 BE) and nanoseconds
/// (u32 BE; cut to the token's own precision, [`token_time`], so that a token is found by the
/// genTime it carries), then length-prefixed (u8) imprint algorithm name, policy OID (DER content
/// octets) and imprint octets, the 32-byte SHA-256 of the TSA certificate, and the nonce's
/// DER INTEGER content octets with a u16 BE length (`0xffff`: no nonce).
pub fn encode_record(
    out: &mut Vec<u8>,
    gen_time: UnixTime,
    imprint_alg: &str,
    policy_der: &[u8],
    imprint: &[u8],
    cert_sha256: &[u8; 32],
    nonce: Option<&[u8]>,
) {
    let short = |b: &[u8]| u8::try_from(b.len()).unwrap_or(u8::MAX);
    let gen_time = token_time(gen_time);
    out.push(RECORD_FORMAT);
    out.extend_from_slice(&gen_time.secs().to_be_bytes());
    out.extend_from_slice(&gen_time.subsec_nanos().to_be_bytes());
    for field in [imprint_alg.as_bytes(), policy_der, imprint] {
        // Each is at most 64 bytes in practice (names, OIDs, digests); cut at 255 regardless.
        let n = short(field);
        out.push(n);
        out.extend_from_slice(&field[..usize::from(n)]);
    }
    out.extend_from_slice(cert_sha256);
    match nonce {
        Some(n) => {
            let len = u16::try_from(n.len())
                .unwrap_or(NO_NONCE - 1)
                .min(NO_NONCE - 1);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&n[..usize::from(len)]);
        }
        None => out.extend_from_slice(&NO_NONCE.to_be_bytes()),
    }
}

/// The imprint octets of a record written by [`encode_record`], without decoding the rest.
pub(crate) fn record_imprint(b: &[u8]) -> Option<&[u8]> {
    if !matches!(b.first(), Some(&RECORD_FORMAT | &CHAINED_FORMAT)) {
        return None;
    }
    let mut at = 13;
    for _ in 0..2 {
        at += 1 + usize::from(*b.get(at)?);
    }
    let n = usize::from(*b.get(at)?);
    b.get(at + 1..at + 1 + n)
}

impl TokenRecord {
    /// Decodes a record written by [`encode_record`] (or stored with its chain link) for
    /// `serial`; `None` if it is not one.
    pub fn decode(serial: Serial, b: &[u8]) -> Option<Self> {
        Some(parse_stored(b)?.to_record(serial))
    }

    /// The JSON line `inkan-tsa records` prints.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The chain link (sequence number, hash of the previous record) of a stored record.
pub(crate) fn stored_link(b: &[u8]) -> Option<(u64, [u8; 32])> {
    let (seq, prev) = parse_stored(b)?.link?;
    Some((seq, prev.try_into().ok()?))
}

/// A stored record taken apart (format 1, or format 2 with its chain link).
pub(crate) struct Stored<'a> {
    secs: u64,
    nanos: u32,
    alg: &'a str,
    policy: const_oid::ObjectIdentifier,
    imprint: &'a [u8],
    cert: &'a [u8],
    nonce: Option<&'a [u8]>,
    /// Format 2: (sequence number, hash of the previous record).
    pub(crate) link: Option<(u64, &'a [u8])>,
    pub(crate) token: Option<&'a [u8]>,
}

pub(crate) fn parse_stored(b: &[u8]) -> Option<Stored<'_>> {
    let (&format, mut rest) = b.split_first()?;
    if format != RECORD_FORMAT && format != CHAINED_FORMAT {
        return None;
    }
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        rest = tail;
        Some(head)
    };
    let secs = u64::from_be_bytes(take(8)?.try_into().ok()?);
    let nanos = u32::from_be_bytes(take(4)?.try_into().ok()?);
    let mut short = || -> Option<&[u8]> {
        let n = usize::from(*take(1)?.first()?);
        take(n)
    };
    let alg = std::str::from_utf8(short()?).ok()?;
    let policy = const_oid::ObjectIdentifier::from_bytes(short()?).ok()?;
    let imprint = short()?;
    let cert = take(32)?;
    let nlen = u16::from_be_bytes(take(2)?.try_into().ok()?);
    let nonce = if nlen == NO_NONCE {
        None
    } else {
        Some(take(usize::from(nlen))?)
    };
    let (link, token) = if format == CHAINED_FORMAT {
        let seq = u64::from_be_bytes(take(8)?.try_into().ok()?);
        let prev = take(32)?;
        let tlen = u32::from_be_bytes(take(4)?.try_into().ok()?);
        let token = take(usize::try_from(tlen).ok()?)?;
        (Some((seq, prev)), (!token.is_empty()).then_some(token))
    } else {
        (None, None)
    };
    if nanos >= 1_000_000_000 || !rest.is_empty() {
        return None;
    }
    Some(Stored {
        secs,
        nanos,
        alg,
        policy,
        imprint,
        cert,
        nonce,
        link,
        token,
    })
}

impl Stored<'_> {
    fn to_record(&self, serial: Serial) -> TokenRecord {
        TokenRecord {
            serial: serial::to_hex(serial),
            gen_time: timefmt::rfc3339(UnixTime::new(self.secs, self.nanos)),
            policy: self.policy.to_string(),
            imprint_alg: self.alg.to_owned(),
            imprint: hex(self.imprint),
            cert_sha256: hex(self.cert),
            nonce: self.nonce.map(hex),
            token: self.token.map(hex),
        }
    }
}

/// A records-store failure, by what went wrong; the text names the detail. Callers decide by
/// the kind (retry an unavailable store, stop on a corrupt one) instead of by the words.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The store is not set up as this version needs: its URL, password source or TLS
    /// settings, the database's schema version or the role's privileges.
    Config(String),
    /// The store cannot be reached or written now: the embedded file, the database
    /// connection, a failed transaction, a thread that could not start.
    Unavailable(String),
    /// What the store holds is not what inkan-tsa wrote: a record, the chain head, a column.
    Corrupt(String),
    /// The store refused an operation that would break one of its guarantees (a serial
    /// recorded twice, a lost lease, a backup over an existing file).
    Refused(String),
    /// Serial-number epochs or instance numbers are used up.
    Exhausted(&'static str),
    /// The records writer has stopped: nothing more is committed.
    WriterStopped,
    /// Writing out what was read (query lines, a backup file) failed.
    Output(String),
}

impl StoreError {
    /// The detail, without the kind.
    pub fn detail(&self) -> &str {
        match self {
            Self::Config(m)
            | Self::Unavailable(m)
            | Self::Corrupt(m)
            | Self::Refused(m)
            | Self::Output(m) => m,
            Self::Exhausted(m) => m,
            Self::WriterStopped => "writer stopped",
        }
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "records store: {}", self.detail())
    }
}

impl std::error::Error for StoreError {}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(H[usize::from(x >> 4)]));
        s.push(char::from(H[usize::from(x & 15)]));
    }
    s
}

/// Parses hex (either case, even length).
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(crate) fn time_key(t: UnixTime) -> u64 {
    let t = token_time(t);
    t.secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(t.subsec_nanos()))
}

/// Names of the service events (the `kind` of an `inkan-tsa events` line).
pub mod kind {
    /// The service started (key, certificate, serial prefix, chain head).
    pub const START: &str = "start";
    /// The service stopped gracefully (serials issued, chain head).
    pub const STOP: &str = "stop";
    /// `--dev`: the development PKI was made or reused.
    pub const DEV_PKI: &str = "dev_pki";
    /// No SNTP servers: the host clock is trusted.
    pub const CLOCK_TRUST_HOST: &str = "clock_trust_host";
    /// A majority of servers confirmed the clock within accuracy; issuing (again).
    pub const CLOCK_SYNCHRONISED: &str = "clock_synchronised";
    /// Issuing stopped: the clock is not (or no longer) confirmed within accuracy.
    pub const CLOCK_LOST: &str = "clock_lost";
    /// A wall-clock step (or drift) out of the accuracy budget was detected.
    pub const CLOCK_STEP: &str = "clock_step";
    /// A leap second was announced.
    pub const LEAP_ANNOUNCED: &str = "leap_announced";
    /// A periodic clock measurement (EN 319 421 OVR-7.12: records of clock synchronisation).
    pub const CLOCK_MEASUREMENT: &str = "clock_measurement";
    /// The TSA certificate nears or passed its end, or fails a check.
    pub const CERTIFICATE_WARNING: &str = "certificate_warning";
    /// The key nears or passed the end of its policy period, or fails a check.
    pub const KEY_WARNING: &str = "key_warning";
    /// The records store could not be written for a while (from, to, failed commits).
    pub const STORE_OUTAGE: &str = "store_outage";
    /// Rejections by reason since the previous such event.
    pub const REJECTIONS: &str = "rejections";
    /// SIGHUP: a new key and certificate passed the start-up checks and are live.
    pub const IDENTITY_RELOADED: &str = "identity_reloaded";
    /// SIGHUP: the key and certificate named by the configuration failed a check (or the
    /// configuration could not be read); the previous pair stays live.
    pub const IDENTITY_RELOAD_FAILED: &str = "identity_reload_failed";
}

/// A service event for the audit trail (`inkan-tsa events`): when, what ([`kind`]), a sentence
/// for people, and the measurements or values that decided it as named JSON fields.
///
/// ```
/// # use inkan_tsa::records::{Event, kind};
/// # use inkan_profiles::time::UnixTime;
/// let e = Event::new(UnixTime::from_secs(1_800_000_000), kind::CLOCK_LOST, "0 of 3 servers within accuracy")
///     .field("good", 0)
///     .field("of", 3);
/// assert!(e.to_json(7).contains("\"good\":0"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// When it happened.
    pub at: UnixTime,
    /// What happened (one of [`kind`], or another short snake_case name).
    pub kind: String,
    /// A sentence for the auditor.
    pub detail: String,
    /// Measurements and values (`offset_s`, `servers`, `not_after`, ...).
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl Event {
    /// An event without data fields.
    pub fn new(at: UnixTime, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            at,
            kind: kind.to_owned(),
            detail: detail.into(),
            data: serde_json::Map::new(),
        }
    }

    /// Adds a named value (a measurement, a count, a time as RFC 3339 text, ...).
    pub fn field(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.data.insert(name.to_owned(), value.into());
        self
    }

    /// The stored JSON line: `{"seq", "time", "kind", "detail", "data"}` (`data` only when
    /// there are fields).
    pub fn to_json(&self, seq: u64) -> String {
        let mut o = serde_json::Map::new();
        o.insert("seq".into(), seq.into());
        o.insert("time".into(), timefmt::rfc3339(self.at).into());
        o.insert("kind".into(), self.kind.clone().into());
        o.insert("detail".into(), self.detail.clone().into());
        if !self.data.is_empty() {
            o.insert("data".into(), serde_json::Value::Object(self.data.clone()));
        }
        serde_json::Value::Object(o).to_string()
    }
}

/// The hash chain over the token records (tamper evidence for the audit trail).
///
/// Every record is stored with its sequence number `n` (0, 1, 2, ... in commit order, across
/// restarts) and `prev`, the chain hash of record `n - 1`. The chain hash of a record is
/// `SHA-256(serial (16 bytes BE) || stored value)`, where the stored value includes `n`,
/// `prev` and the kept token if any: changing any byte of a record, or its serial, breaks the
/// link the next record carries. The `chain` table holds the head (the next sequence number
/// and the hash of the last record), written in the same transaction as the records, so that
/// removing the newest records is seen too. Record 0 links to the *genesis* hash: SHA-256 over
/// a label and every record written before the chain existed (format 1, in serial order), so
/// that an upgraded store's older records are covered as a whole.
///
/// The writer computes the links per group commit (one SHA-256 of about 150 bytes per token,
/// no lock). `inkan-tsa records --verify-chain` ([`crate::records::Reader::verify_chain`]) walks the chain end
/// to end. The head is also written into the `start` and `stop` events, so an auditor can
/// compare it with a copy kept elsewhere (the log, a signed report): whoever can rewrite the
/// whole file can rebuild a consistent chain, and only a copy of the head held outside the
/// file shows that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chain {
    /// The sequence number the next record gets (= records in the chain).
    pub next: u64,
    /// The chain hash of the last record (the genesis hash when there is none).
    pub head: [u8; 32],
}

impl Chain {
    pub(crate) const LABEL: &'static [u8] = b"inkan-tsa records chain v1";

    pub(crate) fn to_bytes(self) -> [u8; 40] {
        let mut b = [0u8; 40];
        b[..8].copy_from_slice(&self.next.to_be_bytes());
        b[8..].copy_from_slice(&self.head);
        b
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(Self {
            next: u64::from_be_bytes(b.get(..8)?.try_into().ok()?),
            head: b.get(8..40)?.try_into().ok()?,
        })
    }

    /// The chain hash of a stored record.
    pub(crate) fn link(serial: Serial, stored: &[u8]) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(serial.to_be_bytes());
        h.update(stored);
        h.finalize().into()
    }

    /// Hex of the head, for events and reports.
    pub fn head_hex(&self) -> String {
        hex(&self.head)
    }
}

/// Genesis hash over the format-1 records, fed in serial order.
pub(crate) struct Genesis(sha2::Sha256);

impl Genesis {
    pub(crate) fn new() -> Self {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(Chain::LABEL);
        Self(h)
    }

    pub(crate) fn add(&mut self, serial: Serial, value: &[u8]) {
        use sha2::Digest;
        self.0.update(serial.to_be_bytes());
        self.0
            .update(u32::try_from(value.len()).unwrap_or(u32::MAX).to_be_bytes());
        self.0.update(value);
    }

    pub(crate) fn finish(self) -> [u8; 32] {
        use sha2::Digest;
        self.0.finalize().into()
    }
}

/// Where the chain breaks ([`crate::records::Reader::verify_chain`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// The record with this sequence number and serial was changed: the link the next record
    /// (or the head) carries does not match it.
    Changed {
        /// Sequence number.
        seq: u64,
        /// Serial.
        serial: Serial,
    },
    /// The record with this sequence number is missing (removed).
    Removed {
        /// The missing sequence number.
        seq: u64,
        /// The serial of the record before the gap, if any.
        after: Option<Serial>,
    },
    /// A record that the chain does not account for (a duplicate sequence number, one past
    /// the head, or an unchained record written after the chain began).
    Inserted {
        /// Its serial.
        serial: Serial,
    },
    /// The records written before the chain began (which the genesis hash covers) were
    /// changed, removed or added to.
    Genesis,
    /// A record that cannot be decoded.
    Unreadable {
        /// Its serial.
        serial: Serial,
    },
    /// The store has no chain head.
    NoHead,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = |v: &Serial| serial::to_hex(*v);
        match self {
            ChainBreak::Changed { seq, serial } => write!(
                f,
                "record #{seq} (serial {}) was changed: the chain link that follows it does not match",
                s(serial)
            ),
            ChainBreak::Removed { seq, after } => match after {
                Some(a) => write!(
                    f,
                    "record #{seq} was removed (the chain jumps after serial {})",
                    s(a)
                ),
                None => write!(f, "record #{seq} was removed (the chain starts later)"),
            },
            ChainBreak::Inserted { serial } => write!(
                f,
                "record with serial {} was inserted: the chain does not account for it",
                s(serial)
            ),
            ChainBreak::Genesis => f.write_str(
                "the records written before the chain began were changed, removed or added to",
            ),
            ChainBreak::Unreadable { serial } => {
                write!(f, "record with serial {} cannot be decoded", s(serial))
            }
            ChainBreak::NoHead => f.write_str("the store has no chain head"),
        }
    }
}

/// A chain that verified ([`crate::records::Reader::verify_chain`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    /// Chained records.
    pub records: u64,
    /// Records from before the chain (covered by the genesis hash).
    pub legacy: u64,
    /// The head.
    pub chain: Chain,
    /// A shared store's chains, one per instance number, each with its head (empty for the
    /// embedded store, whose one chain is [`ChainReport::chain`]).
    pub instances: Vec<(u16, Chain)>,
}

/// The serial-number space of one start-up ([`crate::records::Store::reserve_serials`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SerialSpace {
    /// 64 random bits, never used before by this store.
    pub prefix: u64,
    /// The epoch.
    pub epoch: u32,
    /// The instance number this start-up holds in a shared store (carried in the prefix's top
    /// 16 bits); `None` for the embedded store.
    pub instance: Option<u16>,
}

/// A query.
#[derive(Clone, Debug)]
pub enum Query {
    /// By serial.
    Serial(Serial),
    /// By imprint octets.
    Imprint(Vec<u8>),
    /// genTime in `[from, to]`.
    Range(UnixTime, UnixTime),
}
