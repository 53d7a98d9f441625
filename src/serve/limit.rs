//! Optional per-client rate limiting (off by default): a token bucket per client address.
//! Over-eager pollers get `429 Too Many Requests` with `Retry-After`.

use std::collections::HashMap;
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

/// Token buckets refilled at `per_minute / 60` per second, holding at most `per_minute`.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    /// A plain mutex per shard: each critical section is a hash lookup and some arithmetic.
    shards: Vec<Mutex<HashMap<IpAddr, Bucket>>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per minute per address, in bursts up to that.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute: per_minute.max(1) as f64,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// `Ok` to serve, or `Err(seconds to wait)`.
    pub fn check(&self, addr: IpAddr, now: Instant) -> Result<(), u64> {
        let shard = match addr {
            IpAddr::V4(a) => a.octets()[3] as usize,
            IpAddr::V6(a) => a.octets()[15] as usize,
        } % SHARDS;
        let mut buckets = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| now.duration_since(b.updated) < FORGET_AFTER);
        }
        let rate = self.per_minute / 60.0;
        let bucket = buckets.entry(addr).or_insert(Bucket {
            tokens: self.per_minute,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(self.per_minute);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refuses_then_refills() {
        let limiter = RateLimiter::new(3);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
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
}
