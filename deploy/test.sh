#!/usr/bin/env bash
# End-to-end test of deploy/nginx.conf: two dropfeed replicas on loopback behind nginx
# proxy_cache. Run from the repository root as `bash deploy/test.sh` (CI does). Needs
# cargo, curl and python3; installs nginx (Debian package) when it is missing.
#
# Shows, with assertions:
#   (0) deploy/nginx.conf as shipped passes `nginx -t` on this (Debian) nginx, as root;
#       the systemd units pass `systemd-analyze verify` where systemd-analyze exists;
#       `dropfeed healthcheck` exits 0 for a serving replica and 1 for a stopped one;
#   (a) a cache MISS then a HIT, compressed bodies passed through with their own ETags;
#   (b) after max-age, a revalidation with the cached ETag that a replica answers 304;
#   (c) a new post visible through the cache within max-age + 1 s;
#   (d) one replica killed, the feed still served 200 for 10 consecutive requests;
#   (e) /status and /metrics answer 404 through nginx and on the replicas' public ports,
#       200 only on their admin listeners (checked before (d)).
# Set KEEP_TMP=1 to keep the temporary folder (logs, generated config) afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive

MAX_AGE=2 # [cache] max_age of the test site, seconds: short, so expiry is quick to observe

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
pass() { echo "PASS $*"; }

# ---- prerequisites ----
for tool in curl python3 cargo; do
  command -v "$tool" >/dev/null || fail "$tool is required"
done
command -v nginx >/dev/null || (apt-get update && apt-get install -y nginx-light || apt-get install -y nginx)
command -v nginx >/dev/null || fail "nginx could not be installed"

echo "== cargo build --release"
cargo build --release --quiet
BIN="$PWD/target/release/dropfeed"
[ -x "$BIN" ] || fail "$BIN was not built"

T0=$(date +%s.%N)
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$(date +%s.%N)"; }

# ---- (0) the shipped files as they are ----
# nginx -t as root, as it will run: it creates the cache folder and opens the log files, so
# whatever of those it creates here is removed again.
if [ "$(id -u)" = 0 ]; then
  created=()
  for path in /var/cache/dropfeed-nginx /var/log/nginx/dropfeed-error.log /var/log/nginx/dropfeed-access.log; do
    [ -e "$path" ] || created+=("$path")
  done
  shipped=0
  out=$(nginx -t -c "$PWD/deploy/nginx.conf" 2>&1) || shipped=$?
  for path in "${created[@]}"; do rm -rf -- "$path"; done
  [ "$shipped" = 0 ] || fail "(0) nginx -t rejects deploy/nginx.conf as shipped: $out"
  pass "(0) nginx -t accepts deploy/nginx.conf as shipped ($(nginx -v 2>&1))"
else
  echo "SKIPPED (0) nginx -t on deploy/nginx.conf as shipped: needs root (it creates the cache folder)"
fi
if command -v systemd-analyze >/dev/null; then
  units=$(mktemp -d "${TMPDIR:-/tmp}/dropfeed-units.XXXXXX")
  for unit in dropfeed.service dropfeed@.service; do
    sed "s|/usr/local/bin/dropfeed|$BIN|" "deploy/$unit" >"$units/$unit"
  done
  out=$(cd "$units" && systemd-analyze verify ./dropfeed.service ./dropfeed@8081.service 2>&1) || true
  rm -rf "$units"
  [ -z "$out" ] || fail "(0) systemd-analyze verify complains about deploy/*.service: $out"
  pass "(0) systemd-analyze verify accepts deploy/dropfeed.service and deploy/dropfeed@.service"
else
  echo "SKIPPED (0) systemd-analyze verify: systemd-analyze is not installed"
fi

# ---- temporary site, everything inside $TMP ----
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dropfeed-deploy.XXXXXX")
PIDS=()
cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    for log in "$TMP"/replica-1.log "$TMP"/replica-2.log "$TMP"/nginx-error.log "$TMP"/nginx.out "$TMP"/access.log; do
      [ -s "$log" ] && { echo "---- ${log#"$TMP"/} (last 25 lines)" >&2; tail -n 25 "$log" >&2; }
    done
  fi
  if [ "${KEEP_TMP:-}" = 1 ]; then
    echo "kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
  exit "$status"
}
trap cleanup EXIT

# Five distinct free loopback ports (all bound at once so they differ, then released): the
# proxy, the replicas, and the replicas' admin listeners (/metrics).
read -r PROXY P1 P2 A1 A2 < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
')

cp -R posts "$TMP/posts"
rm -rf "$TMP/posts/.dropfeed" # a fresh id ledger, never the source tree's
cat >"$TMP/dropfeed.toml" <<EOF
# Identical for every replica: links and ids must not depend on which one answered.
base_url = "http://127.0.0.1:$PROXY/"

[cache]
max_age = $MAX_AGE
stale_while_revalidate = 0
EOF

# ---- nginx config: deploy/nginx.conf with test ports and paths ----
temp_paths="client_body_temp_path $TMP/nginx-tmp/body; fastcgi_temp_path $TMP/nginx-tmp/fastcgi; proxy_temp_path $TMP/nginx-tmp/proxy;"
nginx -V 2>&1 | grep -q -- --without-http_uwsgi_module || temp_paths+=" uwsgi_temp_path $TMP/nginx-tmp/uwsgi;"
nginx -V 2>&1 | grep -q -- --without-http_scgi_module || temp_paths+=" scgi_temp_path $TMP/nginx-tmp/scgi;"
mkdir -p "$TMP/nginx-tmp" "$TMP/cache"
if [ "$(id -u)" = 0 ]; then user_line="user root;"; else user_line=""; fi
sed -e "s|^user .*;|$user_line|" \
  -e "s|^pid .*;|pid $TMP/nginx.pid;|" \
  -e "s|^error_log .*;|error_log $TMP/nginx-error.log info;|" \
  -e "s|access_log /var/log/nginx/dropfeed-access.log|access_log $TMP/access.log|" \
  -e "s|/var/cache/dropfeed-nginx|$TMP/cache|" \
  -e "s|server 127.0.0.1:8081|server 127.0.0.1:$P1|" \
  -e "s|server 127.0.0.1:8082|server 127.0.0.1:$P2|" \
  -e "s|listen 80;|listen 127.0.0.1:$PROXY;|" \
  -e "/listen \[::\]:80;/d" \
  -e "s|^http {|http {\n    $temp_paths|" \
  deploy/nginx.conf >"$TMP/nginx.conf"
for pattern in "$P1" "$P2" "127.0.0.1:$PROXY" "$TMP/cache"; do
  grep -q -- "$pattern" "$TMP/nginx.conf" || fail "generated nginx.conf lacks $pattern (deploy/nginx.conf changed shape?)"
done
# Directives only: comments may name the real paths.
if grep -nE '/var/|/run/|\[::\]' "$TMP/nginx.conf" | grep -vE '^[0-9]+:[[:space:]]*#'; then
  fail "generated nginx.conf still points outside $TMP (lines above)"
fi
nginx -t -q -p "$TMP" -c "$TMP/nginx.conf" -g 'daemon off;' || fail "nginx -t rejects the generated config"

# ---- start the replicas and nginx ----
wait_for() { # URL, deadline in seconds
  local url=$1 deadline=$(($(date +%s) + $2))
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "$url did not answer within $2 s"
    sleep 0.1
  done
}
start_replica() { # number, port, admin port
  RUST_LOG=info HOSTNAME="replica-$1" "$BIN" serve --posts "$TMP/posts" --config "$TMP/dropfeed.toml" \
    --listen "127.0.0.1:$2" --admin-listen "127.0.0.1:$3" >"$TMP/replica-$1.log" 2>&1 &
  PIDS+=($!)
}
start_replica 1 "$P1" "$A1"
R1=$!
start_replica 2 "$P2" "$A2"
R2=$!
wait_for "http://127.0.0.1:$P1/healthz" 15
wait_for "http://127.0.0.1:$P2/healthz" 15
# A replica serves new resources in identity first and adds the compressed codings moments
# later; the checks below are about the steady state, so wait for it.
wait_encoded() { # admin port, deadline in seconds
  local deadline=$(($(date +%s) + $2))
  until curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | grep -qx 'dropfeed_resources_pending_compression 0'; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "replica on port $1 did not finish compressing within $2 s"
    sleep 0.1
  done
}
wait_encoded "$A1" 30
wait_encoded "$A2" 30
"$BIN" healthcheck "http://127.0.0.1:$P1/healthz" || fail "(0) dropfeed healthcheck: replica 1 is serving, yet exit $?"
DROPFEED_LISTEN="127.0.0.1:$P2" "$BIN" healthcheck || fail "(0) dropfeed healthcheck with DROPFEED_LISTEN: replica 2 is serving, yet exit $?"
pass "(0) dropfeed healthcheck: exit 0 for both serving replicas"
nginx -p "$TMP" -c "$TMP/nginx.conf" -g 'daemon off;' >"$TMP/nginx.out" 2>&1 &
NGINX=$!
PIDS+=("$NGINX")
wait_for "http://127.0.0.1:$PROXY/healthz" 10
echo "replicas on 127.0.0.1:$P1 (pid $R1) and 127.0.0.1:$P2 (pid $R2), nginx on 127.0.0.1:$PROXY (pid $NGINX)"

# ---- helpers ----
# fetch NAME URL [curl args...]: body to $TMP/NAME.body, headers to $TMP/NAME.headers;
# prints the status code.
fetch() {
  local name=$1 url=$2
  shift 2
  curl -sS -o "$TMP/$name.body" -D "$TMP/$name.headers" -w '%{http_code}' "$@" "$url"
}
# header NAME FIELD: the value of a response header (case-insensitive), without CR.
header() {
  awk -v f="$(echo "$2" | tr '[:upper:]' '[:lower:]')" -F': ' \
    'tolower($1) == f { sub(/\r$/, "", $2); print $2 }' "$TMP/$1.headers" | tail -n 1
}
# A replica's count of 304s on the feed routes (from its admin listener's /metrics).
not_modified() {
  curl -fsS "http://127.0.0.1:$1/metrics" |
    awk '$1 == "dropfeed_http_requests_total{route=\"feed\",status=\"304\"}" { n = $2 } END { print n + 0 }'
}
cache_lines() { # how many access-log lines for a path show a given cache status
  grep -c "\"GET $1 HTTP/1.[01]\" .* cache=$2 " "$TMP/access.log" || true
}
FEED=/feed.xml
URL="http://127.0.0.1:$PROXY$FEED"
GZ=(-H 'Accept-Encoding: gzip')

# ---- (a) MISS, then HIT; compression passed through ----
s=$(fetch a1 "$URL" "${GZ[@]}")
[ "$s" = 200 ] || fail "(a) first request: status $s, want 200"
[ "$(header a1 X-Cache-Status)" = MISS ] || fail "(a) first request: X-Cache-Status '$(header a1 X-Cache-Status)', want MISS"
s=$(fetch a2 "$URL" "${GZ[@]}")
[ "$s" = 200 ] || fail "(a) second request: status $s, want 200"
[ "$(header a2 X-Cache-Status)" = HIT ] || fail "(a) second request: X-Cache-Status '$(header a2 X-Cache-Status)', want HIT"
ETAG_GZ=$(header a2 ETag)
[ "$(header a2 Content-Encoding)" = gzip ] || fail "(a) Content-Encoding '$(header a2 Content-Encoding)', want gzip passed through"
case "$ETAG_GZ" in \"*-gz\") ;; *) fail "(a) ETag of the gzip body is '$ETAG_GZ', want \"<hash>-gz\"" ;; esac
[ "$(header a2 Vary)" = Accept-Encoding ] || fail "(a) Vary '$(header a2 Vary)', want Accept-Encoding"
# The cached gzip body is exactly what a replica sends.
fetch direct "http://127.0.0.1:$P1$FEED" "${GZ[@]}" >/dev/null
cmp -s "$TMP/a2.body" "$TMP/direct.body" || fail "(a) cached gzip body differs from the replica's"
[ "$(header direct ETag)" = "$ETAG_GZ" ] || fail "(a) replica ETag $(header direct ETag) != cached $ETAG_GZ"
# Identity is another variant under the same key (Vary), not the gzip body.
s=$(fetch a3 "$URL")
[ "$s" = 200 ] && [ "$(header a3 X-Cache-Status)" = MISS ] || fail "(a) identity request: $s $(header a3 X-Cache-Status), want 200 MISS (its own variant)"
[ -z "$(header a3 Content-Encoding)" ] || fail "(a) identity request got Content-Encoding $(header a3 Content-Encoding)"
s=$(fetch a4 "$URL")
[ "$s" = 200 ] && [ "$(header a4 X-Cache-Status)" = HIT ] || fail "(a) identity again: X-Cache-Status '$(header a4 X-Cache-Status)', want HIT"
ETAG_ID=$(header a4 ETag)
[ "${ETAG_GZ%-gz\"}\"" = "$ETAG_ID" ] || fail "(a) identity ETag $ETAG_ID does not share the hash of $ETAG_GZ"
grep -q '<rss' "$TMP/a4.body" || fail "(a) identity body is not the RSS feed"
pass "(a) cache: MISS then HIT for $FEED (gzip passed through, ETag $ETAG_GZ); identity variant MISS then HIT (ETag $ETAG_ID)"

# ---- (b) after max-age: revalidation answered 304 by a replica ----
before=$(($(not_modified "$A1") + $(not_modified "$A2")))
revalidated_before=$(cache_lines "$FEED" REVALIDATED)
sleep $((MAX_AGE + 1))
tb=$(date +%s.%N)
s=$(fetch b1 "$URL" "${GZ[@]}")
status_b=$(header b1 X-Cache-Status)
[ "$s" = 200 ] || fail "(b) request after max-age: status $s, want 200"
case "$status_b" in
  STALE | REVALIDATED | UPDATING) ;;
  *) fail "(b) request after max-age: X-Cache-Status '$status_b', want REVALIDATED (or STALE while a background revalidation runs)" ;;
esac
[ "$(header b1 ETag)" = "$ETAG_GZ" ] || fail "(b) ETag changed: $(header b1 ETag)"
cmp -s "$TMP/b1.body" "$TMP/a2.body" || fail "(b) body changed although no post did"
deadline=$(($(date +%s) + 5))
while :; do
  after=$(($(not_modified "$A1") + $(not_modified "$A2")))
  [ "$after" -gt "$before" ] && [ "$(cache_lines "$FEED" REVALIDATED)" -gt "$revalidated_before" ] && break
  [ "$(date +%s)" -lt "$deadline" ] || fail "(b) no revalidation seen: replica feed 304s $before -> $after, access-log REVALIDATED lines $revalidated_before -> $(cache_lines "$FEED" REVALIDATED)"
  sleep 0.1
done
s=$(fetch b2 "$URL" "${GZ[@]}")
[ "$(header b2 X-Cache-Status)" = HIT ] || fail "(b) after the revalidation: X-Cache-Status '$(header b2 X-Cache-Status)', want HIT (freshness renewed by the 304)"
pass "(b) revalidation: after ${MAX_AGE} s the client got $status_b, nginx revalidated with ETag $ETAG_GZ, replicas' feed 304 count $before -> $after, next request HIT ($(elapsed "$tb") s)"

# ---- (c) a new post is visible through the cache within max-age + 1 s ----
TITLE="Through The Cache $$"
post="$TMP/posts/$(date -u +%Y-%m-%d)-through-the-cache.md"
{
  printf -- '---\ntitle: "%s"\ndate: %s\ntags: [caching]\n---\n\n' "$TITLE" "$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)"
  printf 'Written by deploy/test.sh while nginx held the feed in its cache.\n'
} >"$post.tmp"
mv "$post.tmp" "$post" # renamed into place: complete, published at once
tc=$(date +%s.%N)
deadline_c=$(python3 -c "print($tc + $MAX_AGE + 1)")
polls=0
until fetch c "$URL" >/dev/null && grep -q "$TITLE" "$TMP/c.body"; do
  polls=$((polls + 1))
  python3 -c "import sys, time; sys.exit(time.time() > $deadline_c)" ||
    fail "(c) the new post is not in $FEED through nginx $((MAX_AGE + 1)) s after it was written (last X-Cache-Status $(header c X-Cache-Status))"
  sleep 0.2
done
took_c=$(elapsed "$tc")
wait_encoded "$A1" 30 # compare the steady state, not the moment before compression
wait_encoded "$A2" 30
for n in 1 2; do
  port=$([ "$n" = 1 ] && echo "$P1" || echo "$P2")
  s=$(fetch "c-replica-$n" "http://127.0.0.1:$port$FEED")
  [ "$s" = 200 ] && grep -q "$TITLE" "$TMP/c-replica-$n.body" || fail "(c) replica $n does not show the new post"
done
e1=$(header c-replica-1 ETag)
e2=$(header c-replica-2 ETag)
cmp -s "$TMP/c-replica-1.body" "$TMP/c-replica-2.body" || fail "(c) replicas serve different feed bytes after the change"
[ "$e1" = "$e2" ] || fail "(c) replicas disagree after the change: ETag $e1 vs $e2"
[ "$e1" != "$ETAG_ID" ] || fail "(c) the ETag did not change with the new post"
pass "(c) new post visible through nginx after $took_c s (limit $((MAX_AGE + 1)) s, $polls stale polls, X-Cache-Status $(header c X-Cache-Status)); both replicas agree on ETag $e1"

# ---- (e) the operator's pages only on the admin listeners ----
for path in /status /metrics "/status?format=json"; do
  for where in "127.0.0.1:$PROXY" "127.0.0.1:$P1" "127.0.0.1:$P2"; do
    s=$(fetch e "http://$where$path")
    [ "$s" = 404 ] || fail "(e) $path on $where: status $s, want 404 (it shows drafts and scheduled posts)"
  done
  for where in "127.0.0.1:$A1" "127.0.0.1:$A2"; do
    s=$(fetch e "http://$where$path")
    [ "$s" = 200 ] || fail "(e) $path on the admin listener $where: status $s, want 200"
  done
done
pass "(e) /status and /metrics: 404 through nginx and on the public ports, 200 on the admin listeners"

# ---- (d) one replica killed: the feed is still served ----
kill "$R1"
wait "$R1" 2>/dev/null || true
! curl -fsS -o /dev/null "http://127.0.0.1:$P1/healthz" 2>/dev/null || fail "(d) replica 1 still answers after kill"
hc=0
"$BIN" healthcheck --timeout 2 "http://127.0.0.1:$P1/healthz" 2>/dev/null || hc=$?
[ "$hc" = 1 ] || fail "(d) dropfeed healthcheck on the killed replica: exit $hc, want 1"
td=$(date +%s.%N)
for i in $(seq 1 10); do
  # A distinct query per request: a cache MISS each time, so each one really goes to the
  # upstream group (dropfeed routes by path; the query only changes nginx's cache key).
  s=$(fetch "d$i" "$URL?after-kill=$i" "${GZ[@]}")
  [ "$s" = 200 ] || fail "(d) request $i of 10 with replica 1 down: status $s"
  [ "$(header "d$i" ETag)" = "${e1%\"}-gz\"" ] || fail "(d) request $i: ETag $(header "d$i" ETag), want ${e1%\"}-gz\""
  grep -q "$TITLE" <(gzip -dc "$TMP/d$i.body") || fail "(d) request $i: not the current feed"
done
s=$(fetch d-cached "$URL" "${GZ[@]}")
[ "$s" = 200 ] || fail "(d) $FEED with replica 1 down: status $s"
retried=$(grep -c "after-kill=.* upstream=[^ ]*, " "$TMP/access.log" || true)
pass "(d) replica 1 (pid $R1) killed (dropfeed healthcheck: exit 1): 10/10 uncached requests answered 200 by the survivor ($retried retried after a failed connect), $FEED 200 ($(header d-cached X-Cache-Status)) ($(elapsed "$td") s)"

echo "PASS all deploy checks in $(elapsed "$T0") s (after the build)"
