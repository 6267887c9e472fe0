"""charts - the report's charts as data: each chart is panels of at most five series, written
as tables (DIR/data/*.dat) and plot commands (DIR/data/charts.gp) that gnuplot draws twice,
as PNG and as SVG, with the look of scripts/charts.gp."""

import os
import subprocess

MAX_SERIES = 5


def gp_string(text):
    return "'" + str(text).replace("'", "''") + "'"


class Series:
    """One line (or set of points) of a panel: rows of (x, y, lo, hi, hover text)."""

    def __init__(self, title, linetype, rows, style="yerrorlines", hover=True):
        self.title = title
        self.linetype = linetype
        self.rows = rows
        self.style = style
        self.hover = hover


class Panel:
    def __init__(self, title="", xlabel="", ylabel="", logx=False, logy=False,
                 xrange=None, yrange=None, extra=()):
        self.title = title
        self.xlabel = xlabel
        self.ylabel = ylabel
        self.logx = logx
        self.logy = logy
        self.xrange = xrange
        self.yrange = yrange
        self.extra = list(extra)
        self.series = []

    def add(self, series):
        if len(self.series) >= MAX_SERIES:
            raise ValueError("a panel holds at most %d series" % MAX_SERIES)
        self.series.append(series)


class Chart:
    def __init__(self, name, title, caption=""):
        self.name = name
        self.title = title
        self.caption = caption
        self.panels = []
        self.kind = "xy"
        self.timeline = None  # for kind == "timeline": rows of (label, start, end, who)
        self.dots = None      # for kind == "dots": rows of (label, series, value, lo, hi)

    def panel(self, **kw):
        p = Panel(**kw)
        self.panels.append(p)
        return p

    def empty(self):
        if self.kind == "timeline":
            return not self.timeline
        if self.kind == "dots":
            return not self.dots
        return not any(s.rows for p in self.panels for s in p.series)


def chunks(items, size=MAX_SERIES):
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def _num(x):
    return "NaN" if x is None else "%.9g" % x


def _hover(text):
    return '"' + str(text).replace('"', "'") + '"'


class Writer:
    """Writes the tables and the plot commands of every chart of a run."""

    def __init__(self, folder):
        self.folder = folder
        self.data = os.path.join(folder, "data")
        self.charts = os.path.join(folder, "charts")
        os.makedirs(self.data, exist_ok=True)
        os.makedirs(self.charts, exist_ok=True)
        self.lines = []
        self.scripts = []  # (chart name, its plot commands)

    def _table(self, name, rows):
        path = os.path.join(self.data, name)
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(" ".join(_hover(c) if isinstance(c, str) else _num(c)
                                 for c in r) + "\n")
        return name

    def add(self, chart):
        if chart.empty():
            return False
        self.lines = out = []
        self.scripts.append((chart.name, out))
        out.append("# %s: drawn by scripts/report with" % chart.name)
        out.append("#   gnuplot -e \"dir='RUN'; term='svg'\" scripts/charts.gp "
                   "RUN/data/%s.gp" % chart.name)
        out.append("eval begin(%s)" % gp_string(chart.name))
        if chart.kind == "timeline":
            self._timeline(chart)
        elif chart.kind == "dots":
            self._dots(chart)
        else:
            self._xy(chart)
        out.append("unset output")
        return True

    def _axes(self, p):
        out = self.lines
        out.append("set title %s" % gp_string(p.title) if p.title else "unset title")
        out.append("set xlabel %s" % gp_string(p.xlabel))
        out.append("set ylabel %s" % gp_string(p.ylabel))
        out.append("set logscale x" if p.logx else "unset logscale x")
        out.append("set logscale y" if p.logy else "unset logscale y")
        out.append("set format x '%g'")
        out.append("set format y '%g'")
        out.append("set xrange [%s:%s]" % p.xrange if p.xrange else "set autoscale x")
        out.append("set yrange [%s:%s]" % p.yrange if p.yrange else "set autoscale y")
        out.extend(p.extra)

    def _xy(self, chart):
        out = self.lines
        n = len(chart.panels)
        if n > 1:
            out.append("set multiplot layout 1,%d title %s font ',28'"
                       % (n, gp_string(chart.title)))
        for i, p in enumerate(chart.panels):
            # one panel: the page's heading is its title; several: side by side, each with
            # its legend right of it
            self._axes(p)
            if n > 1:
                left = i / n
                out.append("set lmargin at screen %.3f" % (left + 0.115))
                out.append("set rmargin at screen %.3f" % (left + 0.64 / n))
                out.append("set key at screen %.3f, screen 0.90" % (left + 0.66 / n))
                if i > 0:
                    out.append("unset ylabel")  # the first panel's says it for both
            clauses = []
            for j, s in enumerate(p.series):
                if not s.rows:
                    continue
                table = self._table("%s-p%d-s%d.dat" % (chart.name, i + 1, j + 1), s.rows)
                f = "table(%s)" % gp_string(table)
                if s.style == "lines":
                    clauses.append("%s using 1:2 with lines lt %d title %s"
                                   % (f, s.linetype, gp_string(s.title)))
                else:
                    clauses.append("%s using 1:2:3:4 with %s lt %d title %s"
                                   % (f, s.style, s.linetype, gp_string(s.title)))
                if s.hover:
                    clauses.append("%s using 1:2:5 with labels hypertext point lt %d "
                                   "pt 7 ps 0.6 * ps_scale notitle" % (f, s.linetype))
            if clauses:
                out.append("plot " + ", \\\n\t".join(clauses))
            else:
                out.append("set label 1 'not measured in this run' at graph 0.5, 0.5 "
                           "center; plot NaN notitle; unset label 1")
        if n > 1:
            out.append("unset multiplot")

    def _timeline(self, chart):
        """One bar per task from its start to its end, rows grouped by strategy, coloured by
        who ran it (41 main thread, 42 another thread, 43 another process)."""
        out = self.lines
        rows = []
        tics = []
        for y, (label, start, end, who, hover) in enumerate(chart.timeline):
            rows.append((start, end, y, who, hover))
            if label:
                tics.append("%s %d" % (gp_string(label), y))
        table = self._table(chart.name + ".dat", rows)
        f = "table(%s)" % gp_string(table)
        p = chart.panels[0] if chart.panels else Panel()
        out.append("unset title")
        out.append("set xlabel %s" % gp_string(p.xlabel or "seconds since the run began"))
        out.append("unset ylabel")
        out.append("set yrange [%g:-0.7] noreverse" % (len(rows) - 0.3))
        out.append("set ytics (%s) font ',26'" % ", ".join(tics))
        out.append("set grid xtics noytics")
        out.append("set xrange [0:*]")
        out.extend(p.extra)
        out.append("plot %s using (($1 + $2) / 2):3:1:2:($3 - 0.38):($3 + 0.38):($4 + 0) "
                   "with boxxyerror lc variable notitle, \\\n"
                   "\t%s using (($1 + $2) / 2):3:5 with labels hypertext point pt 7 "
                   "ps 0.3 lc rgb '#333333' notitle, \\\n"
                   "\tNaN with boxes lt 41 title 'main thread', \\\n"
                   "\tNaN with boxes lt 42 title 'another thread', \\\n"
                   "\tNaN with boxes lt 43 title 'another process'" % (f, f))

    def _dots(self, chart):
        """A dot plot: one row per label, points with their range, a series per column."""
        out = self.lines
        p = chart.panels[0]
        self._axes(p)
        labels = []
        for label, *_ in chart.dots:
            if label not in labels:
                labels.append(label)
        series = []
        for _, name, lt, *_ in chart.dots:
            if (name, lt) not in series:
                series.append((name, lt))
        out.append("set yrange [%g:-0.7]" % (len(labels) - 0.3))
        out.append("set ytics (%s) font ',26'"
                   % ", ".join("%s %d" % (gp_string(l), i) for i, l in enumerate(labels)))
        out.append("set grid xtics noytics")
        if p.logx:
            out.append("set xtics 100")  # every other decade: the labels must not touch
        clauses = []
        for k, (name, lt) in enumerate(series):
            rows = [(value, labels.index(label) + (k - (len(series) - 1) / 2) * 0.18,
                     lo, hi, hover)
                    for label, n, l, value, lo, hi, hover in chart.dots if (n, l) == (name, lt)]
            table = self._table("%s-s%d.dat" % (chart.name, k + 1), rows)
            f = "table(%s)" % gp_string(table)
            clauses.append("%s using 1:2:3:4 with xerrorbars lt %d lw 3 title %s"
                           % (f, lt, gp_string(name)))
            clauses.append("%s using 1:2:5 with labels hypertext point lt %d pt 7 "
                           "ps 0.6 * ps_scale notitle" % (f, lt))
        out.append("plot " + ", \\\n\t".join(clauses))

    def draw(self, style_path):
        """Runs gnuplot for each chart and terminal; returns {chart: error text} for the
        charts it could not draw (the others are drawn all the same)."""
        errors = {}
        for name, lines in self.scripts:
            script = os.path.join(self.data, name + ".gp")
            with open(script, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            for term in ("pngcairo", "svg"):
                r = subprocess.run(
                    ["gnuplot", "-e", "dir=%s; term='%s'" % (gp_string(self.folder), term),
                     style_path, script],
                    capture_output=True, text=True)
                if r.returncode != 0:
                    lines_err = r.stderr.strip().splitlines()
                    errors[name] = "%s: %s" % (term, lines_err[-1] if lines_err
                                               else "exit %d" % r.returncode)
                    break
        return errors
