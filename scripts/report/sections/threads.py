"""Threads share one heap, but each has a stack: the stack address space the threads reserved
against what of it was resident, over the task counts."""

from .. import charts, figures
from ..model import Section, fill
from . import commands_at_largest

KEY = "threads"


def build(ctx):
    run, w = ctx.run, ctx.words(KEY)
    sec = Section(KEY, w.get("title", KEY))
    wl = "sleep"
    strategies = ctx.wanted(KEY, run.c)
    chart = charts.Chart("threads", sec.title)
    p = chart.panel(xlabel="tasks (log scale)", ylabel="stack, MiB (log)",
                    logx=True, logy=True)
    mib = lambda x: figures.sig(x) + " MiB"
    for s in strategies:
        for key, what in (("stack_reserved_bytes", "reserved"),
                          ("stack_resident_bytes", "resident")):
            rows = []
            for n in run.counts(wl, s):
                sp = run.summary_spread(wl, s, n, key).scaled(1 / 2 ** 20)
                if sp and sp.median > 0:
                    rows.append((n, sp.median, sp.lo, sp.hi, "%s %s, %d tasks: %s"
                                 % (s, what, n, figures.spread_text(sp, mib))))
            if rows and len(p.series) < charts.MAX_SERIES:
                series = charts.Series("%s: %s" % (s, what), ctx.linetype(s), rows)
                if what == "resident":
                    series.style = "yerrorbars"
                p.add(series)
    sec.chart = chart
    values = {}
    counts = run.counts(wl, "threads")
    if counts:
        n = counts[-1]
        reserved = run.summary_spread(wl, "threads", n, "stack_reserved_bytes")
        resident = run.summary_spread(wl, "threads", n, "stack_resident_bytes")
        heap = run.summary_spread(wl, "threads", n, "heap_peak_bytes")
        values.update(count=n, reserved=figures.size(reserved.median),
                      per_thread=figures.size(reserved.median / n) if reserved else "–",
                      heap=figures.size(heap.median))
        if resident:
            values["resident"] = "%s of it was resident (%s a thread)" % (
                figures.size(resident.median), figures.size(resident.median / n))
        else:
            values["resident"] = ("what of it was resident is not recorded by this build "
                                  "(summary.stack_resident_bytes)")
        sec.takeaway = fill(w.get("takeaway", ""), values)
    else:
        sec.takeaway = "threads was not measured on the sleep workload."
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    sec.commands = commands_at_largest(ctx, wl, strategies)
    return sec
