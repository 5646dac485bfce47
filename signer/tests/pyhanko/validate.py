"""Validates every signature and document time-stamp of a PDF with pyHanko (an independent
PAdES implementation), for inkan's interop tests.

usage: validate.py PDF ROOT_PEM MODE [CRL_DER]
  MODE soft: revocation soft-fail, the CRL (if given) as extra material.
  MODE dss:  revocation hard-fail with nothing but the PDF's DSS (proves the DSS complete).
Prints one line per signature; exit 0 iff every bottom line is true.
"""
import sys

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext


def main():
    pdf, root_pem, mode = sys.argv[1:4]
    crl = sys.argv[4] if len(sys.argv) > 4 else None
    root = load_cert_from_pemder(root_pem)
    ok = True
    with open(pdf, "rb") as f:
        r = PdfFileReader(f)
        if mode == "dss":
            dss = DocumentSecurityStore.read_dss(r)
            vc = dss.as_validation_context(
                {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "hard-fail"}
            )
        else:
            crls = [open(crl, "rb").read()] if crl else []
            vc = ValidationContext(
                trust_roots=[root], crls=crls, allow_fetching=False, revocation_mode="soft-fail"
            )
        sigs = r.embedded_signatures
        if not sigs:
            print("no signatures")
            return 1
        for s in sigs:
            if s.sig_object.get("/Type") == "/DocTimeStamp":
                st = validate_pdf_timestamp(s, validation_context=vc)
                kind = "doc-ts"
            else:
                st = validate_pdf_signature(
                    s, signer_validation_context=vc, ts_validation_context=vc
                )
                kind = "signature"
            # A time-stamp status has no bottom line: intact, valid and trusted is its verdict.
            line = getattr(st, "bottom_line", None)
            if line is None:
                line = st.intact and st.valid and st.trusted
            print(
                f"{s.field_name} {kind} bottom_line={line} intact={st.intact} valid={st.valid} "
                f"trusted={st.trusted} coverage={getattr(st, 'coverage', None)} "
                f"modification={getattr(st, 'modification_level', None)}"
            )
            ok = ok and bool(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
