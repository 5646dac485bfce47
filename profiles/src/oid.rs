//! Every object identifier the workspace uses, in one place.
//!
//! Values are written out in dotted form so that a reviewer can compare them with the
//! standards that assign them (RFC 5280, 5652, 3161, 5816, 6960, 4055, 5754, 8410; ETSI EN 319 122-1 and
//! 319 142-1). Each constant names the
//! standard that assigns it. Crates outside `profiles` use these constants instead of writing
//! OIDs of their own.

use const_oid::ObjectIdentifier as Oid;

const fn oid(s: &str) -> Oid {
    Oid::new_unwrap(s)
}

// ---------------------------------------------------------------------------------------------
// Digest algorithms (RFC 5754 §2, NIST CSOR, RFC 8419 §2.3).

/// MD5 (RFC 1321). Known so that it can be refused by name.
pub const MD5: Oid = oid("1.2.840.113549.2.5");
/// id-sha1 (RFC 3279).
pub const SHA1: Oid = oid("1.3.14.3.2.26");
/// id-sha224 (RFC 5754 §2.1).
pub const SHA224: Oid = oid("2.16.840.1.101.3.4.2.4");
/// id-sha256 (RFC 5754 §2.2).
pub const SHA256: Oid = oid("2.16.840.1.101.3.4.2.1");
/// id-sha384 (RFC 5754 §2.3).
pub const SHA384: Oid = oid("2.16.840.1.101.3.4.2.2");
/// id-sha512 (RFC 5754 §2.4).
pub const SHA512: Oid = oid("2.16.840.1.101.3.4.2.3");
/// id-sha3-256 (NIST CSOR).
pub const SHA3_256: Oid = oid("2.16.840.1.101.3.4.2.8");
/// id-sha3-384 (NIST CSOR).
pub const SHA3_384: Oid = oid("2.16.840.1.101.3.4.2.9");
/// id-sha3-512 (NIST CSOR).
pub const SHA3_512: Oid = oid("2.16.840.1.101.3.4.2.10");
/// id-shake128 (NIST CSOR).
pub const SHAKE128: Oid = oid("2.16.840.1.101.3.4.2.11");
/// id-shake256 (NIST CSOR; RFC 8419 §2.3).
pub const SHAKE256: Oid = oid("2.16.840.1.101.3.4.2.12");
/// id-shake256-len (RFC 8419 §2.3): parameter INTEGER 512 for the Ed448 digest in CMS.
pub const SHAKE256_LEN: Oid = oid("2.16.840.1.101.3.4.2.18");

// ---------------------------------------------------------------------------------------------
// Public-key algorithms and curves (RFC 3279, RFC 4055, RFC 5480, RFC 8410).

/// rsaEncryption (RFC 3279 §2.3.1; RFC 4055 §1.2).
pub const RSA_ENCRYPTION: Oid = oid("1.2.840.113549.1.1.1");
/// id-RSASSA-PSS (RFC 4055 §3.1): both the key and the signature algorithm OID.
pub const RSASSA_PSS: Oid = oid("1.2.840.113549.1.1.10");
/// id-mgf1 (RFC 4055 §2.2).
pub const MGF1: Oid = oid("1.2.840.113549.1.1.8");
/// id-ecPublicKey (RFC 5480 §2.1.1).
pub const EC_PUBLIC_KEY: Oid = oid("1.2.840.10045.2.1");
/// id-dsa (RFC 3279 §2.3.2).
pub const DSA: Oid = oid("1.2.840.10040.4.1");
/// id-Ed25519 (RFC 8410 §3): key and signature algorithm.
pub const ED25519: Oid = oid("1.3.101.112");
/// id-Ed448 (RFC 8410 §3): key and signature algorithm.
pub const ED448: Oid = oid("1.3.101.113");
/// secp224r1 (SEC 2; RFC 5480 §2.1.1.1).
pub const SECP224R1: Oid = oid("1.3.132.0.33");
/// secp256r1 / prime256v1 (RFC 5480 §2.1.1.1).
pub const SECP256R1: Oid = oid("1.2.840.10045.3.1.7");
/// secp384r1 (RFC 5480 §2.1.1.1).
pub const SECP384R1: Oid = oid("1.3.132.0.34");
/// secp521r1 (RFC 5480 §2.1.1.1).
pub const SECP521R1: Oid = oid("1.3.132.0.35");

// ---------------------------------------------------------------------------------------------
// Signature algorithms (RFC 3279, RFC 4055, RFC 5754 §3, RFC 5758, NIST CSOR, RFC 8419).

/// md5WithRSAEncryption (RFC 3279 §2.2.1). Known so that it can be refused by name.
pub const MD5_WITH_RSA: Oid = oid("1.2.840.113549.1.1.4");
/// sha1WithRSAEncryption (RFC 3279 §2.2.1).
pub const SHA1_WITH_RSA: Oid = oid("1.2.840.113549.1.1.5");
/// sha256WithRSAEncryption (RFC 4055 §5; RFC 5754 §3.2).
pub const SHA256_WITH_RSA: Oid = oid("1.2.840.113549.1.1.11");
/// sha384WithRSAEncryption.
pub const SHA384_WITH_RSA: Oid = oid("1.2.840.113549.1.1.12");
/// sha512WithRSAEncryption.
pub const SHA512_WITH_RSA: Oid = oid("1.2.840.113549.1.1.13");
/// sha224WithRSAEncryption.
pub const SHA224_WITH_RSA: Oid = oid("1.2.840.113549.1.1.14");
/// id-rsassa-pkcs1-v1_5-with-sha3-256 (NIST CSOR).
pub const SHA3_256_WITH_RSA: Oid = oid("2.16.840.1.101.3.4.3.14");
/// id-rsassa-pkcs1-v1_5-with-sha3-384 (NIST CSOR).
pub const SHA3_384_WITH_RSA: Oid = oid("2.16.840.1.101.3.4.3.15");
/// id-rsassa-pkcs1-v1_5-with-sha3-512 (NIST CSOR).
pub const SHA3_512_WITH_RSA: Oid = oid("2.16.840.1.101.3.4.3.16");
/// ecdsa-with-SHA1 (RFC 3279 §2.2.3).
pub const ECDSA_WITH_SHA1: Oid = oid("1.2.840.10045.4.1");
/// ecdsa-with-SHA224 (RFC 5758 §3.2).
pub const ECDSA_WITH_SHA224: Oid = oid("1.2.840.10045.4.3.1");
/// ecdsa-with-SHA256 (RFC 5758 §3.2).
pub const ECDSA_WITH_SHA256: Oid = oid("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384 (RFC 5758 §3.2).
pub const ECDSA_WITH_SHA384: Oid = oid("1.2.840.10045.4.3.3");
/// ecdsa-with-SHA512 (RFC 5758 §3.2).
pub const ECDSA_WITH_SHA512: Oid = oid("1.2.840.10045.4.3.4");
/// id-ecdsa-with-sha3-256 (NIST CSOR).
pub const ECDSA_WITH_SHA3_256: Oid = oid("2.16.840.1.101.3.4.3.10");
/// id-ecdsa-with-sha3-384 (NIST CSOR).
pub const ECDSA_WITH_SHA3_384: Oid = oid("2.16.840.1.101.3.4.3.11");
/// id-ecdsa-with-sha3-512 (NIST CSOR).
pub const ECDSA_WITH_SHA3_512: Oid = oid("2.16.840.1.101.3.4.3.12");
/// id-dsa-with-sha1 (RFC 3279 §2.2.2).
pub const DSA_WITH_SHA1: Oid = oid("1.2.840.10040.4.3");
/// id-dsa-with-sha224 (RFC 5754 §3.1).
pub const DSA_WITH_SHA224: Oid = oid("2.16.840.1.101.3.4.3.1");
/// id-dsa-with-sha256 (RFC 5754 §3.1).
pub const DSA_WITH_SHA256: Oid = oid("2.16.840.1.101.3.4.3.2");
/// id-dsa-with-sha384 (NIST CSOR; not defined for CMS by RFC 5754).
pub const DSA_WITH_SHA384: Oid = oid("2.16.840.1.101.3.4.3.3");
/// id-dsa-with-sha512 (NIST CSOR; not defined for CMS by RFC 5754).
pub const DSA_WITH_SHA512: Oid = oid("2.16.840.1.101.3.4.3.4");

// ---------------------------------------------------------------------------------------------
// CMS content types (RFC 5652 §4, §5.1; RFC 3161 §2.4.2).

/// id-data (RFC 5652 §4).
pub const ID_DATA: Oid = oid("1.2.840.113549.1.7.1");
/// id-signedData (RFC 5652 §5.1).
pub const ID_SIGNED_DATA: Oid = oid("1.2.840.113549.1.7.2");
/// id-ct-TSTInfo (RFC 3161 §2.4.2).
pub const ID_CT_TST_INFO: Oid = oid("1.2.840.113549.1.9.16.1.4");

// ---------------------------------------------------------------------------------------------
// CMS and ESS attributes (RFC 5652 §11, RFC 2634, RFC 5035, RFC 6211, ETSI EN 319 122-1).

/// id-contentType (RFC 5652 §11.1).
pub const ID_CONTENT_TYPE: Oid = oid("1.2.840.113549.1.9.3");
/// id-messageDigest (RFC 5652 §11.2).
pub const ID_MESSAGE_DIGEST: Oid = oid("1.2.840.113549.1.9.4");
/// id-signingTime (RFC 5652 §11.3).
pub const ID_SIGNING_TIME: Oid = oid("1.2.840.113549.1.9.5");
/// id-countersignature (RFC 5652 §11.4).
pub const ID_COUNTERSIGNATURE: Oid = oid("1.2.840.113549.1.9.6");
/// id-aa-CMSAlgorithmProtection (RFC 6211 §2).
pub const ID_AA_CMS_ALGORITHM_PROTECTION: Oid = oid("1.2.840.113549.1.9.52");
/// id-aa-contentHint (RFC 2634 §2.9).
pub const ID_AA_CONTENT_HINT: Oid = oid("1.2.840.113549.1.9.16.2.4");
/// id-aa-contentIdentifier (RFC 2634 §2.7).
pub const ID_AA_CONTENT_IDENTIFIER: Oid = oid("1.2.840.113549.1.9.16.2.7");
/// id-aa-contentReference (RFC 2634 §2.11).
pub const ID_AA_CONTENT_REFERENCE: Oid = oid("1.2.840.113549.1.9.16.2.10");
/// id-aa-signingCertificate (RFC 2634 §5.4).
pub const ID_AA_SIGNING_CERTIFICATE: Oid = oid("1.2.840.113549.1.9.16.2.12");
/// id-aa-signingCertificateV2 (RFC 5035 §3).
pub const ID_AA_SIGNING_CERTIFICATE_V2: Oid = oid("1.2.840.113549.1.9.16.2.47");
/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A).
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: Oid = oid("1.2.840.113549.1.9.16.2.14");
/// id-aa-ets-sigPolicyId, signature-policy-identifier (EN 319 122-1 §5.2.9).
pub const ID_AA_ETS_SIG_POLICY_ID: Oid = oid("1.2.840.113549.1.9.16.2.15");
/// id-aa-ets-commitmentType (EN 319 122-1 §5.2.3).
pub const ID_AA_ETS_COMMITMENT_TYPE: Oid = oid("1.2.840.113549.1.9.16.2.16");
/// id-aa-ets-signerLocation (EN 319 122-1 §5.2.5).
pub const ID_AA_ETS_SIGNER_LOCATION: Oid = oid("1.2.840.113549.1.9.16.2.17");
/// id-aa-ets-contentTimestamp (EN 319 122-1 §5.2.8).
pub const ID_AA_ETS_CONTENT_TIMESTAMP: Oid = oid("1.2.840.113549.1.9.16.2.20");
/// id-aa-ets-certificateRefs, complete-certificate-references (EN 319 122-1 Annex A.1.1).
pub const ID_AA_ETS_CERTIFICATE_REFS: Oid = oid("1.2.840.113549.1.9.16.2.21");
/// id-aa-ets-revocationRefs, complete-revocation-references (EN 319 122-1 Annex A.1.2).
pub const ID_AA_ETS_REVOCATION_REFS: Oid = oid("1.2.840.113549.1.9.16.2.22");
/// id-aa-ets-certValues, certificate-values (EN 319 122-1 Annex A.1.3).
pub const ID_AA_ETS_CERT_VALUES: Oid = oid("1.2.840.113549.1.9.16.2.23");
/// id-aa-ets-revocationValues, revocation-values (EN 319 122-1 Annex A.1.4).
pub const ID_AA_ETS_REVOCATION_VALUES: Oid = oid("1.2.840.113549.1.9.16.2.24");
/// id-aa-ets-escTimeStamp, CAdES-C-timestamp (EN 319 122-1 Annex A.1.5).
pub const ID_AA_ETS_ESC_TIME_STAMP: Oid = oid("1.2.840.113549.1.9.16.2.25");
/// id-aa-ets-certCRLTimestamp, time-stamped-certs-crls-references (EN 319 122-1 Annex A.1.5).
pub const ID_AA_ETS_CERT_CRL_TIMESTAMP: Oid = oid("1.2.840.113549.1.9.16.2.26");
/// id-aa-ets-archiveTimestampV2 (legacy CAdES; EN 319 122-1 Annex A).
pub const ID_AA_ETS_ARCHIVE_TIMESTAMP_V2: Oid = oid("1.2.840.113549.1.9.16.2.48");
/// id-aa-ets-archiveTimestampV3, archive-time-stamp-v3 (EN 319 122-1 §5.5.3).
pub const ID_AA_ETS_ARCHIVE_TIMESTAMP_V3: Oid = oid("0.4.0.1733.2.4");
/// id-aa-ATSHashIndex, ats-hash-index (v1, legacy; EN 319 122-1 Annex A).
pub const ID_AA_ATS_HASH_INDEX: Oid = oid("0.4.0.1733.2.5");
/// id-aa-ATSHashIndex-v2 (legacy; EN 319 122-1 Annex A).
pub const ID_AA_ATS_HASH_INDEX_V2: Oid = oid("0.4.0.19122.1.4");
/// id-aa-ATSHashIndex-v3, ats-hash-index-v3 (EN 319 122-1 §5.5.2).
pub const ID_AA_ATS_HASH_INDEX_V3: Oid = oid("0.4.0.19122.1.5");
/// id-aa-ets-mimeType (EN 319 122-1 §5.2.4.2).
pub const ID_AA_ETS_MIME_TYPE: Oid = oid("0.4.0.1733.2.1");
/// id-aa-ets-signerAttrV2, signer-attributes-v2 (EN 319 122-1 §5.2.6.1).
pub const ID_AA_ETS_SIGNER_ATTR_V2: Oid = oid("0.4.0.19122.1.1");
/// id-aa-ets-sigPolicyStore, signature-policy-store (EN 319 122-1 §5.2.10).
pub const ID_AA_ETS_SIG_POLICY_STORE: Oid = oid("0.4.0.19122.1.3");

/// id-cti-ets-proofOfOrigin (EN 319 122-1 §5.2.3; commitment type).
pub const ID_CTI_ETS_PROOF_OF_ORIGIN: Oid = oid("1.2.840.113549.1.9.16.6.1");
/// id-cti-ets-proofOfReceipt.
pub const ID_CTI_ETS_PROOF_OF_RECEIPT: Oid = oid("1.2.840.113549.1.9.16.6.2");
/// id-cti-ets-proofOfDelivery.
pub const ID_CTI_ETS_PROOF_OF_DELIVERY: Oid = oid("1.2.840.113549.1.9.16.6.3");
/// id-cti-ets-proofOfSender.
pub const ID_CTI_ETS_PROOF_OF_SENDER: Oid = oid("1.2.840.113549.1.9.16.6.4");
/// id-cti-ets-proofOfApproval.
pub const ID_CTI_ETS_PROOF_OF_APPROVAL: Oid = oid("1.2.840.113549.1.9.16.6.5");
/// id-cti-ets-proofOfCreation.
pub const ID_CTI_ETS_PROOF_OF_CREATION: Oid = oid("1.2.840.113549.1.9.16.6.6");

/// The commitment types of EN 319 122-1 §5.2.3 with the short names inkan uses for them
/// (`inkan-sign --commitment-type NAME`; `inkan-verify` reports `proof-of-NAME`).
pub const COMMITMENT_TYPES: [(Oid, &str); 6] = [
    (ID_CTI_ETS_PROOF_OF_ORIGIN, "origin"),
    (ID_CTI_ETS_PROOF_OF_RECEIPT, "receipt"),
    (ID_CTI_ETS_PROOF_OF_DELIVERY, "delivery"),
    (ID_CTI_ETS_PROOF_OF_SENDER, "sender"),
    (ID_CTI_ETS_PROOF_OF_APPROVAL, "approval"),
    (ID_CTI_ETS_PROOF_OF_CREATION, "creation"),
];

// ---------------------------------------------------------------------------------------------
// Time-stamping (RFC 3161, EN 319 422).

/// ETSI baseline time-stamp policy, itu-t(0) identified-organization(4) etsi(0)
/// time-stamp-policy(2023) policy-identifiers(1) baseline-ts-policy(1) (EN 319 421 §5.2).
pub const ETSI_BASELINE_TS_POLICY: Oid = oid("0.4.0.2023.1.1");
/// esi4-qtstStatement-1 (EN 319 422 §9.1): the EU qualified time-stamp statement.
pub const ESI4_QTST_STATEMENT_1: Oid = oid("0.4.0.19422.1.1");

// ---------------------------------------------------------------------------------------------
// Extended key usages (RFC 5280 §4.2.1.12, RFC 3161 §2.3).

/// anyExtendedKeyUsage (RFC 5280 §4.2.1.12).
pub const ANY_EXTENDED_KEY_USAGE: Oid = oid("2.5.29.37.0");
/// id-kp-serverAuth.
pub const ID_KP_SERVER_AUTH: Oid = oid("1.3.6.1.5.5.7.3.1");
/// id-kp-clientAuth.
pub const ID_KP_CLIENT_AUTH: Oid = oid("1.3.6.1.5.5.7.3.2");
/// id-kp-codeSigning.
pub const ID_KP_CODE_SIGNING: Oid = oid("1.3.6.1.5.5.7.3.3");
/// id-kp-emailProtection.
pub const ID_KP_EMAIL_PROTECTION: Oid = oid("1.3.6.1.5.5.7.3.4");
/// id-kp-timeStamping (RFC 3161 §2.3): the only purpose of a TSA certificate.
pub const ID_KP_TIME_STAMPING: Oid = oid("1.3.6.1.5.5.7.3.8");
/// id-kp-OCSPSigning (RFC 6960 §4.2.2.2).
pub const ID_KP_OCSP_SIGNING: Oid = oid("1.3.6.1.5.5.7.3.9");

// ---------------------------------------------------------------------------------------------
// Certificate and CRL extensions (RFC 5280 §4.2, §5.2, §5.3; RFC 3739).

/// id-ce-subjectKeyIdentifier.
pub const ID_CE_SUBJECT_KEY_IDENTIFIER: Oid = oid("2.5.29.14");
/// id-ce-keyUsage.
pub const ID_CE_KEY_USAGE: Oid = oid("2.5.29.15");
/// id-ce-subjectAltName.
pub const ID_CE_SUBJECT_ALT_NAME: Oid = oid("2.5.29.17");
/// id-ce-issuerAltName.
pub const ID_CE_ISSUER_ALT_NAME: Oid = oid("2.5.29.18");
/// id-ce-basicConstraints.
pub const ID_CE_BASIC_CONSTRAINTS: Oid = oid("2.5.29.19");
/// id-ce-cRLNumber.
pub const ID_CE_CRL_NUMBER: Oid = oid("2.5.29.20");
/// id-ce-cRLReasons (reasonCode).
pub const ID_CE_CRL_REASONS: Oid = oid("2.5.29.21");
/// id-ce-invalidityDate.
pub const ID_CE_INVALIDITY_DATE: Oid = oid("2.5.29.24");
/// id-ce-deltaCRLIndicator.
pub const ID_CE_DELTA_CRL_INDICATOR: Oid = oid("2.5.29.27");
/// id-ce-issuingDistributionPoint.
pub const ID_CE_ISSUING_DISTRIBUTION_POINT: Oid = oid("2.5.29.28");
/// id-ce-certificateIssuer.
pub const ID_CE_CERTIFICATE_ISSUER: Oid = oid("2.5.29.29");
/// id-ce-nameConstraints.
pub const ID_CE_NAME_CONSTRAINTS: Oid = oid("2.5.29.30");
/// id-ce-cRLDistributionPoints.
pub const ID_CE_CRL_DISTRIBUTION_POINTS: Oid = oid("2.5.29.31");
/// id-ce-certificatePolicies.
pub const ID_CE_CERTIFICATE_POLICIES: Oid = oid("2.5.29.32");
/// anyPolicy.
pub const ANY_POLICY: Oid = oid("2.5.29.32.0");
/// id-ce-policyMappings.
pub const ID_CE_POLICY_MAPPINGS: Oid = oid("2.5.29.33");
/// id-ce-authorityKeyIdentifier.
pub const ID_CE_AUTHORITY_KEY_IDENTIFIER: Oid = oid("2.5.29.35");
/// id-ce-policyConstraints.
pub const ID_CE_POLICY_CONSTRAINTS: Oid = oid("2.5.29.36");
/// id-ce-extKeyUsage.
pub const ID_CE_EXT_KEY_USAGE: Oid = oid("2.5.29.37");
/// id-ce-freshestCRL.
pub const ID_CE_FRESHEST_CRL: Oid = oid("2.5.29.46");
/// id-ce-inhibitAnyPolicy.
pub const ID_CE_INHIBIT_ANY_POLICY: Oid = oid("2.5.29.54");
/// id-pe-authorityInfoAccess (RFC 5280 §4.2.2.1).
pub const ID_PE_AUTHORITY_INFO_ACCESS: Oid = oid("1.3.6.1.5.5.7.1.1");
/// id-pe-qcStatements (RFC 3739 §3.2.6).
pub const ID_PE_QC_STATEMENTS: Oid = oid("1.3.6.1.5.5.7.1.3");
/// id-ad-caIssuers (RFC 5280 §4.2.2.1).
pub const ID_AD_CA_ISSUERS: Oid = oid("1.3.6.1.5.5.7.48.2");
/// id-ad-ocsp (RFC 5280 §4.2.2.1), also id-pkix-ocsp (RFC 6960 §4.4).
pub const ID_AD_OCSP: Oid = oid("1.3.6.1.5.5.7.48.1");

// ---------------------------------------------------------------------------------------------
// OCSP (RFC 6960 §4.2.1, §4.4; RFC 5940 §4).

/// id-pkix-ocsp (RFC 6960 §4.4).
pub const ID_PKIX_OCSP: Oid = ID_AD_OCSP;
/// id-pkix-ocsp-basic (RFC 6960 §4.2.1).
pub const ID_PKIX_OCSP_BASIC: Oid = oid("1.3.6.1.5.5.7.48.1.1");
/// id-pkix-ocsp-nonce (RFC 6960 §4.4.1).
pub const ID_PKIX_OCSP_NONCE: Oid = oid("1.3.6.1.5.5.7.48.1.2");
/// id-pkix-ocsp-crl (RFC 6960 §4.4.2).
pub const ID_PKIX_OCSP_CRL: Oid = oid("1.3.6.1.5.5.7.48.1.3");
/// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
pub const ID_PKIX_OCSP_NOCHECK: Oid = oid("1.3.6.1.5.5.7.48.1.5");
/// id-ri (RFC 5940 §4).
pub const ID_RI: Oid = oid("1.3.6.1.5.5.7.16");
/// id-ri-ocsp-response (RFC 5940 §4): OCSP responses in `SignedData.crls`.
pub const ID_RI_OCSP_RESPONSE: Oid = oid("1.3.6.1.5.5.7.16.2");

// ---------------------------------------------------------------------------------------------
// Name attributes (RFC 5280 Appendix A, X.520, EN 319 412-1).

/// id-at-commonName.
pub const AT_COMMON_NAME: Oid = oid("2.5.4.3");
/// id-at-surname.
pub const AT_SURNAME: Oid = oid("2.5.4.4");
/// id-at-serialNumber.
pub const AT_SERIAL_NUMBER: Oid = oid("2.5.4.5");
/// id-at-countryName.
pub const AT_COUNTRY_NAME: Oid = oid("2.5.4.6");
/// id-at-localityName.
pub const AT_LOCALITY_NAME: Oid = oid("2.5.4.7");
/// id-at-stateOrProvinceName.
pub const AT_STATE_OR_PROVINCE_NAME: Oid = oid("2.5.4.8");
/// id-at-organizationName.
pub const AT_ORGANIZATION_NAME: Oid = oid("2.5.4.10");
/// id-at-organizationalUnitName.
pub const AT_ORGANIZATIONAL_UNIT_NAME: Oid = oid("2.5.4.11");
/// id-at-givenName.
pub const AT_GIVEN_NAME: Oid = oid("2.5.4.42");
/// id-at-organizationIdentifier (X.520; EN 319 412-1 §5.1.4).
pub const AT_ORGANIZATION_IDENTIFIER: Oid = oid("2.5.4.97");
/// emailAddress (PKCS #9; legacy in names).
pub const AT_EMAIL_ADDRESS: Oid = oid("1.2.840.113549.1.9.1");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_const_oid_db() {
        use const_oid::db::rfc5912;
        assert_eq!(SHA256, rfc5912::ID_SHA_256);
        assert_eq!(SHA1, rfc5912::ID_SHA_1);
        assert_eq!(RSASSA_PSS, rfc5912::ID_RSASSA_PSS);
        assert_eq!(ECDSA_WITH_SHA384, rfc5912::ECDSA_WITH_SHA_384);
        assert_eq!(SECP384R1, rfc5912::SECP_384_R_1);
        assert_eq!(ID_KP_TIME_STAMPING, rfc5912::ID_KP_TIME_STAMPING);
        assert_eq!(
            ID_PKIX_OCSP_BASIC,
            const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC
        );
        assert_eq!(ID_CE_EXT_KEY_USAGE, rfc5912::ID_CE_EXT_KEY_USAGE);
    }
}
