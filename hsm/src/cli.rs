//! The `inkan-hsm` command: `keygen`, `csr`, `list`.
//!
//! Exit status: 0 success, 64 bad usage, 73 `keygen` onto a label already used on the token,
//! 77 a PIN or policy problem (the PIN missing, unreadable, rejected or locked; a key the
//! CRYPTREC policy refuses), as in `inkan-sign` and `inkan-tsa`; 70 any other failure.
//!
//! `keygen` makes keys on a PKCS#11 token only (a file path is refused as bad usage, with the
//! `openssl genpkey` command to use instead). `--algorithm rsa-3072-pss|rsa-4096-pss` makes an
//! RSA key restricted to RSA-PSS by `CKA_ALLOWED_MECHANISMS` ([`PSS_ONLY_MECHANISMS`]) on both
//! halves; `list` prints each object's `CKA_ALLOWED_MECHANISMS` and marks PSS-only lists.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use cryptoki::types::AuthPin;
use der::Encode;
use inkan_profiles::time::UnixTime;

use crate::derw::{self, tag};
use crate::name::DistinguishedName;
use crate::pkcs11::Module;
use crate::{Error, KeyRef, PinSource, Pkcs11Uri, Policy, default_algorithms};

/// The `inkan-hsm` command line (`--help` is generated from it; see [`command`]).
#[derive(Debug, Parser)]
#[command(
    name = "inkan-hsm",
    version,
    about = "inkan-hsm: key management for inkan (PKCS#11 tokens and PKCS#8 files)",
    override_usage = "  inkan-hsm keygen --key PKCS11_URI --algorithm ALG
  inkan-hsm csr --key KEYREF --subject DN [--eku time-stamping] [--out FILE]
  inkan-hsm list --module PATH [--pin-source env:NAME|FILE]
  inkan-hsm --help | --version",
    after_help = NOTES
)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// The commands of `inkan-hsm`.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// make a key pair on a PKCS#11 token (sensitive, non-extractable private key)
    #[command(
        override_usage = "  inkan-hsm keygen --key PKCS11_URI --algorithm ALG",
        after_help = ALG_NOTES
    )]
    Keygen {
        /// where: a pkcs11: URI with token=, object= (the label) and module-path=
        #[arg(long, value_name = "PKCS11_URI", help_heading = OPTIONS)]
        key: String,
        /// the key's algorithm (see ALG below)
        #[arg(long, value_name = "ALG", value_parser = ALGORITHMS, hide_possible_values = true, help_heading = OPTIONS)]
        algorithm: String,
    },
    /// a PKCS#10 certificate request signed by the key (PEM)
    #[command(
        override_usage = "  inkan-hsm csr --key KEYREF --subject DN [--eku time-stamping] [--out FILE]",
        after_help = CSR_NOTES
    )]
    Csr {
        /// PKCS#8 PEM file or pkcs11: URI (PIN via pin-source, never a flag)
        #[arg(long, value_name = "KEYREF", help_heading = OPTIONS)]
        key: String,
        /// the subject: /C=JP/O=Example/CN=TSA 1  or  CN=TSA 1,O=Example,C=JP
        #[arg(long, value_name = "DN", help_heading = OPTIONS)]
        subject: String,
        /// request the extended key usage id-kp-timeStamping (critical), for a TSA
        #[arg(long, value_name = "EKU", value_parser = ["time-stamping"], help_heading = OPTIONS)]
        eku: Option<String>,
        /// write the request here (default: standard output)
        #[arg(long, value_name = "FILE", help_heading = OPTIONS)]
        out: Option<PathBuf>,
    },
    /// every slot and token with its objects
    #[command(override_usage = "  inkan-hsm list --module PATH [--pin-source env:NAME|FILE]")]
    List {
        /// the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so)
        #[arg(long, value_name = "PATH", help_heading = OPTIONS)]
        module: PathBuf,
        /// log into each initialised token and list its private keys too (without it, only
        /// public objects)
        #[arg(long, value_name = "env:NAME|FILE", value_parser = pin_source, help_heading = OPTIONS)]
        pin_source: Option<PinSource>,
    },
}

/// `--pin-source env:NAME|FILE`.
fn pin_source(s: &str) -> Result<PinSource, String> {
    PinSource::parse(s).map_err(|e| e.to_string())
}

/// The algorithms `keygen` makes.
const ALGORITHMS: [&str; 7] = [
    "rsa-3072",
    "rsa-4096",
    "rsa-3072-pss",
    "rsa-4096-pss",
    "p256",
    "p384",
    "p521",
];

/// The notes on ALG (`keygen --help` and `--help`).
macro_rules! alg_notes {
    () => {
        "\
ALG (keygen, on a PKCS#11 token only; the private key is sensitive and non-extractable):
  rsa-3072, rsa-4096          RSA keys that sign PKCS#1 v1.5 and RSA-PSS
  rsa-3072-pss, rsa-4096-pss  RSA keys restricted to RSA-PSS: CKA_ALLOWED_MECHANISMS =
                              CKM_RSA_PKCS_PSS, CKM_SHA256/384/512_RSA_PKCS_PSS; their CSRs
                              carry an id-RSASSA-PSS key and a PSS signature
  p256, p384, p521            ECDSA keys
  (for a PKCS#8 file: openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:3072)"
    };
}

/// The notes on KEYREF (`csr --help` and `--help`).
macro_rules! keyref_notes {
    () => {
        "\
KEYREF is a PKCS#8 PEM file or an RFC 7512 URI, e.g.
  pkcs11:token=inkan;object=tsa-2026?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:INKAN_PIN
Give the PIN with pin-source=env:NAME or pin-source=FILE (never on the command line)."
    };
}

const ALG_NOTES: &str = alg_notes!();

const CSR_NOTES: &str = concat!(
    keyref_notes!(),
    "\nDN: /C=JP/O=Example/CN=TSA 1  or  CN=TSA 1,O=Example,C=JP"
);

const NOTES: &str = concat!(
    keyref_notes!(),
    "\n",
    alg_notes!(),
    "
DN: /C=JP/O=Example/CN=TSA 1  or  CN=TSA 1,O=Example,C=JP
list: every slot and token with its objects; without --pin-source only public objects,
  with it each initialised token is logged into and its private keys are listed too.
Exit status: 0 done, 64 bad usage, 73 keygen onto a label already on the token,
  77 a PIN problem or a key the policy refuses, 70 any other failure."
);

/// The command-line definition of `inkan-hsm` in the house layout
/// ([`inkan_profiles::cli::convention`]): what `--help`, the shell completions and the manual
/// page are generated from.
pub fn command() -> clap::Command {
    inkan_profiles::cli::convention(Args::command())
}

use clap::{CommandFactory, Parser, Subcommand};
use inkan_profiles::cli::{
    EXIT_CANTCREAT, EXIT_NOPERM, EXIT_SOFTWARE, EXIT_USAGE, OPTIONS, Stop, usage_line,
};

/// A command-line failure: usage (64) or runtime (70, 73, 77).
#[derive(Debug)]
pub enum CliError {
    /// Bad arguments: the one line to print ([`inkan_profiles::cli`]).
    Usage(String),
    /// The operation failed.
    Failed(Error),
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

impl CliError {
    /// A usage error found after parsing, as the one line of the convention.
    fn usage(message: &str) -> Self {
        Self::Usage(usage_line("inkan-hsm", message))
    }

    /// The process exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => EXIT_USAGE,
            Self::Failed(Error::ObjectExists(_)) => EXIT_CANTCREAT,
            Self::Failed(e) if e.is_pin_problem() => EXIT_NOPERM,
            Self::Failed(Error::PolicyRefused(_)) => EXIT_NOPERM,
            Self::Failed(_) => EXIT_SOFTWARE,
        }
    }
}

/// The whole line for standard error, `inkan-hsm: ...`.
impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Usage(line) => f.write_str(line),
            Self::Failed(e) => write!(f, "inkan-hsm: {e}"),
        }
    }
}

/// Runs the command with `args` (without the program name) at time `now`; returns stdout
/// text (also the help or the version).
pub fn run(args: Vec<OsString>, now: UnixTime) -> Result<String, CliError> {
    let args: Args = match inkan_profiles::cli::parse(command(), args) {
        Ok(a) => a,
        Err(Stop::Print(text)) => return Ok(text),
        Err(Stop::Usage(line)) => return Err(CliError::Usage(line)),
    };
    match args.command {
        Cmd::Keygen { key, algorithm } => keygen(&key, &algorithm),
        Cmd::Csr {
            key,
            subject,
            eku,
            out,
        } => {
            let pem = csr(&key, &subject, eku.as_deref(), now)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &pem).map_err(|e| {
                        CliError::Failed(Error::Encoding(format!("{}: {e}", path.display())))
                    })?;
                    Ok(String::new())
                }
                None => Ok(pem),
            }
        }
        Cmd::List { module, pin_source } => list(&module, pin_source.as_ref()),
    }
}

/// The mechanisms a key made with `--algorithm rsa-*-pss` may use: every PSS mechanism the
/// PKCS#11 backend signs with (`CKM_RSA_PKCS_PSS` over a digest computed here, and the
/// hash-specific ones), so the backend loads it as a PSS-only key (see [`crate::pkcs11`]).
pub const PSS_ONLY_MECHANISMS: [MechanismType; 4] = [
    MechanismType::RSA_PKCS_PSS,
    MechanismType::SHA256_RSA_PKCS_PSS,
    MechanismType::SHA384_RSA_PKCS_PSS,
    MechanismType::SHA512_RSA_PKCS_PSS,
];

fn keygen(uri: &str, alg: &str) -> Result<String, CliError> {
    if !uri.starts_with("pkcs11:") {
        // ring cannot generate RSA keys and the `rsa` crate is kept to verification here, so
        // file keys come from OpenSSL.
        return Err(CliError::usage(&format!(
            "keygen makes keys on PKCS#11 tokens only (--key pkcs11:...); for a PKCS#8 file use \
             e.g. `openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:3072 -out FILE` \
             (an id-RSASSA-PSS key, loaded as PSS-only) or `openssl genpkey -algorithm EC \
             -pkeyopt ec_paramgen_curve:P-256 -out FILE`; got {uri:?}"
        )));
    }
    let uri = Pkcs11Uri::parse(uri)?;
    let label = uri
        .object
        .clone()
        .ok_or_else(|| CliError::usage("keygen needs object= in the URI"))?;
    let module_path = uri
        .module_path
        .clone()
        .ok_or_else(|| CliError::usage("the URI needs module-path="))?;
    let mut allowed = None;
    let (mech, pub_extra) = match alg {
        "rsa-3072" | "rsa-4096" | "rsa-3072-pss" | "rsa-4096-pss" => {
            if alg.ends_with("-pss") {
                allowed = Some(PSS_ONLY_MECHANISMS.to_vec());
            }
            let bits: u64 = if alg.starts_with("rsa-3072") {
                3072
            } else {
                4096
            };
            (
                Mechanism::RsaPkcsKeyPairGen,
                vec![
                    Attribute::ModulusBits(bits.into()),
                    Attribute::PublicExponent(vec![1, 0, 1]),
                ],
            )
        }
        "p256" | "p384" | "p521" => {
            let oid = match alg {
                "p256" => crate::soft::OID_P256,
                "p384" => crate::soft::OID_P384,
                _ => crate::soft::OID_P521,
            };
            (
                Mechanism::EccKeyPairGen,
                vec![Attribute::EcParams(derw::tlv_vec(tag::OID, oid.as_bytes()))],
            )
        }
        other => {
            return Err(CliError::usage(&format!(
                "--algorithm {other:?}: use one of {}",
                ALGORITHMS.join(", ")
            )));
        }
    };
    let id = uri.id.clone().unwrap_or_else(|| {
        ring::digest::digest(&ring::digest::SHA256, label.as_bytes()).as_ref()[..8].to_vec()
    });
    let module = Module::open(&module_path)?;
    let slot = module.find_slot(&uri)?;
    let session = module
        .context()
        .open_rw_session(slot)
        .map_err(|e| Error::Backend {
            op: "C_OpenSession",
            rv: e.to_string(),
        })?;
    let pin = match &uri.pin {
        Some(p) => Some(AuthPin::from(p.resolve()?.as_str())),
        None => None,
    };
    match session.login(cryptoki::session::UserType::User, pin.as_ref()) {
        Ok(()) => {}
        Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::PinIncorrect, _)) => {
            return Err(Error::WrongPin.into());
        }
        Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => {
            return Err(Error::Backend {
                op: "C_Login",
                rv: e.to_string(),
            }
            .into());
        }
    }
    let existing = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(|e| Error::Backend {
            op: "C_FindObjects",
            rv: e.to_string(),
        })?;
    if !existing.is_empty() {
        let token = uri.token.as_deref().unwrap_or("the token");
        return Err(CliError::Failed(Error::ObjectExists(format!(
            "a private key labelled {label:?} already exists on {token}: nothing generated; \
             choose another object= label (see `inkan-hsm list --module PATH --pin-source ...`)"
        ))));
    }
    let mut pub_t = vec![
        Attribute::Token(true),
        Attribute::Verify(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
    ];
    pub_t.extend(pub_extra);
    let mut priv_t = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
    ];
    if let Some(list) = &allowed {
        // On the private key (what the backend reads and the token enforces at C_SignInit)
        // and on the public key, where `list` (no login) shows it.
        priv_t.push(Attribute::AllowedMechanisms(list.clone()));
        pub_t.push(Attribute::AllowedMechanisms(list.clone()));
    }
    session
        .generate_key_pair(&mech, &pub_t, &priv_t)
        .map_err(|e| Error::Backend {
            op: "C_GenerateKeyPair",
            rv: e.to_string(),
        })?;
    let mut shown = uri.clone();
    shown.id = Some(id);
    let mut out = format!("generated {alg} key: {shown}\n");
    if let Some(list) = &allowed {
        out.push_str(&format!(
            "restricted to RSA-PSS: CKA_ALLOWED_MECHANISMS={}\n",
            mechanism_list(list)
        ));
    }
    Ok(out)
}

/// Builds a PKCS#10 request (RFC 2986) signed by the key.
pub fn csr(
    keyref: &str,
    subject: &str,
    eku: Option<&str>,
    now: UnixTime,
) -> Result<String, CliError> {
    let key = crate::load(&KeyRef::parse(keyref)?, &Policy::cryptrec(), now)?;
    let signer = key
        .choose(&default_algorithms(&key.kind()))
        .ok_or_else(|| Error::UnsupportedKey(format!("{:?}", key.kind())))?;
    let name = DistinguishedName::parse(subject)?.to_der();
    let mut attrs = Vec::new();
    match eku {
        None => {}
        Some("time-stamping") => {
            // extensionRequest { extendedKeyUsage critical { id-kp-timeStamping } }.
            let kp = derw::tlv_vec(tag::OID, crate::devpki::KP_TIME_STAMPING.as_bytes());
            let eku_val = derw::tlv_vec(tag::SEQUENCE, &kp);
            let mut ext = Vec::new();
            derw::tlv_parts(
                &mut ext,
                tag::SEQUENCE,
                &[
                    &derw::tlv_vec(tag::OID, &[0x55, 0x1D, 0x25]),
                    &[0x01, 0x01, 0xFF],
                    &derw::tlv_vec(tag::OCTET_STRING, &eku_val),
                ],
            );
            let exts = derw::tlv_vec(tag::SEQUENCE, &ext);
            let ext_req = const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.14");
            attrs = crate::cms::attribute(&ext_req, &[&exts]);
        }
        Some(other) => {
            return Err(CliError::usage(&format!(
                "--eku {other:?}: only time-stamping is known"
            )));
        }
    }
    let mut cri = Vec::new();
    derw::tlv_parts(
        &mut cri,
        tag::SEQUENCE,
        &[
            &[0x02, 0x01, 0x00],
            &name,
            key.public_key_der(),
            &derw::tlv_vec(tag::CTX0, &attrs),
        ],
    );
    let sig = signer.sign(&cri)?;
    let sig_alg = signer
        .algorithm()
        .to_algorithm_identifier()
        .to_der()
        .map_err(Error::from)?;
    let mut bits = vec![0u8];
    bits.extend_from_slice(&sig);
    let mut req = Vec::new();
    derw::tlv_parts(
        &mut req,
        tag::SEQUENCE,
        &[&cri, &sig_alg, &derw::tlv_vec(0x03, &bits)],
    );
    der::pem::encode_string("CERTIFICATE REQUEST", der::pem::LineEnding::LF, &req)
        .map_err(|e| CliError::Failed(Error::Encoding(e.to_string())))
}

fn list(module_path: &std::path::Path, pin: Option<&PinSource>) -> Result<String, CliError> {
    use std::fmt::Write;
    let module: Arc<Module> = Module::open(module_path)?;
    let ctx = module.context();
    let be = |op: &'static str| {
        move |e: cryptoki::error::Error| Error::Backend {
            op,
            rv: e.to_string(),
        }
    };
    let mut out = String::new();
    for slot in ctx.get_all_slots().map_err(be("C_GetSlotList"))? {
        let info = ctx.get_slot_info(slot).map_err(be("C_GetSlotInfo"))?;
        let _ = writeln!(
            out,
            "slot {}: {}",
            slot.id(),
            info.slot_description().trim_end()
        );
        if !info.token_present() {
            continue;
        }
        let Ok(t) = ctx.get_token_info(slot) else {
            continue;
        };
        let _ = writeln!(
            out,
            "  token: label={} serial={} model={} manufacturer={} initialized={}",
            t.label().trim_end(),
            t.serial_number().trim_end(),
            t.model().trim_end(),
            t.manufacturer_id().trim_end(),
            t.token_initialized()
        );
        if !t.token_initialized() {
            continue;
        }
        let Ok(session) = ctx.open_ro_session(slot) else {
            continue;
        };
        if let Some(src) = pin {
            let p = AuthPin::from(src.resolve()?.as_str());
            match session.login(cryptoki::session::UserType::User, Some(&p)) {
                Ok(()) => {}
                Err(cryptoki::error::Error::Pkcs11(
                    cryptoki::error::RvError::UserAlreadyLoggedIn,
                    _,
                )) => {}
                Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::PinIncorrect, _)) => {
                    return Err(Error::WrongPin.into());
                }
                Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::PinLocked, _)) => {
                    return Err(Error::PinLocked.into());
                }
                Err(e) => {
                    let _ = writeln!(out, "  (login failed: {e}; public objects only)");
                }
            }
        }
        let objs = session.find_objects(&[]).map_err(be("C_FindObjects"))?;
        for h in objs {
            let attrs = session
                .get_attributes(
                    h,
                    &[
                        AttributeType::Class,
                        AttributeType::Label,
                        AttributeType::Id,
                        AttributeType::KeyType,
                        AttributeType::AllowedMechanisms,
                    ],
                )
                .unwrap_or_default();
            let mut line = String::from("  object:");
            for a in attrs {
                match a {
                    Attribute::Class(c) => {
                        let _ = write!(line, " class={c}");
                    }
                    Attribute::Label(l) => {
                        let _ = write!(line, " label={}", String::from_utf8_lossy(&l));
                    }
                    Attribute::Id(id) => {
                        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
                        let _ = write!(line, " id={hex}");
                    }
                    Attribute::KeyType(k) => {
                        let _ = write!(line, " key-type={k}");
                    }
                    Attribute::AllowedMechanisms(list) if !list.is_empty() => {
                        let _ = write!(line, " allowed-mechanisms={}", mechanism_list(&list));
                        if list.iter().all(crate::pkcs11::is_pss_mechanism) {
                            line.push_str(" (RSA-PSS only)");
                        }
                    }
                    _ => {}
                }
            }
            let _ = writeln!(out, "{line}");
        }
    }
    if pin.is_none() {
        out.push_str(
            "(public objects only: give --pin-source env:NAME or a PIN file to list private keys)\n",
        );
    }
    Ok(out)
}

/// `CKM_A,CKM_B`.
fn mechanism_list(list: &[MechanismType]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
