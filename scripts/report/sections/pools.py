"""Pools, prefork and coroutines: the time per task beyond the wait of the strategies that
start their workers once, beside those that start one per task."""

from .. import charts, figures
from ..model import Section, fill
from . import commands_at_largest, line

KEY = "pools"
NEW = ("pool", "prefork", "coroutines")


def build(ctx):
    run, w = ctx.run, ctx.words(KEY)
    wl = "sleep"
    strategies = ctx.wanted(KEY, run.c)
    sec = Section(KEY, w.get("title", KEY))
    chart = charts.Chart("pools", sec.title)
    p = chart.panel(xlabel="tasks (log scale)", ylabel="per task beyond the wait, µs (log)",
                    logx=True, logy=True)
    us = lambda x: figures.sig(x) + " µs"
    for s in strategies:
        p.add(line(ctx, wl, s,
                   lambda n, s=s: run.overhead_per_task(wl, s, n).scaled(1e6), us))
    sec.chart = chart
    missing = [s for s in NEW if s not in run.c]
    values = {"missing": ("Not in this run (this build of iostrat does not list them): %s."
                          % ", ".join(missing)) if missing else ""}
    n = run.largest_common(wl, strategies)
    if n:
        costs = sorted(((run.overhead_per_task(wl, s, n), s) for s in strategies),
                       key=lambda cs: cs[0].median if cs[0] else float("inf"))
        values.update(count=n, ranking="; ".join(
            "%s %s" % (s, figures.spread_text(sp)) for sp, s in costs))
    sec.takeaway = fill(w.get("takeaway", ""), values)
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    sec.commands = commands_at_largest(ctx, wl, strategies)
    return sec
