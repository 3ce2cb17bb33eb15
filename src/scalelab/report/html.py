"""The report as one self-contained HTML document: a sticky numbered contents menu, provenance, a
headline box, then each section's prose, tables and figures (SVG or PNG embedded as data URIs, so
the file works offline and can be forwarded as is). No scripts, no external resources."""

from __future__ import annotations

import base64
import html
import re

from scalelab.report.render import table_alignments
from scalelab.report.section import Figure, KeyNumber, Section, Table

VERDICTS = (("holds", "v-holds"), ("partly", "v-partly"), ("does not hold", "v-fails"),
            ("untested", "v-untested"))  # fmt: skip
COLLAPSE_ROWS = 12  # HTML-only tables longer than this start folded
PLAN_CELL = re.compile(r"^(TP\d+(?:·CP\d+)?·PP\d+(?:·EP\d+)?·DP[\d?]+)( .*)?$")

_CSS = """
:root{--ink:#1b1b1b;--muted:#5b6470;--line:#d8dee6;--accent:#24476b;--band:#f3f6f9}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink)}
.layout{display:grid;grid-template-columns:250px minmax(0,1fr);min-height:100vh}
nav.toc{position:sticky;top:0;align-self:start;height:100vh;overflow-y:auto;padding:1.2em 1em;
 background:var(--band);border-right:1px solid var(--line);font-size:.88em}
nav.toc .brand{font-weight:700;color:var(--accent);margin-bottom:.8em}
nav.toc ol{margin:0;padding:0;list-style:none;counter-reset:toc}
nav.toc li{margin:.35em 0}
nav.toc a{color:var(--ink);text-decoration:none;display:flex;gap:.5em}
nav.toc a:hover{color:var(--accent);text-decoration:underline}
nav.toc .n{color:var(--muted);min-width:1.4em;text-align:right;font-variant-numeric:tabular-nums}
main{padding:1.5em 2.2em 4em;max-width:1180px}
h1{margin:.2em 0 .3em;font-size:1.7em;color:var(--accent)}
h2{margin:2.2em 0 .5em;padding-top:.4em;border-top:2px solid var(--accent);color:var(--accent);
 scroll-margin-top:.5em}
h2 .n{color:var(--muted);margin-right:.4em}
p{margin:.5em 0;white-space:pre-line;max-width:75em}
.provenance{font-size:.82em;color:var(--muted);border:1px solid var(--line);border-radius:6px;
 padding:.5em .8em;margin:.5em 0 1.2em;display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em}
.provenance dt{font-weight:600}.provenance dd{margin:0}
.headline{display:grid;grid-template-columns:repeat(auto-fit,minmax(185px,1fr));gap:.7em;
 margin:1em 0;padding:.9em;border:2px solid var(--accent);border-radius:8px;background:#fbfcfe}
.headline .k{display:block;color:inherit;text-decoration:none;padding:.2em .4em}
.headline .label{font-size:.78em;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.headline .value{font-size:1.35em;font-weight:700;color:var(--accent);line-height:1.25;
 font-variant-numeric:tabular-nums}
.headline .detail{font-size:.8em;color:var(--muted)}
.tablewrap{overflow-x:auto;margin:1em 0}
table{border-collapse:collapse;font-size:.86em}
caption{text-align:left;font-weight:600;padding:.3em 0;caption-side:top}
th,td{border-bottom:1px solid var(--line);padding:.3em .65em;text-align:left;vertical-align:top}
th{background:var(--band);border-bottom:2px solid var(--line);white-space:nowrap}
td.r,th.r{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr:hover td{background:#f8fafc}
code.plan{font:0.95em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:nowrap;
 background:#eef2f7;padding:.05em .3em;border-radius:3px}
code.cmd{font:0.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:#2d3a4a}
.v-holds,.v-partly,.v-fails,.v-untested{border-left:4px solid;padding-left:.45em;display:block}
.v-holds{border-color:#3d8b50}.v-partly{border-color:#d89a2b}.v-fails{border-color:#c0392b}
.v-untested{border-color:#9aa4ae;color:var(--muted)}
.note{color:var(--muted);font-size:.84em;margin-top:.3em}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:.84em}
details{margin:1em 0}summary{cursor:pointer;font-weight:600;font-size:.9em;color:var(--accent)}
footer{margin-top:3em;color:var(--muted);font-size:.8em}
@media (max-width:900px){.layout{display:block}nav.toc{position:static;height:auto}}
@media print{nav.toc{display:none}.layout{display:block}}
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _cell(text: str, align: str, header: bool = False) -> str:
    tag = "th" if header else "td"
    cls = ' class="r"' if align == "right" else ""
    plan = PLAN_CELL.match(text)
    verdict = next((cls for prefix, cls in VERDICTS if text.startswith(prefix)), None)
    if plan:
        body = f'<code class="plan">{_e(plan[1])}</code>{_e(plan[2] or "")}'
    elif text.startswith("scalelab ") and not header:
        body = f'<code class="cmd">{_e(text)}</code>'
    elif verdict and not header:
        body = f'<span class="{verdict}">{_e(text)}</span>'
    else:
        body = _e(text)
    return f"<{tag}{cls}>{body}</{tag}>"


def html_table(table: Table) -> str:
    aligns = table_alignments(table)
    head = "".join(_cell(c, a, header=True) for c, a in zip(table.columns, aligns, strict=True))
    body = "".join(
        "<tr>" + "".join(_cell(c, a) for c, a in zip(row, aligns, strict=False)) + "</tr>"
        for row in table.rows
    )
    note = f'<p class="note">{_e(table.note)}</p>' if table.note else ""
    block = (
        f'<div class="tablewrap"><table><caption>{_e(table.title)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}"
    )
    if table.terminal or len(table.rows) <= COLLAPSE_ROWS:
        return block
    # Long reference tables (assumptions, every metric) start folded: the reader opens them.
    return (
        f"<details><summary>{_e(table.title)} ({len(table.rows)} rows)</summary>{block}</details>"
    )


def _figure(fig: Figure) -> str:
    mime = "image/png" if fig.image.startswith(b"\x89PNG") else "image/svg+xml"
    data = base64.b64encode(fig.image).decode("ascii")
    return (
        f'<figure><img alt="{_e(fig.caption)}" src="data:{mime};base64,{data}">'
        f"<figcaption>{_e(fig.caption)}</figcaption></figure>"
    )


def _nav(sections: list[Section]) -> str:
    items = [
        f'<li><a href="#{_e(s.id)}"><span class="n">{i}</span><span>{_e(s.title)}</span></a></li>'
        for i, s in enumerate(sections, start=1)
    ]
    return (
        '<nav class="toc" aria-label="Contents"><div class="brand">scalelab report</div>'
        f'<ol><li><a href="#top"><span class="n"></span><span>At a glance</span></a></li>'
        f"{''.join(items)}</ol></nav>"
    )


def _provenance(items: dict[str, str]) -> str:
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items.items())
    return f'<dl class="provenance" id="provenance">{rows}</dl>'


def _headline(numbers: list[tuple[KeyNumber, str]]) -> str:
    cards = "".join(
        f'<a class="k" href="#{_e(sid)}"><span class="label">{_e(k.label)}</span><br>'
        f'<span class="value">{_e(k.value)}</span><br><span class="detail">{_e(k.detail)}</span></a>'
        for k, sid in numbers
    )
    return f'<div class="headline" id="headline">{cards}</div>'


def _section(number: int, section: Section) -> str:
    parts = [
        f'<section id="{_e(section.id)}"><h2><span class="n">{number}</span>{_e(section.title)}</h2>'
    ]
    parts += [f"<p>{_e(p.strip())}</p>" for p in section.summary.split("\n\n") if p.strip()]
    parts += [html_table(t) for t in section.tables]
    parts += [_figure(f) for f in section.figures]
    return "".join(parts) + "</section>"


def render_html(
    title: str,
    sections: list[Section],
    provenance: dict[str, str] | None = None,
    headline: list[tuple[KeyNumber, str]] | None = None,
    lead: str = "",
    overview: list[Table] | None = None,
) -> str:
    """One HTML document, every figure embedded, readable offline and in print: title, provenance,
    headline box, `lead` paragraph and `overview` tables, then the numbered sections."""
    body = [f'<h1 id="top">{_e(title)}</h1>']
    body += [_provenance(provenance)] if provenance else []
    body += [_headline(headline)] if headline else []
    body += [f"<p>{_e(lead)}</p>"] if lead else []
    body += [html_table(t) for t in overview or []]
    body += [_section(i, s) for i, s in enumerate(sections, start=1)]
    body.append("<footer>Generated by scalelab. Every number is computed by the model, measured, or "
                "read from a catalog entry with its source; results.json beside this file holds "
                "them all.</footer>")  # fmt: skip
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_CSS}</style>'
        f'</head><body><div class="layout">{_nav(sections)}<main>{"".join(body)}</main>'
        "</div></body></html>"
    )
