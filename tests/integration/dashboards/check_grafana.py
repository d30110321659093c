# SPDX-License-Identifier: Apache-2.0
"""The Grafana dashboard against a live agent's /metrics.

    check_grafana.py --metrics FILE --promql "node promql.mjs" [--table FILE] DASHBOARD.json

With --table (the output of `hookfwd dashboard --metrics`), its prometheus
lines must name exactly the families of the live /metrics, with their types
and labels.

Every PromQL expression (panel targets and query variables) is parsed with
Prometheus' own grammar (promql.mjs) and may name only metric families of
the live /metrics text in FILE, with labels those series carry (plus the
instance and job labels a Prometheus scrape adds) and, for an equality
matcher, a value that occurs. Structure: a datasource variable of type
prometheus that every panel and target uses, unique panel ids, refIds
unique per panel, grid positions inside the 24 columns, no overlap.

Exit 1 with one line per problem."""
import argparse
import json
import re
import shlex
import subprocess
import sys

SCRAPE_LABELS = {"instance", "job"}
GRAFANA_VARS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__range_s": "3600"}

problems = []


def problem(msg):
    problems.append(msg)


TYPES = {}


def parse_metrics(path):
    """{series name: {label: set(values)}} from Prometheus text."""
    series = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
    label_re = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            TYPES[name] = kind
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        if not m:
            problem("/metrics line not understood: %r" % line)
            continue
        labels = series.setdefault(m.group(1), {})
        body = m.group(3) or ""
        pos = 0
        while pos < len(body):
            lm = label_re.match(body, pos)
            if not lm:
                problem("/metrics labels not understood: %r" % line)
                break
            labels.setdefault(lm.group(1), set()).add(lm.group(2))
            pos = lm.end()
    return series


def substitute(expr, variables):
    def repl(m):
        name = m.group(1) or m.group(2)
        if name in GRAFANA_VARS:
            return GRAFANA_VARS[name]
        if name in variables:
            return ".*"
        problem("expression uses $%s, which is no variable of the dashboard: %s" % (name, expr))
        return ".*"
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", repl, expr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--promql", required=True)
    ap.add_argument("--table")
    ap.add_argument("dashboard")
    a = ap.parse_args()
    live = parse_metrics(a.metrics)
    d = json.load(open(a.dashboard))
    if a.table:
        table = {}
        for line in open(a.table):
            cols = line.rstrip("\n").split("\t")
            if cols[0] == "prometheus":
                table[cols[1]] = (cols[2], sorted(x for x in cols[3].split(",") if x))
        for name, kind in sorted(TYPES.items()):
            labels = set()
            for sname, ls in live.items():
                if sname == name or (kind == "histogram" and sname in (name + "_bucket", name + "_sum", name + "_count")):
                    labels |= set(ls) - {"le"}
            if name not in table:
                problem("/metrics has %s, which --metrics does not list" % name)
            elif table[name] != (kind, sorted(labels)):
                problem("%s: --metrics says %s %s, /metrics has %s %s" % (name, table[name][0], table[name][1],
                                                                      kind, sorted(labels)))
        for name in sorted(set(table) - set(TYPES)):
            problem("--metrics lists %s, which /metrics does not have" % name)
        print("%d families of /metrics match --metrics" % len(TYPES))

    variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    ds = [v for v in variables.values() if v["type"] == "datasource"]
    if len(ds) != 1 or ds[0].get("query") != "prometheus":
        problem("want exactly one datasource variable of type prometheus, got %s" % [v["name"] for v in ds])
    dsref = "${%s}" % ds[0]["name"] if ds else None
    if "__inputs" in d:
        problem("__inputs makes file provisioning fail (${DS_...} stays literal); use the datasource variable")

    exprs = []  # (where, expr)
    for name, v in variables.items():
        if v["type"] == "query":
            if v.get("datasource", {}).get("uid") != dsref:
                problem("variable %s does not use the datasource variable" % name)
            q = v["query"]["query"] if isinstance(v.get("query"), dict) else v.get("query", "")
            m = re.match(r"^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$", q)
            if not m:
                problem("variable %s: query %r is not label_values(selector, label)" % (name, q))
                continue
            exprs.append(("variable %s" % name, m.group(1), [m.group(2)]))

    ids = set()
    boxes = []
    for p in d.get("panels", []):
        where = "panel %s (%s)" % (p.get("id"), p.get("title"))
        if p.get("id") in ids:
            problem("%s: id repeats" % where)
        ids.add(p.get("id"))
        g = p.get("gridPos", {})
        if not all(k in g for k in "hwxy") or g["x"] < 0 or g["w"] < 1 or g["x"] + g["w"] > 24:
            problem("%s: gridPos %s outside the 24 columns" % (where, g))
        else:
            for other, og in boxes:
                if (g["x"] < og["x"] + og["w"] and og["x"] < g["x"] + g["w"]
                        and g["y"] < og["y"] + og["h"] and og["y"] < g["y"] + g["h"]):
                    problem("%s overlaps %s" % (where, other))
            boxes.append((where, g))
        if p["type"] == "row":
            continue
        if p.get("datasource", {}).get("uid") != dsref:
            problem("%s: datasource is not %s" % (where, dsref))
        refids = [t.get("refId") for t in p.get("targets", [])]
        if not refids or len(set(refids)) != len(refids) or None in refids:
            problem("%s: refIds missing or repeated: %s" % (where, refids))
        for t in p.get("targets", []):
            if t.get("datasource", {}).get("uid") != dsref:
                problem("%s target %s: datasource is not %s" % (where, t.get("refId"), dsref))
            exprs.append(("%s target %s" % (where, t.get("refId")), t["expr"], []))

    parsed = json.loads(subprocess.run(shlex.split(a.promql), input=json.dumps(
        [substitute(e, variables) for _, e, _ in exprs]).encode(), capture_output=True, check=True).stdout)
    used = set()
    for (where, expr, extra_labels), res in zip(exprs, parsed):
        for err in res["errors"]:
            problem("%s: %s in %s" % (where, err, expr))
        labels_here = set()
        for sel in res["selectors"]:
            metric = sel["metric"]
            if metric not in live:
                problem("%s: %s is not a series of the live /metrics" % (where, metric))
                continue
            used.add(metric)
            have = live[metric]
            labels_here |= set(have)
            for label, op, value in sel["matchers"]:
                if label == "__name__":
                    continue
                if label not in have and label not in SCRAPE_LABELS:
                    problem("%s: %s has no label %s (it has %s)" % (where, metric, label, ", ".join(sorted(have))))
                elif op == "=" and label in have and value not in have[label]:
                    problem("%s: no %s series has %s=%r (seen: %s)" % (where, metric, label, value,
                                                                   ", ".join(sorted(have[label]))))
        for label in res["grouping"] + extra_labels:
            if label not in labels_here and label not in SCRAPE_LABELS:
                problem("%s: groups by %s, a label none of its series carries" % (where, label))
    print("%d expressions over %d series of the live /metrics: %s" % (len(exprs), len(used), " ".join(sorted(used))))
    for p in problems:
        print("PROBLEM: " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
