"""The `assistant` command: a thin layer that builds library objects and prints their results."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from ..config import MAX_K, MAX_WORDS_RANGE, MODES, ChunkSettings, SearchSettings, env
from ..errors import AssistantError
from ..index.access import parse_collections
from ..text import terminal_safe
from .bench_cli import add_command as add_bench_command
from .bench_cli import cmd_bench
from .output import document_json, reply_json, source_json
from .team_cli import add_commands as add_team_commands
from .team_cli import cmd_tokens, cmd_users

EXAMPLES = """examples:
  assistant index --corpus corpus --index index
  assistant index --corpus corpus --watch
  assistant ask "How many partners does Lakeside Surgery have?"
  assistant ask "How long is their contract?" --history "Who is building the shared care record?" --json
  printf 'first question\\nsecond question\\n' | assistant ask --json
  assistant eval eval/questions.jsonl --split test
  assistant sources
  assistant show walking-guide.pdf
  assistant bench --no-append

  assistant index --corpus corpus --store milvus-lite:milvus.db/docs

The index folder defaults to $ASSISTANT_INDEX, else ./index; --store (or $ASSISTANT_STORE) names
a Milvus collection instead."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every usage error
        self.exit(2, f"{self.prog}: error: {message}\n")


def _index_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", type=Path, default=None, metavar="DIR",
                        help="index folder (default: $ASSISTANT_STORE, $ASSISTANT_INDEX or ./index)")
    parser.add_argument("--store", default=None, metavar="LOCATION",
                        help="the index in Milvus instead of a folder: milvus://HOST:PORT/COLLECTION or "
                        "milvus-lite:PATH.db/COLLECTION (needs pip install 'assistant[cluster]')")


def _collections_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--collections", default=None, metavar="NAMES",
                        help="only these collections, comma-separated: top-level folders of the corpus, "
                             "and `shared` for files at its root (default: all)")


def _collections(args, bot) -> list[str] | None:
    """--collections as names the index holds; an unknown name is a one-line error."""
    allowed = parse_collections(args.collections)
    if allowed is None:
        return None
    held = bot.collections()
    if unknown := sorted(allowed.collections - set(held)):
        raise AssistantError(f"no collection {unknown[0]!r} in the index (it has: {', '.join(held) or 'none'})")
    return sorted(allowed.collections)


def _bounded(low: int, high: int):
    """An argparse type for a whole number in [low, high], so a bad value is a usage error (exit 2)."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}")
        return number

    return parse


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(prog="assistant", description="Ask questions about a folder of documents, offline, "
                     "with exact citations.", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"assistant {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    index = commands.add_parser("index", help="build or update the index from a corpus folder",
                                description="Index every text and Markdown file under CORPUS. Unchanged files are "
                                "not embedded again; the new index replaces the old one atomically.")
    index.add_argument("--corpus", type=Path, default=Path(env("ASSISTANT_CORPUS")),
                       metavar="DIR", help="folder of documents (default: $ASSISTANT_CORPUS or ./corpus)")
    _index_arg(index)
    index.add_argument("--max-words", type=_bounded(*MAX_WORDS_RANGE), default=None,
                       help=f"largest chunk in words ({MAX_WORDS_RANGE[0]}-{MAX_WORDS_RANGE[1]}, "
                       f"default {ChunkSettings.max_words})")
    index.add_argument("--quiet", action="store_true", help="no progress (a bar on a terminal, else a line every few seconds)")
    index.add_argument("--watch", action="store_true",
                       help="after indexing, keep watching CORPUS and index what is added, changed or deleted "
                            "(after 2 s without changes) until Ctrl-C; one line per run")
    index.add_argument("--allow-hard-links", action="store_true",
                       help="index files that have other names (hard links); off by default, as another name "
                            "can live outside the corpus")
    index.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                       help="read, chunk and embed on Ray (pip install 'assistant[cluster]'): a new local Ray, or the "
                            "cluster at ADDRESS (auto, ray://HOST:10001)")
    index.add_argument("--ray-actors", type=_bounded(1, 100_000), default=None, metavar="N",
                       help="encoder actors with --ray (default: one per CPU of the cluster)")

    ask = commands.add_parser("ask", help="answer a question (or one per line from stdin)",
                              description="Answer QUESTION, or read questions from stdin one per line; a line "
                              'starting with { is {"question": ..., "history": [...]}.')
    ask.add_argument("question", nargs="?", help="the question; omit to read questions from stdin")
    _index_arg(ask)
    ask.add_argument("--k", type=_bounded(1, MAX_K), default=5, help=f"passages to return (1-{MAX_K}, default 5)")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument("--history", action="append", default=[], metavar="QUESTION",
                     help="an earlier question of the conversation (repeatable, oldest first)")
    _collections_arg(ask)

    ev = commands.add_parser("eval", help="measure retrieval and answer quality on labelled questions")
    ev.add_argument("questions", type=Path, help="JSON-lines file of labelled questions")
    _index_arg(ev)
    ev.add_argument("--split", default=None, help="only questions whose \"split\" is this (e.g. dev, test)")
    ev.add_argument("--mode", choices=MODES, default=SearchSettings.mode,
                    help=f"retrieval mode to measure (default {SearchSettings.mode})")
    ev.add_argument("--repeat", type=_bounded(1, 20), default=1, metavar="N",
                    help="ask each question N times and time the fastest: the machine's own noise out of the "
                         "max/median figure (default 1)")
    ev.add_argument("--json", action="store_true", help="print the figures as JSON")

    sources = commands.add_parser("sources", help="list the indexed documents")
    _index_arg(sources)
    sources.add_argument("--json", action="store_true")
    _collections_arg(sources)

    show = commands.add_parser("show", help="print the text the assistant read from a document",
                               description="Print the clean text of an indexed document: the text every citation's "
                               "start and end offsets refer to.")
    show.add_argument("source", help="the document, as `assistant sources` names it")
    _index_arg(show)
    show.add_argument("--json", action="store_true", help="the document with its blocks and page offsets as JSON")
    verify = commands.add_parser("verify", help="check every byte of the index against its checksums",
                                 description="Opening an index checks sizes and the edges of large files; this reads "
                                 "every byte and checks each segment's table, as the web app does in the background.")
    _index_arg(verify)
    add_bench_command(commands, _bounded)
    add_team_commands(commands, _Parser, _index_arg)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"index": cmd_index, "ask": cmd_ask, "eval": cmd_eval, "sources": cmd_sources,
                "show": cmd_show, "bench": cmd_bench, "verify": cmd_verify,
                "users": lambda a: cmd_users(a, _index_dir(a)), "tokens": lambda a: cmd_tokens(a, _index_dir(a)),
                }[args.command](args)
    except AssistantError as exc:
        print(f"assistant: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("assistant: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # never a traceback for users; ASSISTANT_DEBUG=1 shows it
        if env("ASSISTANT_DEBUG"):
            raise
        print(f"assistant: internal error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1


def cmd_verify(args) -> int:
    from ..index.stores import verify

    index_dir = _index_dir(args)
    found = verify(index_dir)
    checked = (f"{found['sentences']} sentences, every row checked" if "sentences" in found
               else f"{found['segments']} segments, {found['files']} files, {found['bytes'] / 2**20:.1f} MiB checked")
    print(f"index at {terminal_safe(str(index_dir))} is intact: {found['documents']} documents, {found['chunks']} chunks, "
          f"{checked}")
    return 0


def _index_dir(args) -> Path | str:
    """The index location: --store, else --index, else the environment's default."""
    from ..api import default_index_dir

    if getattr(args, "store", None):
        return args.store
    return args.index if args.index is not None else default_index_dir()


def cmd_index(args) -> int:
    settings = ChunkSettings() if args.max_words is None else ChunkSettings(max_words=args.max_words)
    if args.ray is None and args.ray_actors is not None:
        raise AssistantError("--ray-actors needs --ray")
    if args.watch and args.store:
        raise AssistantError("--watch needs an index folder (--index), not --store")
    _index_once(args, settings)
    if args.watch:
        _watch(args, settings)
    return 0


def _index_once(args, settings) -> None:
    from ..ingest.indexer import build_index

    with _engine(args.ray, args.ray_actors) as engine:
        summary = build_index(args.corpus, _index_dir(args), settings,
                              progress=not args.quiet, allow_hard_links=args.allow_hard_links,
                              notify=lambda note: print(f"{terminal_safe(note.source)}: {note.reason}",
                                                        file=sys.stderr, flush=True),
                              engine=engine)
    for skipped in summary.skipped:
        print(f"skipped {terminal_safe(skipped.source)}: {skipped.reason}", file=sys.stderr)
    print(summary.line(), flush=True)


def _watch(args, settings) -> None:
    """`--watch`: index again after each quiet spell of changes, until Ctrl-C or `kill`."""
    import signal

    from ..ingest.watch import CorpusWatcher, describe, watch_setting

    def again(sources: list[str]) -> None:
        print(terminal_safe(describe(sources)), file=sys.stderr, flush=True)
        try:
            _index_once(args, settings)
        except AssistantError as exc:  # e.g. every file deleted: say so, keep the index, keep watching
            print(f"assistant: error: {exc}", file=sys.stderr, flush=True)

    def stop(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"watching {terminal_safe(str(args.corpus))} for changes (Ctrl-C stops)", file=sys.stderr, flush=True)
    watcher = CorpusWatcher(args.corpus, again, ignore=Path(_index_dir(args)), polling=watch_setting() == "poll")
    try:
        watcher.run()
    except KeyboardInterrupt:
        pass
    print("stopped watching", file=sys.stderr)


@contextlib.contextmanager
def _engine(address: str | None, actors: int | None):
    """None (index here), or the Ray engine for the run's length when --ray was given."""
    if address is None:
        yield None
        return
    from ..ingest.ray_index import RayEngine, ray_session

    with ray_session(address or None):
        yield RayEngine(actors)


def _open(args):
    from ..api import Assistant

    # A one-shot command answers once: warming up would only double the cost of its question.
    return Assistant.open(_index_dir(args), warm=False)


def cmd_ask(args) -> int:
    if args.question is not None:
        from ..api import clean_question

        clean_question(args.question)  # a bad question fails before the model loads
        bot = _open(args)
        collections = _collections(args, bot)
        _print_reply(bot.ask(args.question, history=args.history, k=args.k, collections=collections), args.json)
        return 0
    if sys.stdin.isatty():
        raise AssistantError("no question given: pass QUESTION or pipe questions on stdin")
    bot = _open(args)
    collections = _collections(args, bot)
    failures = 0
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            question, history = _parse_line(line, args.history)
            _print_reply(bot.ask(question, history=history, k=args.k, collections=collections), args.json)
        except AssistantError as exc:
            failures += 1
            print(f"assistant: error: line {number}: {exc}", file=sys.stderr)
        sys.stdout.flush()
    return 1 if failures else 0


def _parse_line(line: str, history: list[str]) -> tuple[str, list[str]]:
    if not line.lstrip().startswith("{"):
        return line.strip(), history
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise AssistantError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(item, dict) or not isinstance(item.get("question"), str):
        raise AssistantError('a JSON line needs a "question" string')
    earlier = item.get("history") or []
    if not isinstance(earlier, list) or not all(isinstance(h, str) for h in earlier):
        raise AssistantError('"history" must be a list of strings')
    return item["question"], earlier


def _print_reply(reply, as_json: bool) -> None:
    if as_json:
        print(json.dumps(reply_json(reply), ensure_ascii=False))
        return
    if reply.notice:
        print(f"note: {reply.notice}")
    if reply.confident:
        print(f"Answer: {terminal_safe(reply.answer)}\n")
    else:
        print(f"{reply.answer} The nearest passages:\n")
    for p in reply.passages:
        where = f"{terminal_safe(p.source)}, p. {p.page}" if p.page else f"{terminal_safe(p.source)}:{p.line}"
        section = f" › {terminal_safe(p.section)}" if p.section else ""
        text = terminal_safe(" ".join(p.text.split()))
        print(f"[{p.rank}] {terminal_safe(p.title)}{section}  ({where})  score {p.score:.2f} {p.strength}")
        print(f"    {text[:300]}{'…' if len(text) > 300 else ''}\n")


def cmd_eval(args) -> int:
    from ..api import Assistant
    from ..tools.evaluate import evaluate, load_questions

    questions = load_questions(args.questions, args.split)
    bot = Assistant.open(_index_dir(args), search_settings=SearchSettings(mode=args.mode))
    report = evaluate(bot, questions, repeat=args.repeat)
    if args.json:
        print(json.dumps({"mode": args.mode, "split": args.split, **report.to_dict()}))
    else:
        print(f"mode {args.mode}, split {args.split or 'all'}\n{report.table()}")
    return 0


def cmd_sources(args) -> int:
    bot = _open(args)
    for info in bot.sources(collections=_collections(args, bot)):
        print(json.dumps(source_json(info), ensure_ascii=False) if args.json
              else f"{terminal_safe(info.source)}\t{info.chunks} chunks\t{terminal_safe(info.title)}")
    return 0


def cmd_show(args) -> int:
    document = _open(args).document(args.source)  # the encoder loads only at a question: none here
    if args.json:
        print(json.dumps(document_json(document), ensure_ascii=False))
    else:
        sys.stdout.write(document.text if document.text.endswith("\n") else document.text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
