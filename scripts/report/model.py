"""model - what a section hands the renderers: its chart, takeaway, explanation, commands,
question and tables. Built once; each renderer (report.md, index.html, slides.html) writes
the same objects in its own format."""


class Table:
    def __init__(self, title, columns, rows, notes=()):
        self.title = title
        self.columns = list(columns)
        self.rows = [list(r) for r in rows]
        self.notes = list(notes)


class Section:
    def __init__(self, key, title):
        self.key = key
        self.title = title
        self.chart = None      # charts.Chart, or None
        self.takeaway = ""
        self.explain = ""
        self.question = ""
        self.commands = []     # exactly as they ran, from the run folder
        self.tables = []       # shown in the report
        self.appendix = []     # shown in the appendix only
        self.notes = []        # short lines under the chart (what was left out and why)
        self.slide_table = None  # a Table the slide shows instead of the chart


class Missing(dict):
    """Formatting values for wording.toml: a name the section did not compute reads as
    'not measured' rather than stopping the report."""

    def __missing__(self, key):
        return "not measured"


def fill(text, values):
    return text.format_map(Missing(values))
