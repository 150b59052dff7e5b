//! SMTP delivery through lettre: submission with STARTTLS (RFC 3207), implicit TLS
//! (RFC 8314) or plain text, optional AUTH, and a multipart/alternative message with a
//! text and an HTML part (RFC 2046 §5.1.4).

use std::time::Duration;

use anyhow::{Context, bail};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Mailer, Rendered};
use crate::config::{MailConfig, SmtpTls};

/// How long one delivery may take: the user is waiting on the page that sends it.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// Builds the SMTP mailer for `host` from the mail settings. Call it, and drop the
/// mailer, inside a Tokio runtime: the connection pool runs as a task.
pub(super) fn mailer(host: &str, config: &MailConfig) -> anyhow::Result<Mailer> {
    let from: Mailbox = config
        .mail_from
        .parse()
        .with_context(|| format!("the sender address {:?}", config.mail_from))?;
    let builder = match config.smtp_tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .with_context(|| format!("TLS settings for SMTP host {host}"))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
            .with_context(|| format!("TLS settings for SMTP host {host}"))?,
    };
    let mut builder = builder
        .port(config.smtp_port.unwrap_or(config.smtp_tls.default_port()))
        .timeout(Some(SEND_TIMEOUT));
    match (&config.smtp_username, &config.smtp_password) {
        (Some(user), Some(password)) => {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        (None, None) => {}
        _ => bail!("--smtp-username and --smtp-password go together"),
    }
    Ok(Mailer::Smtp {
        transport: builder.build(),
        from,
    })
}

/// Sends one rendered message to `to`. Errors may quote the server, so the caller
/// cleans them before they are logged or returned.
pub(super) async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    to: &str,
    rendered: Rendered,
) -> anyhow::Result<()> {
    let to: Address = to.parse().context("the recipient address is invalid")?;
    let message = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(rendered.subject)
        .multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ))
        .context("build the message")?;
    transport
        .send(message)
        .await
        .context("SMTP delivery failed")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(tls: SmtpTls) -> MailConfig {
        MailConfig {
            smtp_host: Some("mail.example.com".into()),
            smtp_tls: tls,
            ..MailConfig::default()
        }
    }

    #[tokio::test]
    async fn every_tls_mode_builds_a_transport() {
        for tls in [SmtpTls::None, SmtpTls::Starttls, SmtpTls::Tls] {
            let mailer = Mailer::from_config(&config(tls)).unwrap();
            assert!(matches!(mailer, Mailer::Smtp { .. }), "{tls:?}");
        }
    }

    #[tokio::test]
    async fn a_bad_sender_or_half_given_credentials_are_refused() {
        let mut c = config(SmtpTls::Starttls);
        c.mail_from = "not an address".into();
        assert!(Mailer::from_config(&c).is_err());
        let mut c = config(SmtpTls::Starttls);
        c.smtp_username = Some("user".into());
        let err = Mailer::from_config(&c).unwrap_err().to_string();
        assert!(err.contains("go together"), "{err}");
    }

    #[tokio::test]
    async fn the_mailer_debug_shows_no_credentials() {
        let mut c = config(SmtpTls::Tls);
        c.smtp_username = Some("user".into());
        c.smtp_password = Some("hunter2-secret".into());
        let shown = format!("{:?} {c:?}", Mailer::from_config(&c).unwrap());
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("no-reply@localhost"), "{shown}");
    }
}
