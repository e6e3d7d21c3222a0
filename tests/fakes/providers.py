"""Small fakes of the providers the connectors talk to, on 127.0.0.1, speaking each one's real protocol.

One `ProviderServer` (a threaded HTTP server) answers, by path prefix:

- `/slack/api/<method>`: the Slack Web API (auth.test, conversations.list, conversations.replies,
  chat.postMessage): HTTP 200 with `{"ok": false, "error": "invalid_auth"|"token_revoked"}` on bad tokens;
- `/github/…`: GitHub REST (GET /user, issues, pulls, POST issues and comments);
- `/jira/rest/api/3/…`: Jira Cloud REST v3 with basic auth (myself, search/jql, issue, comment);
- `/linear/graphql`: Linear's GraphQL (viewer, issues, issueCreate with a client-chosen id);
- `/oauth/authorize`, `/oauth/token`: an OAuth 2.0 authorization server with PKCE (S256) and refresh;
- `/api/…`: a generic JSON API behind a bearer token;
- `/hook`: a Standard Webhooks receiver that verifies signatures and dedupes by `webhook-id`.

`SmtpServer` is an aiosmtpd SMTP server with a login. Every write is recorded in `writes`, so a
test can count what reached the provider; `revoke(token)` makes a provider refuse a token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SLACK_TOKEN = "xoxb-fake-slack-token-1111"
GITHUB_TOKEN = "ghp_fakeGitHubToken2222"
JIRA_EMAIL, JIRA_API_TOKEN = "bot@acme.example", "jira-fake-api-token-3333"
LINEAR_KEY = "lin_api_fakeLinearKey4444"
HTTP_TOKEN = "http-fake-api-token-5555"
SMTP_USER, SMTP_PASSWORD = "mailer", "smtp-fake-password-6666"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"fake-webhook-signing-secret-7777").decode()
OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET = "linear-client", "oauth-fake-client-secret-8888"

SECRETS = (
    SLACK_TOKEN,
    GITHUB_TOKEN,
    JIRA_API_TOKEN,
    LINEAR_KEY,
    HTTP_TOKEN,
    SMTP_PASSWORD,
    WEBHOOK_SECRET,
    OAUTH_CLIENT_SECRET,
)


@dataclass
class ProviderServer:
    """The fake providers; see the module docstring."""

    writes: list[tuple[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    token_lifetime: int = 3600
    grants: list[str] = field(default_factory=list)  # grant types the token endpoint served
    issued: dict[str, str] = field(default_factory=dict)  # access token -> its refresh token
    fail_next: dict[str, int] = field(default_factory=dict)  # path prefix -> 429s to answer first
    _codes: dict[str, dict[str, str]] = field(default_factory=dict)
    _seen_webhooks: set[str] = field(default_factory=set)
    _linear_issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> ProviderServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def writes_of(self, kind: str) -> list[Any]:
        with self.lock:
            return [body for k, body in self.writes if k == kind]

    def revoke(self, token: str) -> None:
        with self.lock:
            self.revoked.add(token)
            for access, refresh in list(self.issued.items()):
                if token in (access, refresh):
                    self.revoked.update({access, refresh})

    def valid(self, token: str, *good: str) -> bool:
        with self.lock:
            return token not in self.revoked and (token in good or token in self.issued)

    # --- OAuth ------------------------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> str:
        """What the consent screen does when the person clicks Allow: the redirect with a code."""
        assert query.get("code_challenge_method") == "S256" and query.get("code_challenge")
        code = secrets.token_urlsafe(16)
        with self.lock:
            self._codes[code] = {"challenge": query["code_challenge"], "redirect_uri": query["redirect_uri"]}
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("client_id") != OAUTH_CLIENT_ID or form.get("client_secret") != OAUTH_CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type", "")
        with self.lock:
            if grant == "authorization_code":
                found = self._codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if (
                    found is None
                    or found["challenge"] != challenge
                    or found["redirect_uri"] != form.get("redirect_uri")
                ):
                    return 400, {"error": "invalid_grant"}
            elif grant == "refresh_token":
                refresh = form.get("refresh_token", "")
                if refresh in self.revoked or refresh not in self.issued.values():
                    return 400, {"error": "invalid_grant"}
            else:
                return 400, {"error": "unsupported_grant_type"}
            self.grants.append(grant)
            access, refresh = f"lin_oauth_{secrets.token_hex(8)}", f"lin_refresh_{secrets.token_hex(8)}"
            self.issued[access] = refresh
        return 200, {"access_token": access, "refresh_token": refresh, "expires_in": self.token_lifetime}


def _handler(fake: ProviderServer) -> type[BaseHTTPRequestHandler]:  # noqa: C901 (one class per fake API)
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return None

        def _reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _bearer(self) -> str:
            header = self.headers.get("Authorization", "")
            return header[7:] if header.lower().startswith("bearer ") else header

        def do_GET(self) -> None:
            self._route("GET", b"")

        def do_POST(self) -> None:
            self._route("POST", self._body())

        def _route(self, method: str, raw: bytes) -> None:
            parts = urlsplit(self.path)
            path, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
            with fake.lock:
                fake.requests.append((method, path, dict(self.headers)))
                for prefix, left in list(fake.fail_next.items()):
                    if path.startswith(prefix) and left > 0:
                        fake.fail_next[prefix] = left - 1
                        self._reply(429, {"message": "slow down"}, {"Retry-After": "0"})
                        return
            if path.startswith("/slack/api/"):
                self._slack(path.rsplit("/", 1)[-1], raw)
            elif path.startswith("/github/"):
                self._github(method, path.removeprefix("/github"), raw, query)
            elif path.startswith("/jira/rest/api/3/"):
                self._jira(method, path.removeprefix("/jira/rest/api/3"), raw)
            elif path == "/linear/graphql":
                self._linear(raw)
            elif path == "/oauth/authorize":
                self.send_response(302)
                self.send_header("Location", fake.authorize(query))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/oauth/token":
                status, body = fake.token({k: v[0] for k, v in parse_qs(raw.decode()).items()})
                self._reply(status, body)
            elif path.startswith("/api/"):
                self._api(method, path, raw)
            elif path == "/hook":
                self._hook(raw)
            else:
                self._reply(404, {"message": "Not Found"})

        def _slack(self, name: str, raw: bytes) -> None:
            token = self._bearer()
            if token in fake.revoked:
                self._reply(200, {"ok": False, "error": "token_revoked"})
                return
            if token != SLACK_TOKEN:
                self._reply(200, {"ok": False, "error": "invalid_auth"})
                return
            args = json.loads(raw or b"{}")
            if name == "auth.test":
                self._reply(200, {"ok": True, "team": "Acme", "user": "switchboard", "team_id": "T1"})
            elif name == "conversations.list":
                self._reply(
                    200, {"ok": True, "channels": [{"id": "C1", "name": "general"}, {"id": "C2", "name": "ops"}]}
                )
            elif name == "conversations.replies":
                self._reply(
                    200, {"ok": True, "messages": [{"user": "U1", "text": "printer on fire", "ts": args["ts"]}]}
                )
            elif name == "chat.postMessage":
                with fake.lock:
                    fake.writes.append(("slack", args))
                self._reply(200, {"ok": True, "channel": args["channel"], "ts": "1700000000.000100"})
            else:
                self._reply(200, {"ok": False, "error": "unknown_method"})

        def _github(self, method: str, path: str, raw: bytes, query: dict[str, str]) -> None:
            if not fake.valid(self._bearer(), GITHUB_TOKEN):
                self._reply(401, {"message": "Bad credentials"})
                return
            if path == "/user":
                self._reply(200, {"login": "switchboard-bot", "id": 1})
            elif path.endswith("/issues") and method == "GET":
                self._reply(200, [{"number": 7, "title": "Printer on fire", "state": "open", "html_url": "u"}])
            elif path.endswith("/pulls"):
                self._reply(200, [{"number": 8, "title": "Fix printer", "state": "open"}])
            elif path.endswith("/issues") and method == "POST":
                with fake.lock:
                    fake.writes.append(("github", json.loads(raw)))
                self._reply(201, {"number": 9, "html_url": "https://github.example/acme/app/issues/9"})
            elif path.endswith("/comments"):
                with fake.lock:
                    fake.writes.append(("github", json.loads(raw)))
                self._reply(201, {"id": 99, "html_url": "c"})
            else:
                self._reply(404, {"message": "Not Found"})

        def _jira(self, method: str, path: str, raw: bytes) -> None:
            expected = "Basic " + base64.b64encode(f"{JIRA_EMAIL}:{JIRA_API_TOKEN}".encode()).decode()
            if self.headers.get("Authorization") != expected or JIRA_API_TOKEN in fake.revoked:
                self._reply(401, {"errorMessages": ["Client must be authenticated to access this resource."]})
                return
            if path == "/myself":
                self._reply(200, {"displayName": "Switchboard Bot", "emailAddress": JIRA_EMAIL})
            elif path == "/search/jql":
                issue = {"key": "OPS-1", "fields": {"summary": "Printer on fire", "status": {"name": "To Do"}}}
                self._reply(200, {"issues": [issue]})
            elif path == "/issue" and method == "POST":
                with fake.lock:
                    fake.writes.append(("jira", json.loads(raw)))
                self._reply(201, {"id": "10001", "key": "OPS-2"})
            elif path.endswith("/comment"):
                with fake.lock:
                    fake.writes.append(("jira", json.loads(raw)))
                self._reply(201, {"id": "20001"})
            else:
                self._reply(404, {"errorMessages": ["not found"]})

        def _linear(self, raw: bytes) -> None:
            token = self.headers.get("Authorization", "")
            token = token[7:] if token.startswith("Bearer ") else token
            if not fake.valid(token, LINEAR_KEY):
                error = {"message": "Authentication required", "extensions": {"code": "AUTHENTICATION_ERROR"}}
                self._reply(400, {"errors": [error]})
                return
            body = json.loads(raw)
            query, variables = body["query"], body.get("variables") or {}
            if "viewer" in query:
                self._reply(200, {"data": {"viewer": {"id": "u1", "name": "Linear Bot"}}})
            elif "issueCreate" in query:
                issue = dict(variables["input"])
                with fake.lock:
                    known = issue.get("id") in fake._linear_issues
                    if known:  # Linear refuses a second issue with the same id
                        self._reply(400, {"errors": [{"message": "Entity already exists"}]})
                        return
                    issue.setdefault("id", secrets.token_hex(8))
                    fake._linear_issues[issue["id"]] = issue
                    fake.writes.append(("linear", issue))
                self._reply(
                    200,
                    {
                        "data": {
                            "issueCreate": {
                                "success": True,
                                "issue": {"id": issue["id"], "identifier": "ENG-2", "url": "l"},
                            }
                        }
                    },
                )
            elif "issues" in query:
                nodes = [{"id": "i1", "identifier": "ENG-1", "title": "Printer on fire", "url": "l"}]
                self._reply(200, {"data": {"issues": {"nodes": nodes}}})
            else:
                self._reply(400, {"errors": [{"message": "Unknown query"}]})

        def _api(self, method: str, path: str, raw: bytes) -> None:
            if self._bearer() != HTTP_TOKEN or HTTP_TOKEN in fake.revoked:
                self._reply(401, {"error": "unauthorized"})
                return
            if method == "GET":
                self._reply(200, {"path": path, "items": [{"id": 1, "name": "printer"}]})
                return
            with fake.lock:
                fake.writes.append(
                    (
                        "http_api",
                        {"path": path, "body": json.loads(raw or b"null"), "key": self.headers.get("Idempotency-Key")},
                    )
                )
            self._reply(201, {"created": True})

        def _hook(self, raw: bytes) -> None:
            try:
                Webhook(WEBHOOK_SECRET).verify(raw, {k.lower(): v for k, v in self.headers.items()})
            except WebhookVerificationError:
                self._reply(401, {"error": "bad signature"})
                return
            message_id = self.headers.get("webhook-id", "")
            with fake.lock:
                if message_id not in fake._seen_webhooks:
                    fake._seen_webhooks.add(message_id)
                    event = json.loads(raw)
                    if event.get("type") != "switchboard.ping":
                        fake.writes.append(("webhook", event))
            self._reply(204)

    return Handler


@contextmanager
def provider_server() -> Iterator[ProviderServer]:
    """A started `ProviderServer`, stopped afterwards."""
    server = ProviderServer().start()
    try:
        yield server
    finally:
        server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """An aiosmtpd SMTP server on 127.0.0.1 that wants a login and keeps every message."""

    def __init__(self, writes: list[tuple[str, Any]], lock: threading.Lock) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                if not session.authenticated:  # AUTH is asked for here, not by aiosmtpd (it warns without TLS)
                    return "530 5.7.0 Authentication required"
                with lock:
                    writes.append(("email", {"to": list(envelope.rcpt_tos), "data": envelope.content.decode()}))
                return "250 OK"

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            ) == (SMTP_USER, SMTP_PASSWORD)
            return AuthResult(success=ok, handled=False)

        self.controller = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=_free_port(),
            authenticator=authenticator,
            auth_require_tls=False,
        )

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def stop(self) -> None:
        self.controller.stop()
