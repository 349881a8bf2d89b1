//! Rate limits for anonymous writes (public forms) per client address, and per sending client
//! (a principal or an address, as a text key) for E-Rechnung reception.
//!
//! In-process (per app node) keyed token buckets from `governor`. Behind a reverse proxy set
//! `http.trust_forwarded_for` so the client address is taken from the `X-Forwarded-For` entry the
//! proxy appended (the last one); otherwise that header is ignored, as a client could forge it.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// A per-address limiter.
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    trust_forwarded_for: bool,
}

impl Limiter {
    /// `per_minute` requests per address and minute (bursts up to that many); 0 disables the limit.
    pub fn new(per_minute: u32, trust_forwarded_for: bool) -> Option<Self> {
        let n = NonZeroU32::new(per_minute)?;
        Some(Self {
            inner: Arc::new(RateLimiter::keyed(Quota::per_minute(n))),
            trust_forwarded_for,
        })
    }

    /// The client address of a request.
    pub fn client(&self, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
        client_address(headers, peer, self.trust_forwarded_for)
    }

    /// `Ok` if the request may proceed, else how long to wait.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        check_keyed(&self.inner, &client)
    }
}

/// Takes one token of `key`'s bucket, or says how long to wait for it.
fn check_keyed<K>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Duration>
where
    K: Clone + Eq + std::hash::Hash,
{
    limiter.check_key(key).map_err(|not_until| {
        not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ))
    })?;
    // Forget idle keys now and then so the map stays small.
    if limiter.len() > 10_000 {
        limiter.retain_recent();
    }
    Ok(())
}

/// The client address of a request: the last `X-Forwarded-For` entry when `trust_forwarded_for`
/// (behind a reverse proxy), else the peer.
pub fn client_address(headers: &HeaderMap, peer: SocketAddr, trust_forwarded_for: bool) -> IpAddr {
    if trust_forwarded_for
        && let Some(ip) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back()
    {
        return ip;
    }
    peer.ip()
}

/// A limiter per text key (`staff:koeln/kasse`, `konto:…`, `ip:192.0.2.1`): one bucket per
/// sending client, whoever it is.
#[derive(Clone)]
pub struct KeyLimiter {
    inner: Arc<DefaultKeyedRateLimiter<String>>,
    per_minute: u32,
}

impl KeyLimiter {
    /// `per_minute` requests per key and minute (bursts up to that many); 0 disables the limit.
    pub fn new(per_minute: u32) -> Option<Self> {
        let n = NonZeroU32::new(per_minute)?;
        Some(Self {
            inner: Arc::new(RateLimiter::keyed(Quota::per_minute(n))),
            per_minute,
        })
    }

    /// The configured number per minute.
    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// `Ok` if `key` may proceed, else how long to wait.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        check_keyed(&self.inner, &key.to_owned())
    }
}

/// How long the client must wait if `limiter` (when there is one) refuses this request.
pub fn refused(
    limiter: Option<&Limiter>,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Option<Duration> {
    let limiter = limiter?;
    limiter.check(limiter.client(headers, peer)).err()
}

/// `res` (a 429 answer) with `Retry-After` in whole seconds.
pub fn with_retry_after(mut res: Response, wait: Duration) -> Response {
    if let Ok(v) = HeaderValue::from_str(&(wait.as_secs() + 1).to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address_and_trusts_proxy_only_when_told() {
        let l = Limiter::new(2, false).unwrap();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(l.check(a).is_ok() && l.check(a).is_ok());
        assert!(
            l.check(a).is_err(),
            "third request in the minute is refused"
        );
        assert!(l.check(b).is_ok(), "other addresses are not affected");

        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        assert_eq!(
            l.client(&h, peer),
            peer.ip(),
            "header ignored unless trusted"
        );
        let trusting = Limiter::new(2, true).unwrap();
        assert_eq!(
            trusting.client(&h, peer),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert!(Limiter::new(0, false).is_none());
    }

    #[test]
    fn key_limiter_counts_per_key() {
        let l = KeyLimiter::new(1).unwrap();
        assert!(l.check("staff:koeln/a").is_ok());
        assert!(l.check("staff:koeln/a").is_err());
        assert!(l.check("ip:192.0.2.1").is_ok());
        assert!(KeyLimiter::new(0).is_none());
    }
}
