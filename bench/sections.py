"""Extra measurements that add a section to results.json (evolution, fault probe, ...).

Each entry: section name -> ("module:function", on by default). The function takes a
``bench.runner.SectionContext`` and returns the section's data (a JSON-able dict); an exception is
recorded as the section's error and never stops the run. The report renders known sections by name.
"""

SECTION_PRODUCERS: dict[str, tuple[str, bool]] = {
    "faults": ("bench.faults:produce", True),
    "evolution": ("bench.evolution:produce", True),
    "calibration": ("bench.calibrate:produce", True),
    "batches": ("bench.batches:produce", True),
    "scaling": ("bench.scaling:produce", True),
    "memory": ("bench.memory:produce", True),
    # opt-in (`--sections transport` or `msgbench transport`): real servers and a broker, ~1-3 min
    "transport": ("bench.transport.section:produce", False),
}
