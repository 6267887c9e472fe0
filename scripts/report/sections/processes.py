"""Processes cost memory, a heap each: the run's memory against task count, and the change
per task added (a slope, withheld when the noise covers it)."""

from .. import charts, figures
from ..model import Section, Table, fill
from . import commands_at_largest, line

KEY = "processes"


def memory_slope(run, workload, strategy):
    """(slope Derived in bytes per task, key, what it counts, n1, n2)."""
    key, counts_what = run.memory_key(workload, strategy)
    counts = run.counts(workload, strategy)
    if not key or len(counts) < 2:
        return figures.Derived(None, None, None, "not measured at two task counts"), \
            key, counts_what, None, None
    n1, n2 = counts[0], counts[-1]
    d = figures.slope(n1, run.memory(workload, strategy, n1, key),
                      n2, run.memory(workload, strategy, n2, key))
    return d, key, counts_what, n1, n2


def kib_text(d):
    if d:
        return "%s ± %s KiB" % (figures.kib(d.value), figures.kib(d.uncertainty))
    return figures.derived_text(d)


def build(ctx):
    run, w = ctx.run, ctx.words(KEY)
    sec = Section(KEY, w.get("title", KEY))
    wl = "sleep"
    strategies = ctx.wanted(KEY, run.c)
    labels = set()
    chart = charts.Chart("processes", sec.title)
    p = chart.panel(xlabel="tasks (log scale)", ylabel="memory of the run, MiB (log)",
                    logx=True, logy=True)
    values = {}
    rows = []
    for s in strategies:
        key, what = run.memory_key(wl, s)
        if not key:
            continue
        labels.add((key, what))
        p.add(line(ctx, wl, s,
                   lambda n, s=s, key=key: run.memory(wl, s, n, key).scaled(1 / 2 ** 20),
                   lambda x: figures.sig(x) + " MiB"))
        d, _, _, n1, n2 = memory_slope(run, wl, s)
        values[s + "_kib"] = kib_text(d)
        rows.append([s, "%s → %s" % (n1, n2), kib_text(d), key])
    sec.chart = chart
    if len(labels) == 1:
        key, what = labels.pop()
        values["memory_counts"] = "`%s`" % key
        values["memory_what"] = what
        p.ylabel = "memory of the run, MiB (log)"
    else:
        values["memory_counts"] = ", ".join("`%s`" % k for k, _ in sorted(labels))
        values["memory_what"] = "; ".join("%s: %s" % kw for kw in sorted(labels))
    heap = None
    for n, docs in reversed(run.points(wl, "processes")):
        per = [((d.get("summary") or {}).get("heap_peak_per_process_bytes") or {})
               .get("median") for d in docs]
        sp = figures.Spread(per)
        if sp:
            heap = "median %s a process at %d tasks" % (figures.size(sp.median), n)
            break
    values["child_heap"] = heap or "per-process heaps not recorded by this build"
    sec.takeaway = fill(w.get("takeaway", ""), values)
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    sec.commands = commands_at_largest(ctx, wl, strategies)
    sec.appendix.append(figures_table(rows))
    return sec


def figures_table(rows):
    return Table("Memory per task added (sleep)",
                 ["strategy", "tasks", "KiB per task", "figure"], rows)
