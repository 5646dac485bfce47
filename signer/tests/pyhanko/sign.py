"""Signs a PDF with pyHanko (an independent PAdES implementation), for inkan's interop
tests: inkan-verify must judge what pyHanko makes.

usage: sign.py IN_PDF OUT_PDF KEY_PEM CHAIN_PEM LEVEL [TSA_URL ROOT_PEM CRL_DER [CERTIFY_P]]
  LEVEL: b-b, b-t, b-lt or b-lta (PAdES baseline; B-T and up use the TSA at TSA_URL).
  CERTIFY_P: 1, 2 or 3 makes a certification signature with that DocMDP level.
"""
import sys

from pyhanko.keys import load_certs_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore


def main():
    src, dst, key, chain, level = sys.argv[1:6]
    certs = list(load_certs_from_pemder([chain]))
    signer = signers.SimpleSigner(
        signing_cert=certs[0],
        signing_key=load_private_key_from_pemder(key, None),
        cert_registry=SimpleCertificateStore.from_certs(certs[1:]),
    )
    timestamper = None
    vc = None
    if level != "b-b":
        tsa_url, root, crl = sys.argv[6:9]
        timestamper = timestamps.HTTPTimeStamper(tsa_url)
        vc = ValidationContext(
            trust_roots=list(load_certs_from_pemder([root])),
            crls=[open(crl, "rb").read()],
            allow_fetching=False,
        )
    certify = sys.argv[9] if len(sys.argv) > 9 else None
    perms = {"1": MDPPerm.NO_CHANGES, "2": MDPPerm.FILL_FORMS, "3": MDPPerm.ANNOTATE}
    meta = signers.PdfSignatureMetadata(
        certify=certify is not None,
        docmdp_permissions=perms[certify] if certify else MDPPerm.FILL_FORMS,
        field_name="PyHankoSignature",
        subfilter=SigSeedSubFilter.PADES,
        embed_validation_info=level in ("b-lt", "b-lta"),
        use_pades_lta=level == "b-lta",
        validation_context=vc,
    )
    with open(src, "rb") as inf:
        w = IncrementalPdfFileWriter(inf)
        with open(dst, "wb") as outf:
            signers.sign_pdf(w, meta, signer=signer, timestamper=timestamper, output=outf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
