"""Picking the answer sentence and judging confidence: answer types, pronouns, diluted passages."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest

from assistant import Assistant
from assistant.indexer import build_index
from assistant.qtype import DATE, NAME, NUMBER, answer_type, holds_type


@pytest.mark.parametrize("question, kind", [
    ("How many beds does the hospital have?", NUMBER),
    ("Roughly how much did it cost?", NUMBER),
    ("What percentage of staff left?", NUMBER),
    ("When did the trust open?", DATE),
    ("In which year was it founded?", DATE),
    ("Which year was it founded?", DATE),
    ("By when must the plan be finished?", DATE),
    ("Who chairs the board?", NAME),
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
    build_index(corpus, root / "index", embedder=embedder)
    return Assistant.open(root / "index", embedder=embedder)


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
