//! A development PKI — **NOT FOR PRODUCTION**.
//!
//! Makes a root CA, an optional intermediate CA, a TSA certificate (extended key usage
//! `id-kp-timeStamping` only, critical; key usage digitalSignature), an e-seal certificate
//! (nonRepudiation + digitalSignature; subject with `O` and an `organizationIdentifier` in the
//! 法人番号 form `NTRJP-` + 13 digits), a revoked e-seal certificate and a CRL listing it. Every
//! subject says "NOT FOR PRODUCTION". Used by tests and by the `--dev` modes of the binaries.
//!
//! Certificates are signed through this crate's own [`Signer`], so the same code issues
//! certificates over software keys and over keys held on a PKCS#11 token
//! ([`DevPki::with_keys`]). The DER is written directly (a few dozen lines) rather than through
//! x509-cert's `builder` feature, which would add an adapter layer for our `Signer` and bring
//! its own serial-number and time handling; x509-cert stays the decoder.
//!
//! Software keys: P-256 and P-384 are generated with ring, P-521 with RustCrypto `p521`,
//! Ed25519 with ring. RSA keys cannot be generated here (ring only signs; the `rsa` crate is
//! for verification only): bring them in through [`DevPki::with_keys`].
//!
//! ```no_run
//! use inkan_hsm::devpki::{DevPki, KeyAlg};
//! use inkan_profiles::time::UnixTime;
//! let pki = DevPki::generate(UnixTime::from_secs(1_795_392_000), KeyAlg::P256).unwrap();
//! std::fs::write("dev-root.pem", pki.root_pem()).unwrap();
//! std::fs::write("tsa-key.pem", &pki.tsa_key_pem).unwrap();
//! std::fs::write("tsa-chain.pem", pki.tsa_chain_pem()).unwrap();
//! ```

use std::sync::Arc;

use const_oid::ObjectIdentifier;
use der::Encode;
use inkan_profiles::time::UnixTime;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::cms::time_der;
use crate::derw::{self, tag};
use crate::name::DistinguishedName;
use crate::policy_glue::Policy;
use crate::soft::{SoftKey, default_algorithms};
use crate::{Error, Signer, SigningKey};

const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const OID_OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
const OID_C: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
const OID_ORG_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.97");

const EXT_SKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const EXT_KU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const EXT_BC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const EXT_CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
const EXT_REASON: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
const EXT_AKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const EXT_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const EXT_OCSP_NOCHECK: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");
/// `id-kp-timeStamping` (RFC 5280 section 4.2.1.12).
pub const KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
/// `id-kp-OCSPSigning` (RFC 5280 section 4.2.1.12).
pub const KP_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");

/// The development organisation's 法人番号-style identifier (13 digits; fictitious).
pub const DEV_ORGANIZATION_IDENTIFIER: &str = "NTRJP-9999999999991";

/// A key algorithm the development PKI can generate in software.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyAlg {
    /// ECDSA P-256.
    P256,
    /// ECDSA P-384.
    P384,
    /// ECDSA P-521.
    P521,
    /// Ed25519.
    Ed25519,
}

/// Generates a software key: its PKCS#8 PEM and the loaded key.
pub fn generate_key(alg: KeyAlg) -> Result<(Zeroizing<String>, Arc<dyn SigningKey>), Error> {
    let rng = SystemRandom::new();
    let sw = |e: ring::error::Unspecified| Error::Software(format!("key generation: {e}"));
    let der: Zeroizing<Vec<u8>> = match alg {
        KeyAlg::P256 => Zeroizing::new(
            ring::signature::EcdsaKeyPair::generate_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                &rng,
            )
            .map_err(sw)?
            .as_ref()
            .to_vec(),
        ),
        KeyAlg::P384 => Zeroizing::new(
            ring::signature::EcdsaKeyPair::generate_pkcs8(
                &ring::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
                &rng,
            )
            .map_err(sw)?
            .as_ref()
            .to_vec(),
        ),
        KeyAlg::P521 => {
            use pkcs8::EncodePrivateKey;
            let sk = loop {
                let mut b = Zeroizing::new([0u8; 66]);
                rng.fill(&mut *b).map_err(sw)?;
                b[0] &= 0x01; // 521 bits
                if let Ok(sk) = p521::SecretKey::from_slice(&*b) {
                    break sk;
                }
            };
            let doc = sk
                .to_pkcs8_der()
                .map_err(|e| Error::Software(format!("P-521 PKCS#8: {e}")))?;
            Zeroizing::new(doc.as_bytes().to_vec())
        }
        KeyAlg::Ed25519 => Zeroizing::new(
            ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(sw)?
                .as_ref()
                .to_vec(),
        ),
    };
    let pem = der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &der)
        .map_err(|e| Error::Encoding(e.to_string()))?;
    let key = SoftKey::from_pkcs8_der(
        &der,
        "generated development key",
        &Policy::cryptrec(),
        UnixTime::from_secs(0),
    )?;
    Ok((Zeroizing::new(pem), Arc::new(key)))
}

/// A validity period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// `notBefore`.
    pub not_before: UnixTime,
    /// `notAfter`.
    pub not_after: UnixTime,
}

impl Validity {
    /// From `at - back_secs` to `at + forward_secs`.
    pub fn around(at: UnixTime, back_secs: u64, forward_secs: u64) -> Self {
        Self {
            not_before: UnixTime::from_secs(at.secs().saturating_sub(back_secs)),
            not_after: UnixTime::from_secs(at.secs().saturating_add(forward_secs)),
        }
    }
}

/// What a certificate is for; decides its extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertProfile {
    /// A CA: basicConstraints cA (critical), keyUsage keyCertSign + cRLSign (critical).
    Ca {
        /// `pathLenConstraint`.
        path_len: Option<u8>,
    },
    /// A TSA (RFC 3161 section 2.3): extendedKeyUsage `id-kp-timeStamping` only, critical;
    /// keyUsage digitalSignature (critical).
    TimeStamping,
    /// An e-seal: keyUsage nonRepudiation + digitalSignature (critical).
    ESeal,
    /// An OCSP responder: extendedKeyUsage `id-kp-OCSPSigning`, keyUsage digitalSignature,
    /// `id-pkix-ocsp-nocheck` (RFC 6960 section 4.2.2.2.1).
    OcspResponder,
}

/// A revoked certificate entry for [`DevCa::issue_crl`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revoked {
    /// The certificate's serial number, as its DER `INTEGER` encoding.
    pub serial_der: Vec<u8>,
    /// `revocationDate`.
    pub at: UnixTime,
    /// `CRLReason` code (RFC 5280 section 5.3.1), e.g. 1 keyCompromise; `None` to omit.
    pub reason: Option<u8>,
}

impl Revoked {
    /// An entry revoking the DER certificate `cert`.
    pub fn certificate(cert: &[u8], at: UnixTime, reason: Option<u8>) -> Result<Self, Error> {
        Ok(Self {
            serial_der: derw::cert_parts(cert)?.serial.to_vec(),
            at,
            reason,
        })
    }
}

fn ext(out: &mut Vec<u8>, oid: ObjectIdentifier, critical: bool, value: &[u8]) {
    let o = derw::tlv_vec(tag::OID, oid.as_bytes());
    let v = derw::tlv_vec(tag::OCTET_STRING, value);
    if critical {
        derw::tlv_parts(out, tag::SEQUENCE, &[&o, &[0x01, 0x01, 0xFF], &v]);
    } else {
        derw::tlv_parts(out, tag::SEQUENCE, &[&o, &v]);
    }
}

/// Key identifier (RFC 7093 section 2 method 1): SHA-256 of the subjectPublicKey bits,
/// truncated to 160 bits.
fn key_id(spki_der: &[u8]) -> Result<Vec<u8>, Error> {
    let spki = derw::expect(spki_der, tag::SEQUENCE, "SubjectPublicKeyInfo")?;
    let mut r = spki.children();
    r.expect_named(tag::SEQUENCE, "algorithm")?;
    let bits = r.expect_named(0x03, "subjectPublicKey")?;
    let d = ring::digest::digest(&ring::digest::SHA256, bits.value.get(1..).unwrap_or(&[]));
    Ok(d.as_ref()[..20].to_vec())
}

fn random_serial() -> Result<Vec<u8>, Error> {
    let mut b = [0u8; 16];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|e| Error::Software(format!("random: {e}")))?;
    // Positive, and no leading zero octet: 0x40..=0x7F first.
    b[0] = (b[0] & 0x3F) | 0x40;
    Ok(derw::tlv_vec(tag::INTEGER, &b))
}

/// Signs a TBS structure and wraps it: `SEQUENCE { tbs, signatureAlgorithm, BIT STRING }`.
fn sign_wrap(signer: &dyn Signer, tbs: &[u8], sig_alg: &[u8]) -> Result<Vec<u8>, Error> {
    let sig = signer.sign(tbs)?;
    let mut bits = Vec::with_capacity(sig.len() + 1);
    bits.push(0);
    bits.extend_from_slice(&sig);
    let bits = derw::tlv_vec(0x03, &bits);
    let mut out = Vec::new();
    derw::tlv_parts(&mut out, tag::SEQUENCE, &[tbs, sig_alg, &bits]);
    Ok(out)
}

fn validity_der(v: &Validity) -> Vec<u8> {
    let mut out = Vec::new();
    derw::tlv_parts(
        &mut out,
        tag::SEQUENCE,
        &[&time_der(v.not_before), &time_der(v.not_after)],
    );
    out
}

/// A certification authority of the development PKI: its certificate and its key.
#[derive(Clone, Debug)]
pub struct DevCa {
    cert_der: Vec<u8>,
    name_der: Vec<u8>,
    key_id: Vec<u8>,
    signer: Arc<dyn Signer>,
    sig_alg_der: Vec<u8>,
}

impl DevCa {
    fn from_parts(cert_der: Vec<u8>, key: &dyn SigningKey) -> Result<Self, Error> {
        let signer = choose(key)?;
        let parts = derw::cert_parts(&cert_der)?;
        let name_der = parts.subject.to_vec();
        let key_id = key_id(parts.spki)?;
        let sig_alg_der = signer.algorithm().to_algorithm_identifier().to_der()?;
        Ok(Self {
            cert_der,
            name_der,
            key_id,
            signer,
            sig_alg_der,
        })
    }

    /// A self-signed root CA over `key`.
    pub fn root(
        key: &dyn SigningKey,
        subject: &DistinguishedName,
        validity: Validity,
    ) -> Result<Self, Error> {
        let signer = choose(key)?;
        let sig_alg_der = signer.algorithm().to_algorithm_identifier().to_der()?;
        let name = subject.to_der();
        let spki = key.public_key_der();
        let ski = key_id(spki)?;
        let tbs = tbs_certificate(
            &sig_alg_der,
            &name,
            &name,
            &validity,
            spki,
            &ski,
            None,
            CertProfile::Ca { path_len: None },
        )?;
        let cert = sign_wrap(&*signer, &tbs, &sig_alg_der)?;
        Self::from_parts(cert, key)
    }

    /// The CA certificate (DER).
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Issues a certificate for the DER `SubjectPublicKeyInfo` `spki_der`.
    pub fn issue(
        &self,
        profile: CertProfile,
        subject: &DistinguishedName,
        spki_der: &[u8],
        validity: Validity,
    ) -> Result<Vec<u8>, Error> {
        let ski = key_id(spki_der)?;
        let tbs = tbs_certificate(
            &self.sig_alg_der,
            &self.name_der,
            &subject.to_der(),
            &validity,
            spki_der,
            &ski,
            Some(&self.key_id),
            profile,
        )?;
        sign_wrap(&*self.signer, &tbs, &self.sig_alg_der)
    }

    /// Issues a subordinate CA over `key` (pathLenConstraint 0).
    pub fn issue_ca(
        &self,
        key: &dyn SigningKey,
        subject: &DistinguishedName,
        validity: Validity,
    ) -> Result<Self, Error> {
        let cert = self.issue(
            CertProfile::Ca { path_len: Some(0) },
            subject,
            key.public_key_der(),
            validity,
        )?;
        Self::from_parts(cert, key)
    }

    /// Issues a version 2 CRL (RFC 5280 section 5) with authorityKeyIdentifier and cRLNumber.
    pub fn issue_crl(
        &self,
        this_update: UnixTime,
        next_update: UnixTime,
        crl_number: u64,
        revoked: &[Revoked],
    ) -> Result<Vec<u8>, Error> {
        let mut tbs_inner = Vec::new();
        derw::tlv(&mut tbs_inner, tag::INTEGER, &[1]);
        tbs_inner.extend_from_slice(&self.sig_alg_der);
        tbs_inner.extend_from_slice(&self.name_der);
        tbs_inner.extend_from_slice(&time_der(this_update));
        tbs_inner.extend_from_slice(&time_der(next_update));
        if !revoked.is_empty() {
            let mut entries = Vec::new();
            for r in revoked {
                derw::expect(&r.serial_der, tag::INTEGER, "serial")?;
                let mut exts = Vec::new();
                if let Some(code) = r.reason {
                    let mut e = Vec::new();
                    ext(&mut e, EXT_REASON, false, &[0x0A, 0x01, code]);
                    exts = derw::tlv_vec(tag::SEQUENCE, &e);
                }
                derw::tlv_parts(
                    &mut entries,
                    tag::SEQUENCE,
                    &[&r.serial_der, &time_der(r.at), &exts],
                );
            }
            derw::tlv(&mut tbs_inner, tag::SEQUENCE, &entries);
        }
        let mut exts = Vec::new();
        let kid = derw::tlv_vec(0x80, &self.key_id);
        ext(
            &mut exts,
            EXT_AKI,
            false,
            &derw::tlv_vec(tag::SEQUENCE, &kid),
        );
        ext(&mut exts, EXT_CRL_NUMBER, false, &uint_der(crl_number));
        let exts = derw::tlv_vec(tag::SEQUENCE, &exts);
        derw::tlv(&mut tbs_inner, tag::CTX0, &exts);
        let tbs = derw::tlv_vec(tag::SEQUENCE, &tbs_inner);
        sign_wrap(&*self.signer, &tbs, &self.sig_alg_der)
    }
}

fn uint_der(n: u64) -> Vec<u8> {
    let b = n.to_be_bytes();
    let first = b.iter().position(|&x| x != 0).unwrap_or(7);
    let mut v = Vec::with_capacity(9);
    if b[first] & 0x80 != 0 {
        v.push(0);
    }
    v.extend_from_slice(&b[first..]);
    derw::tlv_vec(tag::INTEGER, &v)
}

fn choose(key: &dyn SigningKey) -> Result<Arc<dyn Signer>, Error> {
    key.choose(&default_algorithms(&key.kind()))
        .ok_or_else(|| Error::UnsupportedKey(format!("{:?} cannot sign certificates", key.kind())))
}

#[allow(clippy::too_many_arguments)] // one private call site per certificate kind
fn tbs_certificate(
    sig_alg: &[u8],
    issuer: &[u8],
    subject: &[u8],
    validity: &Validity,
    spki: &[u8],
    ski: &[u8],
    aki: Option<&[u8]>,
    profile: CertProfile,
) -> Result<Vec<u8>, Error> {
    derw::expect(spki, tag::SEQUENCE, "SubjectPublicKeyInfo")?;
    let mut exts = Vec::new();
    match profile {
        CertProfile::Ca { path_len } => {
            let mut bc = vec![0x01, 0x01, 0xFF];
            if let Some(n) = path_len {
                bc.extend_from_slice(&[0x02, 0x01, n]);
            }
            ext(&mut exts, EXT_BC, true, &derw::tlv_vec(tag::SEQUENCE, &bc));
            // keyCertSign (5) + cRLSign (6).
            ext(&mut exts, EXT_KU, true, &[0x03, 0x02, 0x01, 0x06]);
        }
        CertProfile::TimeStamping => {
            ext(&mut exts, EXT_KU, true, &[0x03, 0x02, 0x07, 0x80]);
            let kp = derw::tlv_vec(tag::OID, KP_TIME_STAMPING.as_bytes());
            ext(&mut exts, EXT_EKU, true, &derw::tlv_vec(tag::SEQUENCE, &kp));
        }
        CertProfile::ESeal => {
            // digitalSignature (0) + nonRepudiation (1).
            ext(&mut exts, EXT_KU, true, &[0x03, 0x02, 0x06, 0xC0]);
        }
        CertProfile::OcspResponder => {
            ext(&mut exts, EXT_KU, true, &[0x03, 0x02, 0x07, 0x80]);
            let kp = derw::tlv_vec(tag::OID, KP_OCSP_SIGNING.as_bytes());
            ext(
                &mut exts,
                EXT_EKU,
                false,
                &derw::tlv_vec(tag::SEQUENCE, &kp),
            );
            ext(&mut exts, EXT_OCSP_NOCHECK, false, &[0x05, 0x00]);
        }
    }
    ext(
        &mut exts,
        EXT_SKI,
        false,
        &derw::tlv_vec(tag::OCTET_STRING, ski),
    );
    if let Some(k) = aki {
        let kid = derw::tlv_vec(0x80, k);
        ext(
            &mut exts,
            EXT_AKI,
            false,
            &derw::tlv_vec(tag::SEQUENCE, &kid),
        );
    }
    let exts = derw::tlv_vec(tag::SEQUENCE, &exts);
    let exts = derw::tlv_vec(0xA3, &exts);
    let mut tbs = Vec::new();
    derw::tlv_parts(
        &mut tbs,
        tag::SEQUENCE,
        &[
            &[0xA0, 0x03, 0x02, 0x01, 0x02],
            &random_serial()?,
            sig_alg,
            issuer,
            &validity_der(validity),
            subject,
            spki,
            &exts,
        ],
    );
    Ok(tbs)
}

/// Options for [`DevPki::generate_with`].
#[derive(Clone, Copy, Debug)]
pub struct DevPkiOptions {
    /// The instant the PKI is made for (validity periods start an hour before it).
    pub at: UnixTime,
    /// The key algorithm of every generated key.
    pub alg: KeyAlg,
    /// CA certificates' lifetime after `at`, in seconds (default 10 years).
    pub ca_validity_secs: u64,
    /// End-entity certificates' lifetime after `at`, in seconds (default 2 years).
    pub leaf_validity_secs: u64,
    /// Whether an intermediate CA issues the end-entity certificates (default no: the root
    /// issues them).
    pub intermediate: bool,
}

impl DevPkiOptions {
    /// Defaults for `at` and `alg`.
    pub fn new(at: UnixTime, alg: KeyAlg) -> Self {
        Self {
            at,
            alg,
            ca_validity_secs: 10 * 365 * 86_400,
            leaf_validity_secs: 2 * 365 * 86_400,
            intermediate: false,
        }
    }
}

/// A whole development PKI — **NOT FOR PRODUCTION**. Certificates are DER, keys PKCS#8 PEM
/// (empty strings when the keys came from [`DevPki::with_keys`], e.g. keys on a token).
#[derive(Clone)]
pub struct DevPki {
    /// The root CA certificate.
    pub root_cert_der: Vec<u8>,
    /// The root CA key.
    pub root_key_pem: Zeroizing<String>,
    /// The intermediate CA certificate, when asked for.
    pub intermediate_cert_der: Option<Vec<u8>>,
    /// The intermediate CA key, when generated.
    pub intermediate_key_pem: Option<Zeroizing<String>>,
    /// The TSA certificate.
    pub tsa_cert_der: Vec<u8>,
    /// The TSA key.
    pub tsa_key_pem: Zeroizing<String>,
    /// The e-seal certificate.
    pub eseal_cert_der: Vec<u8>,
    /// The e-seal key.
    pub eseal_key_pem: Zeroizing<String>,
    /// A second e-seal certificate (same key as `eseal_cert_der`), revoked at `at` by `crl_der`.
    pub revoked_eseal_cert_der: Vec<u8>,
    /// A CRL from the issuing CA (intermediate if any, else root), this update `at`, next
    /// update `at` + 7 days, listing `revoked_eseal_cert_der` (reason keyCompromise).
    pub crl_der: Vec<u8>,
    /// The issuing CA, to issue more certificates and CRLs.
    pub issuer: DevCa,
}

impl std::fmt::Debug for DevPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevPki")
            .field("intermediate", &self.intermediate_cert_der.is_some())
            .finish_non_exhaustive()
    }
}

fn dev_name(cn: &str, eseal: bool) -> DistinguishedName {
    let mut v: Vec<(ObjectIdentifier, &str)> = vec![
        (OID_C, "JP"),
        (OID_O, "inkan development (NOT FOR PRODUCTION)"),
    ];
    if eseal {
        v.push((OID_ORG_ID, DEV_ORGANIZATION_IDENTIFIER));
    }
    v.push((OID_OU, "NOT FOR PRODUCTION"));
    v.push((OID_CN, cn));
    DistinguishedName::new(&v)
}

/// PEM `CERTIFICATE` text for a DER certificate.
pub fn cert_pem(der: &[u8]) -> String {
    der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap_or_default()
}

/// PEM `X509 CRL` text for a DER CRL.
pub fn crl_pem(der: &[u8]) -> String {
    der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, der).unwrap_or_default()
}

impl DevPki {
    /// A PKI for `at` with fresh `alg` keys, the root issuing directly.
    pub fn generate(at: UnixTime, alg: KeyAlg) -> Result<Self, Error> {
        Self::generate_with(&DevPkiOptions::new(at, alg))
    }

    /// A PKI with fresh software keys, as `opts` says.
    pub fn generate_with(opts: &DevPkiOptions) -> Result<Self, Error> {
        let (root_pem, root) = generate_key(opts.alg)?;
        let inter = if opts.intermediate {
            Some(generate_key(opts.alg)?)
        } else {
            None
        };
        let (tsa_pem, tsa) = generate_key(opts.alg)?;
        let (eseal_pem, eseal) = generate_key(opts.alg)?;
        let mut pki = Self::build(
            opts,
            &*root,
            inter.as_ref().map(|(_, k)| &**k),
            &*tsa,
            &*eseal,
        )?;
        pki.root_key_pem = root_pem;
        pki.intermediate_key_pem = inter.map(|(p, _)| p);
        pki.tsa_key_pem = tsa_pem;
        pki.eseal_key_pem = eseal_pem;
        Ok(pki)
    }

    /// A PKI over existing keys (software RSA keys, or keys on a PKCS#11 token); the key PEM
    /// fields are left empty. `opts.alg` is ignored.
    pub fn with_keys(
        opts: &DevPkiOptions,
        root: &dyn SigningKey,
        intermediate: Option<&dyn SigningKey>,
        tsa: &dyn SigningKey,
        eseal: &dyn SigningKey,
    ) -> Result<Self, Error> {
        Self::build(opts, root, intermediate, tsa, eseal)
    }

    fn build(
        opts: &DevPkiOptions,
        root: &dyn SigningKey,
        intermediate: Option<&dyn SigningKey>,
        tsa: &dyn SigningKey,
        eseal: &dyn SigningKey,
    ) -> Result<Self, Error> {
        let ca_validity = Validity::around(opts.at, 3600, opts.ca_validity_secs);
        let leaf_validity = Validity::around(opts.at, 3600, opts.leaf_validity_secs);
        let root_ca = DevCa::root(
            root,
            &dev_name("inkan DEV Root CA - NOT FOR PRODUCTION", false),
            ca_validity,
        )?;
        let inter_ca = match intermediate {
            Some(k) => Some(root_ca.issue_ca(
                k,
                &dev_name("inkan DEV Issuing CA - NOT FOR PRODUCTION", false),
                ca_validity,
            )?),
            None => None,
        };
        let issuer = inter_ca.clone().unwrap_or_else(|| root_ca.clone());
        let tsa_cert = issuer.issue(
            CertProfile::TimeStamping,
            &dev_name("inkan DEV TSA - NOT FOR PRODUCTION", false),
            tsa.public_key_der(),
            leaf_validity,
        )?;
        let eseal_cert = issuer.issue(
            CertProfile::ESeal,
            &dev_name("inkan DEV e-seal - NOT FOR PRODUCTION", true),
            eseal.public_key_der(),
            leaf_validity,
        )?;
        let revoked_cert = issuer.issue(
            CertProfile::ESeal,
            &dev_name("inkan DEV revoked e-seal - NOT FOR PRODUCTION", true),
            eseal.public_key_der(),
            leaf_validity,
        )?;
        let crl = issuer.issue_crl(
            opts.at,
            UnixTime::from_secs(opts.at.secs() + 7 * 86_400),
            1,
            &[Revoked::certificate(&revoked_cert, opts.at, Some(1))?],
        )?;
        Ok(Self {
            root_cert_der: root_ca.cert_der.clone(),
            root_key_pem: Zeroizing::default(),
            intermediate_cert_der: inter_ca.map(|c| c.cert_der),
            intermediate_key_pem: None,
            tsa_cert_der: tsa_cert,
            tsa_key_pem: Zeroizing::default(),
            eseal_cert_der: eseal_cert,
            eseal_key_pem: Zeroizing::default(),
            revoked_eseal_cert_der: revoked_cert,
            crl_der: crl,
            issuer,
        })
    }

    /// The root certificate as PEM (the trust anchor to hand to verifiers).
    pub fn root_pem(&self) -> String {
        cert_pem(&self.root_cert_der)
    }

    fn chain_pem(&self, leaf: &[u8]) -> String {
        let mut s = cert_pem(leaf);
        if let Some(i) = &self.intermediate_cert_der {
            s.push_str(&cert_pem(i));
        }
        s.push_str(&cert_pem(&self.root_cert_der));
        s
    }

    /// TSA certificate, intermediate (if any), root, as PEM (`--cert-chain`).
    pub fn tsa_chain_pem(&self) -> String {
        self.chain_pem(&self.tsa_cert_der)
    }

    /// E-seal certificate, intermediate (if any), root, as PEM (`--cert-chain`).
    pub fn eseal_chain_pem(&self) -> String {
        self.chain_pem(&self.eseal_cert_der)
    }
}
