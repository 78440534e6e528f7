"""`assistant eval`: retrieval and answer quality on a labelled question set.

A question counts as found at rank r when the r-th passage contains one of its expected
substrings (case-insensitive, whitespace and quote style folded, Markdown's inline markup left
out on both sides), and as answered when the answer sentence does.

Trust is measured beside retrieval: an off-topic question (`"answerable": false`) must be
flagged both alone and after an earlier question (a line with `history`); the questions it is
flagged on alone are the unrelated ones, and those must stay flagged after history. A near miss
is an off-topic question the cosine test alone would answer; the near-miss rate is how many of
them the absent-term test (answer.py) flags, and its cost is the answerable questions it alone
makes abstain. Both are measured whether or not that test is switched on.

A self-contained question must not follow an unrelated conversation: each answerable question
without history is asked again after the question(s) of other items whose expected source is a
different document, chosen by a fixed rule from the set itself (`unrelated_histories`), and
hit@1/3 there is reported beside hit@1 of the same questions alone.

A question labelled with the page(s) its answer is printed on (`"page"`: a number or a list,
1-based, as a PDF viewer counts) is page-correct when its first passage holding the answer comes
from its `source` and cites one of those pages: the citation a user would open is the right one.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..errors import AssistantError
from ..retrieve.answer import absent_terms

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


# Inline Markdown: expected answers are copied from the files as written, while a Markdown
# document's passages are its clean text; both sides drop link targets, backticks, emphasis marks
# and brackets so that either reading of a file can be scored against the same labels.
_LINK = re.compile(r"\[([^\]\n]*)\](?:\([^)\n]*\)|\[[^\]\n]*\])")
_MARKS = str.maketrans("", "", "`[]*")


def fold(text: str) -> str:
    text = _LINK.sub(r"\1", text.translate(_QUOTES)).translate(_MARKS)
    return " ".join(text.casefold().split())


@dataclass
class EvalReport:
    questions: int
    answerable: int
    followups: int
    offtopic: int
    hit_at_1: float
    hit_at_3: float
    hit_at_5: float
    mrr: float
    answer_accuracy: float
    followup_hit_at_3: float
    offtopic_flagged: float
    false_abstentions: float
    mean_seconds: float
    median_seconds: float
    p95_seconds: float
    max_seconds: float
    followup_hit_at_1: float = 0.0
    offtopic_after_history: int = 0  # off-topic questions asked after an earlier question
    offtopic_after_history_flagged: float = 0.0  # all of them
    unrelated_after_history_flagged: float = 0.0  # those also flagged when asked alone
    near_misses: int = 0  # off-topic questions alone that the cosine test would answer
    near_miss_flagged: float = 0.0  # share of those the absent-term test flags
    absent_term_abstentions: float = 0.0  # answerable questions that abstain only through that test
    after_unrelated: int = 0  # self-contained answerable questions also asked after unrelated history
    after_unrelated_alone_hit_at_1: float = 0.0  # those questions asked alone
    after_unrelated_hit_at_1: float = 0.0  # after one unrelated question
    after_unrelated_hit_at_3: float = 0.0
    after_two_unrelated_hit_at_1: float = 0.0  # after two unrelated questions
    after_two_unrelated_hit_at_3: float = 0.0
    after_unrelated_abstentions: float = 0.0  # not confident after one or two unrelated questions (of both askings)
    paged: int = 0  # answerable questions labelled with the page(s) their answer is printed on
    page_correct: float = 0.0  # share of those whose first passage holding the answer is that source and page

    def to_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}

    def table(self) -> str:
        rows = [
            ("questions (answerable / follow-up / off-topic / after history)",
             f"{self.questions} ({self.answerable} / {self.followups} / {self.offtopic} / {self.offtopic_after_history})"),
            ("hit@1", f"{self.hit_at_1:.3f}"), ("hit@3", f"{self.hit_at_3:.3f}"), ("hit@5", f"{self.hit_at_5:.3f}"),
            ("MRR", f"{self.mrr:.3f}"), ("answer sentence", f"{self.answer_accuracy:.3f}"),
            ("follow-up hit@1 / hit@3", f"{self.followup_hit_at_1:.3f} / {self.followup_hit_at_3:.3f}"),
            ("off-topic flagged", f"{self.offtopic_flagged:.3f}"),
            ("off-topic after history flagged: all / unrelated",
             f"{self.offtopic_after_history_flagged:.3f} / {self.unrelated_after_history_flagged:.3f}"),
            (f"near misses flagged ({self.near_misses})", f"{self.near_miss_flagged:.3f}"),
            ("false abstentions (absent-term test alone)",
             f"{self.false_abstentions:.3f} ({self.absent_term_abstentions:.3f})"),
            (f"after unrelated history ({self.after_unrelated}): hit@1 alone / after one / after two",
             f"{self.after_unrelated_alone_hit_at_1:.3f} / {self.after_unrelated_hit_at_1:.3f} / "
             f"{self.after_two_unrelated_hit_at_1:.3f}"),
            ("after unrelated history: hit@3 after one / after two",
             f"{self.after_unrelated_hit_at_3:.3f} / {self.after_two_unrelated_hit_at_3:.3f}"),
            ("after unrelated history: abstentions", f"{self.after_unrelated_abstentions:.3f}"),
            (f"page-correct ({self.paged} with a page)", f"{self.page_correct:.3f}"),
            ("seconds per question (mean / p95 / max)",
             f"{self.mean_seconds:.3f} / {self.p95_seconds:.3f} / {self.max_seconds:.3f}"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


def load_questions(path: Path, split: str | None = None) -> list[dict]:
    """Labelled questions from a JSON-lines file; a bad line is a one-line error naming it."""
    questions = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AssistantError(f"cannot read questions file {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise AssistantError(f"{path}:{number}: each line needs a \"question\" string")
        if item.get("answerable", True) and not item.get("answers"):
            raise AssistantError(f"{path}:{number}: an answerable question needs \"answers\"")
        if split is None or item.get("split") == split:
            questions.append(item)
    if not questions:
        raise AssistantError(f"no questions in {path}" + (f" for split {split!r}" if split else ""))
    return questions


def expected_pages(item: dict) -> list[int]:
    """The pages a labelled question's answer is printed on ([] when the line names none)."""
    page = item.get("page")
    return [] if page is None else [page] if isinstance(page, int) else list(page)


def page_correct(passage, item: dict) -> bool:
    """Whether a passage holding the answer is from the question's source and cites one of its pages."""
    return (passage is not None and passage.source == item.get("source")
            and passage.page in expected_pages(item))


def evaluate(bot, questions: list[dict], k: int = 5, details: list | None = None, repeat: int = 1) -> EvalReport:
    """Ask every question through the public API and score the replies.

    With `repeat` > 1 each question is asked that many times and its fastest time kept, so a
    shared machine's scheduling noise does not pass for a slow question.
    """
    hits = {1: 0, 3: 0, 5: 0}
    rr = answered = followup_hits = followup_top = flagged = abstained = 0.0
    answerable = followups = offtopic = 0
    times: list[float] = []
    alone: dict[str, bool] = {}  # off-topic question -> flagged when asked alone
    after: list[tuple[str, bool]] = []  # (off-topic question, flagged after history)
    near = near_flagged = absent_only = 0
    alone_rank: dict[int, int | None] = {}  # self-contained answerable question -> its rank alone
    paged = on_page = 0
    for item in questions:
        fastest = float("inf")
        for _ in range(max(1, repeat)):
            started = time.perf_counter()
            reply = bot.ask(item["question"], history=item.get("history"), k=max(k, 5))
            fastest = min(fastest, time.perf_counter() - started)
        times.append(fastest)
        if not item.get("answerable", True):
            if item.get("history"):
                after.append((item["question"], not reply.confident))
            else:
                offtopic += 1
                flagged += not reply.confident
                alone[item["question"]] = not reply.confident
                if _confident_without_absent_terms(bot, item, reply):
                    near += 1
                    near_flagged += bool(absent_terms(bot.data, item["question"]))
            if details is not None:
                details.append({"id": item.get("id"), "offtopic": True, "confident": reply.confident})
            continue
        answerable += 1
        expected = [fold(a) for a in item["answers"]]
        found = next((p for p in reply.passages if any(e in fold(p.text) for e in expected)), None)
        rank = found.rank if found else None
        if expected_pages(item):
            paged += 1
            on_page += page_correct(found, item)
        for cut in hits:
            hits[cut] += rank is not None and rank <= cut
        rr += 1.0 / rank if rank else 0.0
        good_answer = any(e in fold(reply.answer) for e in expected)
        answered += good_answer
        abstained += not reply.confident
        absent_only += (bool(absent_terms(bot.data, item["question"]))
                        and _confident_without_absent_terms(bot, item, reply))
        if item.get("history"):
            followups += 1
            followup_hits += rank is not None and rank <= 3
            followup_top += rank == 1
        if details is not None:
            details.append({"id": item.get("id"), "rank": rank, "answer_ok": good_answer,
                            "confident": reply.confident, "category": item.get("category"),
                            "source": found.source if found else None, "page": found.page if found else None,
                            "page_ok": page_correct(found, item) if expected_pages(item) else None})
        if not item.get("history"):
            alone_rank[id(item)] = rank
    unrelated = [was_flagged for question, was_flagged in after if alone.get(question)]
    paired = _after_unrelated(bot, questions, alone_rank, k)
    ordered = sorted(times)
    n = max(answerable, 1)
    return EvalReport(
        questions=len(questions), answerable=answerable, followups=followups, offtopic=offtopic,
        hit_at_1=hits[1] / n, hit_at_3=hits[3] / n, hit_at_5=hits[5] / n, mrr=rr / n,
        answer_accuracy=answered / n,
        followup_hit_at_3=followup_hits / followups if followups else 0.0,
        offtopic_flagged=flagged / offtopic if offtopic else 0.0,
        false_abstentions=abstained / n,
        followup_hit_at_1=followup_top / followups if followups else 0.0,
        offtopic_after_history=len(after),
        offtopic_after_history_flagged=sum(f for _, f in after) / len(after) if after else 0.0,
        unrelated_after_history_flagged=sum(unrelated) / len(unrelated) if unrelated else 0.0,
        near_misses=near, near_miss_flagged=near_flagged / near if near else 0.0,
        absent_term_abstentions=absent_only / n,
        paged=paged, page_correct=on_page / paged if paged else 0.0,
        **paired,
        mean_seconds=statistics.fmean(times), median_seconds=statistics.median(times),
        p95_seconds=ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], max_seconds=ordered[-1],
    )


def unrelated_histories(questions: list[dict]) -> list[tuple[dict, list[str], list[str]]]:
    """Each self-contained answerable question with one and two unrelated earlier questions.

    The rule reads no question: the earlier ones are the next self-contained answerable items
    in file order (wrapping round) whose expected source is another document; the latest is
    the same in both histories. Items without a "source" take no part.
    """
    plain = [q for q in questions if q.get("answerable", True) and not q.get("history") and q.get("source")]
    found = []
    for i, item in enumerate(plain):
        others = [other["question"] for other in plain[i + 1:] + plain[:i] if other["source"] != item["source"]]
        if len(others) >= 2:
            found.append((item, [others[0]], [others[1], others[0]]))
    return found


def _after_unrelated(bot, questions: list[dict], alone_rank: dict[int, int | None], k: int) -> dict[str, float]:
    """hit@1/3 of self-contained questions asked after unrelated history, and the same questions alone."""
    pairs = unrelated_histories(questions)
    if not pairs:
        return {}
    top = {1: 0, 3: 0}
    two_top = {1: 0, 3: 0}
    alone_top = abstained = 0
    for item, one, two in pairs:
        expected = [fold(a) for a in item["answers"]]
        rank = alone_rank.get(id(item))
        alone_top += rank == 1
        for history, counts in ((one, top), (two, two_top)):
            reply = bot.ask(item["question"], history=history, k=max(k, 5))
            rank = next((p.rank for p in reply.passages if any(e in fold(p.text) for e in expected)), None)
            for cut in counts:
                counts[cut] += rank is not None and rank <= cut
            abstained += not reply.confident
    n = len(pairs)
    return {"after_unrelated": n, "after_unrelated_alone_hit_at_1": alone_top / n,
            "after_unrelated_hit_at_1": top[1] / n, "after_unrelated_hit_at_3": top[3] / n,
            "after_two_unrelated_hit_at_1": two_top[1] / n, "after_two_unrelated_hit_at_3": two_top[3] / n,
            "after_unrelated_abstentions": abstained / (2 * n)}


def _confident_without_absent_terms(bot, item: dict, reply) -> bool:
    """Whether the reply is (or would be, with the absent-term test switched off) confident."""
    settings = bot.answer_settings
    if reply.confident or not settings.absent_terms or not absent_terms(bot.data, item["question"]):
        return reply.confident
    bot.answer_settings = replace(settings, absent_terms=False)
    try:
        return bot.ask(item["question"], history=item.get("history")).confident
    finally:
        bot.answer_settings = settings
