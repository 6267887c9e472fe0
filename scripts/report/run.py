"""run - one run folder of make bench, read once: its description (meta.tsv), its steps
(steps.tsv: what ran, what was skipped or failed and why), iostrat's result documents (the
sweep's and those of the timed rounds), hyperfine's exports and the bare primitives."""

import glob
import gzip
import json
import os
import re
import tarfile

from . import figures

STEP_FIELDS = ("kind", "workload", "strategy", "count", "status", "file", "reason",
               "command")

# Where a run's memory figure comes from, best first, and what each counts.
MEMORY_KEYS = (
    ("memory_total_bytes",
     "what the run added to the machine's memory at its peak, each page once"),
    ("uss_total_bytes", "unique (private) pages of every process, added"),
    ("rss_sum_peak_bytes",
     "every process's peak RSS added: shared pages counted once per process"),
    ("rss_peak_total_bytes",
     "every process's peak RSS added: shared pages counted once per process"),
)


def _memory_measured(doc):
    """The run read its processes' memory (IOSTRAT_MEMORY was not off)."""
    return (doc.get("summary") or {}).get("memory_total_bytes") is not None


def _read_json(path):
    """A JSON document, or its gzip-compressed copy (PATH.gz: reports/sample keeps those)."""
    try:
        if not os.path.exists(path) and os.path.exists(path + ".gz"):
            with gzip.open(path + ".gz", "rt", encoding="utf-8") as f:
                return json.load(f)
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError, EOFError):
        return None


def _read_tsv(path):
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    rows.append(line.split("\t"))
    except OSError:
        pass
    return rows


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


class Step:
    def __init__(self, fields):
        fields = list(fields) + ["-"] * (len(STEP_FIELDS) - len(fields))
        for name, value in zip(STEP_FIELDS, fields):
            setattr(self, name, value)
        self.count = _int(self.count)

    def where(self):
        parts = [p for p in (self.strategy, self.workload) if p and p != "-"]
        what = " × ".join(parts) if parts else self.kind
        if self.count:
            what += " × %d tasks" % self.count
        return what


ARCHIVE = "documents.tar.xz"  # reports/sample keeps results/ and hyperfine/ packed in it


class Run:
    def __init__(self, folder):
        self.folder = folder
        self.archive = {}  # path in the run folder -> the document, from ARCHIVE
        packed = os.path.join(folder, ARCHIVE)
        if os.path.exists(packed):
            try:
                with tarfile.open(packed, "r:xz") as tar:
                    for member in tar.getmembers():
                        if member.isfile() and member.name.endswith(".json"):
                            data = tar.extractfile(member).read()
                            self.archive[os.path.normpath(member.name)] = json.loads(data)
            except (OSError, ValueError, tarfile.TarError):
                pass
        self.meta = {}
        for row in _read_tsv(os.path.join(folder, "meta.tsv")):
            if len(row) >= 2:
                self.meta[row[0]] = row[1]
        self.steps = [Step(r) for r in _read_tsv(os.path.join(folder, "steps.tsv"))]
        self.listing = {}  # strategy -> its line of --list --format tsv
        for row in _read_tsv(os.path.join(folder, "strategies.tsv")):
            if len(row) >= 6 and row[0] == "strategy":
                self.listing[row[1]] = {"workloads": row[2], "available": row[3],
                                        "reason": row[4], "summary": row[5]}
        self.strategies = self.meta.get("strategies", "").split()
        self.python = [s for s in self.strategies if s.startswith("python-")]
        self.c = [s for s in self.strategies if not s.startswith("python-")]
        self.workloads = self.meta.get("workloads", "").split()
        self.docs = {}       # (workload, strategy, count) -> [result documents]
        self.demo = {}       # strategy -> the 4-task demo's document
        self.timeline = {}   # strategy -> the http timeline's document
        self._load_results()
        self.hyperfine = {}  # (workload, strategy, count) -> [seconds per run]
        self._load_hyperfine()
        self.bare = {}
        for path in glob.glob(os.path.join(folder, "bare", "*.json")):
            doc = _read_json(path)
            if doc:
                self.bare[doc.get("primitive", os.path.basename(path)[:-5])] = doc
        self.c10k = self._load_c10k()

    # -- loading ----------------------------------------------------------------------------
    def _load_results(self):
        for step in self.steps:
            if step.status != "ok" or not step.file or step.file == "-":
                continue
            doc = self._json(step.file)
            if doc is None:
                continue
            doc["_file"] = step.file
            doc["_command"] = step.command if step.command != "-" else None
            if step.kind == "demo":
                self.demo[step.strategy] = doc
            elif step.kind == "timeline":
                self.timeline[step.strategy] = doc
            elif step.kind in ("sweep", "round"):
                key = (step.workload, step.strategy, step.count)
                self.docs.setdefault(key, []).append(doc)

    def _load_hyperfine(self):
        paths = sorted(glob.glob(os.path.join(self.folder, "hyperfine", "*.json")))
        names = [os.path.relpath(p, self.folder) for p in paths] or sorted(
            n for n in self.archive if n.startswith("hyperfine" + os.sep))
        for name in names:
            doc = self._json(name)
            for r in (doc or {}).get("results", []):
                parts = r.get("command", "").split("/")
                if len(parts) != 3 or not parts[2].isdigit():
                    continue
                key = (parts[0], parts[1], int(parts[2]))
                ok = [t for t, c in zip(r.get("times", []), r.get("exit_codes", []))
                      if c == 0]
                self.hyperfine.setdefault(key, []).extend(ok)

    def _load_c10k(self):
        """scripts/c10k's table, when the run made one: rows as dicts by its header."""
        for path in (os.path.join(self.folder, "c10k.tsv"),
                     os.path.join(self.folder, "c10k", "c10k.tsv")):
            rows = _read_tsv(path)
            if len(rows) >= 2:
                header = rows[0]
                return [dict(zip(header, r)) for r in rows[1:]]
        return []

    def _json(self, name):
        """A document of the run folder by its path there: the file, its .gz, or ARCHIVE's."""
        doc = _read_json(os.path.join(self.folder, name))
        if doc is None:
            doc = self.archive.get(os.path.normpath(name))
        return doc

    # -- questions of the data -------------------------------------------------------------
    def counts(self, workload, strategy):
        return sorted(n for (w, s, n) in self.docs if w == workload and s == strategy)

    def points(self, workload, strategy):
        return [(n, self.docs[(workload, strategy, n)])
                for n in self.counts(workload, strategy)]

    def timing_docs(self, workload, strategy, count):
        """The documents to take times from: those of runs that did not read their own
        memory (IOSTRAT_MEMORY=off: 150 us a child process, which would count as the
        strategy's), when there are two or more; else every one."""
        docs = self.docs.get((workload, strategy, count), [])
        off = [d for d in docs if not _memory_measured(d)]
        return off if len(off) >= 2 else docs

    def memory_docs(self, workload, strategy, count):
        """The documents to take memory from: those of runs that measured it, when any."""
        docs = self.docs.get((workload, strategy, count), [])
        on = [d for d in docs if _memory_measured(d)]
        return on or docs

    def summary_spread(self, workload, strategy, count, key):
        """A summary figure over the runs: a memory figure (..._bytes) from the runs that
        measured memory, any other (times) from those that did not read it."""
        if key.endswith("_bytes"):
            docs = self.memory_docs(workload, strategy, count)
        else:
            docs = self.timing_docs(workload, strategy, count)
        return figures.Spread([(d.get("summary") or {}).get(key) for d in docs])

    def overhead_per_task(self, workload, strategy, count):
        """In-program wall minus ideal, over tasks: the one definition of overhead."""
        docs = self.timing_docs(workload, strategy, count)
        vals = []
        for d in docs:
            s = d.get("summary") or {}
            if s.get("wall_s") is not None and s.get("ideal_s") is not None and count:
                vals.append((s["wall_s"] - s["ideal_s"]) / count)
        return figures.Spread(vals)

    def memory_key(self, workload, strategy):
        """The best memory figure every document of this strategy has, and what it counts."""
        docs = [d for n in self.counts(workload, strategy)
                for d in self.memory_docs(workload, strategy, n)]
        for key, counts in MEMORY_KEYS:
            if docs and all(isinstance((d.get("summary") or {}).get(key), (int, float))
                            for d in docs):
                return key, counts
        return None, None

    def memory(self, workload, strategy, count, key):
        return self.summary_spread(workload, strategy, count, key)

    def per_task_cpu(self, workload, strategy, count):
        docs = self.timing_docs(workload, strategy, count)
        vals = []
        for d in docs:
            s = d.get("summary") or {}
            if s.get("user_s") is not None and s.get("sys_s") is not None and count:
                vals.append((s["user_s"] + s["sys_s"]) / count)
        return figures.Spread(vals)

    def lateness(self, workload, strategy, count, q):
        """Per-task lateness: a task's time from its start to its end beyond what it asked
        to wait (its delay_s; the server's hold for http); the q-quantile over the tasks of
        each run, then the Spread over the runs."""
        docs = self.timing_docs(workload, strategy, count)
        hold = float(self.meta.get("http_delay_s") or 0)
        vals = []
        for d in docs:
            late = []
            for t in d.get("tasks") or []:
                if t.get("status") != "ok" or t.get("end_s") is None:
                    continue
                wait = t.get("delay_s")
                if wait is None:
                    wait = hold if workload == "http" else 0.0
                late.append(t["end_s"] - t["start_s"] - wait)
            if late:
                late.sort()
                vals.append(late[min(len(late) - 1, int(q * len(late)))])
        return figures.Spread(vals)

    def throughput(self, workload, strategy, count):
        docs = self.timing_docs(workload, strategy, count)
        return figures.Spread([figures.throughput(workload, d) for d in docs])

    def command(self, workload, strategy, count):
        for d in self.docs.get((workload, strategy, count), []):
            if d.get("_command"):
                return d["_command"]
        return None

    def failed_steps(self):
        return [s for s in self.steps if s.status == "failed"]

    def skipped_steps(self):
        return [s for s in self.steps if s.status == "skipped"]

    def per_task_entity(self, strategy):
        """Did each task of the demo get a thread or a process of its own? (From what the
        kernel saw: threads_peak, processes.)"""
        doc = self.demo.get(strategy)
        if not doc:
            return None
        s = doc.get("summary") or {}
        n = (doc.get("params") or {}).get("tasks") or 4
        return (s.get("threads_peak") or 1) > n or (s.get("processes") or 1) > n

    def largest_common(self, workload, strategies):
        """The largest task count every one of the strategies ran."""
        sets = [set(self.counts(workload, s)) for s in strategies]
        if not sets or not all(sets):
            return None
        common = set.intersection(*sets)
        return max(common) if common else None


def counterpart(run, python_strategy, table):
    """The C strategy a Python row is set beside: the first of the table's candidates that ran
    (scripts/report/wording.toml, [counterparts]), else the same name without python-."""
    for c in table.get(python_strategy, []):
        if c in run.c:
            return c
    plain = re.sub(r"^python-", "", python_strategy)
    return plain if plain in run.c else None
