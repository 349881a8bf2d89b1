//! Refresh-token rotation as group commit.
//!
//! Rotation is the only write on the hot path of the token endpoint. One rotation as its own
//! statements costs several database round trips, and SQLite has a single writer, so under load
//! the requests queue behind each other. Here the presentations that arrive while a batch is
//! being written wait in a channel and are rotated together by one task: one conditional
//! `UPDATE … RETURNING` marks every presented token used, one multi-row `INSERT` writes the
//! successors, in one transaction. Races stay decided by the database: of two presentations of
//! the same token only one finds it unused.
//!
//! On SQLite the batch is written by a thread of its own over a direct connection to the file
//! ([`Db::direct_sqlite`]): a statement there costs microseconds, while each statement through
//! the pool is a round trip to sqlx's worker thread (measured: those hand-offs, not the
//! signatures, bounded the refresh rate). On PostgreSQL the batch goes through the pool.

use crate::accounts::{ACCOUNT_COLUMNS, Account, account_from_row};
use crate::columns::Columns;
use crate::grants::{Grant, INSERT_REFRESH_DIRECT, grant_from_row, new_refresh};
use crate::{IdentityError, Result};
use chrono::Duration;
use rathaus_core::time::now_text;
use rathaus_storage::rusqlite::{self, TransactionBehavior, params};
use rathaus_storage::{Db, StorageError};
use sqlx::Row;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;
use tokio::sync::{mpsc, oneshot};

/// Most presentations rotated in one transaction (11 bound values each in the insert).
const MAX_BATCH: usize = 64;

/// A rotated token: the grant it carries, the successor token and the grant's account as it is
/// now (read in the rotation's transaction; `None` if it no longer exists).
pub(crate) type Rotated = Option<(Grant, String, Option<Box<Account>>)>;

struct Job {
    hash: String,
    client_id: String,
    valid_for: Duration,
    reply: oneshot::Sender<std::result::Result<Rotated, String>>,
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

    /// Marks the token with hash `hash` of `client_id` used and issues its successor; `None` if
    /// it is not an unused, unrevoked, unexpired token of that client.
    pub(crate) async fn rotate(
        &self,
        hash: String,
        client_id: &str,
        valid_for: Duration,
    ) -> Result<Rotated> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
            start(&self.db, rx);
            tx
        });
        let (reply, answer) = oneshot::channel();
        let job = Job {
            hash,
            client_id: client_id.to_owned(),
            valid_for,
            reply,
        };
        let job = match queue.send(job).await {
            Ok(()) => return receive(answer).await,
            // The task is gone (its runtime ended): rotate alone.
            Err(mpsc::error::SendError(job)) => job,
        };
        let mut outcome = rotate_batch(&self.db, std::slice::from_ref(&job)).await?;
        Ok(outcome.pop().flatten())
    }
}

async fn receive(
    answer: oneshot::Receiver<std::result::Result<Rotated, String>>,
) -> Result<Rotated> {
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

/// Marks one presented token used (the direct connection's form of the batch update).
const MARK_DIRECT: &str = "UPDATE oidc_refresh_tokens SET used_at = ?1 \
     WHERE token_hash = ?2 AND client_id = ?3 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?1 \
     RETURNING family_id, client_id, account_id, sid, scope, level, amr, auth_time";

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
        let mut mark = tx.prepare_cached(MARK_DIRECT).map_err(StorageError::from)?;
        let mut read_account = tx
            .prepare_cached(account_by_id)
            .map_err(StorageError::from)?;
        let mut insert = tx
            .prepare_cached(INSERT_REFRESH_DIRECT)
            .map_err(StorageError::from)?;
        let mut accounts: HashMap<String, Option<Account>> = HashMap::new();
        for job in jobs {
            let marked = {
                let mut rows = mark
                    .query(params![now, job.hash, job.client_id])
                    .map_err(StorageError::from)?;
                match rows.next().map_err(StorageError::from)? {
                    Some(row) => Some((row.col::<String>("family_id")?, grant_from_row(row)?)),
                    None => None,
                }
            };
            let Some((family, grant)) = marked else {
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
            let next = new_refresh(&family, &grant, job.valid_for);
            next.insert_direct(&mut insert)?;
            let account = accounts
                .get(&grant.account_id)
                .cloned()
                .flatten()
                .map(Box::new);
            outcomes.push(Some((grant, next.token, account)));
        }
    }
    tx.commit().map_err(StorageError::from)?;
    Ok(outcomes)
}

/// Rotates a batch in one transaction; the outcomes are in the order of `jobs`.
async fn rotate_batch(db: &Db, jobs: &[Job]) -> Result<Vec<Rotated>> {
    let now = now_text();
    let mut sql = String::from(
        "UPDATE oidc_refresh_tokens SET used_at = $1 \
         WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 AND (",
    );
    for i in 0..jobs.len() {
        if i > 0 {
            sql.push_str(" OR ");
        }
        let _ = write!(
            sql,
            "(token_hash = ${} AND client_id = ${})",
            2 + 2 * i,
            3 + 2 * i
        );
    }
    sql.push_str(
        ") RETURNING token_hash, family_id, client_id, account_id, sid, scope, level, amr, auth_time",
    );
    let mut update = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&now);
    for job in jobs {
        update = update.bind(&job.hash).bind(&job.client_id);
    }

    let _gate = db.write_gate().await;
    let mut tx = db.pool().begin().await?;
    let rows = update.fetch_all(&mut *tx).await?;
    let mut marked: HashMap<(String, String), (String, Grant)> = HashMap::new();
    for row in &rows {
        let hash: String = row.try_get("token_hash")?;
        let family: String = row.try_get("family_id")?;
        let grant = grant_from_row(row)?;
        marked.insert((hash, grant.client_id.clone()), (family, grant));
    }
    // The accounts of the rotated grants, for the ID tokens: one query for the whole batch.
    let mut accounts: HashMap<String, Account> = HashMap::new();
    let mut ids: Vec<&str> = marked
        .values()
        .map(|(_, g)| g.account_id.as_str())
        .collect();
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
    // Hand each marked token to the first job that presented it; a second presentation of
    // the same token in the batch finds it used, as it would one batch later.
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut successors = Vec::new();
    for job in jobs {
        let key = (job.hash.clone(), job.client_id.clone());
        match marked.remove(&key) {
            Some((family, grant)) => {
                let next = new_refresh(&family, &grant, job.valid_for);
                let account = accounts.get(&grant.account_id).cloned().map(Box::new);
                outcomes.push(Some((grant, next.token.clone(), account)));
                successors.push(next);
            }
            None => outcomes.push(None),
        }
    }
    if !successors.is_empty() {
        let sql = format!(
            "INSERT INTO oidc_refresh_tokens (token_hash, family_id, client_id, account_id, sid, scope, level, amr, auth_time, created_at, expires_at) VALUES {}",
            rathaus_storage::values_placeholders(successors.len(), 11)
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in &successors {
            insert = s.bind(insert);
        }
        insert.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}
