"""The sample of a user's file: uniform over the whole file, deterministic, within a count and a byte
budget (payloads.importer.Sampler), checked against an offline reference and over many seeds."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from payloads.importer import Sampler


def reference(sizes: list[int], max_records: int, max_bytes: int, seed: int) -> list[int]:
    """Offline: every record gets a key in file order; take records by increasing key while they fit."""
    rng = random.Random(seed)
    keys = [rng.random() for _ in sizes]
    order = sorted(range(len(sizes)), key=lambda i: keys[i])
    taken, total = [], 0
    for i in order:
        if taken and (len(taken) >= max_records or total + sizes[i] > max_bytes):
            break
        taken.append(i)
        total += sizes[i]
    return sorted(taken)


def streamed(sizes: list[int], max_records: int, max_bytes: int, seed: int) -> list[int]:
    s = Sampler(max_records, max_bytes, seed)
    for i, size in enumerate(sizes):
        s.offer(i + 1, i + 1, size, f"record {i}".encode())
    out = s.sample()
    assert [item for _, _, _, item in out] == [f"record {r - 1}".encode() for r, _, _, _ in out]
    return [r - 1 for r, _, _, _ in out]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 5000), min_size=1, max_size=300), st.integers(1, 50), st.integers(1, 60_000),
       st.integers(0, 2**32))
def test_streaming_sample_is_the_offline_smallest_keys_that_fit(sizes, max_records, max_bytes, seed):
    got = streamed(sizes, max_records, max_bytes, seed)
    assert got == reference(sizes, max_records, max_bytes, seed)
    assert 1 <= len(got) <= max_records
    assert len(got) == 1 or sum(sizes[i] for i in got) <= max_bytes  # one record is always kept
    assert got == streamed(sizes, max_records, max_bytes, seed)  # deterministic


@settings(max_examples=25, deadline=None)
@given(st.integers(40, 400), st.integers(2, 20), st.booleans())
def test_every_position_is_equally_likely(n, k, by_bytes):
    """Over 300 seeds, the share of the sample drawn from each fifth of the file is ~1/5: the count
    limit or (equal sizes) the byte budget picks records, never the file's start."""
    per_fifth = [0] * 5
    seeds = 300
    for seed in range(seeds):
        got = streamed([100] * n, 10**6 if by_bytes else k, 100 * k if by_bytes else 10**9, seed)
        assert len(got) == k
        for i in got:
            per_fifth[i * 5 // n] += 1
    in_fifth = [sum(1 for i in range(n) if i * 5 // n == f) for f in range(5)]
    expected = [seeds * k * m / n for m in in_fifth]
    for got_f, exp_f in zip(per_fifth, expected, strict=True):
        assert abs(got_f - exp_f) < 0.2 * exp_f + 30, (per_fifth, expected)


def test_sampler_holds_only_the_sample():
    s = Sampler(1000, 10_000)
    for i in range(5000):
        s.offer(i + 1, i + 1, 1000, b"x" * 1000)
        assert s.bytes <= 10_000 and len(s.sample()) <= 10
    assert len(s.sample()) == 10 and s.budget_dropped and s.seen == 5000
