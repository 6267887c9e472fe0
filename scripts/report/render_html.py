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


PLUGIN = re.compile(r"<script type=\"text/javascript\" > <!\[CDATA\[.*?\]\]>\s*</script>",
                    re.S)


def svg_inline(folder, name, keep_plugin=True):
    """charts/NAME.svg without its XML prolog and doctype, for an HTML page. gnuplot's mouse
    script (the first <script> of each SVG, 35 KB, the same in all) is needed once a page: it
    attaches itself to every gnuplot SVG of the page when the page loads. Without it, an
    empty <script> stays in its place, so that each SVG's settings remain its second one."""
    path = os.path.join(folder, "charts", name + ".svg")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    start = text.find("<svg")
    if start < 0:
        return None
    text = text[start:]
    if not keep_plugin:
        text = PLUGIN.sub('<script type="text/javascript"></script>', text, count=1)
    return Markup(text)


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
