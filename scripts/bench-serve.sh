#!/usr/bin/env bash
# Throughput of `dropfeed serve` against nginx serving the same bytes (issues 3 and 6).
#
#   scripts/bench-serve.sh [--posts DIR [--site DIR | --feed-only]] [--runs N] [--duration 5s]
#                          [--no-build] [--summary FILE]
#   (DROPFEED_THREADS=N in the environment measures dropfeed with `[server] threads = N`)
#
# Serves one posts folder (default: 1,000 generated posts) with dropfeed on 127.0.0.1, writes
# the same resources with `dropfeed build --out` (every route with .gz/.br/.zst siblings), and
# serves that folder with nginx (gzip_static on, etag on, access_log off) twice: with 1 and
# with 2 worker processes (dropfeed's runtime has `nproc` threads). It checks that both send
# the same gzip bytes for /feed.xml and that each answers its own ETag with 304, then runs
#   wrk -t1 -c32 -d5s --latency -H 'Accept-Encoding: gzip' [-H 'If-None-Match: <etag>']
# against each server in turn, alternating servers, N times (default 3), and prints the
# median requests/s and p99 latency for the gzip 200 and the 304.
#
# Everything listens on 127.0.0.1 only; every process started here is stopped by its pid on
# exit. Installs wrk and nginx from Debian when missing. Machine-readable medians go to
# --summary FILE (lines: server kind rps p99_ms), which scripts/bench.sh reads. --site DIR
# reuses an existing `dropfeed build` of the same posts with base_url "https://bench.example/";
# --feed-only gives nginx just /feed.xml (and its .gz) as dropfeed serves them, instead of a
# whole export (which at 100,000 posts would fill gigabytes of disk).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
POSTS=""
RUNS=3
DURATION=5s
BUILD=1
SUMMARY=""
SITE=""
FEED_ONLY=0
GENERATED_POSTS=1000
while [ $# -gt 0 ]; do
    case "$1" in
        --posts) POSTS=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --summary) SUMMARY=$2; shift 2 ;;
        --site) SITE=$2; shift 2 ;;
        --feed-only) FEED_ONLY=1; shift ;;
        -h | --help) sed -n '2,23p' "$0"; exit 0 ;;
        *) echo "bench-serve: unknown argument $1" >&2; exit 2 ;;
    esac
done

say() { echo "bench-serve: $*" >&2; }

# --- tools ---------------------------------------------------------------------------------
export PATH="$PATH:/usr/sbin:/sbin"
install_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v nginx >/dev/null || missing+=(nginx-light)
    command -v curl >/dev/null || missing+=(curl)
    [ ${#missing[@]} -eq 0 ] && return
    say "installing ${missing[*]} from Debian"
    apt-get update -qq
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
        # Older or newer releases may only have the full package.
        missing=("${missing[@]/nginx-light/nginx}")
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}
install_tools

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN="$TARGET/release/dropfeed"
GEN="$TARGET/release/examples/gen_corpus"
if [ "$BUILD" = 1 ]; then
    say "building release"
    (cd "$ROOT" && cargo build --release --quiet --bin dropfeed --example gen_corpus)
fi
[ -x "$BIN" ] || { say "$BIN missing (run without --no-build)"; exit 1; }

# --- temp dir and cleanup --------------------------------------------------------------------
TMP=$(mktemp -d /tmp/dropfeed-bench-serve.XXXXXX)
chmod 755 "$TMP" # nginx workers run as nobody and must reach the exported files
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (up to 120 s) until a URL answers 200.
wait_ok() {
    local url=$1 pid=$2 i
    for i in $(seq 1 12000); do
        if curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null | grep -q 200; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { say "server for $url exited"; return 1; }
        sleep 0.01
    done
    say "$url did not answer in time"
    return 1
}

# --- content -------------------------------------------------------------------------------
if [ -z "$POSTS" ]; then
    POSTS="$TMP/posts"
    [ -x "$GEN" ] || (cd "$ROOT" && cargo build --release --quiet --example gen_corpus)
    "$GEN" --posts "$GENERATED_POSTS" --out "$POSTS" 2>/dev/null
fi
# A fixed base_url so the served and the exported bytes agree whatever the port.
cat >"$TMP/dropfeed.toml" <<'EOF'
base_url = "https://bench.example/"
EOF
# DROPFEED_THREADS=N measures dropfeed with `[server] threads = N`.
if [ -n "${DROPFEED_THREADS:-}" ]; then
    printf '[server]\nthreads = %s\n' "$DROPFEED_THREADS" >>"$TMP/dropfeed.toml"
fi
if [ -z "$SITE" ] && [ "$FEED_ONLY" = 0 ]; then
    say "exporting $POSTS with dropfeed build"
    SITE="$TMP/site"
    "$BIN" build --posts "$POSTS" --out "$SITE" --config "$TMP/dropfeed.toml" 2>"$TMP/build.log"
fi

THREADS=${DROPFEED_THREADS:-$(nproc)}
PORT_D=$(free_port)
"$BIN" serve --posts "$POSTS" --listen "127.0.0.1:$PORT_D" --admin-listen off \
    --config "$TMP/dropfeed.toml" 2>"$TMP/dropfeed.log" &
PIDS+=($!)
DROPFEED_PID=$!

# One nginx per worker count, each in its own prefix folder.
declare -A PORT
PORT[dropfeed]=$PORT_D
start_nginx() {
    local workers=$1 name=$2 port prefix
    port=$(free_port)
    prefix="$TMP/$name"
    mkdir -p "$prefix/logs" "$prefix/tmp"
    cat >"$prefix/nginx.conf" <<EOF
worker_processes $workers;
daemon off;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    types {
        application/rss+xml xml;
        application/atom+xml atom;
        application/feed+json json;
        text/html html;
    }
    default_type application/octet-stream;
    client_body_temp_path $prefix/tmp/body;
    proxy_temp_path $prefix/tmp/proxy;
    fastcgi_temp_path $prefix/tmp/fastcgi;
    uwsgi_temp_path $prefix/tmp/uwsgi;
    scgi_temp_path $prefix/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    # Its best showing: no reconnect every 1,000 requests, no open/stat per request.
    keepalive_requests 1000000;
    open_file_cache max=1000 inactive=60s;
    server {
        listen 127.0.0.1:$port;
        root $SITE;
        gzip_static on;
        etag on;
    }
}
EOF
    nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" &
    PIDS+=($!)
    PORT[$name]=$port
    wait_ok "http://127.0.0.1:$port/feed.xml" "$!"
}
wait_ok "http://127.0.0.1:$PORT_D/feed.xml" "$DROPFEED_PID"
# The first snapshot may be served in identity while its codings are compressed.
for i in $(seq 1 12000); do
    curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT_D/feed.xml" |
        grep -qi '^content-encoding: gzip' && break
    [ "$i" = 12000 ] && { say "dropfeed did not serve gzip within 120 s"; exit 1; }
    sleep 0.01
done
if [ -z "$SITE" ]; then
    # --feed-only: nginx gets the very bytes dropfeed serves, identity and gzip.
    SITE="$TMP/site"
    mkdir -p "$SITE"
    curl -s -o "$SITE/feed.xml" "http://127.0.0.1:$PORT_D/feed.xml"
    curl -s -H 'Accept-Encoding: gzip' -o "$SITE/feed.xml.gz" "http://127.0.0.1:$PORT_D/feed.xml"
fi
chmod -R a+rX "$SITE"
start_nginx 1 nginx-1w
start_nginx 2 nginx-2w
SERVERS=(dropfeed nginx-1w nginx-2w)

# --- same bytes, own ETags, 304s --------------------------------------------------------------
declare -A ETAG
for s in "${SERVERS[@]}"; do
    url="http://127.0.0.1:${PORT[$s]}/feed.xml"
    headers=$(curl -s -D - -o "$TMP/$s.feed.gz" -H 'Accept-Encoding: gzip' "$url" | tr -d '\r')
    grep -qi '^content-encoding: gzip' <<<"$headers" || { say "$s did not send gzip"; exit 1; }
    ETAG[$s]=$(awk -F': ' 'tolower($1) == "etag" { print $2 }' <<<"$headers")
    status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' \
        -H "If-None-Match: ${ETAG[$s]}" "$url")
    [ "$status" = 304 ] || { say "$s answered $status to its own ETag, not 304"; exit 1; }
done
for s in nginx-1w nginx-2w; do
    cmp -s "$TMP/dropfeed.feed.gz" "$TMP/$s.feed.gz" ||
        { say "dropfeed and $s sent different gzip bytes for /feed.xml"; exit 1; }
done
GZ_BYTES=$(stat -c %s "$TMP/dropfeed.feed.gz")
ID_BYTES=$(stat -c %s "$SITE/feed.xml")
say "same gzip bytes from all servers: /feed.xml $ID_BYTES bytes, $GZ_BYTES gzipped"

# --- load ----------------------------------------------------------------------------------
# Prints "rps p99_ms errors" from wrk --latency output.
parse_wrk() {
    awk '
        /Requests\/sec:/ { rps = $2 }
        /^ +99%/ {
            v = $2
            if (v ~ /us$/) { sub(/us$/, "", v); p99 = v / 1000 }
            else if (v ~ /ms$/) { sub(/ms$/, "", v); p99 = v }
            else if (v ~ /s$/) { sub(/s$/, "", v); p99 = v * 1000 }
        }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        /Socket errors:/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
        END { printf "%s %s %d\n", rps, p99, errors }
    ' "$1"
}

run_wrk() { # server kind run duration
    local s=$1 kind=$2 run=$3 duration=$4 args=()
    args=(-t1 -c32 "-d$duration" --latency -H 'Accept-Encoding: gzip')
    [ "$kind" = 304 ] && args+=(-H "If-None-Match: ${ETAG[$s]}")
    wrk "${args[@]}" "http://127.0.0.1:${PORT[$s]}/feed.xml" >"$TMP/wrk.$s.$kind.$run.txt"
}

say "warming up"
for s in "${SERVERS[@]}"; do
    run_wrk "$s" 200 0 1s
done
for run in $(seq 1 "$RUNS"); do
    # Rotate the order so no server always runs first (or right after a compile burst).
    order=("${SERVERS[@]:$(((run - 1) % 3))}" "${SERVERS[@]:0:$(((run - 1) % 3))}")
    for s in "${order[@]}"; do
        for kind in 200 304; do
            say "run $run/$RUNS: $s $kind"
            run_wrk "$s" "$kind" "$run" "$DURATION"
        done
    done
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A RPS P99 ERR ALL
for s in "${SERVERS[@]}"; do
    for kind in 200 304; do
        rows=""
        for run in $(seq 1 "$RUNS"); do
            rows+="$(parse_wrk "$TMP/wrk.$s.$kind.$run.txt")"$'\n'
        done
        RPS[$s.$kind]=$(awk 'NF { print $1 }' <<<"$rows" | median)
        P99[$s.$kind]=$(awk 'NF { print $2 }' <<<"$rows" | median)
        ERR[$s.$kind]=$(awk '{ e += $3 } END { print e + 0 }' <<<"$rows")
        ALL[$s.$kind]=$(awk 'NF { printf "%s%.0f", (NR > 1 ? " " : ""), $1 }' <<<"$rows")
    done
done

# --- report --------------------------------------------------------------------------------
best() { # kind → the nginx with more requests/s
    if awk -v a="${RPS[nginx-1w.$1]}" -v b="${RPS[nginx-2w.$1]}" 'BEGIN { exit !(a >= b) }'; then
        echo nginx-1w
    else
        echo nginx-2w
    fi
}
B200=$(best 200)
B304=$(best 304)
{
    echo
    echo "wrk -t1 -c32 -d$DURATION --latency, GET /feed.xml ($ID_BYTES bytes, $GZ_BYTES gzipped), Accept-Encoding: gzip"
    echo "medians of $RUNS alternated runs; dropfeed runtime threads: $THREADS; $(nproc) cores"
    echo
    printf '| %-22s | %12s | %9s | %12s | %9s | %-28s | %-28s |\n' \
        server "200 req/s" "200 p99" "304 req/s" "304 p99" "200 req/s, each run" "304 req/s, each run"
    printf '| %-22s | %12s | %9s | %12s | %9s | %-28s | %-28s |\n' \
        "---" "---:" "---:" "---:" "---:" "---" "---"
    for s in "${SERVERS[@]}"; do
        case $s in
            dropfeed) label="dropfeed ($THREADS threads)" ;;
            nginx-1w) label="nginx, 1 worker" ;;
            nginx-2w) label="nginx, 2 workers" ;;
        esac
        printf '| %-22s | %12.0f | %6.2f ms | %12.0f | %6.2f ms | %-28s | %-28s |\n' "$label" \
            "${RPS[$s.200]}" "${P99[$s.200]}" "${RPS[$s.304]}" "${P99[$s.304]}" \
            "${ALL[$s.200]}" "${ALL[$s.304]}"
    done
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }
    printf '| %-22s | %12s | %9s | %12s | %9s | %-28s | %-28s |\n' \
        "dropfeed / best nginx" "$(ratio "${RPS[dropfeed.200]}" "${RPS[$B200.200]}")" \
        "$(ratio "${P99[dropfeed.200]}" "${P99[$B200.200]}")" \
        "$(ratio "${RPS[dropfeed.304]}" "${RPS[$B304.304]}")" \
        "$(ratio "${P99[dropfeed.304]}" "${P99[$B304.304]}")" \
        "best 200: $B200" "best 304: $B304"
    for s in "${SERVERS[@]}"; do
        for kind in 200 304; do
            [ "${ERR[$s.$kind]}" = 0 ] || echo "warning: $s $kind: ${ERR[$s.$kind]} errors or unexpected statuses"
        done
    done
    echo "target (issue 6): dropfeed req/s ≥ 1.25 × the faster nginx, p99 ≤ nginx's"
}

if [ -n "$SUMMARY" ]; then
    for s in "${SERVERS[@]}"; do
        for kind in 200 304; do
            echo "$s $kind ${RPS[$s.$kind]} ${P99[$s.$kind]}"
        done
    done >"$SUMMARY"
    {
        echo "best 200 $B200"
        echo "best 304 $B304"
        echo "feed $ID_BYTES $GZ_BYTES"
    } >>"$SUMMARY"
fi
