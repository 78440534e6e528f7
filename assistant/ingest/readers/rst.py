"""reStructuredText: parsed by docutils (BSD / public domain) and read off its document tree.

Sections become headings, lists one block per item, literal blocks code, tables readable rows,
admonitions paragraphs that say "Note: ..."; comments, targets and parser messages are dropped
and inline markup becomes its words. Sphinx pages use directives and roles docutils does not
know (`toctree`, `versionadded`, `:ref:`, `:func:`): these are read leniently (their text kept,
navigation dropped) instead of turning into error messages. Nothing is ever read from another
file or printed, and bad markup never stops the parse.
"""

from __future__ import annotations

import io
import re
import types

from docutils import nodes
from docutils.core import publish_doctree
from docutils.parsers.rst import Directive, Parser, directives, roles, states
from docutils.utils import unescape

from .build import CODE_CLOSE, CODE_OPEN, TextBuilder, add_marked, squash, table_rows, usable_title

# Sphinx directives (compared without a domain: "py:currentmodule" is "currentmodule") that show
# no text of their own: navigation, index entries, settings for later blocks, files read elsewhere.
DROPPED = frozenset({"toctree", "index", "highlight", "currentmodule", "module", "literalinclude",
                     "tabularcolumns", "sectionauthor", "codeauthor", "moduleauthor", "autosummary",
                     "default-domain", "default-role"})
# Directives whose content is code, read as it is written.
CODE = frozenset({"testcode", "testsetup", "testcleanup", "testoutput", "doctest", "ipython", "jupyter-execute",
                  "productionlist", "prompt"})
# Directives whose argument is a condition, not text ("only:: html").
CONDITIONS = frozenset({"only", "ifconfig"})
# Sphinx roles that name code (shown as code, remembered as inline code); other unknown roles are words.
CODE_ROLES = frozenset({"func", "meth", "class", "attr", "data", "exc", "obj", "mod", "const", "type", "member",
                        "var", "macro", "struct", "enum", "option", "envvar", "file", "samp", "command", "program"})
VERSIONS = {"versionadded": "Added in version", "versionchanged": "Changed in version",
            "deprecated": "Deprecated since version", "versionremoved": "Removed in version"}
LABELS = {"seealso": "See also", "todo": "To do"}
SETTINGS = {
    "report_level": 5, "halt_level": 5, "warning_stream": None,  # (a StringIO per parse) no message printed, no parse stopped
    "file_insertion_enabled": False, "raw_enabled": False,  # no include, raw or file/URL-reading directives
    "_disable_config": True,  # no docutils.conf from the working or home folder changes the reading
    "doctitle_xform": False,  # a lone first section stays a section (its title becomes the title below)
    "syntax_highlight": "none", "smart_quotes": False, "input_encoding": "unicode", "language_code": "en",
}


def extract(text: str) -> tuple[TextBuilder, str] | str:
    """(clean text builder, title) of a .rst file's decoded text, or the reason it cannot be read."""
    try:
        document = _parse(text)
        builder = TextBuilder()
        _Walker(builder).body(document)
    except RecursionError:
        return "unreadable reStructuredText (nested too deeply)"
    except Exception as exc:  # noqa: BLE001 - docutils on input it cannot handle (a parser bug)
        return f"unreadable reStructuredText ({exc.__class__.__name__})"
    if not builder.blocks:
        refused = next((m for m in document.findall(nodes.system_message) if "line-length-limit" in m.astext()), None)
        if refused is not None:  # docutils reads no file with a line this long (its guard against slow input)
            return f"unreadable reStructuredText (a line longer than {document.settings.line_length_limit} characters)"
        return "no readable text in this reStructuredText file"
    return builder, _title(document)


def _parse(text: str) -> nodes.document:
    settings = {**SETTINGS, "warning_stream": io.StringIO()}
    return publish_doctree(text, parser=_Parser(), settings_overrides=settings)


def _title(document) -> str:
    """The `.. title::` directive's, else the title of a section that is alone at the top (docutils' rule)."""
    if usable_title(document.get("title")):
        return usable_title(document["title"])
    content = [child for child in document.children if not isinstance(child, _SKIPPED)]
    sections = [child for child in content if isinstance(child, nodes.section)]
    if len(sections) == 1 and content[0] is sections[0]:
        return squash(_inline(sections[0][0]))
    return ""


# --- Lenient parsing: no directive or role is unknown ---------------------------------------
# Subclasses of docutils' parser states and inliner; docutils' own registries are left untouched.


class _AnyOptions(dict):
    """Options of a directive as it declares them, and any other option accepted as plain text."""

    def __getitem__(self, key):
        return super().__getitem__(key) if key in self else directives.unchanged


class _Generic(Directive):
    """A directive docutils does not know: its text kept, navigation dropped, code kept as code."""

    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = _AnyOptions()
    has_content = True

    def run(self):
        name = self.name.rpartition(":")[2]
        argument = self.arguments[0] if self.arguments else ""
        if name in DROPPED:
            return []
        if name in CODE:
            code = "\n".join(self.content)
            return [nodes.literal_block(code, code)] if code.strip() else []
        made: list = []
        if name in VERSIONS:  # "versionadded:: 2.1 What was added." reads "Added in version 2.1: What was added."
            version, note = (argument.split(None, 1) + [""])[:2]
            lead = f"{VERSIONS[name]} {version}" + (": " if note else ".")
            made.append(nodes.paragraph("", "", nodes.Text(lead), *self.state.inline_text(note, self.lineno)[0]))
        elif argument and name not in CONDITIONS and name not in LABELS:
            made.append(nodes.paragraph(argument, argument))  # a signature or a title, read as written
        body = nodes.admonition() if name in LABELS else nodes.container()
        if name in LABELS:  # "seealso:: Text" is an admonition titled "See also" whose argument is its text
            body += nodes.title(LABELS[name], LABELS[name])
            if argument:
                body += nodes.paragraph("", "", *self.state.inline_text(argument, self.lineno)[0])
        self.state.nested_parse(self.content, self.content_offset, body)
        return made + ([body] if len(body) > (name in LABELS) else [])


_TOLERANT: dict = {}


def _accepting(directive_class):
    """A known directive that also accepts options it does not declare (Sphinx adds `:caption:`, `:linenos:`)."""
    if not isinstance(directive_class.option_spec, dict):
        return directive_class
    if directive_class not in _TOLERANT:
        _TOLERANT[directive_class] = type(directive_class.__name__, (directive_class,),
                                          {"option_spec": _AnyOptions(directive_class.option_spec)})
    return _TOLERANT[directive_class]


class _Lenient:
    """Mixed into every parser state: an unknown directive runs `_Generic` instead of becoming an error."""

    nested_sm_cache: list = []  # not docutils' shared cache: nested parses here use these states

    def __init__(self, state_machine, debug=False):
        super().__init__(state_machine, debug)
        self.nested_sm_kwargs = {"state_classes": _STATES, "initial_state": "Body"}

    def directive(self, match, **option_presets):
        type_name = match.group(1)
        directive_class, _ = directives.directive(type_name, self.memo.language, self.document)
        directive_class = _accepting(directive_class) if directive_class else _Generic
        return self.run_directive(directive_class, match, type_name, option_presets)


# Body finds explicit markup through a table of its own functions, so the table points to ours.
_Lenient.explicit = types.SimpleNamespace(**vars(states.Body.explicit))
_Lenient.explicit.constructs = [(_Lenient.directive if method is states.Body.directive else method, pattern)
                                for method, pattern in states.Body.explicit.constructs]
_STATES = tuple(type(cls.__name__, (_Lenient, cls), {}) for cls in states.state_classes)


def _generic_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """A role docutils does not know (`:ref:`, `:func:`...): its text, as Sphinx shows it."""
    text = unescape(text)
    if text.endswith(">") and text.find("<") > 0:  # "title <target>"
        text = text[: text.rindex("<")].rstrip()
    elif text.startswith("~"):  # "~pkg.mod.name" shows as "name"
        text = text[1:].rpartition(".")[2]
    node = nodes.literal if name.rpartition(":")[2] in CODE_ROLES else nodes.inline
    return [node(rawtext, text.lstrip("!"))], []


def _interpreted(inliner, rawsource, text, role, lineno):
    """`Inliner.interpreted` with `_generic_role` for the roles docutils does not know."""
    role_fn, _ = roles.role(role, inliner.language, lineno, inliner.reporter)
    return (role_fn or _generic_role)(role, rawsource, text, lineno, inliner)


class _Parser(Parser):
    def __init__(self) -> None:
        # An Inliner builds its patterns from its own class's attributes, so it is not subclassed.
        inliner = states.Inliner()
        inliner.interpreted = types.MethodType(_interpreted, inliner)
        super().__init__(inliner=inliner)
        self.state_classes = _STATES


# --- Reading the document tree -------------------------------------------------------------

# Nothing a person reads: comments, targets, substitution definitions, parser messages, pictures.
_SKIPPED = (nodes.Invisible, nodes.system_message, nodes.raw, nodes.decoration, nodes.transition, nodes.image,
            nodes.meta, nodes.colspec)


def _inline(node) -> str:
    """The words of inline markup: literals without backticks, references as their text, no messages."""
    if isinstance(node, nodes.Text):
        return str(node).replace(CODE_OPEN, "").replace(CODE_CLOSE, "")
    if isinstance(node, nodes.literal):  # inline code: marked, so that it becomes a span of the clean text
        return CODE_OPEN + "".join(_inline(child) for child in node.children) + CODE_CLOSE
    if isinstance(node, (nodes.system_message, nodes.raw, nodes.comment, nodes.substitution_definition)):
        return ""
    if isinstance(node, nodes.image):
        return node.get("alt", "")
    if isinstance(node, (nodes.footnote_reference, nodes.citation_reference)):
        return f"[{node.astext()}]"
    if isinstance(node, nodes.problematic):  # markup docutils could not resolve: its words, without the marks
        return _unmarked(node.astext())
    return "".join(_inline(child) for child in node.children)


# A reference, substitution or inline markup left unresolved: "`unknown target`_", "|version|", "``".
_UNRESOLVED = re.compile(r"^[`|*_]*(.*?)(?:\s*<[^<>]*>)?[`|*_]*$", re.DOTALL)


def _unmarked(text: str) -> str:
    """The words of markup docutils reported as problematic (they stay; the marks go)."""
    return _UNRESOLVED.match(text).group(1)


class _Walker:
    """Adds a docutils document tree's blocks to a builder, in reading order."""

    def __init__(self, builder: TextBuilder) -> None:
        self.builder = builder
        self.prefix = ""  # "Note: " waiting for the first paragraph of an admonition

    def add(self, kind: str, text: str, level: int = 0) -> None:
        if kind != "heading" and kind != "code" and self.prefix and text.strip():
            text, self.prefix = self.prefix + text, ""
        if kind == "code":
            self.builder.add(kind, text, level)
        else:
            add_marked(self.builder, kind, text, level)

    def body(self, node, kind: str = "paragraph", depth: int = 0) -> None:
        for child in node.children:
            self.element(child, kind, depth)

    def element(self, node, kind: str = "paragraph", depth: int = 0) -> None:
        """One node of the tree, by its type."""
        if isinstance(node, nodes.system_message) and "Malformed table" in node.astext():
            self.broken_table(node)
        if isinstance(node, _SKIPPED):
            return
        if isinstance(node, nodes.section):
            self.add("heading", squash(_inline(node[0])) if len(node) else "", depth + 1)
            for child in node.children[1:]:
                self.element(child, kind, depth + 1)
        elif isinstance(node, nodes.topic) and "contents" in node["classes"]:
            return  # a generated table of contents: navigation
        elif isinstance(node, (nodes.paragraph, nodes.title, nodes.subtitle, nodes.rubric, nodes.caption,
                               nodes.attribution)):
            text = squash(_inline(node))
            self.add(kind, "— " + text if isinstance(node, nodes.attribution) else text)
        elif isinstance(node, (nodes.literal_block, nodes.doctest_block, nodes.math_block)):
            self.add("code", node.astext().strip("\n"))
        elif isinstance(node, nodes.line_block):
            self.add(kind, "\n".join(squash(_inline(line)) for line in node.findall(nodes.line)))
        elif isinstance(node, (nodes.bullet_list, nodes.enumerated_list)):
            for number, item in enumerate(node.children, start=node.get("start", 1)):
                mark = f"{_enumerator(node['enumtype'], number)}. " if isinstance(node, nodes.enumerated_list) else ""
                self.item(item.children, mark, depth)
        elif isinstance(node, nodes.definition_list):
            for item in node.children:
                term = " : ".join(squash(_inline(c)) for c in item.children if isinstance(c, (nodes.term, nodes.classifier)))
                definition = next((c for c in item.children if isinstance(c, nodes.definition)), None)
                self.item(definition.children if definition is not None else [], f"{term}: ", depth)
        elif isinstance(node, (nodes.field_list, nodes.docinfo)):
            for field in node.children:
                if isinstance(field, nodes.field):
                    self.item(field[1].children, f"{squash(_inline(field[0]))}: ", depth)
                else:  # a bibliographic field docutils knows: <author>, <version>...
                    self.add("list", f"{field.tagname.title()}: {squash(_inline(field))}")
        elif isinstance(node, nodes.option_list):
            for item in node.children:
                options = ", ".join(squash(_inline(group)) for group in item.findall(nodes.option_group))
                description = next(item.findall(nodes.description), None)
                self.item(description.children if description is not None else [], f"{options}: ", depth)
        elif isinstance(node, nodes.block_quote):
            self.body(node, "quote", depth)
        elif isinstance(node, nodes.Admonition):
            self.admonition(node, depth)
        elif isinstance(node, nodes.table):
            self.table(node, depth)
        elif isinstance(node, (nodes.footnote, nodes.citation)):
            label = next((c for c in node.children if isinstance(c, nodes.label)), None)
            children = [c for c in node.children if c is not label]
            self.item(children, f"[{label.astext()}] " if label is not None else "", depth, "paragraph")
        elif isinstance(node, nodes.TextElement):
            self.add(kind, squash(_inline(node)))
        else:  # containers: compound, container, figure, topic, sidebar, legend, a generic directive's body
            self.body(node, kind, depth)

    def item(self, children, lead: str, depth: int, kind: str = "list") -> None:
        """One list item: its leading paragraphs as one block (after `lead`), then the rest as they come."""
        children = [c for c in children if not isinstance(c, _SKIPPED)]
        words = []
        while children and isinstance(children[0], nodes.paragraph):
            words.append(squash(_inline(children.pop(0))))
        self.add(kind, lead + " ".join(words) if words else lead.rstrip().removesuffix(":"))
        for child in children:
            self.element(child, "paragraph", depth)

    def admonition(self, node, depth: int) -> None:
        """"Note: ..." (or the admonition's own title) before its first paragraph."""
        titles = [c for c in node.children if isinstance(c, nodes.title)]
        label = squash(_inline(titles[0])) if titles else node.tagname.replace("_", " ").capitalize()
        children = [c for c in node.children if not isinstance(c, (nodes.title, *_SKIPPED))]
        if children and isinstance(children[0], nodes.paragraph):
            self.prefix = f"{label}: "
        else:
            self.add("paragraph", f"{label}:")
        for child in children:
            self.element(child, "paragraph", depth)
        self.prefix = ""

    def broken_table(self, message) -> None:
        """A table docutils could not parse keeps its words: one row a line, borders dropped."""
        source = next(message.findall(nodes.literal_block), None)
        for line in source.astext().splitlines() if source is not None else ():
            if line.strip(" +-=|"):
                self.add("table", " | ".join(cell for cell in map(squash, re.split(r"\||\s{2,}", line)) if cell))

    def table(self, node, depth: int) -> None:
        for child in node.children:
            if isinstance(child, nodes.title):
                self.add("paragraph", squash(_inline(child)))
        rows = []
        for row in node.findall(nodes.row):
            cells: list[str] = []
            for entry in row.children:
                cells.append(squash(" ".join(_inline(part) if isinstance(part, nodes.TextElement) else part.astext()
                                             for part in entry.children)))
                cells += [""] * int(entry.get("morecols", 0))  # a cell spanning columns keeps the others in place
            rows.append(cells)
        for line in table_rows(rows):
            self.add("table", line)


def _enumerator(kind: str, number: int) -> str:
    """How an enumerated list numbers its items: 1, a, A (roman numerals as arabic ones)."""
    if kind in ("loweralpha", "upperalpha") and 1 <= number <= 26:
        letter = chr(ord("a") + number - 1)
        return letter if kind == "loweralpha" else letter.upper()
    return str(number)
