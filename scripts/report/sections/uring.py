"""io_uring: the time per task beyond the wait, for the event loops, over the task counts."""

from .. import charts, figures
from ..model import Section, fill
from . import commands_at_largest, line

KEY = "uring"


def cost_text(run, wl, s, n):
    return figures.spread_text(run.overhead_per_task(wl, s, n))


def build(ctx):
    run, w = ctx.run, ctx.words(KEY)
    wl = "sleep"
    strategies = ctx.wanted(KEY, run.c)
    if "uring" not in strategies:
        return None
    sec = Section(KEY, w.get("title", KEY))
    chart = charts.Chart("uring", sec.title)
    p = chart.panel(xlabel="tasks (log scale)", ylabel="per task beyond the wait, µs (log)",
                    logx=True, logy=True)
    us = lambda x: figures.sig(x) + " µs"
    for s in strategies:
        p.add(line(ctx, wl, s,
                   lambda n, s=s: run.overhead_per_task(wl, s, n).scaled(1e6), us))
    sec.chart = chart
    values = {}
    n = run.largest_common(wl, ["epoll", "uring"])
    if n:
        values.update(count=n, epoll_cost=cost_text(run, wl, "epoll", n),
                      uring_cost=cost_text(run, wl, "uring", n))
    sec.takeaway = fill(w.get("takeaway", ""), values)
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    sec.commands = commands_at_largest(ctx, wl, strategies)
    return sec
