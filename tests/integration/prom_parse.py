#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Strict parser for the Prometheus text exposition format (0.0.4): reads
the text on stdin, fails on any malformed line, checks TYPE/HELP placement,
histogram consistency (cumulative buckets, +Inf == _count) and counter
names; prints the samples as JSON {"name{labels}": value}."""
import json, math, re, sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s)(?:,%s)*\})? (\S+)$" % (NAME, LABEL, LABEL))
errors, samples, types, helps = [], {}, {}, set()
text = sys.stdin.read()
if not text.endswith("\n"):
    errors.append("no final newline")
for no, line in enumerate(text.split("\n")[:-1], 1):
    if line.startswith("# HELP "):
        parts = line.split(" ", 3)
        if len(parts) < 4 or not re.fullmatch(NAME, parts[2]):
            errors.append(f"{no}: bad HELP")
        helps.add(parts[2])
        continue
    if line.startswith("# TYPE "):
        parts = line.split(" ")
        if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
            errors.append(f"{no}: bad TYPE")
        elif parts[2] in types:
            errors.append(f"{no}: TYPE repeated for {parts[2]}")
        else:
            types[parts[2]] = parts[3]
        continue
    if line.startswith("#") or not line:
        errors.append(f"{no}: unexpected line {line!r}")
        continue
    m = SAMPLE.match(line)
    if not m:
        errors.append(f"{no}: malformed sample {line!r}")
        continue
    name, labels, value = m.group(1), m.group(2) or "", m.group(3)
    try:
        v = float(value)
    except ValueError:
        errors.append(f"{no}: bad value {value!r}")
        continue
    base = re.sub(r"_(bucket|sum|count)$", "", name)
    if name not in types and base not in types:
        errors.append(f"{no}: sample {name} before its TYPE")
    key = name + labels
    if key in samples:
        errors.append(f"{no}: duplicate series {key}")
    samples[key] = v
    if types.get(name) == "counter" and not name.endswith("_total"):
        errors.append(f"{no}: counter {name} does not end in _total")
# histograms: buckets cumulative, +Inf equals _count
for name, t in types.items():
    if t != "histogram":
        continue
    series = {}
    for k, v in samples.items():
        if k.startswith(name + "_bucket{"):
            lab = dict(re.findall(r'([a-zA-Z_]+)="([^"]*)"', k))
            le = lab.pop("le")
            series.setdefault(tuple(sorted(lab.items())), []).append((math.inf if le == "+Inf" else float(le), v))
    for lab, buckets in series.items():
        buckets.sort()
        if any(b[1] > c[1] for b, c in zip(buckets, buckets[1:])):
            errors.append(f"{name}{lab}: buckets not cumulative")
        labels = "{" + ",".join(f'{k}="{v}"' for k, v in lab) + "}"
        if buckets[-1][0] != math.inf or samples.get(name + "_count" + labels) != buckets[-1][1]:
            errors.append(f"{name}{lab}: +Inf bucket missing or != _count")
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
print(json.dumps(samples))
