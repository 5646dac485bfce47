//! RFC 5280 path constraints that the basic path checks of `crate::engine::judge_path` do
//! not cover: name constraints (§4.2.1.10, §6.1.3 (b)(c), §6.1.4 (g)) and certificate
//! policies (§4.2.1.4, §4.2.1.5, §4.2.1.11, §4.2.1.14, §6.1.3 (d)–(f), §6.1.4 (a)(b)(h)–(j),
//! §6.1.5 (a)(b)(g)).
//!
//! Both read the certificates' extensions from their signed bytes when the path is judged
//! (certificate parsing stays as it is). Every failure is a certificate constraint of
//! EN 319 102-1: INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE.

use inkan_profiles::oid;

use crate::checks::Check;
use crate::crypto::is;
use crate::path::Path;
use crate::tlv::{self, tag};
use crate::x509::{self, Certificate};

/// A constraint violation: (finding code, message).
pub type Violation = (Check, String);

/// Most subtrees read from one nameConstraints extension, names read from one certificate,
/// and policies or mappings read from one extension. Real certificates carry a few; beyond
/// these the path fails closed, which bounds the work per path (at most
/// `MAX_PATH_LEN × MAX_ITEMS²` name comparisons, `MAX_ITEMS²` policy comparisons per step).
pub const MAX_ITEMS: usize = 512;

/// One extension: (OID content octets, critical, extnValue content).
type Ext<'c> = (&'c [u8], bool, &'c [u8]);

/// The extensions of a certificate.
fn extensions(cert: &Certificate) -> tlv::Result<Vec<Ext<'_>>> {
    let mut out = Vec::new();
    let tbs = tlv::parse_exact(cert.tbs())?;
    for item in tbs.children() {
        let item = item?;
        if item.tag != 0xa3 {
            continue;
        }
        for ext in tlv::parse_exact(item.value)?.children() {
            let ext = ext?;
            let mut r = ext.children();
            let o = r.expect(tag::OID)?.value;
            let mut critical = false;
            if let Some(b) = r.optional(tag::BOOLEAN)? {
                critical = b.value.first().is_some_and(|&v| v != 0);
            }
            out.push((o, critical, r.expect(tag::OCTET_STRING)?.value));
        }
    }
    Ok(out)
}

fn extension<'c>(exts: &[Ext<'c>], o: &const_oid::ObjectIdentifier) -> Option<(bool, &'c [u8])> {
    exts.iter()
        .find(|(x, _, _)| is(x, o))
        .map(|(_, c, v)| (*c, *v))
}

/// Checks name constraints and certificate policies along `path` (signing certificate first,
/// trust anchor last); returns every violation found. `required_policies` (OID content
/// octets) is RFC 5280's user-initial-policy-set with initial-explicit-policy set: the path
/// must be valid for one of them. Empty means {anyPolicy} without explicit policy (the
/// default: any policy, none required unless a CA requires one).
pub fn check_path(path: &Path, required_policies: &[Vec<u8>]) -> Vec<Violation> {
    let mut v = Vec::new();
    // The anchor is not part of the path (RFC 5280 §6.1); a signing certificate that is
    // itself the anchor has nothing to check.
    let Some((anchor, certs)) = path.certs.split_last() else {
        return v;
    };
    if certs.is_empty() {
        return v;
    }
    let mut exts = Vec::with_capacity(certs.len());
    for c in certs {
        match extensions(c) {
            Ok(e) => exts.push(e),
            Err(e) => {
                v.push((
                    Check::X509ExtensionsMalformed,
                    format!("the extensions of {} cannot be read: {e}", c.display_name()),
                ));
                return v;
            }
        }
    }
    anchor_constraints(anchor, certs, &mut v);
    name_constraints(anchor, certs, &exts, &mut v);
    policies(certs, &exts, required_policies, &mut v);
    v
}

/// The trust anchor's own constraints, applied as RFC 5937 §2 and §3 allow and as OpenSSL
/// applies them to the root of every chain it verifies: a trust anchor that issues the next
/// certificate of the path must be a CA (basicConstraints cA, RFC 5280 §4.2.1.9; a version 1
/// certificate, which cannot carry extensions, is accepted as OpenSSL does), its keyUsage, when
/// present, must allow keyCertSign (§4.2.1.3), and its pathLenConstraint bounds the number of
/// non-self-issued intermediate certificates below it (§6.1.4 (l)(m)).
fn anchor_constraints(anchor: &Certificate, certs: &[Certificate], v: &mut Vec<Violation>) {
    if anchor.version >= 2 && !anchor.is_ca() {
        v.push((
            Check::X509AnchorNotACa,
            format!(
                "the trust anchor {} issues certificates but is not a CA (basicConstraints)",
                anchor.display_name()
            ),
        ));
    }
    if !anchor.allows(x509::ku::KEY_CERT_SIGN) {
        v.push((
            Check::X509AnchorNoKeyCertSign,
            format!(
                "the trust anchor {} lacks keyCertSign",
                anchor.display_name()
            ),
        ));
    }
    if let Some((_, Some(limit))) = anchor.basic_constraints {
        // certs[0] is the end entity; the others are the intermediates below the anchor.
        let below = certs.iter().skip(1).filter(|c| !c.self_issued()).count() as u64;
        if below > limit {
            v.push((
                Check::X509AnchorPathLength,
                format!(
                    "the trust anchor {} allows {limit} intermediate CA certificates below it (pathLenConstraint), the path has {below}",
                    anchor.display_name()
                ),
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Name constraints.

/// GeneralName forms (the context tag number of the CHOICE, RFC 5280 §4.2.1.6).
mod form {
    pub const RFC822: u8 = 1;
    pub const DNS: u8 = 2;
    pub const DIRECTORY: u8 = 4;
    pub const URI: u8 = 6;
    pub const IP: u8 = 7;
}

fn form_name(f: u8) -> &'static str {
    match f {
        0 => "otherName",
        form::RFC822 => "rfc822Name",
        form::DNS => "dNSName",
        3 => "x400Address",
        form::DIRECTORY => "directoryName",
        5 => "ediPartyName",
        form::URI => "uniformResourceIdentifier",
        form::IP => "iPAddress",
        8 => "registeredID",
        _ => "unknown name form",
    }
}

/// Forms whose constraints this verifier processes.
fn supported(f: u8) -> bool {
    matches!(
        f,
        form::RFC822 | form::DNS | form::DIRECTORY | form::IP | form::URI
    )
}

/// A GeneralName: its form and the content of the chosen alternative (for directoryName,
/// the Name's encoding).
fn general_name(t: &tlv::Tlv<'_>) -> tlv::Result<(u8, Vec<u8>)> {
    let f = t.tag & 0x1f;
    if f == form::DIRECTORY {
        Ok((f, tlv::parse_exact(t.value)?.raw.to_vec()))
    } else {
        Ok((f, t.value.to_vec()))
    }
}

/// One CA's name constraints.
struct NameConstraints {
    holder: String,
    critical: bool,
    permitted: Vec<(u8, Vec<u8>)>,
    excluded: Vec<(u8, Vec<u8>)>,
}

fn read_subtrees(t: &tlv::Tlv<'_>) -> tlv::Result<Vec<(u8, Vec<u8>)>> {
    let mut out = Vec::new();
    for st in t.children() {
        let st = st?;
        let mut r = st.children();
        let base = general_name(&r.next_tlv()?)?;
        // minimum MUST be zero and maximum MUST be absent (§4.2.1.10); anything else is a
        // form of constraint this verifier does not process.
        if let Some(min) = r.optional(0x80)?
            && min.value.iter().any(|&b| b != 0)
        {
            return Err(tlv::TlvError::new("GeneralSubtree minimum is not 0"));
        }
        if !r.is_empty() {
            return Err(tlv::TlvError::new("GeneralSubtree maximum is present"));
        }
        out.push(base);
        if out.len() > MAX_ITEMS {
            return Err(tlv::TlvError::new("too many GeneralSubtrees"));
        }
    }
    Ok(out)
}

fn read_name_constraints(
    c: &Certificate,
    critical: bool,
    val: &[u8],
) -> tlv::Result<NameConstraints> {
    let mut nc = NameConstraints {
        holder: c.display_name(),
        critical,
        permitted: Vec::new(),
        excluded: Vec::new(),
    };
    let s = tlv::parse_exact(val)?.expect(tag::SEQUENCE)?;
    let mut r = s.children();
    if let Some(p) = r.optional(0xa0)? {
        nc.permitted = read_subtrees(&p)?;
    }
    if let Some(e) = r.optional(0xa1)? {
        nc.excluded = read_subtrees(&e)?;
    }
    if !r.is_empty() {
        return Err(tlv::TlvError::new("trailing data in NameConstraints"));
    }
    Ok(nc)
}

/// The names of a certificate subject to name constraints (§6.1.3 (b)(c)): the subject DN
/// (when not empty), every emailAddress attribute of the subject as an rfc822Name
/// (§4.2.1.10), and every subjectAltName.
fn subject_names(c: &Certificate, exts: &[Ext<'_>]) -> tlv::Result<Vec<(u8, Vec<u8>)>> {
    let mut names = Vec::new();
    let subject_attrs = x509::name_attributes(c.subject());
    if !subject_attrs.is_empty() {
        names.push((form::DIRECTORY, c.subject().to_vec()));
    }
    for (o, v) in subject_attrs {
        if is(&o, &oid::AT_EMAIL_ADDRESS) {
            names.push((form::RFC822, v.into_bytes()));
        }
    }
    if let Some((_, san)) = extension(exts, &oid::ID_CE_SUBJECT_ALT_NAME) {
        for g in tlv::parse_exact(san)?.children() {
            names.push(general_name(&g?)?);
            if names.len() > MAX_ITEMS {
                return Err(tlv::TlvError::new("too many names"));
            }
        }
    }
    Ok(names)
}

fn lower(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_ascii_lowercase()
}

/// dNSName (§4.2.1.10): any name made by adding zero or more labels on the left of the
/// constraint; a constraint with a leading period (a common extension) names subdomains only.
fn dns_matches(name: &[u8], base: &[u8]) -> bool {
    let (n, b) = (lower(name), lower(base));
    let n = n.trim_end_matches('.');
    let b = b.trim_end_matches('.');
    if b.is_empty() {
        return true;
    }
    if let Some(sub) = b.strip_prefix('.') {
        return n.len() > sub.len() && n.ends_with(&format!(".{sub}"));
    }
    n == b || n.ends_with(&format!(".{b}"))
}

/// rfc822Name (§4.2.1.10): a full mailbox (exact, the host part case-insensitive), a host
/// (every mailbox on it), or a domain with a leading period (every host in it).
fn email_matches(name: &[u8], base: &[u8]) -> bool {
    let name = String::from_utf8_lossy(name);
    let base = String::from_utf8_lossy(base);
    let Some((local, host)) = name.rsplit_once('@') else {
        return false;
    };
    if let Some((bl, bh)) = base.rsplit_once('@') {
        return local == bl && host.eq_ignore_ascii_case(bh);
    }
    let host = host.to_ascii_lowercase();
    let base = base.to_ascii_lowercase();
    if base.starts_with('.') {
        host.ends_with(&base) && host.len() > base.len()
    } else {
        host == base
    }
}

/// The host of a uniformResourceIdentifier (RFC 3986 §3.2: `scheme://[userinfo@]host[:port]`),
/// lower case, when it is a domain name; `None` when the URI has no authority, an empty host,
/// or an IP address for host (RFC 5280 §4.2.1.10 then requires the certificate be rejected).
fn uri_host(name: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(name).ok()?;
    let (scheme, rest) = s.split_once(':')?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return None;
    }
    let rest = rest.strip_prefix("//")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return None; // an IP literal
    }
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        Some(_) => return None,
        None => host_port,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let is_ipv4 = host.split('.').count() == 4 && host.split('.').all(|l| l.parse::<u8>().is_ok());
    if host.is_empty() || is_ipv4 {
        return None;
    }
    Some(host)
}

/// uniformResourceIdentifier (§4.2.1.10): the constraint applies to the URI's host; a
/// constraint with a leading period names every host below that domain (not the domain
/// itself), one without names that host only.
fn uri_matches(name: &[u8], base: &[u8]) -> bool {
    let Some(host) = uri_host(name) else {
        return false;
    };
    let base = lower(base);
    let base = base.trim_end_matches('.');
    if base.starts_with('.') {
        host.len() > base.len() && host.ends_with(base)
    } else {
        host == base
    }
}

/// directoryName (§4.2.1.10, §7.1): the constraint's attributes are the first ones of the
/// name, compared as [`x509::names_equal`] compares names.
fn dir_matches(name: &[u8], base: &[u8]) -> bool {
    let n = x509::name_attributes(name);
    let b = x509::name_attributes(base);
    b.len() <= n.len()
        && n.iter()
            .zip(&b)
            .all(|((on, vn), (ob, vb))| on == ob && x509::same_normalized(vn, vb))
}

/// iPAddress (§4.2.1.10): address and mask of the same family.
fn ip_matches(name: &[u8], base: &[u8]) -> bool {
    let (addr, mask) = base.split_at(base.len() / 2);
    name.len() == addr.len()
        && (base.len() == 8 || base.len() == 32)
        && name
            .iter()
            .zip(addr)
            .zip(mask)
            .all(|((n, a), m)| n & m == a & m)
}

fn matches(f: u8, name: &[u8], base: &[u8]) -> bool {
    match f {
        form::RFC822 => email_matches(name, base),
        form::DNS => dns_matches(name, base),
        form::DIRECTORY => dir_matches(name, base),
        form::IP => ip_matches(name, base),
        form::URI => uri_matches(name, base),
        _ => false,
    }
}

fn show(f: u8, name: &[u8]) -> String {
    match f {
        form::DIRECTORY => x509::dn_string(name),
        form::IP => name
            .iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join("."),
        _ => String::from_utf8_lossy(name).into_owned(),
    }
}

/// §6.1.4 (g): adds the name constraints of `c`, if any; constraints that cannot be read or
/// use a minimum or maximum fail the path (fail closed).
fn add_name_constraints(
    c: &Certificate,
    e: &[Ext<'_>],
    sets: &mut Vec<NameConstraints>,
    v: &mut Vec<Violation>,
) {
    if let Some((critical, val)) = extension(e, &oid::ID_CE_NAME_CONSTRAINTS) {
        match read_name_constraints(c, critical, val) {
            Ok(nc) => sets.push(nc),
            Err(err) => v.push((
                Check::X509NameConstraintsUnsupported,
                format!(
                    "the name constraints of {} cannot be processed: {err}",
                    c.display_name()
                ),
            )),
        }
    }
}

/// §6.1.3 (b)(c) and §6.1.4 (g): each certificate's names must be within the permitted and
/// outside the excluded subtrees of every CA above it (checking against each CA's set is
/// the same as checking against their intersection and union). A self-issued CA certificate
/// other than the last is not checked. The trust anchor's own name constraints are applied
/// too (RFC 5937 §3.2 lets an anchor certificate's constraints be used as the initial
/// subtrees). A critical constraint on a form this verifier does not process, met by a name
/// of that form, rejects the certificate, as §4.2.1.10 requires.
fn name_constraints(
    anchor: &Certificate,
    certs: &[Certificate],
    exts: &[Vec<Ext<'_>>],
    v: &mut Vec<Violation>,
) {
    let mut sets: Vec<NameConstraints> = Vec::new();
    if let Ok(e) = extensions(anchor) {
        add_name_constraints(anchor, &e, &mut sets, v);
    }
    let n = certs.len();
    // From the certificate issued by the anchor down to the signing certificate.
    for i in (0..n).rev() {
        let c = &certs[i];
        let last = i == 0;
        if !sets.is_empty() && (last || !c.self_issued()) {
            let names = match subject_names(c, &exts[i]) {
                Ok(x) => x,
                Err(err) => {
                    v.push((
                        Check::X509NameConstraintsUnsupported,
                        format!("the names of {} cannot be read: {err}", c.display_name()),
                    ));
                    return;
                }
            };
            for nc in &sets {
                for (f, name) in &names {
                    let constrained = nc.permitted.iter().chain(&nc.excluded).any(|(g, _)| g == f);
                    if !constrained {
                        continue;
                    }
                    if !supported(*f) {
                        if nc.critical {
                            v.push((
                                Check::X509NameConstraintsUnsupported,
                                format!(
                                    "{} constrains {} names, which this verifier does not process, and {} has one",
                                    nc.holder,
                                    form_name(*f),
                                    c.display_name()
                                ),
                            ));
                        }
                        continue;
                    }
                    if *f == form::URI && uri_host(name).is_none() {
                        v.push((
                            Check::X509NameConstraints,
                            format!(
                                "{} constrains URIs, and the URI {} of {} has no host name to compare (RFC 5280 §4.2.1.10: such a certificate is rejected)",
                                nc.holder,
                                show(*f, name),
                                c.display_name()
                            ),
                        ));
                        continue;
                    }
                    let mut permitted = nc.permitted.iter().filter(|(g, _)| g == f).peekable();
                    if permitted.peek().is_some() && !permitted.any(|(_, b)| matches(*f, name, b)) {
                        v.push((
                            Check::X509NameConstraints,
                            format!(
                                "{} {} of {} is outside the subtrees {} permits",
                                form_name(*f),
                                show(*f, name),
                                c.display_name(),
                                nc.holder
                            ),
                        ));
                    }
                    if let Some((_, b)) = nc
                        .excluded
                        .iter()
                        .find(|(g, b)| g == f && matches(*f, name, b))
                    {
                        v.push((
                            Check::X509NameConstraints,
                            format!(
                                "{} {} of {} is within the subtree {} that {} excludes",
                                form_name(*f),
                                show(*f, name),
                                c.display_name(),
                                show(*f, b),
                                nc.holder
                            ),
                        ));
                    }
                }
            }
        }
        if !last {
            add_name_constraints(c, &exts[i], &mut sets, v);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Certificate policies.

/// The certificatePolicies identifiers of a certificate (qualifiers are not processed).
fn read_policies(val: &[u8]) -> tlv::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for pi in tlv::parse_exact(val)?.children() {
        out.push(pi?.children().expect(tag::OID)?.value.to_vec());
        if out.len() > MAX_ITEMS {
            return Err(tlv::TlvError::new("too many policies"));
        }
    }
    Ok(out)
}

/// policyMappings: (issuerDomainPolicy, subjectDomainPolicy) pairs.
fn read_mappings(val: &[u8]) -> tlv::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    for m in tlv::parse_exact(val)?.children() {
        let m = m?;
        let mut r = m.children();
        let a = r.expect(tag::OID)?.value.to_vec();
        let b = r.expect(tag::OID)?.value.to_vec();
        out.push((a, b));
        if out.len() > MAX_ITEMS {
            return Err(tlv::TlvError::new("too many policy mappings"));
        }
    }
    Ok(out)
}

/// policyConstraints: (requireExplicitPolicy, inhibitPolicyMapping).
fn read_policy_constraints(val: &[u8]) -> tlv::Result<(Option<u64>, Option<u64>)> {
    let s = tlv::parse_exact(val)?;
    let mut r = s.children();
    let req = r.optional(0x80)?.map(|t| t.small_uint()).transpose()?;
    let inh = r.optional(0x81)?.map(|t| t.small_uint()).transpose()?;
    Ok((req, inh))
}

/// A node at the deepest level of the valid_policy_tree: its valid_policy, its
/// expected_policy_set, and its origin: the valid_policy of its first ancestor that is not
/// anyPolicy (`None` while the branch is all anyPolicy). Nodes without children are pruned
/// at each step (§6.1.3 (d)(3)), so the tree is NULL exactly when its deepest level is
/// empty; and the final intersection with the user-initial-policy-set (§6.1.5 (g)(iii))
/// keeps a branch exactly when its origin is in that set (the origin is the node of
/// valid_policy_node_set the branch descends from, in the trust anchor's policy domain) or
/// the branch is all anyPolicy. So the deepest level is all the state needed.
#[derive(Clone)]
struct Node {
    valid: Vec<u8>,
    expected: Vec<Vec<u8>>,
    origin: Option<Vec<u8>>,
}

impl Node {
    /// A child of `self` with valid_policy `p`.
    fn child(&self, p: &[u8]) -> Self {
        let origin = match &self.origin {
            Some(o) => Some(o.clone()),
            None if any(p) => None,
            None => Some(p.to_vec()),
        };
        Self {
            valid: p.to_vec(),
            expected: vec![p.to_vec()],
            origin,
        }
    }
}

fn any(o: &[u8]) -> bool {
    is(o, &oid::ANY_POLICY)
}

/// RFC 5280 §6.1 policy processing with initial-policy-mapping-inhibit and
/// initial-any-policy-inhibit false. With `required` empty: user-initial-policy-set =
/// {anyPolicy} and initial-explicit-policy false; otherwise user-initial-policy-set =
/// `required` and initial-explicit-policy true. Fails the path when explicit_policy reaches 0
/// with a NULL tree, when no branch survives the intersection with `required`, or when a
/// mapping involves anyPolicy (§6.1.4 (a)).
fn policies(
    certs: &[Certificate],
    exts: &[Vec<Ext<'_>>],
    required: &[Vec<u8>],
    v: &mut Vec<Violation>,
) {
    let n = certs.len() as u64;
    let any_oid = oid::ANY_POLICY.as_bytes().to_vec();
    let mut level = vec![Node {
        valid: any_oid.clone(),
        expected: vec![any_oid.clone()],
        origin: None,
    }];
    let mut explicit_policy = if required.is_empty() { n + 1 } else { 0 };
    let mut inhibit_any = n + 1;
    let mut policy_mapping = n + 1;
    let malformed = |c: &Certificate, what: &str, e: tlv::TlvError| {
        (
            Check::X509PolicyMalformed,
            format!("the {what} of {} cannot be read: {e}", c.display_name()),
        )
    };
    for (step, idx) in (0..certs.len()).rev().enumerate() {
        let i = step as u64 + 1;
        let c = &certs[idx];
        let e = &exts[idx];
        let self_issued = c.self_issued();
        // (d), (e)
        match extension(e, &oid::ID_CE_CERTIFICATE_POLICIES) {
            Some((_, val)) if !level.is_empty() => {
                let pols = match read_policies(val) {
                    Ok(p) => p,
                    Err(err) => {
                        v.push(malformed(c, "certificatePolicies", err));
                        return;
                    }
                };
                let mut next: Vec<Node> = Vec::new();
                // Children with the same valid_policy and origin are one branch.
                let push = |next: &mut Vec<Node>, child: Node| {
                    if next.len() < MAX_ITEMS
                        && !next
                            .iter()
                            .any(|x| x.valid == child.valid && x.origin == child.origin)
                    {
                        next.push(child);
                    }
                };
                // (d)(1): each policy under the nodes that expect it, else under anyPolicy.
                for p in pols.iter().filter(|p| !any(p)) {
                    let mut matched = false;
                    for nd in level.iter().filter(|nd| nd.expected.iter().any(|x| x == p)) {
                        push(&mut next, nd.child(p));
                        matched = true;
                    }
                    if !matched {
                        for nd in level.iter().filter(|nd| any(&nd.valid)) {
                            push(&mut next, nd.child(p));
                        }
                    }
                }
                // (d)(2)
                if pols.iter().any(|p| any(p)) && (inhibit_any > 0 || (i < n && self_issued)) {
                    for nd in &level {
                        for x in &nd.expected {
                            push(&mut next, nd.child(x));
                        }
                    }
                }
                level = next;
            }
            Some(_) => {}
            None => level.clear(),
        }
        if i == n {
            // Wrap-up §6.1.5 (a)(b).
            explicit_policy = explicit_policy.saturating_sub(1);
            if let Some((_, val)) = extension(e, &oid::ID_CE_POLICY_CONSTRAINTS) {
                match read_policy_constraints(val) {
                    Ok((Some(0), _)) => explicit_policy = 0,
                    Ok(_) => {}
                    Err(err) => {
                        v.push(malformed(c, "policyConstraints", err));
                        return;
                    }
                }
            }
        }
        // (f) and §6.1.5 (g): explicit_policy > 0 or a non-NULL tree.
        if explicit_policy == 0 && level.is_empty() {
            v.push((
                Check::X509Policy,
                format!(
                    "an explicit certificate policy is required, and no acceptable policy is valid for the path at {}",
                    c.display_name()
                ),
            ));
            return;
        }
        if i == n {
            // §6.1.5 (g)(iii): the branches the user-initial-policy-set admits.
            if !required.is_empty()
                && !level.iter().any(|nd| match &nd.origin {
                    None => true,
                    Some(o) => required.contains(o),
                })
            {
                let names = |set: &mut dyn Iterator<Item = &Vec<u8>>| {
                    set.map(|o| tlv::oid_string(o))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                v.push((
                    Check::X509Policy,
                    format!(
                        "{} is not certified under a required policy ({}); the path is valid for: {}",
                        c.display_name(),
                        names(&mut required.iter()),
                        if level.is_empty() {
                            "no policy".to_owned()
                        } else {
                            names(&mut level.iter().filter_map(|nd| nd.origin.as_ref()))
                        }
                    ),
                ));
            }
            break;
        }
        // Preparation for the next certificate §6.1.4.
        if let Some((_, val)) = extension(e, &oid::ID_CE_POLICY_MAPPINGS) {
            let maps = match read_mappings(val) {
                Ok(m) => m,
                Err(err) => {
                    v.push(malformed(c, "policyMappings", err));
                    return;
                }
            };
            // (a)
            if maps.iter().any(|(a, b)| any(a) || any(b)) {
                v.push((
                    Check::X509PolicyMappingAny,
                    format!("{} maps anyPolicy (RFC 5280 §6.1.4 (a))", c.display_name()),
                ));
                return;
            }
            // (b)
            let mut issuers: Vec<&Vec<u8>> = maps.iter().map(|(a, _)| a).collect();
            issuers.dedup();
            for idp in issuers {
                let subjects: Vec<Vec<u8>> = maps
                    .iter()
                    .filter(|(a, _)| a == idp)
                    .map(|(_, b)| b.clone())
                    .collect();
                if policy_mapping > 0 {
                    let mut found = false;
                    for nd in level.iter_mut().filter(|nd| &nd.valid == idp) {
                        nd.expected = subjects.clone();
                        found = true;
                    }
                    if !found {
                        let parents: Vec<Node> =
                            level.iter().filter(|nd| any(&nd.valid)).cloned().collect();
                        for nd in parents {
                            let mut child = nd.child(idp);
                            child.expected = subjects.clone();
                            level.push(child);
                        }
                    }
                } else {
                    level.retain(|nd| &nd.valid != idp);
                }
            }
        }
        // (h)
        if !self_issued {
            explicit_policy = explicit_policy.saturating_sub(1);
            policy_mapping = policy_mapping.saturating_sub(1);
            inhibit_any = inhibit_any.saturating_sub(1);
        }
        // (i)
        if let Some((_, val)) = extension(e, &oid::ID_CE_POLICY_CONSTRAINTS) {
            match read_policy_constraints(val) {
                Ok((req, inh)) => {
                    if let Some(r) = req {
                        explicit_policy = explicit_policy.min(r);
                    }
                    if let Some(q) = inh {
                        policy_mapping = policy_mapping.min(q);
                    }
                }
                Err(err) => {
                    v.push(malformed(c, "policyConstraints", err));
                    return;
                }
            }
        }
        // (j)
        if let Some((_, val)) = extension(e, &oid::ID_CE_INHIBIT_ANY_POLICY) {
            match tlv::parse_exact(val).and_then(|t| t.small_uint()) {
                Ok(s) => inhibit_any = inhibit_any.min(s),
                Err(err) => {
                    v.push(malformed(c, "inhibitAnyPolicy", err));
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_and_email_forms() {
        assert!(dns_matches(b"a.example.com", b"example.com"));
        assert!(dns_matches(b"EXAMPLE.com", b"example.com"));
        assert!(!dns_matches(b"badexample.com", b"example.com"));
        assert!(!dns_matches(b"example.com", b".example.com"));
        assert!(dns_matches(b"x.example.com", b".example.com"));
        assert!(email_matches(b"a@example.com", b"example.com"));
        assert!(!email_matches(b"a@x.example.com", b"example.com"));
        assert!(email_matches(b"a@x.example.com", b".example.com"));
        assert!(email_matches(b"a@Example.com", b"a@example.com"));
        assert!(!email_matches(b"b@example.com", b"a@example.com"));
        assert!(!email_matches(b"no-at-sign", b"example.com"));
        assert!(ip_matches(&[10, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
        assert!(!ip_matches(&[11, 1, 2, 3], &[10, 0, 0, 0, 255, 0, 0, 0]));
        assert!(!ip_matches(&[10, 1, 2, 3], &[10, 0, 0]));
    }

    #[test]
    fn uri_form() {
        assert_eq!(
            uri_host(b"https://user@Host.Example.com:8443/a?b#c").as_deref(),
            Some("host.example.com")
        );
        assert_eq!(
            uri_host(b"ldap://ldap.example.com.").as_deref(),
            Some("ldap.example.com")
        );
        for no_host in [
            &b"urn:uuid:1234"[..],
            b"mailto:a@example.com",
            b"http://192.0.2.1/",
            b"http://[2001:db8::1]/",
            b"http:///path",
            b"http://host:port/",
            b"no-scheme",
        ] {
            assert_eq!(
                uri_host(no_host),
                None,
                "{}",
                String::from_utf8_lossy(no_host)
            );
        }
        assert!(uri_matches(
            b"https://host.example.com/x",
            b"host.example.com"
        ));
        assert!(!uri_matches(
            b"https://other.example.com/x",
            b"host.example.com"
        ));
        assert!(uri_matches(b"https://a.b.example.com/", b".example.com"));
        assert!(!uri_matches(b"https://example.com/", b".example.com"));
        assert!(!uri_matches(b"https://badexample.com/", b".example.com"));
        assert!(!uri_matches(b"urn:x", b".example.com"));
    }
}
