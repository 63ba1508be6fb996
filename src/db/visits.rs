//! How many times one HTTP request went to the database (`db::run` calls),
//! counted per request and logged with it: a handler that grows a visit
//! shows in the log and in a test, not only in latency.
use std::cell::Cell;
use std::future::Future;

tokio::task_local! {
    static VISITS: Cell<u32>;
}

/// Runs `work`, counting the database visits made while it runs.
pub async fn counted<F: Future>(work: F) -> (F::Output, u32) {
    VISITS
        .scope(Cell::new(0), async {
            let output = work.await;
            (output, VISITS.try_with(Cell::get).unwrap_or(0))
        })
        .await
}

/// One more visit, when someone counts (the CLI and background work do not).
pub(super) fn note() {
    let _ = VISITS.try_with(|visits| visits.set(visits.get().saturating_add(1)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn visits_are_counted_inside_and_ignored_outside() {
        note();
        let ((), visits) = counted(async {
            note();
            note();
        })
        .await;
        assert_eq!(visits, 2);
    }
}
