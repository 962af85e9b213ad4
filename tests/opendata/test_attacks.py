"""Disclosure control under attack: an attacker who holds every published figure of every
release (cells, row and column totals, grand totals, the linked decision tables that share
their department totals) solves for each withheld cell's smallest and largest possible value
(linear programming over all those equations, counts never negative). No cell from 1 to k - 1
may come out pinned to one value. Also: filters on the API change nothing (no differencing),
and no personal value of any applicant appears in any release."""

from __future__ import annotations

import datetime as dt
import json
import random

import numpy as np
import pytest
from django.test import Client
from django.utils import timezone
from scipy.optimize import linprog

from accounts.models import User
from opendata import actions, disclosure, tables
from services import actions as service_actions
from services.selectors import versions_published_for
from services.validators import make_national_id
from tests.data import LI_WEI_MOVING
from tests.factories import UserFactory, moving_answers
from workflows import actions as workflow_actions
from workflows import routing

K = 10


class Attacker:
    """Unknowns are the withheld figures; each published line of a table is an equation."""

    def __init__(self) -> None:
        self.unknowns: dict[object, int] = {}
        self.rows: list[dict[int, float]] = []
        self.rhs: list[float] = []

    def var(self, name: object) -> int:
        return self.unknowns.setdefault(name, len(self.unknowns))

    def equation(self, terms: list[tuple[object, int | None, float]]) -> None:
        """sum(sign * figure) == 0, where a None figure is the unknown `name`."""
        row: dict[int, float] = {}
        known = 0.0
        for name, value, sign in terms:
            if value is None:
                index = self.var(name)
                row[index] = row.get(index, 0.0) + sign
            else:
                known += sign * value
        if row:
            self.rows.append(row)
            self.rhs.append(-known)

    def add_table(self, prefix: object, table: dict, *, shared: object = None) -> None:
        """A published table; `shared` names the population whose row totals and grand total
        other tables publish too (the same unknowns in each)."""

        def name(kind, *at):
            if shared is not None and kind in ("row", "grand"):
                return (shared, kind, *at)
            return (prefix, kind, *at)

        cells, height, width = table["cells"], len(table["rows"]), len(table["columns"])
        for r in range(height):
            self.equation(
                [(name("cell", r, c), cells[r][c], 1) for c in range(width)]
                + [(name("row", table["rows"][r]["key"]), table["row_totals"][r], -1)]
            )
        for c in range(width):
            self.equation(
                [(name("cell", r, c), cells[r][c], 1) for r in range(height)]
                + [(name("col", c), table["column_totals"][c], -1)]
            )
        self.equation(
            [(name("col", c), table["column_totals"][c], 1) for c in range(width)]
            + [(name("grand"), table["total"], -1)]
        )
        self.equation(
            [
                (name("row", table["rows"][r]["key"]), table["row_totals"][r], 1)
                for r in range(height)
            ]
            + [(name("grand"), table["total"], -1)]
        )

    def bounds(self, name: object) -> tuple[float, float]:
        n = len(self.unknowns)
        a = np.zeros((len(self.rows), n))
        for i, row in enumerate(self.rows):
            for j, v in row.items():
                a[i, j] = v
        b = np.array(self.rhs)
        target = np.zeros(n)
        target[self.unknowns[name]] = 1
        low = linprog(target, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        high = linprog(-target, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        assert low.status == 0, "the published figures are inconsistent"
        top = float("inf") if high.status == 3 else -high.fun
        return low.fun, top


def _published(cells: list[list[int]], pattern: set) -> dict:
    grid = disclosure.Grid.of(cells, len(cells[0]))
    h, w = len(cells), len(cells[0])

    def shown(r, c):
        return None if (r, c) in pattern else grid.values[r][c]

    return {
        "rows": [{"key": f"r{r}"} for r in range(h)],
        "columns": [{"key": f"c{c}"} for c in range(w)],
        "cells": [[shown(r, c) for c in range(w)] for r in range(h)],
        "row_totals": [shown(r, w) for r in range(h)],
        "column_totals": [shown(h, c) for c in range(w)],
        "total": shown(h, w),
    }


def _assert_nothing_small_is_pinned(attacker, truths) -> int:
    """`truths`: (unknown name, true value) of every figure; returns how many were attacked."""
    attacked = 0
    for name, value in truths:
        if 0 < value < K:
            assert name in attacker.unknowns, f"{name} = {value} is published"
            low, high = attacker.bounds(name)
            assert low - 1e-6 <= value <= high + 1e-6
            # 2-way tables with margins are totally unimodular: the bounds are integers.
            assert high - low >= 1 - 1e-6, f"{name} = {value} recovered: [{low}, {high}]"
            attacked += 1
    return attacked


def _truths(prefix, cells, shared=None):
    grid = disclosure.Grid.of(cells, len(cells[0]))
    h, w = len(cells), len(cells[0])
    out = [((prefix, "cell", r, c), grid.values[r][c]) for r in range(h) for c in range(w)]
    row_owner = shared if shared is not None else prefix
    out += [((row_owner, "row", f"r{r}"), grid.values[r][w]) for r in range(h)]
    out += [((prefix, "col", c), grid.values[h][c]) for c in range(w)]
    out += [((row_owner, "grand"), grid.values[h][w])]
    return out


@pytest.mark.parametrize("seed", range(40))
def test_no_small_cell_is_recovered_from_one_table(seed: int) -> None:
    rng = random.Random(seed)
    h, w = rng.randint(1, 6), rng.randint(1, 6)
    cells = [
        [rng.choice([0, 0, 1, 2, 3, 5, 9, 10, 14, 30, 80]) for _ in range(w)] for _ in range(h)
    ]
    pattern = disclosure.suppress(disclosure.Grid.of(cells, w), K)
    attacker = Attacker()
    attacker.add_table("t", _published(cells, pattern))
    _assert_nothing_small_is_pinned(attacker, _truths("t", cells))


@pytest.mark.parametrize("seed", range(20))
def test_no_small_cell_is_recovered_from_linked_tables(seed: int) -> None:
    """Three tables of the same cases (by outcome, district, time): the department totals and
    the grand total are the same figures in each, so the attacker solves them together."""
    rng = random.Random(1000 + seed)
    h = rng.randint(1, 5)
    totals = [rng.choice([1, 4, 9, 12, 25, 60]) for _ in range(h)]

    def split(total: int, parts: int) -> list[int]:
        cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
        return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]

    grids_cells = [[split(t, width) for t in totals] for width in (2, rng.randint(2, 5), 5)]
    grids = [disclosure.Grid.of(cells, len(cells[0])) for cells in grids_cells]
    patterns = disclosure.suppress_linked(grids, K)
    attacker = Attacker()
    truths = []
    for i, (cells, pattern) in enumerate(zip(grids_cells, patterns, strict=True)):
        attacker.add_table(i, _published(cells, pattern), shared="cases")
        truths += _truths(i, cells, shared="cases")
    _assert_nothing_small_is_pinned(attacker, truths)


def test_the_suppression_never_withholds_nothing_when_a_cell_is_small() -> None:
    cells = [[20, 3, 15], [12, 30, 11], [40, 25, 18]]
    pattern = disclosure.suppress(disclosure.Grid.of(cells, 3), K)
    assert (0, 1) in pattern and len(pattern) >= 4
    assert disclosure.bridges(pattern) == []


# --- Against real releases -------------------------------------------------------------------

PERSONAL = {
    "full_name": "Ouyang Xiaoyu",
    "national_id": make_national_id("500229", dt.date(1990, 1, 1), "123"),
    "date_of_birth": "1990-01-01",
    "phone": "13900001111",
    # A district of its own: one person, so it must never be named.
    "address": "重庆市城口县葛城街道某某路88号",
}


def _apply(citizen: User, answers: dict, *, approve: bool) -> None:
    application = service_actions.application_create(
        citizen=citizen, versions=versions_published_for(slugs=["moving-house"]), answers=answers
    )
    application = service_actions.application_submit(application=application, actor=citizen)
    routing.advance(application_id=application.pk)
    for case in application.cases.select_related("department").filter(step="tax"):
        clerk = User.objects.get(email="clerk.tax@demo.gov")
        workflow_actions.case_claim(case=case, actor=clerk)
        if approve:
            workflow_actions.case_approve(case=case, actor=clerk, note="")
        else:
            workflow_actions.case_reject(case=case, actor=clerk, reason="Not this time.")


@pytest.mark.django_db
def test_releases_of_real_months_recover_nothing_and_show_no_personal_value(
    demo, clock, settings
) -> None:
    """Two months published one after the other, with rare districts and outcomes; the
    attacker combines both releases; the API ignores filters; no applicant's value shows."""
    settings.OPENDATA_DISTRICTS = ["北京市东城区"]
    supervisor = User.objects.get(email="supervisor@demo.gov")
    published = []
    for month_index, (common, rare) in enumerate(((11, 2), (13, 1))):
        for i in range(common):
            _apply(UserFactory(), moving_answers(), approve=i % 5 != 0)
        special = {
            **moving_answers(),
            "applicant.full_name": PERSONAL["full_name"],
            "applicant.national_id": PERSONAL["national_id"],
            "applicant.date_of_birth": PERSONAL["date_of_birth"],
            "applicant.phone": PERSONAL["phone"],
            "applicant.address": PERSONAL["address"],
        }
        for _ in range(rare):
            _apply(UserFactory(), special, approve=False)
        period = timezone.localdate(clock.now()).replace(day=1)
        truth = tables.count(period, K)
        _start, end = tables.month_bounds(period)
        clock.advance(end - clock.now() + dt.timedelta(hours=2))
        release = actions.release_publish(period=period, actor=supervisor)
        published.append((release, truth))
        assert month_index + 1 == release.version

    attacker = Attacker()
    truths = []
    for release, truth in published:
        for i, (table, counted) in enumerate(zip(release.document["tables"], truth, strict=True)):
            shared = (release.version, "cases") if i >= 1 else None
            attacker.add_table((release.version, i), table, shared=shared)
            grid = disclosure.Grid.of(counted.matrix(), len(counted.columns))
            h, w = len(counted.rows), len(counted.columns)
            owner = shared if shared is not None else (release.version, i)
            truths += [
                (((release.version, i), "cell", r, c), grid.values[r][c])
                for r in range(h)
                for c in range(w)
            ]
            truths += [((owner, "row", counted.rows[r]), grid.values[r][w]) for r in range(h)]
            truths += [(((release.version, i), "col", c), grid.values[h][c]) for c in range(w)]
            truths += [((owner, "grand"), grid.values[h][w])]
    attacked = _assert_nothing_small_is_pinned(attacker, truths)
    assert attacked > 0  # the rejected few and the rare district were there to attack

    # No personal value, nor any part of the exact address beyond its district.
    client = Client()
    bodies = []
    for release, _truth in published:
        bodies.append(json.dumps(release.document, ensure_ascii=False))
        for url in (
            f"/open-data/{release.version}/",
            f"/open-data/{release.version}.csv",
            f"/open-data/{release.version}.json",
            f"/api/v1/open-data/{release.version}/",
        ):
            bodies.append(client.get(url).content.decode())
    text = "\n".join(bodies)
    values = [*PERSONAL.values(), *(str(v) for v in LI_WEI_MOVING.values() if isinstance(v, str))]
    leaks = [v for v in values if v in text and v not in ("2026-11-01",)]
    assert leaks == [], leaks
    assert "城口县" not in text  # one person's district is never named
    assert "景山前街" not in text and "葛城街道" not in text

    # Filters and other parameters change nothing: there is nothing to difference.
    version = published[0][0].version
    plain = client.get(f"/api/v1/open-data/{version}/").json()
    for query in ("?department=tax", "?district=北京市东城区", "?month=2026-01&service=x"):
        assert client.get(f"/api/v1/open-data/{version}/{query}").json() == plain


def test_one_citizens_many_contributions_never_make_a_cell_public() -> None:
    """Counts are contributions, not people: one citizen's 12 service requests in a cell are
    12 >= k, but one person stands behind them, so the cell is withheld and cannot be
    worked out from the rest."""
    labels = {key: {"en": key} for key in "abxy"}
    table = tables.Table("t", ["a", "b"], ["x", "y"], labels)
    for citizen in range(20):
        table.add("a", "x", citizen)
        table.add("b", "x", 100 + citizen)
        table.add("b", "y", 200 + citizen)
    for _ in range(12):
        table.add("a", "y", 999)
    assert table.counts[("a", "y")] == 12 >= K
    published = tables.published([table, *([tables.Table("u", [], [], {})] * 3)], K)[0]
    assert published["cells"][0][1] is None
    attacker = Attacker()
    attacker.add_table("t", published)
    low, high = attacker.bounds(("t", "cell", 0, 1))
    assert high - low >= 1


@pytest.mark.django_db
def test_one_citizen_in_a_compound_is_neither_named_nor_shown(demo, clock, settings) -> None:
    """The attack: one citizen, living in a residential compound the address pattern reads as
    a "district" (北京市景山花园小区), applies 12 times in a month. 12 >= k contributions, but
    the compound is not a county-level district on the public list, so it is never named, and
    the cells behind which only that citizen stands are withheld."""
    settings.OPENDATA_DISTRICTS = ["北京市东城区"]
    compound = "北京市景山花园小区3号楼502"
    from opendata.districts import district_of

    assert district_of(compound) == "北京市景山花园小区"  # what the pattern alone would name
    supervisor = User.objects.get(email="supervisor@demo.gov")
    for _ in range(12):
        _apply(UserFactory(), moving_answers(), approve=True)
    lonely = UserFactory()
    for _ in range(12):
        _apply(lonely, {**moving_answers(), "applicant.address": compound}, approve=True)
    period = timezone.localdate(clock.now()).replace(day=1)
    _start, end = tables.month_bounds(period)
    clock.advance(end - clock.now() + dt.timedelta(hours=2))
    release = actions.release_publish(period=period, actor=supervisor)

    by_name = {t["name"]: t for t in release.document["tables"]}
    for name in ("applications_by_service_district", "decisions_by_department_district"):
        table = by_name[name]
        assert [c["key"] for c in table["columns"]] == ["北京市东城区", "_other"]
        for r, row in enumerate(table["rows"]):
            # 12 from one citizen (and nothing else) in "other": withheld, and so is enough
            # around it that the attacker cannot work it out.
            assert table["cells"][r][1] is None, (name, row["key"])
        attacker = Attacker()
        attacker.add_table(name, table)
        for r in range(len(table["rows"])):
            low, high = attacker.bounds((name, "cell", r, 1))
            assert high - low >= 1
    client = Client()
    text = json.dumps(release.document, ensure_ascii=False) + "".join(
        client.get(url).content.decode()
        for url in (
            f"/open-data/{release.version}/",
            f"/open-data/{release.version}.csv",
            f"/api/v1/open-data/{release.version}/",
        )
    )
    assert "景山花园" not in text and "小区" not in text
