//! Certification path building (RFC 5280 §6.1 says nothing of how to find a path; RFC 4158
//! describes the preferences followed here): from a certificate to a trust anchor among the
//! validation material, bounded in work whatever the input carries.

use inkan_profiles::alg::SignatureAlgorithm;

use crate::crypto::{self, Call, Scope};
use crate::material::Material;
use crate::x509::{self, Certificate};

/// The signature algorithm of a raw AlgorithmIdentifier, if it maps.
pub(crate) fn sig_alg_of(a: crate::tlv::Result<crypto::AlgId<'_>>) -> Option<SignatureAlgorithm> {
    crypto::signature_alg(&a.ok()?, None).ok()
}

/// Most signature verifications while building one path (see [`build_path`]): enough to
/// try every certificate of a large input once.
pub const PATH_BUDGET: usize = 4096;
/// Deepest path accepted.
pub const MAX_PATH_LEN: usize = 12;

/// Verifies `child`'s signature with `issuer`'s key; the algorithm as mapped, or an error.
pub(crate) fn cert_signed_by(
    call: &Call,
    child: &Certificate,
    issuer: &Certificate,
) -> Result<SignatureAlgorithm, ()> {
    let alg = sig_alg_of(child.sig_alg()).ok_or(())?;
    call.verify_signature(
        Scope::Material,
        issuer.spki(),
        &alg,
        child.tbs(),
        child.signature(),
    )
    .map_err(|_| ())?;
    Ok(alg)
}

/// A built path: the signing certificate first, the anchor last (the anchor may be the
/// signing certificate itself).
#[derive(Clone, Debug)]
pub struct Path {
    /// The certificates.
    pub certs: Vec<Certificate>,
    /// The signature algorithm of each certificate but the anchor.
    pub algs: Vec<SignatureAlgorithm>,
}

/// Builds a path from `leaf` to an anchor, depth-first.
///
/// Certificates in a signature are unsigned data anyone can add, so the search must not be
/// led astray by certificates that merely carry the issuer's name (RFC 5280 §6.1 says
/// nothing of how to find a path; RFC 4158 §3 describes these preferences):
///
/// - an issuer candidate must carry the child's issuer name, must not repeat a certificate of
///   the path, and, when both identifiers are present, its subjectKeyIdentifier must equal the
///   child's authorityKeyIdentifier;
/// - trust anchors are tried first, then candidates whose key identifier matches, then the
///   others, each in the order met;
/// - a candidate is followed only when its key verifies the child's signature; each
///   (child, issuer key) pair is verified at most once per search, so a thousand copies of a
///   CA certificate cost one verification of the child, and a certificate from which no path
///   was found is not explored again at the same or a greater depth;
/// - at most [`PATH_BUDGET`] signature verifications per search, and paths of at most
///   [`MAX_PATH_LEN`] certificates.
pub fn build_path(leaf: &Certificate, m: &Material) -> Option<Path> {
    search_path(leaf, m).0
}

/// [`build_path`], and whether the search ran out of its budget.
pub(crate) fn search_path(leaf: &Certificate, m: &Material) -> (Option<Path>, bool) {
    let all: Vec<&Certificate> = m.candidates().collect();
    let mut search = PathSearch {
        m,
        anchors: m.anchors.len(),
        dead: vec![usize::MAX; all.len()],
        all,
        budget: PATH_BUDGET,
        edges: std::collections::HashMap::new(),
        by_subject: std::collections::HashMap::new(),
    };
    let mut chain = vec![(LEAF, leaf)];
    let mut algs = Vec::new();
    if search.dfs(&mut chain, &mut algs) {
        let path = Path {
            certs: chain.into_iter().map(|(_, c)| c.clone()).collect(),
            algs,
        };
        (Some(path), false)
    } else {
        (None, search.budget == 0)
    }
}

/// The leaf's place in a [`PathSearch`] (it need not be among the material).
const LEAF: usize = usize::MAX;

/// The state of one [`build_path`] search.
struct PathSearch<'a> {
    m: &'a Material,
    /// Anchors, then the other certificates (indices below `anchors` are anchors).
    all: Vec<&'a Certificate>,
    anchors: usize,
    /// For each certificate, the smallest path length at which no path was found from it.
    dead: Vec<usize>,
    /// Signature verifications left.
    budget: usize,
    /// (child, issuer key) → the signature algorithm when the key verifies the child.
    edges: std::collections::HashMap<(usize, &'a [u8]), Option<SignatureAlgorithm>>,
    /// Issuer name (as a child carries it) → the certificates whose subject it names.
    by_subject: std::collections::HashMap<&'a [u8], Vec<usize>>,
}

impl<'a> PathSearch<'a> {
    fn dfs(
        &mut self,
        chain: &mut Vec<(usize, &'a Certificate)>,
        algs: &mut Vec<SignatureAlgorithm>,
    ) -> bool {
        // The chain's last element is the current certificate.
        let Some(&(cur_id, cur)) = chain.last() else {
            return false;
        };
        if self.m.is_anchor(cur) {
            return true;
        }
        if chain.len() > MAX_PATH_LEN {
            return false;
        }
        let depth = chain.len() + 1;
        let all = &self.all;
        let named = self
            .by_subject
            .entry(cur.issuer())
            .or_insert_with(|| {
                (0..all.len())
                    .filter(|&i| x509::names_equal(all[i].subject(), cur.issuer()))
                    .collect()
            })
            .clone();
        let mut cands: Vec<(u8, usize)> = Vec::new();
        for i in named {
            let cand = self.all[i];
            if self.dead[i] <= depth {
                continue;
            }
            let rank = match (&cur.aki, &cand.ski) {
                (Some(a), Some(s)) if a != s => continue,
                _ if i < self.anchors => 0,
                (Some(_), Some(_)) => 1,
                _ => 2,
            };
            if chain.iter().any(|(_, c)| c.raw == cand.raw) {
                continue;
            }
            cands.push((rank, i));
        }
        cands.sort_by_key(|&(rank, _)| rank);
        for (_, i) in cands {
            let cand = self.all[i];
            let alg = match self.edges.get(&(cur_id, cand.spki())) {
                Some(r) => *r,
                None => {
                    if self.budget == 0 {
                        return false;
                    }
                    self.budget -= 1;
                    let r = cert_signed_by(&self.m.call, cur, cand).ok();
                    self.edges.insert((cur_id, cand.spki()), r);
                    r
                }
            };
            let Some(alg) = alg else {
                continue;
            };
            chain.push((i, cand));
            algs.push(alg);
            if self.dfs(chain, algs) {
                return true;
            }
            chain.pop();
            algs.pop();
            if self.budget > 0 {
                self.dead[i] = self.dead[i].min(depth);
            }
        }
        false
    }
}
