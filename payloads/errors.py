"""The root of msgbench's error hierarchy.

It lives here, in the innermost layer, so that payloads (which imports nothing of ours) and every
layer above it share one base class; ``formats.api`` re-exports it for plugins.
"""


class MsgbenchError(Exception):
    """Base of every error msgbench raises on purpose; ``str()`` is a complete, actionable line."""
