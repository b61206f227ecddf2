"""A registry token server for the OCI tests: the Docker registry token flow that Docker
Hub, GHCR, Harbor and Quay use, for the CNCF Distribution registry's `auth: token`.

The registry answers a request without a token with 401 and
`WWW-Authenticate: Bearer realm="https://127.0.0.1:PORT/token",service=...,scope=...`;
the client asks this server for a token (`GET /token?service=S&scope=repository:R:pull,push`,
anonymously or with Basic credentials) and retries with `Authorization: Bearer <token>`.

The token is a JWT signed with ES256 whose `x5c` header carries the signing certificate,
which Distribution (registry/auth/token, v3.1.0) verifies against its `rootcertbundle`,
then checks `iss` (its `issuer`), `aud` (its `service`), `exp` and `nbf` (60 s leeway),
and grants what `access` lists for the resource the request names.

Who gets what (what tests/oci/README.md describes and oci_auth.rs relies on):
- the one user, with the password in --password-file: every action it asks for (pull,
  push, delete) on every repository;
- anonymous (no Authorization header): `pull` on the --public-repository only, nothing
  elsewhere (a token with an empty `access`, which the registry refuses for that resource,
  as Docker Hub's token server does);
- wrong credentials: 401 from this server, no token.

Run as (scripts/test.sh start_oci_token_registry does):
    python token_server.py --port P --tls-cert server.pem --tls-key server.key \
        --signing-key signer.key --signing-cert signer.pem --issuer I --service S \
        --user U --password-file F --public-repository acme/public
Each request is logged to stderr with who asked and what was granted. The Python needs
`cryptography` (the model_signing venv has it).
"""

import argparse
import base64
import hmac
import json
import secrets
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

# How long a token is good for: long enough for one modelsign run, short as real ones are.
TOKEN_SECONDS = 300
USER_ACTIONS = {"pull", "push", "delete"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Issuer:
    def __init__(self, args):
        with open(args.signing_key, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        if not isinstance(self.key, ec.EllipticCurvePrivateKey) or self.key.curve.name != "secp256r1":
            sys.exit(f"token_server: {args.signing_key} is not a P-256 key (ES256 needs one)")
        with open(args.signing_cert, "rb") as f:
            self.cert_der = x509.load_pem_x509_certificate(f.read()).public_bytes(serialization.Encoding.DER)
        with open(args.password_file, encoding="utf-8") as f:
            self.password = f.read().strip()
        self.user = args.user
        self.issuer = args.issuer
        self.service = args.service
        self.public_repository = args.public_repository

    def grant(self, subject, scopes):
        """The `access` claim for `subject` (None: anonymous) asking for `scopes`."""
        access = []
        for scope in scopes:
            # repository:NAME:ACTIONS, NAME may hold a port-less path but no colon
            # (registry scopes with a colon in the name are the `repository(plugin)` kind,
            # which these tests do not use).
            parts = scope.split(":")
            if len(parts) != 3 or parts[0] != "repository":
                continue
            _, name, actions = parts
            wanted = {a for a in actions.split(",") if a}
            if subject is None:
                allowed = {"pull"} if name == self.public_repository else set()
            else:
                allowed = USER_ACTIONS
            granted = sorted(wanted & allowed)
            if granted:
                access.append({"type": "repository", "name": name, "actions": granted})
        return access

    def token(self, subject, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(self.cert_der).decode("ascii")]}
        claims = {
            "iss": self.issuer,
            "sub": subject or "",
            "aud": self.service,
            "exp": now + TOKEN_SECONDS,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        der = self.key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        # JWS wants r || s, each 32 bytes, not the DER sequence.
        r, s = decode_dss_signature(der)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signing_input + "." + b64url(signature), now


def handler_for(issuer: Issuer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 (BaseHTTPRequestHandler's name)
            sys.stderr.write("token_server: " + (format % args) + "\n")

        def reply(self, status, body, headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def subject(self):
            """(ok, user): the user the Basic credentials name (None without any);
            ok is False when they are malformed or wrong."""
            header = self.headers.get("Authorization")
            if header is None:
                return True, None
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "basic":
                return False, None
            try:
                user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
            except ValueError:
                return False, None
            ok = hmac.compare_digest(user.encode(), issuer.user.encode()) and hmac.compare_digest(
                password.encode(), issuer.password.encode()
            )
            return ok, user if ok else None

        def do_GET(self):
            url = urlsplit(self.path)
            if url.path != "/token":
                self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": f"no {url.path} here: GET /token"}]})
                return
            query = parse_qs(url.query)
            service = query.get("service", [""])[0]
            if service != issuer.service:
                self.reply(400, {"errors": [{"code": "UNSUPPORTED", "message": f"unknown service {service!r}"}]})
                return
            ok, subject = self.subject()
            if not ok:
                self.log_message("refused: wrong credentials")
                self.reply(
                    401,
                    {"errors": [{"code": "UNAUTHORIZED", "message": "authentication failed"}]},
                    [("WWW-Authenticate", 'Basic realm="modelsign-test-token"')],
                )
                return
            access = issuer.grant(subject, query.get("scope", []))
            token, issued = issuer.token(subject, access)
            self.log_message("token for %s: %s", subject or "anonymous", json.dumps(access))
            self.reply(
                200,
                {
                    "token": token,
                    "access_token": token,
                    "expires_in": TOKEN_SECONDS,
                    "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(issued)),
                },
            )

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addr", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls-cert", required=True, help="PEM certificate the token endpoint serves")
    parser.add_argument("--tls-key", required=True)
    parser.add_argument("--signing-key", required=True, help="PEM P-256 key the tokens are signed with")
    parser.add_argument("--signing-cert", required=True, help="its certificate: the registry's rootcertbundle")
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--public-repository", required=True, help="the repository anonymous users may pull")
    args = parser.parse_args()

    issuer = Issuer(args)
    server = ThreadingHTTPServer((args.addr, args.port), handler_for(issuer))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    sys.stderr.write(f"token_server: listening on https://{args.addr}:{args.port}/token\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
