#!/usr/bin/env python3
"""Parse feed files with feedparser; print one JSON object per file, one per line.

Usage: feedparser_check.py FEED [FEED...]   (an argument `-` reads more paths from stdin, one a line)
Keys: path, bozo, bozo_exception, version, title, language, links [{rel, href}], entries [{id, title,
link, published, updated, content, summary, tags, language}]; dates ISO-8601 UTC, missing -> null.
Released feedparser 6.0.x cannot read JSON Feed (only its unreleased develop branch can), so a file it
cannot identify that is a JSON Feed is mapped here to the same keys, version "json1"/"json11".
Exit: 0 ok, 1 a file could not be read, 2 no path given, 3 feedparser not installed.
"""
import json, sys, time
from datetime import datetime, timezone
from pathlib import Path
try:
    import feedparser
except ImportError:
    print("feedparser_check: the 'feedparser' module is not installed (pip install feedparser)", file=sys.stderr)
    sys.exit(3)

def iso(st):  # feedparser's *_parsed values are struct_time in UTC
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", st) if st else None

def iso_text(s):  # RFC 3339 text from a JSON Feed -> ISO-8601 UTC
    try:
        d = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
        return iso((d if d.tzinfo else d.replace(tzinfo=timezone.utc)).utctimetuple())
    except (AttributeError, TypeError, ValueError):
        return None

def from_feedparser(path, d):  # dict.get: feedparser 6 maps a missing updated_parsed to published_parsed
    f, entries = d.get("feed", {}), []
    for e in d.get("entries", []):
        c = (e.get("content") or [{}])[0]
        entries.append({"id": e.get("id"), "title": e.get("title"), "link": e.get("link"),
                        "published": iso(e.get("published_parsed")), "updated": iso(dict.get(e, "updated_parsed")),
                        "content": c.get("value"), "summary": e.get("summary"),
                        "tags": [t.get("term") for t in e.get("tags", [])], "language": c.get("language")})
    exc = d.get("bozo_exception")
    return {"path": path, "bozo": bool(d.get("bozo")), "bozo_exception": str(exc) if exc is not None else None,
            "version": d.get("version"), "title": f.get("title"), "language": f.get("language"),
            "links": [{"rel": l.get("rel"), "href": l.get("href")} for l in f.get("links", [])], "entries": entries}

def from_jsonfeed(path, j):
    links = [{"rel": r, "href": j[k]} for r, k in (("alternate", "home_page_url"), ("self", "feed_url")) if j.get(k)]
    entries = [{"id": i.get("id"), "title": i.get("title"), "link": i.get("url"),
                "published": iso_text(i.get("date_published")), "updated": iso_text(i.get("date_modified")),
                "content": i.get("content_html", i.get("content_text")), "summary": i.get("summary"),
                "tags": list(i.get("tags") or []), "language": i.get("language")} for i in j.get("items") or []]
    version = "json1" if str(j.get("version", "")).rstrip("/").endswith("/1") else "json11"
    return {"path": path, "bozo": False, "bozo_exception": None, "version": version, "title": j.get("title"),
            "language": j.get("language"), "links": links, "entries": entries}

def check(path):
    d = feedparser.parse(data := Path(path).read_bytes())
    if not d.get("version") and data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        try:
            j = json.loads(data.decode("utf-8-sig"))
            if isinstance(j, dict) and str(j.get("version", "")).startswith("https://jsonfeed.org/version/"):
                return from_jsonfeed(path, j)
        except ValueError as err:
            d["bozo"], d["bozo_exception"] = True, err
    return from_feedparser(path, d)

def main(args):
    paths, status = [p for a in args for p in ([l.strip() for l in sys.stdin if l.strip()] if a == "-" else [a])], 0
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    for p in paths:
        try:
            out = check(p)
        except OSError as err:
            out, status = {"path": p, "bozo": True, "bozo_exception": str(err), "version": None, "title": None,
                           "language": None, "links": [], "entries": []}, 1
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return status

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
