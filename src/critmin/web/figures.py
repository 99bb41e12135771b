"""Plotly figures as plain dicts (``{"data": [...], "layout": {...}}``) built from frames.

No plotly Python import: the browser draws them with Plotly's bundled JavaScript. Values are converted to
JSON-safe Python types here (NaN becomes ``None``, a gap in the chart).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

HEIGHT = 340


def _num(v: Any) -> float | None:
    """JSON-safe float (NaN/inf -> None)."""
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 14}, "x": 0, "xanchor": "left"},
        "height": HEIGHT,
        "margin": {"l": 60, "r": 40, "t": 40, "b": 50},
        "font": {"family": "system-ui, sans-serif", "size": 12},
    }
    base.update(extra)
    return base


def choropleth(
    frame: pd.DataFrame, location: str, value: str, title: str, colorbar: str, text: str | None = None
) -> dict[str, Any]:
    """World choropleth of ``value`` by ISO3 ``location`` (drawn from the locally served topojson)."""
    trace: dict[str, Any] = {
        "type": "choropleth",
        "locationmode": "ISO-3",
        "locations": [str(v) for v in frame[location]],
        "z": [_num(v) for v in frame[value]],
        "colorscale": "Reds",
        "colorbar": {"title": {"text": colorbar}},
        "marker": {"line": {"width": 0.3, "color": "#666"}},
    }
    if text is not None:
        trace["text"] = [str(v) for v in frame[text]]
    geo = {
        "showframe": False,
        "showcoastlines": True,
        "showland": True,
        "landcolor": "#eeeeee",
        "showcountries": True,
        "countrycolor": "#bbbbbb",
        "projection": {"type": "natural earth", "rotation": {"lon": 0}},
        "center": {"lon": 0, "lat": 15},
        "lonaxis": {"range": [-180, 180]},
        "lataxis": {"range": [-58, 85]},
    }
    return {"data": [trace], "layout": _layout(title, geo=geo, margin={"l": 0, "r": 0, "t": 40, "b": 0})}


def bars(
    frame: pd.DataFrame, x: str, y: str, title: str, y_title: str, group: str | None = None
) -> dict[str, Any]:
    """Bar chart of ``y`` by ``x``; one series per value of ``group`` (stacked) when given."""
    groups = [(None, frame)] if group is None else list(frame.groupby(group, sort=False))
    data = [
        {
            "type": "bar",
            "name": "" if key is None else str(key),
            "x": [str(v) for v in part[x]],
            "y": [_num(v) for v in part[y]],
        }
        for key, part in groups
    ]
    # full category labels: the axis makes room for them (tilted when there are many) instead of cutting them
    xaxis = {"automargin": True, "tickangle": -40 if len(frame) > 8 else 0}
    return {
        "data": data,
        "layout": _layout(
            title,
            barmode="stack",
            xaxis=xaxis,
            yaxis={"title": {"text": y_title}},
            showlegend=group is not None,
        ),
    }


def hbars(
    frame: pd.DataFrame, label: str, value: str, title: str, x_title: str, unit: str = ""
) -> dict[str, Any]:
    """Horizontal bars, largest on top, full labels (automargin), each bar labelled with its rounded value."""
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": [str(v) for v in frame[label]][::-1],
            "x": [_num(v) for v in frame[value]][::-1],
            "text": [f"{v:.1f}{unit}" if v == v else "" for v in frame[value].astype(float)][::-1],
            "textposition": "auto",
            "hovertemplate": "%{y}: %{x:.1f}" + unit + "<extra></extra>",
            "name": x_title,
        }
    ]
    height = max(HEIGHT, 28 * len(frame) + 90)
    layout = _layout(title, height=height, showlegend=False, xaxis={"title": {"text": x_title}},
                     yaxis={"automargin": True}, margin={"l": 10, "r": 40, "t": 40, "b": 50})  # fmt: skip
    return {"data": data, "layout": layout}


def _short(name: str, limit: int = 48) -> str:
    """A legend label cut to ``limit`` characters (the full name stays in the hover text and the CSV)."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def legend_labels(names: list[str]) -> list[str]:
    """Short legend labels: a long prefix shared by every name (up to a ': ' or ', ') is dropped, then
    each label is cut to 48 characters."""
    prefix = ""
    if len(names) > 1:
        n = 0
        while all(len(x) > n and x[n] == names[0][n] for x in names):
            n += 1
        prefix = names[0][:n]
    cut = max(prefix.rfind(": "), prefix.rfind(", "))
    drop = cut + 2 if cut >= 15 else 0
    return [_short(("…" if drop else "") + n[drop:]) for n in names]


def lines(frame: pd.DataFrame, x: str, y: str, group: str, title: str, y_title: str) -> dict[str, Any]:
    """One line per value of ``group``: ``y`` against ``x`` (legend below the plot)."""
    parts = list(frame.groupby(group, sort=False))
    labels = legend_labels([str(k) for k, _ in parts])
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": label,
            "hovertext": str(key),
            "x": [v if isinstance(v, str) else _num(v) for v in part[x]],
            "y": [_num(v) for v in part[y]],
        }
        for (key, part), label in zip(parts, labels, strict=True)
    ]
    legend = {"orientation": "h", "y": -0.2, "x": 0, "font": {"size": 11}}
    return {"data": data, "layout": _layout(title, yaxis={"title": {"text": y_title}}, legend=legend)}


def sankey(frame: pd.DataFrame, source: str, target: str, value: str, title: str) -> dict[str, Any]:
    """Sankey from ``source`` labels (left) to ``target`` labels (right); a label may sit on both sides,
    so left and right nodes are kept apart."""
    left = list(dict.fromkeys(str(v) for v in frame[source]))
    right = list(dict.fromkeys(str(v) for v in frame[target]))
    labels = [*left, *right]
    li = {k: i for i, k in enumerate(left)}
    ri = {k: len(left) + i for i, k in enumerate(right)}
    trace = {
        "type": "sankey",
        "arrangement": "snap",
        "node": {"label": labels, "pad": 8, "thickness": 12},
        "link": {
            "source": [li[str(v)] for v in frame[source]],
            "target": [ri[str(v)] for v in frame[target]],
            "value": [_num(v) for v in frame[value]],
        },
    }
    return {"data": [trace], "layout": _layout(title, height=420)}


def histogram(frame: pd.DataFrame, x: str, group: str, title: str, x_title: str) -> dict[str, Any]:
    """Overlaid histograms of ``x``, one per value of ``group``."""
    data = [
        {"type": "histogram", "name": str(key), "x": [_num(v) for v in part[x]], "opacity": 0.6}
        for key, part in frame.groupby(group, sort=False)
    ]
    return {"data": data, "layout": _layout(title, barmode="overlay", xaxis={"title": {"text": x_title}})}


def timeline(frame: pd.DataFrame, label: str, start: str, end: str, group: str, title: str) -> dict[str, Any]:
    """Horizontal bars from ``start`` to ``end`` (years) per ``label``, coloured by ``group``."""
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": str(key),
            "y": [str(v) for v in part[label]],
            "base": [_num(v) for v in part[start]],
            "x": [_num(e - s) for s, e in zip(part[start], part[end], strict=True)],
        }
        for key, part in frame.groupby(group, sort=False)
    ]
    layout = _layout(title, barmode="overlay", xaxis={"title": {"text": "year"}}, yaxis={"automargin": True})
    return {"data": data, "layout": layout}
