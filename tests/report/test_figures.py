"""Unit tests of the report's figure code (scripts/report): what is withheld and why, the one
definition of overhead, units by workload, and where memory figures come from."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))

from report import figures  # noqa: E402
from report.run import Run  # noqa: E402
from report.sections import Context  # noqa: E402
from report.sections import c10k, cost  # noqa: E402

Spread = figures.Spread


class SlopeTest(unittest.TestCase):
    def test_overlapping_ranges_are_withheld(self):
        d = figures.slope(1, Spread([100, 140, 120]), 16, Spread([130, 150]))
        self.assertFalse(d)
        self.assertIn("overlap", d.withheld)
        self.assertIn("at 1 task and at 16 tasks", d.withheld)
        self.assertTrue(figures.derived_text(d).startswith("withheld: "))

    def test_separate_ranges_give_the_slope_and_its_uncertainty(self):
        d = figures.slope(1, Spread([100, 110]), 11, Spread([200, 210]))
        self.assertTrue(d)
        self.assertAlmostEqual(d.value, 10.0)       # (205 - 105) / 10
        self.assertAlmostEqual(d.lo, 9.0)           # (200 - 110) / 10
        self.assertAlmostEqual(d.hi, 11.0)          # (210 - 100) / 10
        self.assertAlmostEqual(d.uncertainty, 1.0)
        self.assertEqual(figures.derived_text(d), "10.0 ± 1.00")

    def test_uncertainty_larger_than_the_value_is_withheld(self):
        d = figures.slope(1, Spread([0, 0, 10]), 2, Spread([11, 11, 100]))
        self.assertFalse(d)
        self.assertIn("exceeds it", d.withheld)

    def test_a_single_run_has_no_spread_to_judge_by(self):
        d = figures.slope(1, Spread([100]), 16, Spread([500, 510]))
        self.assertFalse(d)
        self.assertIn("measured once at 1 task", d.withheld)
        self.assertFalse(figures.ratio(Spread([5]), Spread([1, 2])))

    def test_one_count_is_not_a_slope(self):
        self.assertFalse(figures.slope(4, Spread([1, 2]), 4, Spread([2, 3])))
        self.assertFalse(figures.slope(1, Spread([]), 4, Spread([2, 3])))


class RatioTest(unittest.TestCase):
    def test_ratio_with_its_interval(self):
        r = figures.ratio(Spread([90, 100, 110]), Spread([9, 10, 11]))
        self.assertAlmostEqual(r.value, 10.0)
        self.assertAlmostEqual(r.lo, 90 / 11)
        self.assertAlmostEqual(r.hi, 110 / 9)
        self.assertEqual(figures.times(r), "10× (8.2–12)")

    def test_noisy_ratio_is_withheld(self):
        r = figures.ratio(Spread([1, 2, 50]), Spread([0.5, 1, 20]))
        self.assertFalse(r)
        self.assertTrue(figures.times(r).startswith("withheld: "))

    def test_divisor_at_zero_is_not_divided(self):
        r = figures.ratio(Spread([1, 2]), Spread([0, 1]))
        self.assertIsNone(r.value)


class UnitsTest(unittest.TestCase):
    def doc(self, wall, tasks):
        return {"summary": {"wall_s": wall, "tasks_ok": len(tasks)},
                "tasks": [{"bytes": b} for b in tasks]}

    def test_units_follow_the_workload(self):
        self.assertEqual(figures.throughput_unit("file"), "MB/s")
        self.assertEqual(figures.throughput_unit("http"), "requests/s")
        self.assertEqual(figures.throughput_unit("sleep"), "tasks/s")

    def test_file_throughput_is_bytes_over_wall(self):
        d = self.doc(0.5, [1000000, 2000000])
        self.assertAlmostEqual(figures.throughput("file", d), 6.0)   # 3 MB in 0.5 s

    def test_http_and_sleep_count_tasks(self):
        d = self.doc(0.5, [1000000, 2000000])
        self.assertAlmostEqual(figures.throughput("http", d), 4.0)   # 2 requests in 0.5 s
        self.assertAlmostEqual(figures.throughput("sleep", d), 4.0)

    def test_numbers_have_no_thousands_separator(self):
        self.assertEqual(figures.sig(12345.6), "12346")
        self.assertEqual(figures.seconds(0.0123), "12.3 ms")
        self.assertEqual(figures.spread_text(Spread([0.0101, 0.0123, 0.0130])),
                         "12.3 ms (10.1–13.0, 3 runs)")
        self.assertEqual(figures.spread_text(Spread([2.0])), "2.00 s (one run)")


def write_run(folder, docs):
    """A run folder with the given sweep documents: {(strategy, count): [summary dicts]}."""
    os.makedirs(os.path.join(folder, "results"))
    with open(os.path.join(folder, "meta.tsv"), "w") as f:
        f.write("strategies\tthreads epoll python-asyncio\nworkloads\tsleep\n"
                "sweep_delay_s\t0.05\n")
    with open(os.path.join(folder, "steps.tsv"), "w") as f:
        for (s, n), summaries in docs.items():
            for i, summary in enumerate(summaries):
                name = "results/sleep-%s-n%d-%d.json" % (s, n, i)
                with open(os.path.join(folder, name), "w") as d:
                    json.dump({"summary": summary, "params": {"tasks": n},
                               "tasks": [{"start_s": 0.0, "end_s": 0.05 + 0.001 * k,
                                          "delay_s": 0.05, "status": "ok"}
                                         for k in range(n)]}, d)
                f.write("%s\tsleep\t%s\t%d\tok\t%s\t-\tcmd %s -n %d\n"
                        % ("sweep" if i == 0 else "round", s, n, name, s, n))


class RunTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.folder = os.path.join(self.tmp.name, "run")

    def tearDown(self):
        self.tmp.cleanup()

    def test_overhead_is_wall_minus_ideal_over_tasks(self):
        write_run(self.folder, {("threads", 10): [
            {"wall_s": 0.060, "ideal_s": 0.050}, {"wall_s": 0.070, "ideal_s": 0.050}]})
        sp = Run(self.folder).overhead_per_task("sleep", "threads", 10)
        self.assertEqual(sp.count, 2)
        self.assertAlmostEqual(sp.median, 0.0015)
        self.assertAlmostEqual(sp.lo, 0.001)
        self.assertAlmostEqual(sp.hi, 0.002)

    def test_memory_total_is_preferred_and_said_so(self):
        write_run(self.folder, {("epoll", 1): [
            {"memory_total_bytes": 1000, "rss_peak_total_bytes": 5000}]})
        key, counts = Run(self.folder).memory_key("sleep", "epoll")
        self.assertEqual(key, "memory_total_bytes")
        self.assertIn("each page once", counts)

    def test_summed_rss_is_the_fallback_and_says_what_it_counts(self):
        write_run(self.folder, {("epoll", 1): [
            {"memory_total_bytes": None, "rss_peak_total_bytes": 5000}]})
        key, counts = Run(self.folder).memory_key("sleep", "epoll")
        self.assertEqual(key, "rss_peak_total_bytes")
        self.assertIn("once per process", counts)

    def test_lateness_is_beyond_each_task_wait(self):
        write_run(self.folder, {("epoll", 10): [{"wall_s": 0.06, "ideal_s": 0.05}]})
        sp = Run(self.folder).lateness("sleep", "epoll", 10, 0.5)
        self.assertAlmostEqual(sp.median, 0.005)    # task 5 of 0..9 ends 5 ms late

    def test_cost_table_withholds_a_time_wider_than_twice_itself(self):
        write_run(self.folder, {
            ("threads", 10): [{"wall_s": 0.0501, "ideal_s": 0.05},
                              {"wall_s": 0.0502, "ideal_s": 0.05},
                              {"wall_s": 0.0600, "ideal_s": 0.05}],
            ("epoll", 10): [{"wall_s": 0.0510, "ideal_s": 0.05},
                            {"wall_s": 0.0512, "ideal_s": 0.05}]})
        ctx = Context(Run(self.folder), {})
        by_name = {r["strategy"]: r for r in cost.rows(ctx)}
        self.assertTrue(by_name["threads"]["time"].startswith("withheld: "))
        self.assertEqual(by_name["epoll"]["time"], "110 (100–120, 2 runs)")

    def test_c10k_table_is_read_by_its_column_names(self):
        write_run(self.folder, {("epoll", 1): [{"wall_s": 0.06, "ideal_s": 0.05}]})
        with open(os.path.join(self.folder, "c10k.tsv"), "w") as f:
            f.write("strategy\tinflight\twall_s\tcpu_per_request_us\tspread\n"
                    "poll\t1000\t1.2\t30.0\t4.0\nepoll\t1000\t1.1\t10.0\t2.0\n")
        run = Run(self.folder)
        run.c = ["poll", "epoll"]
        table = c10k.from_table(Context(run, {}), ["poll", "epoll"])
        (x, sp), = table["poll"]
        self.assertEqual(x, 1000)
        self.assertAlmostEqual(sp.median, 30e-6)    # µs in the file, seconds here
        self.assertAlmostEqual(sp.hi - sp.lo, 4e-6)


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    sys.exit(1 if failed else 0)
