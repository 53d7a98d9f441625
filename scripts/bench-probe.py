"""Measures one posts folder for scripts/bench.sh: starts `dropfeed serve` again and again
(first start ever, restart with the state folder kept, restart without the index), then
serves it once more to read its memory and time changes of every kind. Prints `key value`
lines on stdout; a start or a change that never shows within its deadline is reported as
such (`> N s`), never as a crash. Only the standard library: it runs on any python3."""

import argparse
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import http.client

START_DEADLINE = 600  # s, a first 200 on /feed.xml
CHANGE_DEADLINE = 60  # s, a change shown in /atom.xml
ONCE_ABOVE = 60  # s, a start this slow is not repeated
KINDS = ("new", "inplace", "atomic", "delete", "rename", "redate", "retag")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def out(key, value):
    print(key, value, flush=True)


class StartFailed(Exception):
    """The server exited, or gave no 200 on /feed.xml in time."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(conn, path, headers=None):
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    return r.status, r, r.read()


class Server:
    """One `dropfeed serve` on 127.0.0.1, its pid in --pidfile while it runs."""

    def __init__(self, a, label):
        self.a = a
        self.port = free_port()
        self.log_path = os.path.join(a.log_dir, f"serve-{label}.log")
        self.log = open(self.log_path, "w")
        self.log_offset = 0
        env = dict(os.environ, NO_COLOR="1", RUST_LOG="info")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [a.bin, "serve", "--posts", a.posts, "--config", a.config,
             "--listen", f"127.0.0.1:{self.port}", "--admin-listen", "off"],
            stdout=self.log, stderr=self.log, env=env)
        with open(a.pidfile, "w") as f:
            f.write(str(self.proc.pid))

    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def first_feed(self):
        """Seconds from process start to the first 200 on /feed.xml. The listener is bound
        before the posts are read, so a connection may wait for the first snapshot."""
        while True:
            if self.proc.poll() is not None:
                # Its log goes with the temporary folder: show its end now.
                sys.stderr.write(self.log_text()[-3000:])
                raise StartFailed(f"dropfeed exited with {self.proc.returncode} (its log is above)")
            try:
                c = self.conn(timeout=START_DEADLINE)
                status, _, _ = get(c, "/feed.xml")
                c.close()
                if status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            if time.perf_counter() - self.started > START_DEADLINE:
                raise StartFailed(f"no 200 on /feed.xml within {START_DEADLINE} s")
            time.sleep(0.001)

    def compressed(self, conn, paths=("/feed.xml", "/atom.xml", "/feed.json"), deadline=120):
        """Waits until every path comes in br (the encoder has caught up); True if it did."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < deadline:
            done = 0
            for path in paths:
                _, r, _ = get(conn, path, {"Accept-Encoding": "br"})
                done += r.getheader("Content-Encoding") == "br"
            if done == len(paths):
                return True
            time.sleep(0.005)
        return False

    def log_text(self, since_last=False):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            f.seek(self.log_offset if since_last else 0)
            text = f.read()
            if since_last:
                self.log_offset = f.tell()
        return ANSI.sub("", text)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        if os.path.exists(self.a.pidfile):
            os.unlink(self.a.pidfile)


def memory(pid):
    """VmRSS and VmHWM in MB (10^6 bytes, the unit of the targets)."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) * 1024 / 1e6
    return fields


def pct(values, q):
    """Nearest-rank percentile; a change never seen counts as infinitely slow."""
    values = sorted(values)
    rank = max(1, -(-q * len(values) // 100))
    return values[rank - 1]


def ms(value):
    return f">{CHANGE_DEADLINE * 1000}" if value == float("inf") else f"{value:.1f}"


# --- starts ----------------------------------------------------------------------------------

def state_dir(a):
    return os.path.join(a.posts, ".dropfeed")


def forget_all(a):
    shutil.rmtree(state_dir(a), ignore_errors=True)


def forget_index(a):
    # The index file's name is not settled yet: every index* in the state folder goes.
    found = glob.glob(os.path.join(state_dir(a), "index*"))
    if not found and not getattr(a, "no_index_noted", False):
        a.no_index_noted = True
        out("note", "no posts/.dropfeed/index* to remove: a restart without the index is a plain restart")
    for path in found:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)


def one_start(a, label, prepare):
    """Prepares the folder, starts, times the first feed, lets the server settle (feeds
    compressed, state written) and stops it. Returns seconds; StartFailed propagates."""
    prepare(a)
    server = Server(a, label)
    try:
        took = server.first_feed()
        c = server.conn()
        encoded = server.compressed(c)
        c.close()
        text = server.log_text()
        read = re.search(r'posts read.*?ms="?([0-9.]+)', text)
        if read:
            out(f"{label}_read_s", f"{float(read.group(1)) / 1000:.3f}")
        if encoded:
            out(f"{label}_encoded_s", f"{time.perf_counter() - server.started:.3f}")
        time.sleep(0.5)  # whatever is written after the first build (ledger, index)
        return took
    finally:
        server.stop()


def starts(a, variant, prepare):
    times = []
    for run in range(a.runs):
        took = one_start(a, variant, prepare)
        times.append(took)
        print(f"bench: {a.count} posts: {variant} {run + 1}/{a.runs}: {took:.3f} s",
              file=sys.stderr)
        if took > ONCE_ABOVE and run + 1 < a.runs:
            out("note", f"{variant} measured {len(times)} time(s) only: it took {took:.1f} s")
            break
    times.sort()
    out(f"{variant}_s", f"{times[len(times) // 2]:.3f}")
    out(f"{variant}_all_s", " ".join(f"{t:.3f}" for t in times))


# --- changes ---------------------------------------------------------------------------------

class Feed:
    """/atom.xml polled over one kept-alive connection with If-None-Match."""

    def __init__(self, server, poll_ms):
        self.server = server
        self.conn = server.conn()
        self.poll_ms = poll_ms
        self.etag = None
        self.body = ""
        self.poll()

    def poll(self):
        headers = {"If-None-Match": self.etag} if self.etag else {}
        status, r, body = get(self.conn, "/atom.xml", headers)
        if status == 200:
            self.etag = r.getheader("ETag")
            self.body = body.decode("utf-8", errors="replace")
        return status == 200

    def wait(self, shown, t0):
        """Milliseconds from t0 until shown(body) holds; inf past the deadline."""
        while True:
            if self.poll() and shown(self.body):
                return (time.perf_counter() - t0) * 1000
            if time.perf_counter() - t0 > CHANGE_DEADLINE:
                return float("inf")
            if self.poll_ms:
                time.sleep(self.poll_ms / 1000)
            elif time.perf_counter() - t0 > 0.05:
                time.sleep(0.001)  # past the targets, leave the cores to the rebuild

    def entries(self):
        """(id, link) of each entry, newest first, as written (escaped)."""
        found = []
        for chunk in self.body.split("<entry")[1:]:
            ident = re.search(r"<id>([^<]*)</id>", chunk)
            link = re.search(r'<link[^>]*href="([^"]*/posts/[^"]*)"', chunk)
            if ident and link:
                found.append((ident.group(1), link.group(1)))
        return found

    def chunk(self, ident):
        for chunk in self.body.split("<entry")[1:]:
            if f"<id>{ident}</id>" in chunk:
                return chunk
        return ""


def slug_of(link):
    return link.rstrip("/").rsplit("/", 1)[-1]


class Changes:
    """Makes each kind of change to a post among the newest and times it."""

    def __init__(self, a, server, feed):
        self.a, self.server, self.feed = a, server, feed
        # Dates newer than any post's, in the past, one second apart.
        self.next_date = time.time() - 86400
        self.new_body = self.body_of(self.path_of(feed.entries()[0][1]))
        self.notes = {"rename_id_changed": 0, "restore_new_id": 0, "not_restored": 0}
        self.delete_log = ""
        self.kind = KINDS[0]

    def path_of(self, link):
        # Every post here is named by its file (no front matter slug): slug.md.
        return os.path.join(self.a.posts, slug_of(link) + ".md")

    @staticmethod
    def body_of(path):
        with open(path) as f:
            return f.read().split("\n---\n", 1)[-1]

    def newest_date(self):
        self.next_date += 1
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.next_date))

    def target(self, i):
        # Each kind of a round takes another of the 10 newest.
        entries = self.feed.entries()[:10]
        return entries[(i * len(KINDS) + KINDS.index(self.kind)) % len(entries)]

    @staticmethod
    def front(path, pattern, replace):
        with open(path) as f:
            text = f.read()
        return re.sub(pattern, replace, text, count=1, flags=re.M)

    def run(self, kind, i, token):
        self.kind = kind
        return getattr(self, "do_" + kind)(i, token)

    def do_new(self, i, token):
        path = os.path.join(self.a.posts, f"bench-new-{i}.md")
        text = f'---\ntitle: "{token}"\ndate: {self.newest_date()}\ntags: [bench]\n---\n{self.new_body}'
        t0 = time.perf_counter()
        with open(path, "w") as f:
            f.write(text)
        return self.feed.wait(lambda body: token in body, t0)

    def edit(self, i, token, atomic):
        _, link = self.target(i)
        path = self.path_of(link)
        text = self.front(path, r"^title: .*$", f'title: "{token}"')
        t0 = time.perf_counter()
        write(path, text, atomic)
        return self.feed.wait(lambda body: token in body, t0)

    def do_inplace(self, i, token):
        return self.edit(i, token, atomic=False)

    def do_atomic(self, i, token):
        return self.edit(i, token, atomic=True)

    def do_delete(self, i, token):
        ident, link = self.target(i)
        path = self.path_of(link)
        with open(path) as f:
            text = f.read()
        t0 = time.perf_counter()
        os.unlink(path)
        took = self.feed.wait(lambda body: f"<id>{ident}</id>" not in body, t0)
        # The server's time for the removal alone, before the restore's rebuild is logged.
        time.sleep(0.05)
        self.delete_log = self.server.log_text(since_last=True)
        # Put it back, untimed, and wait until it is served again (under its old id).
        write(path, text, atomic=True)
        back = self.feed.wait(lambda body: f'href="{link}"' in body, time.perf_counter())
        if back == float("inf"):
            self.notes["not_restored"] += 1
        elif f"<id>{ident}</id>" not in self.feed.body:
            self.notes["restore_new_id"] += 1
        return took

    def do_rename(self, i, token):
        # The slug comes from the file name (src/post/draft.rs, slug_or), so a rename
        # changes the post's link and page route; its id must stay.
        ident, link = self.target(i)
        path = self.path_of(link)
        slug = f"{slug_of(link)}-r{i}"
        new_link = link[: -len(slug_of(link)) - 1] + slug + "/"
        t0 = time.perf_counter()
        os.rename(path, os.path.join(self.a.posts, slug + ".md"))
        took = self.feed.wait(lambda body: f'href="{new_link}"' in body, t0)
        if took != float("inf") and f'href="{new_link}"' not in self.feed.chunk(ident):
            self.notes["rename_id_changed"] += 1
        return took

    def do_redate(self, i, token):
        entries = self.feed.entries()
        ident, link = entries[min(4, len(entries) - 1)]
        path = self.path_of(link)
        text = self.front(path, r"^date: .*$", f"date: {self.newest_date()}")
        t0 = time.perf_counter()
        write(path, text, atomic=False)
        first = lambda body: re.search(r"<entry.*?<id>([^<]*)</id>", body, re.S)
        return self.feed.wait(lambda body: (m := first(body)) is not None and m.group(1) == ident, t0)

    def do_retag(self, i, token):
        ident, link = self.target(i)
        path = self.path_of(link)
        tag = f"bench-tag-{i}"
        text = self.front(path, r"^tags: \[(.*)\]$", rf"tags: [\1, {tag}]")
        t0 = time.perf_counter()
        write(path, text, atomic=False)
        return self.feed.wait(lambda body: f'term="{tag}"' in self.feed.chunk(ident), t0)


def write(path, text, atomic):
    if atomic:
        tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    else:
        with open(path, "w") as f:
            f.write(text)


def settle(server, t0):
    """The next change starts on an idle server: this one compressed too, and past the
    debounce."""
    c = server.conn()
    server.compressed(c, paths=("/atom.xml",), deadline=max(1, CHANGE_DEADLINE - (time.perf_counter() - t0)))
    c.close()
    time.sleep(0.2)


def rebuilds(text):
    return [float(x) for x in re.findall(r'rebuilt.*?ms="?([0-9.]+)', text)]


def change_loop(a, server):
    feed = Feed(server, a.poll_ms)
    changes = Changes(a, server, feed)
    times = {k: [] for k in KINDS}
    server_ms = {k: [] for k in KINDS}
    loop_started = time.perf_counter()
    server.log_text(since_last=True)
    for i in range(a.changes):
        if time.perf_counter() - loop_started > a.change_budget:
            out("change_budget_hit", i)
            break
        for kind in KINDS:
            token = f"Bench {kind} {i} {os.getpid()}"
            t0 = time.perf_counter()
            try:
                times[kind].append(changes.run(kind, i, token))
                settle(server, t0)
            except (OSError, http.client.HTTPException, IndexError) as e:
                # Counted as never shown; the next change gets a fresh connection.
                out("note", f"{kind} change {i + 1} failed: {e!r}")
                times[kind].append(float("inf"))
                if server.proc.poll() is not None:
                    raise StartFailed(f"dropfeed exited with {server.proc.returncode} during the changes")
                feed.conn.close()
                feed.conn = server.conn()
            text = server.log_text(since_last=True)
            if kind == "delete":
                text = changes.delete_log
            server_ms[kind].append(sum(rebuilds(text)))
    for kind in KINDS:
        values = times[kind]
        if not values:
            continue
        out(f"{kind}_p50_ms", ms(pct(values, 50)))
        out(f"{kind}_p90_ms", ms(pct(values, 90)))
        out(f"{kind}_all_ms", " ".join("timeout" if v == float("inf") else f"{v:.0f}" for v in values))
        out(f"{kind}_timeouts", sum(v == float("inf") for v in values))
        out(f"{kind}_server_p50_ms", f"{pct(server_ms[kind], 50):.1f}")
        out(f"{kind}_server_p90_ms", f"{pct(server_ms[kind], 90):.1f}")
    for key, count in changes.notes.items():
        out(key, count)


def serving(a):
    """A restart with the state kept, warmed up, its memory read, then the changes."""
    server = Server(a, "serving")
    try:
        server.first_feed()
        c = server.conn()
        server.compressed(c)
        time.sleep(0.5)
        page = f"/posts/post-{a.count // 2:05}/"
        for path in ("/", "/feed.xml", "/atom.xml", "/feed.json", "/archive/1/feed.xml", page):
            for coding in ("gzip", "br", "zstd", "identity"):
                get(c, path, {"Accept-Encoding": coding})
        c.close()
        m = memory(server.proc.pid)
        out("rss_mb", f"{m['VmRSS']:.1f}")
        out("hwm_mb", f"{m['VmHWM']:.1f}")
        if a.changes:
            change_loop(a, server)
            m = memory(server.proc.pid)
            out("rss_after_changes_mb", f"{m['VmRSS']:.1f}")
            out("hwm_after_changes_mb", f"{m['VmHWM']:.1f}")
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--posts", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--pidfile", required=True)
    p.add_argument("--log-dir", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--changes", type=int, default=20)
    p.add_argument("--change-budget", type=float, default=600)
    p.add_argument("--poll-ms", type=float, default=0)
    a = p.parse_args()
    try:
        starts(a, "first_start", forget_all)
        starts(a, "restart", lambda a: None)
        starts(a, "restart_no_index", forget_index)
        serving(a)
    except StartFailed as e:
        out("failed", str(e))


if __name__ == "__main__":
    main()
