//! Rendering a message: the default askama templates in `templates/mail/<kind>/`
//! (`subject.txt`, `body.txt`, `body.html`), or a pool's own subject and message with
//! Cognito's placeholders, `{####}` for the code and `{username}` for the username
//! (Cognito `VerificationMessageTemplate` and `InviteMessageTemplate`).

use askama::Template;

use super::{MessageKind, Outgoing, Rendered};
pub use crate::model::pool::{MessageTemplates, Override};

/// Where an override puts the code (or temporary password).
pub const CODE_PLACEHOLDER: &str = "{####}";
/// Where an override puts the username.
pub const USERNAME_PLACEHOLDER: &str = "{username}";
/// Where a custom message trigger's message puts the one-click link (Cognito's
/// `linkParameter`).
pub const LINK_PLACEHOLDER: &str = "{##Click Here##}";

/// What a custom message trigger put in place of the pool's subject or message
/// (Cognito's `emailSubject` and `emailMessage`), placeholders still in it; `None`
/// keeps the pool's own.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Custom {
    pub subject: Option<String>,
    pub message: Option<String>,
}

impl MessageTemplates {
    /// The override for `kind`, if the pool has one.
    pub fn get(&self, kind: MessageKind) -> Option<&Override> {
        match kind {
            MessageKind::Verification => self.verification.as_ref(),
            MessageKind::Reset => self.reset.as_ref(),
            MessageKind::TemporaryPassword => self.temporary_password.as_ref(),
            MessageKind::Mfa => self.mfa.as_ref(),
        }
    }

    /// Checks every override with Cognito's rules, so a pool cannot be set up to send
    /// messages without the code.
    pub fn check(&self) -> Result<(), String> {
        for kind in [
            MessageKind::Verification,
            MessageKind::Reset,
            MessageKind::TemporaryPassword,
            MessageKind::Mfa,
        ] {
            if let Some(o) = self.get(kind) {
                o.check(kind)
                    .map_err(|e| format!("{} message: {e}", kind.as_str()))?;
            }
        }
        Ok(())
    }
}

impl Override {
    /// Cognito's limits: a subject of 1 to 140 characters, a message of at most 20,000
    /// characters with `{####}`, and for an invitation also `{username}`.
    pub fn check(&self, kind: MessageKind) -> Result<(), String> {
        let subject_len = self.subject.trim().chars().count();
        if !(1..=140).contains(&subject_len) {
            return Err("the subject must be 1 to 140 characters".into());
        }
        if self.body.chars().count() > 20_000 {
            return Err("the message must be at most 20,000 characters".into());
        }
        if !self.body.contains(CODE_PLACEHOLDER) {
            return Err(format!("the message must contain {CODE_PLACEHOLDER}"));
        }
        if kind == MessageKind::TemporaryPassword && !self.body.contains(USERNAME_PLACEHOLDER) {
            return Err(format!("the message must contain {USERNAME_PLACEHOLDER}"));
        }
        Ok(())
    }
}

/// Renders a message from the pool's override for its kind, or else from the default
/// templates. An override that fails [`Override::check`] (settings written by hand)
/// is ignored rather than sending a message without its code.
pub fn render(msg: &Outgoing<'_>, templates: &MessageTemplates) -> Rendered {
    match templates.get(msg.kind) {
        Some(o) if o.check(msg.kind).is_ok() => render_override(msg, o),
        Some(_) => {
            tracing::warn!(
                pool_id = msg.pool_id,
                kind = msg.kind.as_str(),
                "the pool's message template is invalid; the default is used"
            );
            render_default(msg)
        }
        None => render_default(msg),
    }
}

/// Renders a message as [`render`] does, then puts a custom message trigger's subject
/// and message in place of the pool's. As on Cognito, the message is the mail's HTML
/// (a handler brands its mails with it): `{####}` and `{username}` are filled in one
/// pass, the username escaped, and `{##Click Here##}` becomes the one-click link when
/// the message has one. The text part is the same message with its tags removed.
pub fn render_custom(
    msg: &Outgoing<'_>,
    templates: &MessageTemplates,
    custom: &Custom,
) -> Rendered {
    let base = render(msg, templates);
    let subject = custom
        .subject
        .as_deref()
        .map(one_line)
        .filter(|s| !s.is_empty())
        .unwrap_or(base.subject);
    let Some(message) = &custom.message else {
        return Rendered { subject, ..base };
    };
    let mut html = fill(message, &escape_attribute(msg.username), msg.code);
    let mut text = fill(&without_tags(message), msg.username, msg.code);
    if let Some(link) = msg.link {
        let href = escape_attribute(link);
        if message.contains(LINK_PLACEHOLDER) {
            html = html.replace(
                LINK_PLACEHOLDER,
                &format!("<a href=\"{href}\">Click Here</a>"),
            );
            text = text.replace(LINK_PLACEHOLDER, link);
        } else {
            html.push_str(&format!(
                "<p><a href=\"{href}\">Confirm with one click</a></p>"
            ));
            text.push_str(&format!("\n\nOr confirm with one click: {link}"));
        }
    }
    Rendered {
        subject,
        text,
        html,
    }
}

/// An HTML message as plain text: tags removed (line and paragraph breaks kept as
/// line breaks), the common entities decoded.
fn without_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            rest = &rest[start..];
            break;
        };
        let tag = rest[start + 1..start + end].to_ascii_lowercase();
        if tag.starts_with("br") || tag.starts_with("/p") || tag.starts_with("/div") {
            out.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Escapes a URL for an HTML attribute, as askama escapes (`&`, `<`, `>`, `"`, `'`).
fn escape_attribute(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// Declares one askama struct per default template file; each sees the same values.
macro_rules! mail_templates {
    ($($name:ident => $path:tt,)*) => {$(
        #[derive(Template)]
        #[template(path = $path)]
        // `allow`, not `expect`: whether a value goes unread depends on the template
        // (subjects use none, only verification uses the link), and a template may change.
        #[allow(dead_code, reason = "a template may leave a value unused")]
        struct $name<'a> {
            username: &'a str,
            code: &'a str,
            link: Option<&'a str>,
        }
    )*};
}

mail_templates! {
    VerificationSubject => "mail/verification/subject.txt",
    VerificationText => "mail/verification/body.txt",
    VerificationHtml => "mail/verification/body.html",
    ResetSubject => "mail/reset/subject.txt",
    ResetText => "mail/reset/body.txt",
    ResetHtml => "mail/reset/body.html",
    TemporaryPasswordSubject => "mail/temporary_password/subject.txt",
    TemporaryPasswordText => "mail/temporary_password/body.txt",
    TemporaryPasswordHtml => "mail/temporary_password/body.html",
    MfaSubject => "mail/mfa/subject.txt",
    MfaText => "mail/mfa/body.txt",
    MfaHtml => "mail/mfa/body.html",
}

/// The HTML part of an overridden message.
#[derive(Template)]
#[template(path = "mail/override.html")]
struct OverrideHtml<'a> {
    subject: &'a str,
    body: &'a str,
    link: Option<&'a str>,
}

fn render_default(msg: &Outgoing<'_>) -> Rendered {
    macro_rules! fill {
        ($subject:ident, $text:ident, $html:ident) => {{
            let (username, code, link) = (msg.username, msg.code, msg.link);
            Rendered {
                subject: one_line(&finish(
                    $subject {
                        username,
                        code,
                        link,
                    }
                    .render(),
                )),
                text: finish(
                    $text {
                        username,
                        code,
                        link,
                    }
                    .render(),
                ),
                html: finish(
                    $html {
                        username,
                        code,
                        link,
                    }
                    .render(),
                ),
            }
        }};
    }
    match msg.kind {
        MessageKind::Verification => {
            fill!(VerificationSubject, VerificationText, VerificationHtml)
        }
        MessageKind::Reset => fill!(ResetSubject, ResetText, ResetHtml),
        MessageKind::TemporaryPassword => fill!(
            TemporaryPasswordSubject,
            TemporaryPasswordText,
            TemporaryPasswordHtml
        ),
        MessageKind::Mfa => fill!(MfaSubject, MfaText, MfaHtml),
    }
}

fn render_override(msg: &Outgoing<'_>, o: &Override) -> Rendered {
    let subject = one_line(&fill(&o.subject, msg.username, msg.code));
    let body = fill(&o.body, msg.username, msg.code);
    let html = finish(
        OverrideHtml {
            subject: &subject,
            body: &body,
            link: msg.link,
        }
        .render(),
    );
    let mut text = body;
    if let Some(link) = msg.link {
        // Overrides have no placeholder for the link, and the flow may rely on it.
        text.push_str(&format!("\n\nOr confirm with one click: {link}"));
    }
    Rendered {
        subject,
        text,
        html,
    }
}

/// Replaces the placeholders in one pass over the template, so a username that
/// contains `{####}` stays as it is.
fn fill(template: &str, username: &str, code: &str) -> String {
    template
        .split(CODE_PLACEHOLDER)
        .map(|part| part.replace(USERNAME_PLACEHOLDER, username))
        .collect::<Vec<_>>()
        .join(code)
}

/// A subject is one line: control characters (line breaks above all) become spaces.
fn one_line(s: &str) -> String {
    s.split(char::is_control)
        .filter(|part| !part.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The templates take only strings and use no fallible filter, and a `String` never
/// refuses a write, so rendering cannot fail.
fn finish(rendered: askama::Result<String>) -> String {
    rendered.expect("mail templates render infallibly")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(kind: MessageKind, username: &'static str) -> Outgoing<'static> {
        Outgoing {
            pool_id: "us-east-1_test",
            to: "alice@example.com",
            kind,
            username,
            code: "123456",
            link: None,
        }
    }

    #[test]
    fn default_templates_carry_the_code_and_username() {
        for kind in [
            MessageKind::Verification,
            MessageKind::Reset,
            MessageKind::TemporaryPassword,
        ] {
            let r = render(&outgoing(kind, "alice"), &MessageTemplates::default());
            assert!(!r.subject.is_empty() && !r.subject.contains('\n'), "{r:?}");
            assert!(
                r.text.contains("123456") && r.text.contains("alice"),
                "{r:?}"
            );
            assert!(
                r.html.contains("123456") && r.html.contains("alice"),
                "{r:?}"
            );
            assert!(r.html.starts_with("<!doctype html>"), "{}", r.html);
        }
        let r = render(
            &outgoing(MessageKind::Reset, "alice"),
            &MessageTemplates::default(),
        );
        assert_eq!(r.subject, "Your password reset code");
    }

    #[test]
    fn the_verification_link_appears_only_when_given() {
        let mut msg = outgoing(MessageKind::Verification, "alice");
        let plain = render(&msg, &MessageTemplates::default());
        assert!(!plain.text.contains("one click"), "{}", plain.text);
        msg.link = Some("https://id.example.com/confirm?code=1&u=a");
        let linked = render(&msg, &MessageTemplates::default());
        assert!(
            linked
                .text
                .contains("https://id.example.com/confirm?code=1&u=a"),
            "{}",
            linked.text
        );
        assert!(
            linked
                .html
                .contains("href=\"https://id.example.com/confirm?code=1&#38;u=a\""),
            "{}",
            linked.html
        );
    }

    #[test]
    fn html_escapes_the_username_and_text_keeps_it() {
        let r = render(
            &outgoing(MessageKind::Verification, "<b>bob</b>"),
            &MessageTemplates::default(),
        );
        assert!(!r.html.contains("<b>"), "{}", r.html);
        assert!(r.html.contains("&#60;b&#62;bob"), "{}", r.html);
        assert!(r.text.contains("Hello <b>bob</b>,"), "{}", r.text);
    }

    #[test]
    fn a_pool_override_fills_cognitos_placeholders() {
        let templates = MessageTemplates {
            reset: Some(Override {
                subject: "Reset for {username}\nnow".into(),
                body: "Hi {username},\nyour code: {####}\n& that's it".into(),
            }),
            ..MessageTemplates::default()
        };
        let r = render(&outgoing(MessageKind::Reset, "<b>"), &templates);
        assert_eq!(r.subject, "Reset for <b> now");
        assert_eq!(r.text, "Hi <b>,\nyour code: 123456\n& that's it");
        assert!(
            r.html
                .contains("Hi &#60;b&#62;,<br/>your code: 123456<br/>&#38; that&#39;s it"),
            "{}",
            r.html
        );
        // Other kinds keep the defaults.
        let v = render(&outgoing(MessageKind::Verification, "bob"), &templates);
        assert_eq!(v.subject, "Your verification code");
    }

    #[test]
    fn a_custom_message_replaces_the_pools_and_puts_the_link_where_it_says() {
        let mut msg = outgoing(MessageKind::Verification, "<b>");
        msg.link = Some("https://id.example.com/confirm?t=1&u=a");
        let custom = Custom {
            subject: Some("Welcome\nto Acme".into()),
            message: Some("<p>Hi {username}: <b>{####}</b><br>{##Click Here##}</p>".into()),
        };
        let r = render_custom(&msg, &MessageTemplates::default(), &custom);
        assert_eq!(r.subject, "Welcome to Acme");
        assert_eq!(
            r.text,
            "Hi <b>: 123456\nhttps://id.example.com/confirm?t=1&u=a\n"
        );
        // The message is the HTML part as the handler wrote it; the username escaped.
        assert_eq!(
            r.html,
            "<p>Hi &#60;b&#62;: <b>123456</b><br><a href=\"https://id.example.com/confirm?t=1&#38;u=a\">Click Here</a></p>"
        );
        // The link is not added a second time below the message.
        assert!(!r.html.contains("Confirm with one click"), "{}", r.html);
        // Without a message, the pool's (here the default) body stays, under the new subject.
        let subject_only = Custom {
            subject: Some("Only the subject".into()),
            message: None,
        };
        let r = render_custom(&msg, &MessageTemplates::default(), &subject_only);
        assert_eq!(r.subject, "Only the subject");
        assert!(r.text.contains("123456"), "{}", r.text);
        // Without a link placeholder the link is appended as for a pool's own message.
        let plain = Custom {
            subject: None,
            message: Some("Code {####}".into()),
        };
        let r = render_custom(&msg, &MessageTemplates::default(), &plain);
        assert_eq!(r.subject, "Your verification code");
        assert!(
            r.text
                .starts_with("Code 123456\n\nOr confirm with one click: https://")
        );
    }

    #[test]
    fn a_username_holding_the_code_placeholder_is_not_expanded() {
        assert_eq!(fill("{username}: {####}", "{####}", "42"), "{####}: 42");
    }

    #[test]
    fn an_override_without_the_code_is_refused_and_ignored() {
        let bad = Override {
            subject: "Welcome".into(),
            body: "Hello {username}".into(),
        };
        assert!(
            bad.check(MessageKind::Verification)
                .unwrap_err()
                .contains("{####}")
        );
        let invite = Override {
            subject: "Welcome".into(),
            body: "Password: {####}".into(),
        };
        assert!(invite.check(MessageKind::Reset).is_ok());
        assert!(invite.check(MessageKind::TemporaryPassword).is_err());
        let templates = MessageTemplates {
            verification: Some(bad),
            ..MessageTemplates::default()
        };
        assert!(templates.check().is_err());
        let r = render(&outgoing(MessageKind::Verification, "bob"), &templates);
        assert!(r.text.contains("123456"), "{}", r.text);
    }

    #[test]
    fn pool_settings_without_messages_still_parse() {
        let parsed: MessageTemplates = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, MessageTemplates::default());
        let parsed: MessageTemplates = serde_json::from_str(
            r#"{"verification":{"subject":"Code","body":"Your code is {####}"}}"#,
        )
        .unwrap();
        assert!(parsed.verification.is_some() && parsed.reset.is_none());
    }
}
