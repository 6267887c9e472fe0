"""The showpiece: the tutorial's concurrent fetch of listings, one bar per request, from the
request to its parsed response."""

from .. import charts, figures
from ..model import Section, fill
from .eventloop import timeline_rows

KEY = "fetch"


def build(ctx):
    run, w = ctx.run, ctx.words(KEY)
    if not run.timeline:
        return None
    sec = Section(KEY, w.get("title", KEY))
    strategies = ctx.wanted(KEY)
    chart = charts.Chart("fetch", sec.title)
    chart.kind = "timeline"
    chart.timeline = timeline_rows(run.timeline, strategies)
    sec.chart = chart
    hold = float(run.meta.get("http_delay_s") or 0)
    values = {"hold": figures.seconds(hold)}
    for s, name in (("blocking", "blocking_wall"), ("epoll", "epoll_wall"),
                    ("python-asyncio", "asyncio_wall")):
        doc = run.timeline.get(s)
        if doc:
            values[name] = figures.seconds((doc.get("summary") or {}).get("wall_s"))
            values["tasks"] = (doc.get("params") or {}).get("tasks")
    sec.takeaway = fill(w.get("takeaway", ""), values)
    sec.explain = fill(w.get("explain", ""), values)
    sec.question = w.get("question", "")
    sec.commands = [run.timeline[s]["_command"] for s in strategies
                    if s in run.timeline and run.timeline[s].get("_command")]
    sec.notes.append("The http commands need the local server running at the address they "
                     "name: scripts/httpd start (make bench starts and stops it).")
    return sec
