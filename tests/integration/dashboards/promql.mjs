// SPDX-License-Identifier: Apache-2.0
// Parses PromQL expressions with Prometheus' own grammar
// (@prometheus-io/lezer-promql, the parser of the Prometheus UI) and says
// what each one reads: the metric names of its selectors, the label
// matchers on each, and the labels it groups by.
//
//   echo '["expr", ...]' | node promql.mjs
//
// Prints a JSON array, one object per expression:
//   {"expr", "errors": [...], "selectors": [{"metric", "matchers": [[label, op, value]]}],
//    "grouping": [label...]}
import { parser } from "@prometheus-io/lezer-promql";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const exprs = JSON.parse(Buffer.concat(chunks).toString("utf8"));

function analyse(expr) {
    const out = { expr, errors: [], selectors: [], grouping: [] };
    const tree = parser.parse(expr);
    const text = (n) => expr.slice(n.from, n.to);
    const unquote = (s) => JSON.parse(s.startsWith("'") ? '"' + s.slice(1, -1).replace(/"/g, '\\"') + '"' : s);
    const c = tree.cursor();
    do {
        const n = c.node;
        if (n.type.isError)
            out.errors.push("syntax error at " + n.from + ": '" + expr.slice(Math.max(0, n.from - 10), n.from + 10) + "'");
        else if (n.name === "VectorSelector") {
            const id = n.getChild("Identifier");
            const sel = { metric: id ? text(id) : null, matchers: [] };
            const lm = n.getChild("LabelMatchers");
            if (lm) {
                for (let m = lm.firstChild; m; m = m.nextSibling) {
                    if (m.name !== "UnquotedLabelMatcher" && m.name !== "QuotedLabelMatcher") continue;
                    const name = m.getChild("LabelName");
                    const op = m.getChild("MatchOp");
                    const val = m.getChild("StringLiteral");
                    if (m.name === "QuotedLabelMatcher" && !name) {
                        // {"metric_name"}: a quoted metric name, UTF-8 style
                        sel.metric = unquote(text(m.getChild("QuotedLabelName") || m));
                        continue;
                    }
                    sel.matchers.push([name ? text(name) : text(m.getChild("QuotedLabelName")),
                                       op ? text(op) : "?", val ? unquote(text(val)) : null]);
                }
            }
            out.selectors.push(sel);
        } else if (n.name === "GroupingLabels") {
            for (let l = n.firstChild; l; l = l.nextSibling)
                if (l.name === "LabelName") out.grouping.push(text(l));
        }
    } while (c.next());
    if (!out.selectors.length) out.errors.push("no metric selector");
    return out;
}

process.stdout.write(JSON.stringify(exprs.map(analyse), null, 1) + "\n");
