//! Short-lived values signed for a round trip through the browser (form fields, cookies).

use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Seals and opens `value|expiry|mac` strings for a purpose.
#[derive(Clone)]
pub struct Sealer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// A sealer with a secret key (the same on every node).
    pub fn new(key: Vec<u8>) -> Self {
        Self { key }
    }

    /// Seals `value` for `purpose`, valid for `valid_for`.
    pub fn seal(&self, purpose: &str, value: &str, valid_for: Duration) -> String {
        let exp = (Utc::now() + valid_for).timestamp();
        let payload = format!("{value}|{exp}");
        let mac = self.mac(purpose, &payload);
        format!("{payload}|{mac}")
    }

    /// The value if `sealed` was sealed for `purpose` and has not expired.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<String> {
        let (payload, mac) = sealed.rsplit_once('|')?;
        if !crate::tokens::constant_time_eq(&self.mac(purpose, payload), mac) {
            return None;
        }
        let (value, exp) = payload.rsplit_once('|')?;
        (exp.parse::<i64>().ok()? > Utc::now().timestamp()).then(|| value.to_owned())
    }

    fn mac(&self, purpose: &str, payload: &str) -> String {
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC accepts any key length");
        m.update(purpose.as_bytes());
        m.update(b"\0");
        m.update(payload.as_bytes());
        hex::encode(m.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_purpose_unchanged_and_in_time() {
        let s = Sealer::new(vec![1; 32]);
        let v = s.seal("a", "x|y", Duration::minutes(1));
        assert_eq!(s.open("a", &v).as_deref(), Some("x|y"));
        assert_eq!(s.open("b", &v), None);
        assert_eq!(s.open("a", &v.replace("x|y", "z|y")), None);
        assert_eq!(s.open("a", &s.seal("a", "x", Duration::seconds(-1))), None);
        assert_eq!(Sealer::new(vec![2; 32]).open("a", &v), None);
    }
}
