"""Small-cell suppression with complementary suppression, for two-way tables with margins.

A table is counts `cells[r][c]` with its row totals, column totals and grand total. We look at
it as one "extended" (rows + 1) x (columns + 1) grid whose last row holds the column totals and
whose last column the row totals: every line of that grid is an equation an attacker knows
("the cells of this row add up to its total").

A suppressed position is recoverable from the published figures, by any combination of
those equations, exactly when it is a *bridge* of the bipartite graph whose nodes are the
grid's rows and columns and whose edges are the suppressed positions: the unknowns can move
(+t, -t, +t, … around a cycle, keeping every line's sum) only along cycles. So the rule is:

1. primary suppression: every position (cell or total) with 0 < count < k, and those the
   caller forces (`opendata.tables` forces any figure fewer than k distinct citizens stand
   behind, since one citizen may contribute many counts);
2. complementary suppression: while some suppressed position is a bridge, suppress the three
   other corners of the cheapest rectangle through it, which puts it on a 4-cycle. Cheapest
   means the smallest counts lost, never a zero (a zero cannot move down, so it gives no
   cover), cells before totals.

Zero is published: "nobody" is what most cells of a sparse table say, and suppressing every
zero would hide the table. Pure: no database; `tests/opendata` attacks the result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Position = tuple[int, int]

_ZERO_COST = 10**9  # a zero gives no cover: only as a last resort
_TOTAL_COST = 1.5  # a total hides more than a cell of the same count


@dataclass(frozen=True)
class Grid:
    """A table with its margins as one grid; `values[r][c]` for r <= rows, c <= columns."""

    values: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, cells: Sequence[Sequence[int]], columns: int) -> Grid:
        rows = [[*row, sum(row)] for row in cells]
        totals = [sum(row[c] for row in cells) for c in range(columns)]
        rows.append([*totals, sum(totals)])
        return cls(tuple(tuple(row) for row in rows))

    @property
    def height(self) -> int:
        return len(self.values)

    @property
    def width(self) -> int:
        return len(self.values[0])

    def is_total(self, position: Position) -> bool:
        r, c = position
        return r == self.height - 1 or c == self.width - 1


def primary(grid: Grid, k: int, *, forced: Iterable[Position] = ()) -> set[Position]:
    """The positions below the threshold (and those `forced` by a linked table)."""
    found = {
        (r, c) for r in range(grid.height) for c in range(grid.width) if 0 < grid.values[r][c] < k
    }
    return found | set(forced)


def bridges(suppressed: set[Position]) -> list[Position]:
    """The suppressed positions an attacker recovers exactly: the bridges of the graph."""
    found = []
    for edge in sorted(suppressed):
        rest = suppressed - {edge}
        if not _connected(rest, ("r", edge[0]), ("c", edge[1])):
            found.append(edge)
    return found


def _connected(edges: set[Position], start: tuple[str, int], goal: tuple[str, int]) -> bool:
    seen, todo = {start}, [start]
    while todo:
        side, index = todo.pop()
        if (side, index) == goal:
            return True
        if side == "r":
            nexts = [("c", c) for r, c in edges if r == index]
        else:
            nexts = [("r", r) for r, c in edges if c == index]
        for node in nexts:
            if node not in seen:
                seen.add(node)
                todo.append(node)
    return False


def _cost(grid: Grid, position: Position, suppressed: set[Position]) -> float:
    if position in suppressed:
        return 0
    value = grid.values[position[0]][position[1]]
    if value == 0:
        return _ZERO_COST
    return value * (_TOTAL_COST if grid.is_total(position) else 1)


def suppress(grid: Grid, k: int, *, forced: Iterable[Position] = ()) -> set[Position]:
    """The positions to withhold so that none below `k` can be recovered from the rest."""
    suppressed = primary(grid, k, forced=forced)
    while True:
        exposed = bridges(suppressed)
        if not exposed:
            return suppressed
        r, c = exposed[0]
        best: tuple[float, Position, Position, Position] | None = None
        for r2 in range(grid.height):
            if r2 == r:
                continue
            for c2 in range(grid.width):
                if c2 == c:
                    continue
                corners = ((r, c2), (r2, c), (r2, c2))
                cost = sum(_cost(grid, p, suppressed) for p in corners)
                if best is None or cost < best[0]:
                    best = (cost, *corners)
        if best is None:
            # A grid of one line cannot hide anything: withhold it all.
            return {(r2, c2) for r2 in range(grid.height) for c2 in range(grid.width)}
        suppressed |= set(best[1:])


def suppress_linked(
    grids: Sequence[Grid], k: int, *, forced: Sequence[Iterable[Position]] | None = None
) -> list[set[Position]]:
    """Suppress tables that share their row totals and grand total (the same population cut
    by different columns): a total withheld in one is withheld in all, else another table
    would publish it. Repeats until the shared pattern is stable. `forced[i]`: positions of
    grid i withheld whatever their count (too few distinct people behind them)."""
    shared: set[int] = set()  # row indexes of the totals column (the last row is the grand total)
    extra = [set(f) for f in forced] if forced is not None else [set() for _ in grids]
    while True:
        patterns = []
        for grid, more in zip(grids, extra, strict=True):
            last = grid.width - 1
            patterns.append(suppress(grid, k, forced={(r, last) for r in shared} | more))
        now = {
            r
            for grid, found in zip(grids, patterns, strict=True)
            for r, c in found
            if c == grid.width - 1
        }
        if now <= shared:
            return patterns
        shared |= now
