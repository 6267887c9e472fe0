"""Where each strategy breaks down: p99 lateness (a task's time beyond its own wait) against
task count, and the step at which each strategy stopped, with the reason."""

from .. import charts, figures
from ..model import Section, Table, fill

KEY = "breakdown"


def stops(run, wl="sleep"):
    """[(strategy, largest count reached, what stopped it)]"""
    out = []
    for s in run.strategies:
        counts = run.counts(wl, s)
        top = counts[-1] if counts else None
        # the first count above the largest reached that was skipped or failed, and why;
        # else a reason given for the strategy as a whole (not planned, unavailable)
        above = [st for st in run.steps if st.strategy == s and st.workload == wl
                 and st.kind == "sweep" and st.status in ("skipped", "failed")
                 and st.count is not None and (top is None or st.count > top)]
        whole = [st for st in run.steps if st.strategy == s and st.workload in (wl, "-")
                 and st.kind in ("sweep", "plan") and st.status in ("skipped", "failed")
                 and st.count is None]
        why = None
        if above:
            st = min(above, key=lambda x: x.count)
            why = "%s at %s: %s" % (st.status, figures.tasks(st.count), st.reason)
        elif whole:
            why = "%s: %s" % (whole[0].status, whole[0].reason)
        out.append((s, top, why or "reached the largest count of the run"))
    return out


def build(ctx):
    run, w = ctx.run, ctx.words(KEY)
    wl = "sleep"
    sec = Section(KEY, w.get("title", KEY))
    chart = charts.Chart("breakdown", sec.title)
    groups = charts.chunks([s for s in run.c if run.counts(wl, s)])
    ms = lambda x: figures.sig(x) + " ms"
    for g in groups:
        p = chart.panel(xlabel="tasks (log scale)", ylabel="p99 lateness, ms (log)",
                        logx=True, logy=True)
        for s in g:
            rows = []
            for n in run.counts(wl, s):
                sp = run.lateness(wl, s, n, 0.99).scaled(1e3)
                if sp and sp.median > 0:
                    rows.append((n, sp.median, max(sp.lo, 1e-4), sp.hi,
                                 "%s, %d tasks: p99 lateness %s" % (
                                     s, n, figures.spread_text(sp, ms))))
            p.add(charts.Series(s, ctx.linetype(s), rows))
    sec.chart = chart
    table = stops(run, wl)
    sec.tables.append(Table("How far each strategy went (sleep)",
                            ["strategy", "largest count", "what stopped it"],
                            [[s, top if top else "–", why] for s, top, why in table]))
    stopped = [(s, top, why) for s, top, why in table if not why.startswith("reached")]
    if stopped:
        parts = ["%s at %s tasks" % (s, top if top else "0") for s, top, _ in stopped[:4]]
        values = {"stops": "Stopped before the largest count: " + ", ".join(parts)
                  + (" and %d more" % (len(stopped) - 4) if len(stopped) > 4 else "")
                  + " (reasons in the table)."}
    else:
        values = {"stops": "Every strategy reached the largest task count of this run."}
    sec.takeaway = fill(w.get("takeaway", ""), values)
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    return sec
