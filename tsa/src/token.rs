//! RFC 3161 tokens over `inkan_hsm::cms`: one [`CmsSignerTemplate`] built at start-up (sid,
//! algorithm identifiers, signing-certificate-v2 with SHA-256, certificates field all encoded
//! once), so each token costs one hash of the TSTInfo, one hash of the signed attributes, one
//! signature and some concatenation. Every token carries the cms-algorithm-protection signed
//! attribute (RFC 6211), as the signer's signatures do, so that its digest and signature
//! algorithms cannot be substituted.

use inkan_hsm::cms::{self, CmsSignerTemplate, Content, SignRequest};

use crate::handler::TokenSigner;

/// The TSA's token signer.
#[derive(Debug)]
pub struct CmsTokenSigner {
    template: CmsSignerTemplate,
    cert_sha256: [u8; 32],
}

impl CmsTokenSigner {
    /// Wraps a template. The template's chain is what a `certReq` token carries: the TSA
    /// certificate and the issuers of `--cert-chain` (`include_chain`, the default), or built
    /// with no further certificates to send only the TSA certificate.
    pub fn new(template: CmsSignerTemplate, cert_sha256: [u8; 32]) -> Self {
        Self {
            template,
            cert_sha256,
        }
    }
}

impl TokenSigner for CmsTokenSigner {
    fn sign_token(&self, tst_info: &[u8], cert_req: bool) -> Result<Vec<u8>, String> {
        let protection = [self.template.algorithm_protection()];
        let mut req = SignRequest::new(cms::ID_CT_TST_INFO, Content::Attached(tst_info));
        req.signed_attrs = &protection;
        // RFC 3161 §2.4.1: certificates present iff certReq (signing-certificate-v2 always).
        req.certificates = if cert_req {
            cms::Certificates::Template
        } else {
            cms::Certificates::None
        };
        self.template.sign(&req).map_err(|e| e.to_string())
    }

    fn cert_sha256(&self) -> [u8; 32] {
        self.cert_sha256
    }
}
