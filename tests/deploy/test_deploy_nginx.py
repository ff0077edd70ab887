"""deploy/nginx/nginx.conf: read, checked by `nginx -t`, then served by a real nginx on the loopback
interface in front of a stand-in API that records what reaches it: paths, the real client address
headers, gzip, security headers, long polls and the rate limit."""

from __future__ import annotations

import gzip
import http.client
import http.server
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from deploy_testkit import DEPLOY, free_port, http_server

CONF = DEPLOY / "nginx" / "nginx.conf"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx not installed (Debian: apt-get install nginx)")
TEXT = CONF.read_text()
SECURITY_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy")


def test_the_config_is_written_for_an_unprivileged_read_only_container() -> None:
    assert re.search(r"^\s*listen 8080 default_server;", TEXT, re.MULTILINE)
    assert re.search(r"^pid /tmp/nginx\.pid;", TEXT, re.MULTILINE)
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        assert re.search(rf"^\s*{temp}_temp_path /tmp/", TEXT, re.MULTILINE), temp
    assert not re.search(r"^\s*user\s", TEXT, re.MULTILINE), "no `user`: the container already is that user"
    assert "server_tokens off;" in TEXT


def test_the_api_is_proxied_with_the_client_address_and_long_poll_timeouts() -> None:
    for header in (
        "X-Real-IP $remote_addr",
        "X-Forwarded-For $proxy_add_x_forwarded_for",
        "X-Forwarded-Proto",
    ):
        assert f"proxy_set_header {header}" in TEXT
    assert "real_ip_header X-Forwarded-For;" in TEXT and "real_ip_recursive on;" in TEXT
    timeout = re.search(r"proxy_read_timeout (\d+)s;", TEXT)
    assert timeout and int(timeout[1]) >= 60
    assert "proxy_buffering off;" in TEXT
    assert re.search(r"limit_req_zone \$binary_remote_addr zone=athena_api:\d+m rate=\d+r/s;", TEXT)
    assert TEXT.count("limit_req zone=athena_api") == 2, "both API locations are limited"
    assert "gzip on;" in TEXT and "application/json" in TEXT


@needs_nginx
def test_nginx_accepts_the_config() -> None:
    assert NGINX is not None
    result = subprocess.run(
        [NGINX, "-t", "-c", str(CONF)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@dataclass
class ApiStandIn:
    """Answers every request with a JSON document larger than gzip_min_length and records it."""

    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0


@pytest.fixture
def api() -> Iterator[ApiStandIn]:
    record = ApiStandIn()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            record.seen.append((self.path, {k: v for k, v in self.headers.items()}))
            if self.path.startswith("/live_stats"):
                time.sleep(1.5)  # a long poll answering later than nginx's buffers would wait
            body = json.dumps({"path": self.path, "padding": "x" * 2000}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http_server(Handler) as record.port:
        yield record


@dataclass
class Nginx:
    port: int

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()


@pytest.fixture
def nginx(api: ApiStandIn, tmp_path: Path, web_root: Path) -> Iterator[Nginx]:
    """nginx.conf as shipped, serving the web image's own html root (the Dockerfile's web step run on the
    wheel), in front of the stand-in API."""
    if NGINX is None:
        pytest.skip("nginx not installed (Debian: apt-get install nginx)")
    port = free_port()
    # Only what differs on this machine: the addresses, the folders. Every other line is as shipped.
    conf = TEXT.replace(" /tmp/", f" {tmp_path}/")
    conf = conf.replace("set $athena_api http://api:8117;", f"set $athena_api http://127.0.0.1:{api.port};")
    conf = conf.replace("listen 8080 default_server;", f"listen 127.0.0.1:{port} default_server;")
    conf = conf.replace("root /usr/share/nginx/html;", f"root {web_root};")
    conf = conf.replace("error_log /dev/stderr warn;", f"error_log {tmp_path}/error.log warn;")
    conf = conf.replace("access_log /dev/stdout main;", f"access_log {tmp_path}/access.log main;")
    assert conf.count(str(tmp_path)) >= 8 and str(api.port) in conf
    conf_path = tmp_path / "nginx.conf"
    conf_path.write_text(conf)
    # Run as root here, so the workers must be told to stay root to read the test's private folder.
    process = subprocess.Popen(
        [NGINX, "-c", str(conf_path), "-p", str(tmp_path), "-g", "daemon off; user root root;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = Nginx(port)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if server.get("/nginx-health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log = (tmp_path / "error.log").read_text() if (tmp_path / "error.log").exists() else ""
                raise AssertionError(f"nginx did not start: {log[-2000:]}")
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        process.wait(15)


def test_reference_endpoints_lose_the_api_prefix_and_v1_keeps_it(nginx: Nginx, api: ApiStandIn) -> None:
    assert nginx.get("/api/stats?longpoll=false")[0] == 200
    assert nginx.get("/api/v1/pool")[0] == 200
    assert nginx.get("/api/get_payments/miner.js")[0] == 200, "an API path ending like a static file"
    assert [path for path, _ in api.seen] == [
        "/stats?longpoll=false",
        "/api/v1/pool",
        "/get_payments/miner.js",
    ]


def test_the_api_sees_the_client_address(nginx: Nginx, api: ApiStandIn) -> None:
    nginx.get("/api/stats")
    headers = api.seen[-1][1]
    assert headers["X-Real-IP"] == "127.0.0.1"
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"
    # Behind traefik (a trusted private address) the client is the last untrusted address in the header;
    # a client cannot choose its own by sending a forged first entry.
    nginx.get("/api/stats", {"X-Forwarded-For": "198.51.100.23, 203.0.113.7", "X-Forwarded-Proto": "https"})
    headers = api.seen[-1][1]
    assert headers["X-Real-IP"] == "203.0.113.7"
    assert headers["X-Forwarded-Proto"] == "https"


def test_the_root_is_the_pools_front_end(nginx: Nginx, web_root: Path) -> None:
    status, headers, body = nginx.get("/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert body == (web_root / "index.html").read_bytes()
    assert b'<script type="module" src="js/app.js"></script>' in body
    assert b"Welcome to nginx" not in body
    for script in ("/config.js", "/js/app.js", "/style.css"):
        assert nginx.get(script)[0] == 200, script


def test_responses_are_gzipped_and_carry_the_security_headers(nginx: Nginx, web_root: Path) -> None:
    for path, expected in (("/api/stats", 200), ("/", 200), ("/js/app.js", 200), ("/missing.html", 404)):
        status, headers, body = nginx.get(path, {"Accept-Encoding": "gzip"})
        assert status == expected, path
        for header in SECURITY_HEADERS:
            assert header.lower() in headers, f"{path}: no {header}"
        assert headers["x-frame-options"] == "DENY"
        assert "server" not in headers or headers["server"] == "nginx", "no version in Server"
        if status == 200:
            assert headers.get("content-encoding") == "gzip", path
            if not path.startswith("/api/"):
                file = web_root / (path.lstrip("/") or "index.html")
                assert gzip.decompress(body) == file.read_bytes(), path


def test_a_long_poll_is_answered(nginx: Nginx, api: ApiStandIn) -> None:
    started = time.monotonic()
    status, _, body = nginx.get("/api/live_stats?longpoll=true")
    assert status == 200 and json.loads(body)["path"] == "/live_stats?longpoll=true"
    assert time.monotonic() - started >= 1.4


def test_one_address_is_rate_limited_on_the_api_only(nginx: Nginx) -> None:
    statuses = [nginx.get("/api/stats")[0] for _ in range(80)]
    assert statuses[:30] == [200] * 30, "the burst serves a page load"
    assert statuses.count(429) >= 20, "past the burst, 10 requests a second"
    static = [nginx.get("/js/app.js")[0] for _ in range(60)]
    assert static == [200] * 60, "static files are not limited"
