"""render_html - index.html: self-contained (CSS and every chart's SVG inlined, gnuplot's
mouse script with it), a table of contents, then the sections and the appendix."""

import html
import os
import re

from markupsafe import Markup


def inline(text):
    """Text with `code` spans, escaped."""
    parts = re.split(r"`([^`]*)`", str(text))
    out = []
    for i, p in enumerate(parts):
        out.append(("<code>%s</code>" if i % 2 else "%s") % html.escape(p))
    return Markup("".join(out))


def htmltable(table):
    out = ["<table>"]
    if table.title:
        out.append("<caption>%s</caption>" % html.escape(table.title))
    out.append("<tr>" + "".join("<th>%s</th>" % html.escape(str(c))
                                for c in table.columns) + "</tr>")
    for r in table.rows:
        out.append("<tr>" + "".join("<td>%s</td>" % html.escape(str(c)) for c in r)
                   + "</tr>")
    out.append("</table>")
    for n in table.notes:
        if n:
            out.append("<p class=\"notes\">%s</p>" % inline(n))
    return Markup("\n".join(out))


def svg_inline(folder, name):
    """charts/NAME.svg without its XML prolog and doctype, for an HTML page."""
    path = os.path.join(folder, "charts", name + ".svg")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    start = text.find("<svg")
    return Markup(text[start:]) if start >= 0 else None


def render(env, context, folder, templates):
    env.filters["htmltable"] = htmltable
    env.filters["inline"] = inline
    with open(os.path.join(templates, "style.css"), encoding="utf-8") as f:
        css = Markup(f.read())
    with open(os.path.join(templates, "selftest.js"), encoding="utf-8") as f:
        selftest = Markup(f.read())
    with open(os.path.join(folder, "index.html"), "w", encoding="utf-8") as f:
        f.write(env.get_template("index.html.j2").render(css=css, selftest=selftest,
                                                         **context))
