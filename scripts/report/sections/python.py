"""C against the tutorial's Python: the overhead per task of each Python row beside its C
counterpart, at the largest task count both ran, with the ratio and its uncertainty."""

from .. import charts, figures
from ..model import Section, Table, fill
from ..run import counterpart

KEY = "python"


def pairs(ctx, wl):
    """[(python, c, count, Spread python, Spread c, ratio)] for every pair measured."""
    run = ctx.run
    out = []
    for p in run.python:
        c = counterpart(run, p, ctx.counterparts)
        if not c:
            continue
        n = run.largest_common(wl, [p, c])
        if not n:
            continue
        a = run.overhead_per_task(wl, p, n)
        b = run.overhead_per_task(wl, c, n)
        out.append((p, c, n, a, b, figures.ratio(a, b)))
    return out


def build(ctx):
    run, w = ctx.run, ctx.words(KEY)
    sec = Section(KEY, w.get("title", KEY))
    if not run.python:
        sec.takeaway = "The tutorial's Python did not run here."
        reasons = [s.reason for s in run.skipped_steps() if s.strategy.startswith("python-")]
        if reasons:
            sec.takeaway += " " + reasons[0]
        sec.question = w.get("question", "")
        return sec
    chart = charts.Chart("python", sec.title)
    chart.kind = "dots"
    p = chart.panel(xlabel="per task beyond the wait, µs (log), sleep", logx=True)
    dots = []
    rows = []
    for wl in run.workloads:
        for py, c, n, a, b, r in pairs(ctx, wl):
            if wl == "sleep":
                label = "%s / %s (%d)" % (py[len("python-"):], c, n)
                for name, lt, sp in (("Python", 24, a), ("C", 2, b)):
                    if sp:
                        dots.append((label, name, lt, sp.median * 1e6, sp.lo * 1e6,
                                     sp.hi * 1e6, "%s %s: %s" % (
                                         py if name == "Python" else c, label,
                                         figures.spread_text(sp))))
            if a or b:
                rows.append([wl, py, c, n, figures.spread_text(a), figures.spread_text(b),
                             figures.times(r)])
    chart.dots = dots
    sec.chart = chart
    columns = ["workload", "Python", "C", "tasks", "Python", "C", "ratio"]
    sec.tables.append(Table("Overhead per task, the tutorial's Python against C (sleep)",
                            columns, [r for r in rows if r[0] == "sleep"]))
    sec.appendix.append(Table("Overhead per task, the tutorial's Python against C",
                              columns, rows))
    values = {}
    printed = [x for x in pairs(ctx, "sleep") if x[5]]
    if printed:
        worst = max(printed, key=lambda x: x[5].value)
        values.update(worst_pair="%s against %s" % (worst[0], worst[1]),
                      worst_ratio=figures.times(worst[5]), worst_count=worst[2])
        sec.takeaway = fill(w.get("takeaway", ""), values)
    else:
        sec.takeaway = ("No pair of the tutorial's Python and C gave a ratio above its "
                        "uncertainty on the sleep workload.")
    planned = [s for s in run.skipped_steps() if s.strategy.startswith("python-")
               and s.kind == "plan"]
    if planned:
        sec.notes.append("The Python rows have shorter count lists than C in this mode "
                         "(steps.tsv, \"plan\"), to keep the run within its time.")
    for s in run.skipped_steps():
        if s.strategy.startswith("python-") and s.kind == "sweep" and s.count is None:
            sec.notes.append("%s: %s" % (s.where(), s.reason))
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    sec.commands = []
    for py, c, n, *_ in pairs(ctx, "sleep"):
        for s in (py, c):
            cmd = run.command("sleep", s, n)
            if cmd and cmd not in sec.commands:
                sec.commands.append(cmd)
    return sec
