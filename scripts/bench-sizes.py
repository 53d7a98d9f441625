"""Sums a `dropfeed build` export by kind of resource and coding (MiB), for scripts/bench.sh:
    python3 bench-sizes.py EXPORT_DIR '10k site'
"""
import os, sys
root, label = sys.argv[1], sys.argv[2]
kinds = ["post pages", "archive pages", "tag feeds", "site feeds", "home"]
codings = ["identity", "gz", "br", "zst"]
total = {(k, c): 0 for k in kinds for c in codings}
count = {k: 0 for k in kinds}
for folder, _, files in os.walk(root):
    for name in files:
        path = os.path.join(folder, name)
        rel = os.path.relpath(path, root)
        base, ext = os.path.splitext(rel)
        coding = ext[1:] if ext in (".gz", ".br", ".zst") else "identity"
        if coding != "identity":
            rel = base
        if rel.startswith("posts/"):
            kind = "post pages"
        elif "/archive/" in "/" + rel:
            kind = "archive pages"
        elif rel.startswith("tags/"):
            kind = "tag feeds"
        elif rel == "index.html":
            kind = "home"
        else:
            kind = "site feeds"
        total[(kind, coding)] += os.path.getsize(path)
        if coding == "identity":
            count[kind] += 1
mb = lambda b: f"{b / 1048576:.1f}"
print(f"| {'resources (' + label + ')':<16} | {'count':>6} | " + " | ".join(f"{c + ' MiB':>12}" for c in codings) + f" | {'all MiB':>8} |")
print("| --- | ---: | " + " | ".join("---:" for _ in codings) + " | ---: |")
grand = 0
for k in kinds:
    row = [total[(k, c)] for c in codings]
    grand += sum(row)
    print(f"| {k:<16} | {count[k]:>6} | " + " | ".join(f"{mb(v):>12}" for v in row) + f" | {mb(sum(row)):>8} |")
print(f"| {'all':<16} | {sum(count.values()):>6} | " + " | ".join(f"{mb(sum(total[(k, c)] for k in kinds)):>12}" for c in codings) + f" | {mb(grand):>8} |")
