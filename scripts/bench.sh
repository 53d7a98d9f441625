#!/usr/bin/env bash
# The issue 14 benchmark: every row of its table, for each corpus size, side by side in one run.
#
#   scripts/bench.sh [--posts N]... [--cold-runs 3] [--changes 20] [--change-budget 600]
#                    [--no-wrk] [--wrk-runs 3] [--wrk-duration 5s] [--no-build]
#   e.g. scripts/bench.sh --posts 10000 --posts 100000      (the default; about 15 minutes
#        on 2 cores, most of it wrk and the 100k starts)
#   --posts takes one size or a list ("10000 100000"); --sizes is the same option.
#
# Builds release, generates each corpus (examples/gen_corpus.rs) in a temporary folder and,
# per size (scripts/bench-probe.py):
#   - first start ever: posts/.dropfeed removed, process start until the first 200 on
#     /feed.xml; restart with the state folder kept; restart without the index: every
#     posts/.dropfeed/index* removed (the index file's final name is not settled, so anything
#     named index* there goes), the ledger kept. Each --cold-runs times (2 above 10k; once
#     when a start takes over a minute), the median reported; each start is stopped with
#     SIGTERM (by its pid) once its feeds are compressed and its state written;
#   - resident memory (VmRSS, VmHWM) of one more restart once /, the feeds, an archive page
#     and a post page have been fetched in every coding;
#   - change-to-served on that server, --changes of each kind, interleaved: a new post; a
#     title edit in place; one by atomic rename; delete one of the 10 newest (restored after,
#     untimed); rename one's file (same content: its link changes, its id must stay);
#     re-date the 5th newest to be the newest; add a tag to one. Each timed from just before
#     the file operation until /atom.xml, polled over one kept-alive connection with
#     If-None-Match, shows it; plus the server's own rebuild time per change, from its log.
#     The loop stops after --change-budget seconds per size (noted under the table);
#   - wrk against nginx (1 and 2 workers) serving the same /feed.xml bytes:
#     scripts/bench-serve.sh --feed-only (--wrk-runs alternated runs of --wrk-duration).
# The largest size up to 10,000 is also exported with `dropfeed build` to show the bytes of
# every resource and coding. Sizes run in ascending order; one is skipped when the previous
# size's first start took over a minute. Nothing is asserted: each cell is marked ✓ or ✗.
#
# Everything listens on 127.0.0.1 only; every server started is stopped by its pid on exit.
# The page cache is warm (the corpus was just written): a "start" is a fresh process.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZES=""
COLD_RUNS=3
CHANGES=20
CHANGE_BUDGET=600
WRK=1
WRK_RUNS=3
WRK_DURATION=5s
BUILD=1
POLL_MS=${POLL_MS:-0}
while [ $# -gt 0 ]; do
    case "$1" in
        --posts | --sizes) SIZES="$SIZES $2"; shift 2 ;;
        --cold-runs) COLD_RUNS=$2; shift 2 ;;
        --changes) CHANGES=$2; shift 2 ;;
        --change-budget) CHANGE_BUDGET=$2; shift 2 ;;
        --no-wrk) WRK=0; shift ;;
        --wrk-runs) WRK_RUNS=$2; shift 2 ;;
        --wrk-duration) WRK_DURATION=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h | --help) sed -n '2,34p' "$0"; exit 0 ;;
        *) echo "bench: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "${SIZES// /}" ] || SIZES="10000 100000"
for n in $SIZES; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench: --posts wants a number, not $n" >&2; exit 2; }
done
# Ascending, each once, so a slow size can keep a larger one from starting.
SIZES=$(tr ' ' '\n' <<<"$SIZES" | awk NF | sort -nu | tr '\n' ' ')

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
    # The probe stops its servers itself; this catches an interrupted probe.
    if [ -s "$SERVER_PIDFILE" ]; then
        kill -TERM "$(cat "$SERVER_PIDFILE")" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

cat >"$TMP/dropfeed.toml" <<'EOF'
base_url = "https://bench.example/"
EOF

# --- measure --------------------------------------------------------------------------------
EXPORT_SIZE=$(tr ' ' '\n' <<<"$SIZES" | awk 'NF && $1 <= 10000' | tail -n 1)
NOTES=()
MEASURED=()
previous=""
for n in $SIZES; do
    if [ -n "$previous" ] && awk -v c="$previous" 'BEGIN { exit !(c > 60) }'; then
        NOTES+=("$n posts: skipped, the previous size's first start took $previous s")
        continue
    fi
    posts="$TMP/corpus-$n/posts"
    say "generating $n posts"
    "$GEN" --posts "$n" --out "$posts" 2>/dev/null
    runs=$COLD_RUNS
    [ "$n" -le 10000 ] || runs=$((COLD_RUNS < 2 ? COLD_RUNS : 2))
    say "$n posts: $runs start(s) of each kind, then $CHANGES changes of each kind"
    mkdir -p "$TMP/logs-$n"
    if ! python3 "$ROOT/scripts/bench-probe.py" --bin "$BIN" --posts "$posts" \
        --config "$TMP/dropfeed.toml" --pidfile "$SERVER_PIDFILE" --log-dir "$TMP/logs-$n" \
        --count "$n" --runs "$runs" --changes "$CHANGES" --change-budget "$CHANGE_BUDGET" \
        --poll-ms "$POLL_MS" >"$TMP/probe-$n.txt"; then
        NOTES+=("$n posts: the probe failed (see above)")
    fi
    MEASURED+=("$n")
    previous=$(awk '$1 == "first_start_s" { print $2 }' "$TMP/probe-$n.txt")
    if grep -q '^failed ' "$TMP/probe-$n.txt"; then
        say "$n posts: $(sed -n 's/^failed //p' "$TMP/probe-$n.txt")"
        rm -rf "$TMP/corpus-$n"
        continue
    fi
    if [ "$n" = "$EXPORT_SIZE" ]; then
        say "exporting the $n-post site (bytes by kind of resource)"
        "$BIN" build --posts "$posts" --out "$TMP/export" --config "$TMP/dropfeed.toml" 2>/dev/null
        python3 "$ROOT/scripts/bench-sizes.py" "$TMP/export" "$((n / 1000))k site" >"$TMP/sizes.txt"
        rm -rf "$TMP/export"
    fi
    if [ "$WRK" = 1 ]; then
        say "$n posts: wrk against nginx (scripts/bench-serve.sh --feed-only)"
        if ! "$ROOT/scripts/bench-serve.sh" --posts "$posts" --feed-only --no-build \
            --runs "$WRK_RUNS" --duration "$WRK_DURATION" --summary "$TMP/serve-$n.txt" >"$TMP/serve-table-$n.txt"; then
            NOTES+=("$n posts: scripts/bench-serve.sh failed (see above)")
        fi
    fi
    rm -rf "$TMP/corpus-$n"
done

# --- report ---------------------------------------------------------------------------------
[ ${#MEASURED[@]} -gt 0 ] || { say "no size measured"; exit 1; }
echo
python3 "$ROOT/scripts/bench-report.py" --dir "$TMP" --sizes "${MEASURED[*]}" --rev "$REV" \
    --cores "$(nproc)" --changes "$CHANGES" --budget "$CHANGE_BUDGET" --poll-ms "$POLL_MS"
for note in "${NOTES[@]}"; do echo "- $note"; done
if [ -s "$TMP/sizes.txt" ]; then
    echo
    echo "Bytes of every resource and coding of the $EXPORT_SIZE-post site, from dropfeed build: what"
    echo "keeping every route ready would hold (the server keeps the hot ones, and cold ones in a"
    echo "bounded cache):"
    echo
    cat "$TMP/sizes.txt"
fi
for n in "${MEASURED[@]}"; do
    if [ -s "$TMP/serve-table-$n.txt" ]; then
        echo
        echo "wrk, $n posts:"
        cat "$TMP/serve-table-$n.txt"
    fi
done
