"""Tests of the regression check in report.py: python3 scripts/bench/report_test.py"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402


def run(rows, entries=10000, **extra):
    return {"entries": entries, "commit": "c", "date": "d",
            "rows": [{"row": r, "cpu_ratio": c, "throughput_ratio": t} for r, c, t in rows], **extra}


class CompareTest(unittest.TestCase):
    def test_flags_worse_cpu_and_throughput_only(self):
        prev = run([("whoami", 1.00, 1.00), ("add", 2.0, 0.5), ("search-eq", 1.0, 1.0)])
        cur = run([("whoami", 1.12, 1.00), ("add", 1.5, 0.44), ("search-eq", 1.05, 0.95)])
        bad = {(c["row"], c["metric"]) for c in report.compare(prev, cur) if c["regression"]}
        self.assertEqual(bad, {("whoami", "cpu_ratio"), ("add", "throughput_ratio")})

    def test_extra_ratios(self):
        prev = run([], import_s={"ldapd": 1.0, "slapd": 1.0}, rss_kib={"ldapd": 100, "slapd": 100})
        cur = run([], import_s={"ldapd": 0.5, "slapd": 1.0}, rss_kib={"ldapd": 120, "slapd": 100})
        bad = {c["row"] for c in report.compare(prev, cur) if c["regression"]}
        self.assertEqual(bad, {"rss_kib"})

    def test_other_data_set_or_no_previous_run(self):
        self.assertEqual(report.compare(None, run([("whoami", 1, 1)])), [])
        self.assertEqual(report.compare(run([("whoami", 1, 1)], entries=100000), run([("whoami", 2, 1)])), [])

    def test_other_configuration(self):
        quiet = run([("whoami", 0.7, 1.5)])
        shipped = run([("whoami", 1.4, 0.8)], ldapd_config=report.SHIPPED)
        self.assertEqual(report.compare(quiet, shipped), [])
        bad = [c for c in report.compare(shipped, run([("whoami", 1.6, 0.8)], ldapd_config=report.SHIPPED)) if c["regression"]]
        self.assertEqual(len(bad), 1)

    def test_markdown_names_regressions_and_note(self):
        prev = run([("whoami", 1.0, 1.0)])
        changes = report.compare(prev, run([("whoami", 1.5, 1.0)]))
        md = report.compare_md(prev, changes, "kernel update")
        self.assertIn("**regression**", md)
        self.assertIn("kernel update", md)


if __name__ == "__main__":
    unittest.main()
