"""python3 scripts/report RUN_FOLDER: the charts and the three outputs of one make bench run.
Exits 0 when the report was written (a chart gnuplot could not draw is named on stderr and
left out), 1 when no report could be written, 2 for bad arguments."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(HERE))
    __package__ = "report"

from report import generate  # noqa: E402

if __name__ == "__main__":
    sys.exit(generate.main(sys.argv[1:]))
