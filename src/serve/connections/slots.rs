//! Admission within `max_connections`. At the cap, a new connection makes room by closing
//! the one idle longest (no request being answered, whatever else it does); only when every
//! connection is in the middle of answering a request does the new one wait. The registry is
//! locked only when a connection opens or closes, and scanned only when the server is full.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::Conn;
use crate::metrics::{Closed, Metrics};

/// How often a new connection looks again for room when every connection is mid-request
/// (a request being answered does not announce its end).
const RECHECK: Duration = Duration::from_millis(10);

/// Every open connection, bounded by `max_connections`.
#[derive(Debug)]
pub struct Slots {
    max: usize,
    /// What connection times are counted from.
    epoch: Instant,
    /// A plain mutex: locked when a connection opens or closes (and the scan for the idlest
    /// when full), never per request.
    live: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    /// Signalled when a connection leaves, for an admission waiting for room.
    freed: Notify,
    metrics: Arc<Metrics>,
}

impl Slots {
    /// Room for `max` connections.
    pub fn new(max: usize, metrics: Arc<Metrics>) -> Slots {
        Slots {
            max: max.max(1),
            epoch: Instant::now(),
            live: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            freed: Notify::new(),
            metrics,
        }
    }

    /// A slot for a new connection: a free one, or the one of the connection idle longest,
    /// which is told to close. Waits while every connection is answering a request.
    pub async fn admit(self: &Arc<Self>) -> Slot {
        loop {
            if let Some(conn) = self.try_admit() {
                self.metrics.connection_opened();
                return Slot {
                    slots: Arc::clone(self),
                    conn,
                };
            }
            tokio::select! {
                () = self.freed.notified() => {}
                () = tokio::time::sleep(RECHECK) => {}
            }
        }
    }

    fn try_admit(&self) -> Option<Arc<Conn>> {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if live.len() >= self.max {
            let idlest = live
                .values()
                .filter(|conn| conn.evictable())
                .min_by_key(|conn| conn.last.load(Ordering::Relaxed))
                .map(|conn| conn.id)?;
            if let Some(evicted) = live.remove(&idlest) {
                evicted.evict.notify_one();
                self.metrics.connection_closed(Closed::Evicted);
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new(id, self.epoch));
        live.insert(id, Arc::clone(&conn));
        Some(conn)
    }

    fn release(&self, conn: &Conn) {
        let removed = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&conn.id);
        if removed.is_some() {
            self.freed.notify_one();
        }
        self.metrics.connection_left();
    }
}

/// A connection's place among [`Slots`]; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    conn: Arc<Conn>,
}

impl Slot {
    /// The connection's activity, shared with its requests and its stream.
    pub fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }

    /// Counts a close by the server (an idle deadline passed).
    pub fn closed_idle(&self) {
        self.slots.metrics.connection_closed(Closed::Idle);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.release(&self.conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn slots(max: usize) -> Arc<Slots> {
        Arc::new(Slots::new(max, Arc::new(Metrics::default())))
    }

    fn live(slots: &Slots) -> Vec<u64> {
        let mut ids: Vec<u64> = slots.live.lock().unwrap().keys().copied().collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn a_connection_answering_a_request_is_never_evicted() {
        let slots = slots(1);
        let busy = slots.admit().await;
        busy.conn().begin();
        let waiting = tokio::time::timeout(Duration::from_millis(100), slots.admit()).await;
        assert!(
            waiting.is_err(),
            "admitted while the only connection was mid-request"
        );
        busy.conn().end();
        let admitted = tokio::time::timeout(Duration::from_secs(1), slots.admit())
            .await
            .expect("room once the request is answered");
        assert_eq!(live(&slots), [admitted.conn().id]);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Admit,
        Begin(usize),
        End(usize),
        Leave(usize),
        Tick,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Admit),
            2 => (0..16usize).prop_map(Op::Begin),
            2 => (0..16usize).prop_map(Op::End),
            1 => (0..16usize).prop_map(Op::Leave),
            1 => Just(Op::Tick),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever connections do, at most `max` are open; a full server evicts an idle
        /// connection, the one idle longest, and only when every one is mid-request does a
        /// new connection wait.
        #[test]
        fn the_cap_holds_and_only_the_idlest_idle_connection_is_evicted(
            max in 1..6usize,
            ops in proptest::collection::vec(op(), 1..60),
        ) {
            let slots = slots(max);
            // Open connections with their requests in flight (as the server counts them).
            let mut open: Vec<(Slot, u64)> = Vec::new();
            for op in ops {
                match op {
                    Op::Admit => {
                        let before: Vec<(u64, bool, u64)> = open
                            .iter()
                            .map(|(s, _)| {
                                let c = s.conn();
                                (c.id, c.evictable(), c.last.load(Ordering::Relaxed))
                            })
                            .collect();
                        let admitted = slots.try_admit();
                        let full = before.len() >= max;
                        let all_busy = before.iter().all(|(_, idle, _)| !idle);
                        prop_assert_eq!(admitted.is_none(), full && all_busy);
                        let Some(conn) = admitted else { continue };
                        if full {
                            let now = live(&slots);
                            let gone: Vec<&(u64, bool, u64)> =
                                before.iter().filter(|(id, _, _)| !now.contains(id)).collect();
                            prop_assert_eq!(gone.len(), 1);
                            let (_, idle, last) = *gone[0];
                            prop_assert!(idle, "a busy connection was evicted");
                            let idlest = before.iter().filter(|b| b.1).map(|b| b.2).min();
                            prop_assert_eq!(Some(last), idlest);
                            let gone_id = gone[0].0;
                            // Its task notices and closes: the slot is dropped.
                            open.retain(|(s, _)| s.conn().id != gone_id);
                        }
                        slots.metrics.connection_opened();
                        open.push((Slot { slots: Arc::clone(&slots), conn }, 0));
                    }
                    Op::Begin(i) if !open.is_empty() => {
                        let n = open.len();
                        let (slot, requests) = &mut open[i % n];
                        slot.conn().begin();
                        *requests += 1;
                    }
                    Op::End(i) if !open.is_empty() => {
                        let n = open.len();
                        let (slot, requests) = &mut open[i % n];
                        if *requests > 0 {
                            slot.conn().end();
                            *requests -= 1;
                        }
                    }
                    Op::Leave(i) if !open.is_empty() => {
                        open.remove(i % open.len());
                    }
                    Op::Tick => std::thread::sleep(Duration::from_millis(1)),
                    _ => {}
                }
                prop_assert!(live(&slots).len() <= max);
                prop_assert_eq!(live(&slots).len(), open.len());
            }
        }
    }
}
