//! The PKCS#11 backend, over `cryptoki`.
//!
//! - One `Pkcs11` context per module path, shared by every key of the process and finalised
//!   (`C_Finalize`) when the last key using it is dropped.
//! - The token is found by label, serial, manufacturer, model and/or slot id; the private key by
//!   `CKA_LABEL` and/or `CKA_ID`; the public key is read from the matching public-key object's
//!   attributes (`CKA_MODULUS`/`CKA_PUBLIC_EXPONENT`, `CKA_EC_PARAMS`/`CKA_EC_POINT`), never
//!   from a certificate.
//! - A bounded pool of logged-in sessions per key: a `Session` is `Send` but not `Sync`, so each
//!   concurrent signer takes one; signers beyond the bound wait.
//! - Mechanisms: `CKM_SHA256/384/512_RSA_PKCS` (the token hashes), `CKM_RSA_PKCS_PSS` and
//!   `CKM_ECDSA` over a digest computed here, `CKM_EDDSA`. The key type is checked against the
//!   mechanism before every `C_Sign` (SoftHSM2 crashes the process on PSS with an EC key).
//! - **PSS-only keys.** An RSA private key whose `CKA_ALLOWED_MECHANISMS` is non-empty and lists
//!   only PSS mechanisms (`CKM_RSA_PKCS_PSS`, `CKM_SHA256/384/512_RSA_PKCS_PSS`; a SHA-1 one
//!   is tolerated in the list but never used) is a PSS key: `kind()` is
//!   `PublicKeyKind::RsaPss { params: None }`, its SPKI is id-RSASSA-PSS without parameters
//!   (RFC 4055 §3.1, so a CSR or certificate over it carries the PSS SPKI), and `choose` offers
//!   only PSS with the hashes the list allows: with `CKM_RSA_PKCS_PSS` listed, any of
//!   SHA-256/384/512 (hashed here); otherwise the hashes of the listed `CKM_SHAn_RSA_PKCS_PSS`
//!   (the token hashes). The URI stays plain RFC 7512: the rule is read from the token. A key
//!   with no (or an empty) `CKA_ALLOWED_MECHANISMS`, or one listing any non-PSS mechanism, is an
//!   rsaEncryption key that signs PKCS#1 v1.5 and PSS. `inkan-hsm keygen --algorithm
//!   rsa-3072-pss` makes PSS-only keys (with `CKM_RSA_PKCS_PSS` and the three hash-specific
//!   mechanisms listed, so every PSS hash is available).
//! - Recovery: when a call fails because the session, the login, the object or the token went
//!   away, the pool is emptied and the next request (and this one, once) finds the token, logs
//!   in and finds the key again. No restart needed.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use inkan_profiles::alg::{Curve, DigestAlgorithm, PublicKeyKind, SignatureAlgorithm};
use inkan_profiles::time::UnixTime;

use crate::derw::{self, tag};
use crate::keyref::{PinSource, Pkcs11Uri};
use crate::policy_glue::{Policy, check_key_create};
use crate::soft::{self, OID_ED25519, curve_from_oid, ec_spki, rsa_spki, spki_der, supports};
use crate::{Error, Signer, SigningKey, digest};

/// `CKR_…` name of a return value (`PinIncorrect` → `CKR_PIN_INCORRECT`).
fn rv_name(rv: &RvError) -> String {
    let dbg = format!("{rv:?}");
    let mut out = String::from("CKR");
    for c in dbg.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Maps a cryptoki error from `op` to ours.
fn ck(op: &'static str) -> impl Fn(CkError) -> Error {
    move |e| match e {
        CkError::Pkcs11(RvError::PinIncorrect, _) => Error::WrongPin,
        CkError::Pkcs11(RvError::PinLocked | RvError::PinExpired, _) => Error::PinLocked,
        CkError::Pkcs11(rv, _) => Error::Backend {
            op,
            rv: rv_name(&rv),
        },
        other => Error::Backend {
            op,
            rv: other.to_string(),
        },
    }
}

/// Whether an error means "the session/login/object/token went away": worth re-opening.
fn recoverable(e: &Error) -> bool {
    match e {
        Error::Backend { rv, .. } => matches!(
            rv.as_str(),
            "CKR_SESSION_HANDLE_INVALID"
                | "CKR_SESSION_CLOSED"
                | "CKR_DEVICE_REMOVED"
                | "CKR_DEVICE_ERROR"
                | "CKR_TOKEN_NOT_PRESENT"
                | "CKR_TOKEN_NOT_RECOGNIZED"
                | "CKR_USER_NOT_LOGGED_IN"
                | "CKR_KEY_HANDLE_INVALID"
                | "CKR_OBJECT_HANDLE_INVALID"
                | "CKR_GENERAL_ERROR"
        ),
        Error::TokenNotFound(_) | Error::ObjectNotFound(_) => true,
        _ => false,
    }
}

/// A loaded PKCS#11 module; `C_Finalize` when the last user drops it.
pub struct Module {
    ctx: Pkcs11,
    path: PathBuf,
    finalize: bool,
    /// Bumped by every re-initialisation (recovery after the token went away).
    resets: Mutex<u64>,
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module").field("path", &self.path).finish()
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        if self.finalize {
            let _ = self.ctx.clone().finalize();
        }
    }
}

fn modules() -> &'static Mutex<HashMap<PathBuf, Weak<Module>>> {
    static M: OnceLock<Mutex<HashMap<PathBuf, Weak<Module>>>> = OnceLock::new();
    M.get_or_init(|| Mutex::new(HashMap::new()))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data behind; keep going.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Module {
    /// Loads and initialises the module at `path`, or returns the one already loaded.
    pub fn open(path: &Path) -> Result<Arc<Self>, Error> {
        let mut map = lock(modules());
        if let Some(m) = map.get(path).and_then(Weak::upgrade) {
            return Ok(m);
        }
        let merr = |reason: String| Error::Module {
            path: path.display().to_string(),
            reason,
        };
        let ctx = Pkcs11::new(path).map_err(|e| merr(e.to_string()))?;
        let finalize = match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) => true,
            Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => false,
            Err(e) => return Err(merr(format!("C_Initialize: {e}"))),
        };
        let m = Arc::new(Self {
            ctx,
            path: path.to_owned(),
            finalize,
            resets: Mutex::new(0),
        });
        map.insert(path.to_owned(), Arc::downgrade(&m));
        Ok(m)
    }

    /// How many times the module was re-initialised.
    fn resets(&self) -> u64 {
        *lock(&self.resets)
    }

    /// `C_Finalize` + `C_Initialize`, unless someone did it since `seen`: some modules
    /// (SoftHSM2) only see a token that came back after a re-initialisation. Sessions of every
    /// key of this module become invalid; each key re-opens on its next request.
    fn reinitialize(&self, seen: u64) -> Result<(), Error> {
        let mut n = lock(&self.resets);
        if *n != seen {
            return Ok(());
        }
        let _ = self.ctx.clone().finalize();
        self.ctx
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(ck("C_Initialize"))?;
        *n += 1;
        Ok(())
    }

    /// The cryptoki context.
    pub fn context(&self) -> &Pkcs11 {
        &self.ctx
    }

    /// The slot holding the token `uri` names (label, serial, manufacturer, model, slot-id).
    pub fn find_slot(&self, uri: &Pkcs11Uri) -> Result<Slot, Error> {
        let slots = self
            .ctx
            .get_slots_with_initialized_token()
            .map_err(ck("C_GetSlotList"))?;
        let mut found = Vec::new();
        for slot in slots {
            if uri.slot_id.is_some_and(|id| id != slot.id()) {
                continue;
            }
            let Ok(info) = self.ctx.get_token_info(slot) else {
                continue;
            };
            let eq = |want: &Option<String>, have: &str| {
                want.as_deref().is_none_or(|w| w == have.trim_end())
            };
            if eq(&uri.token, info.label())
                && eq(&uri.serial, info.serial_number())
                && eq(&uri.manufacturer, info.manufacturer_id())
                && eq(&uri.model, info.model())
            {
                found.push(slot);
            }
        }
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::TokenNotFound(describe_token(uri))),
            _ => Err(Error::TokenNotFound(format!(
                "{} matches {} tokens; add serial= or slot-id=",
                describe_token(uri),
                found.len()
            ))),
        }
    }
}

fn describe_token(uri: &Pkcs11Uri) -> String {
    let mut parts = Vec::new();
    if let Some(t) = &uri.token {
        parts.push(format!("token={t}"));
    }
    if let Some(s) = &uri.serial {
        parts.push(format!("serial={s}"));
    }
    if let Some(s) = uri.slot_id {
        parts.push(format!("slot-id={s}"));
    }
    if parts.is_empty() {
        "any token".into()
    } else {
        parts.join(";")
    }
}

fn describe_object(uri: &Pkcs11Uri) -> String {
    let mut parts = Vec::new();
    if let Some(o) = &uri.object {
        parts.push(format!("object={o}"));
    }
    if let Some(id) = &uri.id {
        let hex: String = id.iter().map(|b| format!("%{b:02X}")).collect();
        parts.push(format!("id={hex}"));
    }
    format!("{} on {}", parts.join(";"), describe_token(uri))
}

/// Logs `session` in as the user (an already logged-in token is fine).
fn login(session: &Session, pin: Option<&PinSource>) -> Result<(), Error> {
    let pin = match pin {
        Some(p) => Some(AuthPin::from(p.resolve()?.as_str())),
        None => None,
    };
    match session.login(UserType::User, pin.as_ref()) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
            Err(Error::WrongPin)
        }
        Err(CkError::Pkcs11(RvError::PinLocked | RvError::PinExpired, _)) => Err(Error::PinLocked),
        Err(e) if pin.is_none() => Err(match ck("C_Login")(e) {
            Error::Backend { .. } => Error::PinRequired,
            other => other,
        }),
        Err(e) => Err(ck("C_Login")(e)),
    }
}

fn key_template(class: ObjectClass, uri: &Pkcs11Uri) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class)];
    if let Some(l) = &uri.object {
        t.push(Attribute::Label(l.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        t.push(Attribute::Id(id.clone()));
    }
    t
}

/// Whether a mechanism is one of the RSA-PSS signing mechanisms.
pub(crate) fn is_pss_mechanism(m: &MechanismType) -> bool {
    [
        MechanismType::RSA_PKCS_PSS,
        MechanismType::SHA1_RSA_PKCS_PSS,
        MechanismType::SHA256_RSA_PKCS_PSS,
        MechanismType::SHA384_RSA_PKCS_PSS,
        MechanismType::SHA512_RSA_PKCS_PSS,
    ]
    .contains(m)
}

/// The PSS mechanisms of a PSS-only key (see the module docs), or `None` for any other key.
fn pss_only(
    session: &Session,
    private: ObjectHandle,
    kt: KeyType,
) -> Result<Option<Vec<MechanismType>>, Error> {
    if kt != KeyType::RSA {
        return Ok(None);
    }
    // A token without the attribute leaves it out of the answer: no restriction.
    let attrs = session
        .get_attributes(private, &[AttributeType::AllowedMechanisms])
        .map_err(ck("C_GetAttributeValue"))?;
    for a in attrs {
        if let Attribute::AllowedMechanisms(list) = a
            && !list.is_empty()
            && list.iter().all(is_pss_mechanism)
        {
            return Ok(Some(list));
        }
    }
    Ok(None)
}

/// Finds the private key; returns its handle, CKA_ID and key type.
fn find_private(session: &Session, uri: &Pkcs11Uri) -> Result<(ObjectHandle, KeyType), Error> {
    let found = session
        .find_objects(&key_template(ObjectClass::PRIVATE_KEY, uri))
        .map_err(ck("C_FindObjects"))?;
    let h = match found.as_slice() {
        [one] => *one,
        [] => return Err(Error::ObjectNotFound(describe_object(uri))),
        _ => return Err(Error::AmbiguousObject(describe_object(uri))),
    };
    let attrs = session
        .get_attributes(h, &[AttributeType::KeyType])
        .map_err(ck("C_GetAttributeValue"))?;
    for a in attrs {
        if let Attribute::KeyType(kt) = a {
            return Ok((h, kt));
        }
    }
    Err(Error::UnsupportedKey(
        "private key without CKA_KEY_TYPE".into(),
    ))
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let int = |v: &[u8]| {
        let v = &v[v
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(v.len().saturating_sub(1))..];
        let mut c = Vec::with_capacity(v.len() + 1);
        if v.first().is_none_or(|&b| b & 0x80 != 0) {
            c.push(0);
        }
        c.extend_from_slice(v);
        derw::tlv_vec(tag::INTEGER, &c)
    };
    let mut out = Vec::new();
    derw::tlv_parts(&mut out, tag::SEQUENCE, &[&int(n), &int(e)]);
    out
}

/// CKA_EC_POINT is a DER OCTET STRING holding the point (some tokens give the raw point).
fn unwrap_point(raw: &[u8], expect_len: usize) -> Vec<u8> {
    if raw.len() == expect_len {
        return raw.to_vec();
    }
    match inkan_profiles::asn1::tlv::parse_exact_with(raw, derw::READ) {
        Ok(t) if t.tag == tag::OCTET_STRING => t.value.to_vec(),
        _ => raw.to_vec(),
    }
}

/// Reads the public key of the private key `uri` names; returns kind and SPKI DER.
fn read_public(
    session: &Session,
    uri: &Pkcs11Uri,
    private: ObjectHandle,
    kt: KeyType,
    pss: bool,
) -> Result<(PublicKeyKind, Vec<u8>), Error> {
    let pubs = session
        .find_objects(&key_template(ObjectClass::PUBLIC_KEY, uri))
        .map_err(ck("C_FindObjects"))?;
    let obj = pubs.first().copied();
    let get = |h: ObjectHandle, types: &[AttributeType]| {
        session
            .get_attributes(h, types)
            .map_err(ck("C_GetAttributeValue"))
    };
    if kt == KeyType::RSA {
        let h = obj.unwrap_or(private);
        let (mut n, mut e) = (Vec::new(), Vec::new());
        for a in get(h, &[AttributeType::Modulus, AttributeType::PublicExponent])? {
            match a {
                Attribute::Modulus(v) => n = v,
                Attribute::PublicExponent(v) => e = v,
                _ => {}
            }
        }
        if n.is_empty() || e.is_empty() {
            return Err(Error::UnsupportedKey("RSA key without modulus".into()));
        }
        let modulus_bits = soft::bit_len(&n);
        if pss {
            let kind = PublicKeyKind::RsaPss {
                modulus_bits,
                params: None,
            };
            let spki = spki_der(soft::OID_RSA_PSS, None, &rsa_public_key_der(&n, &e))?;
            return Ok((kind, spki));
        }
        let kind = PublicKeyKind::Rsa { modulus_bits };
        return Ok((kind, rsa_spki(&rsa_public_key_der(&n, &e))?));
    }
    if kt == KeyType::EC || kt == KeyType::EC_EDWARDS {
        let h = obj.ok_or_else(|| {
            Error::ObjectNotFound(format!(
                "public key object for {} (needed to read CKA_EC_POINT)",
                describe_object(uri)
            ))
        })?;
        let (mut params, mut point) = (Vec::new(), Vec::new());
        for a in get(h, &[AttributeType::EcParams, AttributeType::EcPoint])? {
            match a {
                Attribute::EcParams(v) => params = v,
                Attribute::EcPoint(v) => point = v,
                _ => {}
            }
        }
        if kt == KeyType::EC_EDWARDS {
            // Named by OID 1.3.101.112 or by the PrintableString "edwards25519".
            let ok = params == derw::tlv_vec(tag::OID, OID_ED25519.as_bytes())
                || params == derw::tlv_vec(0x13, b"edwards25519");
            if !ok {
                return Err(Error::UnsupportedKey(
                    "Edwards curve other than Ed25519".into(),
                ));
            }
            let p = unwrap_point(&point, 32);
            return Ok((PublicKeyKind::Ed25519, spki_der(OID_ED25519, None, &p)?));
        }
        let t = inkan_profiles::asn1::tlv::parse_one_with(&params, 0, derw::READ)?.0;
        if t.tag != tag::OID {
            return Err(Error::UnsupportedKey(
                "EC key on explicit parameters (only named curves)".into(),
            ));
        }
        let oid = const_oid::ObjectIdentifier::from_bytes(t.value)
            .map_err(|e| Error::UnsupportedKey(format!("bad curve OID: {e}")))?;
        let curve =
            curve_from_oid(&oid).ok_or_else(|| Error::UnsupportedKey(format!("curve {oid}")))?;
        let plen = match curve {
            Curve::P224 => 57,
            Curve::P256 => 65,
            Curve::P384 => 97,
            _ => 133,
        };
        let p = unwrap_point(&point, plen);
        return Ok((PublicKeyKind::Ec(curve), ec_spki(curve, &p)?));
    }
    Err(Error::UnsupportedKey(format!("PKCS#11 key type {kt}")))
}

/// ECDSA `r || s` → DER `Ecdsa-Sig-Value`.
fn ecdsa_raw_to_der(raw: &[u8]) -> Result<Vec<u8>, Error> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return Err(Error::Backend {
            op: "C_Sign",
            rv: format!("ECDSA signature of odd length {}", raw.len()),
        });
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let int = |v: &[u8]| {
        let v = &v[v.iter().position(|&b| b != 0).unwrap_or(v.len() - 1)..];
        let mut c = Vec::with_capacity(v.len() + 1);
        if v[0] & 0x80 != 0 {
            c.push(0);
        }
        c.extend_from_slice(v);
        derw::tlv_vec(tag::INTEGER, &c)
    };
    let mut out = Vec::with_capacity(raw.len() + 9);
    derw::tlv_parts(&mut out, tag::SEQUENCE, &[&int(r), &int(s)]);
    Ok(out)
}

/// Where the key was found, valid until the token goes away.
#[derive(Clone, Copy)]
struct Resolved {
    slot: Slot,
    handle: ObjectHandle,
    generation: u64,
}

struct PoolState {
    idle: Vec<(u64, Session)>,
    open: usize,
    resolved: Option<Resolved>,
    generation: u64,
    /// Threads blocked in `checkout`: a check-in wakes one only when there is one (a
    /// `notify_one` is a futex system call even with nobody waiting).
    waiting: usize,
}

/// A private key on a token, with its session pool.
pub struct Pkcs11Key {
    // Fields drop in order: sessions before the module they belong to.
    state: Mutex<PoolState>,
    available: Condvar,
    max_sessions: usize,
    uri: Pkcs11Uri,
    label: String,
    kind: PublicKeyKind,
    key_type: KeyType,
    /// `CKA_ALLOWED_MECHANISMS` of a PSS-only key.
    pss_mechanisms: Option<Vec<MechanismType>>,
    spki: Vec<u8>,
    module: Arc<Module>,
}

impl fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("uri", &self.label)
            .field("kind", &self.kind)
            .field("max_sessions", &self.max_sessions)
            .finish_non_exhaustive()
    }
}

/// The default bound of the session pool: two per CPU, between 2 and 32.
fn default_pool_size() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get() * 2)
        .unwrap_or(4)
        .clamp(2, 32)
}

impl Pkcs11Key {
    /// Loads the key `uri` names: module, token, login, private key, public key; checks the
    /// key against the policy.
    pub fn open(uri: &Pkcs11Uri, policy: &Policy, at: UnixTime) -> Result<Self, Error> {
        let module_path = uri.module_path.as_deref().ok_or_else(|| {
            Error::BadKeyRef(
                "the pkcs11: URI needs module-path=… (e.g. /usr/lib/softhsm/libsofthsm2.so)".into(),
            )
        })?;
        let module = Module::open(module_path)?;
        let slot = module.find_slot(uri)?;
        let session = module
            .ctx
            .open_ro_session(slot)
            .map_err(ck("C_OpenSession"))?;
        login(&session, uri.pin.as_ref())?;
        let (handle, key_type) = find_private(&session, uri)?;
        let pss_mechanisms = pss_only(&session, handle, key_type)?;
        let (kind, spki) = read_public(&session, uri, handle, key_type, pss_mechanisms.is_some())?;
        check_key_create(policy, &kind, at).map_err(Error::PolicyRefused)?;
        let state = PoolState {
            idle: vec![(0, session)],
            open: 1,
            resolved: Some(Resolved {
                slot,
                handle,
                generation: 0,
            }),
            generation: 0,
            waiting: 0,
        };
        Ok(Self {
            state: Mutex::new(state),
            available: Condvar::new(),
            max_sessions: default_pool_size(),
            label: uri.to_string(),
            uri: uri.clone(),
            kind,
            key_type,
            pss_mechanisms,
            spki,
            module,
        })
    }

    /// Sets the session pool's bound (at least 1).
    pub fn with_max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n.max(1);
        self
    }

    /// Drops every idle session and forgets where the key was, so the next request
    /// finds the token and the key again.
    fn invalidate(&self, generation: u64) {
        let mut st = lock(&self.state);
        if st.generation == generation {
            st.generation += 1;
            st.resolved = None;
            let n = st.idle.len();
            st.idle.clear();
            st.open -= n;
        }
        drop(st);
        self.available.notify_all();
    }

    /// Takes a logged-in session and the key handle.
    fn checkout(&self) -> Result<(Session, Resolved), Error> {
        let mut st = lock(&self.state);
        loop {
            let current = st.generation;
            if let Some(r) = st.resolved {
                while let Some((g, s)) = st.idle.pop() {
                    if g == current {
                        return Ok((s, r));
                    }
                    st.open -= 1;
                }
                if st.open < self.max_sessions {
                    st.open += 1;
                    drop(st);
                    let opened = self
                        .module
                        .ctx
                        .open_ro_session(r.slot)
                        .map_err(ck("C_OpenSession"))
                        .and_then(|s| login(&s, self.uri.pin.as_ref()).map(|()| s));
                    return match opened {
                        Ok(s) => Ok((s, r)),
                        Err(e) => {
                            lock(&self.state).open -= 1;
                            self.available.notify_one();
                            Err(e)
                        }
                    };
                }
                st.waiting += 1;
                st = self.available.wait(st).unwrap_or_else(|p| p.into_inner());
                st.waiting -= 1;
                continue;
            }
            // Re-resolve: find the token, log in, find the key (holding the lock: one at a time).
            let seen = self.module.resets();
            let slot = match self.module.find_slot(&self.uri) {
                Ok(s) => s,
                Err(_) => {
                    self.module.reinitialize(seen)?;
                    self.module.find_slot(&self.uri)?
                }
            };
            let s = self
                .module
                .ctx
                .open_ro_session(slot)
                .map_err(ck("C_OpenSession"))?;
            login(&s, self.uri.pin.as_ref())?;
            let (handle, kt) = find_private(&s, &self.uri)?;
            let pss = pss_only(&s, handle, kt)?;
            let (_, spki) = read_public(&s, &self.uri, handle, kt, pss.is_some())?;
            if spki != self.spki {
                return Err(Error::ObjectNotFound(format!(
                    "{} now holds a different key",
                    describe_object(&self.uri)
                )));
            }
            let r = Resolved {
                slot,
                handle,
                generation: current,
            };
            st.resolved = Some(r);
            st.open += 1;
            return Ok((s, r));
        }
    }

    fn checkin(&self, session: Session, generation: u64) {
        let mut st = lock(&self.state);
        if generation == st.generation {
            st.idle.push((generation, session));
        } else {
            st.open -= 1;
        }
        let wake = st.waiting > 0;
        drop(st);
        if wake {
            self.available.notify_one();
        }
    }

    fn sign_once(&self, mech: &Mechanism<'_>, data: &[u8]) -> Result<Vec<u8>, Error> {
        let (session, r) = self.checkout()?;
        match session.sign(mech, r.handle, data) {
            Ok(sig) => {
                self.checkin(session, r.generation);
                Ok(sig)
            }
            Err(e) => {
                let e = ck("C_Sign")(e);
                if recoverable(&e) {
                    drop(session);
                    {
                        let mut st = lock(&self.state);
                        st.open -= 1;
                    }
                    self.invalidate(r.generation);
                } else {
                    self.checkin(session, r.generation);
                }
                Err(e)
            }
        }
    }

    /// Whether `CKM_RSA_PKCS_PSS` (over a digest computed here) may be used.
    fn raw_pss_allowed(&self) -> bool {
        self.pss_mechanisms
            .as_ref()
            .is_none_or(|l| l.contains(&MechanismType::RSA_PKCS_PSS))
    }

    /// Whether this key can make `alg`: the key kind allows it and, for a PSS-only key, its
    /// `CKA_ALLOWED_MECHANISMS` has a mechanism for the hash.
    fn can_sign(&self, alg: &SignatureAlgorithm) -> bool {
        if !supports(&self.kind, alg) {
            return false;
        }
        match (alg, &self.pss_mechanisms) {
            (SignatureAlgorithm::RsaPss(p), Some(list)) => {
                self.raw_pss_allowed()
                    || list.contains(&match p.hash {
                        DigestAlgorithm::Sha384 => MechanismType::SHA384_RSA_PKCS_PSS,
                        DigestAlgorithm::Sha512 => MechanismType::SHA512_RSA_PKCS_PSS,
                        _ => MechanismType::SHA256_RSA_PKCS_PSS,
                    })
            }
            _ => true,
        }
    }

    fn sign_with(&self, alg: &SignatureAlgorithm, message: &[u8]) -> Result<Vec<u8>, Error> {
        // Refuse any mechanism that does not fit the key before it reaches the token.
        let type_ok = match self.kind {
            PublicKeyKind::Rsa { .. } | PublicKeyKind::RsaPss { .. } => {
                self.key_type == KeyType::RSA
            }
            PublicKeyKind::Ec(_) => self.key_type == KeyType::EC,
            PublicKeyKind::Ed25519 => self.key_type == KeyType::EC_EDWARDS,
            _ => false,
        };
        if !type_ok || !self.can_sign(alg) {
            return Err(Error::AlgorithmMismatch(format!(
                "{alg:?} with a {:?} key",
                self.kind
            )));
        }
        let hash_mech = |d: DigestAlgorithm| match d {
            DigestAlgorithm::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
            DigestAlgorithm::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
            _ => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
        };
        let attempt = |()| -> Result<Vec<u8>, Error> {
            match alg {
                SignatureAlgorithm::RsaPkcs1(d) => {
                    let mech = match d {
                        DigestAlgorithm::Sha384 => Mechanism::Sha384RsaPkcs,
                        DigestAlgorithm::Sha512 => Mechanism::Sha512RsaPkcs,
                        _ => Mechanism::Sha256RsaPkcs,
                    };
                    self.sign_once(&mech, message)
                }
                SignatureAlgorithm::RsaPss(p) => {
                    let (hash_alg, mgf) = hash_mech(p.hash);
                    let params = PkcsPssParams {
                        hash_alg,
                        mgf,
                        s_len: u64::from(p.salt_len).into(),
                    };
                    if self.raw_pss_allowed() {
                        let h = digest::digest(p.hash, message)?;
                        return self.sign_once(&Mechanism::RsaPkcsPss(params), h.as_ref());
                    }
                    // A PSS-only key without CKM_RSA_PKCS_PSS: the token hashes.
                    let mech = match p.hash {
                        DigestAlgorithm::Sha384 => Mechanism::Sha384RsaPkcsPss(params),
                        DigestAlgorithm::Sha512 => Mechanism::Sha512RsaPkcsPss(params),
                        _ => Mechanism::Sha256RsaPkcsPss(params),
                    };
                    self.sign_once(&mech, message)
                }
                SignatureAlgorithm::Ecdsa(d) => {
                    let h = digest::digest(*d, message)?;
                    let raw = self.sign_once(&Mechanism::Ecdsa, h.as_ref())?;
                    ecdsa_raw_to_der(&raw)
                }
                SignatureAlgorithm::Ed25519 => self.sign_once(
                    &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                    message,
                ),
                other => Err(Error::AlgorithmMismatch(format!("{other:?}"))),
            }
        };
        match attempt(()) {
            Err(e) if recoverable(&e) => attempt(()),
            other => other,
        }
    }
}

impl SigningKey for Arc<Pkcs11Key> {
    fn public_key_der(&self) -> &[u8] {
        &self.spki
    }
    fn kind(&self) -> PublicKeyKind {
        self.kind
    }
    fn label(&self) -> &str {
        &self.label
    }
    fn choose(&self, allowed: &[SignatureAlgorithm]) -> Option<Arc<dyn Signer>> {
        let alg = *allowed.iter().find(|a| self.can_sign(a))?;
        Some(Arc::new(Pkcs11Signer {
            key: Arc::clone(self),
            alg,
        }))
    }
}

/// A token key bound to one algorithm.
struct Pkcs11Signer {
    key: Arc<Pkcs11Key>,
    alg: SignatureAlgorithm,
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("key", &self.key.label)
            .field("alg", &self.alg)
            .finish()
    }
}

impl Signer for Pkcs11Signer {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.alg
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.key.sign_with(&self.alg, message)
    }
}

/// Loads a token key through the PKCS#11 backend.
pub(crate) fn load(
    uri: &Pkcs11Uri,
    policy: &Policy,
    at: UnixTime,
) -> Result<Arc<dyn SigningKey>, Error> {
    Ok(Arc::new(Arc::new(Pkcs11Key::open(uri, policy, at)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rv_names() {
        assert_eq!(rv_name(&RvError::PinIncorrect), "CKR_PIN_INCORRECT");
        assert_eq!(
            rv_name(&RvError::SessionHandleInvalid),
            "CKR_SESSION_HANDLE_INVALID"
        );
    }

    #[test]
    fn raw_to_der() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80;
        raw[63] = 1;
        let der = ecdsa_raw_to_der(&raw).unwrap();
        assert_eq!(&der[..4], &[0x30, 0x26, 0x02, 0x21]);
        assert_eq!(&der[der.len() - 3..], &[0x02, 0x01, 0x01]);
    }
}
