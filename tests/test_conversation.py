"""A conversation: the history finds a follow-up's passage but never pulls a self-contained question away."""

from __future__ import annotations

import dataclasses

import pytest

from assistant import Assistant
from assistant.ingest.indexer import build_index
from assistant.retrieve.followup import choose
from assistant.retrieve.search import find, make_query, search

HANDBOOK = """# Staff handbook

## Annual leave

Everyone starts with 25 days of annual leave a year, plus public holidays. Ask your manager at
least two weeks before the first day you want off. Up to five unused days carry over to the next
year.

## Training and development

We want everyone to keep growing in their role. Your manager talks with you about it at your
yearly review, and new starters get a mentor for their first six months. Each member of staff
has a learning budget of 800 pounds a year for courses, books and conferences, agreed with your
manager before you book. Internal workshops are free and are announced on the staff notice board.

## Expenses

Travel for work is paid back at cost. Keep the receipts and claim within one month of the trip.

## Working hours

The office is open from eight in the morning until six in the evening. Core hours are ten to
four; outside them you may start and finish when it suits you.
"""

GUIDE = """# Walking guide to the Gorsedown hills

## Gorsedown Loop

The Gorsedown Loop starts at the car park beside the village green in Lower Gorsedown, which is
free, so the loop suits walkers on a budget and anyone still learning to read a map. The loop is
11 kilometres long and climbs past the old quarry to the beacon. Most walkers take about four
hours to go round it, with a stop at the beacon.

## Harrow Ridge

The Harrow Ridge path starts at the church in Upper Harrow and follows the ridge north for six
kilometres. It is steep in places and muddy after rain.

## Safety on the hills

Carry water and a map, wear boots with a good grip, and tell someone where you are going.
The weather on the tops changes quickly, even in summer.
"""

WALKS = ["Where does the Gorsedown Loop start?", "How far is it to the beacon on the Gorsedown Loop?"]


@pytest.fixture(scope="module")
def chat_bot(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("conversation")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "staff-handbook.md").write_text(HANDBOOK, encoding="utf-8")
    (corpus / "walking-guide.md").write_text(GUIDE, encoding="utf-8")
    build_index(corpus, root / "index", embedder=embedder)
    return Assistant.open(root / "index", embedder=embedder)


@pytest.mark.parametrize("history", [WALKS[:1], WALKS], ids=["one earlier question", "two earlier questions"])
def test_a_self_contained_question_is_not_pulled_to_the_earlier_topic(chat_bot, history):
    """Issue 11: "What is the learning budget?" after questions about a walking guide answered from the guide."""
    question = "What is the learning budget?"
    alone = chat_bot.ask(question)
    assert alone.passages[0].source == "staff-handbook.md" and "800 pounds" in alone.answer
    reply = chat_bot.ask(question, history=history)
    assert reply.passages[0].source == "staff-handbook.md"
    assert reply.confident and "800 pounds" in reply.answer
    # The search with the history blended in alone (never choosing the question's own results)
    # follows the conversation: the guide's passage, which only mentions a budget in passing.
    original = chat_bot.search_settings
    chat_bot.search_settings = dataclasses.replace(original, own_share=0.0, own_share_referring=0.0)
    try:
        assert chat_bot.ask(question, history=history).passages[0].source == "walking-guide.md"
    finally:
        chat_bot.search_settings = original


def test_a_follow_up_with_a_pronoun_still_follows_the_conversation(chat_bot):
    """Alone, "How long is it?" has nothing to go on; after a question about the loop it is the loop's length."""
    assert not chat_bot.ask("How long is it?").confident
    reply = chat_bot.ask("How long is it?", history=WALKS[:1])
    assert reply.passages[0].source == "walking-guide.md"
    assert reply.confident and "11 kilometres long" in reply.answer


def test_a_question_without_history_is_searched_once_as_before(chat_bot):
    settings = chat_bot.search_settings
    query = make_query("What is the learning budget?", [], chat_bot.embedder, settings)
    found = find(chat_bot.data, query, 5, settings)
    assert choose(found, settings, chat_bot.answer_settings) is found and query.alone is None and found.alone is None
    assert found.candidates == search(chat_bot.data, query, 5, settings)


def test_one_pass_judges_confidence_once_and_searches_each_reading_once(chat_bot, monkeypatch):
    """A follow-up is searched with and without its conversation, once each, and judged once:
    answering works from the candidates and never calls back into search (issue 22)."""
    import assistant.api as api
    from assistant.retrieve import search as search_module

    calls = {"search": 0, "is_confident": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(search_module, "search", counted("search", search_module.search))
    monkeypatch.setattr(api, "is_confident", counted("is_confident", api.is_confident))
    reply = chat_bot.ask("What is the learning budget?", history=WALKS)
    assert calls == {"search": 2, "is_confident": 1} and reply.confident
