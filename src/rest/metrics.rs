//! `/metrics` in the Prometheus text format. The recorder is process-wide
//! (the `metrics` facade has one), installed by the first server a process
//! starts; the pool and audit figures are read from the state when scraped.
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::{web, HttpResponse};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;
use crate::telemetry;

/// Upper bounds of the latency buckets, in seconds: from half a millisecond
/// (a cached introspection) to ten seconds (a database at its timeout).
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Histograms keep raw samples until folded into their buckets; folding this
/// often bounds that memory whether or not anyone scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs the process's recorder on the first call; later calls get the
/// same handle.
pub fn install() -> Result<PrometheusHandle, String> {
    RECORDER
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
            telemetry::describe();
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("idhub-metrics".into())
                .spawn(move || loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                })
                .map_err(|e| format!("cannot start the metrics upkeep thread: {e}"))?;
            Ok(handle)
        })
        .clone()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(scrape));
}

async fn scrape(state: web::Data<AppState>, handle: web::Data<PrometheusHandle>) -> HttpResponse {
    let pool = state.pool.state();
    let in_use = pool.connections.saturating_sub(pool.idle_connections);
    metrics::gauge!(telemetry::DB_POOL_CONNECTIONS, "state" => "idle")
        .set(f64::from(pool.idle_connections));
    metrics::gauge!(telemetry::DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(in_use));
    metrics::gauge!(telemetry::DB_POOL_MAX_CONNECTIONS).set(f64::from(state.pool.max_size()));
    telemetry::audit_events_dropped(state.audit.dropped());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}
