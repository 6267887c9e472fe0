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
    fmt = lambda x: figures.sig(x) + " " + unit  # noqa: E731
    for s in strategies:
        p.add(line(ctx, wl, s, lambda n, s=s: run.throughput(wl, s, n), fmt))
    text = lambda sp: figures.spread_text(sp, unit_name=unit)  # noqa: E731
    sec.chart = chart
    values = {"file_size": run.meta.get("file_size", "?")}
    n = run.largest_common(wl, strategies)
    if n:
        rates = {s: run.throughput(wl, s, n) for s in strategies}
        best = max((s for s in rates if s != "epoll"), key=lambda s: rates[s].median or 0,
                   default=None)
        values.update(count=n, best=best or "–",
                      best_rate=text(rates[best]) if best else "–",
                      epoll_rate=text(rates.get("epoll", figures.Spread([]))))
    sec.takeaway = fill(w.get("takeaway", ""), values)
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    sec.commands = commands_at_largest(ctx, wl, strategies)
    timed = [(s, c) for s in run.strategies for c in run.counts(wl, s)
             if run.hyperfine.get((wl, s, c))]
    bound = [sc for sc in timed if startup_bound(run, wl, *sc)]
    if bound:
        sec.notes.append("%d of the %d file runs timed as whole commands took over twice as "
                         "long as their reading: their whole-command times (appendix) are "
                         "start-up and exit, not I/O, and are not compared here."
                         % (len(bound), len(timed)))
    return sec
