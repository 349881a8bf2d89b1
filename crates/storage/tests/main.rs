//! The storage conformance suite: every test runs unchanged on SQLite and on PostgreSQL.

mod audit;
mod blobs;
mod catalog;
mod einvoice_routes;
mod feedback;
mod forms;
mod migrations;
mod staff;
mod tenants;

use rathaus_core::tenant::NewTenant;
use rathaus_core::{Ars, Branding, Module, TenantKind, TenantSlug};
use rathaus_storage::Db;
use rathaus_storage::tenants::TenantStore;

/// Runs one async test body against both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = rathaus_storage::testing::TestDatabase::sqlite().expect("sqlite test db");
                let db = t.connect().await.expect("connect sqlite");
                super::$body(db, &t).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let t = rathaus_storage::testing::TestDatabase::postgres()
                    .await
                    .expect("postgres test db (is PostgreSQL running on 127.0.0.1:5432?)");
                let db = t.connect().await.expect("connect postgres");
                super::$body(db, &t).await;
            }
        }
    };
}

pub fn new_tenant(
    slug: &str,
    name: &str,
    kind: TenantKind,
    ars: &str,
    parent: Option<&str>,
) -> NewTenant {
    let ars = Ars::parse(ars).unwrap();
    NewTenant {
        slug: TenantSlug::parse(slug).unwrap(),
        name: name.into(),
        kind,
        ags: ars.ags(),
        ars,
        parent: parent.map(|p| TenantSlug::parse(p).unwrap()),
        branding: Branding::for_name(name),
        modules: vec![Module::Catalog],
    }
}

/// NRW, Kreis Euskirchen, Dahlem and Köln.
pub async fn seed_basic(db: &Db) -> TenantStore {
    let store = TenantStore::new(db.clone());
    for t in [
        new_tenant(
            "nrw",
            "Nordrhein-Westfalen",
            TenantKind::Land,
            "050000000000",
            None,
        ),
        new_tenant(
            "kreis-euskirchen",
            "Kreis Euskirchen",
            TenantKind::Kreis,
            "053660000000",
            Some("nrw"),
        ),
        new_tenant(
            "dahlem",
            "Gemeinde Dahlem",
            TenantKind::Gemeinde,
            "053660012012",
            Some("kreis-euskirchen"),
        ),
        new_tenant(
            "koeln",
            "Stadt Köln",
            TenantKind::Gemeinde,
            "053150000000",
            Some("nrw"),
        ),
    ] {
        store.create(&t, "test").await.expect("create tenant");
    }
    store
}
