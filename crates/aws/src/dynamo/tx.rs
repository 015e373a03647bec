//! Small helpers over the DynamoDB SDK: building transaction items and telling a lost condition
//! (a rule applied) from a backend failure.

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update};
use gradphoto_core::ports::BackendError;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's limit on items per `TransactWriteItems`.
pub const MAX_TX_ITEMS: usize = 100;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(crate::keys::PK.to_owned(), s(pk)), (crate::keys::SK.to_owned(), s(sk))])
}

pub fn backend<E, R>(e: SdkError<E, R>) -> BackendError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    BackendError::new(DisplayErrorContext(e))
}

/// A condition expression with its placeholders.
#[derive(Debug, Clone, Default)]
pub struct Cond {
    pub expr: String,
    pub names: HashMap<String, String>,
    pub values: Item,
}

impl Cond {
    pub fn new(expr: impl Into<String>) -> Self {
        Self { expr: expr.into(), ..Self::default() }
    }
    pub fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.insert(placeholder.to_owned(), name.to_owned());
        self
    }
    pub fn value(mut self, placeholder: &str, v: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), v);
        self
    }
    pub(crate) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }
    pub(crate) fn values(&self) -> Option<Item> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// The items of one `TransactWriteItems`, in order (cancellation reasons come back in this order).
#[derive(Debug, Default)]
pub struct Tx {
    pub table: String,
    pub items: Vec<TransactWriteItem>,
}

impl Tx {
    pub fn new(table: &str) -> Self {
        Self { table: table.to_owned(), items: Vec::new() }
    }

    pub fn put(&mut self, item: Item, cond: Option<Cond>) -> Result<usize, BackendError> {
        let mut b = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some(c) = cond {
            b = b
                .condition_expression(&c.expr)
                .set_expression_attribute_names(c.names())
                .set_expression_attribute_values(c.values());
        }
        self.items.push(TransactWriteItem::builder().put(b.build().map_err(BackendError::new)?).build());
        Ok(self.items.len() - 1)
    }

    /// `update` is the update expression; `cond` carries its placeholders too, plus an optional
    /// condition (an empty `expr` means unconditional).
    pub fn update(&mut self, key: Item, update: &str, cond: Cond) -> Result<usize, BackendError> {
        let mut b = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(update)
            .set_expression_attribute_names(cond.names())
            .set_expression_attribute_values(cond.values());
        if !cond.expr.is_empty() {
            b = b.condition_expression(&cond.expr);
        }
        self.items.push(TransactWriteItem::builder().update(b.build().map_err(BackendError::new)?).build());
        Ok(self.items.len() - 1)
    }

    pub fn delete(&mut self, key: Item, cond: Option<Cond>) -> Result<usize, BackendError> {
        let mut b = Delete::builder().table_name(&self.table).set_key(Some(key));
        if let Some(c) = cond {
            b = b
                .condition_expression(&c.expr)
                .set_expression_attribute_names(c.names())
                .set_expression_attribute_values(c.values());
        }
        self.items.push(TransactWriteItem::builder().delete(b.build().map_err(BackendError::new)?).build());
        Ok(self.items.len() - 1)
    }

    pub fn check(&mut self, key: Item, cond: Cond) -> Result<usize, BackendError> {
        let b = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(&cond.expr)
            .set_expression_attribute_names(cond.names())
            .set_expression_attribute_values(cond.values());
        self.items.push(TransactWriteItem::builder().condition_check(b.build().map_err(BackendError::new)?).build());
        Ok(self.items.len() - 1)
    }

    /// Runs the transaction. `Ok(Err(failed))` lists the indexes whose condition failed; a
    /// conflict with a concurrent transaction is reported as `TxOutcome::Conflict` so the caller
    /// re-reads and retries.
    pub async fn run(self, client: &aws_sdk_dynamodb::Client) -> Result<TxOutcome, BackendError> {
        if self.items.is_empty() {
            return Ok(TxOutcome::Done);
        }
        debug_assert!(self.items.len() <= MAX_TX_ITEMS);
        match client.transact_write_items().set_transact_items(Some(self.items)).send().await {
            Ok(_) => Ok(TxOutcome::Done),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    let codes: Vec<&str> = c.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None")).collect();
                    let failed: Vec<usize> =
                        codes.iter().enumerate().filter(|(_, c)| **c == "ConditionalCheckFailed").map(|(i, _)| i).collect();
                    if !failed.is_empty() {
                        Ok(TxOutcome::ConditionFailed(failed))
                    } else if codes.contains(&"TransactionConflict") || codes.is_empty() {
                        Ok(TxOutcome::Conflict)
                    } else {
                        Err(BackendError::new(format!("transaction cancelled: {codes:?}")))
                    }
                }
                Some(TransactWriteItemsError::TransactionInProgressException(_)) => Ok(TxOutcome::Conflict),
                _ => Err(backend(e)),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxOutcome {
    Done,
    /// Indexes (in the transaction's order) whose condition failed.
    ConditionFailed(Vec<usize>),
    /// Another transaction touched the same items at the same time; re-read and retry.
    Conflict,
}

/// How many times an optimistic read-decide-write loop retries before giving up. Each retry
/// means another writer changed the same student in between, so a handful is plenty.
pub const MAX_ATTEMPTS: usize = 12;

/// A short, growing pause between optimistic retries so two writers stop colliding.
pub async fn backoff(attempt: usize) {
    let ms = 5u64 * (1 << attempt.min(6)) + (uuid::Uuid::new_v4().as_u128() % 10) as u64;
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// A write that kept losing to concurrent writers after `MAX_ATTEMPTS` tries.
pub fn too_contended(what: &str) -> BackendError {
    BackendError::new(format!("{what}: too many concurrent writers, gave up"))
}
