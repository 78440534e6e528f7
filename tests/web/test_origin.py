"""No page on another origin or host name may drive the app (SECURITY.md, "Host and Origin").

Against the real server (HTTP with hand-set Host, Origin, Referer and Fetch Metadata headers)
and in real Chromium: a page on another port of 127.0.0.1, and the app reached under a
DNS-rebinding name and a `*.localhost` name.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from conftest import _watched_page, foreign_origin, running_upload_app
from helpers import CHROMIUM, CHROMIUM_ARGS, ROOT, error_line, free_port

from assistant.apps.web.origin import (
    GUARD_MISSING,
    HOST_REFUSED,
    ORIGIN_REFUSED,
    GuardCheck,
    HostOriginGuard,
    allowed_hosts,
    split_host,
)
from assistant.errors import AssistantError

GRADIO_PANDAS_NOISE = "ignore:.*(no_silent_downcasting|copy keyword).*:DeprecationWarning"
pytestmark = [pytest.mark.filterwarnings(GRADIO_PANDAS_NOISE)]
SOURCE = "healthcare-in-cambridgeshire.txt"
QUESTION = "Which company is building the shared care record in Cambridgeshire and Peterborough?"
PROXY_NAME = "docs.example.internal"


@pytest.fixture(scope="module")
def app_server(seed_index_dir, embedder, tmp_path_factory):
    """The app with "Add documents" on (over a writable copy of the seed corpus), the production
    launch options, and ASSISTANT_ALLOWED_HOSTS naming a reverse proxy's public name."""
    with running_upload_app(seed_index_dir, embedder, tmp_path_factory.mktemp("origin"),
                            env={"ASSISTANT_ALLOWED_HOSTS": f" {PROXY_NAME} ,"}) as served:
        yield served


@pytest.fixture
def client(app_server):
    """An HTTP client for the app that sends exactly the headers a test gives (no proxy)."""
    with httpx.Client(base_url=f"http://127.0.0.1:{app_server[1]}", timeout=60, trust_env=False) as c:
        yield c


def ask_body() -> dict:
    return {"data": [QUESTION, [], 5]}


def assert_refused(response: httpx.Response, reason: str) -> None:
    """A short plain-text 403 naming the reason; no traceback, no CORS grant."""
    assert response.status_code == 403, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.strip() == reason
    assert not [h for h in response.headers if h.lower().startswith("access-control-allow-")]


# ---------------------------------------------------------------- Host


@pytest.mark.slow
@pytest.mark.parametrize("name", ["x.localhost", "evil.example", "127.0.0.1.evil.example", "localhost.", "[::2]"])
def test_a_foreign_host_is_refused_on_every_route(client, app_server, name):
    """DNS rebinding and `*.localhost`: the browser sends the attacker's name in Host."""
    host = {"Host": f"{name}:{app_server[1]}"}
    assert_refused(client.get("/", headers=host), HOST_REFUSED)
    assert_refused(client.get("/gradio_api/info", headers=host), HOST_REFUSED)
    assert_refused(client.get("/config", headers=host), HOST_REFUSED)
    assert_refused(client.post("/gradio_api/call/ask", json=ask_body(), headers=host), HOST_REFUSED)
    assert_refused(client.get("/original", params={"source": SOURCE}, headers=host), HOST_REFUSED)
    files = {"files": ("planted.txt", b"planted", "text/plain")}
    assert_refused(client.post("/gradio_api/upload", files=files, headers=host), HOST_REFUSED)
    assert_refused(client.options("/gradio_api/call/ask", headers={
        **host, "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}), HOST_REFUSED)
    assert_refused(client.head("/", headers=host), "")  # HEAD: the same status, no body


@pytest.mark.slow
def test_loopback_names_and_allowed_hosts_are_served(client, app_server):
    port = app_server[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}", "localhost",
                 PROXY_NAME, f"{PROXY_NAME}:8443"):
        response = client.get("/gradio_api/info", headers={"Host": host})
        assert response.status_code == 200, (host, response.text[:200])
        assert "/ask" in response.json()["named_endpoints"]
    original = client.get("/original", params={"source": SOURCE}, headers={"Host": f"localhost:{port}"})
    assert original.status_code == 200 and b"Cambridgeshire" in original.content


@pytest.mark.slow
def test_a_reverse_proxy_that_keeps_the_host_works_from_the_browser(client):
    """nginx `proxy_set_header Host $host` behind https: Host has no port, Origin says https."""
    headers = {"Host": PROXY_NAME, "Origin": f"https://{PROXY_NAME}", "Sec-Fetch-Site": "same-origin"}
    posted = client.post("/gradio_api/call/ask", json=ask_body(), headers=headers)
    assert posted.status_code == 200 and posted.json()["event_id"]
    # the same proxy name on another port, or the proxy rewriting Host to 127.0.0.1, is another origin
    assert_refused(client.post("/gradio_api/call/ask", json=ask_body(),
                               headers={**headers, "Origin": f"https://{PROXY_NAME}:8443"}), ORIGIN_REFUSED)
    assert_refused(client.post("/gradio_api/call/ask", json=ask_body(),
                               headers={"Host": "127.0.0.1:7860", "Origin": f"https://{PROXY_NAME}"}), ORIGIN_REFUSED)


# ---------------------------------------------------------------- Origin, CORS, Fetch Metadata, Referer


@pytest.mark.slow
@pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1:{other}", "http://localhost:{port}",
                                    "null", "http://127.0.0.1:{port}.evil.example", "file://", "chrome-extension://abc"])
def test_another_origin_gets_no_cors_and_cannot_post(client, app_server, origin):
    origin = origin.format(other=free_port(), port=app_server[1])
    preflight = client.options("/gradio_api/call/ask", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert_refused(preflight, ORIGIN_REFUSED)
    assert_refused(client.post("/gradio_api/call/ask", json=ask_body(), headers={"Origin": origin}), ORIGIN_REFUSED)
    files = {"files": ("planted.txt", b"planted", "text/plain")}
    assert_refused(client.post("/gradio_api/upload", files=files, headers={"Origin": origin}), ORIGIN_REFUSED)
    assert_refused(client.get("/original", params={"source": SOURCE}, headers={"Origin": origin}), ORIGIN_REFUSED)


@pytest.mark.slow
def test_the_apps_own_origin_and_clients_without_one_are_served(client, app_server):
    """The page's own requests carry its origin; curl, gradio_client and Python carry none."""
    own = {"Origin": f"http://127.0.0.1:{app_server[1]}"}
    for headers in (own, {}, {"Origin": f"http://127.0.0.1:{app_server[1]}", "Sec-Fetch-Site": "same-origin",
                              "Sec-Fetch-Mode": "cors", "Referer": f"http://127.0.0.1:{app_server[1]}/?x=1"}):
        posted = client.post("/gradio_api/call/ask", json=ask_body(), headers=headers)
        assert posted.status_code == 200, posted.text
        stream = client.get(f"/gradio_api/call/ask/{posted.json()['event_id']}", headers=headers).text
        assert "Orion Health" in stream
    # Gradio adds `access-control-allow-origin` and `-credentials` to this reply; none of them leaves the app
    info = client.get("/gradio_api/info", headers=own)
    assert info.status_code == 200
    assert not [h for h in info.headers if h.lower().startswith("access-control-")]


@pytest.mark.slow
def test_fetch_metadata_lets_only_same_origin_requests_and_top_level_navigations_through(client):
    def status(method: str, path: str, **headers: str) -> int:
        names = {"site": "Sec-Fetch-Site", "mode": "Sec-Fetch-Mode", "dest": "Sec-Fetch-Dest"}
        return client.request(method, path, headers={names[k]: v for k, v in headers.items()}).status_code

    navigate = {"mode": "navigate", "dest": "document"}
    assert status("GET", "/", site="cross-site", **navigate) == 200  # a link from another site
    assert status("GET", "/", site="same-site", **navigate) == 200
    assert status("GET", "/", site="none", **navigate) == 200  # an address typed or a bookmark
    assert status("GET", "/gradio_api/info", site="same-origin", mode="cors", dest="empty") == 200
    assert status("GET", "/gradio_api/info", site="cross-site", mode="cors", dest="empty") == 403
    assert status("GET", "/gradio_api/info", site="same-site", mode="no-cors", dest="script") == 403
    assert status("GET", f"/original?source={SOURCE}", site="same-site", mode="no-cors", dest="empty") == 403
    assert status("GET", "/", site="cross-site", mode="navigate", dest="iframe") == 403  # framed by another site
    assert status("POST", "/gradio_api/upload", site="cross-site", **navigate) == 403  # a form posted from another site
    assert status("GET", "/", site="cross-site", mode="websocket", dest="websocket") == 403


@pytest.mark.slow
def test_a_cross_origin_referer_without_origin_passes_only_as_a_navigation(client, app_server):
    """Browsers that send no Fetch Metadata (plain http to a non-loopback name): the Referer tells."""
    evil = {"Referer": "https://evil.example/page.html"}
    assert client.get("/", headers={**evil, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}).status_code == 200
    assert_refused(client.get("/gradio_api/info", headers={**evil, "Accept": "*/*"}), ORIGIN_REFUSED)
    assert_refused(client.get("/original", params={"source": SOURCE}, headers=evil), ORIGIN_REFUSED)
    assert_refused(client.post("/gradio_api/call/ask", json=ask_body(), headers=evil), ORIGIN_REFUSED)
    own = {"Referer": f"http://127.0.0.1:{app_server[1]}/"}
    assert client.get("/original", params={"source": SOURCE}, headers=own).status_code == 200


# ---------------------------------------------------------------- the middleware itself


def test_split_host_reads_only_plain_host_names():
    assert split_host("LocalHost:7860") == ("localhost", 7860)
    assert split_host("[::1]:80") == ("[::1]", 80)
    assert split_host("127.0.0.1") == ("127.0.0.1", None)
    for bad in ("", "evil.example:", "a:b", "localhost.", "user@localhost", "évil.example", "host:99999", "a b", "::1"):
        assert split_host(bad) is None, bad


def test_allowed_hosts_are_loopback_the_bound_address_and_the_setting():
    assert allowed_hosts("127.0.0.1", "") == {"localhost", "127.0.0.1", "[::1]"}
    assert allowed_hosts("0.0.0.0", "") == {"localhost", "127.0.0.1", "[::1]"}  # a wildcard names nothing
    assert allowed_hosts("::", "") == {"localhost", "127.0.0.1", "[::1]"}
    assert "192.0.2.7" in allowed_hosts("192.0.2.7", "")
    assert "[fd00::7]" in allowed_hosts("fd00::7", "")
    assert {"docs.example.org", "[fd00::1]", "192.0.2.8"} <= allowed_hosts("127.0.0.1", "Docs.Example.org:443, fd00::1,192.0.2.8")
    for bad in ("https://docs.example.org", "*.example.org", "docs.example.org/app", "0.0.0.0", "two words"):
        with pytest.raises(AssistantError, match="ASSISTANT_ALLOWED_HOSTS: .* is not a host name"):
            allowed_hosts("127.0.0.1", bad)


def test_a_bad_allowed_hosts_setting_stops_the_app_with_one_line(tmp_path):
    env = {**os.environ, "ASSISTANT_ALLOWED_HOSTS": "https://docs.example.org/", "ASSISTANT_INDEX": str(tmp_path / "none"),
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "app.py")], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert error_line(done.stderr).startswith("error: ASSISTANT_ALLOWED_HOSTS: 'https://docs.example.org/' is not a host name")


def _guarded(cls, *args):
    """The middleware around an inner app that records whether it ran."""
    reached: list[bool] = []

    async def inner(scope, receive, send) -> None:
        reached.append(True)

    return cls(inner, *args), reached


def _run(app, scope: dict) -> list[dict]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "websocket.connect"}

    async def send(message) -> None:
        sent.append(message)

    # In a thread of its own: a browser test earlier in the session can leave an event loop running in this one.
    worker = threading.Thread(target=lambda: asyncio.run(app(scope, receive, send)))
    worker.start()
    worker.join(30)
    return sent


def test_a_websocket_from_another_host_or_origin_is_closed_before_it_opens():
    guard, reached = _guarded(HostOriginGuard, allowed_hosts("127.0.0.1", ""))
    for headers in ([(b"host", b"evil.example:7860"), (b"origin", b"http://evil.example:7860")],
                    [(b"host", b"127.0.0.1:7860"), (b"origin", b"http://127.0.0.1:9999")],
                    [(b"host", b"127.0.0.1:7860"), (b"host", b"evil.example")]):
        sent = _run(guard, {"type": "websocket", "path": "/ws", "headers": headers})
        assert [m["type"] for m in sent] == ["websocket.close"] and sent[0]["code"] == 1008
    assert reached == []
    _run(guard, {"type": "websocket", "path": "/ws", "headers": [(b"host", b"127.0.0.1:7860"),
                                                               (b"origin", b"http://127.0.0.1:7860")]})
    assert reached == [True]


def test_the_inner_check_refuses_everything_the_guard_did_not_pass():
    """Fail closed: if the guard were ever not wrapped around the app, nothing would be served."""
    check, reached = _guarded(GuardCheck)
    sent = _run(check, {"type": "http", "method": "GET", "path": "/", "headers": [(b"host", b"127.0.0.1")]})
    assert sent[0]["status"] == 500 and sent[1]["body"].decode().strip() == GUARD_MISSING and reached == []
    _run(check, {"type": "lifespan"})
    guard = HostOriginGuard(check, allowed_hosts("127.0.0.1", ""))
    _run(guard, {"type": "http", "method": "GET", "path": "/", "headers": [(b"host", b"127.0.0.1")]})
    assert reached == [True, True]


# ---------------------------------------------------------------- in Chromium

FOREIGN_PAGE = "<!doctype html><title>Another site</title><p>Just another page.</p>"

# Run in a page: what a script there can do with the app's ask endpoint, /original and the
# upload route, up to joining the "Add documents" event with the file it uploaded.
ATTACK = """async ([base, question, source, fnIndex, triggerId]) => {
  const out = {};
  const timeout = () => AbortSignal.timeout(60000);
  const attempt = async (name, run) => {
    try { const r = await run(); out[name] = `${r.status} ${(await r.text()).slice(0, 300)}`; }
    catch (e) { out[name] = `failed: ${e}`; }
  };
  await attempt('ask', () => fetch(base + 'gradio_api/call/ask', {method: 'POST', signal: timeout(),
      headers: {'content-type': 'application/json'}, body: JSON.stringify({data: [question, [], 5]})}));
  await attempt('original', () => fetch(base + 'original?source=' + encodeURIComponent(source), {signal: timeout()}));
  try {
    const form = new FormData();
    form.append('files', new Blob(['Planted by another site: the harbour code is 4711.'], {type: 'text/plain'}),
                'planted.txt');
    const up = await fetch(base + 'gradio_api/upload', {method: 'POST', body: form, signal: timeout()});
    const paths = await up.json();
    out.upload = `${up.status} ${JSON.stringify(paths)}`;
    const session = 'probe' + Math.random().toString(36).slice(2);
    const file = {path: paths[0], orig_name: 'planted.txt', meta: {_type: 'gradio.FileData'}};
    await attempt('join', () => fetch(base + 'gradio_api/queue/join', {method: 'POST', signal: timeout(),
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({data: [[file]], fn_index: fnIndex, trigger_id: triggerId, session_hash: session,
                              event_data: null})}));
    await attempt('events', () => fetch(base + 'gradio_api/queue/data?session_hash=' + session, {signal: timeout()}));
  } catch (e) { out.upload = `failed: ${e}`; }
  return out;
}"""


def _add_documents_event(app) -> tuple[int, int]:
    """(fn_index, trigger_id) of the page's "Add documents" event, as the page itself sends them."""
    fn = next(f for f in app.fns.values() if f.name == "add_documents")
    return fn._id, fn.targets[0][0]


@pytest.fixture(scope="module")
def foreign_site(tmp_path_factory):
    """A page on another port of 127.0.0.1: the same machine, another origin."""
    with foreign_origin(tmp_path_factory.mktemp("foreign"), FOREIGN_PAGE) as url:
        yield url


def _corpus_files(corpus: Path) -> set[str]:
    return {p.name for p in corpus.iterdir() if not p.name.startswith(".")}


@pytest.mark.slow
@pytest.mark.browser
def test_a_page_on_another_port_cannot_read_or_upload(browser, app_server, foreign_site):
    """Without the guard, Gradio grants this page CORS (both hosts are 127.0.0.1): it reads the answer and
    the original, and its upload joined to the "Add documents" event lands planted.txt in the corpus."""
    app, port, corpus = app_server
    base = f"http://127.0.0.1:{port}/"
    before = _corpus_files(corpus)
    args = [base, QUESTION, SOURCE, *_add_documents_event(app)]
    with _watched_page(browser, 1000, 700) as page:
        page.goto(foreign_site)
        from_elsewhere = page.evaluate(ATTACK, args)
    assert from_elsewhere["ask"].startswith("failed: TypeError"), from_elsewhere
    assert from_elsewhere["original"].startswith("failed: TypeError"), from_elsewhere
    assert from_elsewhere["upload"].startswith("failed: TypeError"), from_elsewhere
    assert _corpus_files(corpus) == before

    # The same script on the app's own page reaches all three (it is not the script that fails).
    with _watched_page(browser, 1000, 700) as page:
        page.goto(base)
        page.wait_for_selector("textarea")
        own = page.evaluate(ATTACK.replace("await attempt('join'", "false && await attempt('join'"), args)
    assert own["ask"].startswith("200 ") and "event_id" in own["ask"], own
    assert own["original"].startswith("200 ") and "Cambridgeshire" in own["original"], own
    assert own["upload"].startswith("200 ") and "planted.txt" in own["upload"], own
    assert _corpus_files(corpus) == before


@pytest.fixture(scope="module")
def rebinding_browser(browser):
    """Chromium resolving evil.test to 127.0.0.1, as DNS rebinding makes it (`*.localhost` it resolves itself);
    launched by the session's Playwright, which cannot run twice in one process."""
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--host-resolver-rules=MAP evil.test 127.0.0.1", "--no-proxy-server"])
    yield chromium
    chromium.close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("name", ["evil.test", "x.localhost"])
def test_the_app_under_a_rebinding_or_localhost_subdomain_name_is_refused(rebinding_browser, app_server, name):
    port = app_server[1]
    page = rebinding_browser.new_page()
    try:
        response = page.goto(f"http://{name}:{port}/")
        assert response is not None and response.status == 403
        assert page.locator("body").inner_text().strip() == HOST_REFUSED
        assert page.locator("textarea").count() == 0
        fetched = page.evaluate("""async (url) => { try { const r = await fetch(url);
                                     return `${r.status} ${await r.text()}`; } catch (e) { return `failed: ${e}`; } }""",
                                f"http://{name}:{port}/gradio_api/info")
        assert fetched.startswith("403 Refused: this app does not answer to that host name"), fetched
        # the same browser reaches the app under its own name
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("textarea")
    finally:
        page.close()
