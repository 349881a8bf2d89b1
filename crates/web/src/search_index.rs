//! Keeps the in-process search index current: built at start-up in the background and rebuilt
//! when the catalogue changes (checked every 30 s; imports may come from another process).

use crate::state::AppState;
use rathaus_catalog::search::SearchIndex;
use rathaus_core::TenantKind;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// An index with the catalogue version it was built from.
type Versioned = (i64, Arc<SearchIndex>);

/// The current index of the Land's catalogue, if built.
#[derive(Clone, Default)]
pub struct SearchHolder {
    inner: Arc<RwLock<Option<Versioned>>>,
}

impl SearchHolder {
    /// The current index.
    pub fn get(&self) -> Option<Arc<SearchIndex>> {
        self.inner
            .read()
            .ok()
            .and_then(|g| g.as_ref().map(|(_, i)| i.clone()))
    }

    fn version(&self) -> Option<i64> {
        self.inner
            .read()
            .ok()
            .and_then(|g| g.as_ref().map(|(v, _)| *v))
    }

    fn set(&self, version: i64, index: SearchIndex) {
        if let Ok(mut g) = self.inner.write() {
            *g = Some((version, Arc::new(index)));
        }
    }
}

/// Builds the index if the catalogue changed since the last build. Returns whether it rebuilt.
pub async fn refresh(state: &AppState) -> Result<bool, String> {
    let tenants = state.tenants.list().await.map_err(|e| e.to_string())?;
    let Some(land) = tenants.iter().find(|t| t.kind == TenantKind::Land) else {
        return Ok(false);
    };
    let version = state
        .catalog
        .version(land.id)
        .await
        .map_err(|e| e.to_string())?;
    if state.search.version() == Some(version) {
        return Ok(false);
    }
    let docs = state
        .catalog
        .services(land.id)
        .await
        .map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let count = docs.len();
    let index = tokio::task::spawn_blocking(move || SearchIndex::build(docs))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    state.search.set(version, index);
    tracing::info!(
        services = count,
        ms = started.elapsed().as_millis() as u64,
        "search index built"
    );
    Ok(true)
}

/// Starts the background refresher.
pub fn spawn_refresher(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            if let Err(e) = refresh(&state).await {
                tracing::warn!(error = %e, "search index not refreshed");
            }
        }
    });
}

/// A set of online service ids with the time it was loaded.
type Stamped = (std::time::Instant, Arc<std::collections::HashSet<i64>>);

/// Online-offer sets per tenant, kept for a few seconds (changes show after at most [`OnlineCache::TTL`]).
#[derive(Clone, Default)]
pub struct OnlineCache {
    inner: Arc<std::sync::Mutex<std::collections::HashMap<String, Stamped>>>,
}

impl OnlineCache {
    /// How long a set is reused.
    pub const TTL: Duration = Duration::from_secs(5);

    /// The cached set for `key` (a tenant slug, or empty for "anywhere"), if fresh.
    pub fn get(&self, key: &str) -> Option<Arc<std::collections::HashSet<i64>>> {
        let map = self.inner.lock().ok()?;
        map.get(key)
            .filter(|(at, _)| at.elapsed() < Self::TTL)
            .map(|(_, set)| set.clone())
    }

    /// Forgets every set (after a tenant changed its offers).
    pub fn clear(&self) {
        if let Ok(mut map) = self.inner.lock() {
            map.clear();
        }
    }

    /// Stores a fresh set and returns it.
    pub fn put(
        &self,
        key: String,
        set: std::collections::HashSet<i64>,
    ) -> Arc<std::collections::HashSet<i64>> {
        let set = Arc::new(set);
        if let Ok(mut map) = self.inner.lock() {
            // Bounded by the number of tenants (unknown slugs never reach here: they fail with 404).
            map.insert(key, (std::time::Instant::now(), set.clone()));
        }
        set
    }
}
