#!/usr/bin/env python3
"""Drive Red Hat's rh-model-signing (PyPI, 1.0.5) on an OCI image, for the interop tests.

Run it with the python of a venv holding rh-model-signing 1.0.5 and pyOpenSSL (which it
imports without declaring it); scripts/test.sh makes one and exports MODELSIGN_RH_VENV:

    "$MODELSIGN_RH_VENV/bin/python" tests/oci/rh_interop.py ACTION IMAGE [options]

IMAGE is REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:HEX (an `oci://` prefix is allowed).
ACTION is one of:

    sign-attach    sign with --private-key and attach the bundle in the registry:
                   --mode referrers (default) or --mode tag (the tag sha256-<hex>.sig).
                   rh falls back to the tag only when the manifest PUT answers 400: a
                   registry without the referrers API that stores the manifest anyway
                   (go-containerregistry's) leaves the signature where nothing finds it,
                   so use --mode tag there
    sign-to-file   sign with --private-key and only write the bundle to --signature
    verify-registry
                   verify with --public-key the signature found in the registry (rh tries
                   the referrers API, then the tag; --mode tag looks at the tag only)
    verify-file    verify with --public-key the bundle in --signature against the image
    verify-local   verify with --public-key (from the registry, or --signature if given)
                   and also check the unpacked model in --local-model against it. rh wants
                   every signed name that is not layer_NNN.tar.gz as a file there, the
                   config blob's `config.json` too (`{}` for an ORAS push), and no other

Options: --private-key PEM (SEC1 or PKCS#8, P-256/384/521), --public-key PEM (SPKI),
--signature FILE, --local-model DIR, --mode referrers|tag, --plain-http.

Certificates: with --signing-certificate PEM (and --certificate-chain PEM, repeatable) a
sign action signs with the certificate's key; with --certificate-chain and no --public-key
a verify action checks a certificate signature. rh's CLI signs and verifies only local
folders with certificates, so these go through its Python API (`signing.Config()
.use_certificate_signer(…).sign_image(…)`, `verifying.Config().use_certificate_verifier(…)
.verify_image(…)`), which its docstrings call unsupported for images. rh 1.0.5 then finds
only public-key bundles in the registry (it looks for `publicKey` in each bundle), so a
certificate signature verifies from --signature only.

Key actions run rh-model-signing's own command line (`model_signing sign key …` /
`model_signing verify key …`) in this process. Its CLI has no option for a plain-HTTP
registry: it always builds `OrasClient()`, i.e. https. --plain-http (or the environment
variable MODELSIGN_RH_PLAIN_HTTP=1) makes every OrasClient it builds use http, which is the
library's own `OrasClient(insecure=True)`; nothing else is changed.

Exit status: 0 when the action succeeded; rh's CLI prints its error (`Signing failed with
error: …`, `Verification failed: …`; the certificate path prints the same) on stderr and
exits 1; 2 for a bad use of this script.
"""

import argparse
import os
import sys

ACTIONS = ["sign-attach", "sign-to-file", "verify-registry", "verify-file", "verify-local"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("image")
    parser.add_argument("--private-key")
    parser.add_argument("--public-key")
    parser.add_argument("--signing-certificate")
    parser.add_argument("--certificate-chain", action="append", default=[])
    parser.add_argument("--signature")
    parser.add_argument("--local-model")
    parser.add_argument("--mode", choices=["referrers", "tag"], default="referrers")
    parser.add_argument("--plain-http", action="store_true")
    args = parser.parse_args()
    signing = args.action.startswith("sign")
    certificate = bool(args.signing_certificate if signing else args.certificate_chain)

    def need(flag, when=True):
        if when and getattr(args, flag.replace("-", "_")) is None:
            parser.error(f"{args.action} needs --{flag}")

    need("private-key", signing)
    need("public-key", not signing and not certificate)
    need("signature", args.action in ("sign-to-file", "verify-file"))
    need("local-model", args.action == "verify-local")

    from model_signing._oci import registry

    if args.plain_http or os.environ.get("MODELSIGN_RH_PLAIN_HTTP") == "1":

        class PlainHttpClient(registry.OrasClient):
            def __init__(self, *, insecure=True, tls_verify=True):
                super().__init__(insecure=insecure, tls_verify=tls_verify)

        # signing.py and verifying.py look the class up here each time they build one.
        registry.OrasClient = PlainHttpClient

    if certificate:
        return with_certificate(args, signing)

    if signing:
        cli = ["sign", "key", args.image, "--private-key", args.private_key]
        if args.action == "sign-attach":
            cli += ["--attachment-mode", args.mode, "--output-mode", "registry"]
        else:
            cli += ["--output-mode", "file", "--signature", args.signature]
    else:
        cli = ["verify", "key", args.image, "--public-key", args.public_key]
        if args.local_model is not None:
            cli += ["--local-model", args.local_model]
        if args.signature is not None:
            cli += ["--signature", args.signature]
        elif args.mode == "tag":
            cli += ["--attachment-mode", "tag"]

    from model_signing import _cli

    # click exits with the CLI's status (SystemExit).
    _cli.main(cli, prog_name="model_signing")
    return 0


def with_certificate(args, signing: bool) -> int:
    import pathlib

    import model_signing

    signature = pathlib.Path(args.signature) if args.signature else None
    try:
        if signing:
            model_signing.signing.Config().use_certificate_signer(
                private_key=args.private_key,
                signing_certificate=args.signing_certificate,
                certificate_chain=args.certificate_chain,
            ).sign_image(
                args.image,
                attachment_mode=args.mode,
                signature_path=signature,
                attach=args.action == "sign-attach",
            )
        else:
            model_signing.verifying.Config().use_certificate_verifier(
                certificate_chain=args.certificate_chain
            ).verify_image(
                args.image,
                local_model_path=args.local_model,
                attachment_mode="tag" if args.mode == "tag" else None,
                signature_path=signature,
            )
    except Exception as err:
        what = "Signing failed with error: " if signing else "Verification failed:\n"
        print(f"{what}{err}", file=sys.stderr)
        return 1
    print("Signing succeeded" if signing else "Verification succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
