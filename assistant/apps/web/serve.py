"""Starting the web app: open the index, build the page, the REST API and sign-in, and serve them.

Split from app.py (the page and its handlers) so each stays one idea: this module decides what
runs where (uploads, the corpus watcher, the launch options, sign-in) and refuses to start an
app that would be open to a network with nobody signed in.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.middleware import Middleware
from starlette.routing import Mount

from ...config import MAX_FILE_SIZE, env
from ...errors import AssistantError
from ...index.stores import milvus_location
from ...ingest.watch import WATCH_ENV, CorpusWatcher, describe, watch_setting
from ..api.accounts import UserStore
from ..api.auth import Auth, AuthGate
from .files import original_route
from .limits import UPLOAD_LIMITS, RequestLimits, make_temp_folder, remove_temp_folder
from .origin import GuardCheck, allowed_hosts, install_outermost
from .uploads import MAX_UPLOAD_BYTES, UPLOAD_ENV, Reindexer, remove_partial_uploads, unindexed_files

if TYPE_CHECKING:
    import gradio as gr

# Gradio, the page and the REST API are imported where they are used, so `python app.py` refuses
# a bad setting (check_exposure, ASSISTANT_ALLOWED_HOSTS) in a second, not after Gradio has loaded.

log = logging.getLogger(__name__)

UPLOAD_FILE_SIZE = f"{MAX_UPLOAD_BYTES // (1024 * 1024)}mb"  # with it, one document's limit
MONITORING_ENV = "ASSISTANT_MONITORING"  # "1" turns on Gradio's /monitoring dashboard (off by default)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def build_app(index_dir: str | Path, uploads: bool = False) -> tuple[gr.Blocks, Any, Reindexer | None, Auth]:
    """Open the index (loading the model once) and build the page on it; `uploads` adds documents."""
    from assistant import Assistant

    from .app import build_blocks

    bot = Assistant.open(index_dir)
    bot.verify_in_background()
    reindexer = Reindexer(bot.corpus_dir, bot.index_dir, bot.embedder) if uploads else None
    if reindexer is not None:
        catch_up(reindexer, {s.source for s in bot.sources()})
        start_watching(reindexer)
    auth = Auth(UserStore(bot.index_dir))  # a Milvus store keeps users where ASSISTANT_AUTH says
    return build_blocks(bot, reindexer, auth), bot, reindexer, auth


def start_watching(reindexer: Reindexer) -> CorpusWatcher | None:
    """Keep the index in step with files changed in the corpus folder by other means than the page
    (a copy, an editor, a sync tool); off with ASSISTANT_WATCH=0. Runs go through the one Reindexer."""
    setting = watch_setting()
    if setting == "off" or not reindexer.corpus.is_dir():
        return None
    watcher = CorpusWatcher(reindexer.corpus, lambda sources: reindexer.request(describe(sources)),
                            ignore=reindexer.index_dir, polling=setting == "poll").start()
    atexit.register(watcher.stop)
    return watcher


def catch_up(reindexer: Reindexer, indexed: set[str]) -> None:
    """After a crash: half-written uploads are deleted, and files saved but never indexed are indexed now."""
    with contextlib.suppress(OSError):  # uploads go to the corpus and to its collections' folders
        folders = [reindexer.corpus, *(p for p in reindexer.corpus.iterdir()
                                       if not p.name.startswith(".") and p.is_dir() and not p.is_symlink())]
        for folder in folders:
            for name in remove_partial_uploads(folder):
                log.warning("removed a partial upload left by a stopped app: %s", folder / name)
    waiting = unindexed_files(reindexer.corpus, indexed)
    if waiting:
        reindexer.request(f"{len(waiting)} file{'s' if len(waiting) != 1 else ''} in the corpus not indexed yet")


def uploads_allowed(server_name: str, refused: bool = False) -> bool:
    """Adding documents from the page: on by default only on this machine's loopback address.

    ASSISTANT_UPLOAD=0 (or --no-upload) turns it off; ASSISTANT_UPLOAD=1 turns it on for an
    app exposed beyond this machine (see SECURITY.md first).
    """
    setting = env(UPLOAD_ENV).strip()
    if refused or setting == "0":
        return False
    return setting == "1" or server_name in LOOPBACK


def launch_options(server_name: str | None = None, server_port: int | None = None,
                   uploads: bool = False, bot: Any = None, reindexer: Reindexer | None = None,
                   auth: Auth | None = None) -> dict[str, Any]:
    """launch() arguments shared by main() and the tests (Gradio 6 takes css and theme here).

    Each call makes the temporary folder that server will own (Gradio's uploads go there, via
    GRADIO_TEMP_DIR, read when the server starts); it is removed when the server stops, and a
    folder left by a process that was killed is removed by the next start. With `bot`, the app
    also serves the originals of its indexed documents (files.py) and the REST API at /api/v1
    (apps/api; with `reindexer` it adds and removes documents); with `uploads`, the upload route
    takes documents up to the "Add documents" limit. With `auth`, every route needs sign-in
    once a user is defined (apps/api/auth.py).

    The app answers only to its own host names and origin (origin.py): the lifespan wraps the
    whole app in HostOriginGuard before the server accepts a connection, and GuardCheck refuses
    everything should that ever not have happened. A bad ASSISTANT_ALLOWED_HOSTS raises AssistantError.
    """
    import gradio as gr

    from ..api.routes import PREFIX, build_api
    from ..api.signin import sign_in_routes
    from .app import STATIC_DIR

    server_name = server_name or env("GRADIO_SERVER_NAME")
    hosts = allowed_hosts(server_name)
    folder = make_temp_folder()
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    atexit.register(remove_temp_folder, folder)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        install_outermost(app, hosts)
        try:
            yield
        finally:
            remove_temp_folder(folder)

    limits = Middleware(RequestLimits, upload_dir=folder, **(UPLOAD_LIMITS if uploads else {}))
    # Sign-in before the limits: a client not signed in spends no upload space and no model call.
    middleware = [Middleware(GuardCheck), *([Middleware(AuthGate, auth=auth)] if auth else []), limits]
    routes = [original_route(bot), Mount(PREFIX, app=build_api(bot, reindexer))] if bot is not None else []
    return {
        "app_kwargs": {"middleware": middleware, "lifespan": lifespan,
                       "routes": [*routes, *(sign_in_routes(auth) if auth else [])]},
        "enable_monitoring": env(MONITORING_ENV) == "1",
        "server_name": server_name,
        "server_port": server_port or int(env("GRADIO_SERVER_PORT")),
        "share": False,
        "show_error": False,
        "ssr_mode": False,
        "footer_links": ["api"],
        # allowed_paths stays unset: Gradio serves no files of ours
        "max_file_size": UPLOAD_FILE_SIZE if uploads else MAX_FILE_SIZE,
        "css_paths": [STATIC_DIR / "web.css"],
        # Gradio's subdued grey (zinc-400) is 1.9:1 on white; zinc-600 is 7.7:1. Dark mode keeps its own.
        "theme": gr.themes.Default(primary_hue="blue").set(body_text_color_subdued="*neutral_600"),
    }


def check_exposure(server_name: str, index_dir: str | Path, no_auth: bool) -> None:
    """Refuse (SystemExit, one line) to serve a non-loopback address with no user defined, unless --no-auth."""
    if server_name in LOOPBACK:
        return
    if UserStore(index_dir).has_users():
        return
    if no_auth:
        print(f"warning: serving {server_name} with no sign-in (--no-auth): everyone who can reach it reads "
              "every document", file=sys.stderr)
        return
    raise SystemExit(f"error: {server_name} is not loopback and no user is defined, so anyone could read every "
                     f"document; add one first: assistant users add NAME --collections shared --password-stdin "
                     f"--index {index_dir}{' with ASSISTANT_AUTH=FILE set' if milvus_location(index_dir) else ''} "
                     "(or start with --no-auth)")


def _interrupt(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second `kill` while closing must not cut the clean-up short
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Serve the page on 127.0.0.1:7860 unless GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise."""
    parser = argparse.ArgumentParser(prog="app.py", description="Serve the document assistant's web chat.")
    parser.add_argument("--no-upload", action="store_true",
                        help=f"no 'Add documents' control (also: {UPLOAD_ENV}=0); it is on by default only on 127.0.0.1")
    parser.add_argument("--no-watch", action="store_true",
                        help=f"do not watch the corpus folder for changed files (also: {WATCH_ENV}=0)")
    parser.add_argument("--no-auth", action="store_true",
                        help="serve a non-loopback address with no user defined (everyone reads everything)")
    args = parser.parse_args(argv)
    if args.no_watch:
        os.environ[WATCH_ENV] = "0"
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    index_dir = env("ASSISTANT_STORE") or env("ASSISTANT_INDEX")
    server_name = env("GRADIO_SERVER_NAME")
    uploads = uploads_allowed(server_name, args.no_upload)
    try:
        allowed_hosts(server_name)  # a bad setting stops us before the model loads
        check_exposure(server_name, index_dir, args.no_auth)
        app, bot, reindexer, auth = build_app(index_dir, uploads=uploads)
    except AssistantError as exc:
        raise SystemExit(f"error: {exc}") from None
    # `kill` (SIGTERM) stops the app as Ctrl-C does, so its temporary folder is removed.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        app.launch(**launch_options(uploads=uploads, bot=bot, reindexer=reindexer, auth=auth))
    except KeyboardInterrupt:  # Ctrl-C or `kill` during shutdown: Gradio has closed the server already
        pass


if __name__ == "__main__":
    main()
