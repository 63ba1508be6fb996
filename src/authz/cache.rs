//! The permission cache services ask, answered from memory: the shared
//! `Graph` and each user's `Holdings` are cached entities (`crate::cache`,
//! invalidated by this instance's writes at once and by other processes'
//! through the change feed), and the serialized answer is kept beside
//! them for as long as both are the very values it was computed from.
use std::sync::{Arc, Weak};

use bytes::Bytes;

use super::access;
use super::graph::{Graph, Holdings};
use crate::cache::{Load, TtlCache};
use crate::db::{DbConn, DbPool};
use crate::error::{AppError, StoreError};
use crate::feed_proof::FeedProof;

/// The one key of the graph in its cache.
const GRAPH: &str = "graph";
/// Answers kept at most, per user and service filter.
const MAX_ANSWERS: u64 = 100_000;

impl Load for Graph {
    fn load(conn: &mut DbConn, _: &str) -> Result<Option<Self>, StoreError> {
        Graph::read(conn).map(Some)
    }

    fn load_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<(String, Self)>, StoreError> {
        match ids.is_empty() {
            true => Ok(Vec::new()),
            false => Ok(vec![(GRAPH.to_owned(), Graph::read(conn)?)]),
        }
    }
}

impl Load for Holdings {
    fn load(conn: &mut DbConn, id: &str) -> Result<Option<Self>, StoreError> {
        let mut held = Holdings::read_many(conn, &[id.to_owned()])?;
        Ok(Some(held.remove(id).unwrap_or_default()))
    }

    fn load_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<(String, Self)>, StoreError> {
        let mut held = Holdings::read_many(conn, ids)?;
        Ok(ids
            .iter()
            .map(|id| (id.clone(), held.remove(id).unwrap_or_default()))
            .collect())
    }
}

/// A serialized answer and the values it was computed from.
struct Answer {
    graph: Weak<Graph>,
    holdings: Weak<Holdings>,
    body: Bytes,
}

pub struct AccessCache {
    graph: Arc<TtlCache<Graph>>,
    holdings: Arc<TtlCache<Holdings>>,
    answers: moka::sync::Cache<(String, Option<String>), Arc<Answer>>,
}

impl AccessCache {
    pub fn new(proof: Arc<FeedProof>) -> Self {
        Self {
            graph: Arc::new(TtlCache::new("access_graph", Arc::clone(&proof))),
            holdings: Arc::new(TtlCache::new("access_holdings", proof)),
            answers: moka::sync::Cache::builder()
                .max_capacity(MAX_ANSWERS)
                .build(),
        }
    }

    /// The shared graph and what `user_id` holds, from memory when fresh.
    pub async fn snapshot(
        &self,
        pool: &DbPool,
        user_id: &str,
    ) -> Result<(Arc<Graph>, Arc<Holdings>), AppError> {
        let graph = self.graph.get(pool, GRAPH).await?.unwrap_or_default();
        let holdings = self.holdings.get(pool, user_id).await?.unwrap_or_default();
        Ok((graph, holdings))
    }

    /// The permissions of `user_id` (of one service when `service` is
    /// given), as the JSON body of the answer.
    pub async fn answer(
        &self,
        pool: &DbPool,
        user_id: &str,
        service: Option<&str>,
    ) -> Result<Bytes, AppError> {
        let (graph, holdings) = self.snapshot(pool, user_id).await?;
        // A service that declares nothing holds nothing: answered without
        // keeping an entry per made-up id.
        if service.is_some_and(|id| !graph.declares(id)) {
            return Ok(Bytes::from_static(b"[]"));
        }
        let key = (user_id.to_owned(), service.map(str::to_owned));
        if let Some(kept) = self.answers.get(&key) {
            if Weak::ptr_eq(&kept.graph, &Arc::downgrade(&graph))
                && Weak::ptr_eq(&kept.holdings, &Arc::downgrade(&holdings))
            {
                return Ok(kept.body.clone());
            }
        }
        let held = access::effective(&graph, &holdings, service);
        let body = Bytes::from(
            serde_json::to_vec(&held)
                .map_err(|e| AppError::internal_from("serializing permissions", e))?,
        );
        let kept = Answer {
            graph: Arc::downgrade(&graph),
            holdings: Arc::downgrade(&holdings),
            body: body.clone(),
        };
        self.answers.insert(key, Arc::new(kept));
        Ok(body)
    }

    /// The permissions of `user_id`, as values (the console shows them).
    pub async fn held(&self, pool: &DbPool, user_id: &str) -> Result<Vec<access::Held>, AppError> {
        let (graph, holdings) = self.snapshot(pool, user_id).await?;
        Ok(access::effective(&graph, &holdings, None))
    }

    /// The names of `user_id`'s groups and every group they are inside.
    pub async fn group_names(&self, pool: &DbPool, user_id: &str) -> Result<Vec<String>, AppError> {
        let (graph, holdings) = self.snapshot(pool, user_id).await?;
        Ok(access::group_names(&graph, &holdings))
    }

    /// After a change to what `user_id` holds directly has committed.
    pub fn user_changed(&self, user_id: &str) {
        self.holdings.invalidate(user_id);
    }

    /// After a change to anything users share has committed.
    pub fn graph_changed(&self) {
        self.graph.invalidate(GRAPH);
    }

    /// Changes may have been missed: everything is read again.
    pub fn invalidate_all(&self) {
        self.graph.invalidate_all();
        self.holdings.invalidate_all();
    }

    /// Rereads ahead of expiry what is in use (see `TtlCache::refresh_ahead`).
    pub fn refresh_ahead(&self, conn: &mut DbConn) -> Result<usize, StoreError> {
        let graph = self.graph.refresh_ahead(conn)?;
        Ok(graph.saturating_add(self.holdings.refresh_ahead(conn)?))
    }
}
