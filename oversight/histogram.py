"""Durations as buckets of a geometric histogram, and percentiles read from one.

Bucket `k` holds durations `d` (in hours) with `RATIO**(k-1) < d <= RATIO**k`; bucket 0 holds
everything up to one hour. A percentile is reported as the upper edge of the bucket its rank
falls in, so it is never below the true value and at most `RATIO` (25 %) above it (for
durations over an hour)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

RATIO = 1.25
LAST = 80  # about 6,500 years: no duration is longer


def bucket_of(duration: dt.timedelta) -> int:
    hours = duration.total_seconds() / 3600
    if hours <= 1:
        return 0
    k = math.ceil(math.log(hours) / math.log(RATIO) - 1e-9)
    return min(max(k, 0), LAST)


def upper_edge(bucket: int) -> float:
    """The longest duration in hours bucket `bucket` holds."""
    return RATIO**bucket


def percentile(counts: Iterable[tuple[int, int]], fraction: float) -> float | None:
    """The `fraction` percentile (0.5 for the median) in hours of a histogram given as
    (bucket, count) pairs: the upper edge of the bucket that holds the value of rank
    ceil(fraction * n) (the nearest-rank method). None for an empty histogram."""
    by_bucket: dict[int, int] = {}
    for bucket, count in counts:
        by_bucket[bucket] = by_bucket.get(bucket, 0) + count
    total = sum(by_bucket.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for bucket in sorted(by_bucket):
        seen += by_bucket[bucket]
        if seen >= rank:
            return upper_edge(bucket)
    return upper_edge(max(by_bucket))
