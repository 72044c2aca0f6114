"""Business operations: verbs that take a session and the acting user, enforce who may do
what and the lifecycles, flush but never commit. Callers commit once per request/command.
"""
