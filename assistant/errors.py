"""User-facing errors: every layer turns these into one clear line, never a traceback."""


class AssistantError(Exception):
    """A problem the user can fix (bad input, missing or stale index); str() is the message."""


class IndexMissingError(AssistantError):
    """No usable index at the given folder."""


class IndexCorruptError(AssistantError):
    """An index file fails its checksum or cannot be parsed."""


class IndexMismatchError(AssistantError):
    """The index was built with another model or format version."""


class IndexLockedError(AssistantError):
    """Another process is writing the same index folder."""


class StoreUnavailableError(AssistantError):
    """The index's server (Milvus) cannot be reached, or its client library is not installed."""
