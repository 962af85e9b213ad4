"""The dashboard's charts as SVG, drawn on the server with pygal from the same tables the page
shows beside them (no script in the SVG: pages load it as an image)."""

from __future__ import annotations

import pygal
from django.utils.translation import gettext as _
from pygal.etree import etree
from pygal.style import Style

from .tables import Table

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#52606d",
    colors=("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c"),
    font_family="system-ui, sans-serif",
)
CHARTS = ("status", "age", "departments", "days", "weeks", "steps")


def _config(title: str, chart) -> pygal.Graph:
    return chart(
        title=title,
        style=STYLE,
        js=[],
        width=640,
        height=320,
        show_legend=True,
        legend_at_bottom=True,
        truncate_label=-1,
        print_values=False,
        x_label_rotation=0,
    )


def render(table: Table) -> bytes:
    """The chart of one table (`CHARTS`), as an SVG document."""
    if table.name == "departments":
        chart = _config(table.title, pygal.HorizontalBar)
        chart.x_labels = [row[0] for row in table.rows]
        chart.add(_("Backlog"), [row[1] for row in table.rows])
        chart.add(_("Past due"), [row[2] for row in table.rows])
    elif table.name == "steps":
        chart = _config(table.title, pygal.HorizontalBar)
        chart.x_labels = [f"{row[0]} · {row[1]}" for row in table.rows]
        for name, values in table.series.items():
            chart.add(name, values)
    elif table.name in ("days", "weeks"):
        chart = _config(table.title, pygal.Line if table.name == "days" else pygal.Bar)
        labels = [row[0] for row in table.rows]
        chart.x_labels = labels
        if table.name == "days":
            chart.x_labels_major_every = max(1, len(labels) // 6)
            chart.show_minor_x_labels = False
        chart.add(table.headings[1], [row[1] for row in table.rows])
    else:
        chart = _config(table.title, pygal.Bar)
        chart.x_labels = [row[0] for row in table.rows]
        chart.add(table.headings[1], [row[1] for row in table.rows])
    return _without_scripts(chart)


def _without_scripts(chart: pygal.Graph) -> bytes:
    """pygal always writes its tooltips' configuration as a script; an image runs none, and
    the page's policy allows none, so it is left out."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return b"<?xml version='1.0' encoding='utf-8'?>\n" + etree.tostring(tree)
