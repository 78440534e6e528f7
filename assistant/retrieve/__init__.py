"""From a question to a reply in one pass: the query, its candidates (search.py, carrying their
evidence as candidates.py defines), a follow-up's reading (followup.py), then confidence and the
answer sentence (answer.py)."""
