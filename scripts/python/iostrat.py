#!/usr/bin/python3
"""iostrat.py - the tutorial's own Python beside iostrat's C strategies.

Runs iostrat's workloads (sleep, file, http) the ways the Python asyncio tutorial does: one
task after another, with multiprocessing.Process, with threading.Thread, and with asyncio
(asyncio.sleep; aiohttp with one ClientSession; asyncio.to_thread for files, since an event
loop cannot wait on a regular file). It takes iostrat's command line, prints the tutorial's
lines with tracemalloc's (current, peak) in them, and writes iostrat's result document, so
the report can show these runs beside the C ones.

usage: iostrat.py STRATEGY WORKLOAD [OPTIONS]       iostrat.py --help | --list | --version
Run it with Debian's interpreter (/usr/bin/python3, which has python3-aiohttp), or through
scripts/python/iostrat-py, which does that.
"""

import array
import asyncio
import contextlib
import datetime
import functools
import getopt
import heapq
import importlib
import http.client
import json
import mmap
import os
import platform
import queue
import re
import resource
import select
import signal
import socket
import subprocess
import struct
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.error
import urllib.parse
import urllib.request

PROGRAM = "iostrat.py"


def _iostrat_version():
    """The iostrat version whose result document this program writes: bench/core/version.h's."""
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "core", "version.h")
    try:
        with open(header, encoding="ascii") as f:
            for line in f:
                words = line.split()
                if len(words) == 3 and words[:2] == ["#define", "IOSTRAT_VERSION"]:
                    return words[2].strip('"')
    except OSError:
        pass
    return None  # not beside its source tree: said as null, never guessed


SCHEMA_VERSION = _iostrat_version()
MAX_TASKS = 1000000
THREAD_SAMPLE_INTERVAL_NS = 10 * 1000000  # count threads at most this often
TRACEMALLOC_SWITCH = "IOSTRAT_PY_TRACEMALLOC"  # "off": no tracing, to see what tracing costs
MEMORY_SWITCH = "IOSTRAT_MEMORY"  # "off": no /proc readings of memory, for timing runs

EXIT_OK = 0
EXIT_FAILED = 1  # a task failed, or the run broke down part-way (the result is still written)
EXIT_USAGE = 2  # bad arguments or an unavailable strategy: nothing ran


class UsageError(Exception):
    """A bad command line: the message says which option and why (exit 2)."""


class TaskFailed(Exception):
    """A task went wrong in an expected way: the message is recorded as the task's error."""


class Stopped(BaseException):
    """Raised in the main thread by SIGINT/SIGTERM. A BaseException, so that no task's
    `except Exception` swallows it."""


# ----------------------------------------------------------------------------------------------
# Units: the same strict syntax as iostrat (bench/core/units.c).

DURATION_UNITS_NS = {"": 1e9, "s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1, "m": 60e9}
SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kib": 1024, "m": 1024**2, "mib": 1024**2,
              "g": 1024**3, "gib": 1024**3, "t": 1024**4, "tib": 1024**4}


NUMBER = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")  # ASCII digits only


def split_number(text):
    """A non-negative decimal number at the start of text and the suffix after it, or None
    (strtod's decimal syntax, as iostrat reads it)."""
    match = NUMBER.match(text)
    if match is None:
        return None
    value = float(match.group(0))
    return (value, text[match.end():]) if value != float("inf") else None


def parse_duration_ns(text):
    """1.5, 1.5s, 250ms, 100us, 10ns, 2m -> nanoseconds, or None."""
    parsed = split_number(text)
    if parsed is None or parsed[1] not in DURATION_UNITS_NS:
        return None
    ns = parsed[0] * DURATION_UNITS_NS[parsed[1]]
    return None if ns > 1e18 else int(round(ns))


def parse_size_bytes(text):
    """4096, 4K, 16M, 1G -> bytes (a whole number), or None."""
    parsed = split_number(text)
    if parsed is None or parsed[1].lower() not in SIZE_UNITS:
        return None
    size = parsed[0] * SIZE_UNITS[parsed[1].lower()]
    return int(size) if size <= 9e18 and size == int(size) else None


def parse_whole(text, low, high):
    if re.fullmatch(r"-?[0-9]+", text) is None:  # ASCII decimal ("٣" and "²" are digits too)
        return None
    value = int(text)
    return value if low <= value <= high else None


# ----------------------------------------------------------------------------------------------
# The command line: iostrat's options, the same defaults and the same checks (bench/cli.c).

OPTIONS_FOR = {  # which workloads an option applies to; any other is an error, not ignored
    "--max-delay": ("sleep",),
    "--delay": ("sleep", "http"),
    "--size": ("file",), "--block": ("file",), "--dir": ("file",), "--cache": ("file",),
    "--url": ("http",), "--urls": ("http",), "--timeout": ("http",),
}
LONG_OPTIONS = ["tasks=", "jobs=", "quiet", "json=", "seed=", "max-delay=", "delay=", "size=",
                "block=", "dir=", "cache=", "pool=", "inline", "url=", "urls=", "timeout=",
                "list", "help", "version"]


class Params:
    """Everything the command line says, with iostrat's defaults."""

    def __init__(self):
        self.strategy = None      # a Strategy
        self.workload = None      # a Workload
        self.tasks = 4            # -n
        self.jobs = 0             # -j: most tasks in flight; 0 means all
        self.quiet = False        # -q: no per-task lines
        self.json_path = None     # --json FILE
        self.seed = None          # --seed, or from the clock
        self.max_delay_s = 6      # sleep: random whole seconds 0 .. max-1
        self.delay_ns = -1        # sleep: one fixed delay; http: the server's hold; -1: none
        self.size_bytes = 1024 * 1024  # file: bytes per file
        self.block_bytes = 64 * 1024   # file: bytes per read
        self.dir = None           # file: where the set lives, or None for the default
        self.cache = "cold"       # file: cold (evicted before timing) or warm
        self.url = None           # http: --url
        self.urls_file = None     # http: --urls
        self.timeout_ns = 30 * 1000000000  # http: --timeout
        self.command = ""         # the command line, for the result document


def bad_value(option, value, expected):
    return UsageError(f"{option}: '{value}' is not {expected}")


def parse_command_line(argv):
    """Params for a run, or a string to print (--help, --list, --version)."""
    params = Params()
    params.command = " ".join(quote_word(word) for word in [PROGRAM] + argv)
    try:
        options, words = getopt.gnu_getopt(argv, "n:j:qh", LONG_OPTIONS)
    except getopt.GetoptError as err:
        raise UsageError(f"{err.msg}\nTry '{PROGRAM} --help'.") from None
    given = set()
    for option, value in options:
        option = {"-n": "--tasks", "-j": "--jobs", "-q": "--quiet", "-h": "--help"}.get(option,
                                                                                      option)
        given.add(option)
        if option == "--help":
            return HELP
        if option == "--version":
            return version_text()
        if option == "--tasks":
            params.tasks = parse_whole(value, 1, MAX_TASKS)
            if params.tasks is None:
                raise bad_value(option, value, "a whole number from 1 to 1000000")
        elif option == "--jobs":
            params.jobs = parse_whole(value, 1, MAX_TASKS)
            if params.jobs is None:
                raise bad_value(option, value, "a whole number from 1 to 1000000")
        elif option == "--quiet":
            params.quiet = True
        elif option == "--json":
            if not value:
                raise bad_value(option, value, "a file name")
            params.json_path = value
        elif option == "--seed":
            if re.fullmatch(r"[0-9]+", value) is None or int(value) >= 2**64:
                raise bad_value(option, value, "a whole number from 0 to 2^64-1")
            params.seed = int(value)
        elif option == "--max-delay":
            params.max_delay_s = parse_whole(value, 1, 86400)
            if params.max_delay_s is None:
                raise bad_value(option, value, "a whole number of seconds from 1 to 86400")
        elif option == "--delay":
            params.delay_ns = parse_duration_ns(value)
            if params.delay_ns is None or params.delay_ns > 86400 * 1000000000:
                raise bad_value(option, value,
                                "a duration from 0 to 1 day (1.5, 1.5s, 250ms, 100us)")
        elif option == "--size":
            params.size_bytes = parse_size_bytes(value)
            if not params.size_bytes:
                raise bad_value(option, value, "a size above 0 (4096, 4K, 16M, 1G)")
        elif option == "--block":
            params.block_bytes = parse_size_bytes(value)
            if not params.block_bytes or params.block_bytes > 1024**3:
                raise bad_value(option, value, "a size from 1 byte to 1G (4K, 64K)")
        elif option == "--dir":
            if not value:
                raise bad_value(option, value, "a folder")
            params.dir = value
        elif option == "--cache":
            if value not in ("warm", "cold"):
                raise bad_value(option, value, "warm or cold")
            params.cache = value
        elif option in ("--pool", "--inline"):
            raise UsageError(f"{option} is for iostrat's epoll strategy; the Python programs "
                             "read files in the tutorial's ways (python-asyncio: "
                             "asyncio.to_thread)")
        elif option == "--url":
            if not value:
                raise bad_value(option, value, "a URL")
            params.url = value
        elif option == "--urls":
            if not value:
                raise bad_value(option, value, "a file name")
            params.urls_file = value
        elif option == "--timeout":
            params.timeout_ns = parse_duration_ns(value)
            if params.timeout_ns is None or params.timeout_ns < 1000000:
                raise bad_value(option, value, "a duration of at least 1ms")
    if "--list" in given:
        return list_text()
    if len(words) != 2:
        problem = "a strategy and a workload are needed" if len(words) < 2 else \
            "too many arguments"
        raise UsageError(f"{problem}\nUsage: {PROGRAM} STRATEGY WORKLOAD [OPTIONS]\n"
                         + names_text())
    params.strategy = STRATEGIES.get(words[0])
    if params.strategy is None:
        raise UsageError(f"unknown strategy '{words[0]}'\n" + names_text())
    params.workload = WORKLOADS.get(words[1])
    if params.workload is None:
        raise UsageError(f"unknown workload '{words[1]}'\n" + names_text())
    for option in sorted(given):
        if option in OPTIONS_FOR and params.workload.name not in OPTIONS_FOR[option]:
            raise UsageError(f"{option} does not apply to the {params.workload.name} workload")
    if params.url is not None and params.urls_file is not None:
        raise UsageError("--url and --urls: give one or the other")
    if params.jobs == 0 and params.strategy.jobs_default_cpus:
        params.jobs = os.cpu_count() or 1  # a pool's size: one worker per CPU
    if params.jobs == 0 or params.jobs > params.tasks:
        params.jobs = params.tasks
    if params.seed is None:
        now_ns = time.time_ns()
        params.seed = ((now_ns // 1000000000) * 1000003 ^ (now_ns % 1000000000)
                       ^ os.getpid()) % 2**64
    return params


def quote_word(word):
    plain = word != "" and not any(c in word for c in " \t'\"$&;|<>*?()")
    return word if plain else f"'{word}'"


HELP = f"""Usage: {PROGRAM} STRATEGY WORKLOAD [OPTIONS]
       {PROGRAM} --list | --help | --version

The tutorial's own Python programs, beside iostrat's C strategies: runs N tasks of one
workload the tutorial's way, prints the tutorial's lines (tracemalloc's figures in them) and
a summary, and writes iostrat's result document. Strategies:
  python-blocking   one task after another, in the main thread
  python-processes  one multiprocessing.Process per task (fork start method)
  python-threads    one threading.Thread per task
  python-pool       a concurrent.futures.ThreadPoolExecutor of K threads (default: the CPUs)
  python-prefork    a multiprocessing.Pool of K worker processes forked once (fork)
  python-asyncio    one coroutine per task in one event loop: asyncio.sleep, aiohttp (one
                    ClientSession), asyncio.to_thread for files

Options for every run (as iostrat's):
  -n, --tasks N      number of tasks (default 4; 1 to {MAX_TASKS})
  -j, --jobs K       most tasks in flight at once (default: all; python-blocking: 1;
                     python-pool: one per CPU)
  -q, --quiet        no per-task lines (printing is I/O too)
      --json FILE    write the result document to FILE (atomically, also when the run fails
                     or is interrupted)
      --seed N       seed for random delays (default: from the clock; printed)

sleep:
      --max-delay M  each task sleeps a random whole number of seconds from 0 to M-1
                     (default 6); the same seed gives the same delays as iostrat
      --delay D      every task sleeps D instead: 1.5, 1.5s, 250ms, 100us

file:
      --size S       bytes per file (default 1M; 4K, 16M, 1G accepted)
      --block B      bytes per read (default 64K)
      --dir DIR      where iostrat's file set lives (default: iostrat's cache folder)
      --cache MODE   cold (default: evicted before timing) or warm (read once)

http:
      --url URL      fetch URL N times (default: the local server's listings)
      --urls FILE    one URL a line; task i fetches line i mod count
      --delay D      ask the local server to hold each response D (default 0)
      --timeout T    give up on a request after T (default 30s)

Exit status: 0 every task ok; 1 a task failed (the result is still written); 2 bad arguments
or an unavailable strategy (nothing ran); 130 after Ctrl-C, 143 after SIGTERM.

Environment: {TRACEMALLOC_SWITCH}=off runs without tracemalloc (as the tutorial's programs
would without their tracemalloc.start()): the lines say "(untraced)" and the heap figures
are null, so what tracing itself costs can be measured. {MEMORY_SWITCH}=off leaves out the
/proc readings of each process's memory (timing runs): the memory figures are null.
"""


def aiohttp_version():
    try:
        import aiohttp  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return aiohttp.__version__


def version_text():
    return (f"{PROGRAM} {SCHEMA_VERSION} (Python {platform.python_version()}, "
            f"aiohttp {aiohttp_version() or 'not installed'})\n")


def names_text():
    return (f"strategies: {' '.join(STRATEGIES)}\n"
            f"workloads: {' '.join(WORKLOADS)}")


def list_text():
    """iostrat's --list format (a heading, then one indented line per name), so that scripts
    read both alike; a workload a strategy cannot run here is named on its line."""
    lines = ["strategies:"]
    for strategy in STRATEGIES.values():
        missing = [f"{workload.name} unavailable: {strategy.unavailable(workload)}"
                   for workload in WORKLOADS.values() if strategy.unavailable(workload)]
        note = f" ({'; '.join(missing)})" if missing else ""
        lines.append(f"  {strategy.name:<17} {strategy.summary}{note}")
    lines.append("workloads:")
    for workload in WORKLOADS.values():
        lines.append(f"  {workload.name:<17} {workload.summary}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# The task table: one record per task, in a shared anonymous mapping (mmap(-1) is MAP_SHARED),
# like iostrat's, so a forked child writes its own record and the parent reads it once the
# child has exited. Each field is a typed array over the mapping: writing a record allocates
# nothing that tracemalloc would count, as iostrat's table is not counted by its heap figures.

PENDING, RUNNING, OK, ERROR, CANCELLED = range(5)
STATUS_NAMES = {PENDING: "cancelled", RUNNING: "cancelled", OK: "ok", ERROR: "error",
                CANCELLED: "cancelled"}
ERROR_LEN = 112  # bytes of a task's error message, as in iostrat


class TaskTable:
    FIELDS = (  # name, array type code
        ("status", "i"), ("pid", "i"), ("tid", "i"), ("http_status", "i"),
        ("threads_seen", "i"),    # processes: threads of the child (kernel count)
        ("connections", "i"),     # processes, http: connections the child opened
        ("start_ns", "q"),        # monotonic, since the run began; -1 when never started
        ("end_ns", "q"),          # monotonic, since the run began; -1 when never finished
        ("delay_ns", "q"),        # sleep: how long; http: how long the server holds it
        ("bytes", "Q"),           # file and http: bytes read
        ("rss_peak_bytes", "Q"),  # processes: the child's peak RSS, asked by the child
        # processes: the child's own memory, read by itself just before it is done
        ("heap_start_bytes", "Q"),   # tracemalloc's current at its start: the parent's copy
        ("heap_peak_bytes", "Q"),    # tracemalloc's peak over the child's own life
        ("uss_bytes", "Q"),          # smaps_rollup Private_Clean + Private_Dirty
        ("pss_bytes", "Q"),          # smaps_rollup Pss
        ("added_bytes", "Q"),        # dirty private pages, page tables, kernel stacks, objects
        ("page_tables_bytes", "Q"),  # status VmPTE
        ("kernel_objects_bytes", "Q"),  # estimated, as iostrat's (memory.c)
        ("child_start_ns", "q"),     # the child's life, since the run began
        ("child_end_ns", "q"),
        ("memory_threads", "i"),     # status Threads
        ("memory_measured", "i"),    # 1: the /proc figures above are set
        ("heap_measured", "i"),      # 1: the heap figures above are set
    )

    def __init__(self, tasks):
        self.tasks = tasks
        size = sum(array.array(code).itemsize for _, code in self.FIELDS) * tasks
        self.mapping = mmap.mmap(-1, size + ERROR_LEN * tasks)
        view = memoryview(self.mapping)
        offset = 0
        for name, code in self.FIELDS:
            width = array.array(code).itemsize * tasks
            setattr(self, name, view[offset:offset + width].cast(code))
            offset += width
        self.errors = view[offset:offset + ERROR_LEN * tasks]
        for i in range(tasks):
            self.start_ns[i] = -1
            self.end_ns[i] = -1

    def set_error(self, i, message):
        data = message.encode("utf-8", "replace")[:ERROR_LEN - 1]
        while data:  # do not cut a character in two
            try:
                data.decode("utf-8")
                break
            except UnicodeDecodeError:
                data = data[:-1]
        self.errors[i * ERROR_LEN:(i + 1) * ERROR_LEN] = data.ljust(ERROR_LEN, b"\0")

    def error(self, i):
        data = bytes(self.errors[i * ERROR_LEN:(i + 1) * ERROR_LEN]).split(b"\0", 1)[0]
        return data.decode("utf-8", "replace") if data else None


# ----------------------------------------------------------------------------------------------
# The run: its clock, its stop signal, the tutorial's lines and the bookkeeping every strategy
# shares.

class Run:
    def __init__(self, params):
        self.params = params
        self.workload = params.workload
        self.table = TaskTable(params.tasks)
        self.start_ns = 0             # time.monotonic_ns() when the run began
        self.end_ns = 0
        self.stop_signal = 0          # SIGINT or SIGTERM once one has come
        self.closed = False           # the run is over: late threads must not write records
        self.inflight = 0             # tasks in flight now (counted by one thread only)
        self.threads_peak = 1         # most threads seen at once in one process
        self.threads_sampled_ns = 0
        self.processes = 1            # processes that ran tasks, the parent included
        self.mode = None              # how the strategy ran the workload, when it matters
        self.harness_message = None   # the strategy broke down part-way: why
        self.stdout_gone = False      # stdout was closed under us (a pipe to `head`)
        self.stdout_error = 0         # errno of a failed write to stdout (EPIPE aside)
        self.usage_start = None
        self.parent_pid = os.getpid()  # the process that runs the strategy
        self.memory = MemoryRun()     # the parent's own memory samples

    def elapsed_ns(self):
        return time.monotonic_ns() - self.start_ns

    def jobs(self):
        return 1 if self.params.strategy.serial else self.params.jobs

    def inflight_add(self, delta):
        """Counts tasks in flight from one thread; counts the kernel's threads when every slot
        is first busy (when threads peak) and now and then; the parent's memory then and when
        the first task is done."""
        self.inflight += delta
        if delta > 0:
            self.sample_threads(force=self.inflight == self.jobs())
            if self.inflight == self.jobs():
                self.memory.sample_parent()
        elif not self.memory.sampled_at_finish:
            self.memory.sampled_at_finish = True
            self.memory.sample_parent()

    def thread_started(self):
        """After each thread start: the count only grows then, so the peak cannot be missed.
        The link count of /proc/self/task is the kernel's thread count plus 2: one O(1) stat(),
        as iostrat counts (bench/core/run.c)."""
        try:
            threads = os.stat("/proc/self/task").st_nlink - 2
        except OSError:
            threads = count_threads()
        self.threads_peak = max(self.threads_peak, threads)

    def sample_threads(self, force=False):
        now = time.monotonic_ns()
        if not force and now - self.threads_sampled_ns < THREAD_SAMPLE_INTERVAL_NS:
            return
        self.threads_sampled_ns = now
        self.threads_peak = max(self.threads_peak, count_threads())

    def write(self, text):
        """Prints to stdout; a closed stdout stops the printing, not the run."""
        if self.stdout_gone:
            return
        try:
            sys.stdout.write(text)
        except (BrokenPipeError, ValueError, OSError) as err:
            self.stdout_failed(err)
            silence_stdout()

    def stdout_failed(self, err):
        """A write to stdout failed: a reader gone (EPIPE) stops the printing; anything else
        (a full disk) also makes the exit status 1."""
        self.stdout_gone = True
        code = getattr(err, "errno", None)
        if code and code != errno_module().EPIPE and not self.stdout_error:
            self.stdout_error = code

    def task_started(self, i):
        table = self.table
        table.pid[i] = os.getpid()
        table.tid[i] = threading.get_native_id()
        table.status[i] = RUNNING
        table.start_ns[i] = time.monotonic_ns() - self.start_ns
        if not self.params.quiet:
            self.write(f"{line_prefix()}Task {i}, PID: {table.pid[i]}, TID: {table.tid[i]}, "
                       f"{self.workload.describe(self, i)}...\n")

    def task_finished(self, i, status, error=None):
        if self.closed:
            return
        table = self.table
        table.end_ns[i] = time.monotonic_ns() - self.start_ns
        table.status[i] = status
        if error is not None:
            table.set_error(i, error)
        if not self.params.quiet:
            self.write(line_prefix() + done_text(i, status, table.error(i)))

    def run_task_blocking(self, i):
        """One task start to end in the calling thread, with the workload's blocking code:
        what python-blocking, python-processes and python-threads have in common."""
        self.task_started(i)
        self.memory.task_running(self, 1)
        try:
            self.workload.run_blocking(self, i)
        except TaskFailed as failure:
            self.task_finished(i, ERROR, str(failure))
            return
        except Exception as failure:  # pylint: disable=broad-except
            self.task_finished(i, ERROR, f"{type(failure).__name__}: {failure}")
            return
        finally:
            self.memory.task_running(self, -1)
        self.task_finished(i, OK)

    async def run_task_async(self, i, session):
        """One task start to end as a coroutine: what python-asyncio runs per task."""
        self.task_started(i)
        self.inflight_add(1)
        try:
            await self.workload.run_async(self, i, session)
        except asyncio.CancelledError:
            self.task_finished(i, CANCELLED)
            return
        except TaskFailed as failure:
            self.task_finished(i, ERROR, str(failure))
            return
        except Exception as failure:  # pylint: disable=broad-except
            self.task_finished(i, ERROR, f"{type(failure).__name__}: {failure}")
            return
        finally:
            self.inflight_add(-1)
        self.task_finished(i, OK)

    def stop_now(self):
        """After SIGINT/SIGTERM: a task still running is cancelled at this moment (its thread
        may go on, but its record is closed), and a task never started is cancelled."""
        table = self.table
        now_ns = self.elapsed_ns()
        for i in range(self.params.tasks):
            if table.status[i] == RUNNING:
                table.end_ns[i] = now_ns
                table.status[i] = CANCELLED
                if not self.params.quiet:
                    self.write(line_prefix() + done_text(i, CANCELLED, None))
        self.cancel_pending()

    def fail_unstarted(self, started, tasks, why):
        """After the run broke down: the tasks from started on never ran, because of why;
        the rest of the pending ones (none, unless stopped) are cancelled."""
        if self.harness_message is not None:
            for i in range(started, tasks):
                self.table.status[i] = ERROR
                self.table.set_error(i, why)
        self.cancel_pending()

    def cancel_pending(self):
        for i in range(self.params.tasks):
            if self.table.status[i] == PENDING:
                self.table.status[i] = CANCELLED


def silence_stdout():
    """Points stdout at /dev/null, so that the interpreter's last flush cannot fail too."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def line_prefix():
    """The tutorial's "Time: HH:MM:SS.ffffff\t Malloc, Peak: (current, peak)\t\t": the wall
    clock for display only, and tracemalloc's figures of this process."""
    now = datetime.datetime.now().strftime("%H:%M:%S.%f")
    if not tracemalloc.is_tracing():
        return f"Time: {now}\t Malloc, Peak: (untraced)\t\t"
    current, peak = tracemalloc.get_traced_memory()
    return f"Time: {now}\t Malloc, Peak: ({current}, {peak})\t\t"


def done_text(i, status, error):
    if status == OK:
        return f"Task {i}: Done.\n"
    if status == CANCELLED:
        return f"Task {i}: Cancelled.\n"
    return f"Task {i}: Failed: {error}\n"


def count_threads():
    """Threads of this process as the kernel counts them (/proc/self/status, Threads:)."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 1


# ----------------------------------------------------------------------------------------------
# Workloads. Each gives a blocking implementation of a task (python-blocking, -processes and
# -threads run it) and a coroutine (python-asyncio runs it), and describes a task for the
# tutorial's line.

class Workload:
    name = ""
    summary = ""
    delays_known = False  # a task's delay is its whole ideal duration

    def prepare(self, run):
        """Before timing: fill each task's delay, check the file set or the server. Raises
        UsageError when the run cannot start (exit 2)."""

    def describe(self, run, i):
        raise NotImplementedError

    def run_blocking(self, run, i):
        raise NotImplementedError

    async def run_async(self, run, i, session):
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def async_session(self, run):
        """What python-asyncio's tasks share (aiohttp's ClientSession), for the whole run."""
        yield None

    def unavailable(self, strategy):
        """Why this strategy cannot run this workload here, or None."""
        return None

    def params_json(self, run, params):
        pass

    def summary_json(self, run, summary, wall_s):
        pass

    def print_summary(self, run, wall_s):
        pass

    def cleanup(self, run):
        pass


def splitmix64(state):
    """iostrat's generator (bench/workloads/sleep.c): returns (new state, value), so that the same seed
    gives the same delays in both programs."""
    mask = 2**64 - 1
    state = (state + 0x9E3779B97F4A7C15) & mask
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return state, z ^ (z >> 31)


class SleepWorkload(Workload):
    name = "sleep"
    summary = "each task sleeps: time.sleep / asyncio.sleep, random whole seconds or --delay"
    delays_known = True

    def prepare(self, run):
        params = run.params
        state = params.seed
        for i in range(params.tasks):
            if params.delay_ns >= 0:
                run.table.delay_ns[i] = params.delay_ns
            else:
                state, value = splitmix64(state)
                run.table.delay_ns[i] = (value % params.max_delay_s) * 1000000000

    def describe(self, run, i):
        return f"Delay: {run.table.delay_ns[i] / 1e9:g} seconds"

    def run_blocking(self, run, i):
        time.sleep(run.table.delay_ns[i] / 1e9)

    async def run_async(self, run, i, session):
        await asyncio.sleep(run.table.delay_ns[i] / 1e9)

    def params_json(self, run, params):
        params["max_delay_s"] = run.params.max_delay_s
        params["delay_s"] = run.params.delay_ns / 1e9 if run.params.delay_ns >= 0 else None


class ConnectionCounter:
    """TCP connections this process opened (urllib's, through CountingHTTPHandler)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0

    def add(self):
        with self.lock:
            self.count += 1


HTTP_CONNECTIONS = ConnectionCounter()


class CountingHTTPConnection(http.client.HTTPConnection):
    def connect(self):
        super().connect()
        HTTP_CONNECTIONS.add()


class CountingHTTPSConnection(http.client.HTTPSConnection):
    def connect(self):
        super().connect()
        HTTP_CONNECTIONS.add()


class CountingHTTPHandler(urllib.request.HTTPHandler):
    """urllib's handler for http:// URLs, counting the connections it opens (urllib opens
    one per request: it sends Connection: close)."""

    def http_open(self, req):
        return self.do_open(CountingHTTPConnection, req)


class CountingHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(CountingHTTPSConnection, req, context=self._context)


HTTP_SUBREDDITS = ("python", "programming", "compsci", "linux", "c_programming",
                   "learnprogramming", "golang", "rust")  # scripts/httpd's, cycled as iostrat
HTTP_LISTING_LIMIT = 5
HTTP_DELAY_MAX_NS = 999999000000  # the local server holds a response at most 999.999 s


class HttpWorkload(Workload):
    name = "http"
    summary = ("GET JSON: urllib.request (blocking, processes, threads), aiohttp with one "
               "ClientSession (asyncio); listings are printed")
    delays_known = True  # the delay is what the server holds each response: 0 without --delay

    def __init__(self):
        self.urls = []            # task i fetches urls[i % len(urls)]
        self.server_url = None    # the local server's base URL, when it is the target
        self.opener = None        # urllib's, shared by the tasks of one process
        self.aio_connections = 0  # aiohttp: connections created (its trace hooks)

    def unavailable(self, strategy):
        if strategy.name == "python-asyncio" and aiohttp_version() is None:
            return "aiohttp is not installed for this interpreter (Debian: python3-aiohttp)"
        return None

    def prepare(self, run):
        """The URLs, as iostrat makes them (bench/workloads/http.c): --url, --urls, or the local
        server's listings; delay=<seconds> appended to each when --delay is above 0."""
        params = run.params
        delay_ns = max(params.delay_ns, 0)
        if delay_ns > HTTP_DELAY_MAX_NS or delay_ns % 1000000 != 0:
            raise UsageError("--delay: the local server holds a response from 0 to 999.999 s, "
                             "to the millisecond")
        if params.url is not None:
            why = url_problem(params.url)
            if why is not None:
                raise UsageError(f"--url: '{params.url}' is not a URL this program fetches: "
                                 f"{why}")
            texts = [params.url]
        elif params.urls_file is not None:
            texts = read_url_file(params.urls_file)
        else:
            self.server_url = local_server_url().rstrip("/")
            texts = [f"{self.server_url}/r/{name}/top.json?sort=top&t=day&"
                     f"limit={HTTP_LISTING_LIMIT}" for name in HTTP_SUBREDDITS]
        held_ns = [delay_ns] * len(texts)
        for k, text in enumerate(texts):
            own_ns = query_delay_ns(text)
            if own_ns is not None and params.delay_ns >= 0:
                raise UsageError(f"'{text}' is not a URL this program fetches: it holds a "
                                 "delay= of its own, and --delay says another: give one")
            if own_ns is not None and own_ns > 0:
                held_ns[k] = own_ns  # the server holds it that long: the ideal
        if delay_ns > 0:
            delay = f"{delay_ns // 1000000000}.{delay_ns % 1000000000 // 1000000:03d}"
            texts = [with_query(text, "delay", delay) for text in texts]
        self.urls = texts
        for i in range(params.tasks):
            run.table.delay_ns[i] = held_ns[i % len(texts)]
        self.opener = urllib.request.build_opener(CountingHTTPHandler(), CountingHTTPSHandler())

    def url_for(self, run, i):
        return self.urls[i % len(self.urls)]

    def describe(self, run, i):
        return f"GET {self.url_for(run, i)}"

    def run_blocking(self, run, i):
        """urllib.request.urlopen: the standard library's blocking GET."""
        url = self.url_for(run, i)
        timeout_s = run.params.timeout_ns / 1e9
        try:
            with self.opener.open(url, timeout=timeout_s) as response:
                status = response.status
                body = response.read()
        except urllib.error.HTTPError as err:
            run.table.http_status[i] = err.code
            err.close()
            raise TaskFailed(f"HTTP status {err.code}, not 200") from None
        except urllib.error.URLError as err:
            raise TaskFailed(f"GET: {describe_os_error(err.reason)}") from None
        except socket.timeout:
            raise TaskFailed(f"timed out after {timeout_s:g} s") from None
        except (OSError, http.client.HTTPException) as err:
            raise TaskFailed(f"GET: {type(err).__name__}: {describe_os_error(err)}") from None
        self.check(run, i, status, body)

    async def run_async(self, run, i, session):
        """aiohttp's session.get, as the tutorial fetches its listings."""
        import aiohttp  # pylint: disable=import-outside-toplevel
        try:
            async with session.get(self.url_for(run, i)) as response:
                status = response.status
                body = await response.read()
        except asyncio.TimeoutError:
            raise TaskFailed(f"timed out after {run.params.timeout_ns / 1e9:g} s") from None
        except aiohttp.ClientConnectorError as err:  # the system's words, as urllib's
            code = getattr(err.os_error, "errno", None)
            raise TaskFailed(f"GET: {os.strerror(code) if code else err}") from None
        except aiohttp.ClientError as err:
            raise TaskFailed(f"GET: {type(err).__name__}: {err}") from None
        self.check(run, i, status, body)

    def check(self, run, i, status, body):
        """The tutorial's checks: status 200 (it asserts), a body that parses as JSON; a
        listing's posts each with a score and a title, printed as the tutorial prints them."""
        run.table.http_status[i] = status
        run.table.bytes[i] = len(body)
        if status != 200:
            raise TaskFailed(f"HTTP status {status}, not 200")
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError) as err:
            raise TaskFailed(f"not JSON: {err}") from None
        if isinstance(document, dict) and document.get("kind") == "Listing":
            listing = listing_text(self.url_for(run, i), document.get("data"))
            if not run.params.quiet:
                run.write(listing)

    @contextlib.asynccontextmanager
    async def async_session(self, run):
        """One ClientSession for every task, its connector limited to --jobs connections."""
        import aiohttp  # pylint: disable=import-outside-toplevel

        async def on_connection_created(session, context, event):
            self.aio_connections += 1

        tracing = aiohttp.TraceConfig()
        tracing.on_connection_create_end.append(on_connection_created)
        connector = aiohttp.TCPConnector(limit=run.jobs())
        timeout = aiohttp.ClientTimeout(total=run.params.timeout_ns / 1e9)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                         trace_configs=[tracing]) as session:
            yield session

    def params_json(self, run, params):
        params["url"] = run.params.url
        params["urls_file"] = run.params.urls_file
        params["server_url"] = self.server_url
        params["delay_s"] = max(run.params.delay_ns, 0) / 1e9
        params["timeout_s"] = run.params.timeout_ns / 1e9

    def figures(self, run, wall_s):
        table, tasks = run.table, run.params.tasks
        if run.params.strategy.name == "python-asyncio":
            connections = self.aio_connections
        else:  # urllib's: this process's, and each child's from its record
            connections = HTTP_CONNECTIONS.count + sum(table.connections[i] for i in range(tasks))
        bytes_total = sum(table.bytes[i] for i in range(tasks))
        requests_ok = sum(1 for i in range(tasks) if table.status[i] == OK)
        return {
            "bytes_total": bytes_total,
            "throughput_bytes_per_s": bytes_total / wall_s if wall_s > 0 else 0.0,
            "requests_per_s": requests_ok / wall_s if wall_s > 0 else 0.0,
            "connections": connections,
            "requests_ok": requests_ok,
        }

    def summary_json(self, run, summary, wall_s):
        figures = self.figures(run, wall_s)
        del figures["requests_ok"]
        summary.update(figures)

    def print_summary(self, run, wall_s):
        figures = self.figures(run, wall_s)
        connections = figures["connections"]
        run.write(f"  http: {figures['requests_ok']} requests ok, "
                  f"{figures['requests_per_s']:.1f} per second; {figures['bytes_total']} body "
                  f"bytes ({figures['throughput_bytes_per_s'] / 1048576:.1f} MiB/s); "
                  f"{connections} connection{'' if connections == 1 else 's'} opened\n")


def url_problem(text):
    """Why iostrat would not fetch this URL, or None (http and https, with a host, no white
    space or control character: libcurl refuses those, so this program does too)."""
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7f for c in text):
        return URL_SPACE_PROBLEM
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https"):
        return f"the scheme is {parts.scheme or 'missing'}: only http and https URLs are fetched"
    if not parts.hostname:
        return "no host name"
    return None


URL_SPACE_PROBLEM = "it holds white space or a control character (write a space as %20)"
HTTP_URL_MAX = 2048                # longest URL a --urls line may hold, as iostrat's
HTTP_URLS_MAX_BYTES = 64 << 20     # a --urls source longer than this is refused
HTTP_URLS_CHUNK_BYTES = 65536


def url_line(path, number, line):
    """One --urls line: None for a blank or comment line, else the URL."""
    text = line.decode("utf-8", "strict").strip(" \t\r")
    if not text or text.startswith("#"):
        return None
    why = url_problem(text)
    if why is not None:
        raise UsageError(f"--urls {path}, line {number}: '{text}' is not a URL this program "
                         f"fetches: {why}")
    return text


def read_url_file(path):
    """--urls FILE: one URL a line; blank lines and lines starting with '#' are skipped. Read
    with os.read, so that every bound holds whatever FILE is (a FIFO, /dev/zero): 2048 bytes a
    line, 64 MiB in all; Ctrl-C (Stopped) ends the reading."""
    urls, line, number, total = [], b"", 1, 0
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # a FIFO waits for a writer
    except OSError as err:
        raise UsageError(f"--urls {path}: {describe_os_error(err)}") from None
    try:
        info = os.fstat(fd)
        if stat_is_regular(info) and info.st_size > HTTP_URLS_MAX_BYTES:
            raise UsageError(f"--urls {path}: larger than {HTTP_URLS_MAX_BYTES >> 20} MiB")
        while True:
            chunk = os.read(fd, HTTP_URLS_CHUNK_BYTES)
            if not chunk:
                break
            total += len(chunk)
            if total > HTTP_URLS_MAX_BYTES:
                raise UsageError(f"--urls {path}: more than {HTTP_URLS_MAX_BYTES >> 20} MiB: "
                                 "not a list of URLs")
            pieces = (line + chunk).split(b"\n")
            for piece in pieces[:-1]:
                check_url_line_bytes(path, number, piece)
                url = url_line(path, number, piece)
                if url is not None:
                    urls.append(url)
                number += 1
            line = pieces[-1]
            check_url_line_bytes(path, number, line)
        url = url_line(path, number, line)
        if url is not None:
            urls.append(url)
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"--urls {path}: {describe_os_error(err)}") from None
    finally:
        os.close(fd)
    if not urls:
        raise UsageError(f"--urls {path}: no URL in the file (one a line)")
    return urls


def stat_is_regular(info):
    import stat  # pylint: disable=import-outside-toplevel
    return stat.S_ISREG(info.st_mode)


def check_url_line_bytes(path, number, line):
    if b"\0" in line:
        raise UsageError(f"--urls {path}, line {number}: a NUL byte: not a list of URLs")
    if len(line) > HTTP_URL_MAX:
        raise UsageError(f"--urls {path}, line {number}: longer than the longest URL iostrat "
                         f"takes ({HTTP_URL_MAX} bytes)")


def query_delay_ns(url):
    """The delay=<seconds> a URL's query holds: nanoseconds, -1 when it is not decimal
    seconds, None when there is none."""
    found = None
    for item in urllib.parse.urlsplit(url).query.split("&"):
        if item.startswith("delay="):
            value = item[len("delay="):]
            ns = parse_duration_ns(value) if re.fullmatch(r"[0-9.]+", value) else None
            found = ns if ns is not None else -1
    return found


def with_query(url, key, value):
    parts = urllib.parse.urlsplit(url)
    query = f"{parts.query}&{key}={value}" if parts.query else f"{key}={value}"
    return urllib.parse.urlunsplit(parts._replace(query=query))


def local_server_url():
    """The local server's base URL as iostrat finds it: $IOSTRAT_HTTP_URL, or the url file that
    `scripts/httpd start` writes into its run folder, while the nginx beside it is alive."""
    given = os.environ.get("IOSTRAT_HTTP_URL")
    if given:
        return given
    run_dir = os.environ.get("IOSTRAT_HTTPD_DIR") or os.path.join(
        os.environ.get("XDG_RUNTIME_DIR") or "/tmp", f"iostrat-httpd-{os.getuid()}")
    url_path = os.path.join(run_dir, "url")
    url = first_line(url_path)
    if not url:
        raise UsageError(f"no local HTTP server is running (no URL in {url_path}): start it "
                         "with `scripts/httpd start`, or pass --url URL or --urls FILE")
    pid = first_line(os.path.join(run_dir, "nginx.pid"))
    if not server_alive(pid, run_dir):
        raise UsageError(f"the local HTTP server of {run_dir} ({url}) is not running any more: "
                         "start it with `scripts/httpd start`, or pass --url URL or --urls FILE")
    return url


def server_alive(pid, run_dir):
    """Is pid the nginx master of run_dir, as `scripts/httpd status` decides: alive, not a
    zombie, started with -c RUN_DIR/nginx.conf (a stale pid file may name a recycled pid)."""
    if re.fullmatch(r"[0-9]+", pid) is None or int(pid) <= 0:
        return False
    stat_line = first_line(f"/proc/{pid}/stat")
    if ")" not in stat_line or stat_line[stat_line.rindex(")") + 2:][:1] == "Z":
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            words = cmdline.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return False
    return f"-c {run_dir}/nginx.conf " in (words if words.endswith(" ") else words + " ")


def first_line(path):
    try:
        with open(path, encoding="utf-8") as text:
            return text.readline().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def listing_text(url, data):
    """A reddit listing as the tutorial prints it: the subreddit, then each post's score and
    title with its link under it. Raises TaskFailed when a post has no score or no title."""
    children = data.get("children") if isinstance(data, dict) else None
    if not isinstance(children, list):
        raise TaskFailed("a Listing without data.children")
    posts = [child.get("data") if isinstance(child, dict) else None for child in children]
    for index, post in enumerate(posts):
        if not isinstance(post, dict) or not isinstance(post.get("score"), (int, float)) \
                or isinstance(post.get("score"), bool) or not isinstance(post.get("title"), str):
            raise TaskFailed(f"listing post {index} has no score or no title")
    path = urllib.parse.urlsplit(url).path
    if "/r/" in path:
        name = path.split("/r/", 1)[1].split("/", 1)[0]
    else:
        name = posts[0].get("subreddit") if posts else None
        name = name if isinstance(name, str) else "?"
    lines = [f"/r/{name}:\n"]
    for post in posts:
        score = post["score"]
        score = f"{score:g}" if isinstance(score, float) else str(score)
        link = post.get("url") if isinstance(post.get("url"), str) else ""
        lines.append(f"\t{score}: {post['title']}\n\t\t({link})\n")
    return "".join(lines)


def describe_os_error(err):
    if isinstance(err, OSError) and err.strerror:
        return err.strerror + (f": {err.filename}" if err.filename else "")
    return str(err)


FILE_WORD_MAGIC = 0x696F73747261740A  # "iostrat\n" as a big-endian word (bench/workloads/file.h)
FILE_SET_FORMAT = 1                    # the manifest's format: the same set as iostrat's
FILE_CHUNK_BYTES = 1 << 20             # bytes per write when making the set, per read warming
FILE_FD_RESERVE = 32                   # descriptors kept for everything but the files
FILE_DAMAGE_REPORTS_MAX = 5            # damaged files named before "and N more"


def file_name(index):
    return f"f{index:07d}"


def format_size(size):
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if size % (1 << shift) == 0:
            return f"{size >> shift}{unit}"
    return str(size)


@functools.lru_cache(maxsize=16)
def word_patterns(words):
    """Two numbers of `words` 64-bit words each, least significant word first: every word 1,
    and word k holding 8k. With them a run of the set's words is three big-integer operations
    rather than a loop in Python."""
    ones = int.from_bytes(b"\x01\0\0\0\0\0\0\0" * words, "little")
    steps = int.from_bytes(array.array("Q", range(0, 8 * words, 8)).tobytes(), "little")
    return ones, steps


def file_content(index, offset, length):
    """What file `index` of the set holds at [offset, offset+length): the 8-byte little-endian
    word at offset o (a multiple of 8) is FILE_WORD_MAGIC ^ (index << 40) ^ o."""
    first = offset - offset % 8
    words = (offset + length - first + 7) // 8
    ones, steps = word_patterns(words)
    key = FILE_WORD_MAGIC ^ (index << 40)
    value = (key * ones) ^ (first * ones + steps)  # no carries: each word stays in its place
    skip = offset - first
    return value.to_bytes(8 * words, "little")[skip:skip + length]


def content_error(index, offset, data):
    """Where data (read at offset of file index) first differs from the set, and how."""
    expected = file_content(index, offset, len(data))
    at = next(k for k in range(len(data)) if data[k] != expected[k])
    word_at = offset + at - (offset + at) % 8
    start = word_at - offset
    if start >= 0 and start + 8 <= len(data):
        found = int.from_bytes(data[start:start + 8], "little")
        other = found ^ FILE_WORD_MAGIC ^ word_at
        if other & ((1 << 40) - 1) == 0 and other >> 40 != index:
            return f"wrong content at offset {word_at} (it holds {file_name(other >> 40)}'s)"
        return f"wrong content at offset {word_at} (altered)"
    return f"wrong content at offset {offset + at} (altered)"


@functools.lru_cache(maxsize=1)
@functools.lru_cache(maxsize=None)
def libc():
    import ctypes  # pylint: disable=import-outside-toplevel
    library = ctypes.CDLL(None, use_errno=True)
    library.mmap.restype = ctypes.c_void_p
    library.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                             ctypes.c_int, ctypes.c_long]
    library.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    library.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    return library


def resident_pages(fd, size):
    """(resident, total) pages of an open file: mincore() on a mapping of it, as iostrat asks
    (the standard library has no mincore)."""
    page = mmap.PAGESIZE
    span_max = 16384 * page
    resident = total = 0
    for offset in range(0, size, span_max):
        span = min(size - offset, span_max)
        pages = (span + page - 1) // page
        address = libc().mmap(None, span, mmap.PROT_READ, mmap.MAP_SHARED, fd, offset)
        if address in (None, 2**64 - 1):  # MAP_FAILED
            break
        vector = bytes(pages)
        if libc().mincore(address, span, vector) == 0:
            resident += sum(byte & 1 for byte in vector)
            total += pages
        libc().munmap(address, span)
    return resident, total


class FileWorkload(Workload):
    name = "file"
    summary = ("each task reads one file of iostrat's set end to end: open/read (blocking, "
               "processes, threads), asyncio.to_thread (asyncio)")

    def __init__(self):
        self.dir = None              # the folder holding the set
        self.created_files = 0       # files this run made, 0 when the set was reused
        self.resident_at_start = 0.0
        self.damaged_files = 0

    def prepare(self, run):
        """Find or make the set (the manifest says it is complete), bound --jobs by the
        descriptor limit, bring the set to the cache state asked for, measure it."""
        params = run.params
        option = "--dir" if params.dir is not None else "the default --dir"
        self.dir = params.dir if params.dir is not None else default_file_dir(params.size_bytes)
        if os.path.exists(self.dir) and not os.path.isdir(self.dir):
            raise UsageError(f"{option} {self.dir}: not a folder")
        try:
            os.makedirs(self.dir, exist_ok=True)
        except OSError as err:
            raise UsageError(f"{option} {self.dir}: cannot create it: "
                             f"{describe_os_error(err)}") from None
        count, size = read_manifest(self.dir)
        same_set = size == params.size_bytes
        if not same_set or count < params.tasks:
            try:
                self.make_files(run, count if same_set else 0, params.tasks)
            except OSError as err:
                raise UsageError(f"{option} {self.dir}: the file set cannot be made there: "
                                 f"{describe_os_error(err)}") from None
        self.bound_jobs(run)
        self.set_cache_state(run)
        self.measure_resident(run)
        if params.cache == "cold" and self.resident_at_start > 0.05:
            print(f"{PROGRAM}: --cache cold: {self.resident_at_start * 100:.0f}% of the file "
                  "set was still in the page cache when timing began (a tmpfs folder cannot be "
                  "evicted): this run is not a cold one", file=sys.stderr)
        if params.strategy.name == "python-asyncio":
            run.mode = "to_thread"

    def make_files(self, run, first, count):
        """Files first .. count-1 of the set, then a sync and the manifest, as iostrat makes
        them (so either program reuses the other's set). On a failure the files this call
        wrote are removed again."""
        size = run.params.size_bytes
        fs = os.statvfs(self.dir)
        if size * (count - first) > fs.f_bavail * fs.f_frsize:  # refused, not filled
            option = "--dir" if run.params.dir is not None else "the default --dir"
            raise UsageError(f"{option} {self.dir}: the file set needs {count - first} files "
                             f"of {format_size(size)} ({size * (count - first) / 2**30:.1f} "
                             f"GiB), and the file system has "
                             f"{fs.f_bavail * fs.f_frsize / 2**30:.1f} GiB free: give a "
                             "smaller --size or -n, or another --dir")
        print(f"{PROGRAM}: making the file set: {count - first} files of {format_size(size)} "
              f"in {self.dir}", file=sys.stderr)
        made = first
        try:
            with contextlib.suppress(FileNotFoundError):
                if first == 0:
                    os.unlink(os.path.join(self.dir, "MANIFEST"))
            for made in range(first, count):
                with open(os.path.join(self.dir, file_name(made)), "wb") as out:
                    for offset in range(0, size, FILE_CHUNK_BYTES):
                        out.write(file_content(made, offset, min(FILE_CHUNK_BYTES,
                                                                 size - offset)))
            made = count
            dir_fd = os.open(self.dir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                if libc().syncfs(dir_fd) < 0:
                    raise OSError(ctypes_errno(), os.strerror(ctypes_errno()), "syncfs")
            finally:
                os.close(dir_fd)
            temp = os.path.join(self.dir, "MANIFEST.tmp")
            with open(temp, "w", encoding="ascii") as manifest:
                manifest.write(f"iostrat file set\nformat {FILE_SET_FORMAT}\ncount {count}\n"
                               f"size_bytes {size}\n")
                manifest.flush()
                os.fsync(manifest.fileno())
            os.replace(temp, os.path.join(self.dir, "MANIFEST"))
        except (OSError, Stopped):  # Ctrl-C too: no half-made set is left
            for i in range(first, min(made + 1, count)):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(self.dir, file_name(i)))
            raise
        self.created_files = count - first

    def bound_jobs(self, run):
        """Threads and an event loop hold their tasks' files in one process: no more in
        flight than the descriptor limit allows."""
        if run.params.strategy.forks:
            return
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return
        most = max(1, soft - FILE_FD_RESERVE)
        if run.jobs() > most:
            print(f"{PROGRAM}: --jobs {run.jobs()}: {run.params.strategy.name} would hold more "
                  f"files open at once than the descriptor limit (ulimit -n {soft}) allows; "
                  f"running {most} at once", file=sys.stderr)
            run.params.jobs = most

    def set_cache_state(self, run):
        """cold: every file's pages dropped (fdatasync first: dirty pages cannot be); warm:
        every file read once. Missing files and wrong sizes are reported here."""
        params = run.params
        for i in range(params.tasks):
            path = os.path.join(self.dir, file_name(i))
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError as err:
                self.report_damage(file_name(i), os.strerror(err.errno))
                continue
            try:
                size = os.fstat(fd).st_size
                if size != params.size_bytes:
                    self.report_damage(file_name(i), f"{size} bytes, expected "
                                                     f"{params.size_bytes}")
                if params.cache == "cold":
                    os.fdatasync(fd)
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                else:
                    while os.read(fd, FILE_CHUNK_BYTES):
                        pass
            finally:
                os.close(fd)
        if self.damaged_files > FILE_DAMAGE_REPORTS_MAX:
            print(f"{PROGRAM}: file set {self.dir}: and "
                  f"{self.damaged_files - FILE_DAMAGE_REPORTS_MAX} more damaged files",
                  file=sys.stderr)

    def report_damage(self, name, what):
        self.damaged_files += 1
        if self.damaged_files <= FILE_DAMAGE_REPORTS_MAX:
            print(f"{PROGRAM}: file set {self.dir}: {name}: {what}: its task will fail "
                  f"(remove {self.dir}/MANIFEST to make the set again)", file=sys.stderr)

    def measure_resident(self, run):
        resident = total = 0
        for i in range(run.params.tasks):
            try:
                fd = os.open(os.path.join(self.dir, file_name(i)), os.O_RDONLY)
            except OSError:
                continue
            try:
                pages = resident_pages(fd, os.fstat(fd).st_size)
            finally:
                os.close(fd)
            resident += pages[0]
            total += pages[1]
        self.resident_at_start = resident / total if total else 0.0

    def describe(self, run, i):
        return f"File: {self.dir}/{file_name(i)}, {run.params.size_bytes} bytes"

    def run_blocking(self, run, i):
        """open() and read() in --block pieces to the end, every piece checked."""
        size, block = run.params.size_bytes, run.params.block_bytes
        name = file_name(i)
        try:
            source = open(os.path.join(self.dir, name), "rb", buffering=0)
        except OSError as err:
            raise TaskFailed(f"{name}: open: {os.strerror(err.errno)}") from None
        with source:
            offset = 0
            while True:
                try:
                    data = source.read(block)
                except OSError as err:
                    raise TaskFailed(f"{name}: read at offset {offset}: "
                                     f"{os.strerror(err.errno)}") from None
                if not data:
                    break
                if offset + len(data) > size:
                    raise TaskFailed(f"{name}: longer than {size} bytes")
                if data != file_content(i, offset, len(data)):
                    raise TaskFailed(f"{name}: {content_error(i, offset, data)}")
                offset += len(data)
                run.table.bytes[i] = offset
        if offset != size:
            raise TaskFailed(f"{name}: {offset} bytes, expected {size} (truncated)")

    async def run_async(self, run, i, session):
        """An event loop cannot wait on a regular file: the blocking read goes to the loop's
        default thread pool, the idiomatic way."""
        await asyncio.to_thread(self.run_blocking, run, i)

    def params_json(self, run, params):
        params["size_bytes"] = run.params.size_bytes
        params["block_bytes"] = run.params.block_bytes
        params["dir"] = self.dir
        params["cache"] = run.params.cache
        params["pool"] = None    # iostrat's epoll only
        params["inline"] = None  # iostrat's epoll only

    def bytes_total(self, run):
        return sum(run.table.bytes[i] for i in range(run.params.tasks))

    def summary_json(self, run, summary, wall_s):
        total = self.bytes_total(run)
        summary["bytes_total"] = total
        summary["throughput_bytes_per_s"] = total / wall_s if wall_s > 0 else 0.0
        summary["resident_at_start"] = self.resident_at_start
        summary["files_created"] = self.created_files

    def print_summary(self, run, wall_s):
        total = self.bytes_total(run)
        rate = total / wall_s if wall_s > 0 else 0.0
        run.write(f"  read {total / 1048576:.1f} MiB ({run.params.tasks} files of "
                  f"{format_size(run.params.size_bytes)}, {format_size(run.params.block_bytes)} "
                  f"per read()) at {rate / 1048576:.1f} MiB/s; "
                  f"{self.resident_at_start * 100:.1f}% of the set in the page cache at start "
                  f"(--cache {run.params.cache})\n")


def ctypes_errno():
    import ctypes  # pylint: disable=import-outside-toplevel
    return ctypes.get_errno()


def default_file_dir(size):
    """${XDG_CACHE_HOME:-$HOME/.cache}/iostrat/files-<size>: iostrat's folder for the set."""
    cache = os.environ.get("XDG_CACHE_HOME", "")
    home = os.environ.get("HOME", "")
    if cache.startswith("/"):
        return f"{cache}/iostrat/files-{format_size(size)}"
    if home:
        return f"{home}/.cache/iostrat/files-{format_size(size)}"
    raise UsageError("no folder for the file set (HOME is not set); name one with --dir")


def read_manifest(folder):
    """(count, size_bytes) of the set in folder, or (0, None) when it has no valid manifest."""
    try:
        with open(os.path.join(folder, "MANIFEST"), encoding="ascii") as manifest:
            lines = manifest.read().split("\n")
        fields = dict(line.split(" ", 1) for line in lines[1:4])
        if lines[0] == "iostrat file set" and int(fields["format"]) == FILE_SET_FORMAT \
                and int(fields["count"]) > 0:
            return int(fields["count"]), int(fields["size_bytes"])
    except (OSError, ValueError, KeyError, UnicodeDecodeError):
        pass
    return 0, None


# ----------------------------------------------------------------------------------------------
# Strategies: the tutorial's four ways of running tasks side by side.

class Strategy:
    def __init__(self, name, summary, run_function, serial=False, forks=False,
                 jobs_default_cpus=False):
        self.name = name
        self.summary = summary
        self.run = run_function
        self.serial = serial  # one task at a time, whatever --jobs says
        self.forks = forks    # tasks run in child processes
        self.jobs_default_cpus = jobs_default_cpus  # --jobs defaults to the CPUs online

    def unavailable(self, workload):
        return workload.unavailable(self)


def run_blocking(run):
    """The tutorial's starting point: each task in turn, in the main thread."""
    run.sample_threads(force=True)
    try:
        for i in range(run.params.tasks):
            run.inflight_add(1)
            run.run_task_blocking(i)
            run.inflight_add(-1)
    except Stopped:
        run.stop_now()


def run_threads(run):
    """One threading.Thread per task, at most --jobs alive; a finished thread puts its task's
    number on a queue, and the main thread joins it."""
    tasks, jobs = run.params.tasks, run.jobs()
    done = queue.SimpleQueue()
    threads = {}

    def thread_main(i):
        try:
            run.run_task_blocking(i)
        finally:
            done.put(i)

    started = 0
    try:
        while started < tasks or threads:
            if started < tasks and len(threads) < jobs and run.harness_message is None:
                thread = threading.Thread(target=thread_main, args=(started,), daemon=True)
                try:
                    thread.start()
                except RuntimeError as err:  # "can't start new thread"
                    run.harness_message = f"threading.Thread.start failed after {started} " \
                                          f"threads: {err}"
                    run.table.status[started] = ERROR
                    run.table.set_error(started, f"threading.Thread.start: {err}")
                    started += 1
                    continue
                threads[started] = thread
                started += 1
                run.inflight_add(1)
                run.thread_started()
                continue
            if not threads:
                break
            threads.pop(done.get()).join()
            run.inflight_add(-1)
    except Stopped:
        run.stop_now()  # the threads are daemons: they go with the process
    run.fail_unstarted(started, tasks, "never started: a thread could not be created")


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent_pid):
    """The kernel kills this child when the parent dies (PR_SET_PDEATHSIG); if the parent died
    before the call, nobody would: getppid() says so."""
    libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(128 + signal.SIGKILL)


# ----------------------------------------------------------------------------------------------
# Memory that counts each page once, as iostrat's bench/core/memory.c: each process reads its own
# /proc/self/smaps_rollup, status and maps; the parent's samples count every anonymous and shared
# page it maps (those it shares with its children once, here), each child adds its own dirty
# private pages; page tables, kernel stacks and the kernel's objects beside them.

KERNEL_STACK_BYTES = 16 * 1024  # THREAD_SIZE on x86-64 (arm64 too)
# object sizes from /proc/slabinfo of Linux 6.18 on x86-64, as in memory.c
KOBJ_PROCESS_BYTES = 1600 + 1152 + 2112 + 704  # mm_struct, signal, sighand, files_struct
KOBJ_THREAD_BYTES = 4224 + 192                 # task_struct, struct pid
KOBJ_VMA_BYTES = 192 + 256 // 10               # vm_area_struct, a share of a maple node
KOBJ_ANON_VMA_BYTES, KOBJ_ANON_CHAIN_BYTES = 104, 64


def memory_on():
    return os.environ.get(MEMORY_SWITCH) != "off"


def proc_fields(path, keys):
    """{key: value} of "Key:  123 kB" lines (bytes; counts stay counts)."""
    found = {}
    with open(path, "rb") as source:
        for line in source.read().decode("ascii", "replace").splitlines():
            key, _, rest = line.partition(":")
            if key in keys:
                words = rest.split()
                if words and words[0].isdigit():
                    found[key] = int(words[0]) * (1024 if words[1:2] == ["kB"] else 1)
    return found


def count_maps():
    """Mappings of this process, and of them the private writable ones."""
    vmas = writable = 0
    with open("/proc/self/maps", "rb") as source:
        for line in source.read().splitlines():
            vmas += 1
            fields = line.split(None, 2)
            if len(fields) > 1 and fields[1] == b"rw-p":
                writable += 1
    return vmas, writable


def kernel_objects_bytes(threads, vmas, writable, generations):
    return (KOBJ_PROCESS_BYTES + threads * KOBJ_THREAD_BYTES + vmas * KOBJ_VMA_BYTES
            + writable * (KOBJ_ANON_VMA_BYTES + generations * KOBJ_ANON_CHAIN_BYTES))


class MemoryRun:
    """The parent's samples of itself: the one that adds up to most is kept."""

    def __init__(self):
        self.on = memory_on()
        self.sampled_at_finish = False
        self.samples = 0
        self.best = None          # {figures} of the largest sample
        self.vmas_at_fork = (0, 0)
        self.lock = threading.Lock()  # samples come from the main thread and a task's
        self.tasks_running = 0        # tasks between start and end in this process
        self.sampled_when_full = False

    def task_running(self, run, delta):
        """As iostrat's memory_task_running: the run's peak, when every slot runs its task,
        is sampled once by the task that fills the last slot, in its own thread (the main
        thread cannot see that moment: by the first task's end one thread is gone)."""
        if not self.on or run.params.strategy.forks:
            return
        with self.lock:
            self.tasks_running += delta
            full = (delta > 0 and self.tasks_running == run.jobs()
                    and not self.sampled_when_full)
            if full:
                self.sampled_when_full = True
        if full:
            self.sample_parent()

    def sample_parent(self):
        if not self.on:
            return
        with self.lock:
            self.sample_parent_locked()

    def sample_parent_locked(self):
        try:
            rollup = proc_fields("/proc/self/smaps_rollup",
                                 ("Pss", "Private_Clean", "Private_Dirty"))
            status = proc_fields("/proc/self/status",
                                 ("RssAnon", "RssShmem", "VmPTE", "Threads"))
            vmas, writable = count_maps()
        except OSError:
            return
        self.samples += 1
        if self.samples == 1:
            self.vmas_at_fork = (vmas, writable)
        threads = status.get("Threads", 1)
        sample = {
            "pages": status.get("RssAnon", 0) + status.get("RssShmem", 0),
            "page_tables": status.get("VmPTE", 0),
            "kernel_stacks": threads * KERNEL_STACK_BYTES,
            "kernel_objects": kernel_objects_bytes(threads, vmas, writable, 1),
            "uss": rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0),
            "pss": rollup.get("Pss", 0),
        }
        sample["added"] = (sample["pages"] + sample["page_tables"] + sample["kernel_stacks"]
                           + sample["kernel_objects"])
        if self.best is None or sample["added"] > self.best["added"]:
            self.best = sample


def memory_child_begin(run, i):
    """In a child, first: its heap is its copy of the parent's, its peak starts here."""
    table = run.table
    table.child_start_ns[i] = run.elapsed_ns()
    if tracemalloc.is_tracing():
        tracemalloc.reset_peak()
        table.heap_start_bytes[i] = tracemalloc.get_traced_memory()[0]


def memory_child_end(run, i):
    """In a child, just before it is done: its heap's peak and its own memory."""
    table = run.table
    if tracemalloc.is_tracing():
        table.heap_peak_bytes[i] = tracemalloc.get_traced_memory()[1]
        table.heap_measured[i] = 1
    if run.memory.on:
        try:
            rollup = proc_fields("/proc/self/smaps_rollup",
                                 ("Pss", "Private_Clean", "Private_Dirty"))
            status = proc_fields("/proc/self/status", ("VmPTE", "Threads"))
        except OSError:
            rollup = None
        if rollup:
            threads = status.get("Threads", 1)
            vmas, writable = run.memory.vmas_at_fork  # a child maps what its parent did
            objects = kernel_objects_bytes(threads, vmas, writable, 2)
            table.uss_bytes[i] = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
            table.pss_bytes[i] = rollup.get("Pss", 0)
            table.page_tables_bytes[i] = status.get("VmPTE", 0)
            table.kernel_objects_bytes[i] = objects
            table.memory_threads[i] = threads
            table.added_bytes[i] = (rollup.get("Private_Dirty", 0) + status.get("VmPTE", 0)
                                    + threads * KERNEL_STACK_BYTES + objects)
            table.memory_measured[i] = 1
    table.child_end_ns[i] = run.elapsed_ns()


def memory_summary(run):
    """The memory keys of the summary, as iostrat's: the parent's largest sample, and the
    children alive together at the moment they added most."""
    table, tasks, memory = run.table, run.params.tasks, run.memory
    memory.sample_parent()
    heaps = sorted(table.heap_peak_bytes[i] for i in range(tasks) if table.heap_measured[i])
    keys = {
        "memory_total_bytes": None, "memory_pages_bytes": None, "uss_total_bytes": None,
        "pss_total_bytes": None, "page_tables_bytes": None, "kernel_stacks_bytes": None,
        "kernel_objects_bytes": None, "memory_processes": None,
        "heap_peak_per_process_bytes": {"max": heaps[-1], "median": heaps[len(heaps) // 2],
                                        "count": len(heaps)} if heaps else None,
        "stack_resident_bytes": None,  # not measured here: mincore() is not reached from Python
    }
    if not memory.on or memory.best is None:
        return keys
    events = []
    for i in range(tasks):
        if table.memory_measured[i]:
            events.append((table.child_start_ns[i], 1, i))
            events.append((table.child_end_ns[i], 0, i))
    events.sort()  # an end at t comes before a start at t
    now = peak = 0
    when = None
    for moment, starts, i in events:
        now += table.added_bytes[i] if starts else -table.added_bytes[i]
        if now > peak:
            peak, when = now, moment
    parts = dict(memory.best)
    alive = [i for i in range(tasks) if when is not None and table.memory_measured[i]
             and table.child_start_ns[i] <= when < table.child_end_ns[i]]
    for i in alive:
        stacks = table.memory_threads[i] * KERNEL_STACK_BYTES
        parts["pages"] += (table.added_bytes[i] - table.page_tables_bytes[i] - stacks
                           - table.kernel_objects_bytes[i])
        parts["page_tables"] += table.page_tables_bytes[i]
        parts["kernel_stacks"] += stacks
        parts["kernel_objects"] += table.kernel_objects_bytes[i]
        parts["uss"] += table.uss_bytes[i]
        parts["pss"] += table.pss_bytes[i]
    keys.update({
        "memory_total_bytes": parts["pages"] + parts["page_tables"] + parts["kernel_stacks"]
                              + parts["kernel_objects"],
        "memory_pages_bytes": parts["pages"],
        "uss_total_bytes": parts["uss"],
        "pss_total_bytes": parts["pss"],
        "page_tables_bytes": parts["page_tables"],
        "kernel_stacks_bytes": parts["kernel_stacks"],
        "kernel_objects_bytes": parts["kernel_objects"],
        "memory_processes": 1 + len(alive),
    })
    return keys


def memory_task_keys(run, i):
    table = run.table
    heap = bool(table.heap_measured[i])
    measured = bool(table.memory_measured[i])
    return {
        "heap_start_bytes": table.heap_start_bytes[i] if heap else None,
        "heap_peak_bytes": table.heap_peak_bytes[i] if heap else None,
        "uss_bytes": table.uss_bytes[i] if measured else None,
        "pss_bytes": table.pss_bytes[i] if measured else None,
    }


def child_main(run, i, done_fd):
    """A multiprocessing child: runs its task, leaves in its record what only it can know (its
    threads, its peak RSS: the parent's wait does not hand them back), then tells the parent
    it is done by writing its task number to a pipe."""
    die_with_parent(run.parent_pid)
    memory_child_begin(run, i)
    run_task_in_child(run, i)
    memory_child_end(run, i)
    os.write(done_fd, DONE_RECORD.pack(i))  # 4 bytes: one atomic write, never interleaved


def run_task_in_child(run, i):
    """One task in a child process (python-processes' or python-prefork's), and in its
    record what only the child can know: its threads, its peak RSS so far, the connections
    it opened for this task."""
    table = run.table
    connections_before = HTTP_CONNECTIONS.count
    try:
        run.run_task_blocking(i)
    except Stopped:
        if table.status[i] == RUNNING:
            table.end_ns[i] = run.elapsed_ns()
            table.status[i] = CANCELLED
    table.threads_seen[i] = count_threads()
    table.rss_peak_bytes[i] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    table.connections[i] = HTTP_CONNECTIONS.count - connections_before
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()


DONE_RECORD = struct.Struct("<i")
CHILD_CHECK_S = 1.0  # how often the parent looks for a child that died without saying so


def run_processes(run):
    """One multiprocessing.Process per task (the fork start method, as the tutorial has it on
    Linux), at most --jobs alive. A child that is done writes its task number to a pipe; the
    parent reads it and joins that child (Process.join reaps it)."""
    import multiprocessing  # pylint: disable=import-outside-toplevel
    context = multiprocessing.get_context("fork")
    tasks, jobs = run.params.tasks, run.jobs()
    run.memory.sample_parent()  # before any fork: the mappings every child inherits
    children = {}  # task number -> Process
    done_read, done_write = os.pipe()
    done_poll = select.poll()
    done_poll.register(done_read, select.POLLIN)
    started = 0
    try:
        while started < tasks or children:
            if started < tasks and len(children) < jobs and run.harness_message is None:
                process = context.Process(target=child_main, args=(run, started, done_write))
                try:
                    process.start()
                except OSError as err:
                    run.harness_message = f"fork failed after {started} processes: " \
                                          f"{describe_os_error(err)}"
                    run.table.status[started] = ERROR
                    run.table.set_error(started, f"fork: {describe_os_error(err)}")
                    started += 1
                    continue
                children[started] = process
                run.processes += 1
                started += 1
                run.inflight_add(1)
                continue
            if not children:
                break
            if done_poll.poll(CHILD_CHECK_S * 1000):
                # whole records only: every write is 4 bytes, and so is every read's size
                finished = [record[0] for record in
                            DONE_RECORD.iter_unpack(os.read(done_read, 4096))]
            else:  # a child may have died without writing (killed): ask each one
                finished = [i for i, process in children.items() if not process.is_alive()]
            for i in finished:
                process = children.pop(i)
                process.join()
                reaped(run, i, process.exitcode)
                run.inflight_add(-1)
    except Stopped:
        stop_children(run, children)
    finally:
        os.close(done_read)
        os.close(done_write)
    run.fail_unstarted(started, tasks, "never started: a process could not be forked")


def reaped(run, i, exitcode):
    """A child is gone: its task is finished, unless the child died before finishing it."""
    table = run.table
    run.threads_peak = max(run.threads_peak, table.threads_seen[i])
    if table.status[i] not in (RUNNING, PENDING):
        return
    table.end_ns[i] = run.elapsed_ns()
    if run.stop_signal:
        table.status[i] = CANCELLED
    elif exitcode is not None and exitcode < 0:
        table.status[i] = ERROR
        table.set_error(i, f"child killed by signal {-exitcode} "
                           f"({signal.Signals(-exitcode).name})")
    else:
        table.status[i] = ERROR
        table.set_error(i, f"child exited with status {exitcode}")


def stop_children(run, children):
    """After Ctrl-C: the children are asked to stop (SIGTERM), killed if they have not within a
    second, and every one is reaped."""
    for process in children.values():
        with contextlib.suppress(OSError):
            process.terminate()
    deadline = time.monotonic() + 1.0
    for i, process in children.items():
        process.join(max(0.0, deadline - time.monotonic()))
        if process.exitcode is None:
            process.kill()
            process.join()
        reaped(run, i, process.exitcode)
    children.clear()


def run_pool(run):
    """A concurrent.futures.ThreadPoolExecutor of --jobs threads: every task submitted at
    once to its one queue, each worker thread taking the next and running the blocking
    code. A thread that cannot be started closes the queue, as iostrat's pool does."""
    from concurrent import futures  # pylint: disable=import-outside-toplevel
    tasks, jobs = run.params.tasks, run.jobs()
    executor = futures.ThreadPoolExecutor(max_workers=jobs)
    closed = threading.Event()

    def pool_task(i):
        if not closed.is_set() and not run.stop_signal:
            run.run_task_blocking(i)

    submitted = []
    try:
        for i in range(tasks):
            try:
                submitted.append(executor.submit(pool_task, i))
            except RuntimeError as err:  # "can't start new thread"
                closed.set()
                run.harness_message = f"ThreadPoolExecutor: a thread could not be started " \
                                      f"after {count_threads() - 1} workers: {err}"
                break
        run.sample_threads(force=True)  # the workers are all started by now
        futures.wait(submitted)
        executor.shutdown()
    except Stopped:
        run.stop_now()
        # the workers still sleeping are left behind, as python-threads' daemons are
        executor.shutdown(wait=False, cancel_futures=True)
    fail_pending(run, "never run: a worker thread could not be started")


def fail_pending(run, why):
    """After the run broke down part-way: the tasks left in the queue never ran, because of
    why; the rest of the pending ones (none, unless stopped) are cancelled."""
    if run.harness_message is not None and not run.stop_signal:
        for i in range(run.params.tasks):
            if run.table.status[i] == PENDING:
                run.table.status[i] = ERROR
                run.table.set_error(i, why)
    run.cancel_pending()


PREFORK_RUN = []  # in a python-prefork worker: the run, inherited through the fork


PREFORK_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def prefork_worker_init():
    """A multiprocessing.Pool worker leaves Ctrl-C to its parent and dies of SIGTERM, as
    Pool.terminate() expects, rather than raising Stopped. It was forked with both signals
    blocked, so that none could reach it before this."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, PREFORK_SIGNALS)


def prefork_task(i):
    run_task_in_child(PREFORK_RUN[0], i)


PREFORK_CHECK_S = 0.2  # how often the parent looks for a worker that died during a task


def run_prefork(run):
    """A multiprocessing.Pool of --jobs worker processes forked once at the start (the fork
    start method): every task handed to it at once (apply_async), each worker taking the
    next from the pool's queue. Pool replaces a worker that dies, but would wait for its
    task's result for ever: the parent fails that task itself."""
    import multiprocessing  # pylint: disable=import-outside-toplevel
    tasks, jobs, table = run.params.tasks, run.jobs(), run.table
    done = queue.SimpleQueue()
    PREFORK_RUN[:] = [run]
    signal.pthread_sigmask(signal.SIG_BLOCK, PREFORK_SIGNALS)  # held while the workers start
    try:
        pool = multiprocessing.get_context("fork").Pool(jobs, prefork_worker_init)
    except OSError as err:
        run.harness_message = f"multiprocessing.Pool: fork failed while starting {jobs} " \
                              f"workers: {describe_os_error(err)}"
        fail_pending(run, f"fork: {describe_os_error(err)}")
        signal.pthread_sigmask(signal.SIG_UNBLOCK, PREFORK_SIGNALS)
        return
    workers = {}  # pid -> Process, every worker the pool has had

    def look_at_workers():
        for process in multiprocessing.active_children():
            workers.setdefault(process.pid, process)

    look_at_workers()
    run.sample_threads(force=True)  # the pool's own threads in the parent
    unfinished = set(range(tasks))
    lost = False
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, PREFORK_SIGNALS)  # one that came is taken now
        for i in range(tasks):
            pool.apply_async(prefork_task, (i,), callback=lambda _, i=i: done.put(i),
                             error_callback=lambda _, i=i: done.put(i))
        while unfinished:
            try:
                unfinished.discard(done.get(timeout=PREFORK_CHECK_S))
                continue
            except queue.Empty:
                pass
            look_at_workers()
            for i in list(unfinished):
                worker = workers.get(table.pid[i]) if table.status[i] == RUNNING else None
                if worker is not None and worker.exitcode is not None:
                    prefork_worker_died(run, i, worker)
                    unfinished.discard(i)
                    lost = True
        if lost:  # the pool still waits for the lost task's result: it cannot close
            pool.terminate()
        else:
            pool.close()
    except Stopped:
        pool.terminate()
        run.stop_now()
    pool.join()
    look_at_workers()
    run.processes += len(workers)
    run.threads_peak = max([run.threads_peak] + [table.threads_seen[i] for i in range(tasks)])
    run.cancel_pending()


def prefork_worker_died(run, i, worker):
    table = run.table
    table.end_ns[i] = run.elapsed_ns()
    table.status[i] = ERROR
    if worker.exitcode < 0:
        table.set_error(i, f"worker process {worker.pid} killed by signal {-worker.exitcode} "
                           f"({signal.Signals(-worker.exitcode).name}) during the task")
    else:
        table.set_error(i, f"worker process {worker.pid} exited with status "
                           f"{worker.exitcode} during the task")


def run_asyncio(run):
    """One coroutine per task in one event loop, gathered as the tutorial does; with --jobs
    below the number of tasks, an asyncio.Semaphore holds the rest back."""
    asyncio.run(asyncio_main(run))
    install_signal_handlers(run)  # asyncio.run gave the signals back to their defaults


async def asyncio_main(run):
    tasks, jobs = run.params.tasks, run.jobs()
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(jobs) if jobs < tasks else None
    coroutines = []

    def on_signal(signo):
        if not run.stop_signal:
            run.stop_signal = signo
            for coroutine in coroutines:
                coroutine.cancel()

    for signo in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signo, on_signal, signo)

    async def one_task(i, session):
        if slots is None:
            await run.run_task_async(i, session)
            return
        try:
            async with slots:
                await run.run_task_async(i, session)
        except asyncio.CancelledError:
            pass  # cancelled while waiting for a slot: never started

    run.sample_threads(force=True)
    async with run.workload.async_session(run) as session:
        coroutines.extend(asyncio.create_task(one_task(i, session)) for i in range(tasks))
        await asyncio.gather(*coroutines)
        run.sample_threads(force=True)  # to_thread's workers are still alive here
    run.cancel_pending()


STRATEGIES = {
    strategy.name: strategy for strategy in (
        Strategy("python-blocking", "one task after another in the main thread (time.sleep, "
                 "open/read, urllib.request)", run_blocking, serial=True),
        Strategy("python-processes", "one multiprocessing.Process per task (fork), the "
                 "blocking code in each", run_processes, forks=True),
        Strategy("python-threads", "one threading.Thread per task, the blocking code in each",
                 run_threads),
        Strategy("python-pool", "a concurrent.futures.ThreadPoolExecutor of --jobs threads "
                 "(default: one per CPU), the blocking code in each", run_pool,
                 jobs_default_cpus=True),
        Strategy("python-prefork", "a multiprocessing.Pool of --jobs worker processes forked "
                 "once, the blocking code in each", run_prefork, forks=True),
        Strategy("python-asyncio", "one coroutine per task in one event loop (asyncio.sleep, "
                 "aiohttp, asyncio.to_thread for files)", run_asyncio),
    )
}

WORKLOADS = {workload.name: workload
             for workload in (SleepWorkload(), FileWorkload(), HttpWorkload())}


# ----------------------------------------------------------------------------------------------
# The summary and the result document, in iostrat's schema (bench/core/summary.c).

def percentile(sorted_values, q):
    """iostrat's rank: the smallest value with at least q% of the values at or below it."""
    count = len(sorted_values)
    if count == 0:
        return 0.0
    rank = int((q / 100.0) * count + 0.999999999)
    return sorted_values[min(max(rank, 1), count) - 1]


def ideal_s(delays_ns, jobs):
    """The shortest possible run: each task takes exactly its delay, --jobs at a time, in
    order (the same schedule as iostrat's summary_ideal_s)."""
    if not delays_ns:
        return 0.0
    if jobs >= len(delays_ns):
        return max(delays_ns) / 1e9
    free_at = [0] * jobs
    makespan = 0
    for delay in delays_ns:
        done = heapq.heappop(free_at) + delay
        makespan = max(makespan, done)
        heapq.heappush(free_at, done)
    return makespan / 1e9


def inflight_peak(table, tasks):
    """Most tasks between their start and their end at once, from the records themselves."""
    events = []
    for i in range(tasks):
        if table.start_ns[i] >= 0:
            events.append((table.start_ns[i], 1))
            end = table.end_ns[i] if table.end_ns[i] >= 0 else 2**62
            events.append((end, -1))
    events.sort()  # at the same instant an end (-1) comes before a start (+1)
    peak = current = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak


def thread_stack_bytes():
    """The address space a new thread's stack reserves: threading.stack_size() when set,
    otherwise the C library's default for pthread_create, asked of the C library itself."""
    size = threading.stack_size()
    if size:
        return size
    try:
        import ctypes  # pylint: disable=import-outside-toplevel
        libc = ctypes.CDLL(None)
        attr = ctypes.create_string_buffer(128)  # a pthread_attr_t is 56 bytes on x86_64
        stack = ctypes.c_size_t(0)
        if libc.pthread_attr_init(attr) != 0:
            return None
        err = libc.pthread_attr_getstacksize(attr, ctypes.byref(stack))
        libc.pthread_attr_destroy(attr)
        return stack.value if err == 0 else None
    except (ImportError, OSError, AttributeError):
        return None


def usage_now():
    return (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))


def compute_summary(run, stack_bytes):
    params, table = run.params, run.table
    tasks = params.tasks
    (self_start, children_start), (self_end, children_end) = run.usage_start, usage_now()
    wall_s = (run.end_ns - run.start_ns) / 1e9
    statuses = [table.status[i] for i in range(tasks)]
    durations = sorted((table.end_ns[i] - table.start_ns[i]) / 1e9 for i in range(tasks)
                       if table.start_ns[i] >= 0 and table.end_ns[i] >= 0)
    traced = tracemalloc.is_tracing()
    heap_end, heap_peak = tracemalloc.get_traced_memory() if traced else (None, None)
    rss_parent = self_end.ru_maxrss * 1024
    rss_by_pid = {}  # a prefork worker runs many tasks: its peak RSS counts once
    for i in range(tasks):
        if table.rss_peak_bytes[i]:
            rss_by_pid[table.pid[i]] = max(rss_by_pid.get(table.pid[i], 0),
                                           table.rss_peak_bytes[i])
    rss_children = sum(rss_by_pid.values())
    ideal = ideal_s([table.delay_ns[i] for i in range(tasks)], run.jobs()) \
        if run.workload.delays_known else None

    def delta(field):
        return (getattr(self_end, field) - getattr(self_start, field)
                + getattr(children_end, field) - getattr(children_start, field))

    return {
        "wall_s": wall_s,
        "ideal_s": ideal,
        "overhead_s": wall_s - ideal if ideal is not None else None,
        "user_s": delta("ru_utime"),
        "sys_s": delta("ru_stime"),
        "ctx_voluntary": delta("ru_nvcsw"),
        "ctx_involuntary": delta("ru_nivcsw"),
        "heap_measured": traced,
        "heap_source": "tracemalloc" if traced else None,
        "heap_peak_bytes": heap_peak,
        "heap_end_bytes": heap_end,
        "rss_peak_parent_bytes": rss_parent,
        # resident memory added over processes: shared pages counted once per process
        "rss_sum_peak_bytes": rss_parent + rss_children,
        **memory_summary(run),
        "stack_reserved_bytes": (run.threads_peak - 1) * stack_bytes
                                if stack_bytes is not None else None,
        "processes": run.processes,
        "threads_peak": run.threads_peak,
        "inflight_peak": inflight_peak(table, tasks),
        "tasks_ok": statuses.count(OK),
        "tasks_failed": statuses.count(ERROR),
        "tasks_cancelled": tasks - statuses.count(OK) - statuses.count(ERROR),
        "latency_s": {
            "p50": percentile(durations, 50),
            "p90": percentile(durations, 90),
            "p99": percentile(durations, 99),
            "max": durations[-1] if durations else 0.0,
        },
    }


def text_bytes(label, count):
    if count >= 10 * 1024 * 1024:
        return f"{label} {count / 1048576:.1f} MiB"
    if count >= 10 * 1024:
        return f"{label} {count / 1024:.1f} KiB"
    return f"{label} {count} bytes"


def memory_lines(summary, processes):
    """What the run added (each page once), the summed RSS for what it is, each child's heap."""
    lines = []
    if summary["memory_total_bytes"] is not None:
        count = summary["memory_processes"]
        lines.append(text_bytes("  memory added at the peak", summary["memory_total_bytes"])
                     + text_bytes(" (each page once: pages", summary["memory_pages_bytes"])
                     + text_bytes(", page tables", summary["page_tables_bytes"])
                     + text_bytes(", kernel stacks", summary["kernel_stacks_bytes"])
                     + text_bytes(", kernel objects", summary["kernel_objects_bytes"])
                     + f") over {count} process{'' if count == 1 else 'es'};"
                     + text_bytes(" USS", summary["uss_total_bytes"])
                     + text_bytes(", PSS", summary["pss_total_bytes"]))
    else:
        lines.append(f"  memory added not measured ({MEMORY_SWITCH}=off)")
    lines.append("  resident memory added over processes: shared pages counted once per process:"
                 + text_bytes("", summary["rss_sum_peak_bytes"])
                 + f" over {processes} process{'' if processes == 1 else 'es'}")
    heaps = summary["heap_peak_per_process_bytes"]
    if heaps:
        lines.append(text_bytes("  each child's own heap (tracemalloc): peak max", heaps["max"])
                     + text_bytes(", median", heaps["median"])
                     + f" over {heaps['count']} children; each child starts from a copy of the "
                       "parent's heap (copy-on-write)")
    return lines


def print_summary(run, summary):
    params = run.params
    mode = f" {run.mode}" if run.mode else ""
    lines = [
        f"Summary: {params.strategy.name} x {params.workload.name}{mode}, {params.tasks} tasks "
        f"({summary['tasks_ok']} ok, {summary['tasks_failed']} failed, "
        f"{summary['tasks_cancelled']} cancelled), jobs {run.jobs()}, seed {params.seed}",
    ]
    wall = f"  wall {summary['wall_s']:.6f} s"
    if summary["ideal_s"] is not None:
        overhead = summary["overhead_s"]
        wall += (f", ideal {summary['ideal_s']:.6f} s, overhead {overhead * 1e3:.3f} ms "
                 f"({overhead * 1e6 / params.tasks:.3f} us per task)")
    lines.append(wall)
    lines.append(f"  CPU user {summary['user_s']:.3f} s, sys {summary['sys_s']:.3f} s; context "
                 f"switches {summary['ctx_voluntary']} voluntary, "
                 f"{summary['ctx_involuntary']} involuntary")
    processes = summary["processes"]
    if summary["heap_measured"]:
        heap = (text_bytes("  heap peak (tracemalloc)", summary["heap_peak_bytes"])
                + text_bytes(" (at the end", summary["heap_end_bytes"]) + ");")
    else:
        heap = f"  heap not measured ({TRACEMALLOC_SWITCH}=off);"
    lines.append(heap.rstrip(";"))
    lines.extend(memory_lines(summary, processes))
    threads = (f"  threads peak {summary['threads_peak']} in one process; tasks in flight "
               f"peak {summary['inflight_peak']}")
    if summary["stack_reserved_bytes"]:
        threads += text_bytes("; thread stacks reserve", summary["stack_reserved_bytes"])
    lines.append(threads)
    latency = summary["latency_s"]
    lines.append(f"  task time p50 {latency['p50']:.6f} s, p90 {latency['p90']:.6f} s, "
                 f"p99 {latency['p99']:.6f} s, max {latency['max']:.6f} s")
    run.write("\n".join(lines) + "\n")


def host_document():
    uname = os.uname()
    model = None
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name") and ":" in line:
                    model = line.split(":", 1)[1].strip()
                    break
    libc_name, libc_version = platform.libc_ver()
    return {
        "hostname": uname.nodename,
        "kernel": f"{uname.sysname} {uname.release} {uname.machine}",
        "cpus": os.sysconf("SC_NPROCESSORS_ONLN"),
        "cpu_model": model,
        "memory_bytes": os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"),
        "compiler": None,  # nothing was compiled: python_compiler built the interpreter
        "libc": f"{libc_name} {libc_version}" if libc_name else None,
        "libcurl": None,
        "jansson": None,
        "liburing": None,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "python_compiler": platform.python_compiler(),
        "aiohttp": aiohttp_version(),
        "commit": source_commit(),
    }


def source_commit():
    """The commit of the tree this program lives in, or None outside a git checkout."""
    folder = os.path.dirname(os.path.abspath(__file__))
    try:
        result = subprocess.run(["git", "-C", folder, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def result_document(run, summary, started_at):
    params, table = run.params, run.table
    # a seed from 2^63 is a string of its digits, as iostrat writes it (jansson's integers
    # are signed 64-bit)
    seed = params.seed if params.seed < 2**63 else str(params.seed)
    document_params = {"tasks": params.tasks, "jobs": run.jobs(), "seed": seed,
                       "quiet": params.quiet}
    run.workload.params_json(run, document_params)
    tasks = []
    for i in range(params.tasks):
        entry = {
            "id": i,
            "pid": table.pid[i] or None,
            "tid": table.tid[i] or None,
            "start_s": table.start_ns[i] / 1e9 if table.start_ns[i] >= 0 else None,
            "end_s": table.end_ns[i] / 1e9 if table.end_ns[i] >= 0 else None,
            "status": STATUS_NAMES[table.status[i]],
            "error": table.error(i),
            "delay_s": table.delay_ns[i] / 1e9,
            "bytes": table.bytes[i],
        }
        if table.http_status[i]:
            entry["http_status"] = table.http_status[i]
        entry.update(memory_task_keys(run, i))
        tasks.append(entry)
    return {
        "iostrat_version": SCHEMA_VERSION,
        "strategy": params.strategy.name,
        "workload": params.workload.name,
        "mode": run.mode,
        "command": params.command,
        "started_at": started_at,
        "interrupted": {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM",
                        signal.SIGHUP: "SIGHUP"}.get(run.stop_signal),
        "harness_error": run.harness_message,
        "params": document_params,
        "host": host_document(),
        "summary": summary,
        "tasks": tasks,
    }


class ResultFile:
    """The result document's file, as iostrat's (bench/result.c): checked before any task runs
    (a folder, the --urls input, a name too long are refused), a temporary file in the target's
    folder (held open, so a folder renamed mid-run is noticed), renamed over the target when
    complete. A device or FIFO is written in place: a rename would replace it."""

    TEMP_SUFFIX_LEN = len(".tmp.") + 8  # tempfile's random part is 8 letters

    def __init__(self, path, input_path=None):
        import stat  # pylint: disable=import-outside-toplevel
        self.path, self.fd, self.temp_name, self.dir_fd, self.in_place = path, -1, None, -1, False
        try:
            target = os.stat(path)
        except FileNotFoundError:
            target = None
        if target is not None and input_path is not None:
            with contextlib.suppress(OSError):
                given = os.stat(input_path)
                if (given.st_dev, given.st_ino) == (target.st_dev, target.st_ino):
                    raise UsageError(f"--json {path} is the --urls file: the result would "
                                     "overwrite the input")
        if target is not None and stat.S_ISDIR(target.st_mode):
            raise UsageError(f"--json {path}: a folder, not a file")
        if target is not None and not stat.S_ISREG(target.st_mode):
            try:  # O_NONBLOCK: a FIFO with no reader fails (ENXIO) instead of hanging
                self.fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as err:
                why = "a FIFO with no reader" if err.errno == errno_module().ENXIO else \
                    os.strerror(err.errno)
                raise UsageError(f"--json {path}: cannot write there: {why}") from None
            os.set_blocking(self.fd, True)
            self.in_place = True
            return
        self.dir_path, self.name = os.path.split(path)
        self.dir_path = self.dir_path or "."
        if self.name in ("", ".", ".."):
            raise UsageError(f"--json {path}: names a folder, not a file")
        try:
            self.dir_fd = os.open(self.dir_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            self.dir_stat = os.fstat(self.dir_fd)
            if len(os.fsencode(self.name)) > 255:
                raise OSError(errno_module().ENAMETOOLONG, os.strerror(errno_module().ENAMETOOLONG))
            prefix = os.fsencode(self.name)[:255 - self.TEMP_SUFFIX_LEN]
            self.fd, temp_path = tempfile.mkstemp(prefix=os.fsdecode(prefix) + ".tmp.",
                                                  dir=self.dir_path)
            self.temp_name = os.path.basename(temp_path)
            os.fchmod(self.fd, 0o644)
        except OSError as err:
            self.discard()
            raise UsageError(f"--json {path}: cannot write there: "
                             f"{os.strerror(err.errno)}") from None

    def commit(self, document):
        try:
            with os.fdopen(self.fd, "w", encoding="utf-8") as out:
                self.fd = -1
                json.dump(document, out, indent=1, allow_nan=False)
                out.write("\n")
                out.flush()
                if not self.in_place:
                    os.fsync(out.fileno())
            if not self.in_place:
                self.put_in_place()
        except (OSError, ValueError) as err:
            print(f"{PROGRAM}: writing {self.path}: {describe_os_error(err)}", file=sys.stderr)
            self.discard()
            return False
        return self.in_place or self.temp_name is None and self.moved_to is None

    moved_to = None  # where the folder went when it was renamed mid-run

    def put_in_place(self):
        held = os.fstat(self.dir_fd)
        try:
            now = os.stat(self.dir_path)
            same = (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino) and held.st_nlink > 0
        except OSError:
            same = False
        if not same:
            now_at = os.readlink(f"/proc/self/fd/{self.dir_fd}")
            if held.st_nlink == 0 or now_at.endswith(" (deleted)"):
                raise OSError(errno_module().ENOENT,
                              f"the folder {self.dir_path} was removed during the run")
            self.moved_to = now_at
        os.replace(self.temp_name, self.name, src_dir_fd=self.dir_fd, dst_dir_fd=self.dir_fd)
        self.temp_name = None
        if self.moved_to is not None:
            print(f"{PROGRAM}: --json {self.path}: the folder {self.dir_path} was renamed during "
                  f"the run: the result is in {self.moved_to}/{self.name}", file=sys.stderr)

    def discard(self):
        """Closes and removes the temporary file, unless it has become the result."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.temp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.temp_name, dir_fd=self.dir_fd)
            self.temp_name = None
        if self.dir_fd >= 0:
            os.close(self.dir_fd)
            self.dir_fd = -1


def errno_module():
    import errno  # pylint: disable=import-outside-toplevel
    return errno


# ----------------------------------------------------------------------------------------------

def install_signal_handlers(run):
    """SIGINT and SIGTERM raise Stopped in the main thread (once), which ends whatever it
    waits in; the strategy then closes the run. python-asyncio sets its own while it runs."""

    def on_signal(signo, frame):
        if run.stop_signal:
            return
        run.stop_signal = signo
        raise Stopped()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)  # a closed terminal stops the run as SIGTERM does


def open_standard_descriptors():
    """Descriptors 0-2 closed by the caller (`>&-`) would be taken by the next open(): the
    result's file would become standard output. /dev/null takes them."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)  # the lowest: fd
    if sys.stdout is None:
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # pylint: disable=consider-using-with
    if sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # pylint: disable=consider-using-with


def main(argv):
    open_standard_descriptors()
    try:
        params = parse_command_line(argv)
    except UsageError as err:
        print(f"{PROGRAM}: {err}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(params, str):
        try:
            sys.stdout.write(params)
            sys.stdout.flush()
        except OSError as err:
            silence_stdout()
            if err.errno != errno_module().EPIPE:
                print(f"{PROGRAM}: writing standard output: {os.strerror(err.errno)}",
                      file=sys.stderr)
                return EXIT_FAILED
        return EXIT_OK
    why = params.strategy.unavailable(params.workload)
    if why is not None:
        print(f"{PROGRAM}: {params.strategy.name} cannot run the {params.workload.name} "
              f"workload: {why}", file=sys.stderr)
        return EXIT_USAGE
    # The modules a run needs are loaded before tracing starts, as the tutorial's programs
    # import theirs at the top.
    preload = ["multiprocessing"] if params.strategy.forks else []
    if params.workload.name == "http" and params.strategy.name == "python-asyncio":
        preload.append("aiohttp")
    for module in preload:
        importlib.import_module(module)
    if params.strategy.forks:
        libc()  # loaded once here, so a child's prctl (die_with_parent) costs no import
    stack_bytes = thread_stack_bytes() if not params.strategy.forks else 0

    result = None
    if params.json_path is not None:
        try:
            result = ResultFile(params.json_path, params.urls_file)
        except UsageError as err:
            print(f"{PROGRAM}: {err}", file=sys.stderr)
            return EXIT_USAGE
    try:
        return run_and_report(params, result, stack_bytes)
    finally:
        if result is not None:
            result.discard()  # nothing is left behind, even after a bug


def run_and_report(params, result, stack_bytes):
    """Prepares the workload, runs the strategy, prints the summary and writes the result
    document (when there is a result file): returns the exit status."""
    run = Run(params)
    install_signal_handlers(run)  # Ctrl-C while the set is made or --urls read: a result
    try:
        params.workload.prepare(run)
        stopped_early = False
    except UsageError as err:
        if not run.stop_signal:
            print(f"{PROGRAM}: {err}", file=sys.stderr)
            params.workload.cleanup(run)
            return EXIT_USAGE
        stopped_early = True
    except Stopped:
        stopped_early = True

    # Everything the run allocates from here on is traced, as the tutorial does; the modules
    # and the task table (a mapping, like iostrat's) were loaded and made before.
    if os.environ.get(TRACEMALLOC_SWITCH, "on") != "off" and not stopped_early:
        tracemalloc.start()
    if not params.quiet and not stopped_early:
        run.write(f"Parent PID: {os.getpid()}\nSeed: {params.seed}\n")
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    started_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    run.usage_start = usage_now()
    run.start_ns = time.monotonic_ns()
    try:
        if stopped_early:
            run.cancel_pending()
        else:
            params.strategy.run(run)
    except Stopped:
        run.stop_now()
    run.end_ns = time.monotonic_ns()
    run.closed = True
    run.sample_threads(force=True)
    params.workload.cleanup(run)

    summary = compute_summary(run, stack_bytes)
    params.workload.summary_json(run, summary, summary["wall_s"])
    print_summary(run, summary)
    if not run.stdout_gone:
        params.workload.print_summary(run, summary["wall_s"])
    try:
        sys.stdout.flush()
    except (OSError, ValueError) as err:
        run.stdout_failed(err)
        silence_stdout()
    if run.harness_message is not None:
        print(f"{PROGRAM}: {run.harness_message}", file=sys.stderr)
    if run.stop_signal:
        finished = summary["tasks_ok"] + summary["tasks_failed"]
        print(f"{PROGRAM}: stopped by {signal.Signals(run.stop_signal).name}; {finished} of "
              f"{params.tasks} tasks finished", file=sys.stderr)

    if run.stop_signal:
        status = 128 + run.stop_signal
    elif summary["tasks_failed"] > 0 or run.harness_message is not None:
        status = EXIT_FAILED
    else:
        status = EXIT_OK
    if run.stdout_error:
        print(f"{PROGRAM}: writing standard output: {os.strerror(run.stdout_error)}",
              file=sys.stderr)
        status = EXIT_FAILED if status == EXIT_OK else status
    if result is not None:
        document = result_document(run, summary, started_at)
        if not result.commit(document) and status == EXIT_OK:
            status = EXIT_FAILED
    return status


if __name__ == "__main__":
    EXIT_STATUS = main(sys.argv[1:])
    if threading.active_count() > 1:
        # a pool's workers still in tasks that a signal cancelled: the interpreter would
        # join them at exit (they are not daemons); the run is over and its result written
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(EXIT_STATUS)
    sys.exit(EXIT_STATUS)
