//! Keep-alive after an answer that did not read the request's body.
//!
//! Many answers never read the body a client sent: the `APPEND_SLASH`
//! redirect, 404 and 405, a 413 refused from its `Content-Length`. hyper
//! then tries once to drain what is left and, if the rest has not arrived
//! yet, closes the connection after the answer — without saying so, so a
//! client that reuses the kept-alive connection (httpx, `requests`) may send
//! its next request into a closing socket and get "server disconnected".
//! The conformance suite's `POST /api/token` (no slash) followed by a `GET`
//! hit that race on a loaded machine.
//!
//! This layer tracks whether the handler read the body to its end; if it
//! did not, an HTTP/1 answer carries `Connection: close`, so the client opens
//! a new connection instead of guessing (gunicorn's sync workers, which run
//! the reference, close every connection anyway). Requests without a body —
//! the authenticated `GET` of the hot path — pass untouched (two header
//! lookups); a request with a body pays one small allocation for the flag.
//! Written here because no tower or tower-http layer tracks body consumption.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{header, HeaderValue, Version};
use http_body::{Frame, SizeHint};

/// The middleware (mounted by [`super::app`]).
pub async fn close_when_unread(req: Request, next: Next) -> Response {
    let http1 = matches!(req.version(), Version::HTTP_11 | Version::HTTP_10);
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if !http1 || !has_body {
        return next.run(req).await;
    }
    let read = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let body = Body::new(Tracked {
        inner: body,
        read: read.clone(),
    });
    let mut res = next.run(Request::from_parts(parts, body)).await;
    if !read.load(Ordering::Acquire) {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// The request body, noting when it has been read to its end.
struct Tracked {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
