"""render_slides - slides.html: one claim per 1280x720 screen (a question to predict, then the
chart and its takeaway), arrow keys to move. Its charts are the run's charts/*.png, 1280x720
pixels as a projector shows them: it opens from the run's folder (index.html is the
self-contained page)."""

import os

from markupsafe import Markup


def render(env, context, folder, templates):
    with open(os.path.join(templates, "slides.css"), encoding="utf-8") as f:
        css = Markup(f.read())
    with open(os.path.join(templates, "slides.js"), encoding="utf-8") as f:
        js = Markup(f.read())
    with open(os.path.join(folder, "slides.html"), "w", encoding="utf-8") as f:
        f.write(env.get_template("slides.html.j2").render(css=css, js=js, **context))
