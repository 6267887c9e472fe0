"""Blocking scales poorly: in-program wall time against task count, each task one fixed
sleep, with the ideal of waiting for all at once."""

from .. import charts, figures
from ..model import Section, fill
from . import commands_at_largest, line

KEY = "blocking"


def build(ctx):
    run, w = ctx.run, ctx.words(KEY)
    sec = Section(KEY, w.get("title", KEY))
    wl = "sleep"
    strategies = ctx.wanted(KEY, run.c)
    delay = float(run.meta.get("sweep_delay_s") or 0)
    chart = charts.Chart("blocking", sec.title)
    p = chart.panel(xlabel="tasks (log scale)", ylabel="in-program wall time, s (log)",
                    logx=True, logy=True)
    for s in strategies:
        p.add(line(ctx, wl, s, lambda n, s=s: run.summary_spread(wl, s, n, "wall_s"),
                   figures.seconds))
    counts = sorted({n for s in strategies for n in run.counts(wl, s)})
    if delay and counts and len(p.series) < charts.MAX_SERIES:
        p.add(charts.Series("ideal: all at once", 40,
                            [(n, delay, delay, delay, "ideal: %s" % figures.seconds(delay))
                             for n in counts], style="lines", hover=False))
    sec.chart = chart
    values = {"delay": figures.seconds(delay)}
    # blocking beside epoll, or else the fastest other strategy at the largest count both ran
    others = [s for s in strategies if s != "blocking"]
    best = None
    for other in (["epoll"] if "epoll" in others else []) + others:
        n = run.largest_common(wl, ["blocking", other])
        if n and "blocking" in strategies:
            wall = run.summary_spread(wl, other, n, "wall_s")
            if best is None or other == "epoll" or wall.median < best[2].median:
                best = (other, n, wall)
            if other == "epoll":
                break
    if best:
        other, n, b = best
        a = run.summary_spread(wl, "blocking", n, "wall_s")
        values.update(count=n, blocking_wall=figures.spread_text(a), other=other,
                      other_wall=figures.spread_text(b),
                      ratio=figures.times(figures.ratio(a, b)))
        sec.takeaway = fill(w.get("takeaway", ""), values)
    else:
        sec.takeaway = "blocking was not measured beside another strategy on the sleep workload."
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    sec.commands = commands_at_largest(ctx, wl, strategies)
    return sec
