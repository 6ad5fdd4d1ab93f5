//! Injected HTTP faults: the faulty answer for a rule (a status, a 429 with
//! `Retry-After`, a reset mid-answer, a stall, a cut JSON body), and the name
//! each route is counted under.

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::mock::behaviour::{FaultKind, Route};

pub(crate) fn route_name(r: Route) -> &'static str {
    match r {
        Route::Run => "run",
        Route::Runsync => "runsync",
        Route::Status => "status",
        Route::StatusSync => "status-sync",
        Route::Cancel => "cancel",
        Route::Health => "health",
        Route::Download => "download",
        Route::Retry => "retry",
        Route::PurgeQueue => "purge-queue",
        Route::Logs => "logs",
        Route::Releases => "releases",
        Route::Any => "any",
    }
}

/// The faulty answer for an HTTP-level fault; None for image faults (applied to output).
pub(crate) async fn http_fault(kind: &FaultKind) -> Option<Response> {
    Some(match kind {
        FaultKind::Http { status, body } => {
            let code = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                code,
                body.clone()
                    .unwrap_or_else(|| format!("{{\"error\": \"injected {status}\"}}")),
            )
                .into_response()
        }
        FaultKind::RateLimit { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", retry_after.to_string())],
            "{\"error\": \"Too Many Requests\"}",
        )
            .into_response(),
        FaultKind::Reset => {
            // Headers go out, then the body stream fails: the client sees the connection drop.
            let stream = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected reset",
                ))
            });
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from_stream(stream))
                .expect("static response")
        }
        FaultKind::Slow { delay } => {
            tokio::time::sleep(*delay).await;
            return None;
        }
        FaultKind::MalformedJson => (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"id\": \"x\", \"status\": ",
        )
            .into_response(),
        _ => return None,
    })
}
