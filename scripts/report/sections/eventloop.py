"""An event loop waits in one thread: the tutorial's demo, one bar per task, coloured by who
ran it (the main thread, another thread, another process), the same in every row."""

from .. import charts, figures
from ..model import Section, fill

KEY = "eventloop"


def timeline_rows(docs, strategies):
    rows = []
    for s in strategies:
        doc = docs.get(s)
        if not doc:
            continue
        # a parent's pid: the run's own, when recorded; else the lowest pid among the tasks
        tasks = sorted(doc.get("tasks") or [], key=lambda t: t.get("id", 0))
        for i, t in enumerate(tasks):
            if t.get("start_s") is None or t.get("end_s") is None:
                continue
            label = s if i == 0 else ""
            rows.append((label, t["start_s"], t["end_s"], who_in(doc, t),
                         "%s task %d: %s to %s, pid %s, tid %s" % (
                             s, t.get("id", i), figures.seconds(t["start_s"]),
                             figures.seconds(t["end_s"]), t.get("pid"), t.get("tid"))))
    return rows


def who_in(doc, task):
    """41: the main thread of the run's process; 42: another thread; 43: another process.
    The run's process is the one whose pid the most tasks share, or the parent of forked
    tasks (host pid is not recorded): a task whose pid differs from the tid-less majority."""
    tasks = doc.get("tasks") or []
    pids = [t.get("pid") for t in tasks]
    params = doc.get("summary") or {}
    if (params.get("processes") or 1) > 1:
        return 43
    main = max(set(pids), key=pids.count) if pids else None
    if task.get("pid") != main:
        return 43
    if task.get("tid") is not None and task.get("tid") != task.get("pid"):
        return 42
    return 41


def build(ctx):
    run, w = ctx.run, ctx.words(KEY)
    sec = Section(KEY, w.get("title", KEY))
    strategies = ctx.wanted(KEY, run.c)
    chart = charts.Chart("eventloop", sec.title)
    chart.kind = "timeline"
    chart.timeline = timeline_rows(run.demo, strategies)
    sec.chart = chart
    values = {}
    loop = next((s for s in ("epoll", "uring", "poll", "libuv") if s in run.demo), None)
    any_doc = next(iter(run.demo.values()), None)
    if any_doc:
        values["tasks"] = (any_doc.get("params") or {}).get("tasks")
    for s in ("threads", "processes"):
        doc = run.demo.get(s)
        if doc:
            summ = doc.get("summary") or {}
            values[s + "_threads"] = summ.get("threads_peak")
            values[s + "_processes"] = summ.get("processes")
    if loop:
        summ = run.demo[loop].get("summary") or {}
        values.update(loop_strategy=loop, loop_threads=summ.get("threads_peak"),
                      loop_processes=summ.get("processes"))
        sec.takeaway = fill(w.get("takeaway", ""), values)
    else:
        sec.takeaway = "No event loop ran the demo in this run."
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    sec.commands = [run.demo[s]["_command"] for s in strategies
                    if s in run.demo and run.demo[s].get("_command")]
    return sec
