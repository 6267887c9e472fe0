"""sections - one module per section of the lecture, in its order. Each has build(ctx) that
returns a model.Section (or None when the run has nothing for it)."""

from .. import charts, figures


class Context:
    """What every section needs: the run, its wording, and the colour of each strategy."""

    def __init__(self, run, wording):
        self.run = run
        self.wording = wording
        self.counterparts = wording.get("counterparts", {})

    def words(self, key):
        return self.wording.get(key, {})

    def wanted(self, key, pool=None):
        """The strategies the section's wording names that the run measured, in order."""
        pool = pool if pool is not None else self.run.strategies
        names = self.words(key).get("strategies")
        if names is None:
            return list(pool)
        return [s for s in names if s in pool]

    def linetype(self, strategy):
        run = self.run
        if strategy in run.c:
            return run.c.index(strategy) % 10 + 1
        from ..run import counterpart
        c = counterpart(run, strategy, self.counterparts)
        return 20 + run.c.index(c) % 10 + 1 if c else 31


def line(ctx, workload, strategy, value, fmt, label=None):
    """A series of a strategy over its task counts: value(count) -> Spread."""
    rows = []
    for n in ctx.run.counts(workload, strategy):
        sp = value(n)
        if sp:
            rows.append((n, sp.median, sp.lo, sp.hi,
                         "%s, %d tasks: %s" % (label or strategy, n,
                                               figures.spread_text(sp, fmt))))
    return charts.Series(label or strategy, ctx.linetype(strategy), rows)


def commands_at_largest(ctx, workload, strategies):
    out = []
    for s in strategies:
        counts = ctx.run.counts(workload, s)
        if counts:
            cmd = ctx.run.command(workload, s, counts[-1])
            if cmd:
                out.append(cmd)
    return out


# The sections import the helpers above, so they come last.
from . import (blocking, breakdown, c10k, cost, eventloop, fetch, files, pools, processes,
               python, threads, uring)

# The lecture: the tutorial's claims, the showpiece, then what the tutorial does not say.
ORDER = (blocking, processes, threads, eventloop, fetch, files, uring, pools, c10k, python,
         cost, breakdown)
