//! CSRF protection for HTML forms: signed double-submit tokens.
//!
//! A page with a form reuses or sets the cookie `rathaus_csrf` (HttpOnly, SameSite=Lax) holding
//! `nonce.hmac(nonce)` and puts the same value into a hidden field. A POST is accepted only if
//! field and cookie are equal and the signature is ours, so a foreign site can neither read nor
//! forge the pair. API calls with bearer tokens are not cookie-authenticated and need no token.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Name of the cookie and of the hidden form field.
pub const FIELD: &str = "csrf";
const COOKIE: &str = "rathaus_csrf";

fn sign(secret: &[u8], nonce: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(nonce.as_bytes());
    URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
}

fn valid(secret: &[u8], token: &str) -> bool {
    let Some((nonce, sig)) = token.split_once('.') else {
        return false;
    };
    let expected = sign(secret, nonce);
    constant_time_eq(expected.as_bytes(), sig.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// The value of the cookie `name` in the request, if sent.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The token for a form, and the `Set-Cookie` header to send if the browser has none yet.
pub fn token(headers: &HeaderMap, secret: &[u8], secure: bool) -> (String, Option<HeaderValue>) {
    if let Some(existing) = cookie_value(headers).filter(|t| valid(secret, t)) {
        return (existing, None);
    }
    let mut raw = [0u8; 18];
    rand::rng().fill_bytes(&mut raw);
    let nonce = URL_SAFE_NO_PAD.encode(raw);
    let token = format!("{nonce}.{}", sign(secret, &nonce));
    let cookie = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    );
    (token, HeaderValue::from_str(&cookie).ok())
}

/// Checks a submitted form token against the cookie.
pub fn verify(headers: &HeaderMap, submitted: &str, secret: &[u8]) -> bool {
    match cookie_value(headers) {
        Some(cookie) => {
            valid(secret, &cookie) && constant_time_eq(cookie.as_bytes(), submitted.as_bytes())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {COOKIE}={v}")).unwrap(),
        );
        h
    }

    #[test]
    fn roundtrip_and_forgery() {
        let secret = [7u8; 32];
        let (t, set) = token(&HeaderMap::new(), &secret, false);
        assert!(set.unwrap().to_str().unwrap().contains("HttpOnly"));
        let h = with_cookie(&t);
        assert!(verify(&h, &t, &secret));
        let (again, set) = token(&h, &secret, false);
        assert_eq!(
            (again.as_str(), set),
            (t.as_str(), None),
            "existing cookie is reused"
        );
        assert!(!verify(&h, "x.y", &secret), "field must equal cookie");
        assert!(
            !verify(&HeaderMap::new(), &t, &secret),
            "no cookie, no post"
        );
        // A cookie planted by an attacker (not signed by us) is refused even if the field matches.
        let forged = "abc.def";
        assert!(!verify(&with_cookie(forged), forged, &secret));
        assert!(!verify(&h, &t, &[8u8; 32]), "other secret");
    }
}
