# SPDX-License-Identifier: Apache-2.0
"""Datadog dashboard and monitor queries against the metrics hookfwd emits.

    check_datadog.py emitted (--receiver URL... | --dogstatsd FILE) --out FILE
        what a live agent sent: every series the Datadog intake peers
        accepted, or every DogStatsD line captured, as
        {name: {"type", "tags": {key: [values]}}}
    check_datadog.py table --metrics FILE --kind KIND --emitted FILE
        the binary's own list (`hookfwd dashboard --metrics`, from its rule
        tables) names exactly what the agent emitted, with the same types
        and tag keys
    check_datadog.py queries --emitted FILE [--prefix P] Dashboard FILE... Monitor FILE...
        (with --prefix, every metric must carry it)
        every metric a widget or monitor queries was emitted, with the tags
        it filters and groups by (and, for a literal tag value, that value),
        aggregations the metric type allows, formulas over defined queries,
        template variables that exist, monitor thresholds equal to the
        query's

Exit 1 with one line per problem."""
import argparse
import fnmatch
import json
import re
import sys
import urllib.request

# space_aggr:metric{filters} [by {tags}] [.function(args)]...
QUERY = re.compile(
    r"(?P<agg>[a-z0-9]+):(?P<metric>[A-Za-z][A-Za-z0-9_.]*)"
    r"\{(?P<filters>[^{}]*)\}"
    r"(?:\s+by\s+\{(?P<by>[^{}]*)\})?"
    r"(?P<fns>(?:\.[a-z_]+\([^()]*\))*)")
MONITOR = re.compile(r"^(?P<time>avg|sum|min|max|change|pct_change)\((?P<window>last_\d+[mhdw])\):"
                     r"(?P<q>.*?)\s*(?P<op>>=|<=|>|<)\s*(?P<num>-?[0-9.]+)$")
SPACE_AGGS = {"avg", "sum", "min", "max"}
PERCENTILES = {"p50", "p75", "p90", "p95", "p99"}
FUNCS = {"as_count", "as_rate", "rollup", "fill"}

problems = []


def problem(msg):
    if msg not in problems:
        problems.append(msg)


def emitted_cmd(a):
    out = {}

    def add(name, mtype, tags):
        m = out.setdefault(name, {"type": mtype, "tags": {}})
        if m["type"] != mtype:
            problem("%s emitted as both %s and %s" % (name, m["type"], mtype))
        for t in tags:
            k, _, v = t.partition(":")
            vals = m["tags"].setdefault(k, [])
            if v not in vals:
                vals.append(v)

    if a.dogstatsd:
        types = {"c": "count", "g": "gauge", "d": "distribution", "h": "histogram", "ms": "timer"}
        with open(a.dogstatsd) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                parts = line.split("|")
                name = parts[0].rsplit(":", 1)[0]
                tags = []
                for p in parts[2:]:
                    if p.startswith("#"):
                        tags = p[1:].split(",")
                add(name, types.get(parts[1], parts[1]), tags)
    else:
        for url in a.receiver:
            for s in json.load(urllib.request.urlopen(url + "/_series"))["series"]:
                add(s["metric"], {1: "count", 2: "rate", 3: "gauge"}.get(s.get("type", 0), "unspecified"), s.get("tags", []))
    if not out:
        problem("nothing was emitted")
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)


def table_cmd(a):
    emitted = json.load(open(a.emitted))
    table = {}
    for line in open(a.metrics):
        cols = line.rstrip("\n").split("\t")
        if len(cols) != 4:
            problem("--metrics line is not KIND NAME TYPE TAGS: %r" % line)
            continue
        if cols[0] == a.kind:
            table[cols[1]] = {"type": cols[2], "tags": [t for t in cols[3].split(",") if t]}
    if not table:
        problem("hookfwd dashboard --metrics lists no %s metric" % a.kind)
    for name, m in sorted(table.items()):
        e = emitted.get(name)
        if not e:
            problem("%s: listed by --metrics (%s) but not emitted" % (name, a.kind))
            continue
        if e["type"] != m["type"]:
            problem("%s: listed as %s, emitted as %s" % (name, m["type"], e["type"]))
        if sorted(e["tags"]) != sorted(m["tags"]):
            problem("%s: listed with tags %s, emitted with %s" % (name, sorted(m["tags"]), sorted(e["tags"])))
    for name in sorted(set(emitted) - set(table)):
        problem("%s: emitted (%s) but not listed by --metrics" % (name, a.kind))
    print("%d %s metrics listed, %d emitted" % (len(table), a.kind, len(emitted)))


class Ctx:
    def __init__(self, emitted, prefix, where, tvars):
        self.emitted, self.prefix, self.where, self.tvars = emitted, prefix, where, tvars
        self.used_vars = set()
        self.metrics = set()


def check_selector(ctx, m, where):
    name = m.group("metric")
    if ctx.prefix and not name.startswith(ctx.prefix + "."):
        problem("%s: %s does not carry the prefix %s" % (where, name, ctx.prefix))
    ctx.metrics.add(name)
    e = ctx.emitted.get(name)
    if not e:
        problem("%s: metric %s is not one the agent emits" % (where, m.group("metric")))
        return
    agg = m.group("agg")
    if agg in PERCENTILES:
        if e["type"] != "distribution":
            problem("%s: %s on %s, a %s (percentiles need a distribution)" % (where, agg, name, e["type"]))
    elif agg == "count":
        if e["type"] != "distribution":
            problem("%s: count: on %s, a %s" % (where, name, e["type"]))
    elif agg not in SPACE_AGGS:
        problem("%s: unknown aggregator %s" % (where, agg))
    tags = e["tags"]
    for f in [x.strip() for x in m.group("filters").split(",")]:
        if f == "*":
            continue
        if not f:
            problem("%s: empty tag filter in %s" % (where, m.group(0)))
            continue
        neg = f.startswith("!")
        f = f.lstrip("!")
        if f.startswith("$"):
            var = f[1:]
            ctx.used_vars.add(var)
            prefix = ctx.tvars.get(var)
            if prefix is None:
                problem("%s: template variable $%s is not defined" % (where, var))
            elif prefix not in tags:
                problem("%s: $%s filters tag %s, which %s does not carry" % (where, var, prefix, name))
            continue
        k, sep, v = f.partition(":")
        if not sep:
            problem("%s: tag filter %r is not key:value" % (where, f))
            continue
        if k not in tags:
            problem("%s: %s has no tag %s (it has %s)" % (where, name, k, ", ".join(sorted(tags))))
        elif not any(fnmatch.fnmatchcase(val, v) for val in tags[k]):
            problem("%s: no %s series was emitted with %s:%s (seen: %s)" % (where, name, k, v,
                                                                          ", ".join(sorted(tags[k]))))
        if neg and k in tags and not tags[k]:
            problem("%s: negated filter on an empty tag" % where)
    for t in [x.strip() for x in (m.group("by") or "").split(",") if x.strip()]:
        if t != "host" and t not in tags:
            problem("%s: groups %s by %s, a tag it does not carry" % (where, name, t))
    for fn in re.findall(r"\.([a-z_]+)\(", m.group("fns") or ""):
        if fn not in FUNCS:
            problem("%s: unknown function .%s()" % (where, fn))
        if fn in ("as_count", "as_rate") and e["type"] not in ("count", "rate"):
            problem("%s: .%s() on %s, a %s" % (where, fn, name, e["type"]))


def check_query(ctx, q, where):
    rest = QUERY.sub("", q)
    n = 0
    for m in QUERY.finditer(q):
        n += 1
        check_selector(ctx, m, where)
    if not n:
        problem("%s: no metric query in %r" % (where, q))
    if rest.strip():
        problem("%s: parts of the query not understood: %r" % (where, rest.strip()))


FORMULA_WORDS = {"abs", "log2", "log10", "cumsum", "integral", "per_second", "per_minute", "per_hour",
                 "diff", "derivative", "top", "default_zero"}


def check_request(ctx, req, where):
    names = []
    for i, q in enumerate(req.get("queries", [])):
        if q.get("data_source") != "metrics":
            problem("%s: query %d is not a metrics query" % (where, i))
            continue
        names.append(q["name"])
        check_query(ctx, q["query"], "%s query %s" % (where, q["name"]))
    if len(set(names)) != len(names):
        problem("%s: query names repeat: %s" % (where, names))
    if "q" in req:
        check_query(ctx, req["q"], where)
    for f in req.get("formulas", []):
        for ident in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", f["formula"]):
            if ident not in names and ident not in FORMULA_WORDS:
                problem("%s: formula %r uses %s, which is no query of the request" % (where, f["formula"], ident))
    if not names and "q" not in req:
        problem("%s: a request without queries" % where)


def walk_widgets(ctx, widgets, where, count):
    for i, w in enumerate(widgets):
        d = w["definition"]
        here = "%s > %s" % (where, d.get("title") or d["type"])
        if d["type"] == "group":
            walk_widgets(ctx, d["widgets"], here, count)
            continue
        reqs = d.get("requests", [])
        if d["type"] == "query_value" and len(reqs) != 1:
            problem("%s: a query_value takes exactly one request" % here)
        if d["type"] in ("query_value", "toplist"):
            for r in reqs:
                if r.get("response_format") != "scalar":
                    problem("%s: a %s request needs response_format scalar" % (here, d["type"]))
                for q in r.get("queries", []):
                    if "aggregator" not in q:
                        problem("%s: scalar query %s without aggregator" % (here, q.get("name")))
        if d["type"] == "timeseries":
            for r in reqs:
                if r.get("response_format") != "timeseries":
                    problem("%s: a timeseries request needs response_format timeseries" % here)
        if d["type"] != "note" and not reqs:
            problem("%s: a %s widget without requests" % (here, d["type"]))
        for j, r in enumerate(reqs):
            check_request(ctx, r, here)
            count[0] += 1


def queries_cmd(a):
    emitted = json.load(open(a.emitted))
    kind = None
    checked_metrics = set()
    nq = [0]
    for arg in a.files:
        if arg in ("Dashboard", "Monitor"):
            kind = arg
            continue
        d = json.load(open(arg))
        if kind == "Dashboard":
            if d.get("layout_type") == "free":
                for w in d["widgets"]:
                    if "layout" not in w:
                        problem("%s: a free layout needs a layout on every widget" % arg)
            tvars = {}
            for v in d.get("template_variables", []):
                tvars[v["name"]] = v.get("prefix")
            ctx = Ctx(emitted, a.prefix, arg, tvars)
            walk_widgets(ctx, d["widgets"], arg, nq)
            for v in sorted(set(tvars) - ctx.used_vars):
                problem("%s: template variable $%s is used by no query" % (arg, v))
        elif kind == "Monitor":
            ctx = Ctx(emitted, a.prefix, arg, {})
            m = MONITOR.match(d["query"])
            if not m:
                problem("%s: monitor query not of the form time_aggr(last_N):QUERY OP NUMBER: %r" % (arg, d["query"]))
                continue
            if d["type"] not in ("query alert", "metric alert"):
                problem("%s: a metric monitor has type 'query alert', not %r" % (arg, d["type"]))
            check_query(ctx, m.group("q"), arg)
            nq[0] += 1
            th = d.get("options", {}).get("thresholds", {})
            num = float(m.group("num"))
            if "critical" not in th or float(th["critical"]) != num:
                problem("%s: thresholds.critical %s differs from the query's %s" % (arg, th.get("critical"), num))
            if "warning" in th:
                w = float(th["warning"])
                if (m.group("op").startswith(">") and w >= num) or (m.group("op").startswith("<") and w <= num):
                    problem("%s: warning threshold %s is past the critical one %s" % (arg, w, num))
            for v in re.findall(r"\{\{([a-z_]+)\.name\}\}", d.get("message", "") + d.get("name", "")):
                if v not in (m.group("q").split(" by ", 1) + [""])[1]:
                    problem("%s: message uses {{%s.name}} but the monitor does not group by %s" % (arg, v, v))
        else:
            problem("give Dashboard or Monitor before %s" % arg)
            continue
        checked_metrics |= ctx.metrics
    print("%d requests and monitors checked over %d metrics: %s" % (nq[0], len(checked_metrics),
                                                                   " ".join(sorted(checked_metrics))))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("emitted")
    e.add_argument("--receiver", action="append", default=[])
    e.add_argument("--dogstatsd")
    e.add_argument("--out", required=True)
    t = sub.add_parser("table")
    t.add_argument("--metrics", required=True)
    t.add_argument("--kind", required=True)
    t.add_argument("--emitted", required=True)
    q = sub.add_parser("queries")
    q.add_argument("--emitted", required=True)
    q.add_argument("--prefix", default="")
    q.add_argument("files", nargs="+")
    a = ap.parse_args()
    {"emitted": emitted_cmd, "table": table_cmd, "queries": queries_cmd}[a.cmd](a)
    for p in problems:
        print("PROBLEM: " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
