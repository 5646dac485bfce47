//! ESS signing-certificate attributes (RFC 2634 §5.4, RFC 5035 §3; used by RFC 3161 §2.4.1,
//! RFC 5816 §2.2 and EN 319 122-1 §5.2.2).

use der::Sequence;
use der::asn1::OctetString;
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::name::GeneralNames;
use x509_cert::serial_number::SerialNumber;

use crate::alg::{AlgError, DigestAlgorithm};

/// ```text
/// IssuerSerial ::= SEQUENCE {
///     issuer                   GeneralNames,
///     serialNumber             CertificateSerialNumber }
/// ```
/// (RFC 5035 §4)
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    /// The issuer's name (a directoryName in practice).
    pub issuer: GeneralNames,
    /// The certificate's serial number.
    pub serial_number: SerialNumber,
}

/// ```text
/// ESSCertID ::=  SEQUENCE {
///      certHash                 Hash,          -- SHA-1 of the whole certificate
///      issuerSerial             IssuerSerial OPTIONAL }
/// ```
/// (RFC 2634 §5.4.1)
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertId {
    /// SHA-1 of the DER certificate.
    pub cert_hash: OctetString,
    /// Issuer and serial of the certificate.
    pub issuer_serial: Option<IssuerSerial>,
}

/// ```text
/// SigningCertificate ::=  SEQUENCE {
///     certs        SEQUENCE OF ESSCertID,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL }
/// ```
/// (RFC 2634 §5.4; attribute id-aa-signingCertificate)
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificate {
    /// The signing certificate first, then optional others.
    pub certs: Vec<EssCertId>,
    /// Policies.
    pub policies: Option<Vec<PolicyInformation>>,
}

/// ```text
/// ESSCertIDv2 ::=  SEQUENCE {
///     hashAlgorithm           AlgorithmIdentifier
///                             DEFAULT {algorithm id-sha256},
///     certHash                 Hash,
///     issuerSerial             IssuerSerial OPTIONAL }
/// ```
/// (RFC 5035 §4). `hash_algorithm` is `None` when the field is absent (SHA-256 by default);
/// [`Self::new`] leaves it out for SHA-256, as DER requires.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    /// The hash algorithm, absent for the default SHA-256.
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    /// Hash of the DER certificate.
    pub cert_hash: OctetString,
    /// Issuer and serial of the certificate.
    pub issuer_serial: Option<IssuerSerial>,
}

impl EssCertIdV2 {
    /// An identifier of `cert_der` hashed with `alg` (no issuerSerial, as EN 319 122-1 §5.2.2.3
    /// recommends).
    pub fn new(alg: DigestAlgorithm, cert_der: &[u8]) -> der::Result<Self> {
        Ok(Self {
            hash_algorithm: (alg != DigestAlgorithm::Sha256).then(|| alg.to_algorithm_identifier()),
            cert_hash: OctetString::new(alg.digest(cert_der))?,
            issuer_serial: None,
        })
    }

    /// The hash algorithm in effect (SHA-256 when absent).
    pub fn hash_algorithm(&self) -> Result<DigestAlgorithm, AlgError> {
        match &self.hash_algorithm {
            None => Ok(DigestAlgorithm::Sha256),
            Some(ai) => DigestAlgorithm::from_algorithm_identifier(ai),
        }
    }

    /// Whether this identifies `cert_der` (hash only; compare `issuer_serial` separately).
    pub fn matches(&self, cert_der: &[u8]) -> bool {
        self.hash_algorithm()
            .is_ok_and(|d| d.digest(cert_der) == self.cert_hash.as_bytes())
    }
}

impl EssCertId {
    /// Whether this identifies `cert_der` (SHA-1 hash only).
    pub fn matches(&self, cert_der: &[u8]) -> bool {
        DigestAlgorithm::Sha1.digest(cert_der) == self.cert_hash.as_bytes()
    }
}

/// ```text
/// SigningCertificateV2 ::=  SEQUENCE {
///     certs        SEQUENCE OF ESSCertIDv2,
///     policies     SEQUENCE OF PolicyInformation OPTIONAL }
/// ```
/// (RFC 5035 §3; attribute id-aa-signingCertificateV2)
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    /// The signing certificate first, then optional others.
    pub certs: Vec<EssCertIdV2>,
    /// Policies.
    pub policies: Option<Vec<PolicyInformation>>,
}

impl SigningCertificateV2 {
    /// Parse from untrusted bytes (a fuzzing entry point).
    pub fn parse(der: &[u8]) -> der::Result<Self> {
        der::Decode::from_der(der)
    }
}

impl SigningCertificate {
    /// Parse from untrusted bytes (a fuzzing entry point).
    pub fn parse(der: &[u8]) -> der::Result<Self> {
        der::Decode::from_der(der)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    #[test]
    fn v2_default_hash_is_omitted() {
        let c = b"not really a certificate";
        let id = EssCertIdV2::new(DigestAlgorithm::Sha256, c).unwrap();
        assert!(id.hash_algorithm.is_none());
        let der = SigningCertificateV2 {
            certs: vec![id.clone()],
            policies: None,
        }
        .to_der()
        .unwrap();
        // SEQUENCE { SEQUENCE { SEQUENCE { OCTET STRING (32) } } }
        assert_eq!(&der[..6], &[0x30, 0x26, 0x30, 0x24, 0x30, 0x22]);
        let back = SigningCertificateV2::parse(&der).unwrap();
        assert!(back.certs[0].matches(c));
        assert!(!back.certs[0].matches(b"other"));
        let id384 = EssCertIdV2::new(DigestAlgorithm::Sha384, c).unwrap();
        let back = EssCertIdV2::from_der(&id384.to_der().unwrap()).unwrap();
        assert_eq!(back.hash_algorithm(), Ok(DigestAlgorithm::Sha384));
        assert!(back.matches(c));
    }

    #[test]
    fn v1() {
        let c = b"cert";
        let id = EssCertId {
            cert_hash: OctetString::new(DigestAlgorithm::Sha1.digest(c)).unwrap(),
            issuer_serial: None,
        };
        let sc = SigningCertificate {
            certs: vec![id],
            policies: None,
        };
        let back = SigningCertificate::parse(&sc.to_der().unwrap()).unwrap();
        assert!(back.certs[0].matches(c));
        assert!(SigningCertificate::parse(&[0x30, 0x03, 0x30, 0x01, 0x04]).is_err());
    }
}
