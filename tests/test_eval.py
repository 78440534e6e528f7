"""Answer quality floors on the held-out half of the labelled set, and the eval command itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.apps.cli import main as cli_main
from assistant.tools.evaluate import evaluate, load_questions, unrelated_histories

EVAL = Path(__file__).resolve().parent.parent / "eval" / "questions.jsonl"


@pytest.fixture(scope="module")
def remembering(embedder):
    """The real model, asked once per distinct text in this module: evaluate asks each question
    alone, after one and after two unrelated ones, and test_hybrid_beats_each_half in three modes."""
    from helpers import RememberingEncoder

    return RememberingEncoder(embedder)


@pytest.fixture(scope="module")
def seed_bot(seed_index_dir, remembering):
    from assistant import Assistant

    return Assistant.open(seed_index_dir, embedder=remembering, warm=False)


@pytest.fixture(scope="module")
def test_split_report(seed_bot):
    return evaluate(seed_bot, load_questions(EVAL, "test"))


def test_quality_floors_on_test_split(test_split_report):
    r = test_split_report
    # Floors sit a little under the figures measured on 2026-11-23 (README), so a real regression fails.
    assert r.hit_at_1 >= 0.80
    assert r.hit_at_5 >= 0.90
    assert r.mrr >= 0.85
    assert r.answer_accuracy >= 0.70
    assert r.followup_hit_at_3 >= 0.9
    assert r.followup_hit_at_1 >= 0.9
    assert r.false_abstentions <= 0.03
    assert r.offtopic_flagged >= 0.4
    # An earlier question never makes an unrelated one confident (issue 11: 9 of 18 were before).
    assert r.offtopic_after_history == 9 and r.unrelated_after_history_flagged >= 0.95
    assert r.offtopic_after_history_flagged >= 0.4
    # A self-contained question keeps its own passage after unrelated earlier questions (measured
    # 2026-11-25: 41 questions, 0.829 alone, 0.805 / 0.927 hit@1 / hit@3 after one or two).
    assert r.after_unrelated == 41
    assert r.after_unrelated_hit_at_1 >= 0.78 and r.after_two_unrelated_hit_at_1 >= 0.78
    assert r.after_unrelated_hit_at_3 >= 0.9 and r.after_two_unrelated_hit_at_3 >= 0.9
    assert r.after_unrelated_abstentions <= 0.03


# Other corpora (eval/README.md): licences and Node.js docs were written blind and guard against
# fitting the seeds; nodejs-dev, poetry-docs and pkg-docs are technical dev sets. Floors sit a little under
# the figures of 2026-11-25 (README); off-topic counts only the unrelated questions, as near misses
# are not caught by the cosine test. The near-miss rate is what the absent-term test (off by
# default) would flag, and its cost the answerable questions it alone would make abstain.
OTHER_SETS = {
    "licenses": dict(hit_at_1=0.68, hit_at_5=0.88, mrr=0.76, answer_accuracy=0.6, followup_hit_at_1=0.6,
                     followup_hit_at_3=0.95, offtopic_flagged=0.5, near_miss_flagged=0.0),
    # Lowered on 2026-11-25 when Markdown began to be read by its parser (clean text, issue 10):
    # hit@1 0.800 -> 0.725 and answer 0.475 -> 0.425 on this blind set, equal on the dev sets.
    "nodejs-docs": dict(hit_at_1=0.7, hit_at_5=0.95, mrr=0.8, answer_accuracy=0.4, followup_hit_at_1=0.8,
                        followup_hit_at_3=0.95, offtopic_flagged=0.5, near_miss_flagged=0.6),
    "nodejs-dev": dict(hit_at_1=0.77, hit_at_5=0.95, mrr=0.84, answer_accuracy=0.72, followup_hit_at_1=0.5,
                       followup_hit_at_3=0.95, offtopic_flagged=0.5, near_miss_flagged=0.5),
    "poetry-docs": dict(hit_at_1=0.77, hit_at_5=0.95, mrr=0.85, answer_accuracy=0.58, followup_hit_at_1=0.6,
                        followup_hit_at_3=0.95, offtopic_flagged=0.5, near_miss_flagged=0.6),
    "pkg-docs": dict(hit_at_1=0.66, hit_at_5=0.9, mrr=0.75, answer_accuracy=0.5, followup_hit_at_1=0.75,
                     followup_hit_at_3=0.75, offtopic_flagged=0.5, near_miss_flagged=0.0),
}
# Hit@1 / hit@3 of self-contained questions after one and after two unrelated earlier questions
# (eval/README.md), floors a little under the figures of 2026-11-25.
AFTER_UNRELATED = {
    "licenses": dict(after_unrelated_hit_at_1=0.69, after_unrelated_hit_at_3=0.8,
                     after_two_unrelated_hit_at_1=0.66, after_two_unrelated_hit_at_3=0.8),
    "nodejs-docs": dict(after_unrelated_hit_at_1=0.65, after_unrelated_hit_at_3=0.88,
                        after_two_unrelated_hit_at_1=0.68, after_two_unrelated_hit_at_3=0.88),
    "nodejs-dev": dict(after_unrelated_hit_at_1=0.81, after_unrelated_hit_at_3=0.9,
                       after_two_unrelated_hit_at_1=0.81, after_two_unrelated_hit_at_3=0.9),
    "poetry-docs": dict(after_unrelated_hit_at_1=0.77, after_unrelated_hit_at_3=0.93,
                        after_two_unrelated_hit_at_1=0.77, after_two_unrelated_hit_at_3=0.89),
    "pkg-docs": dict(after_unrelated_hit_at_1=0.67, after_unrelated_hit_at_3=0.8,
                     after_two_unrelated_hit_at_1=0.67, after_two_unrelated_hit_at_3=0.8),
}
ABSENT_TERM_COST = {"licenses": 0.25, "nodejs-docs": 0.05, "nodejs-dev": 0.03, "poetry-docs": 0.03, "pkg-docs": 0.03}


@pytest.mark.parametrize("name", sorted(OTHER_SETS))
def test_quality_floors_on_other_corpora(name, tmp_path_factory, remembering):
    from assistant import Assistant
    from assistant.ingest.indexer import build_index

    index_dir = tmp_path_factory.mktemp(name) / "index"
    build_index(EVAL.parent / name, index_dir, embedder=remembering)
    report = evaluate(Assistant.open(index_dir, embedder=remembering, warm=False),
                      load_questions(EVAL.parent / f"{name}.jsonl"))
    for metric, floor in {**OTHER_SETS[name], **AFTER_UNRELATED[name]}.items():
        assert getattr(report, metric) >= floor, (metric, getattr(report, metric))
    assert report.after_unrelated > 0 and report.after_unrelated_abstentions <= 0.03
    assert report.false_abstentions <= 0.03
    assert report.offtopic_after_history > 0 and report.unrelated_after_history_flagged >= 0.95
    assert report.absent_term_abstentions <= ABSENT_TERM_COST[name]


def test_hybrid_beats_each_half(seed_bot, test_split_report):
    from assistant.retrieve.search import SearchSettings

    questions = load_questions(EVAL, "test")
    hybrid = test_split_report.mrr  # the same questions, asked in hybrid mode (the default) by the same bot
    original = seed_bot.search_settings
    try:
        seed_bot.search_settings = SearchSettings(mode="dense")
        dense = evaluate(seed_bot, questions).mrr
        seed_bot.search_settings = SearchSettings(mode="keyword")
        keyword = evaluate(seed_bot, questions).mrr
    finally:
        seed_bot.search_settings = original
    assert hybrid > dense and hybrid > keyword


def test_eval_command_json(seed_index_dir, tmp_path, capsys):
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in [
        {"question": "How many partners does Lakeside Surgery have?", "answers": ["62 partners"]},
        {"question": "How long is their contract?", "answers": ["eight-year"],
         "history": ["Which company is building the shared care record in Cambridgeshire and Peterborough?"]},
        {"question": "Who wrote Pride and Prejudice?", "answerable": False},
        {"question": "Who wrote Pride and Prejudice?", "answerable": False,
         "history": ["How many partners does Lakeside Surgery have?"]},
    ]))
    assert cli_main(["eval", str(questions), "--index", str(seed_index_dir), "--json", "--repeat", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 4 and report["offtopic"] == 1 and report["followups"] == 1
    assert report["hit_at_1"] == 1.0 and report["offtopic_flagged"] == 1.0
    assert report["offtopic_after_history"] == 1 and report["unrelated_after_history_flagged"] == 1.0
    for key in ("hit_at_3", "hit_at_5", "mrr", "answer_accuracy", "followup_hit_at_3", "false_abstentions",
                "mean_seconds", "p95_seconds", "followup_hit_at_1", "offtopic_after_history",
                "unrelated_after_history_flagged", "near_misses", "near_miss_flagged", "absent_term_abstentions",
                "after_unrelated", "after_unrelated_alone_hit_at_1", "after_unrelated_hit_at_1",
                "after_unrelated_hit_at_3", "after_two_unrelated_hit_at_1", "after_two_unrelated_hit_at_3",
                "after_unrelated_abstentions"):
        assert key in report


def test_unrelated_histories_by_a_fixed_rule():
    """The next self-contained answerable items of another document, in file order, wrapping round."""
    items = [{"question": "a1", "answers": ["x"], "source": "a"}, {"question": "a2", "answers": ["x"], "source": "a"},
             {"question": "f", "answers": ["x"], "source": "b", "history": ["a1"]},
             {"question": "off", "answerable": False},
             {"question": "b1", "answers": ["x"], "source": "b"}, {"question": "c1", "answers": ["x"], "source": "c"}]
    found = {item["question"]: (one, two) for item, one, two in unrelated_histories(items)}
    assert found == {"a1": (["b1"], ["c1", "b1"]), "a2": (["b1"], ["c1", "b1"]),
                     "b1": (["c1"], ["a1", "c1"]), "c1": (["a1"], ["a2", "a1"])}


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
