"""generate - the pipeline: the run folder read once, every section built, the charts drawn,
then one renderer per output."""

import os
import re
import sys
import tomllib

import jinja2

from . import appendix, charts, render_html, render_md, render_slides, sections
from .run import Run

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "templates")
STYLE = os.path.join(os.path.dirname(HERE), "charts.gp")


def load_wording(path=None):
    with open(path or os.path.join(HERE, "wording.toml"), "rb") as f:
        return tomllib.load(f)


def anchor(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def build(run, wording):
    ctx = sections.Context(run, wording)
    built = []
    for module in sections.ORDER:
        sec = module.build(ctx)
        if sec is not None:
            sec.anchor = anchor(sec.title)
            built.append(sec)
    return built


def main(argv):
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python3 scripts/report RUN_FOLDER", file=sys.stderr)
        return 2
    folder = argv[0]
    if not os.path.isfile(os.path.join(folder, "meta.tsv")):
        print("report: %s has no meta.tsv: not a make bench run folder" % folder,
              file=sys.stderr)
        return 2
    wording = load_wording()
    run = Run(folder)
    built = build(run, wording)

    writer = charts.Writer(folder)
    for sec in built:
        sec.chart_file = sec.chart.name if sec.chart and writer.add(sec.chart) else None
    for name, err in writer.draw(STYLE).items():
        print("report: gnuplot could not draw the chart %s: %s" % (name, err),
              file=sys.stderr)
    for sec in built:
        if sec.chart_file and not (
                os.path.exists(os.path.join(folder, "charts", sec.chart_file + ".png"))
                and os.path.exists(os.path.join(folder, "charts", sec.chart_file + ".svg"))):
            print("report: chart %s was not drawn" % sec.chart_file, file=sys.stderr)
            sec.chart_file = None
        first = not any(getattr(s, "svg", None) for s in built if s is not sec)
        sec.svg = (render_html.svg_inline(folder, sec.chart_file, keep_plugin=first)
                   if sec.chart_file else None)

    w = wording.get("report", {})
    meta = dict(run.meta)
    context = dict(
        title=w.get("title", "iostrat"),
        subtitle=w.get("subtitle", "").format_map(_Default(meta)),
        commands_note=w.get("commands_note", ""),
        sections=built,
        failed=run.failed_steps(),
        failed_title=w.get("failed_title", "Steps that failed"),
        failed_none=w.get("failed_none", ""),
        failed_intro=w.get("failed_intro", ""),
        method_title=w.get("method_title", "How it was measured"),
        method=w.get("method", ""),
        repeat=meta.get("repeat", "make bench"),
        elapsed=meta.get("elapsed_s", "?"),
        appendix=None,
        tables=None,
        nsvg=sum(1 for s in built if s.svg),
    )
    context["tables"] = context["appendix"] = appendix.tables(run, built)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html.j2"]),
                             keep_trailing_newline=True, trim_blocks=False)
    try:
        render_md.render(env, context, folder)
        render_html.render(env, context, folder, TEMPLATES)
        render_slides.render(env, context, folder, TEMPLATES)
    except (OSError, jinja2.TemplateError) as e:
        print("report: writing the report into %s failed: %s" % (folder, e), file=sys.stderr)
        return 1
    print("report: %s/report.md, index.html, slides.html (%d sections)"
          % (folder, len(built)))
    return 0


class _Default(dict):
    def __missing__(self, key):
        return "?"
