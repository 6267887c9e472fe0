"""Files cannot be waited on by epoll: in-program throughput of reading a set of files
(MB/s), against the number of files read at once."""

from .. import charts, figures
from ..model import Section, Table, fill
from . import commands_at_largest, line

KEY = "files"


def startup_bound(run, workload, strategy, count):
    """True when the whole command took more than twice the in-program run: the command's
    time is mostly start-up and exit, not I/O."""
    hf = figures.Spread(run.hyperfine.get((workload, strategy, count), []))
    wall = run.summary_spread(workload, strategy, count, "wall_s")
    return bool(hf and wall and hf.median > 2 * wall.median)


def build(ctx):
    run, w = ctx.run, ctx.words(KEY)
    wl = "file"
    if wl not in run.workloads:
        return None
    sec = Section(KEY, w.get("title", KEY))
    strategies = ctx.wanted(KEY, run.c)
    unit = figures.throughput_unit(wl)
    chart = charts.Chart("files", sec.title)
    p = chart.panel(xlabel="files read at once (log scale)",
                    ylabel="in-program throughput, %s (log)" % unit, logx=True, logy=True)
    fmt = lambda x: figures.sig(x) + " " + unit
    for s in strategies:
        p.add(line(ctx, wl, s, lambda n, s=s: run.throughput(wl, s, n), fmt))
    sec.chart = chart
    values = {"file_size": run.meta.get("file_size", "?")}
    n = run.largest_common(wl, strategies)
    if n:
        rates = {s: run.throughput(wl, s, n) for s in strategies}
        best = max(rates, key=lambda s: rates[s].median or 0)
        values.update(count=n, best=best, best_rate=figures.spread_text(rates[best], fmt),
                      epoll_rate=figures.spread_text(rates.get("epoll", figures.Spread([])),
                                                     fmt))
    sec.takeaway = fill(w.get("takeaway", ""), values)
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    sec.commands = commands_at_largest(ctx, wl, strategies)
    bound = [(s, c) for s in run.strategies for c in run.counts(wl, s)
             if startup_bound(run, wl, s, c)]
    if bound:
        sec.notes.append("Mostly start-up, not compared as I/O (the whole command took over "
                         "twice the in-program run): "
                         + ", ".join("%s × %d" % sc for sc in bound) + ".")
    return sec
