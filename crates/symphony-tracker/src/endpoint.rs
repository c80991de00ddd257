//! The one rule every adapter applies to a provider URL it sends a credential to: `https`,
//! or plain `http` to a loopback host only (a fake, a local proxy) — a credential must never
//! cross a network in clear text.

/// Checks `url`, the value of provider key `key`; the error names the key and the fix.
pub fn check_endpoint(key: &str, url: &str) -> Result<(), String> {
    let parsed: http::Uri = url
        .parse()
        .map_err(|e| format!("`{key}` {url:?} is not a URL: {e}"))?;
    let host = parsed.host().unwrap_or_default();
    match parsed.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if is_loopback(host) => Ok(()),
        Some("http") => Err(format!(
            "`{key}` {url:?} uses plain http for a non-loopback host; use https"
        )),
        _ => Err(format!("`{key}` {url:?} must be an https URL")),
    }
}

/// `localhost` or a loopback address (IPv6 in brackets or not).
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        for good in [
            "https://api.linear.app/graphql",
            "http://127.0.0.1:8080/graphql",
            "http://localhost/api",
            "http://[::1]:9/x",
        ] {
            assert_eq!(check_endpoint("endpoint", good), Ok(()), "{good}");
        }
        for (bad, says) in [
            ("http://api.example.com", "plain http"),
            ("ftp://example.com", "must be an https URL"),
            ("not a url", "is not a URL"),
            ("https://", "is not a URL"),
        ] {
            let error = check_endpoint("api_url", bad).unwrap_err();
            assert!(
                error.contains(says) && error.contains("`api_url`"),
                "{bad}: {error}"
            );
        }
    }
}
