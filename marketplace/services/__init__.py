"""Business operations: verbs that take a session and the acting user, enforce who may do
what and the lifecycles, flush but never commit. Callers commit once per request/command.
"""

# Registers the outbox hook, so every change made through any service reaches the search index.
from marketplace.search import outbox as _outbox  # noqa: F401
