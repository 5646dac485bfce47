"""pyHanko side of inkan's PDF benchmark (`cargo bench -p inkan-signer --bench pdf`): signs
or validates every PDF of a folder in one process and prints the seconds the loop took
(interpreter start and imports excluded, to be fair to pyHanko).

usage: pades_pyhanko.py sign SRC_DIR DST_DIR KEY_PEM CHAIN_PEM
       pades_pyhanko.py validate DIR ROOT_PEM CRL_DER
"""
import os
import sys
import time

from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore


def sign(src, dst, key, chain):
    certs = list(load_certs_from_pemder([chain]))
    signer = signers.SimpleSigner(
        signing_cert=certs[0],
        signing_key=load_private_key_from_pemder(key, None),
        cert_registry=SimpleCertificateStore.from_certs(certs[1:]),
    )
    # PAdES B-B: ETSI.CAdES.detached, no time-stamp, no DSS.
    meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=SigSeedSubFilter.PADES)
    names = sorted(n for n in os.listdir(src) if n.endswith(".pdf"))
    start = time.perf_counter()
    for n in names:
        with open(os.path.join(src, n), "rb") as inf:
            w = IncrementalPdfFileWriter(inf)
            with open(os.path.join(dst, n), "wb") as outf:
                signers.sign_pdf(w, meta, signer=signer, output=outf)
    return len(names), time.perf_counter() - start


def validate(folder, root, crl):
    vc = ValidationContext(
        trust_roots=[load_cert_from_pemder(root)],
        crls=[open(crl, "rb").read()],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    names = sorted(n for n in os.listdir(folder) if n.endswith(".pdf"))
    start = time.perf_counter()
    bad = 0
    for n in names:
        with open(os.path.join(folder, n), "rb") as f:
            r = PdfFileReader(f)
            for s in r.embedded_signatures:
                st = validate_pdf_signature(s, signer_validation_context=vc)
                bad += 0 if st.bottom_line else 1
    if bad:
        print(f"{bad} signatures not valid", file=sys.stderr)
        sys.exit(1)
    return len(names), time.perf_counter() - start


def main():
    mode = sys.argv[1]
    if mode == "sign":
        n, secs = sign(*sys.argv[2:6])
    else:
        n, secs = validate(*sys.argv[2:5])
    print(f"{n} {secs:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
