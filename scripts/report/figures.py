"""figures - the arithmetic of the report: medians with their spread, slopes and ratios that
carry their uncertainty (and are withheld, with the reason, when it exceeds them), the units
of each workload, and how a figure is written."""

import math
import statistics


class Spread:
    """A figure measured several times: its median and the range of the samples."""

    def __init__(self, samples):
        self.samples = [float(s) for s in samples if s is not None]
        if self.samples:
            self.median = statistics.median(self.samples)
            self.lo = min(self.samples)
            self.hi = max(self.samples)
        else:
            self.median = self.lo = self.hi = None

    _count = 0

    def __bool__(self):
        return self.median is not None

    @property
    def count(self):
        return len(self.samples) or self._count

    def scaled(self, factor):
        if not self.samples and self.median is not None:
            return Spread.summarised(self.median * factor, self.lo * factor,
                                     self.hi * factor, self._count)
        return Spread([s * factor for s in self.samples])

    @classmethod
    def summarised(cls, median, lo, hi, count):
        """A figure another program summarised: its median and range over `count` runs."""
        sp = cls([])
        sp.median, sp.lo, sp.hi, sp._count = median, lo, hi, count
        return sp


class Derived:
    """A figure computed from others (a slope, a ratio): a value, the interval it can lie in,
    and the reason it is withheld (None when it is printed)."""

    def __init__(self, value, lo, hi, withheld=None):
        self.value = value
        self.lo = lo
        self.hi = hi
        self.withheld = withheld

    @property
    def uncertainty(self):
        if self.lo is None or self.hi is None:
            return None
        return (self.hi - self.lo) / 2

    def __bool__(self):
        return self.withheld is None and self.value is not None


def slope(n1, a, n2, b):
    """The change per task from count n1 (Spread a) to n2 (Spread b). Withheld when the two
    ranges overlap (the change is within the noise) or the uncertainty exceeds the value."""
    if not a or not b or n2 == n1:
        return Derived(None, None, None, "not measured at two task counts")
    dn = float(n2 - n1)
    value = (b.median - a.median) / dn
    if a.count < 2 or b.count < 2:
        once = tasks(n1) if a.count < 2 else tasks(n2)
        return Derived(value, None, None, "measured once at %s: no spread to judge it by"
                       % once)
    lo = (b.lo - a.hi) / dn
    hi = (b.hi - a.lo) / dn
    if a.lo <= b.hi and b.lo <= a.hi:
        return Derived(value, lo, hi,
                       "the ranges at %s and at %s overlap" % (tasks(n1), tasks(n2)))
    d = Derived(value, lo, hi)
    if d.uncertainty > abs(value):
        d.withheld = "its uncertainty (±%s) exceeds it" % sig(d.uncertainty)
    return d


def ratio(a, b):
    """a / b for two Spreads, with the interval a.lo/b.hi .. a.hi/b.lo."""
    if not a or not b:
        return Derived(None, None, None, "one side was not measured")
    if b.lo <= 0 or b.median <= 0:
        return Derived(None, None, None, "the divisor is not above zero")
    value = a.median / b.median
    if a.count < 2 or b.count < 2:
        return Derived(value, None, None, "measured once: no spread to judge it by")
    lo = a.lo / b.hi
    hi = a.hi / b.lo
    d = Derived(value, lo, hi)
    if d.uncertainty > abs(value):
        d.withheld = "its uncertainty (±%s) exceeds it" % sig(d.uncertainty)
    return d


def per_task(spread, tasks):
    return spread.scaled(1.0 / tasks) if spread and tasks else Spread([])


# ---- units --------------------------------------------------------------------------------

# What a run of each workload moves, and the unit its throughput is written in.
THROUGHPUT_UNITS = {
    "sleep": ("tasks/s", "tasks"),
    "file": ("MB/s", "bytes"),
    "http": ("requests/s", "tasks"),
}


def throughput_unit(workload):
    return THROUGHPUT_UNITS.get(workload, ("tasks/s", "tasks"))[0]


def throughput(workload, doc):
    """What one run achieved per second of its in-program wall time, in its workload's unit:
    MB/s (10^6 bytes) for file, requests/s for http, tasks/s for sleep."""
    s = doc.get("summary") or {}
    wall = s.get("wall_s")
    if not wall or wall <= 0:
        return None
    unit, counted = THROUGHPUT_UNITS.get(workload, ("tasks/s", "tasks"))
    if counted == "bytes":
        total = sum((t.get("bytes") or 0) for t in doc.get("tasks") or [])
        return total / 1e6 / wall
    return (s.get("tasks_ok") or 0) / wall


# ---- writing figures ----------------------------------------------------------------------

def sig(x, digits=3):
    """x to `digits` significant figures, without a thousands separator."""
    if x is None:
        return "–"
    if x == 0:
        return "0"
    if abs(x) >= 10 ** digits:
        return "%d" % round(x)
    x = float("%.*g" % (digits, x))  # rounded first: 99.996 is 100, not 100.0
    magnitude = int(math.floor(math.log10(abs(x))))
    decimals = max(0, digits - 1 - magnitude)
    return "%.*f" % (decimals, x)


def _time_unit(x):
    a = abs(x)
    if a >= 1:
        return 1.0, "s"
    if a >= 1e-3:
        return 1e3, "ms"
    if a >= 1e-6 or a == 0:
        return 1e6, "µs"
    return 1e9, "ns"


def seconds(x):
    """A duration in s, ms, µs or ns, three significant figures."""
    if x is None:
        return "–"
    scale, unit = _time_unit(x)
    return sig(x * scale) + " " + unit


def _bytes_unit(x):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(x) >= scale:
            return 1.0 / scale, unit
    return 1.0, "B"


def microseconds(x):
    return "–" if x is None else sig(x * 1e6)


def kib(x):
    return "–" if x is None else sig(x / 1024.0)


def size(x):
    """Bytes as B, KiB, MiB or GiB."""
    if x is None:
        return "–"
    a = abs(x)
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if a >= scale:
            return sig(x / scale) + " " + unit
    return "%d B" % x


def spread_text(sp, fmt=seconds, unit_name=None):
    """'12.3 ms (11.9–13.0, 4 runs)': the range in the median's unit; one run says so.
    unit_name: a plain number in that unit ('3172 MB/s (1996–3940, 4 runs)')."""
    if not sp:
        return "not measured"
    if unit_name:
        fmt = lambda x: sig(x) + " " + unit_name  # noqa: E731
        if sp.count > 1:
            return "%s (%s–%s, %d runs)" % (fmt(sp.median), sig(sp.lo), sig(sp.hi),
                                            sp.count)
    if sp.count == 1:
        return "%s (one run)" % fmt(sp.median)
    unit = None
    if fmt is seconds:
        unit = _time_unit(sp.median)
    elif fmt is size:
        unit = _bytes_unit(sp.median)
    if unit:
        scale, name = unit
        return "%s %s (%s–%s, %d runs)" % (sig(sp.median * scale), name, sig(sp.lo * scale),
                                           sig(sp.hi * scale), sp.count)
    return "%s (%s–%s, %d runs)" % (fmt(sp.median), fmt(sp.lo), fmt(sp.hi), sp.count)


def tasks(n):
    return "%d task%s" % (n, "" if n == 1 else "s")


def derived_text(d, fmt=sig, unit=""):
    """A slope or ratio with its uncertainty, or 'withheld: REASON'."""
    if d.value is None:
        return "not measured (%s)" % d.withheld
    if d.withheld:
        return "withheld: %s" % d.withheld
    suffix = (" " + unit) if unit else ""
    return "%s ± %s%s" % (fmt(d.value), fmt(d.uncertainty), suffix)


def times(d):
    """A ratio as '9.9× (9.5–10.3)' or withheld."""
    if d.value is None:
        return "not measured (%s)" % d.withheld
    if d.withheld:
        return "withheld: %s" % d.withheld
    return "%s× (%s–%s)" % (sig(d.value, 2), sig(d.lo, 2), sig(d.hi, 2))
