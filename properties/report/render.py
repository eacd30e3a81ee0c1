"""Render the report's data as one self-contained HTML page and as Markdown.

The page has inline CSS, inline SVG figures, no script and no external resource. Every
string that comes from a run or a module (statements, messages, counterexamples,
errata, names) passes through ``html.escape``; only the markup written here does not.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from html import escape
from typing import Any

from properties.report import frameworks
from properties.report.markup import pre, table
from properties.report.model import (
    Bench,
    CatalogueEntry,
    Coverage,
    Figure,
    Report,
    Theorem,
    grades,
)
from properties.report.mutation import MUTATION_JSON, render_mutation

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
 color:#1f2328;background:#f6f8fa}
main{max-width:1400px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:24px;margin:8px 0 4px}
h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:15px;margin:14px 0 6px}
.meta{color:#57606a;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:20px}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0}
th,td{border:1px solid #d0d7de;padding:6px 8px;vertical-align:top;text-align:left}
th{background:#eaeef2;font-size:13px}
table.theorems{table-layout:fixed}table.theorems pre{overflow-wrap:anywhere}
section.theorem{background:#fff;border:1px solid #d0d7de;border-left:5px solid #1a7f37;
 border-radius:6px;padding:10px 16px 12px;margin:14px 0}
section.theorem.is-failed,section.theorem.is-broken{border-left-color:#cf222e}
section.theorem.is-not-run{border-left-color:#9a6700}
.thead{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 14px}
.thead .title{font-size:16px;font-weight:600}.thead .stats{margin-left:auto;color:#57606a}
pre.statement{white-space:pre;overflow-x:auto;word-break:normal;background:#f6f8fa;
 padding:8px 12px;margin:8px 0;font-size:13px;line-height:1.45}
h4{font-size:13px;margin:10px 0 4px;color:#57606a;text-transform:uppercase;letter-spacing:.03em}
ul.props{columns:3 340px;column-gap:28px;list-style:none;margin:0;padding:0;font-size:13px}
ul.props li{break-inside:avoid;padding:1px 0}ul.props .meta{white-space:nowrap}
table.wrong{font-size:13px;margin:2px 0;width:auto;min-width:60%}
table.wrong td,table.wrong th{padding:3px 8px}
table.wrong td:first-child{white-space:nowrap;width:9em}
table.overview td:nth-child(n+2){white-space:nowrap}
.rejected{color:#1a7f37;font-weight:600}.not-rejected{color:#cf222e;font-weight:700}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
pre{white-space:pre-wrap;word-break:break-word;margin:4px 0;background:#f6f8fa;padding:6px;
 border-radius:4px;font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre.long{max-height:24em;overflow:auto}
.held{color:#1a7f37;font-weight:600}.failed,.broken{color:#cf222e;font-weight:600}
.not-run{color:#9a6700;font-weight:600}
summary{cursor:pointer;color:#0969da}
.fail{border-left:4px solid #cf222e;background:#fff5f5;padding:4px 8px;margin:6px 0}
figure{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:10px;margin:0}
figure svg{width:100%;height:auto}figcaption{font-size:13px;color:#57606a}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:10px}
"""

MARK = {"passed": "✓", "failed": "✗", "error": "✗", "skipped": "–", "xfailed": "x", "xpassed": "!"}
FAILING = ("failed", "error", "xpassed")
VERDICT_MARK = {"rejected": "✓", "NOT rejected": "✗", "accepted": "✓", "NOT accepted": "✗"}


def seconds(value: float) -> str:
    """A test duration."""
    return f"{value:.2f} s" if value >= 0.01 else f"{value * 1000:.1f} ms"


def bench_time(value: float) -> str:
    """A benchmark time in the unit that suits it."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def bench_order(b: Bench) -> tuple[str, float, str, float]:
    """Benchmarks by group, then size, then case, fastest first."""
    return (b.group, b.size or 0.0, b.case, b.median)


def failure(test: dict[str, Any]) -> str:
    """A failing test: its shrunk counterexample and assertion message, escaped."""
    example = test.get("counterexample", "")
    message = test.get("message", "") or test.get("longrepr", "")[-4000:]
    shrunk = f"Shrunk counterexample:{pre(example)}" if example else ""
    return (
        f'<div class="fail"><b>{escape(test["name"])}</b> {escape(test["outcome"])}<br>{shrunk}'
        f"<details open><summary>assertion message</summary>{pre(message[:6000], 'long')}"
        "</details></div>"
    )


def breakable(name: str) -> str:
    """An escaped identifier that may wrap after its underscores."""
    return escape(name).replace("_", "_<wbr>")


def property_items(tests: Sequence[dict[str, Any]]) -> str:
    """One list item per property; parametrized cases of one function share an item."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for test in tests:
        groups.setdefault(test["name"].split("[")[0], []).append(test)
    items = []
    for name, cases in groups.items():
        outcomes = Counter(c["outcome"] for c in cases)
        worst = next((o for o in (*FAILING, "skipped", "xfailed") if outcomes[o]), "passed")
        stats = [c["hypothesis"] for c in cases if c.get("hypothesis")]
        detail = [f"{len(cases)} cases"] if len(cases) > 1 else []
        if worst != "passed":
            detail.append(", ".join(f"{n} {o}" for o, n in outcomes.items() if o != "passed"))
        if stats:
            detail.append(f"{sum(s['examples'] for s in stats)} ex")
        detail += accuracy(cases)
        detail.append(seconds(sum(c["duration"] for c in cases)))
        items.append(
            f"<li>{MARK.get(worst, '?')} {breakable(name)} <span class=meta>({', '.join(detail)})"
            "</span></li>"
        )
    return "".join(items)


def accuracy(cases: Sequence[dict[str, Any]]) -> list[str]:
    """The property's accuracy grade (the weakest over its cases), when one was recorded."""
    found = [g["grade"] for c in cases for g in grades(c)]
    if not found:
        return []
    weaker = sorted({w for c in cases for g in grades(c) for w in g.get("weaker", [])})
    grade = "backward stable only" if "backward stable only" in found else found[0]
    return [grade + (f": {', '.join(weaker)}" if weaker else "")]


#: a docstring paragraph starting like this begins the list of what the properties check
CHECKS = re.compile(r"(Properties\b|What the properties check)")


def split_statement(statement: str) -> tuple[str, str]:
    """The theorem (hypotheses, claim, consequences) and the list of what is checked.

    The module format puts "Properties ..." (or "What the properties check ...") after
    the statement; without such a paragraph everything is statement.
    """
    paragraphs = statement.split("\n\n")
    for i, paragraph in enumerate(paragraphs):
        if i and CHECKS.match(paragraph):
            return "\n\n".join(paragraphs[:i]), "\n\n".join(paragraphs[i:])
    return statement, ""


def property_count(t: Theorem) -> int:
    """Its properties: test functions (the parametrized cases of one count once)."""
    return len({x["name"].split("[")[0] for x in t.tests})


def anchor(t: Theorem) -> str:
    """The HTML id of a theorem's block, from its module name."""
    return "theorem-" + re.sub(
        r"[^A-Za-z0-9_-]", "-", t.path.rsplit("/", 1)[-1].removesuffix(".py")
    )


def status(t: Theorem) -> str:
    """The theorem's status, coloured."""
    return f'<span class="{t.status.replace(" ", "-")}">{t.status}</span>'


def catalogue_tally(entries: Sequence[CatalogueEntry]) -> str:
    """Like "7 / 7 rejected, 2 / 2 peers accepted", or "none catalogued"."""
    wrong = [e for e in entries if not e.peer]
    peers = [e for e in entries if e.peer]
    if not entries:
        return "none catalogued"
    tally = f"{sum(e.as_expected for e in wrong)} / {len(wrong)} rejected"
    if peers:
        tally += f", {sum(e.as_expected for e in peers)} / {len(peers)} peers accepted"
    return tally


def wrong_table(entries: Sequence[CatalogueEntry]) -> str:
    """One row per entry: verdict, name, function, the mistake (or the peer's algorithm)."""
    rows = [
        [
            f'<span class="{e.verdict.lower().replace(" ", "-")}">'
            f"{VERDICT_MARK.get(e.verdict, '–')} {escape(e.verdict)}</span>",
            f"<code>{escape(e.name)}</code>",
            f"<code>{breakable(e.func)}</code>",
            ("correct peer: " if e.peer else "") + escape(e.note),
        ]
        for e in entries
    ]
    return table(
        ["audit", "contract name", "implementation", "the mistake / the algorithm"], rows
    ).replace("<table>", '<table class="wrong">', 1)


def catalogue_block(t: Theorem) -> str:
    """The wrong implementations (and correct peers) tried against its contract names."""
    names = ", ".join(sorted(t.uses))
    if not t.catalogue:
        reason = (
            f"no catalogue entry targets its contract names ({escape(names)})."
            if names
            else "its properties declare no contract name (@uses)."
        )
        return f"<h4>Wrong implementations tried</h4><p class=meta>None: {reason}</p>"
    return (
        f"<h4>Wrong implementations tried: {catalogue_tally(t.catalogue)} by the audits</h4>"
        f"<p class=meta>Every catalogue entry for {escape(names)} "
        "(properties/catalogue), audited with <code>pytest --impl NAME=MODULE:FUNC</code>: "
        "a wrong one is rejected when some property failed it; a peer (a correct "
        "implementation by another algorithm) is accepted when every property held.</p>"
        + wrong_table([*t.wrong, *t.peers])
    )


def proofs_block(t: Theorem) -> str:
    """The "proved for small sizes" mark: each passing ``@proves`` claim."""
    if not t.proofs:
        return ""
    items = "".join(
        f"<li>✓ <code>{escape(subject)}</code>: {escape(claim)}</li>" for subject, claim in t.proofs
    )
    return f"<h4>Proved for small sizes (SymPy)</h4><ul>{items}</ul>"


def theorem_block(t: Theorem) -> str:
    """A full-width block: header line, statement, failures, properties, catalogue."""
    broken = t.collection_error and (
        f'<div class="fail"><b>collection error</b>{pre(t.collection_error[-4000:], "long")}</div>'
    )
    shown, checks = split_statement(t.statement)
    details = checks and (
        f"<details><summary>What the properties check, and their oracles "
        f"({len(checks.splitlines())} lines)</summary>{pre(checks, 'statement')}</details>"
    )
    count = property_count(t)
    stats = " · ".join(
        [
            f"{count} propert{'y' if count == 1 else 'ies'}",
            f"{t.examples} examples",
            seconds(t.duration),
            f"wrong implementations: {catalogue_tally(t.catalogue)}",
            *(["proved for small sizes"] if t.proofs else []),
        ]
    )
    return (
        f'<section class="theorem is-{t.status.replace(" ", "-")}" id="{anchor(t)}">'
        f'<div class="thead"><span class="title">{escape(t.title)}</span>{status(t)}'
        f'<span class="meta">{escape(t.path)}</span><span class="stats">{stats}</span></div>'
        f"{pre(shown, 'statement')}{details or ''}"
        f"{''.join(failure(x) for x in t.failures)}{broken or ''}"
        f"<h4>Properties</h4>"
        f'<ul class="props">{property_items(t.tests) or "<li>none recorded"}</ul>'
        f"{proofs_block(t)}{catalogue_block(t)}</section>"
    )


def theorem_overview(theorems: Sequence[Theorem]) -> str:
    """One line per theorem, linking to its block."""
    rows = [
        [
            f'<a href="#{anchor(t)}">{escape(t.title)}</a>',
            status(t),
            f"num:{t.examples}",
            f"num:{seconds(t.duration)}",
            f"num:{catalogue_tally(t.catalogue)}",
        ]
        for t in theorems
    ]
    headers = ["theorem", "status", "examples", "time", "wrong implementations"]
    return table(headers, rows).replace("<table>", '<table class="overview">', 1)


def figure(f: Figure) -> str:
    """A figure with its caption and notes (the SVG is ours, from matplotlib)."""
    notes = "".join(f"<br>{escape(n)}" for n in f.notes)
    return f"<figure><figcaption><b>{escape(f.title)}</b>{notes}</figcaption>{f.svg}</figure>"


def coverage_section(cov: Coverage | None, link: str) -> str:
    """The coverage number, a link to coverage.py's HTML, and a per-file table."""
    if cov is None:
        return "<p>No coverage XML found (run <code>make report</code>).</p>"
    rows = [
        [escape(name), f"num:{100 * lines:.1f} %", f"num:{100 * branches:.1f} %"]
        for name, lines, branches in cov.files
    ]
    return (
        "<p>Branch coverage of <code>reference/</code> and <code>properties/strategies.py</code>:"
        f" <b>{cov.percent:.1f} %</b> (lines {cov.lines[0]}/{cov.lines[1]}, branches"
        f" {cov.branches[0]}/{cov.branches[1]}). "
        f'<a href="{escape(link)}">Line-by-line coverage report</a>.</p>'
        + table(["file", "lines", "branches"], rows)
    )


def benchmark_section(benches: Sequence[Bench], figures: Sequence[Figure]) -> str:
    """Ratio table and the benchmark figures."""
    if not benches:
        return "<p>No benchmark results (benchmarks/bench_*.py; run <code>make report</code>).</p>"
    rows = [
        [
            escape(b.group),
            f"<b>{escape(b.name)}</b>" if b.is_reference else escape(b.name),
            escape(b.case),
            f"num:{bench_time(b.median)}",
            f"num:{bench_time(b.mean)} ± {bench_time(b.stddev)}",
            f"num:{b.rounds}",
            f"num:{b.ratio:.2f}×",
        ]
        for b in sorted(benches, key=bench_order)
    ]
    return (
        "<p>Median time per call (pytest-benchmark); reference benchmarks in bold. "
        "<b>ratio</b> = median / the fastest median of the same group and case.</p>"
        + table(["group", "benchmark", "case", "median", "mean ± sd", "rounds", "ratio"], rows)
        + '<div class="grid">'
        + "".join(figure(f) for f in figures)
        + "</div>"
    )


def errata_section(errata: Sequence[dict[str, str]]) -> str:
    """Each mistake of the answer key: claim, correction, minimal counterexample."""
    if not errata:
        return "<p>No erratum recorded in this run (tests named test_erratum_* record them).</p>"
    rows = [
        [
            escape(e.get("problem", "?"))
            + ("" if e["outcome"] == "passed" else f" <b class=failed>({escape(e['outcome'])})</b>")
            + f"<br><span class=meta>{breakable(e['test'])}</span>",
            pre(e.get("claim", "")),
            pre(e.get("correction", "")),
            pre(e.get("counterexample", "")),
        ]
        for e in errata
    ]
    widths = "".join(f'<col style="width:{w}%">' for w in (16, 28, 28, 28))
    return table(
        ["problem", "the key claims", "correction", "minimal counterexample"], rows
    ).replace("<table>", f'<table class="theorems"><colgroup>{widths}</colgroup>', 1)


def html_page(r: Report) -> str:
    """The whole page."""
    session = r.results.get("session", {})
    tests = r.results.get("tests", [])
    counts = Counter(t["outcome"] for t in tests)
    started = time.localtime(session.get("started", time.time()))
    cards = {
        "theorems held": f"{sum(t.status == 'held' for t in r.theorems)} / {len(r.theorems)}",
        "tests passed": f"{counts['passed']} / {len(tests)}",
        "failed": str(sum(counts[o] for o in FAILING)),
        "examples tried": str(sum(t.examples for t in r.theorems)),
        "wrong impls rejected": catalogue_tally(all_entries(r)).removesuffix(" rejected"),
        "errata": str(len(r.errata)),
        "coverage": f"{r.coverage.percent:.1f} %" if r.coverage else "n/a",
        "run time": seconds(float(session.get("duration", 0.0))),
    }
    meta = (
        f"Run {time.strftime('%Y-%m-%d %H:%M', started)} · Hypothesis profile "
        f"<b>{escape(str(session.get('hypothesis_profile', '?')))}</b> "
        f"({escape(str(session.get('max_examples', '?')))} examples per property) · pytest exit "
        f"status {escape(str(session.get('exitstatus', '?')))} · Python "
        f"{escape(str(session.get('python', '?')))}, Hypothesis "
        f"{escape(str(session.get('hypothesis', '?')))}"
    )
    if r.theorems:
        theorem_html = theorem_overview(r.theorems) + "".join(map(theorem_block, r.theorems))
    else:
        theorem_html = "<p>No theorem module (properties/test_*.py) exists yet.</p>"
    if r.unclaimed:
        theorem_html += (
            "<h3>Catalogue entries whose contract name no theorem declares</h3>"
            + wrong_table(r.unclaimed)
        )
    if r.catalogue_note:
        theorem_html += f"<p class=failed>{escape(r.catalogue_note)}</p>"
    others = "".join(failure(x) for x in r.other_failures) + "".join(
        f'<div class="fail"><b>{escape(e["nodeid"])}</b>{pre(e["longrepr"][-3000:], "long")}</div>'
        for e in r.other_collection_errors
    )
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width,initial-scale=1">',
        f"<title>nnlaws report</title><style>{CSS}</style></head><body><main>",
        f"<h1>nnlaws: which theorems hold</h1><p class=meta>{meta}</p><div class=cards>",
        *(f"<div class=card>{escape(k)}<b>{escape(v)}</b></div>" for k, v in cards.items()),
        "</div><h2 id=theorems>Theorems</h2>",
        "" if r.results else "<p class=failed>No test record (results.json): statuses unknown.</p>",
        theorem_html,
        others and f"<h3>Other failing tests (meta tests, benchmarks, collection)</h3>{others}",
        f"<h2 id=errata>Errata of the answer key</h2>{errata_section(r.errata)}",
        f"<h2 id=coverage>Coverage</h2>{coverage_section(r.coverage, r.coverage_link)}",
        render_mutation(MUTATION_JSON),
        f"<h2 id=benchmarks>Benchmarks</h2>{benchmark_section(r.benches, r.bench_figures)}",
        f"<h2 id=frameworks>Frameworks</h2>{frameworks.html_section()}",
        "<h2 id=plots>Plots</h2><div class=grid>",
        *(figure(f) for f in r.figures),
        "</div></main></body></html>",
    ]
    return "\n".join(parts)


def all_entries(r: Report) -> list[CatalogueEntry]:
    """Every catalogue entry once (an entry may sit under several theorems)."""
    found = {e.id: e for t in r.theorems for e in t.catalogue}
    found.update((e.id, e) for e in r.unclaimed)
    return list(found.values())


def cell(text: str) -> str:
    """Text fit for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def markdown(r: Report) -> str:
    """The terminal / code-review version of the page."""
    session = r.results.get("session", {})
    lines = [
        "# nnlaws report",
        "",
        f"Hypothesis profile `{session.get('hypothesis_profile', '?')}`, pytest exit status "
        f"{session.get('exitstatus', '?')}, run time {float(session.get('duration', 0.0)):.1f} s."
        " Full page: `reports/index.html`.",
        "",
        "| theorem | status | properties | examples | time | wrong implementations |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {cell(t.title)} (`{t.path}`) | **{t.status}** | {property_count(t)} | {t.examples} "
        f"| {t.duration:.2f} s | {catalogue_tally(t.catalogue)} |"
        for t in r.theorems
    ] or ["| (no theorem module yet) | | | | | |"]
    for t in r.theorems:
        for x in t.failures:
            text = x.get("counterexample") or x.get("message") or x.get("longrepr", "")
            lines += ["", f"### {t.title} `{x['name']}` {x['outcome']}", "", "```", text[:3000]]
            lines += ["```"]
    lines += [
        "",
        "## Wrong implementations tried",
        "",
        "Each catalogue entry (properties/catalogue) under every theorem whose properties "
        "declare its contract name; *rejected*: its audit `pytest --impl NAME=MODULE:FUNC` "
        "failed some property.",
    ]
    if r.catalogue_note:
        lines += ["", r.catalogue_note]
    unclaimed = [("Contract names no theorem declares", r.unclaimed)] if r.unclaimed else []
    for title, entries in [*((t.title, t.catalogue) for t in r.theorems), *unclaimed]:
        lines += ["", f"### {title} ({catalogue_tally(entries)})", ""]
        if not entries:
            lines.append("No catalogue entry targets its contract names.")
        else:
            lines += ["| audit | implementation | the mistake / the algorithm |", "|---|---|---|"]
            lines += [
                f"| {e.verdict if e.as_expected or e.outcome == 'not run' else f'**{e.verdict}**'} "
                f"| `{e.id}` | {'correct peer: ' if e.peer else ''}{cell(e.note)} |"
                for e in entries
            ]
    lines += ["", "## Errata", ""]
    lines += [
        f"- **{e.get('problem', '?')}** (`{e['test']}`, {e['outcome']}): the key claims "
        f"{cell(e.get('claim', ''))}; correct: {cell(e.get('correction', ''))}; "
        f"counterexample: `{cell(e.get('counterexample', ''))}`"
        for e in r.errata
    ] or ["None recorded."]
    lines += ["", "## Coverage", ""]
    cov = r.coverage
    lines.append(
        f"{cov.percent:.1f} % of reference/ and properties/strategies.py (lines "
        f"{cov.lines[0]}/{cov.lines[1]}, branches {cov.branches[0]}/{cov.branches[1]}); "
        "HTML: `reports/coverage/html/index.html`"
        if cov
        else "No coverage data."
    )
    lines += ["", "## Benchmarks", ""]
    if r.benches:
        lines += ["| group | benchmark | case | median | ratio |", "|---|---|---|---:|---:|"]
        lines += [
            f"| {b.group} | {b.name} | {cell(b.case)} | {bench_time(b.median)} | {b.ratio:.2f}x |"
            for b in sorted(r.benches, key=bench_order)
        ]
    else:
        lines.append("No benchmark results.")
    lines += ["", "## Frameworks", "", frameworks.markdown_section()]
    lines += ["", "## Plots", ""]
    lines += [
        f"- {f.title}: {'in index.html' if f.svg else 'absent'}. {' '.join(f.notes)}"
        for f in [*r.bench_figures, *r.figures]
    ]
    return "\n".join(lines) + "\n"
