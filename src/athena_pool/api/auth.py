"""Admin authentication: the admin secret in `Authorization: Bearer <secret>`, or a session cookie made by
`POST /api/v1/admin/login` with the secret in a JSON body (never the query string).

* The secret is compared in constant time (`hmac.compare_digest` of SHA-256 digests, so its length does
  not leak either).
* Sessions are 256-bit random tokens; Redis keeps only their SHA-256, with an expiry. The cookie is
  HttpOnly, SameSite=Strict, limited to the admin path, and Secure when configured.
* A request authenticated by cookie that changes something must also carry the session's CSRF token in
  `X-CSRF-Token` (returned by the login).
* Logins and failed bearer or cookie checks count against a per-client-IP limit; over it: 429. The client
  IP is the TCP peer unless that peer is a configured trusted proxy (see `clientip`): there is no
  bypass for loopback or forwarded requests.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from athena_pool.api.errors import ApiError, too_many, unavailable
from athena_pool.api.ratelimit import SlidingWindowLimiter
from athena_pool.api.settings import AdminSecret, AdminSettings
from athena_pool.storage.api_store import ApiStore

log = logging.getLogger(__name__)

SESSION_COOKIE = "athena_admin"
CSRF_HEADER = "X-CSRF-Token"
ADMIN_PATH = "/api/v1/admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_CREDENTIAL_CHARS = 1_024


@dataclass(frozen=True)
class Session:
    token: str
    csrf: str
    expires_ms: int


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": 'Bearer realm="athena-pool admin"'})


class AdminAuth:
    def __init__(
        self,
        secret: AdminSecret | None,
        store: ApiStore,
        settings: AdminSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret_digest = None if secret is None else _digest(secret.value)
        self._store = store
        self._settings = settings
        self._clock = clock
        self._limiter = SlidingWindowLimiter(
            settings.login_attempts, settings.login_window_s, settings.tracked_ips, time.monotonic
        )

    @property
    def enabled(self) -> bool:
        return self._secret_digest is not None

    def _matches(self, given: str) -> bool:
        if self._secret_digest is None or len(given) > MAX_CREDENTIAL_CHARS:
            return False
        return hmac.compare_digest(_digest(given), self._secret_digest)

    def _check_enabled(self) -> None:
        if self._secret_digest is None:
            raise unavailable("the admin API is disabled: no admin secret is configured", 3600)

    def _check_limit(self, ip: str) -> None:
        wait = self._limiter.retry_after(ip)
        if wait:
            raise too_many("too many admin authentication attempts from your address", wait)

    def _fail(self, ip: str, message: str) -> ApiError:
        self._limiter.hit(ip)
        log.warning("admin authentication failed from %s: %s", ip, message)
        return _unauthorized(message)

    async def login(self, ip: str, given: object) -> Session:
        self._check_enabled()
        wait = self._limiter.hit(ip)
        if wait:
            raise too_many("too many admin login attempts from your address", wait)
        if not isinstance(given, str) or not self._matches(given):
            log.warning("admin login refused from %s", ip)
            raise _unauthorized("wrong admin secret")
        session = Session(
            token=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(24),
            expires_ms=int(self._clock() * 1000) + self._settings.session_ttl_s * 1000,
        )
        record = {"csrf": session.csrf, "created_ms": int(self._clock() * 1000), "ip": ip}
        await self._store.put_expiring(self._session_key(session.token), record, self._settings.session_ttl_s)
        log.info("admin logged in from %s", ip)
        return session

    async def logout(self, request: web.Request) -> None:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await self._store.delete(self._session_key(token))

    async def require(self, request: web.Request, ip: str) -> str:
        """Returns how the request authenticated ("bearer" or "session"); raises 401, 403, 429 or 503."""
        self._check_enabled()
        self._check_limit(ip)
        header = request.headers.get("Authorization")
        if header is not None:
            scheme, _, credential = header.partition(" ")
            if scheme.lower() == "bearer" and self._matches(credential.strip()):
                return "bearer"
            raise self._fail(ip, "wrong admin secret in the Authorization header")
        token = request.cookies.get(SESSION_COOKIE)
        if token is None:
            raise _unauthorized("admin authentication required: Authorization: Bearer <secret>, or log in")
        session = None
        if len(token) <= MAX_CREDENTIAL_CHARS:
            session = await self._store.get_json(self._session_key(token))
        if session is None:
            raise self._fail(ip, "the admin session is unknown or expired: log in again")
        if request.method not in SAFE_METHODS:
            given = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(_digest(given), _digest(str(session.get("csrf", "")))):
                raise ApiError(403, f"send the session's CSRF token in the {CSRF_HEADER} header")
        return "session"

    def session_cookie(self, response: web.StreamResponse, session: Session) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            session.token,
            max_age=self._settings.session_ttl_s,
            path=ADMIN_PATH,
            httponly=True,
            samesite="Strict",
            secure=self._settings.cookie_secure,
        )

    def clear_cookie(self, response: web.StreamResponse) -> None:
        response.del_cookie(SESSION_COOKIE, path=ADMIN_PATH)

    def _session_key(self, token: str) -> str:
        return self._store.keys.admin_session(
            hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
        )
