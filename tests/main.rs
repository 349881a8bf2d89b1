//! Black-box tests of the `rathaus` binary: each starts the real server on a free port
//! (SQLite and PostgreSQL) and talks HTTP, or runs CLI commands.

mod api;
mod audit_cli;
mod catalog;
mod cli;
mod dashboard;
mod einvoices;
mod forms;
mod forms_builder;
mod identity;
mod inventory;
mod isolation;
mod leitweg_routes;
mod offers;
mod pages;
mod passkeys;
mod support;

/// Runs one async test body against a demo server on SQLite and one on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let server = $crate::support::Server::demo("sqlite").await;
                super::$body(&server).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let server = $crate::support::Server::demo("postgres").await;
                super::$body(&server).await;
            }
        }
    };
}
