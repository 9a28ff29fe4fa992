"""The report's benefit level: a forest plot of descriptors and each descriptor's wordings side by side."""

from __future__ import annotations

from html import escape
from typing import Callable

from pipeline.analysis.board import Board

PLOT_W, LABEL_W, ROW_H = 760, 260, 26

CSS = (".wordings{display:flex;flex-wrap:wrap;gap:.6em;margin:.4em 0 1.2em}.wording{flex:1 1 200px;max-width:300px;"
       "padding:.4em .6em;border:1px solid #d9e2ec;border-radius:4px;background:#f7fafc;font-size:.9em}"
       ".wording.best{border-color:#2e8b57}.wording.low{color:#7b8794}")


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def forest_frame(rows: int, svg_class: str, aria_label: str, baseline: float | None,
                 baseline_class: str) -> tuple[list[str], Callable[[float], float]]:
    """The opening of a forest plot of `rows` rows (svg tag, the 0-100% ticks, the baseline) and its x scale:
    the descriptor plot here and the cluster plot of report_html draw their rows into it."""
    height = ROW_H * rows + 50
    span = PLOT_W - LABEL_W - 20

    def x(rate: float) -> float:
        return LABEL_W + rate * span

    parts = [f'<svg class="{svg_class}" xmlns="http://www.w3.org/2000/svg" width="{PLOT_W}" height="{height}" '
             f'viewBox="0 0 {PLOT_W} {height}" role="img" aria-label="{aria_label}">']
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<line x1="{x(tick):.1f}" y1="10" x2="{x(tick):.1f}" y2="{height - 30}" stroke="#eef2f6"/>'
                     f'<text x="{x(tick):.1f}" y="{height - 12}" font-size="11" text-anchor="middle" '
                     f'fill="#52606d">{tick:.0%}</text>')
    if baseline is not None:
        parts.append(f'<line class="{baseline_class}" x1="{x(baseline):.1f}" y1="4" x2="{x(baseline):.1f}" '
                     f'y2="{height - 30}" stroke="#d64545" stroke-dasharray="4 3" stroke-width="1.5"/>'
                     f'<text x="{x(baseline) + 4:.1f}" y="12" font-size="11" fill="#d64545">all calls '
                     f'{_pct(baseline)}</text>')
    return parts, x


def descriptor_plot(b: Board, baseline: float | None) -> str:
    """Each descriptor's interested-lead rate with its 90% interval, against the baseline; few-call ones grey."""
    rows = [d for d in b.descriptors if d.descriptor_id is not None]
    parts, x = forest_frame(len(rows), "descriptor-forest", "interested-lead rate per descriptor", baseline,
                            "descriptor-baseline")
    for i, d in enumerate(rows):
        y = 24 + i * ROW_H
        colour = "#bcccdc" if d.low_support else "#3e7cb1"  # the wording plot's blue
        label = d.name if len(d.name) <= 30 else d.name[:29] + "…"
        parts.append(f'<g class="descriptor-row" data-descriptor="{d.descriptor_id}">'
                     f'<text x="{LABEL_W - 8}" y="{y + 4}" font-size="12" text-anchor="end" '
                     f'fill="{"#9aa5b1" if d.low_support else "#1f2933"}">{escape(label)} ({d.calls_with_outcome})</text>')
        if d.interest_rate is None:
            parts.append(f'<text x="{LABEL_W}" y="{y + 4}" font-size="11" fill="#9aa5b1">no calls with an outcome</text>')
        else:
            parts.append(f'<line class="d-interval" x1="{x(d.ci_low):.1f}" y1="{y}" x2="{x(d.ci_high):.1f}" y2="{y}" '
                         f'stroke="{colour}" stroke-width="4" stroke-linecap="round"/>'
                         f'<circle class="d-rate" cx="{x(d.interest_rate):.1f}" cy="{y}" r="6" fill="{colour}"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def wordings_side_by_side(b: Board) -> str:
    """Per descriptor, its wordings as cards in a row, best rate first."""
    out = []
    for d in b.descriptors:
        ws = b.wordings.get(d.descriptor_id, ())
        if not ws:
            continue
        head = (f"{escape(d.name)} <span class=muted>({d.source}; {_pct(d.interest_rate)} over {d.calls_with_outcome} "
                f"calls, {len(ws)} wording{'s' if len(ws) != 1 else ''})</span>")
        cards = []
        for w in ws:
            cls = "wording" + (" best" if w.rank_in_descriptor == 1 and not w.low_support else "") + \
                  (" low" if w.low_support else "")
            others = "" if w.others_interest_rate is None else f"; its other wordings alone {_pct(w.others_interest_rate)}"
            cards.append(f'<div class="{cls}" data-cluster="{w.cluster_id}">“{escape(w.example)}”<br>'
                         f'<b>{_pct(w.interest_rate)}</b> over {w.calls_with_outcome} calls '
                         f'(90% {_pct(w.ci_low)}–{_pct(w.ci_high)}){others}'
                         f'{" · confirmed" if w.confirmed else ""}</div>')
        out.append(f'<h3 class="descriptor" data-descriptor="{d.descriptor_id}">{head}</h3>'
                   f'<div class="wordings">{"".join(cards)}</div>')
    return "".join(out)


def descriptor_section(report) -> str:
    b = report.descriptors
    if b is None or not b.descriptors:
        return "<h2>Descriptors</h2><p>No descriptors yet: analyze some calls first.</p>"
    other = next((d for d in b.descriptors if d.descriptor_id is None), None)
    note = "" if other is None else (f"<p class=muted>{other.phrases} pitch phrases in {other.calls} calls fit no "
                                      "descriptor (<code>other</code>, not ranked).</p>")
    return (f"<style>{CSS}</style><h2>Descriptors</h2>"
            "<p>The benefits you test (declared) or themes found in your wordings (suggested): interested-lead rate "
            "of the calls that used each, with its 90% interval; the dashed line is the rate over all calls. Grey: "
            "fewer than 5 calls with an outcome.</p>"
            + descriptor_plot(b, report.baseline) + note
            + "<h2>Each descriptor's wordings, side by side</h2>" + wordings_side_by_side(b))
