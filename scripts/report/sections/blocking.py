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
    both = [s for s in ("blocking", "epoll") if s in strategies]
    n = run.largest_common(wl, both) if len(both) == 2 else None
    if n:
        a = run.summary_spread(wl, "blocking", n, "wall_s")
        b = run.summary_spread(wl, "epoll", n, "wall_s")
        values.update(count=n, blocking_wall=figures.spread_text(a),
                      epoll_wall=figures.spread_text(b),
                      ratio="blocking " + figures.times(figures.ratio(a, b)) + " slower")
        sec.takeaway = fill(w.get("takeaway", ""), values)
    else:
        sec.takeaway = "blocking and epoll were not both measured on the sleep workload."
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    sec.commands = commands_at_largest(ctx, wl, strategies)
    return sec
