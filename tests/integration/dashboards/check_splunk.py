# SPDX-License-Identifier: Apache-2.0
"""The Splunk app against the records a live agent wrote.

    check_splunk.py --app DIR --records FILE [--sourcetypes a,b] [--version V]
                    [--index NAME] [--tgz FILE]

Layout Splunk loads: default/app.conf ([package] id = the directory's name,
[launcher] version, [ui] label), views in default/data/ui/views/*.xml, a nav
naming views that exist, metadata/default.meta, no local/; every .conf file
parses. The dashboard (Dashboard Studio, version 2): its JSON definition,
data sources, visualizations, layout and inputs refer to one another. The
searches of the dashboard and of savedsearches.conf, macros expanded, are
parsed command by command; every field they read is a field of the records
(as Splunk's JSON extraction names them: data.decision.outcome,
data.decision.policy_matches{}) or one a previous command made, and every
literal value they compare a record field with occurs in the records.
props.conf has a stanza for every sourcetype the agent sent. With --tgz,
the archive holds exactly the app directory under hookfwd_app/.

Exit 1 with one line per problem."""
import argparse
import fnmatch
import json
import os
import re
import sys
import tarfile
import xml.dom.minidom

problems = []


def problem(msg):
    problems.append(msg)


# ---- .conf files ---------------------------------------------------------

def parse_conf(path):
    stanzas = {"default": {}}
    cur = stanzas["default"]
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + "\n" + lines[i]
            i += 1
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("["):
            if not s.endswith("]"):
                problem("%s: bad stanza line %r" % (path, s))
                continue
            name = s[1:-1]
            if name in stanzas and name != "default":
                problem("%s: stanza [%s] twice" % (path, name))
            cur = stanzas.setdefault(name, {})
            continue
        k, sep, v = s.partition("=")
        if not sep:
            problem("%s: line is neither a stanza nor key = value: %r" % (path, s))
            continue
        k = k.strip()
        if k in cur:
            problem("%s: [%s] sets %s twice" % (path, name if cur is not stanzas["default"] else "default", k))
        cur[k] = v.strip()
    return stanzas


# ---- records as Splunk's JSON extraction sees them -------------------------

DEFAULT_FIELDS = {"_time", "_raw", "source", "sourcetype", "host", "index", "splunk_server", "linecount",
                  "eventtype", "punct"}


def record_fields(path):
    values = {}

    def add(k, v):
        s = values.setdefault(k, set())
        if isinstance(v, bool):
            s.add("true" if v else "false")
        elif v is None:
            s.add("null")
        else:
            s.add(str(v))

    def flat(prefix, o):
        for k, v in o.items():
            name = prefix + k
            if isinstance(v, dict):
                flat(name + ".", v)
            elif isinstance(v, list):
                values.setdefault(name + "{}", set())
                for x in v:
                    if isinstance(x, dict):
                        flat(name + "{}.", x)
                    else:
                        add(name + "{}", x)
            else:
                add(name, v)

    n = 0
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        if "event_type" not in r:  # metric points written by a sink that takes both
            continue
        flat("", r)
        n += 1
    if not n:
        problem("%s holds no record" % path)
    return values, n


# ---- SPL -----------------------------------------------------------------

def expand_macros(spl, macros, where, depth=0):
    def repl(m):
        name = m.group(1)
        if name not in macros:
            problem("%s: macro `%s` is not in macros.conf" % (where, name))
            return ""
        used_macros.add(name)
        return expand_macros(macros[name], macros, where, depth + 1)
    if depth > 10:
        problem("%s: macros nest too deep" % where)
        return spl
    return re.sub(r"`([A-Za-z0-9_]+)`", repl, spl)


used_macros = set()


def split_top(s, sep):
    """Splits s on sep outside quotes and parentheses."""
    out, cur, depth, q = [], "", 0, None
    for ch in s:
        if q:
            cur += ch
            if ch == q:
                q = None
            continue
        if ch in "\"'":
            q = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|!=|==|<=|>=|[=<>(),]|[^\s=<>(),!"\']+|!)')


def tokens(s):
    out, pos = [], 0
    while pos < len(s):
        m = TOKEN.match(s, pos)
        if not m:
            if s[pos:].strip():
                problem("cannot tokenize %r" % s[pos:])
            break
        out.append(m.group(1))
        pos = m.end()
    return out


def unq(t):
    return t[1:-1] if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'" else t


class Spl:
    def __init__(self, where, rec_values):
        self.where = where
        self.rec = rec_values
        self.fields = set(rec_values) | DEFAULT_FIELDS
        self.dynamic = False
        self.reads = set()

    def read(self, name):
        self.reads.add(name)
        if name not in self.fields and not self.dynamic:
            problem("%s: reads field %s, which no record has and no earlier command made" % (self.where, name))

    def value(self, name, value):
        if "$" in value or name not in self.rec or name not in self.fields:
            return
        vals = self.rec[name]
        if not any(fnmatch.fnmatchcase(v.lower(), value.lower()) for v in vals):
            problem("%s: no record has %s=%s (seen: %s)" % (self.where, name, value, ", ".join(sorted(vals))[:200]))

    # search terms: field=value, field IN (...), (, ), OR, AND, NOT
    def search(self, text):
        t = tokens(text)
        i = 0
        while i < len(t):
            tok = t[i]
            if tok in ("(", ")", "OR", "AND", "NOT"):
                i += 1
                continue
            if i + 1 < len(t) and t[i + 1] in ("=", "!=", "<", ">", "<=", ">="):
                name, val = unq(tok), unq(t[i + 2]) if i + 2 < len(t) else ""
                if name not in ("index", "sourcetype", "earliest", "latest"):
                    self.read(name)
                    self.value(name, val)
                i += 3
                continue
            if i + 1 < len(t) and t[i + 1] == "IN":
                name = unq(tok)
                self.read(name)
                j = i + 3
                while j < len(t) and t[j] != ")":
                    if t[j] != ",":
                        self.value(name, unq(t[j]))
                    j += 1
                i = j + 1
                continue
            problem("%s: free-text search term %r (search fields, not words)" % (self.where, tok))
            i += 1

    EXPR_WORDS = {"AND", "OR", "NOT", "XOR", "true", "false", "null", "like", "LIKE", "IN"}

    def expr(self, text):
        t = tokens(text)
        for i, tok in enumerate(t):
            nxt = t[i + 1] if i + 1 < len(t) else ""
            if tok.startswith("'"):
                name = unq(tok)
            elif tok.startswith('"') or nxt == "(" or tok in self.EXPR_WORDS or re.match(r"^[-+*/%.]$|^-?[0-9.]+$", tok) \
                    or tok in ("=", "==", "!=", "<", ">", "<=", ">=", "(", ")", ",", "!"):
                continue
            elif re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", tok):
                name = tok
            else:
                problem("%s: in an expression, %r: quote a field name with dots as 'name'" % (self.where, tok))
                continue
            self.read(name)
            if nxt in ("=", "==", "!=") and i + 2 < len(t) and t[i + 2].startswith('"'):
                self.value(name, unq(t[i + 2]))

    def assignments(self, text):
        for part in split_top(text, ","):
            k, sep, v = part.partition("=")
            k = k.strip()
            if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k):
                problem("%s: eval assignment %r" % (self.where, part.strip()))
                continue
            self.expr(v)
            self.fields.add(k)

    AGG = re.compile(r"^(count|dc|distinct_count|sum|avg|mean|min|max|median|mode|range|stdev|var|latest|earliest|"
                     r"first|last|values|list|p\d{1,2}|perc\d{1,2}|exactperc\d{1,2})$")

    def stats(self, text, timechart=False):
        t = tokens(text)
        i = 0
        made = set()
        while i < len(t) and i + 1 < len(t) and t[i + 1] == "=" and not self.AGG.match(t[i]):
            i += 3  # timechart options: span=1h limit=10 ...
        while i < len(t) and t[i] != "by":
            fn = t[i]
            if not self.AGG.match(fn):
                problem("%s: %r is not a statistics function" % (self.where, fn))
                i += 1
                continue
            name = fn
            if i + 1 < len(t) and t[i + 1] == "(":
                j = i + 2
                arg = []
                depth = 1
                while j < len(t) and depth:
                    if t[j] == "(":
                        depth += 1
                    elif t[j] == ")":
                        depth -= 1
                        if not depth:
                            break
                    arg.append(t[j])
                    j += 1
                if arg and arg[0] == "eval":
                    self.expr(" ".join(arg[1:]))
                elif len(arg) == 1:
                    self.read(unq(arg[0]))
                else:
                    problem("%s: %s(%s) not understood" % (self.where, fn, " ".join(arg)))
                name = "%s(%s)" % (fn, " ".join(arg))
                i = j + 1
            else:
                i += 1
            if i + 1 < len(t) and t[i] in ("AS", "as"):
                name = unq(t[i + 1])
                i += 2
            made.add(name)
            if i < len(t) and t[i] == ",":
                i += 1
        by = []
        if i < len(t) and t[i] == "by":
            by = [unq(x) for x in t[i + 1:] if x != ","]
            for b in by:
                self.read(b)
        self.fields = made | set(by)
        if timechart:
            self.fields.add("_time")
            if by:
                self.dynamic = True  # columns named by the values of the by field

    def run(self, spl):
        cmds = split_top(spl, "|")
        for n, c in enumerate(cmds):
            c = c.strip()
            if not c:
                problem("%s: empty command" % self.where)
                continue
            word, _, rest = c.partition(" ")
            if n == 0 and word != "search":
                self.search(c)
                continue
            if word == "search":
                self.search(rest)
            elif word == "eval":
                self.assignments(rest)
            elif word == "where":
                self.expr(rest)
            elif word in ("stats", "eventstats"):
                self.stats(rest)
            elif word == "timechart":
                self.stats(rest, timechart=True)
            elif word in ("table", "fields"):
                names = [unq(x) for x in tokens(rest) if x not in (",", "-", "+")]
                for f in names:
                    self.read(f)
                if not rest.strip().startswith("-"):
                    self.fields = set(names)
            elif word == "rename":
                t = tokens(rest)
                for k in range(0, len(t), 4 if "," in t else 3):
                    old, as_, new = unq(t[k]), t[k + 1], unq(t[k + 2])
                    if as_.upper() != "AS":
                        problem("%s: rename %r" % (self.where, rest))
                        break
                    self.read(old)
                    self.fields.discard(old)
                    self.fields.add(new)
            elif word == "sort":
                for x in tokens(rest):
                    x = x.lstrip("+-")
                    if x and not x.isdigit() and x != ",":
                        self.read(unq(x))
            elif word == "head":
                if not rest.strip().isdigit():
                    problem("%s: head %r" % (self.where, rest))
            elif word == "fillnull":
                for x in tokens(rest):
                    if x not in ("value", "=") and not x.startswith('"') and not x.isdigit():
                        self.read(x)
            else:
                problem("%s: command %r is not one this check knows; teach it" % (self.where, word))


# ---- the app -------------------------------------------------------------

def check_app(a, rec_values):
    app = a.app.rstrip("/")
    name = os.path.basename(app)
    for sub in ("local",):
        if os.path.exists(os.path.join(app, sub)):
            problem("%s/: an app ships default/, never local/" % sub)
    allowed = re.compile(r"^(default/[a-z]+\.conf|default/data/ui/views/[A-Za-z0-9_]+\.xml|"
                         r"default/data/ui/nav/default\.xml|metadata/default\.meta|README(\.md|\.txt)?)$")
    files = []
    for root, _, fs in os.walk(app):
        for f in fs:
            rel = os.path.relpath(os.path.join(root, f), app)
            files.append(rel)
            if not allowed.match(rel):
                problem("%s: not a file Splunk loads from an app" % rel)
    confs = {}
    for rel in files:
        if rel.endswith(".conf") or rel.endswith(".meta"):
            confs[rel] = parse_conf(os.path.join(app, rel))
    appconf = confs.get("default/app.conf")
    if not appconf:
        problem("no default/app.conf")
        return
    if appconf.get("package", {}).get("id") != name:
        problem("app.conf [package] id %r is not the directory name %r" % (appconf.get("package", {}).get("id"), name))
    if not appconf.get("ui", {}).get("label"):
        problem("app.conf has no [ui] label")
    version = appconf.get("launcher", {}).get("version")
    if not version or (a.version and version != a.version):
        problem("app.conf [launcher] version %r, hookfwd is %r" % (version, a.version))
    if "metadata/default.meta" not in confs:
        problem("no metadata/default.meta")

    macros = {k: v.get("definition") for k, v in confs.get("default/macros.conf", {}).items() if k != "default"}
    for k, v in macros.items():
        if v is None:
            problem("macros.conf [%s] has no definition" % k)
    if "hookfwd_index" not in macros:
        problem("macros.conf has no hookfwd_index")
    elif a.index and macros["hookfwd_index"] != "index=%s" % a.index:
        problem("hookfwd_index is %r, want index=%s" % (macros["hookfwd_index"], a.index))

    props = confs.get("default/props.conf", {})
    for st in (a.sourcetypes.split(",") if a.sourcetypes else []):
        p = props.get(st)
        if p is None:
            problem("props.conf has no stanza for the sourcetype %s the agent sent" % st)
            continue
        if p.get("KV_MODE") != "json":
            problem("props.conf [%s]: KV_MODE is not json" % st)
        if "timestamp" not in p.get("TIME_PREFIX", ""):
            problem("props.conf [%s]: TIME_PREFIX does not find the record's timestamp" % st)
        if re.search(r"[*?]", st):
            problem("props.conf: sourcetype stanzas do not match wildcards: [%s]" % st)
    if a.sourcetypes:
        # the events macro selects what the agent sent
        ev = expand_macros("`hookfwd_events`", macros, "macros.conf")
        for st in a.sourcetypes.split(","):
            m = re.findall(r'sourcetype="([^"]+)"', ev)
            if not any(fnmatch.fnmatchcase(st, x) for x in m):
                problem("`hookfwd_events` (%s) does not select the sourcetype %s" % (ev, st))

    views = [f for f in files if f.startswith("default/data/ui/views/")]
    view_names = {os.path.basename(v)[:-4] for v in views}
    nav = os.path.join(app, "default/data/ui/nav/default.xml")
    if os.path.exists(nav):
        doc = xml.dom.minidom.parse(nav)
        builtin = {"search", "datasets", "reports", "alerts", "dashboards", "analytics_workspace"}
        for v in doc.getElementsByTagName("view"):
            n = v.getAttribute("name")
            if n not in view_names and n not in builtin:
                problem("nav names view %s, which neither the app nor Splunk has" % n)
    else:
        problem("no default/data/ui/nav/default.xml")
    if not views:
        problem("no dashboard in default/data/ui/views/")

    nsearch = 0
    for v in views:
        nsearch += check_view(os.path.join(app, v), macros, rec_values)
    ss = confs.get("default/savedsearches.conf", {})
    alerts = 0
    for st, kv in ss.items():
        if st == "default":
            continue
        where = "savedsearches.conf [%s]" % st
        if "search" not in kv:
            problem("%s: no search" % where)
            continue
        spl = expand_macros(kv["search"], macros, where)
        s = Spl(where, rec_values)
        s.run(spl)
        nsearch += 1
        for f in [x.strip() for x in kv.get("alert.suppress.fields", "").split(",") if x.strip()]:
            if f not in s.fields:
                problem("%s: alert.suppress.fields %s is not a field of the results" % (where, f))
        if kv.get("enableSched") == "1":
            alerts += 1
            cron = kv.get("cron_schedule", "").split()
            if len(cron) != 5:
                problem("%s: cron_schedule %r is not five fields" % (where, kv.get("cron_schedule")))
            for k in ("dispatch.earliest_time", "dispatch.latest_time", "alert_type", "alert_comparator",
                      "alert_threshold"):
                if k not in kv:
                    problem("%s: an alert needs %s" % (where, k))
            if kv.get("alert_comparator") not in ("greater than", "less than", "equal to", "not equal to",
                                                  "drops by", "rises by", None):
                problem("%s: alert_comparator %r" % (where, kv.get("alert_comparator")))
            if kv.get("alert.severity") not in ("1", "2", "3", "4", "5", "6", None):
                problem("%s: alert.severity %r" % (where, kv.get("alert.severity")))
    if not alerts:
        problem("savedsearches.conf holds no scheduled alert")
    for m in sorted(set(macros) - used_macros):
        problem("macro %s is used by no search" % m)
    print("%d searches (%d alerts) over the records' fields checked, %d files in the app" % (nsearch, alerts, len(files)))
    return files


def check_view(path, macros, rec_values):
    where = os.path.basename(path)
    doc = xml.dom.minidom.parse(path)
    root = doc.documentElement
    if root.tagName != "dashboard" or root.getAttribute("version") != "2":
        problem("%s: root is not <dashboard version=\"2\">" % where)
        return 0
    defs = root.getElementsByTagName("definition")
    if len(defs) != 1:
        problem("%s: want one <definition>" % where)
        return 0
    text = "".join(n.data for n in defs[0].childNodes if n.nodeType in (n.CDATA_SECTION_NODE, n.TEXT_NODE))
    d = json.loads(text)
    for k in ("title", "dataSources", "visualizations", "layout"):
        if k not in d:
            problem("%s: the definition has no %s" % (where, k))
            return 0
    tokens_defined = set()
    for iname, inp in d.get("inputs", {}).items():
        tok = inp.get("options", {}).get("token")
        if not tok:
            problem("%s: input %s has no token" % (where, iname))
        if inp["type"] == "input.timerange":
            tokens_defined |= {tok + ".earliest", tok + ".latest"}
        else:
            tokens_defined.add(tok)
            items = [i["value"] for i in inp.get("options", {}).get("items", [])]
            if inp.get("options", {}).get("defaultValue") not in items:
                problem("%s: input %s's default is not one of its items" % (where, iname))
    used_ds = set()
    for vname, viz in d["visualizations"].items():
        if not viz.get("type", "").startswith("splunk."):
            problem("%s: visualization %s type %r" % (where, vname, viz.get("type")))
        for ds in viz.get("dataSources", {}).values():
            if ds not in d["dataSources"]:
                problem("%s: visualization %s uses data source %s, which is not defined" % (where, vname, ds))
            used_ds.add(ds)
    for ds in sorted(set(d["dataSources"]) - used_ds):
        problem("%s: data source %s is used by no visualization" % (where, ds))
    lay = d["layout"]
    placed = set()
    for item in lay.get("structure", []):
        if item["item"] not in d["visualizations"]:
            problem("%s: layout places %s, which is not a visualization" % (where, item["item"]))
        placed.add(item["item"])
        p = item.get("position", {})
        if lay.get("type") == "absolute" and p.get("x", 0) + p.get("w", 0) > lay.get("options", {}).get("width", 1200):
            problem("%s: %s goes past the canvas width" % (where, item["item"]))
    for v in sorted(set(d["visualizations"]) - placed):
        problem("%s: visualization %s is not placed in the layout" % (where, v))
    for g in lay.get("globalInputs", []):
        if g not in d.get("inputs", {}):
            problem("%s: global input %s is not defined" % (where, g))
    n = 0
    blob = json.dumps(d)
    for tok in set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_.]*)\$", blob)):
        if tok not in tokens_defined:
            problem("%s: token $%s$ is set by no input" % (where, tok))
    for dname, ds in d["dataSources"].items():
        if ds.get("type") != "ds.search":
            continue
        q = ds.get("options", {}).get("query", "")
        s = Spl("%s %s" % (where, dname), rec_values)
        s.run(expand_macros(q, macros, "%s %s" % (where, dname)))
        n += 1
    return n


def check_tgz(path, app, files):
    name = os.path.basename(app.rstrip("/"))
    with tarfile.open(path, "r:gz") as t:
        members = t.getmembers()
    got = sorted(m.name[len(name) + 1:] for m in members if m.isfile())
    for m in members:
        if not (m.name == name or m.name.startswith(name + "/")):
            problem("%s: %s is outside %s/" % (path, m.name, name))
        if m.uid != 0 or m.gid != 0:
            problem("%s: %s is not owned by 0:0" % (path, m.name))
        if m.isfile() and m.mode & 0o777 != 0o644:
            problem("%s: %s has mode %o" % (path, m.name, m.mode & 0o777))
    if got != sorted(files):
        problem("%s holds %s, the app directory %s" % (path, got, sorted(files)))
    for f in files:
        pass
    print("%s: %d files under %s/" % (os.path.basename(path), len(got), name))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--records", required=True)
    ap.add_argument("--sourcetypes", default="")
    ap.add_argument("--version", default="")
    ap.add_argument("--index", default="")
    ap.add_argument("--tgz")
    a = ap.parse_args()
    rec_values, n = record_fields(a.records)
    print("%d records, %d fields" % (n, len(rec_values)))
    files = check_app(a, rec_values)
    if a.tgz and files is not None:
        check_tgz(a.tgz, a.app, files)
    for p in problems:
        print("PROBLEM: " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
