//! Trigger targets: a Lambda function's ARN, or a webhook URL: `https://` to a public
//! address; with the development flag `--trigger-allow-private`, also loopback and
//! private hosts, over plain `http://` too (security matrix WH-03).

use std::net::IpAddr;

/// Where a trigger goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// A Lambda function, by name, with its version or alias if the ARN names one,
    /// and the ARN's region.
    Lambda {
        function: String,
        qualifier: Option<String>,
        region: String,
    },
    Webhook(url::Url),
}

impl Target {
    /// Parses a target as `LambdaConfig` names it; `allow_private` is the development
    /// flag. A webhook to a literal loopback, private, link-local or metadata address,
    /// or to `localhost`, is refused here; names are checked again when resolved.
    pub fn parse(text: &str, allow_private: bool) -> Result<Target, String> {
        if let Some(rest) = text.strip_prefix("arn:") {
            // arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
            let parts: Vec<&str> = rest.split(':').collect();
            let ok_name = |n: &str| {
                !n.is_empty()
                    && n.len() <= 140
                    && n.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            };
            let ok_region = |r: &str| {
                !r.is_empty()
                    && r.len() <= 32
                    && r.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            };
            return match parts.as_slice() {
                [_, "lambda", region, _, "function", name]
                    if ok_name(name) && ok_region(region) =>
                {
                    Ok(Target::Lambda {
                        function: name.to_string(),
                        qualifier: None,
                        region: region.to_string(),
                    })
                }
                [_, "lambda", region, _, "function", name, q]
                    if ok_name(name) && ok_region(region) && ok_name(&q.replace('$', "")) =>
                {
                    Ok(Target::Lambda {
                        function: name.to_string(),
                        qualifier: Some(q.to_string()),
                        region: region.to_string(),
                    })
                }
                _ => Err(format!("{text:?} is not a Lambda function ARN")),
            };
        }
        let url = url::Url::parse(text)
            .map_err(|_| format!("{text:?} is neither a Lambda ARN nor an https URL"))?;
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(format!("{text:?} may not carry credentials or a fragment"));
        }
        if url.host().is_none() || !["https", "http"].contains(&url.scheme()) {
            return Err(format!("{text:?} is neither a Lambda ARN nor an https URL"));
        }
        if let Some(ip) = literal_ip(&url)
            && crate::net_guard::is_refused(ip, allow_private)
        {
            return Err(format!(
                "{text:?}: webhooks may not go to loopback, private, link-local or metadata addresses"
            ));
        }
        if !allow_private && is_loopback(&url) {
            return Err(format!(
                "{text:?}: webhooks may not go to loopback, private, link-local or metadata addresses"
            ));
        }
        if url.scheme() == "http" && !(allow_private && is_private(&url)) {
            return Err(format!(
                "{text:?}: plain http is allowed only for loopback and private hosts with --trigger-allow-private; use https"
            ));
        }
        Ok(Target::Webhook(url))
    }
}

/// The URL's host if it is an IP address.
pub fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => crate::net_guard::is_loopback_name(d),
        Some(_) => literal_ip(url).is_some_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// A loopback name, or a literal address refused without the development flag.
fn is_private(url: &url::Url) -> bool {
    is_loopback(url) || literal_ip(url).is_some_and(|ip| crate::net_guard::is_refused(ip, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Matrix: WH-03
    #[test]
    fn arns_urls_and_loopback_http_are_targets_and_nothing_else() {
        assert_eq!(
            Target::parse(
                "arn:aws:lambda:us-east-1:123456789012:function:pre-signup",
                false
            )
            .unwrap(),
            Target::Lambda {
                function: "pre-signup".into(),
                qualifier: None,
                region: "us-east-1".into(),
            }
        );
        assert!(matches!(
            Target::parse(
                "arn:aws:lambda:us-east-1:123456789012:function:f:live",
                false
            ),
            Ok(Target::Lambda {
                qualifier: Some(_),
                ..
            })
        ));
        assert!(Target::parse("https://hooks.example.com/cognito", false).is_ok());
        assert!(Target::parse("https://93.184.216.34/cognito", false).is_ok());
        // The development flag: loopback and private hosts, plain http too.
        for ok in [
            "http://127.0.0.1:8080/hook",
            "http://[::1]:8080/hook",
            "http://localhost:8080/hook",
            "https://10.1.2.3/hook",
        ] {
            assert!(Target::parse(ok, true).is_ok(), "{ok}");
        }
        for bad in [
            "http://hooks.example.com/x",
            "ftp://x/",
            "arn:aws:s3:::bucket",
            "https://user:pw@example.com/",
            "not a target",
        ] {
            assert!(Target::parse(bad, true).is_err(), "{bad}");
        }
        // Without the flag, loopback, private and metadata hosts, in
        // every spelling, and plain http are refused when configured.
        for bad in [
            "http://127.0.0.1:8080/hook",
            "https://127.0.0.1/hook",
            "https://[::1]/hook",
            "https://localhost/hook",
            "https://api.localhost/hook",
            "https://0.0.0.0/hook",
            "https://2130706433/hook",
            "https://0x7f.1/hook",
            "https://10.0.0.1/hook",
            "https://172.16.5.4/hook",
            "https://192.168.0.1/hook",
            "https://100.64.0.1/hook",
            "https://[fd00::1]/hook",
            "https://169.254.169.254/latest/meta-data/",
            "https://[fe80::1]/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://[::ffff:a9fe:a9fe]/hook",
            "http://hooks.example.com/x",
        ] {
            assert!(Target::parse(bad, false).is_err(), "{bad}");
        }
        // Metadata stays refused even with the flag.
        assert!(Target::parse("http://169.254.169.254/", true).is_err());
    }
}
