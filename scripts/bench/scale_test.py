"""Tests of scale.py's growth table: python3 scripts/bench/scale_test.py"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale  # noqa: E402


def report(entries, **cpu):
    return {"entries": entries, "rows": [
        {"row": r, "label": r, "ldapd": {"server_cpu_us": l}, "slapd": {"server_cpu_us": s}}
        for r, (l, s) in cpu.items()]}


class SectionTest(unittest.TestCase):
    def row(self, md, name):
        return next(l for l in md.splitlines() if l.startswith(f"| {name} |"))

    def test_growth_against_target(self):
        md = scale.section(report(10000, **{"search-eq": (25.0, 38.0)}),
                           report(1000000, **{"search-eq": (30.0, 60.0)}), "cmd")
        self.assertIn("| search-eq | 25.0 | 30.0 | 1.20 (<= 1.3) | 38.0 | 60.0 | 1.58 | yes |", md)
        md = scale.section(report(10000, **{"search-eq": (25.0, 38.0)}),
                           report(1000000, **{"search-eq": (40.0, 60.0)}), "cmd")
        self.assertTrue(self.row(md, "search-eq").endswith("| no |"))

    def test_row_without_target_or_missing_side(self):
        md = scale.section(report(10000, tokenbind=(18.0, 29.0)),
                           report(1000000, tokenbind=(20.0, 30.0), whoami=(1.0, 1.0)), "cmd")
        self.assertTrue(self.row(md, "tokenbind").endswith("| - |"))
        self.assertNotIn("| whoami |", md)


if __name__ == "__main__":
    unittest.main()
