"""PatroniClient (ansible.module_utils.urls.Request) against real HTTP servers on loopback: basic auth, the
credentials probe, proxies only with use_proxy, errors that name the request."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ansible_collections.baremetal.k8s.plugins.module_utils.patroni import (
    PatroniClient,
    PatroniError,
    check_credentials,
)

USER, PASSWORD = "patroni", "s3cret-pw"  # noqa: S105 (test credentials)


class Recorder(BaseHTTPRequestHandler):
    """Answers like Patroni's REST API for the few paths used here, records every request line and header."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, dict(self.headers), body))
        expected = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        if self.command != "GET" and self.headers.get("Authorization") != expected:
            status, payload = 401, b"no auth header received"
        elif self.command == "PATCH" and body in (b"{}", b""):
            status, payload = 400, b""
        else:
            status, payload = 200, json.dumps({"members": [], "via": self.server.name}).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PATCH = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    servers = []

    def start(name):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        srv.seen, srv.name = [], name
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def url(srv):
    return "http://127.0.0.1:%d" % srv.server_address[1]


def client(srv, **kw):
    return PatroniClient(dict({"api_url": url(srv), "username": USER, "password": PASSWORD, "timeout": 5}, **kw))


def test_basic_auth_sent_up_front(server):
    srv = server("patroni")
    assert client(srv).call("GET", "/cluster")["via"] == "patroni"
    assert len(srv.seen) == 1  # no 401 round trip
    assert srv.seen[0][2]["Authorization"].startswith("Basic ")


def test_credentials_probe_is_an_empty_patch(server):
    srv = server("patroni")
    assert check_credentials(client(srv)) is True
    assert srv.seen[-1][:2] == ("PATCH", "/config") and srv.seen[-1][3] == b"{}"
    with pytest.raises(PatroniError, match=r"HTTP 401 \(wrong or missing username/password\)") as err:
        check_credentials(client(srv, password="other"))
    assert err.value.status == 401
    with pytest.raises(PatroniError, match="401"):
        check_credentials(client(srv, username=None, password=None))


@pytest.mark.parametrize("use_proxy", [False, True])
def test_proxy_variables_only_with_use_proxy(server, monkeypatch, use_proxy):
    target, proxy = server("patroni"), server("proxy")
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("http_proxy", url(proxy))
    monkeypatch.setenv("HTTP_PROXY", url(proxy))
    answer = client(target, use_proxy=use_proxy).call("GET", "/cluster")
    assert answer["via"] == ("proxy" if use_proxy else "patroni")
    assert len(proxy.seen) == (1 if use_proxy else 0)
    if use_proxy:
        assert proxy.seen[0][1] == url(target) + "/cluster"  # the absolute URI a proxy gets


def test_http_errors_name_member_request_and_status(server):
    srv = server("patroni")
    with pytest.raises(PatroniError, match=r"POST /restart on member pg1 \(.*\) answered HTTP 401") as err:
        client(srv, password="other").call("POST", "/restart", {}, who="member pg1 (%s)" % url(srv))
    assert err.value.status == 401
