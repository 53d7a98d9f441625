#!/usr/bin/env bash
# The issue 6 benchmark: a 10,000-post site, measured end to end, in one table.
#
#   scripts/bench.sh [--sizes "1000 10000 50000"] [--cold-runs 3] [--changes 20]
#                    [--change-budget 600] [--no-wrk] [--no-build]
#
# Builds release, generates the corpora (examples/gen_corpus.rs) in a temporary folder and,
# for each size, starts `dropfeed serve` --cold-runs times and measures:
#   - cold start: process start until the first 200 on /feed.xml (a Python poller);
#   - resident memory: VmRSS (and the peak, VmHWM) from /proc/<pid>/status once the site
#     feeds are served compressed and /, the feeds, an archive page and a post page have
#     been fetched in every coding;
# and on the 10,000-post site:
#   - change-to-served: --changes edits (default 20) of one of the 10 newest posts' titles
#     in place, and as many by an editor's atomic save (write a temporary file, rename it
#     over the post), each timed from just before the write until /atom.xml, polled over one
#     kept-alive connection with If-None-Match, first shows the new title (the next edit
#     waits until this one is served compressed too, and 0.2 s more); plus the server's own
#     rebuild time per change, from its log;
#   - what holding every route ready would take: the bytes of every resource and coding,
#     from `dropfeed build` (which also gives nginx its files);
#   - wrk throughput against nginx on the same bytes: scripts/bench-serve.sh.
# Bounds, so a slow build cannot run for hours: a size whose first start takes over a minute
# is started once more only where the changes are measured; sizes above 10,000 are started
# twice, and skipped when the 10k start took over 10 s; the change loop stops after
# --change-budget seconds. Each such cut is noted under the table.
#
# Everything listens on 127.0.0.1 only; every server started is stopped by its pid on exit.
# The page cache is warm (the corpus was just written): "cold" means a fresh process.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZES="1000 10000 50000"
COLD_RUNS=3
CHANGES=20
CHANGE_BUDGET=600
WRK=1
BUILD=1
POLL_MS=${POLL_MS:-0}
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) SIZES=$2; shift 2 ;;
        --cold-runs) COLD_RUNS=$2; shift 2 ;;
        --changes) CHANGES=$2; shift 2 ;;
        --change-budget) CHANGE_BUDGET=$2; shift 2 ;;
        --no-wrk) WRK=0; shift ;;
        --no-build) BUILD=0; shift ;;
        -h | --help) sed -n '2,28p' "$0"; exit 0 ;;
        *) echo "bench: unknown argument $1" >&2; exit 2 ;;
    esac
done
case " $SIZES " in *" 10000 "*) ;; *) SIZES="$SIZES 10000" ;; esac

say() { echo "bench: $*" >&2; }

command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }

if [ "$BUILD" = 1 ]; then
    say "building release"
    (cd "$ROOT" && cargo build --release --quiet --bin dropfeed --example gen_corpus)
fi
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN="$TARGET/release/dropfeed"
GEN="$TARGET/release/examples/gen_corpus"
# The revision measured (DROPFEED_REV names it when measuring an export without .git).
REV=${DROPFEED_REV:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- src Cargo.toml 2>/dev/null)" ]; then
    REV="$REV+uncommitted"
fi

TMP=$(mktemp -d /tmp/dropfeed-bench.XXXXXX)
chmod 755 "$TMP"
SERVER_PIDFILE="$TMP/server.pid"
cleanup() {
    # The probe stops its server itself; this catches an interrupted probe.
    if [ -s "$SERVER_PIDFILE" ]; then
        kill -TERM "$(cat "$SERVER_PIDFILE")" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

cat >"$TMP/dropfeed.toml" <<'EOF'
base_url = "https://bench.example/"
EOF

# --- the probe: starts one server, times it, stops it ---------------------------------------
cat >"$TMP/probe.py" <<'EOF'
"""Starts `dropfeed serve`, times its cold start, reads its memory, optionally times changes,
and stops it. Prints `key value` lines."""
import argparse, http.client, os, re, signal, socket, statistics, subprocess, sys, time

p = argparse.ArgumentParser()
p.add_argument("--bin"); p.add_argument("--posts"); p.add_argument("--config")
p.add_argument("--pidfile"); p.add_argument("--log"); p.add_argument("--count", type=int)
p.add_argument("--changes", type=int, default=0); p.add_argument("--poll-ms", type=float, default=0)
p.add_argument("--change-budget", type=float, default=600)
a = p.parse_args()

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def get(conn, path, headers=None):
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.getheader("ETag"), r.read()

def memory(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024  # MiB
    return fields

def pct(values, q):
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

port = free_port()
log = open(a.log, "w")
env = dict(os.environ, NO_COLOR="1", RUST_LOG="info")
started = time.perf_counter()
proc = subprocess.Popen([a.bin, "serve", "--posts", a.posts, "--config", a.config,
                         "--listen", f"127.0.0.1:{port}", "--admin-listen", "off"],
                        stderr=log, stdout=log, env=env)
with open(a.pidfile, "w") as f:
    f.write(str(proc.pid))
try:
    # Cold start: the listener is bound before the posts are read, so a connection may be
    # accepted early and answered only once the first snapshot exists.
    while True:
        if proc.poll() is not None:
            sys.exit(f"dropfeed exited with {proc.returncode}; see its log")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            status, _, _ = get(c, "/feed.xml")
            c.close()
            if status == 200:
                break
        except OSError:
            pass
        if time.perf_counter() - started > 600:
            sys.exit("no 200 on /feed.xml within 600 s")
        time.sleep(0.001)
    print("cold_s", f"{time.perf_counter() - started:.3f}")

    # The first snapshot may be served in identity while its codings are compressed: wait
    # until every site feed comes in br (one encoder pass covers every hot resource).
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    feeds = ("/feed.xml", "/atom.xml", "/feed.json")
    while True:
        encoded = 0
        for path in feeds:
            conn.request("GET", path, headers={"Accept-Encoding": "br"})
            r = conn.getresponse()
            r.read()
            encoded += r.getheader("Content-Encoding") == "br"
        if encoded == len(feeds):
            break
        if time.perf_counter() - started > 600:
            sys.exit("feeds not compressed within 600 s")
        time.sleep(0.005)
    print("encoded_s", f"{time.perf_counter() - started:.3f}")
    log.flush()
    with open(a.log) as f:
        read = re.search(r'posts read.*?ms="?([0-9.]+)', re.sub(r"\x1b\[[0-9;]*m", "", f.read()))
    if read:
        print("read_s", f"{float(read.group(1)) / 1000:.3f}")
    time.sleep(0.5)
    for path in ("/",) + feeds + ("/archive/1/feed.xml", f"/posts/post-{a.count // 2:05}/"):
        for coding in ("gzip", "br", "zstd", "identity"):
            get(conn, path, {"Accept-Encoding": coding})
    m = memory(proc.pid)
    print("rss_mb", f"{m['VmRSS']:.1f}")
    print("hwm_mb", f"{m['VmHWM']:.1f}")

    if a.changes:
        names = [f"post-{i:05}.md" for i in range(a.count - 1, a.count - 11, -1)]
        _, etag, _ = get(conn, "/atom.xml")
        times = {"inplace": [], "atomic": []}
        timeouts = 0
        loop_started = time.perf_counter()
        for i in range(2 * a.changes):
            if time.perf_counter() - loop_started > a.change_budget and i % 2 == 0:
                print("change_budget_hit", i // 2)
                break
            mode = ("inplace", "atomic")[i % 2]
            path = os.path.join(a.posts, names[i % len(names)])
            with open(path) as f:
                original = f.read()
            token = f"Bench edit {i} {mode} {os.getpid()}"
            text = re.sub(r"^title: .*$", f'title: "{token}"', original, count=1, flags=re.M)
            t0 = time.perf_counter()
            if mode == "inplace":
                with open(path, "w") as f:
                    f.write(text)
            else:
                tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
                with open(tmp, "w") as f:
                    f.write(text)
                os.replace(tmp, path)
            while True:
                status, new_etag, body = get(conn, "/atom.xml", {"If-None-Match": etag})
                if status == 200:
                    etag = new_etag
                    if token.encode() in body:
                        break
                if time.perf_counter() - t0 > 60:
                    timeouts += 1
                    break
                if a.poll_ms:
                    time.sleep(a.poll_ms / 1000)
                elif time.perf_counter() - t0 > 0.05:
                    # Past the targets, stop competing with the rebuild for the two cores.
                    time.sleep(0.001)
            times[mode].append((time.perf_counter() - t0) * 1000)
            # Start the next edit on an idle server: once this change is compressed too (the
            # encoder thread would compete with the next rebuild), and past the debounce.
            while time.perf_counter() - t0 < 60:
                conn.request("GET", "/atom.xml", headers={"Accept-Encoding": "br"})
                r = conn.getresponse()
                r.read()
                if r.getheader("Content-Encoding") == "br":
                    break
                time.sleep(0.005)
            time.sleep(0.2)
        for mode, values in times.items():
            print(f"change_{mode}_p50_ms", f"{pct(values, 50):.1f}")
            print(f"change_{mode}_p90_ms", f"{pct(values, 90):.1f}")
            print(f"change_{mode}_all_ms", " ".join(f"{v:.0f}" for v in values))
        print("change_timeouts", timeouts)
        log.flush()
        with open(a.log) as f:
            text = re.sub(r"\x1b\[[0-9;]*m", "", f.read())
        rebuilds = [float(x) for x in re.findall(r'rebuilt.*?ms="?([0-9.]+)', text)]
        if rebuilds:
            print("rebuilds", len(rebuilds))
            print("rebuild_p50_ms", f"{pct(rebuilds, 50):.1f}")
            print("rebuild_p90_ms", f"{pct(rebuilds, 90):.1f}")
        m = memory(proc.pid)
        print("rss_after_changes_mb", f"{m['VmRSS']:.1f}")
        print("hwm_after_changes_mb", f"{m['VmHWM']:.1f}")
finally:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    os.unlink(a.pidfile)
EOF

# --- where the bytes go ---------------------------------------------------------------------
cat >"$TMP/sizes.py" <<'EOF'
"""Sums a `dropfeed build` export by kind of resource and coding (MiB)."""
import os, sys
root = sys.argv[1]
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
print(f"| {'resources (10k site)':<16} | {'count':>6} | " + " | ".join(f"{c + ' MiB':>12}" for c in codings) + f" | {'all MiB':>8} |")
print("| --- | ---: | " + " | ".join("---:" for _ in codings) + " | ---: |")
grand = 0
for k in kinds:
    row = [total[(k, c)] for c in codings]
    grand += sum(row)
    print(f"| {k:<16} | {count[k]:>6} | " + " | ".join(f"{mb(v):>12}" for v in row) + f" | {mb(sum(row)):>8} |")
print(f"| {'all':<16} | {sum(count.values()):>6} | " + " | ".join(f"{mb(sum(total[(k, c)] for k in kinds)):>12}" for c in codings) + f" | {mb(grand):>8} |")
EOF

# --- measure --------------------------------------------------------------------------------
# Sizes in ascending order, so the 10k results can decide whether a larger size is affordable.
SIZES=$(tr ' ' '\n' <<<"$SIZES" | awk NF | sort -n | tr '\n' ' ')
declare -A R
NOTES=()
for n in $SIZES; do
    runs=$COLD_RUNS
    if [ "$n" -gt 10000 ]; then
        # Two runs (the first issues every id), and only when the 10k start suggests they
        # end in reasonable time.
        runs=2
        if awk -v c="${R[10000.cold_median]:-0}" 'BEGIN { exit !(c > 10) }'; then
            NOTES+=("$n posts: skipped, the 10k cold start took ${R[10000.cold_median]} s")
            continue
        fi
    fi
    posts="$TMP/corpus-$n/posts"
    say "generating $n posts"
    "$GEN" --posts "$n" --out "$posts" 2>/dev/null
    colds=()
    for run in $(seq 1 "$runs"); do
        changes=0
        if [ "$n" = 10000 ] && [ "$run" = "$runs" ]; then changes=$CHANGES; fi
        say "$n posts: start $run/$runs$([ "$changes" = 0 ] || echo ", then $changes changes of each kind")"
        if ! python3 "$TMP/probe.py" --bin "$BIN" --posts "$posts" --config "$TMP/dropfeed.toml" \
            --pidfile "$SERVER_PIDFILE" --log "$TMP/serve-$n-$run.log" --count "$n" \
            --changes "$changes" --poll-ms "$POLL_MS" --change-budget "$CHANGE_BUDGET" \
            >"$TMP/probe-$n-$run.txt"; then
            [ "$n" -gt 10000 ] || exit 1
            NOTES+=("$n posts: start $run failed or timed out (600 s); see above")
            break
        fi
        colds+=("$(awk '$1 == "cold_s" { print $2 }' "$TMP/probe-$n-$run.txt")")
        while read -r key value; do R[$n.$key]=$value; done <"$TMP/probe-$n-$run.txt"
        # A start over a minute is not worth repeating (unless it is where the changes run).
        if [ "$run" -lt "$runs" ] && awk -v c="${colds[-1]}" 'BEGIN { exit !(c > 60) }'; then
            NOTES+=("$n posts: cold start measured ${#colds[@]} time(s) only, it took ${colds[-1]} s")
            if [ "$n" = 10000 ] && [ "$CHANGES" -gt 0 ]; then
                run=$runs
                say "$n posts: one more start for the changes"
                python3 "$TMP/probe.py" --bin "$BIN" --posts "$posts" --config "$TMP/dropfeed.toml" \
                    --pidfile "$SERVER_PIDFILE" --log "$TMP/serve-$n-$run.log" --count "$n" \
                    --changes "$CHANGES" --poll-ms "$POLL_MS" --change-budget "$CHANGE_BUDGET" \
                    >"$TMP/probe-$n-$run.txt"
                colds+=("$(awk '$1 == "cold_s" { print $2 }' "$TMP/probe-$n-$run.txt")")
                while read -r key value; do R[$n.$key]=$value; done <"$TMP/probe-$n-$run.txt"
            fi
            break
        fi
    done
    [ ${#colds[@]} -gt 0 ] || { rm -rf "$TMP/corpus-$n"; continue; }
    R[$n.cold_all]="${colds[*]}"
    R[$n.cold_median]=$(printf '%s\n' "${colds[@]}" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    if [ "$n" = 10000 ]; then
        say "exporting the 10k site (sizes by kind, and the bytes nginx serves)"
        "$BIN" build --posts "$posts" --out "$TMP/export" --config "$TMP/dropfeed.toml" 2>/dev/null
        python3 "$TMP/sizes.py" "$TMP/export" >"$TMP/sizes.txt"
        if [ "$WRK" = 1 ]; then
            say "wrk against nginx on the 10k site (scripts/bench-serve.sh)"
            "$ROOT/scripts/bench-serve.sh" --posts "$posts" --site "$TMP/export" --no-build \
                --summary "$TMP/serve.txt" >"$TMP/serve-table.txt"
        fi
        rm -rf "$TMP/export"
    fi
    rm -rf "$TMP/corpus-$n"
done

# --- report ---------------------------------------------------------------------------------
v() { echo "${R[$1]:--}"; }
SIZE_LIST=($SIZES)
header="| measure (dropfeed $REV, $(nproc) cores)"
rule="| ---"
for n in "${SIZE_LIST[@]}"; do
    header+=" | $((n / 1000))k posts"
    rule+=" | ---:"
done
row() { # label key-suffix target
    local line="| $1" n
    for n in "${SIZE_LIST[@]}"; do line+=" | $(v "$n.$2")"; done
    echo "$line | $3 |"
}
pair() { # label key-a key-b target (10k only)
    local line="| $1" n
    for n in "${SIZE_LIST[@]}"; do
        if [ "$n" = 10000 ]; then line+=" | $(v "$n.$2") / $(v "$n.$3")"; else line+=" | -"; fi
    done
    echo "$line | $4 |"
}
{
    echo
    echo "$header | target |"
    echo "$rule | --- |"
    row "cold start, s (median; each start below; the first issues the ids)" cold_median "≤ 0.5 s (10k)"
    row "of which reading and parsing the posts (server log), s (last start)" read_s ""
    row "start until the feeds are served compressed, s (last start)" encoded_s ""
    row "resident memory while serving, MiB (VmRSS)" rss_mb "≤ 64 MB (10k)"
    row "peak memory, MiB (VmHWM)" hwm_mb ""
    pair "change-to-served in place, p50 / p90 ms ($CHANGES)" change_inplace_p50_ms change_inplace_p90_ms "≤ 25 / ≤ 50 ms"
    pair "change-to-served atomic rename, p50 / p90 ms ($CHANGES)" change_atomic_p50_ms change_atomic_p90_ms "≤ 25 / ≤ 50 ms"
    pair "server rebuild per change (log), p50 / p90 ms" rebuild_p50_ms rebuild_p90_ms ""
    pair "memory after the changes, VmRSS / VmHWM MiB" rss_after_changes_mb hwm_after_changes_mb ""
    if [ -s "$TMP/serve.txt" ]; then
        s() { awk -v a="$1" -v b="$2" -v f="$3" '$1 == a && $2 == b { print $f }' "$TMP/serve.txt"; }
        b200=$(awk '$1 == "best" && $2 == 200 { print $3 }' "$TMP/serve.txt")
        b304=$(awk '$1 == "best" && $2 == 304 { print $3 }' "$TMP/serve.txt")
        wrk_row() { # label kind field fmt
            local line="| $1" n
            for n in "${SIZE_LIST[@]}"; do
                if [ "$n" = 10000 ]; then
                    local d b best=$b200
                    [ "$2" = 304 ] && best=$b304
                    d=$(s dropfeed "$2" "$3"); b=$(s "$best" "$2" "$3")
                    line+=" | $(awk -v d="$d" -v b="$b" -v f="$4" 'BEGIN { printf f, d, b, d / b }') ($best)"
                else
                    line+=" | -"
                fi
            done
            echo "$line | $5 |"
        }
        wrk_row "wrk 200 gzip req/s: dropfeed / nginx" 200 3 "%.0f / %.0f = %.2f×" "≥ 1.25×"
        wrk_row "wrk 200 gzip p99 ms: dropfeed / nginx" 200 4 "%.2f / %.2f = %.2f×" "≤ 1×"
        wrk_row "wrk 304 req/s: dropfeed / nginx" 304 3 "%.0f / %.0f = %.2f×" "≥ 1.25×"
        wrk_row "wrk 304 p99 ms: dropfeed / nginx" 304 4 "%.2f / %.2f = %.2f×" "≤ 1×"
    fi
    echo
    for n in "${SIZE_LIST[@]}"; do echo "cold starts, $n posts (s): $(v "$n.cold_all")"; done
    echo "change-to-served in place, each (ms): $(v 10000.change_inplace_all_ms)"
    echo "change-to-served atomic, each (ms): $(v 10000.change_atomic_all_ms)"
    echo "changes not seen within 60 s: $(v 10000.change_timeouts); rebuilds logged: $(v 10000.rebuilds)"
    [ -z "${R[10000.change_budget_hit]:-}" ] ||
        echo "change loop stopped by its time budget after $(v 10000.change_budget_hit) changes of each kind"
    for note in "${NOTES[@]}"; do echo "$note"; done
    if [ "$POLL_MS" = 0 ]; then
        echo "poller: one kept-alive connection, If-None-Match; back to back for 50 ms after the write, then every 1 ms"
    else
        echo "poller: one kept-alive connection, If-None-Match, ${POLL_MS} ms between polls"
    fi
    if [ -s "$TMP/sizes.txt" ]; then
        echo
        echo "Bytes of every resource and coding of the 10k site, from dropfeed build: what keeping every"
        echo "route ready would hold (the server keeps the hot ones, and cold ones in a bounded cache):"
        echo
        cat "$TMP/sizes.txt"
    fi
    if [ -s "$TMP/serve-table.txt" ]; then
        echo
        cat "$TMP/serve-table.txt"
    fi
}
