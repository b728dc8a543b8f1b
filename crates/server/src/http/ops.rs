//! Operations endpoints: liveness, readiness, Prometheus metrics, and the
//! request metrics middleware.

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// The process-wide Prometheus recorder (metrics has one global recorder,
/// so every server started in this process shares it).
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; the handle
        // then simply renders nothing of ours.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database, the bus and the blob store answer (and
/// the database can write). When not, the body names what failed, for the
/// operator; each part logs its own outage once, so this does not log.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let readiness = state.core.readiness().await;
    if readiness.is_ready() {
        return (StatusCode::OK, "ready").into_response();
    }
    let mut failed = Vec::new();
    if let Err(reason) = &readiness.store {
        failed.push(format!("store: {reason}"));
    }
    if !readiness.bus {
        failed.push("bus: not connected".to_owned());
    }
    if let Err(reason) = &readiness.blob {
        failed.push(format!("blob store: {reason}"));
    }
    tracing::debug!(?readiness, "not ready");
    let body = format!("not ready: {}", failed.join("; "));
    (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        prometheus().render(),
    )
        .into_response()
}

/// Counts every request and times it, labelled by route (not raw path, so
/// ids do not explode the label set), method and status.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("natter_http_requests_total", &labels).increment(1);
    metrics::histogram!("natter_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
