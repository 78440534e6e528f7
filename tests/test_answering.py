"""Picking the answer sentence and judging confidence: answer types, pronouns, diluted passages."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest

from assistant import Assistant
from assistant.ingest.chunker import chunk_document
from assistant.ingest.indexer import build_index
from assistant.retrieve.answer import absent_terms
from assistant.retrieve.qtype import CODE, DATE, NAME, NUMBER, answer_type, holds_type
from assistant.types import Document


@pytest.mark.parametrize("question, kind", [
    ("How many beds does the hospital have?", NUMBER),
    ("Roughly how much did it cost?", NUMBER),
    ("What percentage of staff left?", NUMBER),
    ("When did the trust open?", DATE),
    ("In which year was it founded?", DATE),
    ("Which year was it founded?", DATE),
    ("By when must the plan be finished?", DATE),
    ("Who chairs the board?", NAME),
    ("What command creates a new library crate?", CODE),
    ("Which flag skips the root package?", CODE),
    ("How do I call the function from a script?", CODE),
    ("What does the board do?", None),
    ("Where is the clinic?", None),
])
def test_answer_type_from_the_question_wording(question, kind):
    assert answer_type(question) == kind


def test_holds_type():
    assert holds_type("The site holds 420 beds.", NUMBER)
    assert holds_type("It has twelve wards.", NUMBER)
    assert not holds_type("In 2017 the ward was closed.", NUMBER)  # a year is not a count
    assert holds_type("In 2017 the ward was closed.", DATE)
    assert holds_type("It opened in March.", DATE)
    assert not holds_type("It opened after a long wait.", DATE)
    assert holds_type("The board is chaired by Ann Smith.", NAME, "Who chairs the board?")
    assert not holds_type("The board meets monthly.", NAME, "Who chairs the board?")
    assert holds_type("Use the `--lib` option.", CODE) and holds_type("forge new", CODE, in_code=True)
    assert not holds_type("Use the library option.", CODE)


@contextlib.contextmanager
def answer_settings(bot, **changes):
    """The bot with some answer settings changed, restored afterwards (the bot is shared)."""
    original = bot.answer_settings
    bot.answer_settings = dataclasses.replace(original, **changes)
    try:
        yield bot
    finally:
        bot.answer_settings = original


@pytest.fixture(scope="module")
def small_bot(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("answering")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "hospital.md").write_text(
        "# Riverside hospital\n\n"
        "Riverside hospital opened in 1990 on the edge of the town.\n\n"
        "## Providers\n\n"
        "The Meadow Health Trust runs the community hospitals of the county. "
        "It also provides specialist dentistry and mental health care.\n\n"
        "## District offices\n\n"
        "Each district office of the Meadow Health Trust is associated with:\n\n"
        "* Exactly one manager, who signs off the budget,\n"
        "* Exactly one depot, i.e. one store for equipment, and\n"
        "* A group of volunteers who drive patients to appointments.\n",
        encoding="utf-8")
    (corpus / "forge.md").write_text(TOOL_DOC, encoding="utf-8")
    build_index(corpus, root / "index", embedder=embedder)
    return Assistant.open(root / "index", embedder=embedder)


TOOL_DOC = (
    "# Forge build tool\n\n## Libraries\n\n"
    "Forge builds libraries and programs from one manifest file. A library is shared code that other "
    "packages depend on, while a program is run from the command line.\n\n"
    "To create a new library, run:\n\n```bash\nforge new --lib mylib\n```\n\n"
    "The command writes a manifest and a source folder.\n")


def test_a_how_much_question_is_answered_by_the_sentence_with_the_amount(bot):
    """Both sentences match the question's words; only one holds an amount, and the answer type picks it."""
    question = ("How much money was the Cambridgeshire CCG short of, and how much did it have to cut, "
                "around the time of the IVF decision?")
    assert "£192 million" in bot.ask(question).answer
    with answer_settings(bot, type_weight=0.0):
        assert "£192 million" not in bot.ask(question).answer


def test_an_answer_opening_with_a_pronoun_takes_the_sentence_it_refers_to(small_bot):
    reply = small_bot.ask("Which trust provides specialist dentistry?")
    assert "Meadow Health Trust" in reply.answer and "specialist dentistry" in reply.answer
    text = small_bot.read_source(reply.answer_source)
    assert " ".join(text[reply.answer_start : reply.answer_end].split()) == reply.answer


def test_one_close_sentence_makes_a_diluted_passage_confident(bot):
    """The passage as a whole scores under the cosine threshold; its one matching sentence does not."""
    question = "What is Naomi Eisenstadt's video blog called?"
    reply = bot.ask(question)
    assert reply.confident and "View from the Chair" in reply.answer
    with answer_settings(bot, sentence_threshold=1.01):
        assert not bot.ask(question).confident


def test_an_answer_announcing_a_list_runs_on_to_the_item_that_answers(small_bot):
    question = "How many depots does each district office of the Meadow Health Trust have?"
    reply = small_bot.ask(question)
    assert "Exactly one depot" in reply.answer and reply.answer.startswith("Each district office")
    with answer_settings(small_bot, list_reach=1):
        assert "Exactly one depot" not in small_bot.ask(question).answer


def test_a_short_code_block_and_the_sentence_introducing_it_are_one_answer_unit():
    doc = Document(source="forge.md", title="Forge build tool", text=TOOL_DOC, sha256="", encoding="utf-8")
    units = [TOOL_DOC[s:e] for chunk in chunk_document(doc) for s, e in chunk.sentences]
    assert "To create a new library, run:\n\n```bash\nforge new --lib mylib\n```" in units
    assert "The command writes a manifest and a source folder." in units


def test_a_question_asking_for_a_command_is_answered_with_the_code(small_bot):
    reply = small_bot.ask("What command creates a new library?")
    assert reply.confident and "forge new --lib mylib" in reply.answer
    text = small_bot.read_source(reply.answer_source)
    assert " ".join(text[reply.answer_start : reply.answer_end].split()) == reply.answer


HISTORY = ["Which company is building the shared care record in Cambridgeshire and Peterborough?"]


@pytest.mark.parametrize("question", ["What is the capital of Australia?", "Who painted the Mona Lisa?",
                                      "What is a good name for a cat?"])
def test_an_unrelated_question_stays_flagged_after_an_earlier_question(bot, question):
    """The conversation found the earlier topic's passage; the question's own vector does not match it."""
    assert not bot.ask(question).confident
    assert not bot.ask(question, history=HISTORY).confident
    with answer_settings(bot, leans_on_history=0.0):  # history always counted: the old behaviour
        assert bot.ask(question, history=HISTORY).confident


def test_a_follow_up_still_leans_on_the_conversation(bot):
    reply = bot.ask("How long is their contract?", history=HISTORY)
    assert reply.confident and "eight-year contract" in reply.answer


def test_absent_distinctive_terms(bot):
    """Names, identifiers and numbers the corpus never uses; plain words and known names do not count."""
    assert "Brackenfold" in absent_terms(bot.data, "How many people does Brackenfold Hut sleep?")
    assert "--frobnicate" in absent_terms(bot.data, "What does the --frobnicate flag do?")
    assert "1742" in absent_terms(bot.data, "What happened to the hospital in 1742?")
    assert absent_terms(bot.data, "How many partners does Lakeside Surgery have?") == []
    assert absent_terms(bot.data, "I'd like to know what a gizmo is") == []


def test_the_absent_term_test_flags_a_near_miss_when_switched_on(bot):
    question = "How many partners does Brackenfold Surgery have?"
    with answer_settings(bot, absent_terms=True):
        assert not bot.ask(question).confident
