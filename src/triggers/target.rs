//! Trigger targets: a Lambda function's ARN, or a webhook URL (`https://`, or
//! `http://` to a loopback host).

use std::net::IpAddr;

/// Where a trigger goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// A Lambda function, by name, with its version or alias if the ARN names one.
    Lambda {
        function: String,
        qualifier: Option<String>,
    },
    Webhook(url::Url),
}

impl Target {
    /// Parses a target as `LambdaConfig` names it.
    pub fn parse(text: &str) -> Result<Target, String> {
        if let Some(rest) = text.strip_prefix("arn:") {
            // arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
            let parts: Vec<&str> = rest.split(':').collect();
            let ok_name = |n: &str| {
                !n.is_empty()
                    && n.len() <= 140
                    && n.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            };
            return match parts.as_slice() {
                [_, "lambda", _, _, "function", name] if ok_name(name) => Ok(Target::Lambda {
                    function: name.to_string(),
                    qualifier: None,
                }),
                [_, "lambda", _, _, "function", name, q]
                    if ok_name(name) && ok_name(&q.replace('$', "")) =>
                {
                    Ok(Target::Lambda {
                        function: name.to_string(),
                        qualifier: Some(q.to_string()),
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
        match url.scheme() {
            "https" if url.host().is_some() => Ok(Target::Webhook(url)),
            "http" if is_loopback(&url) => Ok(Target::Webhook(url)),
            "http" => Err(format!(
                "{text:?}: plain http is allowed only for loopback hosts; use https"
            )),
            _ => Err(format!("{text:?} is neither a Lambda ARN nor an https URL")),
        }
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
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(_) => literal_ip(url).is_some_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_urls_and_loopback_http_are_targets_and_nothing_else() {
        assert_eq!(
            Target::parse("arn:aws:lambda:us-east-1:123456789012:function:pre-signup").unwrap(),
            Target::Lambda {
                function: "pre-signup".into(),
                qualifier: None
            }
        );
        assert!(matches!(
            Target::parse("arn:aws:lambda:us-east-1:123456789012:function:f:live"),
            Ok(Target::Lambda {
                qualifier: Some(_),
                ..
            })
        ));
        assert!(Target::parse("https://hooks.example.com/cognito").is_ok());
        assert!(Target::parse("http://127.0.0.1:8080/hook").is_ok());
        assert!(Target::parse("http://[::1]:8080/hook").is_ok());
        for bad in [
            "http://hooks.example.com/x",
            "ftp://x/",
            "arn:aws:s3:::bucket",
            "https://user:pw@example.com/",
            "not a target",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
