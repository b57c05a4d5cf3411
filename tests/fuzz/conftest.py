"""Hypothesis profiles for the fuzz tests: ``quick`` in every suite run (about 10 s in all) and ``long``,
the fuzz campaign of docs/security.md: 120 000 examples, 17 min on one core of a busy 2-core machine
(--timeout 0 lifts the 120 s limit per test):

    HYPOTHESIS_PROFILE=long .venv/bin/pytest -q -n 0 --timeout 0 tests/fuzz
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "quick")
#: How many more examples each test tries in the long run than in the quick one.
LONG_FACTOR = 100

# No example database: a failure prints its input, and each finding is kept as an @example beside its test.
# The suite's run is the same examples every time (derandomize): a build must not turn red on an input
# drawn for the first time in a change that has nothing to do with it; finding new ones is the long run's job.
settings.register_profile("quick", deadline=None, database=None, print_blob=True, derandomize=True)
# A decode or parse slower than the deadline is a finding too (a hang), not a slow test to be excused.
settings.register_profile(
    "long", deadline=timedelta(seconds=10), database=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(PROFILE)


def examples(quick: int, long: int | None = None) -> settings:
    """``quick`` examples in the quick profile; ``long`` (``LONG_FACTOR`` times as many) in the long one."""
    return settings(max_examples=(long or quick * LONG_FACTOR) if PROFILE == "long" else quick)
