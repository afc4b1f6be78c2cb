"""Breaks ``load``: importing this module fails, as when a plugin's own dependency is missing."""

import msgbench_plugin_broken_missing_dependency  # noqa: F401  (does not exist, on purpose)


class NeverLoadsCodec:
    name = "broken/import"
