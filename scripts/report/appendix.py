"""appendix - the whole tables behind the lecture: every point the sweep measured (in-program),
hyperfine's whole-command times beside them, every step skipped, and the machine."""

from . import figures
from .model import Table
from .sections.files import startup_bound


def in_program(run, wl):
    unit = figures.throughput_unit(wl)
    rows = []
    for s in run.strategies:
        key, _ = run.memory_key(wl, s)
        for n in run.counts(wl, s):
            wall = run.summary_spread(wl, s, n, "wall_s")
            rows.append([
                s, n, figures.spread_text(wall),
                figures.spread_text(run.overhead_per_task(wl, s, n)),
                figures.spread_text(run.throughput(wl, s, n),
                                    lambda x: figures.sig(x) + " " + unit),
                figures.spread_text(run.lateness(wl, s, n, 0.99)),
                figures.spread_text(run.memory(wl, s, n, key), figures.size) if key else "–",
            ])
    return Table("%s: in-program figures (iostrat's result documents)" % wl,
                 ["strategy", "tasks", "wall", "per task beyond the wait",
                  "throughput (%s)" % unit, "p99 lateness", "memory"], rows,
                 notes=["memory: " + (run.memory_key(wl, run.strategies[0])[0] or "–")
                        if run.strategies else ""])


def whole_command(run, wl):
    rows = []
    for s in run.strategies:
        for n in run.counts(wl, s):
            hf = figures.Spread(run.hyperfine.get((wl, s, n), []))
            if not hf:
                continue
            wall = run.summary_spread(wl, s, n, "wall_s")
            note = ("mostly start-up: not an I/O figure" if wl == "file"
                    and startup_bound(run, wl, s, n) else "")
            rows.append([s, n, figures.spread_text(hf), figures.seconds(wall.median), note])
    return Table("%s: whole-command times (hyperfine: start-up, the run and exit)" % wl,
                 ["strategy", "tasks", "whole command", "in-program wall (median)", "note"],
                 rows)


def skipped(run):
    return Table("Steps skipped, and why", ["step", "reason"],
                 [[s.where(), s.reason] for s in run.skipped_steps()])


def machine(run):
    keys = ("mode", "started_at", "host", "cpu_model", "cpus", "memory_bytes", "kernel",
            "load_start", "load_end", "pid_max", "open_files", "iostrat_version", "commit",
            "hyperfine", "gnuplot", "python_version", "sweep_delay_s", "http_delay_s",
            "rounds", "runs_per_round", "warmup", "max_run_s", "file_size", "elapsed_s")
    return Table("The machine and the run (meta.tsv)", ["key", "value"],
                 [[k, run.meta[k]] for k in keys if k in run.meta])


def tables(run, sections):
    out = []
    for wl in run.workloads:
        out.append(in_program(run, wl))
        out.append(whole_command(run, wl))
    for sec in sections:
        out.extend(sec.appendix)
    out.append(skipped(run))
    out.append(machine(run))
    return out
