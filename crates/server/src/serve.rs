//! Accepting and serving connections: HTTP/1.1 by hyper with a header deadline, and limits on
//! open connections overall and per client address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt;

use crate::ServerConfig;
use crate::access::{ClientAddr, IpNet};

/// Open connections, overall and per client address.
struct Connections {
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
    max_total: usize,
    max_per_client: usize,
    trusted: Vec<IpNet>,
}

/// One admitted connection; gives its place back on drop.
struct Admitted {
    conns: Arc<Connections>,
    key: Option<IpAddr>,
}

impl Connections {
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Admitted, &'static str> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.0 >= self.max_total {
            return Err("connections");
        }
        // A trusted proxy carries many clients' connections: only the total limits it.
        let key =
            (!self.trusted.iter().any(|n| n.contains(peer))).then(|| ClientAddr(peer).limit_key());
        if let Some(key) = key {
            let n = open.1.entry(key).or_insert(0);
            if *n >= self.max_per_client {
                return Err("client_connections");
            }
            *n += 1;
        }
        open.0 += 1;
        Ok(Admitted {
            conns: self.clone(),
            key,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.conns.open.lock().unwrap_or_else(|p| p.into_inner());
        open.0 = open.0.saturating_sub(1);
        if let Some(key) = self.key
            && let Some(n) = open.1.get_mut(&key)
        {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&key);
            }
        }
    }
}

/// Accepts connections until `shutdown`, then waits for in-flight requests (at most as long
/// as a comparison may take, and a little more).
pub(crate) async fn accept_loop<L>(
    mut listener: L,
    app: Router,
    config: &ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let conns = Arc::new(Connections {
        open: Mutex::new((0, HashMap::new())),
        max_total: config.max_connections.max(1),
        max_per_client: config.max_connections_per_client.max(1),
        trusted: config.access.trusted_proxies.clone(),
    });
    let header_timeout = config.header_read_timeout;
    // Connection tasks hold a receiver each: when all are gone, every connection has closed.
    let (closed_tx, closed_rx) = tokio::sync::watch::channel(());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            conn = listener.accept() => conn,
            () = &mut shutdown => break,
        };
        let admitted = match conns.admit(peer.ip()) {
            Ok(a) => a,
            Err(reason) => {
                // Closed at once: a flood of connections costs a file descriptor each for
                // microseconds, not a slot each until the header deadline.
                crate::metrics::rejected(reason);
                tracing::debug!(%peer, reason, "connection refused");
                drop(io);
                continue;
            }
        };
        let service = app
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let service = TowerToHyperService::new(service);
        let mut stop = stop_rx.clone();
        let closed = closed_rx.clone();
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let conn = http.serve_connection(TokioIo::new(io), service);
            let mut conn = pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    changed = stop.changed(), if !stopping => {
                        stopping = true;
                        if changed.is_ok() {
                            conn.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
            drop(admitted);
            drop(closed);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(closed_rx);
    let grace = config.compare_timeout + Duration::from_secs(10);
    if tokio::time::timeout(grace, closed_tx.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            "connections still open {} s after shutdown began; closing them",
            grace.as_secs()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_limited_overall_and_per_client_but_not_for_proxies() {
        let conns = Arc::new(Connections {
            open: Mutex::new((0, HashMap::new())),
            max_total: 4,
            max_per_client: 2,
            trusted: vec!["10.0.0.1".parse().unwrap()],
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let a1 = conns.admit(a).unwrap();
        let a2 = conns.admit(a).unwrap();
        assert_eq!(conns.admit(a).err(), Some("client_connections"));
        // Another address of the same IPv6 /64 counts as the same client.
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::2".parse().unwrap();
        let b1 = conns.admit(v6a).unwrap();
        let b2 = conns.admit(v6b).unwrap();
        assert_eq!(
            conns.admit("192.0.2.9".parse().unwrap()).err(),
            Some("connections")
        );
        drop((a1, b1));
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let p1 = conns.admit(proxy).unwrap();
        let p2 = conns.admit(proxy).unwrap();
        assert_eq!(conns.admit(proxy).err(), Some("connections"));
        drop((a2, b2, p1, p2));
        let open = conns.open.lock().unwrap();
        assert_eq!(open.0, 0);
        assert!(open.1.is_empty());
    }
}
