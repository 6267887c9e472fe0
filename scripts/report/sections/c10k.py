"""C10K: poll against epoll, CPU per task against the tasks in flight. From scripts/c10k's
table when the run made one; else from the sweep's own documents (user + system CPU over
tasks, against the in-flight peak each run reached)."""

from .. import charts, figures
from ..model import Section, fill
from . import commands_at_largest

KEY = "c10k"


def _column(header, *words):
    for h in header:
        if any(word in h.lower() for word in words):
            return h
    return None


def _float(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def from_table(ctx, strategies):
    """{strategy: [(inflight, Spread of CPU s per request)]} from c10k.tsv (columns found by
    name: strategy, *flight* or *conn*, *cpu* (in µs when its name says us), and spread: the
    width of the range over its rounds, drawn as ± half of it)."""
    rows = ctx.run.c10k
    if not rows:
        return {}
    header = list(rows[0].keys())
    xs = _column(header, "flight", "conn")
    ys = _column(header, "cpu")
    st = _column(header, "strategy")
    if not (xs and ys and st):
        return {}
    scale = 1e-6 if ("us" in ys.lower() or "µs" in ys) else 1.0
    sp_col = "spread" if "spread" in header else None
    rounds = int(_float(ctx.run.meta.get("c10k_rounds")) or 1)
    out = {}
    for r in rows:
        x, y = _float(r.get(xs)), _float(r.get(ys))
        width = _float(r.get(sp_col)) if sp_col else 0.0
        if r.get(st) in strategies and x is not None and y is not None:
            half = (width or 0.0) * scale / 2
            out.setdefault(r[st], []).append(
                (x, figures.Spread.summarised(y * scale, y * scale - half, y * scale + half,
                                              rounds)))
    return out


def from_sweep(ctx, strategies, wl="sleep"):
    run = ctx.run
    out = {}
    for s in strategies:
        for n, docs in run.points(wl, s):
            inflight = figures.Spread([(d.get("summary") or {}).get("inflight_peak")
                                       for d in docs])
            cpu = run.per_task_cpu(wl, s, n)
            if inflight and cpu:
                out.setdefault(s, []).append((inflight.median, cpu))
    return out


def build(ctx):
    run, w = ctx.run, ctx.words(KEY)
    strategies = ctx.wanted(KEY, run.c)
    if not strategies:
        return None
    sec = Section(KEY, w.get("title", KEY))
    table = from_table(ctx, strategies)
    chart = charts.Chart("c10k", sec.title)
    p = chart.panel(xlabel="tasks in flight (log scale)",
                    ylabel="CPU per task, µs (log)", logx=True, logy=True)
    us = lambda x: figures.sig(x) + " µs"
    values = {}
    series = {}
    if table:
        values["source"] = "From scripts/c10k's table (c10k.tsv)."
        for s, pts in table.items():
            series[s] = sorted(pts, key=lambda p: p[0])
    else:
        values["source"] = ("From the sweep's sleep runs: user + system CPU over the tasks, "
                            "against the in-flight peak each run reached; "
                            "scripts/c10k's table was not part of this run.")
        series = from_sweep(ctx, strategies)
    for s in strategies:
        pts = series.get(s, [])
        rows = [(x, sp.median * 1e6, sp.lo * 1e6, sp.hi * 1e6,
                 "%s, %g in flight: %s" % (s, x, figures.spread_text(sp.scaled(1e6), us)))
                for x, sp in pts if sp]
        p.add(charts.Series(s, ctx.linetype(s), rows))
    sec.chart = chart
    common = None
    if "poll" in series and "epoll" in series:
        xs = set(x for x, _ in series["poll"]) & set(x for x, _ in series["epoll"])
        common = max(xs) if xs else None
    if common is not None:
        pick = lambda s: next(sp for x, sp in series[s] if x == common)
        values.update(inflight="%g" % common,
                      poll_cpu=figures.spread_text(pick("poll")),
                      epoll_cpu=figures.spread_text(pick("epoll")))
        sec.takeaway = fill(w.get("takeaway", ""), values)
    else:
        sec.takeaway = ("poll and epoll were not both measured at one in-flight count in this "
                        "run%s." % ("" if "poll" in run.c else
                                    " (this build of iostrat does not list poll)"))
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    sec.commands = commands_at_largest(ctx, "sleep", strategies)
    return sec
