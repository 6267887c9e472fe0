"""render_md - report.md and appendix.md, from the sections and tables (templates/*.md.j2)."""


def md_cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")


def mdtable(table):
    out = []
    if table.title:
        out.append("**%s**\n" % table.title)
    if not table.rows:
        out.append("(none)\n")
        return "\n".join(out)
    out.append("| " + " | ".join(md_cell(c) for c in table.columns) + " |")
    out.append("|" + "---|" * len(table.columns))
    for r in table.rows:
        out.append("| " + " | ".join(md_cell(c) for c in r) + " |")
    for n in table.notes:
        if n:
            out.append("\n%s" % md_cell(n))
    return "\n".join(out) + "\n"


def render(env, context, folder):
    env.filters["mdtable"] = mdtable
    import os
    with open(os.path.join(folder, "report.md"), "w", encoding="utf-8") as f:
        f.write(env.get_template("report.md.j2").render(**context))
    with open(os.path.join(folder, "appendix.md"), "w", encoding="utf-8") as f:
        f.write(env.get_template("appendix.md.j2").render(**context))
