#!/usr/bin/env python3
"""Parse podcast RSS files with gPodder's podcastparser; print one JSON object per file, one a line.

Usage: podcastparser_check.py FEED [FEED...]
Keys: path, title, cover_url, type, explicit, itunes_author, itunes_owner, itunes_categories,
funding_url, import_prohibited, namespaces (every element namespace used), episodes [{title,
guid, total_time, number, season, type, explicit, episode_art_url, enclosures [{url, file_size,
mime_type}], podcast}].
podcastparser 0.6.11 knows the Podcasting 2.0 namespace only by its old GitHub URL, not the one
the namespace's spec gives (https://podcastindex.org/namespace/1.0), so the `podcast:` elements
are read with ElementTree: podcast_guid, podcast_channel (the channel's podcast: elements:
{local name: {text, attributes}}), and per episode `podcast` {local name: text, or attributes
for an empty element}.
Exit: 0 ok, 1 a file could not be read, 2 no path given, 3 podcastparser not installed.
"""
import json, sys
import xml.etree.ElementTree as ET
try:
    import podcastparser
except ImportError:
    print("podcastparser_check: the 'podcastparser' module is not installed (pip install podcastparser)", file=sys.stderr)
    sys.exit(3)

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
EPISODE_KEYS = ["title", "guid", "total_time", "number", "season", "type", "explicit",
                "episode_art_url"]
SHOW_KEYS = ["title", "cover_url", "type", "explicit", "itunes_author", "itunes_owner",
             "itunes_categories", "funding_url", "import_prohibited"]

def namespaces(path):
    used = set()
    for element in ET.parse(path).iter():
        if element.tag.startswith("{"):
            used.add(element.tag[1:].split("}")[0])
    return sorted(used)

def podcast_elements(element):
    out = {}
    for child in element:
        if child.tag.startswith("{%s}" % PODCAST_NS):
            out[child.tag.split("}")[1]] = child.text if child.text else dict(child.attrib)
    return out

def check(path):
    with open(path, "rb") as stream:
        show = podcastparser.parse("file://" + path, stream)
    channel = ET.parse(path).getroot().find("channel")
    guid = channel.find("{%s}guid" % PODCAST_NS)
    podcast_channel = {child.tag.split("}")[1]: dict(child.attrib, text=child.text)
                       for child in channel if child.tag.startswith("{%s}" % PODCAST_NS)}
    out = {"path": path, "podcast_guid": guid.text if guid is not None else None,
           "podcast_channel": podcast_channel, "namespaces": namespaces(path)}
    out.update({k: show.get(k) for k in SHOW_KEYS})
    out["episodes"] = [dict({k: e.get(k) for k in EPISODE_KEYS},
                            enclosures=[{k: x.get(k) for k in ("url", "file_size", "mime_type")}
                                        for x in e.get("enclosures", [])])
                       for e in show.get("episodes", [])]
    items = ET.parse(path).getroot().findall("channel/item")
    by_guid = {item.findtext("guid"): podcast_elements(item) for item in items}
    for episode in out["episodes"]:
        episode["podcast"] = by_guid.get(episode["guid"], {})
    return out

if len(sys.argv) < 2:
    print(__doc__, file=sys.stderr)
    sys.exit(2)
for path in sys.argv[1:]:
    try:
        print(json.dumps(check(path), default=str))
    except Exception as e:
        print(f"podcastparser_check: {path}: {e!r}", file=sys.stderr)
        sys.exit(1)
