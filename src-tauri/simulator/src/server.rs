//! The accept loop. It is ours (not `axum::serve`) so a fault can close a TCP connection without
//! sending any response, which `axum::serve` offers no way to do, and so it can count the
//! connections clients hold. Plain HTTP or HTTPS; HTTP/1.1 or HTTP/2 (over TLS as ALPN agrees,
//! in plain text only with prior knowledge).

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

use crate::error::SimError;
use crate::stats::Counters;

/// A client that connects but never finishes its TLS handshake is dropped after this.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub(crate) async fn bind(port: u16) -> Result<TcpListener, SimError> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(SimError::Bind)
}

/// Lets a handler drop the TCP connection its request arrived on.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnHandle {
    kill: Option<Arc<Notify>>,
    drop_after_response: Arc<AtomicBool>,
}

impl ConnHandle {
    /// Closes the connection without a response. Never returns when the request came through our
    /// accept loop (the connection future is dropped); otherwise (e.g. a router driven directly)
    /// returns so the caller can answer with something.
    pub(crate) async fn drop_connection(&self) {
        if let Some(kill) = &self.kill {
            kill.notify_one();
            std::future::pending::<()>().await;
        }
    }

    /// Lets the request be handled as usual, then closes the connection instead of sending the
    /// response (the client cannot know whether, e.g., its create took effect).
    pub(crate) fn drop_after_response(&self) {
        self.drop_after_response.store(true, Ordering::SeqCst);
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ConnHandle {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ConnHandle>()
            .cloned()
            .unwrap_or_default())
    }
}

/// What every connection task needs.
#[derive(Clone)]
pub(crate) struct Serving {
    pub app: Router,
    pub tls: Option<TlsAcceptor>,
    pub counters: Counters,
}

pub(crate) async fn run(
    listener: TcpListener,
    serving: Serving,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                };
                connections.spawn(serve_connection(stream, serving.clone(), shutdown.clone()));
            }
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// Counts a connection as open for as long as it lives.
struct OpenConnection(Counters);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.connection_closed();
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    serving: Serving,
    shutdown: watch::Receiver<bool>,
) {
    serving.counters.connection_opened();
    let _open = OpenConnection(serving.counters.clone());
    let _ = stream.set_nodelay(true);
    match &serving.tls {
        None => serve_io(stream, serving.app, serving.counters, shutdown).await,
        Some(acceptor) => {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => serve_io(tls, serving.app, serving.counters, shutdown).await,
                // A failed handshake (e.g. a client that does not trust the certificate) is the
                // client's error to report; there is nothing to answer.
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        }
    }
}

async fn serve_io<I>(io: I, app: Router, counters: Counters, mut shutdown: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http2_seen = Arc::new(AtomicBool::new(false));
    let kill = Arc::new(Notify::new());
    let kill_signal = kill.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        // A fresh handle per request: `drop_after_response` concerns this request only.
        let handle = ConnHandle {
            kill: Some(kill.clone()),
            drop_after_response: Arc::default(),
        };
        req.extensions_mut().insert(handle.clone());
        if req.version() == hyper::Version::HTTP_2 && !http2_seen.swap(true, Ordering::Relaxed) {
            counters.connection_http2();
        }
        let mut app = app.clone();
        async move {
            let response = app.call(req).await;
            if handle.drop_after_response.load(Ordering::SeqCst) {
                handle.drop_connection().await;
            }
            response
        }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut shutting_down = *shutdown.borrow();
    if shutting_down {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            // Dropping the connection future closes the socket with no response bytes.
            _ = kill_signal.notified() => return,
            changed = shutdown.changed(), if !shutting_down => {
                shutting_down = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
