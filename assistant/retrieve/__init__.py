"""From a question to a reply: search the store, then pick the answer sentences."""
