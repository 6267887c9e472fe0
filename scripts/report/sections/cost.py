"""The cost of one task: for every strategy, C and the tutorial's Python, the time per task
beyond the wait and the memory per task added, each with its spread; a figure whose
uncertainty exceeds it is withheld with the reason."""

from .. import charts, figures
from ..model import Section, Table
from .processes import memory_slope

KEY = "cost"


def time_cell(sp):
    """µs per task: 'median (lo–hi, k runs)', withheld when half the range exceeds it."""
    if not sp:
        return "not measured", None
    half = (sp.hi - sp.lo) / 2
    if sp.count > 1 and half > abs(sp.median):
        return ("withheld: its range (%s–%s µs) is wider than twice its value"
                % (figures.sig(sp.lo * 1e6), figures.sig(sp.hi * 1e6))), None
    return figures.spread_text(sp.scaled(1e6), lambda x: figures.sig(x)), sp


def memory_cell(d):
    if d:
        return "%s ± %s" % (figures.kib(d.value), figures.kib(d.uncertainty))
    return figures.derived_text(d)


def rows(ctx, wl="sleep"):
    run = ctx.run
    out = []
    for s in run.c + run.python:
        counts = run.counts(wl, s)
        if not counts:
            continue
        n = counts[-1]
        text, sp = time_cell(run.overhead_per_task(wl, s, n))
        d, key, _, n1, n2 = memory_slope(run, wl, s)
        out.append({"strategy": s, "count": n, "time": text, "time_spread": sp,
                    "memory": memory_cell(d), "memory_derived": d,
                    "memory_range": "%s → %s" % (n1, n2) if n1 else "–",
                    "memory_key": key or "–"})
    return out


def build(ctx):
    run, w = ctx.run, ctx.wording.get("report", {})
    sec = Section(KEY, w.get("cost_title", "The cost of one task"))
    data = rows(ctx)
    if not data:
        return None
    sec.explain = w.get("cost_intro", "")
    sec.tables.append(Table(
        sec.title,
        ["strategy", "tasks", "µs per task beyond the wait", "KiB per task",
         "memory: tasks", "memory figure"],
        [[r["strategy"], r["count"], r["time"], r["memory"], r["memory_range"],
          r["memory_key"]] for r in data],
        notes=["%s: %s" % (key, what) for key, what in _keys_used(run, data)]))
    # the slide a lecturer quotes: the table itself, its two figures and their spread
    sec.slide_table = Table("", ["strategy", "tasks", "µs per task beyond the wait",
                                 "KiB per task"],
                            [[r["strategy"], r["count"], r["time"], r["memory"]]
                             for r in data[:16]])
    chart = charts.Chart("cost", sec.title)
    chart.kind = "dots"
    chart.panel(xlabel="per task beyond the wait, µs (log), sleep, at the largest count",
                logx=True)
    chart.dots = []
    for r in data:
        sp = r["time_spread"]
        name = "Python" if r["strategy"].startswith("python-") else "C"
        if sp and sp.median > 0:
            chart.dots.append(("%s (%d)" % (r["strategy"], r["count"]), name,
                               24 if name != "C" else 2, sp.median * 1e6,
                               max(sp.lo * 1e6, 1e-3), sp.hi * 1e6,
                               "%s, %d tasks: %s" % (r["strategy"], r["count"], r["time"])))
        else:
            # a row without a figure keeps its place, and says why it has no point
            chart.dots.append(("%s: withheld" % r["strategy"], name, 24 if name != "C" else 2,
                               None, None, None, r["time"]))
    # the slide shows the chart; at most ~16 rows fit a screen
    chart.dots = chart.dots[:16]
    sec.chart = chart
    best = [r for r in data if r["time_spread"] and not r["strategy"].startswith("python-")]
    if best:
        lo = min(best, key=lambda r: r["time_spread"].median)
        hi = max(best, key=lambda r: r["time_spread"].median)
        sec.takeaway = ("In C, from %s (%s µs a task at %d tasks) to %s (%s µs at %d)."
                        % (lo["strategy"], figures.sig(lo["time_spread"].median * 1e6),
                           lo["count"], hi["strategy"],
                           figures.sig(hi["time_spread"].median * 1e6), hi["count"]))
    sec.question = "Which row would you quote to argue for an event loop, and which against?"
    return sec


def _keys_used(run, data):
    from ..run import MEMORY_KEYS
    used = {r["memory_key"] for r in data}
    return [(k, what) for k, what in MEMORY_KEYS if k in used]
