"""The harness: cases, correctness gate, timing, sizes, evolution, fault probes, results, CLI."""
