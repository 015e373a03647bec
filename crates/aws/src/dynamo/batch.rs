//! All-or-nothing writes larger than one DynamoDB transaction (100 items): a sequence of
//! transactions, each retried on conflict, with a compensation that undoes the ones already
//! written if a later one fails. Used by the school and roster imports.

use super::DynamoRecords;
use super::tx::{self, Cond, Item, MAX_ATTEMPTS, MAX_TX_ITEMS, TxOutcome, n, too_contended};
use crate::keys::{self, PK};
use gradphoto_core::Status;
use gradphoto_core::ports::BackendError;
use std::collections::BTreeMap;

impl DynamoRecords {
    /// Writes `chunks` one transaction each; if one fails, undoes the ones already written with
    /// `undo` (best effort) and returns the failure. DynamoDB transactions hold at most 100
    /// items, so a larger all-or-nothing write is a sequence of them plus this compensation.
    pub(super) async fn run_chunks(&self, chunks: Vec<Vec<TxOp>>, undo: Vec<Vec<TxOp>>) -> Result<(), ChunkFailure> {
        for (i, chunk) in chunks.iter().enumerate() {
            let mut attempt = 0;
            loop {
                let mut tx = self.tx();
                for op in chunk {
                    op.add_to(&mut tx).map_err(ChunkFailure::Backend)?;
                }
                match tx.run(&self.client).await.map_err(ChunkFailure::Backend)? {
                    TxOutcome::Done => break,
                    TxOutcome::Conflict if attempt < MAX_ATTEMPTS => {
                        attempt += 1;
                        tx::backoff(attempt).await;
                    }
                    outcome => {
                        for done in undo[..i].iter().rev() {
                            let mut tx = self.tx();
                            for op in done {
                                op.add_to(&mut tx).map_err(ChunkFailure::Backend)?;
                            }
                            if let Err(e) = tx.run(&self.client).await {
                                tracing::error!(error = %e, "could not undo a partly written batch; fix by hand");
                            }
                        }
                        return Err(match outcome {
                            TxOutcome::ConditionFailed(idx) => ChunkFailure::Condition(idx.into_iter().map(|j| chunk[j].clone()).collect()),
                            _ => ChunkFailure::Backend(too_contended("batch write")),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// One transaction item, kept as data so a chunk can be retried and a failure explained.
#[derive(Debug, Clone)]
pub(super) enum TxOp {
    Put { item: Item, cond: Option<Cond>, tag: Option<String> },
    Update { key: Item, expr: String, cond: Cond },
    Delete { key: Item, cond: Option<Cond> },
}

impl TxOp {
    pub(super) fn add_to(&self, tx: &mut tx::Tx) -> Result<usize, BackendError> {
        match self {
            TxOp::Put { item, cond, .. } => tx.put(item.clone(), cond.clone()),
            TxOp::Update { key, expr, cond } => tx.update(key.clone(), expr, cond.clone()),
            TxOp::Delete { key, cond } => tx.delete(key.clone(), cond.clone()),
        }
    }
    pub(super) fn tag(&self) -> Option<&str> {
        match self {
            TxOp::Put { tag, .. } => tag.as_deref(),
            _ => None,
        }
    }
}

pub(super) enum ChunkFailure {
    Condition(Vec<TxOp>),
    Backend(BackendError),
}

pub(super) fn not_exists() -> Cond {
    Cond::new("attribute_not_exists(#pk)").name("#pk", PK)
}

/// Splits ops into transactions of at most `MAX_TX_ITEMS`, where the counter updates of each
/// group (one per counted key — a school, a district — aggregated) ride in the same transaction
/// as the students they count. Returns each chunk with how many of its ops are student ops
/// (the rest are counters).
pub(super) fn chunk_with_counters<K: Ord + Clone>(ops: Vec<(Vec<K>, TxOp)>, counter: impl Fn(&K, i64) -> TxOp, delta: i64) -> Vec<(Vec<TxOp>, usize)> {
    let mut chunks = Vec::new();
    let mut cur: Vec<TxOp> = Vec::new();
    let mut counted: BTreeMap<K, i64> = BTreeMap::new();
    let flush = |cur: &mut Vec<TxOp>, counted: &mut BTreeMap<K, i64>, chunks: &mut Vec<(Vec<TxOp>, usize)>| {
        let mut c = std::mem::take(cur);
        let students = c.len();
        for (key, k) in std::mem::take(counted) {
            if k != 0 {
                c.push(counter(&key, k * delta));
            }
        }
        if !c.is_empty() {
            chunks.push((c, students));
        }
    };
    for (keys, op) in ops {
        let counts = op.tag() == Some("new");
        let extra = if counts { keys.iter().filter(|k| !counted.contains_key(k)).count() } else { 0 };
        if cur.len() + counted.len() + 1 + extra > MAX_TX_ITEMS {
            flush(&mut cur, &mut counted, &mut chunks);
        }
        if counts {
            for k in keys {
                *counted.entry(k).or_default() += 1;
            }
        }
        cur.push(op);
    }
    flush(&mut cur, &mut counted, &mut chunks);
    chunks
}

pub(super) fn counter_op(school_id: &str, by: i64) -> TxOp {
    TxOp::Update {
        key: tx::key(keys::school_pk(school_id), keys::SCHOOL_SK),
        expr: "ADD #c :by".into(),
        cond: Cond::new("attribute_exists(#pk)")
            .name("#pk", PK)
            .name("#c", &keys::counter(Status::NotUploaded))
            .value(":by", n(by)),
    }
}

