"""Differentially private counts (optional, per release): OpenDP's discrete Laplace mechanism.

The unit of privacy is one citizen: their applications and cases of the month, bounded so that
one citizen moves the counts of a release by at most `SENSITIVITY` in total (L1):

- at most `MAX_SERVICE_REQUESTS` (application, service) pairs in the applications table;
- at most `MAX_DECISIONS` decided cases, each counted once in each of the three decision tables.

A citizen's contributions beyond the bounds are left out of a DP release (their first ones, by
id, are kept). Noise of scale `SENSITIVITY / epsilon` is added to every cell of every table at
once (one OpenDP measurement over the vector of all cells, whose privacy map is checked to
give at most epsilon); negative results become 0, and totals are sums of the noisy cells
(post-processing, which spends no budget). Suppression then runs on the noisy tables.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

MAX_SERVICE_REQUESTS = 4
MAX_DECISIONS = 4
SENSITIVITY = MAX_SERVICE_REQUESTS + 3 * MAX_DECISIONS
MECHANISM = "discrete Laplace (OpenDP make_laplace on integer counts)"


def scale_for(epsilon: Decimal) -> float:
    """The noise scale that spends exactly `epsilon` for a change of `SENSITIVITY`."""
    return SENSITIVITY / float(epsilon)


def measurement(size: int, epsilon: Decimal) -> Any:
    """The OpenDP measurement adding noise to a vector of `size` integer counts; refuses
    (ValueError) when its privacy map would spend more than epsilon."""
    import opendp.prelude as dp  # a heavy import, only for the releases that use it

    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=int), size=size), dp.l1_distance(T=int)
    mech = dp.m.make_laplace(*space, scale=scale_for(epsilon))
    spent = mech.map(SENSITIVITY)
    if spent > float(epsilon) * (1 + 1e-9):
        raise ValueError(f"the mechanism spends {spent}, more than epsilon {epsilon}")
    return mech


def noisy(counts: list[int], epsilon: Decimal) -> list[int]:
    """The counts with noise, never negative."""
    if not counts:
        return []
    return [max(0, int(v)) for v in measurement(len(counts), epsilon)(list(counts))]
