"""Web fixtures: one app server and one headless Chromium per session, on the shared `bot`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from helpers import CHROMIUM, CHROMIUM_ARGS
from helpers import free_port as _free_port
from helpers import writable_index as _writable_index

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def free_port() -> int:
    """A 127.0.0.1 port nothing listens on, for a test's own server."""
    return _free_port()


@contextlib.contextmanager
def running_upload_app(seed_index_dir: Path, embedder, root: Path, *, watch: bool = False,
                       env: dict[str, str] | None = None, prepare=None, users=None):
    """The app with "Add documents" on (and the corpus watcher with `watch`), launched with the production
    options over a writable copy of the seed corpus and index under `root`: yields (app, port, corpus).

    `prepare(corpus)` runs before the first index; `env` is the environment the launch options are read in;
    `users(store)` adds users to the index's auth.sqlite before the page is built (sign-in is then on).
    """
    from assistant import Assistant
    from assistant.apps.api.accounts import UserStore
    from assistant.apps.api.auth import Auth
    from assistant.apps.web.app import build_blocks
    from assistant.apps.web.serve import launch_options, start_watching
    from assistant.apps.web.uploads import Reindexer

    corpus, index = _writable_index(seed_index_dir, root, embedder, prepare)
    bot = Assistant.open(index, embedder=embedder)
    reindexer = Reindexer(corpus, index, embedder)
    watcher = start_watching(reindexer) if watch else None
    auth = Auth(UserStore(index))  # sign-in stays off until a test adds a user (users.add)
    if users is not None:
        users(auth.store)
    app = build_blocks(bot, reindexer, auth)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        options = launch_options(server_name="127.0.0.1", server_port=_free_port(), uploads=True, bot=bot,
                                 reindexer=reindexer, auth=auth)
    app.launch(**options, prevent_thread_lock=True, quiet=True)
    try:
        yield app, options["server_port"], corpus
    finally:
        app.close()
        if watcher is not None:
            watcher.stop()
        reindexer.wait()


@contextlib.contextmanager
def foreign_origin(root: Path, page: str) -> Iterator[str]:
    """`page` as index.html, served by http.server on another port of 127.0.0.1: same machine, another
    origin (an attacker's page the user happens to visit). Yields its URL."""
    import functools
    import http.server
    import threading

    (root / "index.html").write_text(page, encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def web_app(bot):
    """The real page and API, built on the session's Assistant (the model loads once)."""
    from assistant.apps.web.app import build_blocks

    return build_blocks(bot)


@pytest.fixture(scope="session")
def server_url(web_app, bot) -> Iterator[str]:
    """The app served on a free 127.0.0.1 port in this process, with the production launch options."""
    from assistant.apps.web.serve import launch_options

    options = launch_options(server_name="127.0.0.1", server_port=_free_port(), bot=bot)
    web_app.launch(**options, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{options['server_port']}/"
    web_app.close()


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageWatch:
    """What a page did that a test may check: URLs it requested and dialogs it opened."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.dialogs: list[str] = []

    def outside_hosts(self) -> list[str]:
        return [
            u
            for u in self.requests
            if urlparse(u).scheme not in ("data", "blob", "about") and urlparse(u).hostname != "127.0.0.1"
        ]


def _open_page(browser, width: int, height: int):
    page = browser.new_page(viewport={"width": width, "height": height})
    watch = PageWatch()
    page.on("request", lambda request: watch.requests.append(request.url))

    def on_dialog(dialog) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.set_default_timeout(20_000)
    return page, watch


@contextlib.contextmanager
def _watched_page(browser, width: int, height: int):
    """A fresh page; afterwards, fails the test if it fetched from outside 127.0.0.1 or opened a dialog."""
    page, watch = _open_page(browser, width, height)
    page.watch = watch
    yield page
    page.close()
    assert watch.outside_hosts() == [], "the page requested outside hosts"
    assert watch.dialogs == [], "a dialog fired"


@pytest.fixture
def desktop(browser, server_url):
    """A 1400 px wide page."""
    with _watched_page(browser, 1400, 900) as page:
        yield page


@pytest.fixture
def phone(browser, server_url):
    """A 390 px wide page (a phone in portrait)."""
    with _watched_page(browser, 390, 844) as page:
        yield page


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
