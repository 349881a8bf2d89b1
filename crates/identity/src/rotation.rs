//! Refresh-token rotation as group commit.
//!
//! Rotation is the only write on the hot path of the token endpoint. A refresh token names its
//! family, and the family's one row holds the hash of its current token: a rotation is one
//! conditional `UPDATE … RETURNING` of that row by its key, which only succeeds for the current
//! token of an unrevoked, unexpired family of the presenting client. SQLite has a single writer,
//! so under load the presentations that arrive while a batch is being written wait in a channel
//! and are rotated together by one writer, in one transaction. Races stay decided by the
//! database: of two presentations of the same token only one finds it current.
//!
//! On SQLite the batch is written by a thread of its own over a direct connection to the file
//! ([`Db::direct_sqlite`]): a statement there costs microseconds, while each statement through
//! the pool is a round trip to sqlx's worker thread (measured: those hand-offs, not the
//! signatures, bounded the refresh rate). On PostgreSQL the batch goes through the pool as one
//! `UPDATE … FROM (VALUES …)`.

use crate::accounts::{ACCOUNT_COLUMNS, Account, account_from_row};
use crate::grants::{Grant, grant_from_row};
use crate::tokens;
use crate::{IdentityError, Result};
use chrono::{Duration, Utc};
use rathaus_core::time::{format_ts, now_text};
use rathaus_storage::rusqlite::{self, TransactionBehavior, params};
use rathaus_storage::{Db, StorageError};
use sqlx::Row;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;
use tokio::sync::{mpsc, oneshot};

/// Most presentations rotated in one transaction (5 bound values each in the batch update).
const MAX_BATCH: usize = 64;

/// A rotated token: the grant it carries, the successor token and the grant's account as it is
/// now (read in the rotation's transaction; `None` if it no longer exists).
pub(crate) type Rotated = Option<(Grant, String, Option<Box<Account>>)>;

struct Job {
    /// Family the presented token names.
    family: String,
    /// Hash of the presented token.
    hash: String,
    client_id: String,
    /// The successor, made before the job is queued (keeps the writer's work small).
    next_token: String,
    next_hash: String,
    /// When the family expires if this rotation succeeds.
    expires_at: String,
    reply: oneshot::Sender<std::result::Result<Rotated, String>>,
}

/// Where a job's outcome arrives.
type Answer = oneshot::Receiver<std::result::Result<Rotated, String>>;

impl Job {
    /// A presentation of the token with hash `hash`, with its successor, and where its
    /// outcome will arrive.
    fn new(family: &str, hash: String, client_id: &str, valid_for: Duration) -> (Self, Answer) {
        let (reply, answer) = oneshot::channel();
        let (next_token, next_hash) = tokens::refresh(family);
        let job = Job {
            family: family.to_owned(),
            hash,
            client_id: client_id.to_owned(),
            next_token,
            next_hash,
            expires_at: format_ts(Utc::now() + valid_for),
            reply,
        };
        (job, answer)
    }
}

/// Rotates refresh tokens in batches through one background task per store.
pub(crate) struct Rotator {
    db: Db,
    queue: OnceLock<mpsc::Sender<Job>>,
}

impl std::fmt::Debug for Rotator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rotator")
            .field("started", &self.queue.get().is_some())
            .finish()
    }
}

impl Rotator {
    pub(crate) fn new(db: Db) -> Self {
        Self {
            db,
            queue: OnceLock::new(),
        }
    }

    /// Replaces the token with hash `hash`, of `family` and `client_id`, by a successor; `None`
    /// if it is not the current token of an unrevoked, unexpired family of that client.
    pub(crate) async fn rotate(
        &self,
        family: &str,
        hash: String,
        client_id: &str,
        valid_for: Duration,
    ) -> Result<Rotated> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
            start(&self.db, rx);
            tx
        });
        let (job, answer) = Job::new(family, hash, client_id, valid_for);
        let job = match queue.send(job).await {
            Ok(()) => return receive(answer).await,
            // The task is gone (its runtime ended): rotate alone.
            Err(mpsc::error::SendError(job)) => job,
        };
        let mut outcome = rotate_batch(&self.db, std::slice::from_ref(&job)).await?;
        Ok(outcome.pop().flatten())
    }
}

async fn receive(answer: Answer) -> Result<Rotated> {
    match answer.await {
        Ok(Ok(rotated)) => Ok(rotated),
        Ok(Err(message)) => Err(IdentityError::Storage(StorageError::Config(message))),
        Err(_) => Err(IdentityError::Storage(StorageError::Config(
            "Rotation der Refresh-Tokens abgebrochen".into(),
        ))),
    }
}

/// Starts the writer: a thread with a direct connection on SQLite, else a task on the pool.
fn start(db: &Db, rx: mpsc::Receiver<Job>) {
    let direct = db.direct_sqlite().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "no direct SQLite connection for refresh rotation; using the pool");
        None
    });
    let Some(conn) = direct else {
        tokio::spawn(run(db.clone(), rx));
        return;
    };
    let gate = db.shared_write_gate();
    let spawned = std::thread::Builder::new()
        .name("refresh-rotation".into())
        .spawn(move || run_direct(conn, gate, rx));
    if let Err(e) = spawned {
        // The receiver went with the closure: `rotate` finds the queue closed and rotates
        // each presentation alone through the pool.
        tracing::error!(error = %e, "refresh rotation thread not started");
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcome = rotate_batch(&db, &batch).await;
        answer(&mut batch, outcome);
    }
}

/// The writer thread on SQLite: takes what is queued, writes it in one transaction behind the
/// process's write gate (so it queues with the pool's writers instead of meeting them in
/// SQLite's busy handler), answers, and ends when the store is dropped.
fn run_direct(
    mut conn: rusqlite::Connection,
    gate: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.blocking_recv_many(&mut batch, MAX_BATCH) > 0 {
        let outcome = {
            let _gate = gate.as_ref().map(|g| g.blocking_lock());
            rotate_batch_direct(&mut conn, &batch)
        };
        answer(&mut batch, outcome);
    }
}

/// Sends each job of `batch` its outcome and empties the batch.
fn answer(batch: &mut Vec<Job>, outcome: Result<Vec<Rotated>>) {
    match outcome {
        Ok(outcomes) => {
            for (job, outcome) in batch.drain(..).zip(outcomes) {
                let _ = job.reply.send(Ok(outcome));
            }
        }
        Err(e) => {
            // Nothing was committed: every token of the batch is still unused and the
            // clients may retry.
            tracing::error!(error = %e, size = batch.len(), "refresh rotation failed");
            let message = e.to_string();
            for job in batch.drain(..) {
                let _ = job.reply.send(Err(message.clone()));
            }
        }
    }
}

/// Rotates one family over the direct connection: `?1` the successor's hash, `?2` now, `?3` the new expiry, `?4` the family, `?5` the presented hash, `?6` the client.
const ROTATE_DIRECT: &str = "UPDATE oidc_refresh_families SET current_hash = ?1, rotated_at = ?2, expires_at = ?3 \
     WHERE family_id = ?4 AND current_hash = ?5 AND client_id = ?6 AND revoked_at IS NULL AND expires_at > ?2 \
     RETURNING client_id, account_id, sid, scope, level, amr, auth_time";

/// [`rotate_batch`] over the direct SQLite connection: the same outcome, one prepared
/// statement per step and job, all in one `IMMEDIATE` transaction.
fn rotate_batch_direct(conn: &mut rusqlite::Connection, jobs: &[Job]) -> Result<Vec<Rotated>> {
    static ACCOUNT_BY_ID: OnceLock<String> = OnceLock::new();
    let account_by_id = ACCOUNT_BY_ID
        .get_or_init(|| format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1"));
    let now = now_text();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StorageError::from)?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    {
        let mut rotate = tx
            .prepare_cached(ROTATE_DIRECT)
            .map_err(StorageError::from)?;
        let mut read_account = tx
            .prepare_cached(account_by_id)
            .map_err(StorageError::from)?;
        let mut accounts: HashMap<String, Option<Account>> = HashMap::new();
        for job in jobs {
            let grant = {
                let mut rows = rotate
                    .query(params![
                        job.next_hash,
                        now,
                        job.expires_at,
                        job.family,
                        job.hash,
                        job.client_id
                    ])
                    .map_err(StorageError::from)?;
                match rows.next().map_err(StorageError::from)? {
                    Some(row) => Some(grant_from_row(row)?),
                    None => None,
                }
            };
            let Some(grant) = grant else {
                outcomes.push(None);
                continue;
            };
            if !accounts.contains_key(&grant.account_id) {
                let mut rows = read_account
                    .query(params![grant.account_id])
                    .map_err(StorageError::from)?;
                let account = match rows.next().map_err(StorageError::from)? {
                    Some(row) => Some(account_from_row(row)?),
                    None => None,
                };
                accounts.insert(grant.account_id.clone(), account);
            }
            let account = accounts
                .get(&grant.account_id)
                .cloned()
                .flatten()
                .map(Box::new);
            outcomes.push(Some((grant, job.next_token.clone(), account)));
        }
    }
    tx.commit().map_err(StorageError::from)?;
    Ok(outcomes)
}

/// Rotates a batch through the pool in one transaction (one statement for all families); the
/// outcomes are in the order of `jobs`.
async fn rotate_batch(db: &Db, jobs: &[Job]) -> Result<Vec<Rotated>> {
    let now = now_text();
    // `VALUES` columns are named column1… on both databases. SQLite's RETURNING names only the
    // updated table, and without its alias: a winner is recognised by its successor's hash,
    // now the current one.
    let mut sql = String::from(
        "UPDATE oidc_refresh_families AS f SET current_hash = v.column3, rotated_at = $1, expires_at = v.column4 \
         FROM (VALUES ",
    );
    for i in 0..jobs.len() {
        let p = 2 + 5 * i;
        let sep = if i > 0 { ", " } else { "" };
        let _ = write!(
            sql,
            "{sep}(${p}, ${}, ${}, ${}, ${})",
            p + 1,
            p + 2,
            p + 3,
            p + 4
        );
    }
    sql.push_str(
        ") AS v WHERE f.family_id = v.column1 AND f.current_hash = v.column2 AND f.client_id = v.column5 \
         AND f.revoked_at IS NULL AND f.expires_at > $1 \
         RETURNING current_hash, client_id, account_id, sid, scope, level, amr, auth_time",
    );
    let mut update = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&now);
    for job in jobs {
        update = update
            .bind(&job.family)
            .bind(&job.hash)
            .bind(&job.next_hash)
            .bind(&job.expires_at)
            .bind(&job.client_id);
    }

    let _gate = db.write_gate().await;
    let mut tx = db.pool().begin().await?;
    let rows = update.fetch_all(&mut *tx).await?;
    // Successor hash → grant. Of two presentations of one token in the batch, the database
    // updated the row once, with one of them: that one wins, the other finds it used.
    let mut rotated: HashMap<String, Grant> = HashMap::new();
    for row in &rows {
        rotated.insert(row.try_get("current_hash")?, grant_from_row(row)?);
    }
    // The accounts of the rotated grants, for the ID tokens: one query for the whole batch.
    let mut accounts: HashMap<String, Account> = HashMap::new();
    let mut ids: Vec<&str> = rotated.values().map(|g| g.account_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    if !ids.is_empty() {
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id IN ({})",
            placeholders.join(", ")
        );
        let mut select = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            select = select.bind(*id);
        }
        for row in select.fetch_all(&mut *tx).await? {
            let account = account_from_row(&row)?;
            accounts.insert(account.id.clone(), account);
        }
    }
    tx.commit().await?;
    Ok(jobs
        .iter()
        .map(|job| {
            rotated.remove(&job.next_hash).map(|grant| {
                let account = accounts.get(&grant.account_id).cloned().map(Box::new);
                (grant, job.next_token.clone(), account)
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::GrantStore;
    use crate::test_support::rotation_fixture;
    use rathaus_storage::testing::TestDatabase;

    /// The pool's batch (PostgreSQL's path, and SQLite's when the writer thread is missing)
    /// on SQLite: `UPDATE … FROM (VALUES …)` decides as the direct path does.
    #[tokio::test]
    async fn pool_batch_on_sqlite() {
        let tdb = TestDatabase::new("sqlite").await.expect("test database");
        let db = tdb.connect().await.expect("connect");
        let grant = rotation_fixture(&db).await;
        let store = GrantStore::new(db.clone());
        let ttl = Duration::days(1);
        let a = store.issue_refresh(&grant, ttl).await.expect("issue");
        let b = store.issue_refresh(&grant, ttl).await.expect("issue");
        let job = |token: &str, client: &str| {
            let family = tokens::refresh_family(token).expect("family");
            Job::new(family, tokens::hash(token), client, ttl).0
        };
        // a twice, b by the wrong client, b by its client.
        let jobs = [
            job(&a, &grant.client_id),
            job(&a, &grant.client_id),
            job(&b, "app-b"),
            job(&b, &grant.client_id),
        ];
        let outcomes = rotate_batch(&db, &jobs).await.expect("batch");
        let won: Vec<bool> = outcomes.iter().map(Option::is_some).collect();
        assert_eq!(won.iter().filter(|w| **w).count(), 2, "{won:?}");
        assert!(won[0] ^ won[1]);
        assert!(!won[2] && won[3]);
        let winner = if won[0] { &jobs[0] } else { &jobs[1] };
        let (g, next, account) = outcomes[usize::from(won[1])].clone().expect("rotated");
        assert_eq!(g, grant);
        assert_eq!(next, winner.next_token);
        assert_eq!(account.expect("account").id, grant.account_id);
        // The successor is what the family holds now.
        assert!(store.refresh_info(&next).await.expect("info").is_some());
        assert!(store.refresh_info(&a).await.expect("info").is_none());
    }
}
