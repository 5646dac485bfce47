//! RFC 3161 time-stamp protocol messages (RFC 3161 §2.4, Appendix C; RFC 5816), in DER.
//!
//! `der` 0.8 rejects a GeneralizedTime with fractional seconds, which real TSAs put in
//! `TSTInfo.genTime`, so this module carries its own [`GenTime`].

use der::asn1::{Int, ObjectIdentifier, OctetString, Uint};
use der::{
    Any, Decode, DecodeValue, Encode, EncodeValue, Enumerated, ErrorKind, FixedTag, Header, Length,
    Reader, Sequence, Tag, Tagged, Writer,
};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;

use crate::alg::{AlgError, DigestAlgorithm};
use crate::asn1::tlv::{self, Rules, TlvError, tag};
use crate::time::UnixTime;

/// ```text
/// MessageImprint ::= SEQUENCE  {
///      hashAlgorithm                AlgorithmIdentifier,
///      hashedMessage                OCTET STRING  }
/// ```
/// (RFC 3161 §2.4.1)
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct MessageImprint {
    /// The hash algorithm.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// The hash of the data to be time-stamped.
    pub hashed_message: OctetString,
}

impl MessageImprint {
    /// An imprint of `hash` (already computed) under `alg`, with the identifier encoded as
    /// [`DigestAlgorithm::to_algorithm_identifier`] does.
    pub fn new(alg: DigestAlgorithm, hash: &[u8]) -> der::Result<Self> {
        Ok(Self {
            hash_algorithm: alg.to_algorithm_identifier(),
            hashed_message: OctetString::new(hash)?,
        })
    }

    /// Hash `data` with `alg` and make the imprint.
    pub fn of_data(alg: DigestAlgorithm, data: &[u8]) -> der::Result<Self> {
        Self::new(alg, &alg.digest(data))
    }

    /// The digest algorithm, with the parameter rules of [`DigestAlgorithm::from_algorithm_identifier`].
    pub fn algorithm(&self) -> Result<DigestAlgorithm, AlgError> {
        DigestAlgorithm::from_algorithm_identifier(&self.hash_algorithm)
    }

    /// The algorithm is known and the hash has its output length (RFC 3161 §2.1 item 4).
    pub fn check_length(&self) -> Result<DigestAlgorithm, AlgError> {
        let d = self.algorithm()?;
        if self.hashed_message.as_bytes().len() == d.output_len() {
            Ok(d)
        } else {
            Err(AlgError::BadParameters(d.oid()))
        }
    }
}

/// ```text
/// TimeStampReq ::= SEQUENCE  {
///    version                      INTEGER  { v1(1) },
///    messageImprint               MessageImprint,
///    reqPolicy             TSAPolicyId              OPTIONAL,
///    nonce                 INTEGER                  OPTIONAL,
///    certReq               BOOLEAN                  DEFAULT FALSE,
///    extensions            [0] IMPLICIT Extensions  OPTIONAL  }
/// ```
/// (RFC 3161 §2.4.1). The nonce is kept as [`Int`] so that it is echoed byte for byte,
/// whatever its sign or size.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampReq {
    /// Always 1; a server refuses other values with badRequest (not checked by decoding).
    pub version: u8,
    /// What to time-stamp.
    pub message_imprint: MessageImprint,
    /// The policy the requester asks for.
    pub req_policy: Option<ObjectIdentifier>,
    /// A nonce to echo.
    pub nonce: Option<Int>,
    /// Whether the TSA certificate must be in the token.
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
    /// Request extensions.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}

impl TimeStampReq {
    /// Parse a DER `TimeStampReq` from untrusted bytes (a fuzzing entry point). Trailing data
    /// is an error.
    pub fn parse(der: &[u8]) -> der::Result<Self> {
        Self::from_der(der)
    }
}

/// A nonce made from a positive number given as big-endian bytes, minimally encoded (leading
/// zeros dropped, one zero added when the top bit is set, as DER requires).
pub fn positive_int(be_bytes: &[u8]) -> der::Result<Int> {
    let u = Uint::new(be_bytes)?;
    // Uint re-encodes minimally; decode that encoding as an Int.
    let der = u.to_der()?;
    Int::from_der(&der)
}

/// ```text
/// PKIStatus ::= INTEGER {
///    granted                (0),
///    grantedWithMods        (1),
///    rejection              (2),
///    waiting                (3),
///    revocationWarning      (4),
///    revocationNotification (5) }
/// ```
/// (RFC 3161 §2.4.2). Any other value fails to decode, as §2.4.2 asks of clients.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Enumerated)]
#[asn1(type = "INTEGER")]
#[repr(u8)]
pub enum PkiStatus {
    /// A token is present.
    Granted = 0,
    /// A token is present, with modifications.
    GrantedWithMods = 1,
    /// Refused; failInfo says why.
    Rejection = 2,
    /// Not yet.
    Waiting = 3,
    /// A revocation is imminent.
    RevocationWarning = 4,
    /// A revocation has occurred.
    RevocationNotification = 5,
}

impl PkiStatus {
    /// Statuses 0 and 1 carry a token; the others must not (RFC 3161 §2.4.2).
    pub fn carries_token(self) -> bool {
        matches!(self, PkiStatus::Granted | PkiStatus::GrantedWithMods)
    }
}

/// ```text
/// PKIFailureInfo ::= BIT STRING {
///    badAlg               (0),
///    badRequest           (2),
///    badDataFormat        (5),
///    timeNotAvailable    (14),
///    unacceptedPolicy    (15),
///    unacceptedExtension (16),
///    addInfoNotAvailable (17),
///    systemFailure       (25)  }
/// ```
/// (RFC 3161 §2.4.2), as bit flags: bit *n* of the ASN.1 named BIT STRING is `1 << n`.
/// Encoded in DER with trailing zero bits removed (X.690 §11.2.2). Unknown bits below 32 are
/// kept so that a client can refuse them ([`Self::unknown_bits`]); bits at 32 or above fail to
/// decode.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, Hash)]
pub struct PkiFailureInfo(pub u32);

impl PkiFailureInfo {
    /// Unrecognized or unsupported algorithm identifier.
    pub const BAD_ALG: Self = Self(1 << 0);
    /// Transaction not permitted or supported.
    pub const BAD_REQUEST: Self = Self(1 << 2);
    /// The data submitted has the wrong format.
    pub const BAD_DATA_FORMAT: Self = Self(1 << 5);
    /// The TSA's time source is not available.
    pub const TIME_NOT_AVAILABLE: Self = Self(1 << 14);
    /// The requested TSA policy is not supported.
    pub const UNACCEPTED_POLICY: Self = Self(1 << 15);
    /// The requested extension is not supported.
    pub const UNACCEPTED_EXTENSION: Self = Self(1 << 16);
    /// The additional information requested could not be understood or is not available.
    pub const ADD_INFO_NOT_AVAILABLE: Self = Self(1 << 17);
    /// The request cannot be handled due to system failure.
    pub const SYSTEM_FAILURE: Self = Self(1 << 25);

    const KNOWN: u32 =
        (1 << 0) | (1 << 2) | (1 << 5) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 17) | (1 << 25);

    /// badAlg.
    pub const fn bad_alg() -> Self {
        Self::BAD_ALG
    }
    /// badRequest.
    pub const fn bad_request() -> Self {
        Self::BAD_REQUEST
    }
    /// badDataFormat.
    pub const fn bad_data_format() -> Self {
        Self::BAD_DATA_FORMAT
    }
    /// timeNotAvailable.
    pub const fn time_not_available() -> Self {
        Self::TIME_NOT_AVAILABLE
    }
    /// unacceptedPolicy.
    pub const fn unaccepted_policy() -> Self {
        Self::UNACCEPTED_POLICY
    }
    /// unacceptedExtension.
    pub const fn unaccepted_extension() -> Self {
        Self::UNACCEPTED_EXTENSION
    }
    /// addInfoNotAvailable.
    pub const fn add_info_not_available() -> Self {
        Self::ADD_INFO_NOT_AVAILABLE
    }
    /// systemFailure.
    pub const fn system_failure() -> Self {
        Self::SYSTEM_FAILURE
    }

    /// Whether every bit of `other` is set here.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets of bits.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Bits that RFC 3161 does not name (a client must refuse them).
    pub const fn unknown_bits(self) -> u32 {
        self.0 & !Self::KNOWN
    }

    /// The RFC names of the bits set, in bit order.
    pub fn names(self) -> Vec<&'static str> {
        const NAMES: [(u32, &str); 8] = [
            (0, "badAlg"),
            (2, "badRequest"),
            (5, "badDataFormat"),
            (14, "timeNotAvailable"),
            (15, "unacceptedPolicy"),
            (16, "unacceptedExtension"),
            (17, "addInfoNotAvailable"),
            (25, "systemFailure"),
        ];
        NAMES
            .iter()
            .filter(|(b, _)| self.0 & (1 << b) != 0)
            .map(|(_, n)| *n)
            .collect()
    }

    fn byte_count(self) -> usize {
        if self.0 == 0 {
            0
        } else {
            let highest = 31 - self.0.leading_zeros() as usize;
            highest / 8 + 1
        }
    }
}

impl std::ops::BitOr for PkiFailureInfo {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl FixedTag for PkiFailureInfo {
    const TAG: Tag = Tag::BitString;
}

impl<'a> DecodeValue<'a> for PkiFailureInfo {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let len = usize::try_from(header.length())?;
        if len == 0 || len > 5 {
            return Err(reader.error(Tag::BitString.length_error()));
        }
        let mut buf = [0u8; 5];
        reader.read_into(&mut buf[..len])?;
        let unused = buf[0];
        let bytes = &buf[1..len];
        if unused > 7 || (bytes.is_empty() && unused != 0) {
            return Err(reader.error(Tag::BitString.value_error()));
        }
        if let Some(last) = bytes.last() {
            // Unused bits must be zero (X.690 §11.2.1).
            if last & ((1u16 << unused) - 1) as u8 != 0 {
                return Err(reader.error(Tag::BitString.value_error()));
            }
        }
        let mut v = 0u32;
        for (i, b) in bytes.iter().enumerate() {
            for j in 0..8 {
                if b & (0x80 >> j) != 0 {
                    v |= 1 << (i * 8 + j);
                }
            }
        }
        // Trailing zero bits are not minimal DER but are tolerated on input.
        Ok(Self(v))
    }
}

impl EncodeValue for PkiFailureInfo {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(1 + self.byte_count())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        let n = self.byte_count();
        let mut bytes = [0u8; 4];
        for (i, byte) in bytes.iter_mut().enumerate().take(n) {
            for j in 0..8 {
                if self.0 & (1 << (i * 8 + j)) != 0 {
                    *byte |= 0x80 >> j;
                }
            }
        }
        let unused = if n == 0 {
            0
        } else {
            let highest = 31 - self.0.leading_zeros();
            7 - (highest % 8) as u8
        };
        writer.write_byte(unused)?;
        writer.write(&bytes[..n])
    }
}

/// `PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String` (RFC 4210 §5.1.1, used by RFC 3161
/// §2.4.2).
pub type PkiFreeText = Vec<String>;

/// ```text
/// PKIStatusInfo ::= SEQUENCE {
///    status        PKIStatus,
///    statusString  PKIFreeText     OPTIONAL,
///    failInfo      PKIFailureInfo  OPTIONAL  }
/// ```
/// (RFC 3161 §2.4.2)
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PkiStatusInfo {
    /// The status.
    pub status: PkiStatus,
    /// Human-readable text.
    pub status_string: Option<PkiFreeText>,
    /// Why a request failed.
    pub fail_info: Option<PkiFailureInfo>,
}

impl PkiStatusInfo {
    /// status granted, nothing else.
    pub fn granted() -> Self {
        Self {
            status: PkiStatus::Granted,
            status_string: None,
            fail_info: None,
        }
    }

    /// status rejection with `fail` and an optional text.
    pub fn rejection(fail: PkiFailureInfo, text: Option<&str>) -> Self {
        Self {
            status: PkiStatus::Rejection,
            status_string: text.map(|t| vec![t.to_owned()]),
            fail_info: Some(fail),
        }
    }
}

/// ```text
/// TimeStampResp ::= SEQUENCE  {
///      status                  PKIStatusInfo,
///      timeStampToken          TimeStampToken     OPTIONAL  }
/// TimeStampToken ::= ContentInfo
/// ```
/// (RFC 3161 §2.4.2). The token is kept as the original TLV ([`Any`]) so that a verifier hashes
/// and parses the bytes the TSA sent; [`Self::token_der`] returns them.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampResp {
    /// The status.
    pub status: PkiStatusInfo,
    /// The token (a `ContentInfo` holding `SignedData`), as received.
    pub time_stamp_token: Option<Any>,
}

impl TimeStampResp {
    /// Parse a DER `TimeStampResp` from untrusted bytes (a fuzzing entry point). The token is
    /// only checked to be one TLV; parse it with `cms` (see [`Self::token_der`]).
    pub fn parse(der: &[u8]) -> der::Result<Self> {
        let r = Self::from_der(der)?;
        if let Some(t) = &r.time_stamp_token
            && t.tag() != Tag::Sequence
        {
            return Err(Tag::Sequence.value_error().into());
        }
        Ok(r)
    }

    /// The token's DER bytes, exactly as received.
    pub fn token_der(&self) -> Option<Vec<u8>> {
        self.time_stamp_token.as_ref().and_then(|t| t.to_der().ok())
    }

    /// Status 0/1 with a token, or another status without one (RFC 3161 §2.4.2).
    pub fn is_consistent(&self) -> bool {
        self.status.status.carries_token() == self.time_stamp_token.is_some()
    }
}

/// A value in 1..=999 (the `millis` and `micros` of [`Accuracy`]). Out-of-range values fail to
/// decode and cannot be built.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Ord, PartialOrd, Hash)]
pub struct SubSecond(u16);

impl SubSecond {
    /// `v` if it is in 1..=999.
    pub const fn new(v: u16) -> Option<Self> {
        if v >= 1 && v <= 999 {
            Some(Self(v))
        } else {
            None
        }
    }
    /// The value.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl FixedTag for SubSecond {
    const TAG: Tag = Tag::Integer;
}

impl<'a> DecodeValue<'a> for SubSecond {
    type Error = der::Error;
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let v = u16::decode_value(reader, header)?;
        Self::new(v).ok_or_else(|| reader.error(Tag::Integer.value_error()))
    }
}

impl EncodeValue for SubSecond {
    fn value_len(&self) -> der::Result<Length> {
        self.0.value_len()
    }
    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.0.encode_value(writer)
    }
}

/// ```text
/// Accuracy ::= SEQUENCE {
///          seconds        INTEGER           OPTIONAL,
///          millis     [0] INTEGER  (1..999) OPTIONAL,
///          micros     [1] INTEGER  (1..999) OPTIONAL  }
/// ```
/// (RFC 3161 §2.4.2; the module's default tagging is IMPLICIT, Appendix C)
#[derive(Clone, Copy, Debug, Eq, PartialEq, Sequence)]
pub struct Accuracy {
    /// Whole seconds.
    pub seconds: Option<u32>,
    /// Milliseconds, 1..=999.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<SubSecond>,
    /// Microseconds, 1..=999.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<SubSecond>,
}

impl Accuracy {
    /// The accuracy as nanoseconds (a missing field counts as zero, RFC 3161 §2.4.2).
    pub fn as_nanos(&self) -> u64 {
        u64::from(self.seconds.unwrap_or(0)) * 1_000_000_000
            + u64::from(self.millis.map_or(0, SubSecond::get)) * 1_000_000
            + u64::from(self.micros.map_or(0, SubSecond::get)) * 1_000
    }

    /// An accuracy of whole seconds.
    pub fn seconds(s: u32) -> Self {
        Self {
            seconds: Some(s),
            millis: None,
            micros: None,
        }
    }
}

/// A GeneralizedTime in UTC that keeps fractional seconds (RFC 3161 §2.4.2: `YYYYMMDDhhmmss[.s...]Z`).
///
/// Decoding accepts any number of fraction digits (digits beyond nanoseconds are dropped, and
/// trailing zeros are tolerated), but requires the seconds and the `Z`. Encoding is DER
/// canonical: no trailing zeros in the fraction, no `.` when the fraction is zero, `Z`.
/// Years 1970 to 9999.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Ord, PartialOrd, Hash)]
pub struct GenTime(UnixTime);

/// Longest GenTime value accepted: 14 digits, '.', up to 40 fraction digits, 'Z'.
const GEN_TIME_MAX_LEN: usize = 56;

impl GenTime {
    /// The instant `t`. Fails for years after 9999.
    pub fn from_unix(t: UnixTime) -> der::Result<Self> {
        // Check the year range by formatting the whole seconds.
        der::DateTime::from_unix_duration(std::time::Duration::from_secs(t.secs()))?;
        Ok(Self(t))
    }

    /// The instant.
    pub const fn to_unix(self) -> UnixTime {
        self.0
    }

    /// The same instant with the fraction cut to whole seconds.
    pub const fn truncate_to_secs(self) -> Self {
        Self(UnixTime::from_secs(self.0.secs()))
    }

    /// The same instant with the fraction cut to `digits` decimal digits (0..=9).
    pub fn truncate_to_digits(self, digits: u32) -> Self {
        let digits = digits.min(9);
        let unit = 10u32.pow(9 - digits);
        let nanos = self.0.subsec_nanos() / unit * unit;
        Self(UnixTime::new(self.0.secs(), nanos))
    }

    fn text(self) -> der::Result<Vec<u8>> {
        let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(self.0.secs()))?;
        let mut s = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minutes(),
            dt.seconds()
        );
        let nanos = self.0.subsec_nanos();
        if nanos != 0 {
            let frac = format!("{nanos:09}");
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
        s.push('Z');
        Ok(s.into_bytes())
    }

    fn parse_text(b: &[u8]) -> Option<Self> {
        if b.len() < 15 || *b.last()? != b'Z' {
            return None;
        }
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            b.get(r)?.iter().try_fold(0u32, |acc, c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        let year = u16::try_from(digits(0..4)?).ok()?;
        let f = |r| digits(r).and_then(|v| u8::try_from(v).ok());
        let (month, day, hour, min, sec) = (f(4..6)?, f(6..8)?, f(8..10)?, f(10..12)?, f(12..14)?);
        let dt = der::DateTime::new(year, month, day, hour, min, sec).ok()?;
        let secs = dt.unix_duration().as_secs();
        let rest = &b[14..b.len() - 1];
        let nanos = match rest {
            [] => 0,
            [b'.', frac @ ..] if !frac.is_empty() && frac.iter().all(u8::is_ascii_digit) => {
                let mut n = 0u32;
                for i in 0..9 {
                    n = n * 10 + frac.get(i).map_or(0, |c| u32::from(c - b'0'));
                }
                n
            }
            _ => return None,
        };
        Some(Self(UnixTime::new(secs, nanos)))
    }
}

impl From<GenTime> for UnixTime {
    fn from(t: GenTime) -> Self {
        t.0
    }
}

impl TryFrom<UnixTime> for GenTime {
    type Error = der::Error;
    fn try_from(t: UnixTime) -> der::Result<Self> {
        Self::from_unix(t)
    }
}

impl std::fmt::Display for GenTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.text() {
            Ok(t) => f.write_str(&String::from_utf8_lossy(&t)),
            Err(_) => write!(f, "@{}", self.0.secs()),
        }
    }
}

impl FixedTag for GenTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

impl<'a> DecodeValue<'a> for GenTime {
    type Error = der::Error;
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let len = usize::try_from(header.length())?;
        if !(15..=GEN_TIME_MAX_LEN).contains(&len) {
            return Err(reader.error(Tag::GeneralizedTime.length_error()));
        }
        let mut buf = [0u8; GEN_TIME_MAX_LEN];
        reader.read_into(&mut buf[..len])?;
        Self::parse_text(&buf[..len]).ok_or_else(|| reader.error(ErrorKind::DateTime))
    }
}

impl EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.text()?.len())
    }
    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.text()?)
    }
}

/// ```text
/// TSTInfo ::= SEQUENCE  {
///    version                      INTEGER  { v1(1) },
///    policy                       TSAPolicyId,
///    messageImprint               MessageImprint,
///    serialNumber                 INTEGER,
///    genTime                      GeneralizedTime,
///    accuracy                     Accuracy                 OPTIONAL,
///    ordering                     BOOLEAN             DEFAULT FALSE,
///    nonce                        INTEGER                  OPTIONAL,
///    tsa                          [0] GeneralName          OPTIONAL,
///    extensions                   [1] IMPLICIT Extensions   OPTIONAL  }
/// ```
/// (RFC 3161 §2.4.2), the workspace's one `TSTInfo` type, read over the byte-keeping [`tlv`]
/// reader. Each element is kept as received and judged by the caller.
///
/// Two ways in:
/// - [`TstInfo::parse`] is tolerant, for tokens other TSAs made (the signer on receipt and in
///   signatures it extends, the verifier). Real tokens are not all strict DER: a sigstore test
///   TSA, for one, issues serial numbers with the high bit set (negative INTEGERs). It reads BER
///   ([`Rules::TOLERANT`]), genTime as any UTC GeneralizedTime [`tlv::parse_time`] takes
///   (fractions and offsets; the content octets stay in [`TstInfo::gen_time_raw`] for the
///   strict syntax of [`TstInfo::generalized_time`]), and ignores elements after `extensions`.
/// - [`TstInfo::parse_der`] also requires every element to be in its one DER encoding (X.690
///   §10, §11), as a TSA must write it; the error names the first element that is not.
///
/// The typed views ([`TstInfo::generalized_time`], [`TstInfo::message_imprint`],
/// [`TstInfo::accuracy`], [`TstInfo::tsa_name`], [`TstInfo::extensions`]) decode on demand.
/// When verifying, hash the `eContent` octets you received, never a re-encoding.
///
/// [`tlv`]: crate::asn1::tlv
/// [`Rules::TOLERANT`]: crate::asn1::tlv::Rules::TOLERANT
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TstInfo {
    /// `version`: the INTEGER's content octets (`[1]` for v1).
    pub version: Vec<u8>,
    /// `policy`: the OBJECT IDENTIFIER's content octets (see [`TstInfo::policy_oid`]).
    pub policy: Vec<u8>,
    /// `messageImprint.hashAlgorithm`: the AlgorithmIdentifier as received.
    pub imprint_alg: Vec<u8>,
    /// `messageImprint.hashedMessage`.
    pub imprint: Vec<u8>,
    /// `serialNumber`: the INTEGER's content octets (see [`TstInfo::serial_hex`]).
    pub serial: Vec<u8>,
    /// `genTime`: the content octets as received.
    pub gen_time_raw: Vec<u8>,
    /// `genTime`: seconds since the epoch.
    pub gen_time: i64,
    /// `genTime`: nanoseconds.
    pub gen_nanos: u32,
    /// `accuracy`: the SEQUENCE as received (see [`TstInfo::accuracy`]).
    pub accuracy: Option<Vec<u8>>,
    /// `ordering`: the BOOLEAN's content octets, when present (see [`TstInfo::is_ordered`]).
    pub ordering: Option<Vec<u8>>,
    /// `nonce`: the INTEGER's content octets (sign octet included).
    pub nonce: Option<Vec<u8>>,
    /// `tsa`: the `[0]` element as received, header included (see [`TstInfo::tsa_name`]).
    pub tsa: Option<Vec<u8>>,
    /// `extensions`: the `[1]` element as received, header included (see
    /// [`TstInfo::extensions`]).
    pub extensions: Option<Vec<u8>>,
}

impl TstInfo {
    /// Reads a `TSTInfo` (the `eContent` of a token) from untrusted bytes, tolerantly (see the
    /// type's documentation); errors name the element.
    pub fn parse(bytes: &[u8]) -> Result<Self, TlvError> {
        Self::read(bytes, false)
    }

    /// Reads a `TSTInfo` that must be DER: definite, minimal lengths, minimal INTEGERs,
    /// `ordering` absent rather than FALSE (a DEFAULT value, X.690 §11.5), genTime in the
    /// canonical form of [`GenTime`] (`Z`, no trailing zeros in the fraction, X.690 §11.7),
    /// nothing after `extensions`, and the nested structures (imprint, accuracy, tsa,
    /// extensions) as the `der` crate re-encodes them. An error names the first element that is
    /// not.
    pub fn parse_der(bytes: &[u8]) -> Result<Self, TlvError> {
        Self::read(bytes, true)
    }

    fn read(bytes: &[u8], der: bool) -> Result<Self, TlvError> {
        let rules = if der {
            Rules::DEFINITE_LOW_TAGS
        } else {
            Rules::TOLERANT
        };
        let t = tlv::parse_exact_with(bytes, rules)?.expect_named(tag::SEQUENCE, "TSTInfo")?;
        let mut r = t.children();
        let version = r.expect_named(tag::INTEGER, "TSTInfo.version")?;
        let policy = r.expect_named(tag::OID, "TSTInfo.policy")?;
        let mi = r.expect_named(tag::SEQUENCE, "TSTInfo.messageImprint")?;
        let serial = r.expect_named(tag::INTEGER, "TSTInfo.serialNumber")?;
        let gt = r.expect_named(tag::GENERALIZED_TIME, "TSTInfo.genTime")?;
        let accuracy = r.optional(tag::SEQUENCE)?;
        let ordering = r.optional(tag::BOOLEAN)?;
        let nonce = r.optional(tag::INTEGER)?;
        let tsa = r.optional(tag::CTX0)?;
        let extensions = r.optional(tag::CTX1)?;
        let mut mr = mi.children();
        let alg = mr.expect_named(tag::SEQUENCE, "MessageImprint.hashAlgorithm")?;
        let hashed = mr.expect_named(tag::OCTET_STRING, "MessageImprint.hashedMessage")?;
        let (gen_time, gen_nanos) = tlv::parse_time(&gt)?;
        let info = Self {
            version: version.value.to_vec(),
            policy: policy.value.to_vec(),
            imprint_alg: alg.raw.to_vec(),
            imprint: hashed.value.to_vec(),
            serial: serial.value.to_vec(),
            gen_time_raw: gt.value.to_vec(),
            gen_time,
            gen_nanos,
            accuracy: accuracy.map(|a| a.raw.to_vec()),
            ordering: ordering.map(|o| o.value.to_vec()),
            nonce: nonce.map(|n| n.value.to_vec()),
            tsa: tsa.map(|a| a.raw.to_vec()),
            extensions: extensions.map(|e| e.raw.to_vec()),
        };
        if der {
            r.finish("TSTInfo")?;
            der_check("TSTInfo", &t, Some(tlv::encode(t.tag, t.value)))?;
            der_check("TSTInfo.version", &version, int_der(&version))?;
            let oid = info.policy_oid()?;
            der_check("TSTInfo.policy", &policy, Some(tlv::encode_oid(&oid)))?;
            let canonical = MessageImprint::from_der(mi.raw)
                .ok()
                .and_then(|m| m.to_der().ok());
            der_check("TSTInfo.messageImprint", &mi, canonical)?;
            der_check("TSTInfo.serialNumber", &serial, int_der(&serial))?;
            let canonical = info.generalized_time().ok().and_then(|g| g.to_der().ok());
            der_check("TSTInfo.genTime", &gt, canonical)?;
            if let Some(a) = &accuracy {
                let canonical = Accuracy::from_der(a.raw).ok().and_then(|a| a.to_der().ok());
                der_check("TSTInfo.accuracy", a, canonical)?;
            }
            if let Some(o) = &ordering {
                // TRUE is 0xFF (X.690 §11.1); FALSE, the default, is left out (§11.5).
                let canonical = (o.value != [0]).then(|| vec![tag::BOOLEAN, 1, 0xff]);
                der_check("TSTInfo.ordering", o, canonical)?;
            }
            if let Some(n) = &nonce {
                der_check("TSTInfo.nonce", n, int_der(n))?;
            }
            if let Some(a) = &tsa {
                let canonical = info
                    .tsa_name()
                    .ok()
                    .flatten()
                    .and_then(|g| g.to_der().ok())
                    .map(|g| tlv::encode(tag::CTX0, &g));
                der_check("TSTInfo.tsa", a, canonical)?;
            }
            if let Some(e) = &extensions {
                let canonical = info
                    .extensions()
                    .ok()
                    .flatten()
                    .and_then(|x| x.to_der().ok())
                    .and_then(|x| Some(tlv::encode(tag::CTX1, tlv::parse_exact(&x).ok()?.value)));
                der_check("TSTInfo.extensions", e, canonical)?;
            }
        }
        Ok(info)
    }

    /// The policy as an OID; an error when its content octets are not one (X.690 §8.19).
    pub fn policy_oid(&self) -> Result<ObjectIdentifier, TlvError> {
        ObjectIdentifier::from_bytes(&self.policy)
            .map_err(|e| TlvError::new(format!("TSTInfo.policy: bad OID: {e}")))
    }

    /// The policy in dotted form (`invalid-oid` when it is not one).
    pub fn policy_string(&self) -> String {
        tlv::oid_string(&self.policy)
    }

    /// The OID of `messageImprint.hashAlgorithm`.
    pub fn imprint_alg_oid(&self) -> Result<ObjectIdentifier, TlvError> {
        tlv::parse_exact(&self.imprint_alg)?
            .children()
            .expect_named(tag::OID, "hashAlgorithm")?
            .oid()
    }

    /// `messageImprint` decoded (its AlgorithmIdentifier must be DER); see
    /// [`MessageImprint::algorithm`].
    pub fn message_imprint(&self) -> Result<MessageImprint, TlvError> {
        let bad = |e: der::Error| TlvError::new(format!("TSTInfo.messageImprint: {e}"));
        Ok(MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned::from_der(&self.imprint_alg).map_err(bad)?,
            hashed_message: OctetString::new(self.imprint.as_slice()).map_err(bad)?,
        })
    }

    /// `genTime` read with the syntax RFC 3161 §2.4.2 requires, `YYYYMMDDhhmmss[.s...]Z`, and
    /// a date that exists; the tolerant [`TstInfo::gen_time`] also takes offsets and commas.
    pub fn generalized_time(&self) -> Result<GenTime, TlvError> {
        GenTime::parse_text(&self.gen_time_raw).ok_or_else(|| {
            TlvError::new(format!(
                "TSTInfo.genTime: not YYYYMMDDhhmmss[.s...]Z: {:?}",
                String::from_utf8_lossy(&self.gen_time_raw)
            ))
        })
    }

    /// The serial number's content octets in lower-case hex (sign octet included).
    pub fn serial_hex(&self) -> String {
        use std::fmt::Write;
        self.serial.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    /// `accuracy` decoded; an error when a field is not an INTEGER in range (seconds up to
    /// 2^32 - 1; millis and micros 1..=999, RFC 3161 §2.4.2).
    pub fn accuracy(&self) -> Result<Option<Accuracy>, TlvError> {
        let Some(raw) = &self.accuracy else {
            return Ok(None);
        };
        let a = tlv::parse_exact(raw)?.expect_named(tag::SEQUENCE, "TSTInfo.accuracy")?;
        let mut r = a.children();
        let seconds = match r.optional(tag::INTEGER)? {
            Some(s) => Some(
                u32::try_from(s.small_uint()?)
                    .map_err(|_| TlvError::new("Accuracy.seconds: out of range"))?,
            ),
            None => None,
        };
        let mut sub = |t: u8, what: &'static str| -> Result<Option<SubSecond>, TlvError> {
            let Some(v) = r.optional(t)? else {
                return Ok(None);
            };
            let n = v.small_uint()?;
            u16::try_from(n)
                .ok()
                .and_then(SubSecond::new)
                .map(Some)
                .ok_or_else(|| TlvError::new(format!("Accuracy.{what}: {n} is not in 1..999")))
        };
        let millis = sub(0x80, "millis")?;
        let micros = sub(0x81, "micros")?;
        r.finish("Accuracy")?;
        Ok(Some(Accuracy {
            seconds,
            millis,
            micros,
        }))
    }

    /// Whether `ordering` is TRUE (absent means FALSE, its default).
    pub fn is_ordered(&self) -> bool {
        self.ordering
            .as_ref()
            .is_some_and(|o| o.iter().any(|&b| b != 0))
    }

    /// `tsa` decoded: the GeneralName inside the EXPLICIT `[0]` (GeneralName is a CHOICE).
    pub fn tsa_name(&self) -> Result<Option<GeneralName>, TlvError> {
        let Some(raw) = &self.tsa else {
            return Ok(None);
        };
        let t = tlv::parse_exact(raw)?.expect_named(tag::CTX0, "TSTInfo.tsa")?;
        GeneralName::from_der(t.value)
            .map(Some)
            .map_err(|e| TlvError::new(format!("TSTInfo.tsa: {e}")))
    }

    /// `extensions` decoded (IMPLICIT `[1]` over `SEQUENCE OF Extension`).
    pub fn extensions(&self) -> Result<Option<Extensions>, TlvError> {
        let Some(raw) = &self.extensions else {
            return Ok(None);
        };
        let t = tlv::parse_exact(raw)?.expect_named(tag::CTX1, "TSTInfo.extensions")?;
        Extensions::from_der(&tlv::encode(tag::SEQUENCE, t.value))
            .map(Some)
            .map_err(|e| TlvError::new(format!("TSTInfo.extensions: {e}")))
    }
}

/// An error naming `what` unless `t` was received as `canonical` (its DER encoding; `None` when
/// there is none).
fn der_check(what: &str, t: &tlv::Tlv<'_>, canonical: Option<Vec<u8>>) -> Result<(), TlvError> {
    if canonical.as_deref() == Some(t.raw) {
        Ok(())
    } else {
        Err(TlvError::new(format!("{what}: not DER (X.690 §10)")))
    }
}

/// The DER encoding of an INTEGER with the content octets of `t`, when those are minimal
/// (X.690 §8.3.2): no leading 0x00 or 0xFF octet that only repeats the sign.
fn int_der(t: &tlv::Tlv<'_>) -> Option<Vec<u8>> {
    match t.value {
        [] => None,
        [0x00, b, ..] if b & 0x80 == 0 => None,
        [0xff, b, ..] if b & 0x80 != 0 => None,
        v => Some(tlv::encode(tag::INTEGER, v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oid;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn gt(s: &str) -> der::Result<GenTime> {
        let mut der = vec![0x18, u8::try_from(s.len()).unwrap()];
        der.extend_from_slice(s.as_bytes());
        GenTime::from_der(&der)
    }

    fn enc(t: GenTime) -> String {
        let der = t.to_der().unwrap();
        String::from_utf8(der[2..].to_vec()).unwrap()
    }

    #[test]
    fn gen_time_fractions() {
        // 2024-05-06T07:08:09Z = 1714979289.
        let t = gt("20240506070809Z").unwrap();
        assert_eq!(t.to_unix(), UnixTime::from_secs(1_714_979_289));
        assert_eq!(enc(t), "20240506070809Z");
        let t = gt("20240506070809.505Z").unwrap();
        assert_eq!(t.to_unix(), UnixTime::new(1_714_979_289, 505_000_000));
        assert_eq!(enc(t), "20240506070809.505Z");
        // Trailing zeros tolerated on input, dropped on output; ".0" disappears.
        assert_eq!(
            enc(gt("20240506070809.5000Z").unwrap()),
            "20240506070809.5Z"
        );
        assert_eq!(enc(gt("20240506070809.0Z").unwrap()), "20240506070809Z");
        // More digits than nanoseconds: cut.
        let t = gt("20240506070809.1234567891234Z").unwrap();
        assert_eq!(t.to_unix().subsec_nanos(), 123_456_789);
        assert_eq!(enc(t), "20240506070809.123456789Z");
        assert_eq!(enc(t.truncate_to_digits(3)), "20240506070809.123Z");
        assert_eq!(enc(t.truncate_to_secs()), "20240506070809Z");
        // Refused: no Z, no seconds, empty fraction, comma, offsets, bad dates.
        for bad in [
            "20240506070809",
            "202405060708Z",
            "20240506070809.Z",
            "20240506070809,5Z",
            "20240506070809+0900",
            "20240230070809Z",
            "20240506250809Z",
            "2024050607080aZ",
            "19691231235959Z",
        ] {
            assert!(gt(bad).is_err(), "{bad}");
        }
        // Length bound.
        let long = format!("20240506070809.{}Z", "1".repeat(60));
        assert!(gt(&long).is_err());
        // Round trip with UnixTime.
        let u = UnixTime::new(1_924_991_999, 10_000);
        let g = GenTime::try_from(u).unwrap();
        assert_eq!(enc(g), "20301231235959.00001Z");
        assert_eq!(UnixTime::from(gt(&enc(g)).unwrap()), u);
    }

    #[test]
    fn failure_info_bits() {
        let cases: [(PkiFailureInfo, &str); 5] = [
            (PkiFailureInfo::bad_alg(), "03020780"),
            (PkiFailureInfo::bad_request(), "03020520"),
            (PkiFailureInfo::bad_data_format(), "03020204"),
            (PkiFailureInfo::unaccepted_policy(), "0303000001"),
            (PkiFailureInfo::system_failure(), "0305060000 0040"),
        ];
        for (f, h) in cases {
            let h = h.replace(' ', "");
            assert_eq!(f.to_der().unwrap(), hex(&h), "{:?}", f.names());
            assert_eq!(PkiFailureInfo::from_der(&hex(&h)).unwrap(), f);
        }
        let both = PkiFailureInfo::BAD_ALG | PkiFailureInfo::TIME_NOT_AVAILABLE;
        assert!(both.contains(PkiFailureInfo::BAD_ALG));
        assert_eq!(both.names(), ["badAlg", "timeNotAvailable"]);
        assert_eq!(
            PkiFailureInfo::from_der(&both.to_der().unwrap()).unwrap(),
            both
        );
        assert_eq!(PkiFailureInfo(0).to_der().unwrap(), hex("030100"));
        // Unknown bit 1 kept for the caller to refuse.
        assert_eq!(
            PkiFailureInfo::from_der(&hex("03020640"))
                .unwrap()
                .unknown_bits(),
            2
        );
        // Non-zero unused bits, too long: refused.
        assert!(PkiFailureInfo::from_der(&hex("03020781")).is_err());
        assert!(PkiFailureInfo::from_der(&hex("0306000000000080")).is_err());
    }

    fn openssl_query(args: &[&str]) -> Vec<u8> {
        // One folder per call: tests run in parallel and each removes its folder at the end.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("inkan-tsq-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let data = dir.join("data.txt");
        std::fs::write(&data, b"hello inkan").unwrap();
        let mut a = vec!["ts", "-query", "-data", data.to_str().unwrap()];
        a.extend_from_slice(args);
        let out = std::process::Command::new("openssl")
            .args(&a)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::remove_dir_all(&dir).ok();
        out.stdout
    }

    #[test]
    fn openssl_requests_round_trip() {
        let der = openssl_query(&["-sha256", "-cert"]);
        let req = TimeStampReq::parse(&der).unwrap();
        assert_eq!(req.version, 1);
        assert!(req.cert_req);
        assert!(req.nonce.is_some(), "openssl adds a nonce by default");
        assert_eq!(
            req.message_imprint.check_length(),
            Ok(DigestAlgorithm::Sha256)
        );
        assert_eq!(
            req.message_imprint.hashed_message.as_bytes(),
            DigestAlgorithm::Sha256.digest(b"hello inkan")
        );
        assert_eq!(req.to_der().unwrap(), der);

        let der = openssl_query(&["-sha512", "-no_nonce", "-tspolicy", "1.2.3.4.1"]);
        let req = TimeStampReq::parse(&der).unwrap();
        assert!(!req.cert_req);
        assert!(req.nonce.is_none());
        assert_eq!(
            req.req_policy,
            Some(ObjectIdentifier::new_unwrap("1.2.3.4.1"))
        );
        assert_eq!(
            req.message_imprint.check_length(),
            Ok(DigestAlgorithm::Sha512)
        );
        assert_eq!(req.to_der().unwrap(), der);

        // Our own request is what OpenSSL would make.
        let mine = TimeStampReq {
            version: 1,
            message_imprint: MessageImprint::of_data(DigestAlgorithm::Sha512, b"hello inkan")
                .unwrap(),
            req_policy: Some(ObjectIdentifier::new_unwrap("1.2.3.4.1")),
            nonce: None,
            cert_req: false,
            extensions: None,
        };
        // OpenSSL writes NULL hash parameters; ours are absent (RFC 5754 §2). Same otherwise.
        let mut theirs = req.clone();
        theirs.message_imprint.hash_algorithm.parameters = None;
        assert_eq!(mine, theirs);
    }

    #[test]
    fn garbage_requests_fail_cleanly() {
        for bad in [
            &b""[..],
            &[0x30],
            &[0x30, 0x80, 0, 0],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        ] {
            assert!(TimeStampReq::parse(bad).is_err());
            assert!(TimeStampResp::parse(bad).is_err());
            assert!(TstInfo::parse(bad).is_err());
            assert!(TstInfo::parse_der(bad).is_err());
        }
        let mut der = openssl_query(&["-sha256"]);
        der.push(0);
        assert!(TimeStampReq::parse(&der).is_err(), "trailing data");
    }

    #[test]
    fn positive_int_is_minimal() {
        assert_eq!(
            positive_int(&[0, 0, 0x80]).unwrap().to_der().unwrap(),
            hex("0202 0080".replace(' ', "").as_str())
        );
        assert_eq!(
            positive_int(&[0x01]).unwrap().to_der().unwrap(),
            hex("020101")
        );
    }

    /// The elements of a DER TSTInfo with every field present, `ordering` (FALSE) left out.
    fn sample_elements() -> Vec<Vec<u8>> {
        let ext = tlv::encode_parts(
            tag::SEQUENCE,
            &[
                tlv::encode_oid(&ObjectIdentifier::new_unwrap("1.2.3.4")),
                tlv::encode(tag::OCTET_STRING, &[0x05, 0x00]),
            ],
        );
        let name = GeneralName::DnsName(der::asn1::Ia5String::new("tsa.example").unwrap());
        vec![
            tlv::encode(tag::INTEGER, &[1]),
            tlv::encode_oid(&oid::ETSI_BASELINE_TS_POLICY),
            MessageImprint::of_data(DigestAlgorithm::Sha256, b"x")
                .unwrap()
                .to_der()
                .unwrap(),
            tlv::encode(tag::INTEGER, &[0x00, 0x9f, 0x01]),
            GenTime::from_unix(UnixTime::new(1_714_979_289, 250_000_000))
                .unwrap()
                .to_der()
                .unwrap(),
            Accuracy {
                seconds: Some(1),
                millis: SubSecond::new(500),
                micros: None,
            }
            .to_der()
            .unwrap(),
            tlv::encode(tag::INTEGER, &[0x00, 0xde, 0xad]),
            tlv::encode(tag::CTX0, &name.to_der().unwrap()),
            tlv::encode(tag::CTX1, &ext),
        ]
    }

    fn sample_tst_info() -> Vec<u8> {
        tlv::encode_parts(tag::SEQUENCE, &sample_elements())
    }

    #[test]
    fn tst_info_round_trip() {
        let der = sample_tst_info();
        let t = TstInfo::parse_der(&der).unwrap();
        assert_eq!(TstInfo::parse(&der).unwrap(), t);
        assert_eq!(t.version, [1]);
        assert_eq!(t.policy_oid().unwrap(), oid::ETSI_BASELINE_TS_POLICY);
        assert_eq!(
            t.message_imprint().unwrap(),
            MessageImprint::of_data(DigestAlgorithm::Sha256, b"x").unwrap()
        );
        assert_eq!(t.serial_hex(), "009f01");
        assert_eq!(
            t.generalized_time().unwrap().to_unix(),
            UnixTime::new(1_714_979_289, 250_000_000)
        );
        assert_eq!(t.gen_time_raw, b"20240506070809.25Z");
        assert_eq!(t.accuracy().unwrap().unwrap().as_nanos(), 1_500_000_000);
        assert!(!t.is_ordered());
        assert_eq!(t.nonce.as_deref(), Some(&[0x00, 0xde, 0xad][..]));
        assert_eq!(
            t.tsa_name().unwrap(),
            Some(GeneralName::DnsName(
                der::asn1::Ia5String::new("tsa.example").unwrap()
            ))
        );
        let ext = t.extensions().unwrap().unwrap();
        assert_eq!(ext.len(), 1);
        assert_eq!(ext[0].extn_id, ObjectIdentifier::new_unwrap("1.2.3.4"));
        // The minimal TSTInfo: no optional field.
        let min = tlv::encode_parts(tag::SEQUENCE, &sample_elements()[..5]);
        let t = TstInfo::parse_der(&min).unwrap();
        assert_eq!(t.accuracy().unwrap(), None);
        assert_eq!((t.nonce.as_deref(), t.tsa_name().unwrap()), (None, None));
        assert!(t.extensions().unwrap().is_none());
        // Accuracy millis 0 or 1000: refused.
        assert!(SubSecond::new(0).is_none());
        assert!(SubSecond::new(1000).is_none());
        let bad_acc = hex("3005800203e8"); // millis = 1000
        assert!(Accuracy::from_der(&bad_acc).is_err());
        let mut e = sample_elements();
        e[5] = bad_acc;
        let t = TstInfo::parse(&tlv::encode_parts(tag::SEQUENCE, &e)).unwrap();
        assert_eq!(
            t.accuracy().unwrap_err().message(),
            "Accuracy.millis: 1000 is not in 1..999"
        );
    }

    #[test]
    fn parse_der_names_the_element_that_is_not_der() {
        let with = |i: usize, v: &[u8]| {
            let mut e = sample_elements();
            e[i] = v.to_vec();
            tlv::encode_parts(tag::SEQUENCE, &e)
        };
        let mut ordering_false = sample_elements();
        ordering_false.insert(6, vec![tag::BOOLEAN, 1, 0]);
        let mut ordering_01 = sample_elements();
        ordering_01.insert(6, vec![tag::BOOLEAN, 1, 1]);
        let mut trailing = sample_elements();
        trailing.push(tlv::encode(tag::INTEGER, &[7]));
        let body: Vec<u8> = sample_elements().concat();
        let mut long_form = vec![tag::SEQUENCE, 0x82];
        long_form.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
        long_form.extend_from_slice(&body);
        let mut indefinite = vec![tag::SEQUENCE, 0x80];
        indefinite.extend_from_slice(&body);
        indefinite.extend_from_slice(&[0, 0]);
        let time = |s: &[u8]| tlv::encode(tag::GENERALIZED_TIME, s);
        let cases: [(Vec<u8>, &str); 10] = [
            (with(0, &[0x02, 0x02, 0x00, 0x01]), "TSTInfo.version"),
            (with(3, &[0x02, 0x02, 0x00, 0x01]), "TSTInfo.serialNumber"),
            (with(4, &time(b"20240506070809.250Z")), "TSTInfo.genTime"),
            (with(4, &time(b"20240506160809+0900")), "TSTInfo.genTime"),
            (with(6, &[0x02, 0x02, 0xff, 0x80]), "TSTInfo.nonce"),
            (with(5, &hex("300402020001")), "TSTInfo.accuracy"),
            (
                tlv::encode_parts(tag::SEQUENCE, &ordering_false),
                "TSTInfo.ordering",
            ),
            (
                tlv::encode_parts(tag::SEQUENCE, &ordering_01),
                "TSTInfo.ordering",
            ),
            (tlv::encode_parts(tag::SEQUENCE, &trailing), "TSTInfo"),
            (long_form, "TSTInfo"),
        ];
        for (bytes, what) in cases {
            let e = TstInfo::parse_der(&bytes).unwrap_err();
            assert!(e.message().starts_with(what), "{what}: {}", e.message());
        }
        // Indefinite lengths: read tolerantly, refused as DER.
        let t = TstInfo::parse(&indefinite).unwrap();
        assert_eq!(t, TstInfo::parse_der(&sample_tst_info()).unwrap());
        assert!(TstInfo::parse_der(&indefinite).is_err());
    }

    #[test]
    fn response_round_trip_and_coupling() {
        let r = TimeStampResp {
            status: PkiStatusInfo::rejection(PkiFailureInfo::BAD_ALG, Some("SHA-1 refused")),
            time_stamp_token: None,
        };
        let der = r.to_der().unwrap();
        let back = TimeStampResp::parse(&der).unwrap();
        assert_eq!(back, r);
        assert!(back.is_consistent());
        let g = TimeStampResp {
            status: PkiStatusInfo::granted(),
            time_stamp_token: None,
        };
        assert!(!g.is_consistent());
        // An unknown status value (6) fails to decode.
        assert!(TimeStampResp::parse(&hex("3005300302010 6".replace(' ', "").as_str())).is_err());
    }

    #[test]
    fn openssl_reads_our_rejection() {
        let dir = std::env::temp_dir().join(format!("inkan-tsr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let r = TimeStampResp {
            status: PkiStatusInfo::rejection(
                PkiFailureInfo::BAD_ALG | PkiFailureInfo::UNACCEPTED_POLICY,
                Some("SHA-1 is not accepted"),
            ),
            time_stamp_token: None,
        };
        let path = dir.join("r.tsr");
        std::fs::write(&path, r.to_der().unwrap()).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["ts", "-reply", "-in", path.to_str().unwrap(), "-text"])
            .output()
            .unwrap();
        std::fs::remove_dir_all(&dir).ok();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("Status: Rejected"), "{text}");
        assert!(text.contains("SHA-1 is not accepted"), "{text}");
        assert!(
            text.contains("unrecognized or unsupported algorithm"),
            "{text}"
        );
        assert!(
            text.contains("requested TSA policy is not supported"),
            "{text}"
        );
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let mut seeds = vec![
            openssl_query(&["-sha256", "-cert", "-tspolicy", "1.2.3"]),
            sample_tst_info(),
            TimeStampResp {
                status: PkiStatusInfo::rejection(PkiFailureInfo::SYSTEM_FAILURE, Some("x")),
                time_stamp_token: None,
            }
            .to_der()
            .unwrap(),
        ];
        seeds.push(seeds[1].clone());
        for seed in &seeds {
            for cut in 0..seed.len() {
                let b = &seed[..cut];
                let _ = TimeStampReq::parse(b);
                let _ = TimeStampResp::parse(b);
                let _ = TstInfo::parse(b);
                let _ = TstInfo::parse_der(b);
            }
            for i in 0..seed.len() {
                for x in [0x01u8, 0x80, 0xff] {
                    let mut b = seed.clone();
                    b[i] ^= x;
                    let _ = TimeStampReq::parse(&b);
                    let _ = TimeStampResp::parse(&b);
                    let _ = TstInfo::parse(&b);
                    let _ = TstInfo::parse_der(&b);
                }
            }
        }
    }

    #[test]
    fn tst_info_reads_a_negative_serial() {
        // The TSTInfo of a sigstore test token: serial number DEADBEEF (a negative INTEGER,
        // which a reader insisting on a positive serial would refuse).
        let hex = "306102010106092b0601040183bf3002302f300b0609608648016503040201042\
                   09b72f4419437d16d5c1a06199442839370a4bb5eb16ce72e93a7f303679b50360204de\
                   adbeef180f32303233303230313030303030305a30030201010204499602d2";
        let b: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let t = TstInfo::parse(&b).unwrap();
        assert_eq!(TstInfo::parse_der(&b).unwrap(), t, "it is DER all the same");
        assert_eq!(t.serial, [0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(t.serial_hex(), "deadbeef");
        assert_eq!(t.policy_string(), "1.3.6.1.4.1.57264.2");
        assert_eq!(t.policy_oid().unwrap().to_string(), "1.3.6.1.4.1.57264.2");
        assert_eq!(
            t.imprint_alg_oid().unwrap(),
            ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1")
        );
        assert_eq!(
            t.message_imprint().unwrap().check_length(),
            Ok(DigestAlgorithm::Sha256)
        );
        assert_eq!(t.imprint.len(), 32);
        assert_eq!(t.gen_time, 1_675_209_600);
        assert_eq!(t.gen_time_raw, b"20230201000000Z");
        assert_eq!(
            t.generalized_time().unwrap().to_unix(),
            UnixTime::from_secs(1_675_209_600)
        );
        assert_eq!(
            t.accuracy.as_deref(),
            Some(&[0x30, 0x03, 0x02, 0x01, 0x01][..])
        );
        assert_eq!(t.accuracy().unwrap(), Some(Accuracy::seconds(1)));
        assert_eq!(t.ordering, None);
        assert_eq!(t.nonce.as_deref(), Some(&[0x49, 0x96, 0x02, 0xd2][..]));
        for bad in [&b""[..], &[0x30, 0x00], &b[..b.len() - 1]] {
            assert!(TstInfo::parse(bad).is_err());
        }
        let e = TstInfo::parse(&[0x30, 0x03, 0x02, 0x01, 0x01]).unwrap_err();
        assert_eq!(e.message(), "TSTInfo.policy: missing");
        // genTime with an offset: read tolerantly, refused by the RFC 3161 syntax.
        let mut e = sample_elements();
        e[4] = tlv::encode(tag::GENERALIZED_TIME, b"20240506160809+0900");
        let t = TstInfo::parse(&tlv::encode_parts(tag::SEQUENCE, &e)).unwrap();
        assert_eq!(t.gen_time, 1_714_979_289);
        assert!(t.generalized_time().is_err());
    }
}
