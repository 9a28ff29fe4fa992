"""Draw a `report.Report` as one HTML page: inline SVG charts and CSS, no scripts, nothing fetched."""

from __future__ import annotations

from html import escape
from typing import Callable

from pipeline.core.terminal import plural
from pipeline.reporting.report_data import ClusterReport, Example, Report
from pipeline.reporting.report_descriptors import LABEL_W, ROW_H, _pct, descriptor_section, forest_frame

REACTION_COLOURS = {"interested": "#2e8b57", "neutral": "#9aa5b1", "objection": "#c0392b"}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:960px;color:#1f2933;
line-height:1.45;padding:0 1em}
h1{margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #d9e2ec;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .7em;text-align:left;border-bottom:1px solid #eef2f6}
th{font-weight:600}.num{text-align:right}.muted{color:#7b8794}.cluster{margin:1.2em 0;padding:.6em 1em;
border-left:4px solid #7ba7cc;background:#f7fafc}.cluster.low{border-left-color:#bcccdc}
.cluster h3{margin:.1em 0}.ex{margin:.2em 0}.tag{font-size:.8em;padding:0 .4em;border-radius:3px;color:#fff}
svg text{font-family:inherit}
"""


def forest_plot(report: Report) -> str:
    """Each cluster's interested-lead rate with its 90% interval, against the baseline; few-call clusters grey."""
    rows = [c.row for c in report.clusters]
    parts, x = forest_frame(len(rows), "forest", "interested-lead rate per descriptor cluster", report.baseline,
                            "baseline")
    for i, r in enumerate(rows):
        y = 24 + i * ROW_H
        colour = "#bcccdc" if r.low_support else "#3e7cb1"
        label = r.label if len(r.label) <= 34 else r.label[:33] + "…"
        parts.append(f'<g class="cluster-row" data-cluster="{r.cluster_id}">'
                     f'<text x="{LABEL_W - 8}" y="{y + 4}" font-size="12" text-anchor="end" '
                     f'fill="{"#9aa5b1" if r.low_support else "#1f2933"}">{r.cluster_id}. {escape(label)} '
                     f'({r.calls_with_outcome})</text>')
        if r.interest_rate is None:
            parts.append(f'<text x="{LABEL_W}" y="{y + 4}" font-size="11" fill="#9aa5b1">no calls with an outcome</text>')
        else:
            parts.append(f'<line class="interval" x1="{x(r.ci_low):.1f}" y1="{y}" x2="{x(r.ci_high):.1f}" y2="{y}" '
                         f'stroke="{colour}" stroke-width="3" stroke-linecap="round"/>'
                         f'<circle class="rate" cx="{x(r.interest_rate):.1f}" cy="{y}" r="6" fill="{colour}"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def reaction_bar(cluster: ClusterReport, width: int = 240) -> str:
    """A stacked bar of the reactions a cluster's phrases drew."""
    total = sum(n for _, n in cluster.reactions)
    if not total:
        return '<span class="muted">no reactions recorded</span>'
    parts = [f'<svg class="reactions" data-cluster="{cluster.row.cluster_id}" xmlns="http://www.w3.org/2000/svg" '
             f'width="{width}" height="16" viewBox="0 0 {width} 16">']
    left = 0.0
    for label, n in cluster.reactions:
        w = width * n / total
        if n:
            parts.append(f'<rect x="{left:.1f}" y="0" width="{w:.1f}" height="16" fill="{REACTION_COLOURS[label]}">'
                         f'<title>{label}: {n}</title></rect>')
        left += w
    parts.append("</svg>")
    legend = ", ".join(f"{n} {label}" for label, n in cluster.reactions)
    return "".join(parts) + f' <span class="muted">{legend}</span>'


def _at(seconds: float | None) -> str:
    return "" if seconds is None else f" at {int(seconds // 60)}:{int(seconds % 60):02d}"


def _cluster_section(c: ClusterReport, link: Callable[[Example], str]) -> str:
    r = c.row
    lift = "–" if r.lift is None else f"{r.lift:.2f}"
    items = []
    for ex in c.examples:
        tag = ("" if ex.reaction is None else
               f' <span class="tag" style="background:{REACTION_COLOURS[ex.reaction]}">{ex.reaction}</span>')
        items.append(f'<li class="ex">“{escape(ex.text)}”{tag} — <a href="{escape(link(ex))}">'
                     f'{escape(ex.source_file)}{_at(ex.start_s)}</a></li>')
    return (f'<div class="cluster{" low" if r.low_support else ""}" id="cluster-{r.cluster_id}">'
            f"<h3>{r.cluster_id}. {escape(r.label)}</h3>"
            f"<div>{_pct(r.interest_rate)} interested over {plural(r.calls_with_outcome, 'call')} with an outcome "
            f"(90% interval {_pct(r.ci_low)}–{_pct(r.ci_high)}), lift {lift}, said {plural(r.phrases, 'time')} "
            f"in {plural(r.calls, 'call')}"
            f'{" — <b>few calls: an anecdote</b>" if r.low_support else ""}</div>'
            f"<div>Reactions: {reaction_bar(c)}</div><ul>{''.join(items)}</ul></div>")


def _reps_table(report: Report) -> str:
    rows = []
    for rep in report.reps:
        used = ", ".join(f"{escape(label)} ({n})" for label, n in rep.descriptors[:4]) or '<span class="muted">none</span>'
        rows.append(f"<tr><td>{escape(rep.rep)}</td><td class=num>{rep.calls}</td><td class=num>{_pct(rep.talk_ratio)}</td>"
                    f"<td class=num>{rep.questions_per_call:.1f}</td><td>{used}</td></tr>")
    return ("<table class=reps><tr><th>rep</th><th>calls</th><th>talk ratio</th><th>questions / call</th>"
            f"<th>descriptor clusters used (pitch phrases)</th></tr>{''.join(rows)}</table>")


def _quality_table(report: Report) -> str:
    q = report.quality
    cells = [("calls analyzed", f"{q.calls} ({q.audio_minutes:.1f} min of audio, {q.transcripts} transcripts)"),
             ("recordings that failed", str(q.failed)),
             ("audio band", f"{q.telephone} telephone (8 kHz line: nothing above 4 kHz), {q.wideband} wideband"
                            + (f", {q.calls - q.transcripts - q.telephone - q.wideband} not measured"
                               if q.calls - q.transcripts - q.telephone - q.wideband else "")),
             ("outcomes", f"{q.labelled} given, {q.inferred} inferred from the call, {q.unknown} unknown"),
             ("pitch phrases", str(q.pitches)),
             ("pitch phrases in no cluster", f"{q.unclustered} ({_pct(q.unclustered_share)})")]
    return "<table class=quality>" + "".join(f"<tr><th>{a}</th><td>{b}</td></tr>" for a, b in cells) + "</table>"


def render(report: Report, *, link: Callable[[Example], str]) -> str:
    """The whole page; `link` turns an example into the address of its recording at its time."""
    counted = "given and inferred outcomes" if report.include_inferred else "only the outcomes you gave"
    body = [
        "<h1>Pitchlab report</h1>",
        f'<p class="muted">Which ways of describing the product go with interested leads. Rates count {counted}. '
        "These are associations across calls, not proof that a wording causes interest.</p>",
        descriptor_section(report),
        "<h2>What to test next</h2><ul class=next>",
        *(f"<li>{escape(t)}</li>" for t in report.next_tests),
        "</ul><h2>Wordings</h2>",
        "<p>Each wording cluster (near-identical phrasings): interested-lead rate of the calls that used it, with its "
        "90% interval; the dashed line is the rate over all calls. Grey: fewer than 5 calls with an outcome. The "
        "number in brackets is those calls.</p>",
        forest_plot(report) if report.clusters else "<p>No clusters yet: analyze some calls first.</p>",
        "<h2>Wordings in detail</h2>",
        *(_cluster_section(c, link) for c in report.clusters),
        "<h2>Reps</h2><p>Talk ratio: the rep's share of the words spoken in their calls. "
        "Questions: question marks in the rep's speech, per call.</p>",
        _reps_table(report),
        "<h2>Data quality</h2>",
        _quality_table(report),
    ]
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pitchlab report</title>'
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")
