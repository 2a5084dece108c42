"""Google OAuth for the emulators: a token endpoint and bearer checks.

Service-account credentials either exchange a signed JWT at ``token_uri`` for an access token, or
(the google client libraries' default) send a self-signed JWT straight to the API. Both are
verified against the public keys of the service accounts the emulator trusts.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

from sources.emulators.server import EmulatorServer, Request, Response

TOKEN_PATH = "/token"


def write_demo_service_account(path: Path, token_uri: str) -> Path:
    """Create a throwaway service-account key file for the emulators (never a real key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "kpi-pipeline-demo",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": "kpi-demo@kpi-pipeline-demo.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "token_uri": token_uri,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created with mode 600 (never readable by others, not even for a moment), then written.
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(json.dumps(info, indent=2))
    return path


def _unauthenticated(message: str) -> Response:
    return Response(
        401,
        {"error": {"code": 401, "message": message, "status": "UNAUTHENTICATED"}},
        {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )


class GoogleAuth:
    """Trusts given service accounts; issues and checks bearer tokens."""

    def __init__(self) -> None:
        self._public_keys: dict[str, str] = {}
        self._tokens: dict[str, float] = {}
        self._refresh_tokens: dict[str, tuple[str, str]] = {}
        self.token_requests = 0
        self.self_signed_requests = 0

    def trust_service_account_file(self, path: Path) -> None:
        info = json.loads(Path(path).read_text())
        key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self._public_keys[info["client_email"]] = public.decode()

    def trust_refresh_token(self, client_id: str, client_secret: str, refresh_token: str) -> None:
        """Accept ``refresh_token`` grants for this OAuth client (installed-app flow, Google Ads)."""
        self._refresh_tokens[refresh_token] = (client_id, client_secret)

    def register(self, server: EmulatorServer) -> None:
        server.route("POST", TOKEN_PATH, self.token)

    def _issue(self) -> Response:
        token = "ya29.emulator-" + secrets.token_urlsafe(24)
        self._tokens[token] = time.time() + 3600
        return Response(body={"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _refresh_grant(self, form: dict[str, str]) -> Response:
        """OAuth 2.0 refresh_token grant (RFC 6749 section 6), answered like Google's endpoint."""
        client = self._refresh_tokens.get(form.get("refresh_token", ""))
        known_clients = set(self._refresh_tokens.values())
        if (form.get("client_id"), form.get("client_secret")) not in known_clients:
            return Response(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        if client != (form.get("client_id"), form.get("client_secret")):
            return Response(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
            )
        return self._issue()

    def revoke_access_tokens(self) -> None:
        """Forget every issued access token (a client must come back to the token endpoint)."""
        self._tokens.clear()

    def _verify_jwt(self, assertion: str) -> dict | None:
        try:
            claims = jwt.decode(assertion, verify=False)
            certs = self._public_keys.get(claims.get("iss", ""))
            if certs is None:
                return None
            return jwt.decode(assertion, certs=certs, verify=True)
        except (ValueError, KeyError):
            return None

    def token(self, request: Request) -> Response:
        """OAuth 2.0 JWT-bearer grant (RFC 7523) or refresh_token grant, as at
        oauth2.googleapis.com/token."""
        self.token_requests += 1
        form = request.form()
        if form.get("grant_type") == "refresh_token":
            return self._refresh_grant(form)
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Response(400, {"error": "unsupported_grant_type"})
        if not self._verify_jwt(form.get("assertion", "")):
            return Response(400, {"error": "invalid_grant", "error_description": "Invalid JWT."})
        return self._issue()

    def check(self, request: Request) -> Response | None:
        """None when the request carries a valid token; otherwise the 401 to send."""
        header = request.header("authorization") or ""
        if not header.startswith("Bearer "):
            return _unauthenticated("Request is missing required authentication credential.")
        token = header[len("Bearer ") :]
        if self._tokens.get(token, 0) > time.time():
            return None
        if token.count(".") == 2 and self._verify_jwt(token):
            self.self_signed_requests += 1
            return None
        return _unauthenticated("Request had invalid authentication credentials.")
