// SPDX-License-Identifier: Apache-2.0
// Deserializes Datadog dashboard and monitor JSON with the official
// client's models (@datadog/datadog-api-client, v1 API) and refuses what
// the client lets through quietly: a oneOf that matched no model or
// several (every widget definition is one), an unknown enum value, a key
// the model does not have.
//
//   node dd_strict.cjs Dashboard FILE... [Monitor FILE...]
//
// Prints "ok TYPE FILE" per file, or the problems; exits 1 on any.
"use strict";
const fs = require("fs");
const { v1 } = require("@datadog/datadog-api-client");
const S = v1.ObjectSerializer;

// The widget definition models, to say which one a bad widget meant.
function definitionModels() {
    const out = [];
    for (const name of Object.keys(v1)) {
        if (/WidgetDefinition$/.test(name) && typeof v1[name].getAttributeTypeMap === "function")
            out.push(name);
    }
    return out;
}

function whyDefinition(data) {
    const errs = [];
    for (const model of definitionModels()) {
        const attrs = v1[model].getAttributeTypeMap();
        if (!attrs.type) continue;
        const typeEnum = attrs.type.type;
        let d;
        try {
            if (S.deserialize(data.type, typeEnum, "")._data !== undefined) continue;
            d = S.deserialize(data, model, "");
        } catch (e) {
            errs.push(model + ": " + e.message);
            continue;
        }
        const inner = [];
        walk(d, model, inner);
        errs.push(model + (inner.length ? ": " + inner.join("; ") : ": matches alone"));
    }
    return errs.length ? errs.join(" | ") : "no model has type '" + data.type + "'";
}

function walk(o, path, errs) {
    if (o === null || typeof o !== "object") return;
    if (o.constructor && o.constructor.name === "UnparsedObject") {
        const data = o._data !== undefined ? o._data : o;
        if (data && typeof data === "object" && typeof data.type === "string" && /definition$/.test(path))
            errs.push(path + ": not a valid widget definition (" + whyDefinition(data) + ")");
        else
            errs.push(path + ": no model or enum value matches " + JSON.stringify(data).slice(0, 160));
        return;
    }
    if (o.additionalProperties && Object.keys(o.additionalProperties).length)
        errs.push(path + ": keys unknown to the model: " + Object.keys(o.additionalProperties).join(", "));
    for (const k of Object.keys(o)) {
        if (k === "additionalProperties" || k === "_unparsed") continue;
        walk(o[k], path + "." + k, errs);
    }
    if (o._unparsed && !errs.some((e) => e.startsWith(path)))
        errs.push(path + ": marked unparsed by the client");
}

let type = null, failed = 0, files = 0;
for (const arg of process.argv.slice(2)) {
    if (arg === "Dashboard" || arg === "Monitor") { type = arg; continue; }
    if (!type) { console.error("usage: dd_strict.cjs Dashboard FILE... [Monitor FILE...]"); process.exit(2); }
    files++;
    const errs = [];
    try {
        const d = S.deserialize(JSON.parse(fs.readFileSync(arg, "utf8")), type, "");
        walk(d, type, errs);
    } catch (e) {
        errs.push(type + ": " + e.message);
    }
    if (errs.length) {
        failed++;
        console.log("FAIL " + type + " " + arg);
        for (const e of errs) console.log("    " + e);
    } else {
        console.log("ok " + type + " " + arg);
    }
}
if (!files) { console.error("dd_strict.cjs: no file given"); process.exit(2); }
process.exit(failed ? 1 : 0);
