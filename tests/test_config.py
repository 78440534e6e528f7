"""Settings in one place: assistant/config.py is the only reader of ASSISTANT_* variables, the
README's table lists every variable it declares, the old import paths still work, the CLI takes
its choices from it, and an index records the settings that built it (older manifests still open)."""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import pytest

from assistant import config
from assistant.errors import AssistantError

PACKAGE = Path(config.__file__).resolve().parent
README = PACKAGE.parent / "README.md"
PREFIX = "ASSISTANT_"


def _is_environ(node: ast.AST) -> bool:
    """`os.environ` or a bare `environ` (from os import environ)."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name)
            and node.value.id == "os") or (isinstance(node, ast.Name) and node.id == "environ")


def environment_reads(source: str) -> list[tuple[int, str]]:
    """(line, key) of each read of an ASSISTANT_* variable, or of a variable whose name is not a
    literal (it may be one): os.environ.get/pop/setdefault(k), os.environ[k], k in os.environ,
    os.getenv(k). Copying the whole environment for a child process is not a read of a setting."""
    found = []
    for node in ast.walk(ast.parse(source)):
        key = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("get", "pop", "setdefault") and _is_environ(func.value):
                key = node.args[0]
            elif (isinstance(func, ast.Attribute) and func.attr == "getenv") or (isinstance(func, ast.Name)
                                                                                  and func.id == "getenv"):
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_environ(node.value):
            key = node.slice
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            key = node.left
        if key is None:
            continue
        literal = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
        if literal is None or literal.startswith(PREFIX):
            found.append((node.lineno, literal or ast.unparse(key)))
    return found


def test_the_check_finds_every_kind_of_read():
    sample = ("import os\nfrom os import environ, getenv\nNAME = 'ASSISTANT_X'\n"
              "a = os.environ.get('ASSISTANT_A')\nb = os.environ['ASSISTANT_B']\nc = 'ASSISTANT_C' in os.environ\n"
              "d = os.getenv('ASSISTANT_D')\ne = environ.get(NAME)\nf = getenv('ASSISTANT_F', '')\n"
              "ok = os.environ.get('PATH')\nos.environ['ASSISTANT_W'] = '0'\nchild = {**os.environ, 'X': '1'}\n")
    assert [key for _, key in environment_reads(sample)] == [
        "ASSISTANT_A", "ASSISTANT_B", "ASSISTANT_C", "ASSISTANT_D", "NAME", "ASSISTANT_F"]


def test_only_config_reads_assistant_variables():
    found = [f"{path.relative_to(PACKAGE.parent)}:{line}: {key}"
             for path in sorted(PACKAGE.rglob("*.py")) if path != PACKAGE / "config.py"
             for line, key in environment_reads(path.read_text(encoding="utf-8"))]
    assert not found, "read ASSISTANT_* settings through assistant.config.env():\n" + "\n".join(found)


def test_every_variable_named_in_the_package_is_declared():
    named = {m for path in PACKAGE.rglob("*.py") for m in re.findall(r"\bASSISTANT_[A-Z0-9_]*[A-Z0-9]",
                                                                      path.read_text(encoding="utf-8"))}
    assert named - set(config.VARIABLES) == set()


def test_readme_lists_every_variable():
    readme = README.read_text(encoding="utf-8")
    assert config.environment_table() in readme, "README's Settings table is stale: python -m assistant.config"
    for name in config.VARIABLES:
        assert f"| `{name}` |" in readme


def test_env_reads_at_call_time_with_defaults_and_one_line_errors(monkeypatch):
    from assistant.ingest.sandbox import limits

    monkeypatch.delenv("ASSISTANT_READ_SECONDS", raising=False)
    monkeypatch.setenv("ASSISTANT_READ_MEMORY_MB", "")
    assert limits() == (config.READ_MEMORY_MB, config.READ_SECONDS)
    monkeypatch.setenv("ASSISTANT_READ_SECONDS", "12.5")
    assert limits()[1] == 12.5
    monkeypatch.setenv("ASSISTANT_READ_SECONDS", "soon")
    with pytest.raises(AssistantError, match=r"^ASSISTANT_READ_SECONDS must be a number, not 'soon'$"):
        limits()
    monkeypatch.setenv("ASSISTANT_READ_SECONDS", "0")
    with pytest.raises(AssistantError, match="must be positive"):
        limits()


def test_settings_keep_their_old_import_paths():
    from assistant.index.dense import QUANTIZERS, DenseSettings
    from assistant.ingest.chunker import MAX_CHARS_PER_WORD, ChunkSettings
    from assistant.retrieve.answer import AnswerSettings
    from assistant.retrieve.search import MODES, SearchSettings

    assert (SearchSettings, AnswerSettings, ChunkSettings, DenseSettings) == (
        config.SearchSettings, config.AnswerSettings, config.ChunkSettings, config.DenseSettings)
    assert (MODES, QUANTIZERS, MAX_CHARS_PER_WORD) == (config.MODES, config.QUANTIZERS, config.MAX_CHARS_PER_WORD)


def test_cli_choices_come_from_config():
    from assistant.apps.cli import build_parser
    from assistant.embed.embedder import FAMILY

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    mode = next(a for a in commands["eval"]._actions if a.dest == "mode")
    assert tuple(mode.choices) == config.MODES and mode.default == config.SearchSettings.mode
    assert set(FAMILY) == set(config.ENCODERS)
    low, high = config.MAX_WORDS_RANGE
    assert commands["index"].parse_args(["--max-words", str(high)]).max_words == high
    with pytest.raises(SystemExit):
        commands["index"].parse_args(["--max-words", str(high + 1)])


def test_manifest_records_what_built_the_index_and_an_older_one_opens(seed_index_dir, bot, embedder, tmp_path):
    from assistant import Assistant
    from assistant.index.manifest import write_manifest

    manifest = json.loads((seed_index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["chunking"] == config.ChunkSettings().to_dict()
    assert manifest["dense"] == config.DenseSettings().to_dict()
    assert manifest["encoder"]["variant"] in config.ENCODERS
    assert manifest["reading"] == {"memory_mb": config.READ_MEMORY_MB, "seconds": config.READ_SECONDS}
    older = tmp_path / "index"
    shutil.copytree(seed_index_dir, older)
    del manifest["reading"], manifest["manifest_sha256"]
    write_manifest(older / "manifest.json", manifest)  # as written before the field existed
    reopened = Assistant.open(older, embedder=embedder)
    assert reopened.sources() == bot.sources() and reopened.describe() == bot.describe()
