"""Answer quality floors on the held-out half of the labelled set, and the eval command itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main as cli_main
from assistant.evaluate import evaluate, load_questions

EVAL = Path(__file__).resolve().parent.parent / "eval" / "questions.jsonl"


@pytest.fixture(scope="module")
def test_split_report(bot):
    return evaluate(bot, load_questions(EVAL, "test"))


def test_quality_floors_on_test_split(test_split_report):
    r = test_split_report
    # Floors sit a little under the figures measured on 2026-11-23 (README), so a real regression fails.
    assert r.hit_at_1 >= 0.80
    assert r.hit_at_5 >= 0.90
    assert r.mrr >= 0.85
    assert r.answer_accuracy >= 0.70
    assert r.followup_hit_at_3 >= 0.9
    assert r.false_abstentions <= 0.05
    assert r.offtopic_flagged >= 0.4


# Other corpora with question sets written blind (eval/README.md): they guard against fitting the
# seeds. Floors sit a little under the figures of 2026-11-23; off-topic counts only the unrelated
# questions, as near misses are not caught (README).
HELD_OUT = {
    "licenses": dict(hit_at_1=0.6, hit_at_5=0.85, mrr=0.7, answer_accuracy=0.52, followup_hit_at_3=0.8,
                     offtopic_flagged=0.5),
    "nodejs-docs": dict(hit_at_1=0.75, hit_at_5=0.9, mrr=0.82, answer_accuracy=0.42, followup_hit_at_3=0.8,
                        offtopic_flagged=0.5),
}


@pytest.mark.parametrize("name", sorted(HELD_OUT))
def test_quality_floors_on_held_out_corpora(name, tmp_path_factory, embedder):
    from assistant import Assistant
    from assistant.indexer import build_index

    index_dir = tmp_path_factory.mktemp(name) / "index"
    build_index(EVAL.parent / name, index_dir, embedder=embedder)
    report = evaluate(Assistant.open(index_dir, embedder=embedder), load_questions(EVAL.parent / f"{name}.jsonl"))
    for metric, floor in HELD_OUT[name].items():
        assert getattr(report, metric) >= floor, (metric, getattr(report, metric))
    assert report.false_abstentions <= 0.05


def test_hybrid_beats_each_half(bot):
    from assistant.search import SearchSettings

    questions = load_questions(EVAL, "test")
    hybrid = evaluate(bot, questions).mrr
    original = bot.search_settings
    try:
        bot.search_settings = SearchSettings(mode="dense")
        dense = evaluate(bot, questions).mrr
        bot.search_settings = SearchSettings(mode="keyword")
        keyword = evaluate(bot, questions).mrr
    finally:
        bot.search_settings = original
    assert hybrid > dense and hybrid > keyword


def test_eval_command_json(seed_index_dir, tmp_path, capsys):
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in [
        {"question": "How many partners does Lakeside Surgery have?", "answers": ["62 partners"]},
        {"question": "How long is their contract?", "answers": ["eight-year"],
         "history": ["Which company is building the shared care record in Cambridgeshire and Peterborough?"]},
        {"question": "Who wrote Pride and Prejudice?", "answerable": False},
    ]))
    assert cli_main(["eval", str(questions), "--index", str(seed_index_dir), "--json", "--repeat", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 3 and report["offtopic"] == 1 and report["followups"] == 1
    assert report["hit_at_1"] == 1.0 and report["offtopic_flagged"] == 1.0
    for key in ("hit_at_3", "hit_at_5", "mrr", "answer_accuracy", "followup_hit_at_3", "false_abstentions",
                "mean_seconds", "p95_seconds"):
        assert key in report


def test_eval_command_rejects_a_bad_line(seed_index_dir, tmp_path, capsys):
    questions = tmp_path / "bad.jsonl"
    questions.write_text('{"question": "ok?", "answers": ["x"]}\nnot json\n')
    assert cli_main(["eval", str(questions), "--index", str(seed_index_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.jsonl:2: not valid JSON" in err


def test_eval_repeat_is_bounded(seed_index_dir, tmp_path, capsys):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "How many partners does Lakeside Surgery have?", "answers": ["62 partners"]}\n')
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["eval", str(questions), "--index", str(seed_index_dir), "--repeat", "0"])
    assert exit_info.value.code == 2 and "--repeat" in capsys.readouterr().err
