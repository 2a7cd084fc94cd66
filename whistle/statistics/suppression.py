"""What may be shown of the statistics: small counts, and what would reveal them, suppressed.

The rules (docs/workspace.md, "Statistics"):

1. Every count from 1 to 4 is suppressed. Zero is shown as 0: it singles nobody out.
2. In a table whose parts add up to a total that is shown (cases by channel, by status, by
   month...), subtracting the shown parts from the total gives the sum of the suppressed ones.
   So more cells are suppressed, the smallest non-zero ones first, until at least two are
   suppressed, their sum is 5 or more, and it is more than their number (a sum equal to the
   number of cells would mean every one of them is 1). Every suppressed cell looks the same,
   whatever the reason, so nobody can tell which one is the small one.
3. A table whose total is a cell of another table (the outcomes of closed cases add up to the
   closed cases by status) shows none of its non-zero cells when that cell is suppressed: their
   sum would give it back, and with it the small count it was suppressed to protect.
4. A share is suppressed when its base is under 5, when the cases it counts or the cases it
   does not count number 1 to 4, or when its numerator or its base is made of cells of a table
   and one of them is suppressed (the share and the shown cells would give it back). A median
   is suppressed when it was computed from fewer than 5 cases.

What these rules do not stop: comparing two different filters (two periods, or all channels
and one channel) can still show a difference under 5. The pages offer whole months and whole
channels only, which limits it; docs/workspace.md says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from whistle.hooks.types import StatisticsFigure

SMALLEST_SHOWN = 5


@dataclass
class Table:
    """Counts by group, e.g. cases by status. `total`: the shown total the parts add up to, if
    they do (cases by label do not: a case may carry several labels, or none)."""

    measure: str
    rows: list[tuple[str, int]]
    total: int | None = None
    hidden: set[str] = field(default_factory=set)
    # The (measure, group) of an earlier table's cell that `total` is, if it is one.
    total_cell: tuple[str, str] | None = None


@dataclass
class Counts:
    """The raw figures of one period, before suppression: never shown as they are."""

    tables: list[Table] = field(default_factory=list)
    # Measures drawn from a distribution: (measure, cases it was computed from, value or None).
    medians: list[tuple[str, int, float | None]] = field(default_factory=list)
    # Shares: (measure, numerator, base, the table cells numerator and base are sums of, if any).
    shares: list[tuple[str, int, int, tuple[tuple[str, str], ...]]] = field(default_factory=list)

    def table(self, measure: str) -> Table:
        return next(table for table in self.tables if table.measure == measure)


def too_small(count: int) -> bool:
    return 0 < count < SMALLEST_SHOWN


def hide_cells(table: Table) -> set[str]:
    """The groups of `table` to suppress: the small counts, and, where the total is shown, enough
    of the next smallest to keep the small ones from being worked out by subtraction."""
    hidden = {group for group, count in table.rows if too_small(count)}
    if not hidden or table.total is None or too_small(table.total):
        return hidden
    counts = dict(table.rows)
    while True:
        hidden_sum = sum(counts[group] for group in hidden)
        if len(hidden) >= 2 and hidden_sum >= SMALLEST_SHOWN and hidden_sum > len(hidden):
            return hidden
        shown = sorted((count, group) for group, count in table.rows if group not in hidden and count > 0)
        if not shown:
            return hidden  # everything non-zero is hidden already
        hidden.add(shown[0][1])


def share_shown(numerator: int, base: int) -> bool:
    return base >= SMALLEST_SHOWN and not too_small(numerator) and not too_small(base - numerator)


def suppress(counts: Counts) -> list[StatisticsFigure]:
    """Every figure of `counts` as it may be shown: a suppressed one has value None."""
    figures = []
    hidden_cells = set()
    for table in counts.tables:
        table.hidden = hide_cells(table)
        if table.total_cell in hidden_cells:
            table.hidden |= {group for group, count in table.rows if count > 0}
        hidden_cells |= {(table.measure, group) for group in table.hidden}
        figures += [StatisticsFigure(table.measure, group, None if group in table.hidden else count)
                    for group, count in table.rows]
    for measure, base, median in counts.medians:
        figures.append(StatisticsFigure(measure, "all", median if base >= SMALLEST_SHOWN else None))
    for measure, numerator, base, cells in counts.shares:
        shown = share_shown(numerator, base) and not hidden_cells.intersection(cells)
        figures.append(StatisticsFigure(measure, "all", round(100 * numerator / base) if shown else None))
    return figures
