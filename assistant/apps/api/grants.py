"""What a signed-in user may see and change: keywords for Assistant calls, checks for uploads and removals.

One place for the rule, so the page (web/app.py) and the REST API (routes.py) cannot differ:
a user reads, adds to and removes from the collections granted; an admin, or everyone when
sign-in is off, has them all.
"""

from __future__ import annotations

from typing import Any

from ...index.access import SHARED, collection_of
from .accounts import User


def view_of(user: User | None) -> dict[str, Any]:
    """Keywords that limit an Assistant call to what `user` may read (empty: everything)."""
    if user is None or user.collections is None:
        return {}
    return {"collections": user.collections}  # filtered inside the stores (assistant/index/access.py)


def may_change(user: User | None, source: str) -> bool:
    """Whether `user` may remove this document (or add to its collection)."""
    return user is None or user.may_use(collection_of(source))


def home_collection(user: User | None) -> str | None:
    """Where the page's Add documents puts a user's files: `shared` if granted, else their first
    collection; None when they hold none."""
    if user is None or user.collections is None or SHARED in user.collections:
        return SHARED
    return user.collections[0] if user.collections else None


def source_in(collection: str, name: str) -> str:
    """The source name of a file saved as `name` in a collection's folder."""
    return name if collection == SHARED else f"{collection}/{name}"
