//! The counting thread: it receives hits from the request path, keeps today's counts
//! current, and writes them to the state folder.
//!
//! - Direct readers: the client group and agent are hashed (keyed BLAKE3) with today's salt
//!   into a set per feed; a hash not seen yet today is one more reader. The salt is random,
//!   replaced at each UTC midnight, and only ever in this thread's memory: once replaced,
//!   nothing can tell whether a hash of yesterday was anyone in particular.
//! - Downloads: a hash with today's salt remembers when a client first downloaded an
//!   episode; one with yesterday's salt finds yesterday's downloads, so a download counts
//!   once per client and episode in any 24 hours whatever the ranges asked.
//! - The sets are bounded: past [`MAX_REMEMBERED`], new clients are counted but not
//!   remembered, so memory stays bounded under a flood of addresses.
//! - Today's counts are written every [`SAVE_EVERY`] while they change, at midnight, on
//!   [`super::Readers::flush`] and when the server stops.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::agent;
use super::days::{DayCounts, History, ReadersReport};
use super::{store, Entry, Episode, Hit, Now, Polled};

/// How often today's counts are written while they change.
pub const SAVE_EVERY: Duration = Duration::from_secs(10);
/// While hits keep coming, how long the thread lets them queue before taking them: the
/// queue ([`super::QUEUE`] hits) must hold what arrives meanwhile (400,000 a second).
const BATCH: Duration = Duration::from_millis(10);
/// Most hashes remembered for readers (all feeds together) and for downloads, each.
const MAX_REMEMBERED: usize = 1_000_000;
/// Most aggregators kept per feed and day: agent strings are the client's to write, so a
/// stream of made-up names must not grow the counts without end.
const MAX_AGGREGATORS: usize = 64;

/// The counting thread's state.
pub(super) struct Tally {
    now: Now,
    folder: PathBuf,
    retention: u32,
    history: History,
    day: NaiveDate,
    salt: [u8; 32],
    previous_salt: [u8; 32],
    readers: BTreeMap<String, HashSet<u64>>,
    /// Hashes in `readers`, all feeds together.
    remembered: usize,
    downloads: HashMap<u64, DateTime<Utc>>,
    previous_downloads: HashMap<u64, DateTime<Utc>>,
    dirty: bool,
    /// The last hit counted and its day: the same client asking the same again that day
    /// changes no count, so it is not hashed again (a client polling in a loop).
    last: Option<(Hit, NaiveDate)>,
}

impl Tally {
    /// Counting from today on, over the days already in `folder`.
    pub(super) fn new(folder: PathBuf, retention: u32, history: History, now: Now) -> Tally {
        let today = current(&now).date_naive();
        let mut tally = Tally {
            now,
            folder,
            retention,
            history,
            day: today,
            salt: fresh_salt(),
            previous_salt: fresh_salt(),
            readers: BTreeMap::new(),
            remembered: 0,
            downloads: HashMap::new(),
            previous_downloads: HashMap::new(),
            dirty: false,
            last: None,
        };
        tally.forget_old_days();
        tally
    }

    /// Receives until every sender is gone, then writes what changed. Idle, it waits on the
    /// channel; once a hit arrives it takes the queue in batches, a [`BATCH`] apart, until
    /// one finds it empty: a sender then never has to wake this thread (a system call and a
    /// context switch per request, which halved a busy feed's `304` rate on two cores).
    pub(super) fn run(mut self, entries: Receiver<Entry>) {
        let mut saved = Instant::now();
        loop {
            match entries.recv_timeout(SAVE_EVERY) {
                Ok(entry) => {
                    self.take(entry);
                    if !self.batches(&entries, &mut saved) {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.save_if_due(&mut saved);
        }
        self.save();
    }

    /// Takes what queued up every [`BATCH`] until a batch is empty; `false` once every
    /// sender is gone.
    fn batches(&mut self, entries: &Receiver<Entry>, saved: &mut Instant) -> bool {
        loop {
            std::thread::sleep(BATCH);
            let mut taken = 0;
            loop {
                match entries.try_recv() {
                    Ok(entry) => {
                        self.take(entry);
                        taken += 1;
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return false,
                }
            }
            self.save_if_due(saved);
            if taken == 0 {
                return true;
            }
        }
    }

    /// One entry of the queue: a hit counted, a report answered, or a flush done.
    fn take(&mut self, entry: Entry) {
        match entry {
            Entry::Hit(hit) => self.count(hit),
            Entry::Report { days, reply } => {
                self.advance(self.now().date_naive());
                let _ = reply.send(ReadersReport::of(&self.history, self.day, days));
            }
            Entry::Flush(done) => {
                self.save();
                let _ = done.send(());
            }
        }
    }

    /// Writes today's counts when they changed and the last write is [`SAVE_EVERY`] old.
    fn save_if_due(&mut self, saved: &mut Instant) {
        if self.dirty && saved.elapsed() >= SAVE_EVERY {
            self.save();
            *saved = Instant::now();
        }
    }

    /// The time now; the system's should the service's clock panic (a test's may).
    fn now(&self) -> DateTime<Utc> {
        current(&self.now)
    }

    /// Counts one hit, dated now.
    fn count(&mut self, hit: Hit) {
        let at = self.now();
        let day = at.date_naive();
        self.advance(day);
        if self
            .last
            .as_ref()
            .is_some_and(|(last, on)| *on == day && repeats(last, &hit))
        {
            return;
        }
        let agent = hit.agent.as_ref().and_then(|a| a.to_str().ok());
        match &hit.what {
            Polled::Feed(path) => self.poll(path.path(), client_key(hit.client), agent),
            Polled::Episode(episode) => self.download(at, client_key(hit.client), agent, episode),
        }
        self.last = Some((hit, day));
    }

    /// A download of `episode`: counted unless this client downloaded it in the 24 hours
    /// before `at` (with today's salt, or yesterday's).
    fn download(
        &mut self,
        at: DateTime<Utc>,
        client: ClientKey,
        agent: Option<&str>,
        episode: &Episode,
    ) {
        if agent::is_bot(agent) {
            return;
        }
        let key = [client.as_slice(), agent.unwrap_or("").as_bytes()];
        let today = keyed(&self.salt, &key, &episode.slug);
        if self.downloads.contains_key(&today) {
            return;
        }
        let before = keyed(&self.previous_salt, &key, &episode.slug);
        let recent = |first: &DateTime<Utc>| at - *first < TimeDelta::hours(24);
        if self.previous_downloads.get(&before).is_some_and(recent) {
            return;
        }
        if self.downloads.len() < MAX_REMEMBERED {
            self.downloads.insert(today, at);
        }
        let day = self.history.entry(self.day).or_default();
        let counts = day.episodes.entry(episode.slug.clone()).or_default();
        counts.feed.clone_from(&episode.feed);
        counts.downloads += 1;
        self.dirty = true;
    }

    /// A poll of the feed at `path`: an aggregator's report, or a direct reader.
    fn poll(&mut self, path: &str, client: ClientKey, agent: Option<&str>) {
        let reported = agent.and_then(agent::subscribers);
        if reported.is_none() && agent::is_bot(agent) {
            return;
        }
        let day = self.history.entry(self.day).or_default();
        let feed = entry(&mut day.feeds, path);
        if let Some(report) = reported {
            let known = feed.aggregators.contains_key(&report.aggregator);
            if known || feed.aggregators.len() < MAX_AGGREGATORS {
                let old = feed.aggregators.insert(report.aggregator, report.count);
                self.dirty |= old != Some(report.count);
            }
            return;
        }
        let hash = keyed(&self.salt, &[&client, agent.unwrap_or("").as_bytes()], path);
        let seen = entry(&mut self.readers, path);
        if seen.contains(&hash) {
            return;
        }
        if self.remembered < MAX_REMEMBERED {
            seen.insert(hash);
            self.remembered += 1;
        }
        feed.direct += 1;
        self.dirty = true;
    }

    /// Moves on to `today` when it is later than the day being counted: the day that ends is
    /// written, the salt replaced, the old one kept one more day for downloads only.
    fn advance(&mut self, today: NaiveDate) {
        if today <= self.day {
            return;
        }
        self.save();
        self.day = today;
        self.previous_salt = std::mem::replace(&mut self.salt, fresh_salt());
        self.previous_downloads = std::mem::take(&mut self.downloads);
        self.readers.clear();
        self.remembered = 0;
        self.forget_old_days();
    }

    /// Drops the days past the retention, here and in the folder.
    fn forget_old_days(&mut self) {
        let keep = u64::from(self.retention);
        if let Some(oldest) = self.day.checked_sub_days(chrono::Days::new(keep)) {
            self.history.retain(|day, _| *day > oldest);
        }
        store::prune(&self.folder, self.day, self.retention);
    }

    /// Writes today's counts if they changed.
    fn save(&mut self) {
        if !self.dirty {
            return;
        }
        let empty = DayCounts::default();
        let counts = self.history.get(&self.day).unwrap_or(&empty);
        match store::save(&self.folder, self.day, counts) {
            Ok(()) => self.dirty = false,
            Err(e) => {
                tracing::warn!(folder = %self.folder.display(), "cannot write reader counts: {e}")
            }
        }
    }
}

/// Whether `hit` is `last` again: the same client group and agent for the same feed path
/// or episode, which counts nothing new (readers are a set, aggregators keep their newest
/// count, downloads count once in 24 hours).
fn repeats(last: &Hit, hit: &Hit) -> bool {
    let same = match (&last.what, &hit.what) {
        (Polled::Feed(a), Polled::Feed(b)) => a.path() == b.path(),
        (Polled::Episode(a), Polled::Episode(b)) => a == b,
        _ => false,
    };
    same && last.client == hit.client && last.agent == hit.agent
}

/// What `now` says, or the system clock's time should it panic.
fn current(now: &Now) -> DateTime<Utc> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(now)).unwrap_or_else(|_| Utc::now())
}

/// A client group's address bytes, as hashed.
type ClientKey = [u8; 16];

/// 16 bytes for an address (IPv4 mapped into IPv6).
fn client_key(addr: IpAddr) -> ClientKey {
    match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The value at `key`, inserted empty if missing; a key already there is not copied
/// (a reader polling again costs this thread no allocation).
fn entry<'m, V: Default>(map: &'m mut BTreeMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key).expect("present: just looked or inserted")
}

/// A keyed hash of the parts and `what` (a feed or an episode), cut to 64 bits.
fn keyed(salt: &[u8; 32], parts: &[&[u8]], what: &str) -> u64 {
    let mut hasher = blake3::Hasher::new_keyed(salt);
    for part in parts {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.update(what.as_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(&hasher.finalize().as_bytes()[..8]);
    u64::from_le_bytes(out)
}

/// 32 random bytes from the operating system. Should it fail (no entropy source at all),
/// the hashes are keyed with the time and the process id, never with nothing.
fn fresh_salt() -> [u8; 32] {
    let mut salt = [0u8; 32];
    if getrandom::getrandom(&mut salt).is_err() {
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        salt = *blake3::hash(seed.as_bytes()).as_bytes();
    }
    salt
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;
    use hyper::http::uri::PathAndQuery;

    fn tally(dir: &std::path::Path) -> Tally {
        let noon = "2026-03-01T12:00:00Z".parse().expect("a time");
        Tally::new(
            dir.to_path_buf(),
            400,
            History::new(),
            Box::new(move || noon),
        )
    }

    fn poll(agent: &str, client: &str) -> Hit {
        Hit {
            client: client.parse().expect("an address"),
            agent: HeaderValue::from_str(agent).ok(),
            what: Polled::Feed(PathAndQuery::from_static("/atom.xml")),
        }
    }

    #[test]
    fn made_up_aggregator_names_cannot_grow_the_counts_without_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut tally = tally(dir.path());
        tally.count(poll("Feedly/1.0 (3 subscribers)", "192.0.2.1"));
        for i in 0..1000u32 {
            let name: String = i
                .to_string()
                .chars()
                .map(|d| (b'a' + d as u8 - b'0') as char)
                .collect();
            tally.count(poll(
                &format!("Fetcher {name} - 5 subscribers"),
                "192.0.2.1",
            ));
        }
        tally.count(poll("Feedly/1.0 (4 subscribers)", "192.0.2.1"));
        let feed = &tally.history[&tally.day].feeds["/atom.xml"];
        assert_eq!(feed.aggregators.len(), MAX_AGGREGATORS);
        assert_eq!(
            feed.aggregators["Feedly"], 4,
            "a known aggregator is still updated"
        );
        assert_eq!(feed.direct, 0, "aggregators are not direct readers");
    }

    #[test]
    fn a_client_polling_again_after_midnight_is_a_reader_of_the_new_day() {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = std::sync::Arc::new(std::sync::Mutex::new(
            "2026-03-01T23:59:59Z"
                .parse::<DateTime<Utc>>()
                .expect("a time"),
        ));
        let read = std::sync::Arc::clone(&clock);
        let now: Now = Box::new(move || *read.lock().expect("clock"));
        let mut tally = Tally::new(dir.path().to_path_buf(), 400, History::new(), now);
        tally.count(poll("NetNewsWire", "192.0.2.9"));
        tally.count(poll("NetNewsWire", "192.0.2.9"));
        *clock.lock().expect("clock") = "2026-03-02T00:00:01Z".parse().expect("a time");
        tally.count(poll("NetNewsWire", "192.0.2.9"));
        let day = |d: &str| {
            tally.history[&d.parse::<NaiveDate>().expect("a day")].feeds["/atom.xml"].direct
        };
        assert_eq!((day("2026-03-01"), day("2026-03-02")), (1, 1));
    }

    #[test]
    fn a_reader_is_one_per_address_and_agent_and_the_day_file_holds_no_address() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut tally = tally(dir.path());
        for _ in 0..3 {
            tally.count(poll("NetNewsWire", "192.0.2.77"));
        }
        tally.count(poll("Miniflux", "192.0.2.77"));
        tally.count(poll("Googlebot/2.1", "192.0.2.78"));
        assert_eq!(tally.history[&tally.day].feeds["/atom.xml"].direct, 2);
        tally.save();
        let text = std::fs::read_to_string(dir.path().join("2026-03-01.json")).expect("saved");
        assert!(!text.contains("192.0.2"), "{text}");
    }

    proptest::proptest! {
        #[test]
        fn any_day_of_polls_counts_each_address_and_agent_once(
            hits in proptest::collection::vec((0u8..6, 0usize..4, proptest::bool::ANY), 0..80),
        ) {
            let agents = ["NetNewsWire", "Miniflux/2", "curl/8.0", "AntennaPod/3"];
            let dir = tempfile::tempdir().expect("tempdir");
            let mut tally = tally(dir.path());
            let (mut readers, mut downloads) = (HashSet::new(), HashSet::new());
            let episode = std::sync::Arc::new(Episode { slug: "ep".into(), feed: "/feed.xml".into() });
            for (client, agent, download) in hits {
                let mut hit = poll(agents[agent], &format!("192.0.2.{client}"));
                let human = !agents[agent].starts_with("curl");
                if download {
                    hit.what = Polled::Episode(std::sync::Arc::clone(&episode));
                    if human { downloads.insert((client, agent)); }
                } else if human {
                    readers.insert((client, agent));
                }
                tally.count(hit);
            }
            let day = tally.history.get(&tally.day).cloned().unwrap_or_default();
            let direct = day.feeds.get("/atom.xml").map_or(0, |f| f.direct);
            let downloaded = day.episodes.get("ep").map_or(0, |e| e.downloads);
            proptest::prop_assert_eq!(direct, readers.len() as u64);
            proptest::prop_assert_eq!(downloaded, downloads.len() as u64);
        }
    }
}
