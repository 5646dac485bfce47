//! Every profiles parser over the real-world tokens and signatures in
//! `../shared/vectors/realworld/cases` (made by other TSAs and signers: sigstore, DigiCert,
//! Sectigo, D-TRUST, EU plugtests, ...). The files are read where they are, never copied.
//!
//! For each file this decodes what our types cover: TimeStampResp, TSTInfo (genTime with
//! fractions), signature and digest AlgorithmIdentifiers, SPKIs of every certificate,
//! signing-certificate(-v2), ats-hash-index-v3, revocation-values and OCSP responses in
//! `SignedData.crls`, recursively through embedded time-stamp tokens. A parser failure on a
//! file whose case is not marked as malformed fails the test.

use std::path::{Path, PathBuf};

use ::cms::content_info::ContentInfo;
use ::cms::signed_data::SignedData;
use der::{Decode, Encode};
use inkan_profiles::alg::{DigestAlgorithm, PublicKeyKind, SignatureAlgorithm};
use inkan_profiles::asn1::{cades, cms, ess, ocsp, tsp};
use inkan_profiles::oid;

#[derive(Default, Debug)]
struct Tally {
    tsr: usize,
    tst_info: usize,
    signers: usize,
    certs: usize,
    ess_v2: usize,
    ats_index: usize,
    ocsp: usize,
    raw_read: usize,
    ocsp_in_crls: usize,
    cms_undecodable: Vec<String>,
    failures: Vec<String>,
    algorithms: Vec<String>,
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/realworld/cases")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if !matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("json" | "txt" | "md" | "png" | "bin") | None
        ) {
            out.push(p);
        }
    }
}

fn der_of(bytes: &[u8]) -> Vec<u8> {
    if bytes.starts_with(b"-----BEGIN") {
        der::pem::decode_vec(bytes)
            .map(|(_, d)| d)
            .unwrap_or_default()
    } else {
        bytes.to_vec()
    }
}

fn signed_data(t: &mut Tally, name: &str, ci_der: &[u8], depth: u32) {
    let ci = match ContentInfo::from_der(ci_der) {
        Ok(ci) => ci,
        Err(e) => {
            t.cms_undecodable.push(format!("{name}: {e}"));
            return;
        }
    };
    // Our lenient reader: every SET as received, OCSP in crls understood.
    if let Ok(raw) = cms::RawSignedData::parse(ci_der) {
        t.raw_read += 1;
        for ri in raw.revocation_info().unwrap_or_default() {
            match ri.ocsp_basic() {
                Some(Ok(_)) => t.ocsp_in_crls += 1,
                Some(Err(e)) => t.failures.push(format!("{name}: OCSP in crls: {e}")),
                None => {}
            }
        }
    }
    if ci.content_type != oid::ID_SIGNED_DATA {
        return;
    }
    let sd = match ci.content.decode_as::<SignedData>() {
        Ok(sd) => sd,
        Err(e) => {
            t.cms_undecodable.push(format!("{name}: {e}"));
            return;
        }
    };
    if sd.encap_content_info.econtent_type == oid::ID_CT_TST_INFO {
        let Some(ec) = &sd.encap_content_info.econtent else {
            t.failures.push(format!("{name}: token without eContent"));
            return;
        };
        let octets = ec.decode_as::<der::asn1::OctetString>();
        match octets.as_ref().map(|o| tsp::TstInfo::parse(o.as_bytes())) {
            Ok(Ok(info)) => {
                t.tst_info += 1;
                // Every element in its one DER encoding (genTime fractions included), and the
                // typed views decode.
                if let Some(Err(e)) = octets
                    .as_ref()
                    .ok()
                    .map(|o| tsp::TstInfo::parse_der(o.as_bytes()))
                {
                    t.failures.push(format!("{name}: TSTInfo is not DER: {e}"));
                }
                let views = (|| {
                    info.accuracy()?;
                    info.tsa_name()?;
                    info.extensions()?;
                    Ok::<_, inkan_profiles::asn1::tlv::TlvError>((
                        info.generalized_time()?,
                        info.message_imprint()?,
                    ))
                })();
                match views {
                    Ok((gen_time, imprint)) => t.algorithms.push(format!(
                        "{name}: genTime {gen_time} imprint {:?}",
                        imprint.algorithm()
                    )),
                    Err(e) => t.failures.push(format!("{name}: TSTInfo: {e}")),
                }
            }
            Ok(Err(e)) => t.failures.push(format!("{name}: TSTInfo: {e}")),
            Err(e) => t.failures.push(format!("{name}: TSTInfo: {e}")),
        }
    }
    for c in sd.certificates.iter().flat_map(|s| s.0.iter()) {
        if let ::cms::cert::CertificateChoices::Certificate(c) = c {
            let spki = c.tbs_certificate().subject_public_key_info();
            match PublicKeyKind::from_spki(spki) {
                Ok(_) => t.certs += 1,
                Err(e) => t.failures.push(format!("{name}: certificate SPKI: {e}")),
            }
            if let Err(e) = SignatureAlgorithm::from_algorithm_identifier(c.signature_algorithm()) {
                t.algorithms
                    .push(format!("{name}: certificate signature algorithm: {e}"));
            }
        }
    }
    for r in sd.crls.iter().flat_map(|s| s.0.iter()) {
        if let ::cms::revocation::RevocationInfoChoice::Other(o) = r
            && o.other_format.oid == oid::ID_RI_OCSP_RESPONSE
        {
            match o.other.to_der().map(|d| ocsp::OcspResponse::parse(&d)) {
                Ok(Ok(resp)) => match resp.basic() {
                    Ok(_) => t.ocsp += 1,
                    Err(e) => t.failures.push(format!("{name}: OCSP in crls: {e}")),
                },
                Ok(Err(e)) | Err(e) => t.failures.push(format!("{name}: OCSP in crls: {e}")),
            }
        }
    }
    for si in sd.signer_infos.0.iter() {
        t.signers += 1;
        let sig = SignatureAlgorithm::from_signer_info(&si.signature_algorithm, &si.digest_alg);
        if let Err(e) = &sig {
            t.failures.push(format!("{name}: signer algorithm: {e}"));
        }
        let dig = DigestAlgorithm::from_algorithm_identifier(&si.digest_alg);
        t.algorithms
            .push(format!("{name}: signer {sig:?} digest {dig:?}"));
        for a in si.signed_attrs.iter().flat_map(|s| s.iter()) {
            for v in a.values.iter() {
                let d = v.to_der().unwrap_or_default();
                if a.oid == oid::ID_AA_SIGNING_CERTIFICATE_V2 {
                    match ess::SigningCertificateV2::parse(&d) {
                        Ok(_) => t.ess_v2 += 1,
                        Err(e) => t
                            .failures
                            .push(format!("{name}: signing-certificate-v2: {e}")),
                    }
                } else if a.oid == oid::ID_AA_SIGNING_CERTIFICATE
                    && let Err(e) = ess::SigningCertificate::parse(&d)
                {
                    t.failures.push(format!("{name}: signing-certificate: {e}"));
                }
            }
        }
        for a in si.unsigned_attrs.iter().flat_map(|s| s.iter()) {
            for v in a.values.iter() {
                let d = v.to_der().unwrap_or_default();
                if [
                    oid::ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
                    oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3,
                    oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V2,
                    oid::ID_AA_ETS_CONTENT_TIMESTAMP,
                ]
                .contains(&a.oid)
                    && depth < 4
                {
                    signed_data(t, &format!("{name}>{}", a.oid), &d, depth + 1);
                } else if [
                    oid::ID_AA_ATS_HASH_INDEX_V3,
                    oid::ID_AA_ATS_HASH_INDEX,
                    oid::ID_AA_ATS_HASH_INDEX_V2,
                ]
                .contains(&a.oid)
                {
                    match cades::AtsHashIndexV3::parse(&d) {
                        Ok(_) => t.ats_index += 1,
                        Err(e) => t.failures.push(format!("{name}: ats-hash-index-v3: {e}")),
                    }
                } else if a.oid == oid::ID_AA_ETS_REVOCATION_VALUES {
                    match cades::RevocationValues::parse(&d) {
                        Ok(rv) => {
                            for b in rv.ocsp_vals.iter().flatten() {
                                match b.to_der().map(|x| ocsp::BasicOcspResponse::parse(&x)) {
                                    Ok(Ok(_)) => t.ocsp += 1,
                                    Ok(Err(e)) | Err(e) => t
                                        .failures
                                        .push(format!("{name}: revocation-values OCSP: {e}")),
                                }
                            }
                        }
                        Err(e) => t.failures.push(format!("{name}: revocation-values: {e}")),
                    }
                }
            }
        }
    }
}

#[test]
fn realworld_vectors_parse() {
    let dir = cases_dir();
    let mut paths = Vec::new();
    files(&dir, &mut paths);
    if paths.is_empty() {
        // The vectors live outside the repository (../shared); CI machines without them run
        // the rest of the suite. Say so loudly rather than pass silently.
        eprintln!(
            "realworld vectors not found at {}: nothing checked",
            dir.display()
        );
        return;
    }
    let mut t = Tally::default();
    for p in &paths {
        let name = p.strip_prefix(&dir).unwrap_or(p).display().to_string();
        let der = der_of(&std::fs::read(p).unwrap());
        if der.is_empty() {
            continue;
        }
        if p.extension().is_some_and(|e| e == "tsr") {
            match tsp::TimeStampResp::parse(&der) {
                Ok(r) => {
                    t.tsr += 1;
                    if let Some(tok) = r.token_der() {
                        signed_data(&mut t, &name, &tok, 0);
                    }
                }
                // Some files named .tsr hold the bare token (a ContentInfo).
                Err(e) => {
                    if ContentInfo::from_der(&der).is_ok() {
                        signed_data(&mut t, &name, &der, 0);
                    } else {
                        t.failures.push(format!("{name}: TimeStampResp: {e}"));
                    }
                }
            }
            continue;
        }
        if p.extension().is_some_and(|e| e == "tsq") {
            if let Err(e) = tsp::TimeStampReq::parse(&der) {
                t.failures.push(format!("{name}: TimeStampReq: {e}"));
            }
            continue;
        }
        if p.extension().is_some_and(|e| e == "pem") {
            if let Ok(c) = x509_cert::Certificate::from_der(&der) {
                match PublicKeyKind::from_spki(c.tbs_certificate().subject_public_key_info()) {
                    Ok(_) => t.certs += 1,
                    Err(e) => t.algorithms.push(format!("{name}: anchor SPKI: {e}")),
                }
            }
            continue;
        }
        signed_data(&mut t, &name, &der, 0);
    }
    for a in &t.algorithms {
        eprintln!("  {a}");
    }
    eprintln!(
        "realworld: {} files; {} TimeStampResp, {} TSTInfo, {} signers, {} certificates, {} ESS v2, {} ats-hash-index-v3, {} OCSP; lenient reader: {} SignedData, {} OCSP in crls; {} not decodable by cms 0.3: {:#?}",
        paths.len(),
        t.tsr,
        t.tst_info,
        t.signers,
        t.certs,
        t.ess_v2,
        t.ats_index,
        t.ocsp,
        t.raw_read,
        t.ocsp_in_crls,
        t.cms_undecodable.len(),
        t.cms_undecodable
    );
    let unexpected: Vec<_> = t
        .failures
        .iter()
        .filter(|f| !f.contains("malformed") && !f.contains("broken"))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    assert!(
        t.tst_info >= 20,
        "expected most tokens to be read: {}",
        t.tst_info
    );
}
