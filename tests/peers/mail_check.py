#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Reads every message of a maildir (what the test SMTP server of
# tests/integration/lib_smtp.sh delivered) with Python's own MIME parser
# (email package, policy=default) and prints one JSON object per message, so
# shell tests can check the e-mail sink's output header by header with jq.
# Each object also lists the RFC 5322 / MIME rules the message breaks.
#
#   mail_check.py MAILDIR [--wait N] [--timeout S] [--strict]
#                 [--require-alternative] [--raw]
#
#   --wait N     first poll (deadline --timeout, default 10 s) until the maildir
#                holds at least N messages; exit 3 if it does not
#   --strict     exit 1 when any message breaks a rule (each one is printed
#                to stderr as "FILE: rule")
#   --require-alternative
#                a message that is not multipart/alternative with a text/plain
#                and a text/html part breaks a rule
#   --raw        add "raw" (the whole message as delivered) to each object
#
# Messages come in delivery order (maildir file time, then name). Fields:
#   file, envelope_from (Return-path), envelope_to (Envelope-to, a list),
#   from / to / cc / reply_to: [{"name": display name decoded, "addr": a@b}]
#   subject (RFC 2047 decoded), subject_raw (as on the wire),
#   date (raw), date_iso (UTC, ISO 8601, or null), message_id, mime_version,
#   content_type, charset, transfer_encoding,
#   parts: [{"content_type", "charset", "transfer_encoding", "disposition",
#            "text"}] for every leaf part, in order,
#   text (first text/plain part decoded), html (first text/html part decoded),
#   html_text (the html with its tags removed and whitespace collapsed),
#   headers: {lower-case name: [raw values]} for every header the client sent
#            (not Received/Return-path/Envelope-to/Delivery-date, which the
#            server added), header_names: [names in order],
#   defects: [the parser's defects], errors: [rules broken; [] when clean].
#
# Standard library only.

import argparse
import email
import email.policy
import email.utils
import json
import os
import re
import sys
import time
from datetime import timezone
from html.parser import HTMLParser

SERVER_HEADERS = {"received", "return-path", "envelope-to", "delivery-date"}
# RFC 5322 3.6: at most one of each.
SINGLE_HEADERS = ("from", "sender", "reply-to", "to", "cc", "bcc", "message-id",
                  "in-reply-to", "references", "subject", "date", "mime-version",
                  "content-type", "content-transfer-encoding")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DATE_RE = re.compile(
    r"^(?:(?P<dow>%s), )?(?P<day>\d{1,2}) (?P<mon>%s) (?P<year>\d{4}) "
    r"(?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2}))? (?P<zone>[+-]\d{4})$"
    % ("|".join(DAYS), "|".join(MONTHS)))
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
DOT_ATOM = r"%s(?:\.%s)*" % (ATEXT, ATEXT)
MSG_ID_RE = re.compile(r"^<%s@(?:%s|\[[^\[\]\\\s]*\])>$" % (DOT_ATOM, DOT_ATOM))
ENCODED_WORD_RE = re.compile(r"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=")
CTE_OK = {"7bit", "8bit", "quoted-printable", "base64", "binary"}


class TextOfHTML(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in ("br", "p", "div", "tr", "li", "h1", "h2", "h3", "table"):
            self.chunks.append(" ")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        elif tag in ("td", "th", "p", "div", "li"):
            self.chunks.append(" ")

    def handle_data(self, data):
        if not self.skip:
            self.chunks.append(data)


def html_text(html):
    parser = TextOfHTML()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.chunks).split())


def check_date(value, errors):
    """RFC 5322 3.3 date-time (obsolete forms refused); returns ISO UTC."""
    match = DATE_RE.match(value.strip()) if value else None
    if not match:
        errors.append("Date %r is not an RFC 5322 date-time" % value)
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        errors.append("Date %r is not a real date" % value)
        return None
    if when.tzinfo is None:
        errors.append("Date %r has no usable zone" % value)
        return None
    if match.group("dow") and DAYS[when.weekday()] != match.group("dow"):
        errors.append("Date %r: the day of the week is wrong" % value)
    return when.astimezone(timezone.utc).isoformat()


def addresses(msg, name, errors):
    header = msg.get(name)
    if header is None:
        return []
    out = []
    try:
        for addr in header.addresses:
            out.append({"name": addr.display_name, "addr": addr.addr_spec})
            if "@" not in addr.addr_spec or addr.addr_spec.startswith("@"):
                errors.append("%s: %r is not an address" % (name, addr.addr_spec))
    except (AttributeError, ValueError) as err:
        errors.append("%s: unparseable address list (%s)" % (name, err))
    for defect in getattr(header, "defects", ()):
        errors.append("%s: %s" % (name, defect))
    return out


def leaf_parts(msg):
    for part in msg.walk():
        if not part.is_multipart():
            yield part


def part_info(part, errors):
    ctype = part.get_content_type()
    cte = (part.get("Content-Transfer-Encoding") or "7bit").strip().lower()
    if cte not in CTE_OK:
        errors.append("part %s: unknown Content-Transfer-Encoding %r" % (ctype, cte))
    text = None
    if part.get_content_maintype() == "text":
        try:
            text = part.get_content()
        except (LookupError, UnicodeError, ValueError) as err:
            errors.append("part %s: cannot decode (%s)" % (ctype, err))
    return {"content_type": ctype, "charset": part.get_content_charset(),
            "transfer_encoding": cte, "disposition": part.get_content_disposition(),
            "text": text}


def raw_header_block(raw):
    end = raw.find(b"\n\n")
    return raw if end < 0 else raw[:end + 1]


def inspect(path, require_alternative, want_raw):
    with open(path, "rb") as fh:
        raw = fh.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    errors = []
    header_names = [k for k in msg.keys() if k.lower() not in SERVER_HEADERS]
    headers = {}
    for name, value in msg.raw_items():
        if name.lower() in SERVER_HEADERS:
            continue
        headers.setdefault(name.lower(), []).append(value)
    for name in SINGLE_HEADERS:
        if len(headers.get(name, [])) > 1:
            errors.append("%d %s headers (at most one allowed)" % (len(headers[name]), name))

    # Header bytes: RFC 5322 text is US-ASCII; anything else must be RFC 2047.
    block = raw_header_block(raw)
    if any(b > 127 for b in block):
        errors.append("non-ASCII bytes in the header (RFC 2047 encoded-words needed)")
    for line in raw.split(b"\n"):
        if len(line.rstrip(b"\r")) > 998:
            errors.append("a line longer than 998 characters (RFC 5322 2.1.1)")
            break
    for name, values in headers.items():
        for value in values:
            if "\r" in value.replace("\r\n", "") or "\x00" in value:
                errors.append("%s: control characters in the value" % name)

    if "from" not in headers:
        errors.append("no From header")
    if "date" not in headers:
        errors.append("no Date header")
    if "message-id" not in headers:
        errors.append("no Message-ID header")
    date_raw = headers.get("date", [None])[0]
    date_iso = check_date(" ".join(date_raw.split()), errors) if date_raw else None
    msgid = " ".join(headers.get("message-id", [""])[0].split()) or None
    if msgid is not None and not MSG_ID_RE.match(msgid):
        errors.append("Message-ID %r is not <left@right>" % msgid)
    mime_version = headers.get("mime-version", [None])[0]
    mime_version = mime_version.strip() if mime_version else None
    if mime_version is None:
        errors.append("no MIME-Version header")
    elif re.sub(r"\([^)]*\)", "", mime_version).strip() != "1.0":
        errors.append("MIME-Version is %r, not 1.0" % mime_version)

    subject_raw = headers.get("subject", [None])[0]
    subject = str(msg["subject"]) if msg["subject"] is not None else None
    if subject_raw is not None:
        unfolded = subject_raw.replace("\r\n", "").replace("\n", "")
        if "=?" in unfolded and not ENCODED_WORD_RE.search(unfolded):
            errors.append("Subject has a broken RFC 2047 encoded-word")
        for defect in getattr(msg["subject"], "defects", ()):
            errors.append("Subject: %s" % defect)

    result = {"file": os.path.basename(path)}
    result["envelope_from"] = (str(msg["return-path"]).strip().strip("<>")
                               if msg["return-path"] is not None else None)
    result["envelope_to"] = ([a.strip() for a in str(msg["envelope-to"]).split(",")]
                             if msg["envelope-to"] is not None else [])
    for name in ("from", "to", "cc", "reply-to"):
        result[name.replace("-", "_")] = addresses(msg, name, errors)
    result.update({"subject": subject, "subject_raw": subject_raw, "date": date_raw,
                   "date_iso": date_iso, "message_id": msgid, "mime_version": mime_version,
                   "content_type": msg.get_content_type(),
                   "charset": msg.get_content_charset(),
                   "transfer_encoding": (msg.get("Content-Transfer-Encoding") or "7bit").lower()})

    parts = [part_info(part, errors) for part in leaf_parts(msg)]
    result["parts"] = parts
    body_block = raw[len(raw_header_block(raw)):]
    for part in leaf_parts(msg):
        cte = (part.get("Content-Transfer-Encoding") or "7bit").strip().lower()
        if cte in ("7bit", "quoted-printable", "base64"):
            payload = part.get_payload(decode=False)
            if isinstance(payload, str) and any(ord(c) > 127 for c in payload):
                errors.append("part %s: 8-bit data declared %s (libcurl sends no "
                              "BODY=8BITMIME)" % (part.get_content_type(), cte))
    if any(b > 127 for b in body_block) and not any(
            p["transfer_encoding"] in ("8bit", "binary") for p in parts):
        errors.append("8-bit bytes in the body")
    for part in msg.walk():
        if part.is_multipart() and not part.get_boundary():
            errors.append("a multipart part without a boundary")
    texts = [p for p in parts if p["content_type"] == "text/plain" and p["text"] is not None]
    htmls = [p for p in parts if p["content_type"] == "text/html" and p["text"] is not None]
    result["text"] = texts[0]["text"] if texts else None
    result["html"] = htmls[0]["text"] if htmls else None
    result["html_text"] = html_text(htmls[0]["text"]) if htmls else None
    if require_alternative:
        alternative = next((p for p in msg.walk()
                            if p.get_content_type() == "multipart/alternative"), None)
        kinds = ([s.get_content_type() for s in alternative.iter_parts()]
                 if alternative is not None else [])
        if kinds != ["text/plain", "text/html"]:
            errors.append("not multipart/alternative with text/plain then text/html "
                          "(got %s %s)" % (msg.get_content_type(), kinds))
    result["defects"] = [str(d) for part in msg.walk() for d in part.defects]
    errors.extend("MIME defect: %s" % d for d in result["defects"])
    result["headers"] = headers
    result["header_names"] = header_names
    result["errors"] = errors
    if want_raw:
        result["raw"] = raw.decode("utf-8", "replace")
    return result


def message_files(maildir):
    files = []
    for sub in ("new", "cur"):
        folder = os.path.join(maildir, sub)
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                files.append((os.stat(path).st_mtime, name, path))
    return [path for _, _, path in sorted(files)]


def main():
    parser = argparse.ArgumentParser(description="Parse and check every message of a maildir.")
    parser.add_argument("maildir")
    parser.add_argument("--wait", type=int, default=0, metavar="N")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--require-alternative", action="store_true")
    parser.add_argument("--raw", action="store_true")
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    while len(message_files(args.maildir)) < args.wait:
        if time.monotonic() >= deadline:
            print("mail_check: %d of %d messages after %.0f s"
                  % (len(message_files(args.maildir)), args.wait, args.timeout), file=sys.stderr)
            return 3
        time.sleep(0.05)
    broken = 0
    for path in message_files(args.maildir):
        result = inspect(path, args.require_alternative, args.raw)
        print(json.dumps(result, ensure_ascii=False, sort_keys=False), flush=True)
        for err in result["errors"]:
            broken += 1
            if args.strict:
                print("%s: %s" % (result["file"], err), file=sys.stderr)
    return 1 if args.strict and broken else 0


if __name__ == "__main__":
    sys.exit(main())
