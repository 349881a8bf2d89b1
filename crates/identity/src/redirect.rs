//! Redirect-URI matching: exact string comparison, with the one exception RFC 8252 §7.3
//! makes for native apps: a registered loopback URI without port matches any port.

use url::Url;

/// Whether the requested redirect URI is allowed by the registered one.
pub fn matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(reg), Ok(req)) = (Url::parse(registered), Url::parse(requested)) else {
        return false;
    };
    let loopback =
        |u: &Url| u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1") | Some("[::1]"));
    // Only a registration without port opens the port; everything else must be equal as
    // written (the parsed comparison must not normalise away differences, so compare the
    // serialisation of the request with the port removed against the registration).
    if !loopback(&reg) || reg.port().is_some() || !loopback(&req) || req.port().is_none() {
        return false;
    }
    let mut without_port = req.clone();
    if without_port.set_port(None).is_err() {
        return false;
    }
    without_port.as_str() == reg.as_str()
        && requested.len() > without_port.as_str().len()
        && requested_string_is_canonical(requested, &req)
}

/// The requested URI must be written exactly as its parsed form (no case, dot-segment or
/// percent-encoding tricks).
fn requested_string_is_canonical(requested: &str, parsed: &Url) -> bool {
    parsed.as_str() == requested
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn exact_match_only() {
        let reg = "https://app.example.org/callback";
        assert!(matches(reg, reg));
        assert!(!matches(reg, "https://app.example.org/callbacK"));
        assert!(!matches(reg, "https://app.example.org/callback/"));
        assert!(!matches(reg, "https://app.example.org/callback?x=1"));
        assert!(!matches(reg, "https://app.example.org:443/callback"));
        assert!(!matches(reg, "https://app.example.org:8443/callback"));
    }

    #[test]
    fn loopback_any_port() {
        let reg = "http://127.0.0.1/callback";
        assert!(matches(reg, "http://127.0.0.1:43123/callback"));
        assert!(matches(reg, "http://127.0.0.1/callback"));
        assert!(!matches(reg, "http://127.0.0.1:43123/callbacks"));
        assert!(!matches(reg, "http://127.0.0.1:43123/Callback"));
        assert!(!matches(reg, "http://localhost:43123/callback"));
        assert!(!matches(reg, "http://127.0.0.1:43123/x/../callback"));
        assert!(!matches(reg, "https://127.0.0.1:43123/callback"));
        assert!(!matches(
            "http://127.0.0.1:8080/callback",
            "http://127.0.0.1:8081/callback"
        ));
    }
}
