//! A deadline for receiving a request's body (`--body-read-timeout`). hyper's header
//! read timeout ends once the headers are in; a client announcing a large
//! `Content-Length` and sending a byte now and then would otherwise hold its connection
//! for as long as it likes. Past the deadline the request is answered 408 and the
//! connection closed, whatever the handler made of the broken body.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;

use crate::cognito_api::CognitoError;
use crate::error::OAuthError;

/// Gives the request's body `timeout` from now to arrive in full; answers 408 if it
/// did not.
pub async fn enforce(State(timeout): State<Duration>, req: Request, next: Next) -> Response {
    let expired = Arc::new(AtomicBool::new(false));
    let is_api = req.headers().contains_key("x-amz-target");
    let req = req.map(|body| {
        Body::new(DeadlineBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            expired: Arc::clone(&expired),
        })
    });
    let res = next.run(req).await;
    if !expired.load(Ordering::Relaxed) {
        return res;
    }
    let message = "The request body was not received in time.";
    let mut res = match is_api {
        true => CognitoError::new("RequestTimeoutException", message).into_response(),
        false => {
            OAuthError::new(StatusCode::REQUEST_TIMEOUT, "invalid_request", message).into_response()
        }
    };
    *res.status_mut() = StatusCode::REQUEST_TIMEOUT;
    // The rest of the body may still be on its way: close rather than read it.
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// A request body that fails once its deadline passes, and records that it did.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

/// The error a body past its deadline reports to the handler reading it.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not received in time")]
struct Expired;

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        // What has arrived is handed on even late (a slow handler is not the client's
        // fault); the deadline counts only while waiting for the client.
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new(Expired))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
