//! RFC 3161 time-stamp tokens: reading `TSTInfo`, and the checks a client makes on receipt
//! (RFC 3161 §2.4.2 and §4): imprint and nonce equal the request,
//! the token's signature verifies with the TSA certificate it carries, that certificate is
//! identified by the ESS signing-certificate attribute, has the timeStamping extended key usage
//! and is valid at genTime.

use const_oid::ObjectIdentifier;
use inkan_profiles::alg::DigestAlgorithm;
use inkan_profiles::time::{UnixTime, days_from_civil, days_in_month};

use crate::certs::{self, Cert};
use crate::error::TokenError;
use crate::{crypto, digest};
use inkan_profiles::asn1::cms::RawSignedData;
use inkan_profiles::asn1::tlv::{self, Rules, TlvError, tag};
use inkan_profiles::asn1::tsp::TstInfo;

/// Content type and attributes of tokens and signatures (RFC 3161, RFC 5652, RFC 2634, RFC 5035).
pub use inkan_profiles::oid::{
    ID_AA_SIGNING_CERTIFICATE, ID_AA_SIGNING_CERTIFICATE_V2, ID_CONTENT_TYPE, ID_CT_TST_INFO,
    ID_MESSAGE_DIGEST,
};

/// Parses a GeneralizedTime as RFC 3161 §2.4.2 (genTime) and RFC 6960 §4.2.1 (OCSP times)
/// write it: `YYYYMMDDhhmmss[.s...]Z`, UTC, from 1970. The date must exist (2024-02-31 and
/// 2023-02-29 are refused); digits beyond nanoseconds are dropped.
pub fn parse_generalized_time(v: &[u8]) -> Result<UnixTime, TlvError> {
    let bad = || {
        TlvError::new(format!(
            "bad GeneralizedTime {:?}",
            String::from_utf8_lossy(v)
        ))
    };
    if v.len() < 15 || v.last() != Some(&b'Z') || !v[..14].iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let n = |a: usize, b: usize| -> i64 {
        v[a..b]
            .iter()
            .fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0'))
    };
    let (y, mo, d, h, mi, s) = (n(0, 4), n(4, 6), n(6, 8), n(8, 10), n(10, 12), n(12, 14));
    if y < 1970 || !(1..=12).contains(&mo) || h > 23 || mi > 59 || s > 60 {
        return Err(bad());
    }
    // In range: checked above.
    if d < 1 || d > i64::from(days_in_month(y, mo as u32)) {
        return Err(bad());
    }
    let frac = &v[14..v.len() - 1];
    let mut nanos = 0u32;
    if !frac.is_empty() {
        if frac[0] != b'.' || frac.len() < 2 || !frac[1..].iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let mut scale = 100_000_000u32;
        for c in frac[1..].iter().take(9) {
            nanos += u32::from(c - b'0') * scale;
            scale /= 10;
        }
    }
    // In range: checked above.
    let secs = days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + s;
    u64::try_from(secs)
        .map(|s| UnixTime::new(s, nanos))
        .map_err(|_| bad())
}

/// A token that passed the checks, with what B-LT needs from it.
#[derive(Clone, Debug)]
pub struct CheckedToken {
    /// The token (DER ContentInfo), as received.
    pub der: Vec<u8>,
    /// Its TSTInfo.
    pub info: TstInfo,
    /// The TSA certificate.
    pub tsa_cert: Cert,
    /// Every certificate the token carries.
    pub certs: Vec<Cert>,
}

/// What the token must match.
#[derive(Clone, Debug)]
pub struct Expect<'a> {
    /// Imprint hash algorithm OID.
    pub alg: ObjectIdentifier,
    /// Imprint value.
    pub imprint: &'a [u8],
    /// The nonce sent (magnitude); `None` to skip (a token read back from a file).
    pub nonce: Option<&'a [u8]>,
}

fn strip(v: &[u8]) -> &[u8] {
    let mut v = v;
    while v.len() > 1 && v[0] == 0 {
        v = &v[1..];
    }
    v
}

/// A [`TokenError::Malformed`] for `part`.
fn malformed(part: &'static str, e: impl std::fmt::Display) -> TokenError {
    TokenError::Malformed {
        part,
        reason: e.to_string(),
    }
}

/// Checks a token against what was asked and against itself.
pub fn check(token: &[u8], expect: &Expect<'_>) -> Result<CheckedToken, TokenError> {
    let sd = RawSignedData::parse(token).map_err(|e| malformed("token", e))?;
    if sd.econtent_type != ID_CT_TST_INFO {
        return Err(TokenError::NotTstInfo);
    }
    let content = sd.econtent.as_ref().ok_or(TokenError::NoTstInfo)?;
    let info = TstInfo::parse(content).map_err(|e| malformed("TSTInfo", e))?;
    // RFC 3161 §2.4.2: policy is an OBJECT IDENTIFIER, genTime a UTC GeneralizedTime
    // `YYYYMMDDhhmmss[.s...]Z`.
    info.policy_oid().map_err(|e| malformed("TSTInfo", e))?;
    let imprint_alg = info
        .imprint_alg_oid()
        .map_err(|e| malformed("TSTInfo", e))?;
    let gen_time =
        parse_generalized_time(&info.gen_time_raw).map_err(|e| malformed("TSTInfo", e))?;
    if imprint_alg != expect.alg || info.imprint != expect.imprint {
        return Err(TokenError::ImprintMismatch);
    }
    if let Some(n) = expect.nonce {
        match &info.nonce {
            Some(got) if strip(got) == strip(n) => {}
            Some(_) => return Err(TokenError::NonceMismatch),
            None => return Err(TokenError::NonceMissing),
        }
    }
    let [si] = &sd.signer_infos[..] else {
        return Err(TokenError::SignerCount(sd.signer_infos.len()));
    };
    // Signed attributes: content-type TSTInfo, message-digest over the TSTInfo.
    let ct = si
        .signed_attr(&ID_CONTENT_TYPE)
        .ok_or(TokenError::MissingAttribute("content-type"))?;
    if ct.values.first() != Some(&tlv::encode_oid(&ID_CT_TST_INFO)) {
        return Err(TokenError::ContentTypeNotTstInfo);
    }
    let dig_oid = tlv::parse_exact_with(&si.digest_algorithm, Rules::LOW_TAGS_ONLY)
        .and_then(|t| t.children().expect_named(tag::OID, "digestAlgorithm"))
        .and_then(|o| o.oid())
        .map_err(|e| malformed("token digestAlgorithm", e))?;
    let dig_alg = digest::from_oid(&dig_oid).ok_or_else(|| TokenError::DigestNotAccepted {
        what: "token digest",
        oid: dig_oid.to_string(),
    })?;
    let md = si
        .signed_attr(&ID_MESSAGE_DIGEST)
        .and_then(|a| a.values.first())
        .ok_or(TokenError::MissingAttribute("message-digest"))?;
    let md = tlv::parse_exact_with(md, Rules::LOW_TAGS_ONLY)
        .and_then(|t| t.octet_string().map(std::borrow::Cow::into_owned))
        .map_err(|e| malformed("token message-digest", e))?;
    if md != dig_alg.digest(content) {
        return Err(TokenError::MessageDigestMismatch);
    }
    // The TSA certificate: carried in the token and named by the sid.
    let certs: Vec<Cert> = sd
        .certificates
        .iter()
        .filter(|c| c.first() == Some(&tag::SEQUENCE))
        .filter_map(|c| Cert::from_der(c).ok())
        .collect();
    let tsa_cert = find_signer(&si.sid, &certs)
        .ok_or(TokenError::NoTsaCertificate)?
        .clone();
    check_ess_cert_id(si, &tsa_cert)?;
    let tbs = si
        .signed_attrs_for_signature()
        .ok_or(TokenError::NoSignedAttributes)?;
    crypto::verify(
        &tsa_cert.spki,
        &si.signature_algorithm,
        &tbs,
        &si.signature,
        gen_time,
    )
    .map_err(|e| TokenError::Signature(e.to_string()))?;
    match tsa_cert.eku() {
        Some((_, ekus)) if ekus.contains(&certs::ID_KP_TIME_STAMPING) => {}
        _ => {
            return Err(TokenError::NoTimeStampingEku {
                subject: tsa_cert.subject(),
            });
        }
    }
    if !tsa_cert.valid_at(gen_time) {
        return Err(TokenError::NotValidAtGenTime {
            subject: tsa_cert.subject(),
        });
    }
    Ok(CheckedToken {
        der: token.to_vec(),
        info,
        tsa_cert,
        certs,
    })
}

/// The certificate a `SignerIdentifier` names.
pub fn find_signer<'a>(sid: &[u8], certs: &'a [Cert]) -> Option<&'a Cert> {
    let t = tlv::parse_exact_with(sid, Rules::LOW_TAGS_ONLY).ok()?;
    match t.tag {
        tag::SEQUENCE => {
            let mut r = t.children();
            let issuer = r.expect_named(tag::SEQUENCE, "issuer").ok()?;
            let serial = r.expect_named(tag::INTEGER, "serial").ok()?;
            certs
                .iter()
                .find(|c| c.issuer_raw == issuer.raw && c.serial_raw == serial.raw)
        }
        0x80 => certs.iter().find(|c| c.ski().as_deref() == Some(t.value)),
        _ => None,
    }
}

/// Checks that the ESS signing-certificate(-v2) attribute's first ESSCertID(v2) names `cert`.
fn check_ess_cert_id(
    si: &inkan_profiles::asn1::cms::RawSignerInfo,
    cert: &Cert,
) -> Result<(), TokenError> {
    let (v2, attr) = if let Some(a) = si.signed_attr(&ID_AA_SIGNING_CERTIFICATE_V2) {
        (true, a)
    } else if let Some(a) = si.signed_attr(&ID_AA_SIGNING_CERTIFICATE) {
        (false, a)
    } else {
        return Err(TokenError::MissingAttribute("ESS signing-certificate"));
    };
    let parse = || -> Result<(ObjectIdentifier, Vec<u8>), TlvError> {
        let v = attr
            .values
            .first()
            .ok_or_else(|| TlvError::new("empty attribute"))?;
        let sc = tlv::parse_exact_with(v, Rules::LOW_TAGS_ONLY)?
            .expect_named(tag::SEQUENCE, "SigningCertificate")?;
        let certs = sc.children().expect_named(tag::SEQUENCE, "certs")?;
        let first = certs.children().expect_named(tag::SEQUENCE, "ESSCertID")?;
        let mut r = first.children();
        let mut alg = DigestAlgorithm::Sha256.oid();
        if v2 && r.peek_tag() == Some(tag::SEQUENCE) {
            let a = r.expect_named(tag::SEQUENCE, "hashAlgorithm")?;
            alg = a.children().expect_named(tag::OID, "algorithm")?.oid()?;
        }
        let h = r.expect_named(tag::OCTET_STRING, "certHash")?;
        Ok((alg, h.value.to_vec()))
    };
    let (alg, hash) = parse().map_err(|e| malformed("token ESS attribute", e))?;
    let computed = if v2 {
        let a = digest::from_oid(&alg).ok_or_else(|| TokenError::DigestNotAccepted {
            what: "token ESS hash algorithm",
            oid: alg.to_string(),
        })?;
        a.digest(&cert.der)
    } else {
        // ESS v1 names the certificate by SHA-1 (RFC 2634); only for identification here.
        DigestAlgorithm::Sha1.digest(&cert.der)
    };
    if computed != hash {
        return Err(TokenError::EssHashMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_time() {
        // 2026-11-23T10:20:30.5Z
        let t = parse_generalized_time(b"20261123102030.5Z").unwrap();
        assert_eq!(t.secs(), 1_795_429_230);
        assert_eq!(t.subsec_nanos(), 500_000_000);
        assert!(parse_generalized_time(b"20261323102030Z").is_err());
        assert!(parse_generalized_time(b"20261123102030").is_err());
        assert!(parse_generalized_time(b"20261123102030.Z").is_err());
    }

    #[test]
    fn generalized_time_dates_must_exist() {
        for bad in [
            &b"20240231000000Z"[..],
            b"20230229000000Z",
            b"20240431120000Z",
            b"21000229000000Z",
            b"20240100000000Z",
            b"19691231235959Z",
        ] {
            assert!(
                parse_generalized_time(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // Leap days that exist: 2024 (divisible by 4), 2000 (by 400).
        let t = parse_generalized_time(b"20240229235959Z").unwrap();
        assert_eq!(t.secs(), 1_709_251_199);
        assert_eq!(
            parse_generalized_time(b"20000229000000Z").unwrap().secs(),
            951_782_400
        );
        assert_eq!(
            parse_generalized_time(b"20240430000000Z").unwrap().secs() + 86_400,
            parse_generalized_time(b"20240501000000Z").unwrap().secs()
        );
    }
}
