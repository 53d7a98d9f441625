//! Optional polite limits for pollers (off by default): token buckets per client and feed.
//!
//! Rules followed:
//!
//! - A request answered `304 Not Modified` is never limited and costs nothing: a reader
//!   that revalidates, however often, is doing what we ask of it.
//! - Every other answer takes a token from a bucket: for a subscription feed, the bucket of
//!   that client and that feed; for any other route, the client's one bucket for all of
//!   them. Buckets hold `rate_limit_per_minute` tokens and refill at that rate.
//! - When the bucket is empty, an unconditional request is refused (`429` with
//!   `Retry-After`, the seconds until a token is back) before any work; a conditional one is
//!   answered, and refused only if the answer is not a `304`.
//! - The client is its address as [`super::client`] finds it, IPv6 addresses grouped by /64.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets are kept in a few shards so that concurrent clients rarely wait on each other.
const SHARDS: usize = 16;
/// Buckets idle this long are forgotten, bounding memory under many addresses.
const FORGET_AFTER: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Which bucket a request draws from: a hash of the client group and, for a feed, its route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketKey(u64);

/// Token buckets refilled at `per_minute / 60` per second, holding at most `per_minute`.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    /// A plain mutex per shard: each critical section is a hash lookup and some arithmetic.
    shards: Vec<Mutex<HashMap<u64, Bucket>>>,
    /// Keys the bucket hashes, so a client cannot aim its keys at one shard.
    hasher: RandomState,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per minute per bucket, in bursts up to that.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute: per_minute.max(1) as f64,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }

    /// The bucket of a client group (see [`super::client::client_group`]) polling `feed`
    /// (a subscription feed's route), or of its requests for anything else (`None`).
    pub fn key(&self, group: IpAddr, feed: Option<&str>) -> BucketKey {
        let mut hasher = self.hasher.build_hasher();
        group.hash(&mut hasher);
        feed.hash(&mut hasher);
        BucketKey(hasher.finish())
    }

    /// `Ok` when the bucket has a token, or `Err(seconds until it has one)`; takes nothing.
    pub fn peek(&self, key: BucketKey, now: Instant) -> Result<(), u64> {
        self.with_bucket(key, now, |bucket, rate| {
            if bucket.tokens >= 1.0 {
                Ok(())
            } else {
                Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
            }
        })
    }

    /// Takes a token for an answer that was not a `304`.
    pub fn take(&self, key: BucketKey, now: Instant) {
        self.with_bucket(key, now, |bucket, _| {
            bucket.tokens = (bucket.tokens - 1.0).max(0.0)
        });
    }

    /// `Ok` and a token taken, or `Err(seconds to wait)`.
    pub fn check(&self, key: BucketKey, now: Instant) -> Result<(), u64> {
        self.peek(key, now)?;
        self.take(key, now);
        Ok(())
    }

    /// Runs `f` on the bucket of `key`, refilled up to `now`.
    fn with_bucket<T>(
        &self,
        key: BucketKey,
        now: Instant,
        f: impl FnOnce(&mut Bucket, f64) -> T,
    ) -> T {
        let shard = (key.0 % SHARDS as u64) as usize;
        let mut buckets = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| now.saturating_duration_since(b.updated) < FORGET_AFTER);
        }
        let rate = self.per_minute / 60.0;
        let bucket = buckets.entry(key.0).or_insert(Bucket {
            tokens: self.per_minute,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(self.per_minute);
        bucket.updated = bucket.updated.max(now);
        f(bucket, rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn bursts_then_refuses_then_refills() {
        let limiter = RateLimiter::new(3);
        let a = limiter.key(ip("127.0.0.1"), None);
        let b = limiter.key(ip("127.0.0.2"), None);
        let t = Instant::now();
        assert!(limiter.check(a, t).is_ok());
        assert!(limiter.check(a, t).is_ok());
        assert!(limiter.check(a, t).is_ok());
        let wait = limiter.check(a, t).unwrap_err();
        assert_eq!(wait, 20);
        assert!(
            limiter.check(b, t).is_ok(),
            "another client is not affected"
        );
        assert!(limiter.check(a, t + Duration::from_secs(20)).is_ok());
    }

    #[test]
    fn each_feed_of_a_client_has_its_own_bucket() {
        let limiter = RateLimiter::new(1);
        let client = ip("192.0.2.1");
        let t = Instant::now();
        let atom = limiter.key(client, Some("atom.xml"));
        let rss = limiter.key(client, Some("feed.xml"));
        assert!(limiter.check(atom, t).is_ok());
        assert!(limiter.check(atom, t).is_err());
        assert!(
            limiter.check(rss, t).is_ok(),
            "another feed is not affected"
        );
        assert!(limiter.peek(limiter.key(client, None), t).is_ok());
    }

    #[test]
    fn peeking_takes_nothing() {
        let limiter = RateLimiter::new(1);
        let key = limiter.key(ip("192.0.2.1"), None);
        let t = Instant::now();
        for _ in 0..5 {
            assert!(limiter.peek(key, t).is_ok());
        }
        limiter.take(key, t);
        assert_eq!(limiter.peek(key, t), Err(60));
    }
}
