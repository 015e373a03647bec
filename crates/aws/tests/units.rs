//! DynamoDB read and write units of each step of a photo, **measured from the requests the
//! adapter really sends** (issue 16): moto answers every request with the same consumed
//! capacity, so the units are computed here from what crossed the wire.
//!
//! How: the adapter runs on a DynamoDB client with an SDK interceptor ([`Meter`]) that logs
//! every request (operation from `X-Amz-Target`, the JSON body) and its response body. Around
//! each step a second, un-metered client reads the whole (small, fresh) table, so every item a
//! step writes has its image before and after the step. [`units`] then applies DynamoDB's
//! published rules to each request: writes by the larger image, ×2 inside a transaction,
//! plus the index writes each GSI needs (projections read from `DescribeTable`); reads by the
//! sizes of the items returned, per page, halved when eventually consistent.
//!
//! `cargo test -p gradphoto-aws --test units -- --nocapture` prints the table that
//! docs/aws.md ("Measured units per step") shows. It needs moto (infra/moto_serial.py; see
//! `gradphoto_aws::testing`) and fails, never skips, without it.

use async_trait::async_trait;
use aws_sdk_dynamodb::config::interceptors::{AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::{AttributeValue, ProjectionType, PutRequest, WriteRequest};
use chrono::{DateTime, Duration, TimeZone, Utc};
use gradphoto_aws::{DynamoRecords, S3PhotoStore, keys, schema, testing};
use gradphoto_core::lifecycle::AppealRequest;
use gradphoto_core::photo::geometry::Geometry;
use gradphoto_core::photo::landmarks::{Landmarks, Point};
use gradphoto_core::photo::{Report, Rules};
use gradphoto_core::ports::{CheckRecorded, Lease, QueueFilter, Records};
use gradphoto_core::upload::{self, Checker, Landing};
use gradphoto_core::*;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use units::{Bill, Call, Schema, Snapshot};

// ---------------------------------------------------------------------------------------------
// The meter: an SDK interceptor that logs each request and its response.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Calls {
    calls: Vec<Call>,
    /// The request sent last and not yet answered. Steps send their requests one after
    /// another (every adapter path measured here awaits each call), so a response belongs to
    /// it; a request that never got one is billed as an error (`units::bill` refuses it).
    in_flight: Option<usize>,
}

#[derive(Debug, Clone, Default)]
struct Log(Arc<Mutex<Calls>>);

impl Log {
    fn take(&self) -> Vec<Call> {
        let mut calls = self.0.lock().unwrap();
        calls.in_flight = None;
        std::mem::take(&mut calls.calls)
    }
}

#[derive(Debug)]
struct Meter(Log);

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "units::Meter"
    }

    fn read_before_transmit(&self, ctx: &BeforeTransmitInterceptorContextRef<'_>, _: &RuntimeComponents, _: &mut ConfigBag) -> Result<(), BoxError> {
        let request = ctx.request();
        // `X-Amz-Target: DynamoDB_20120810.TransactWriteItems`
        let op = request.headers().get("x-amz-target").and_then(|t| t.rsplit('.').next()).unwrap_or("?").to_owned();
        let body = match request.body().bytes() {
            Some(b) if !b.is_empty() => serde_json::from_slice(b)?,
            _ => Value::Null,
        };
        let mut calls = self.0.0.lock().unwrap();
        calls.calls.push(Call { op, request: body, status: None, response: Value::Null });
        calls.in_flight = Some(calls.calls.len() - 1);
        Ok(())
    }

    fn read_after_deserialization(&self, ctx: &AfterDeserializationInterceptorContextRef<'_>, _: &RuntimeComponents, _: &mut ConfigBag) -> Result<(), BoxError> {
        let response = ctx.response();
        let status = response.status().as_u16();
        let body = match response.body().bytes() {
            Some(b) if !b.is_empty() => serde_json::from_slice(b).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        let mut calls = self.0.0.lock().unwrap();
        if let Some(i) = calls.in_flight.take() {
            calls.calls[i].status = Some(status);
            calls.calls[i].response = body;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// DynamoDB's unit rules, on the wire format (DynamoDB JSON).
// ---------------------------------------------------------------------------------------------

/// DynamoDB's published rules, as the developer guide states them:
/// - item sizes: <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html>
///   (attribute names + values: strings and binaries by their bytes, numbers ≈ 1 byte per two
///   significant digits + 1, null/boolean 1, lists and maps 3 bytes plus 1 per element);
/// - units per operation: <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html>
///   (a write: the larger of the item before and after, per 1 KB; a failed conditional write
///   still costs the existing item's units, 1 when there is none; a read: per 4 KB, an item
///   that does not exist still costs one; a `Query`/`Scan` page: the sum of the items it
///   evaluated, rounded up once; eventually consistent: half);
/// - transactions: <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling>
///   ("two underlying reads or writes of every item in the transaction", `ConditionCheck`
///   included; the changes reach the GSIs after the commit, as ordinary index writes);
/// - GSI writes: <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes>
///   (entry appears or disappears: 1 write; its key changes: a delete and a put; only projected
///   attributes change: 1; nothing projected changes: none; each sized by the index entry,
///   which under an `ALL` projection is the whole item); GSI queries are always eventually
///   consistent.
mod units {
    use super::*;

    pub type Item = Map<String, Value>;
    /// A table's items by primary key (the key's JSON, so any key type works).
    pub type Snapshot = BTreeMap<String, Item>;

    #[derive(Debug, Clone)]
    pub struct Call {
        pub op: String,
        pub request: Value,
        pub status: Option<u16>,
        pub response: Value,
    }

    /// The size of one attribute value (without its name).
    pub fn value_size(v: &Value) -> usize {
        let (ty, x) = v.as_object().and_then(|o| o.iter().next()).unwrap_or_else(|| panic!("not a typed attribute value: {v}"));
        let strs = || x.as_array().into_iter().flatten().filter_map(Value::as_str);
        match ty.as_str() {
            "S" => x.as_str().map_or(0, str::len),
            "N" => number_size(x.as_str().unwrap_or("0")),
            "B" => base64_len(x.as_str().unwrap_or("")),
            "BOOL" | "NULL" => 1,
            "SS" => strs().map(str::len).sum(),
            "NS" => strs().map(number_size).sum(),
            "BS" => strs().map(base64_len).sum(),
            "L" => 3 + x.as_array().into_iter().flatten().map(|e| 1 + value_size(e)).sum::<usize>(),
            "M" => 3 + x.as_object().into_iter().flatten().map(|(k, e)| 1 + k.len() + value_size(e)).sum::<usize>(),
            other => panic!("unknown attribute type {other}"),
        }
    }

    /// "Leading and trailing zeroes are trimmed": 1 byte per two significant digits, plus 1.
    pub fn number_size(n: &str) -> usize {
        let mantissa = n.trim_start_matches(['-', '+']).split(['e', 'E']).next().unwrap_or("");
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        let significant = digits.trim_start_matches('0').trim_end_matches('0');
        significant.len().max(1).div_ceil(2) + 1
    }

    /// Binary values travel as base64; their raw length counts.
    fn base64_len(b: &str) -> usize {
        let pad = b.bytes().rev().take_while(|c| *c == b'=').count();
        b.len() / 4 * 3 - pad
    }

    pub fn item_size(item: &Item) -> usize {
        item.iter().map(|(name, v)| name.len() + value_size(v)).sum()
    }

    /// Write units of one item write (1 KB each, at least one).
    pub fn write_units(size: usize) -> u64 {
        size.div_ceil(1024).max(1) as u64
    }

    /// Read units of one read of `size` bytes (4 KB each, at least one), in **halves** so an
    /// eventually consistent read (half a unit) stays an integer.
    pub fn read_halves(size: usize, consistent: bool) -> u64 {
        let units = size.div_ceil(4096).max(1) as u64;
        if consistent { 2 * units } else { units }
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Projection {
        All,
        KeysOnly,
        Include(BTreeSet<String>),
    }

    #[derive(Debug, Clone)]
    pub struct Index {
        pub name: String,
        pub keys: Vec<String>,
        pub projection: Projection,
    }

    /// The table's keys and indexes, as `DescribeTable` reports them.
    #[derive(Debug, Clone)]
    pub struct Schema {
        pub keys: Vec<String>,
        pub indexes: Vec<Index>,
    }

    impl Schema {
        pub fn key_of(&self, item: &Item) -> String {
            let key: Map<String, Value> = self.keys.iter().filter_map(|k| Some((k.clone(), item.get(k)?.clone()))).collect();
            Value::Object(key).to_string()
        }

        /// The index entry of `item`, or none when it lacks the index's key attributes.
        pub fn entry(&self, ix: &Index, item: &Item) -> Option<Item> {
            if !ix.keys.iter().all(|k| item.contains_key(k)) {
                return None;
            }
            Some(match &ix.projection {
                Projection::All => item.clone(),
                p => item
                    .iter()
                    .filter(|(name, _)| {
                        self.keys.contains(name) || ix.keys.contains(name) || matches!(p, Projection::Include(extra) if extra.contains(*name))
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            })
        }

        fn index_key(&self, ix: &Index, item: &Item) -> String {
            ix.keys.iter().map(|k| item.get(k).map(Value::to_string).unwrap_or_default()).collect::<Vec<_>>().join("|")
        }
    }

    /// One unit-costing piece of a request: an item written or read on the table or an index.
    #[derive(Debug, Clone)]
    pub struct Part {
        /// What kind of item (`student`, `audit`, `hash band`…), from its key.
        pub item: String,
        /// `table` or the index's name.
        pub on: String,
        pub action: String,
        pub bytes: usize,
        pub wru: u64,
        pub rru_halves: u64,
    }

    #[derive(Debug, Clone)]
    pub struct Bill {
        pub op: String,
        pub parts: Vec<Part>,
    }

    impl Bill {
        pub fn wru(&self) -> u64 {
            self.parts.iter().map(|p| p.wru).sum()
        }
        pub fn rru_halves(&self) -> u64 {
            self.parts.iter().map(|p| p.rru_halves).sum()
        }
    }

    /// The kind of an item, from its key (see `gradphoto_aws::keys`).
    pub fn kind(pk: &str, sk: &str) -> String {
        let k = if pk.starts_with("STUDENT#") {
            match sk {
                keys::STUDENT_SK => "student",
                keys::PARENT_CODE_SK => "parent code",
                s if s.starts_with("TICKET#") => "ticket",
                s if s.starts_with(keys::AUDIT_PREFIX) => "audit",
                _ => "student partition",
            }
        } else if pk.starts_with("PHASH#") {
            "hash band"
        } else if pk.starts_with("STATS#") {
            if sk.ends_with(keys::STATS_TOTAL) { "stats totals" } else if sk.is_empty() { "stats" } else { "stats day" }
        } else if pk.starts_with("SCHOOL#") {
            "school"
        } else if pk == keys::SCHOOLS {
            "schools"
        } else if pk.starts_with("STATUS#") {
            return format!("students {}", pk.trim_start_matches("STATUS#"));
        } else if pk.starts_with("ROSTER#") {
            "roster"
        } else if pk == keys::CAMPAIGN {
            "campaign"
        } else if pk.starts_with("CODE#") {
            "code"
        } else if pk.starts_with("ACCOUNT#") {
            "account"
        } else if pk.starts_with("LOGIN#") {
            "login slot"
        } else {
            "other"
        };
        k.to_owned()
    }

    fn s<'a>(item: &'a Item, name: &str) -> &'a str {
        item.get(name).and_then(|v| v.get("S")).and_then(Value::as_str).unwrap_or("")
    }

    fn item_kind(item: &Item) -> String {
        kind(s(item, keys::PK), s(item, keys::SK))
    }

    fn obj(v: &Value) -> Item {
        v.as_object().cloned().unwrap_or_default()
    }

    /// The keys of the items `calls` wrote (or tried to), in DynamoDB JSON.
    pub fn written_keys(calls: &[Call]) -> Vec<Item> {
        let mut out = Vec::new();
        for call in calls {
            let req = &call.request;
            match call.op.as_str() {
                "PutItem" => out.push(obj(&req["Item"])),
                "UpdateItem" | "DeleteItem" => out.push(obj(&req["Key"])),
                "TransactWriteItems" => {
                    for t in req["TransactItems"].as_array().into_iter().flatten() {
                        if let Some(p) = t.get("Put") {
                            out.push(obj(&p["Item"]));
                        } else if let Some(w) = t.get("Update").or_else(|| t.get("Delete")) {
                            out.push(obj(&w["Key"]));
                        }
                    }
                }
                "BatchWriteItem" => {
                    for w in req["RequestItems"].as_object().into_iter().flat_map(|m| m.values()).flat_map(|v| v.as_array().cloned().unwrap_or_default()) {
                        if let Some(p) = w.get("PutRequest") {
                            out.push(obj(&p["Item"]));
                        } else if let Some(d) = w.get("DeleteRequest") {
                            out.push(obj(&d["Key"]));
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    enum Write {
        Put,
        Update,
        Delete,
        Check,
    }

    /// Bills the requests one step sent. `before`/`after` are the table before and after the
    /// step; an item written twice in one step has no image between the two writes, so that
    /// is refused (split the step).
    pub fn bill(schema: &Schema, calls: &[Call], before: &Snapshot, after: &Snapshot) -> Vec<Bill> {
        let mut written = BTreeSet::new();
        calls.iter().enumerate().map(|(i, call)| bill_one(schema, i, call, before, after, &mut written)).collect()
    }

    fn bill_one(schema: &Schema, i: usize, call: &Call, before: &Snapshot, after: &Snapshot, written: &mut BTreeSet<String>) -> Bill {
        let status = call.status.unwrap_or_else(|| panic!("request {i} ({}) got no response: concurrent requests or a retried attempt", call.op));
        let ok = status == 200;
        let req = &call.request;
        let resp = &call.response;
        let mut parts = Vec::new();
        let mut write = |key_item: &Item, w: Write, tx: bool, parts: &mut Vec<Part>| {
            let key = schema.key_of(key_item);
            let (b, a) = (before.get(&key), after.get(&key));
            let kind = item_kind(key_item);
            let times = if tx { 2 } else { 1 };
            if let Write::Check = w {
                let bytes = b.map_or(0, item_size);
                parts.push(Part { item: kind, on: "table".into(), action: "check".into(), bytes, wru: times * write_units(bytes), rru_halves: 0 });
                return;
            }
            if !ok {
                assert!(!tx, "request {i}: a cancelled transaction; the calculator does not bill those");
                let bytes = b.map_or(0, item_size);
                parts.push(Part { item: kind, on: "table".into(), action: "failed condition".into(), bytes, wru: write_units(bytes), rru_halves: 0 });
                return;
            }
            assert!(written.insert(key.clone()), "request {i}: {key} written twice in one step; measure the writes in separate steps");
            let bytes = b.map_or(0, item_size).max(a.map_or(0, item_size));
            let action = match (w, b.is_some()) {
                (Write::Delete, _) => "delete",
                (Write::Put, true) => "replace",
                (Write::Put, false) => "put",
                (_, true) => "update",
                (_, false) => "update (new)",
            };
            parts.push(Part { item: kind.clone(), on: "table".into(), action: action.into(), bytes, wru: times * write_units(bytes), rru_halves: 0 });
            for ix in &schema.indexes {
                let (eb, ea) = (b.and_then(|x| schema.entry(ix, x)), a.and_then(|x| schema.entry(ix, x)));
                let units = |e: &Item| write_units(item_size(e));
                let (action, wru, bytes) = match (&eb, &ea) {
                    (None, None) => continue,
                    (Some(e), None) => ("entry removed", units(e), item_size(e)),
                    (None, Some(e)) => ("entry added", units(e), item_size(e)),
                    (Some(x), Some(y)) if schema.index_key(ix, x) != schema.index_key(ix, y) => ("key moved", units(x) + units(y), item_size(y)),
                    (Some(x), Some(y)) if x == y => continue,
                    (Some(x), Some(y)) => ("entry updated", units(x).max(units(y)), item_size(x).max(item_size(y))),
                };
                parts.push(Part { item: kind.clone(), on: ix.name.clone(), action: action.into(), bytes, wru, rru_halves: 0 });
            }
        };
        match call.op.as_str() {
            "PutItem" => write(&obj(&req["Item"]), Write::Put, false, &mut parts),
            "UpdateItem" => write(&obj(&req["Key"]), Write::Update, false, &mut parts),
            "DeleteItem" => write(&obj(&req["Key"]), Write::Delete, false, &mut parts),
            "TransactWriteItems" => {
                for t in req["TransactItems"].as_array().into_iter().flatten() {
                    if let Some(p) = t.get("Put") {
                        write(&obj(&p["Item"]), Write::Put, true, &mut parts);
                    } else if let Some(u) = t.get("Update") {
                        write(&obj(&u["Key"]), Write::Update, true, &mut parts);
                    } else if let Some(d) = t.get("Delete") {
                        write(&obj(&d["Key"]), Write::Delete, true, &mut parts);
                    } else if let Some(c) = t.get("ConditionCheck") {
                        write(&obj(&c["Key"]), Write::Check, true, &mut parts);
                    }
                }
            }
            "BatchWriteItem" => {
                let unprocessed = resp["UnprocessedItems"].as_object().map(|m| m.values().flat_map(|v| v.as_array().cloned().unwrap_or_default()).collect::<Vec<_>>()).unwrap_or_default();
                for w in req["RequestItems"].as_object().into_iter().flat_map(|m| m.values()).flat_map(|v| v.as_array().cloned().unwrap_or_default()) {
                    if unprocessed.contains(&w) {
                        continue;
                    }
                    if let Some(p) = w.get("PutRequest") {
                        write(&obj(&p["Item"]), Write::Put, false, &mut parts);
                    } else if let Some(d) = w.get("DeleteRequest") {
                        write(&obj(&d["Key"]), Write::Delete, false, &mut parts);
                    }
                }
            }
            "GetItem" => {
                assert!(ok, "request {i}: GetItem failed");
                let consistent = req["ConsistentRead"] == json!(true);
                let bytes = resp.get("Item").map(obj).as_ref().map_or(0, item_size);
                let action = if bytes == 0 { "get (absent)" } else { "get" };
                let kind = item_kind(&obj(&req["Key"]));
                parts.push(Part { item: kind, on: consistency(consistent), action: action.into(), bytes, wru: 0, rru_halves: read_halves(bytes, consistent) });
            }
            "BatchGetItem" => {
                assert!(ok, "request {i}: BatchGetItem failed");
                for (table, ask) in req["RequestItems"].as_object().into_iter().flatten() {
                    let consistent = ask["ConsistentRead"] == json!(true);
                    let got: Vec<Item> = resp["Responses"][table].as_array().into_iter().flatten().map(obj).collect();
                    let skipped = resp["UnprocessedKeys"][table]["Keys"].as_array().cloned().unwrap_or_default();
                    for k in ask["Keys"].as_array().into_iter().flatten().filter(|k| !skipped.contains(k)) {
                        let key = schema.key_of(&obj(k));
                        let bytes = got.iter().find(|g| schema.key_of(g) == key).map_or(0, item_size);
                        parts.push(Part { item: item_kind(&obj(k)), on: consistency(consistent), action: "batch get".into(), bytes, wru: 0, rru_halves: read_halves(bytes, consistent) });
                    }
                }
            }
            "Query" | "Scan" => {
                assert!(ok, "request {i}: {} failed", call.op);
                for absent in ["ProjectionExpression", "Select", "AttributesToGet"] {
                    assert!(req.get(absent).is_none(), "request {i}: {absent} hides what was read; teach the calculator to size the evaluated items");
                }
                let items: Vec<Item> = resp["Items"].as_array().into_iter().flatten().map(obj).collect();
                // Units are billed on what the page evaluated: a filter that dropped items hides
                // their sizes from this log.
                assert_eq!(resp["ScannedCount"], resp["Count"], "request {i}: the filter dropped items; their sizes are not in the response");
                let index = req["IndexName"].as_str();
                let consistent = index.is_none() && req["ConsistentRead"] == json!(true);
                let bytes: usize = items.iter().map(item_size).sum();
                let partition = req["ExpressionAttributeValues"][":p"]["S"].as_str().unwrap_or("");
                let what = if partition.is_empty() { "scan".to_owned() } else { kind(partition, "") };
                let on = index.map_or_else(|| consistency(consistent), |ix| format!("{ix} (eventual)"));
                let action = format!("{} page of {}", call.op.to_lowercase(), items.len());
                parts.push(Part { item: what, on, action, bytes, wru: 0, rru_halves: read_halves(bytes, consistent) });
            }
            "TransactGetItems" => {
                let got: Vec<Value> = resp["Responses"].as_array().cloned().unwrap_or_default();
                for (j, t) in req["TransactItems"].as_array().into_iter().flatten().enumerate() {
                    let bytes = got.get(j).and_then(|r| r.get("Item")).map(obj).as_ref().map_or(0, item_size);
                    parts.push(Part { item: item_kind(&obj(&t["Get"]["Key"])), on: "transactional".into(), action: "get".into(), bytes, wru: 0, rru_halves: 2 * read_halves(bytes, true) });
                }
            }
            // DescribeTable, CreateTable… cost no units.
            _ => {}
        }
        Bill { op: call.op.clone(), parts }
    }

    fn consistency(strong: bool) -> String {
        if strong { "table (strong)".into() } else { "table (eventual)".into() }
    }
}

// ---------------------------------------------------------------------------------------------
// The world each scenario runs in: a fresh table and bucket, the adapter on the metered client.
// ---------------------------------------------------------------------------------------------

/// DynamoDB JSON of an SDK value (the un-metered client's reads become the same format as the
/// logged requests).
fn wire(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": base64(b.as_ref()) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::Bs(v) => json!({ "BS": v.iter().map(|b| base64(b.as_ref())).collect::<Vec<_>>() }),
        AttributeValue::L(l) => json!({ "L": l.iter().map(wire).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": m.iter().map(|(k, v)| (k.clone(), wire(v))).collect::<Map<_, _>>() }),
        other => panic!("attribute value {other:?}"),
    }
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for j in 0..4 {
            out.push(if j <= c.len() { A[(n >> (18 - 6 * j) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

fn wire_item(item: &std::collections::HashMap<String, AttributeValue>) -> units::Item {
    item.iter().map(|(k, v)| (k.clone(), wire(v))).collect()
}

struct World {
    records: DynamoRecords,
    store: S3PhotoStore,
    plain: aws_sdk_dynamodb::Client,
    table: String,
    log: Log,
    schema: Schema,
    /// The table as the last step left it (see `measure`).
    image: Mutex<Option<Snapshot>>,
}

/// What one measured step cost.
struct Step {
    scenario: &'static str,
    name: &'static str,
    bills: Vec<Bill>,
}

impl Step {
    fn wru(&self) -> u64 {
        self.bills.iter().map(Bill::wru).sum()
    }
    fn rru_halves(&self) -> u64 {
        self.bills.iter().map(Bill::rru_halves).sum()
    }
    fn requests(&self) -> usize {
        self.bills.len()
    }
}

impl World {
    async fn new() -> Self {
        let sdk = testing::sdk_config().await;
        let plain = aws_sdk_dynamodb::Client::new(&sdk);
        let log = Log::default();
        let metered = aws_sdk_dynamodb::Client::from_conf(aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(Meter(log.clone())).build());
        let id = uuid::Uuid::new_v4().simple().to_string();
        let table = format!("gp-units-{}", &id[..12]);
        schema::create_table(&plain, &table).await.expect("create table (is moto running? see gradphoto_aws::testing)");
        let s3 = gradphoto_aws::s3_client(&sdk, true);
        schema::create_bucket(&s3, &table).await.expect("create bucket");
        let schema = describe(&plain, &table).await;
        let world = Self { records: DynamoRecords::new(metered, &table), store: S3PhotoStore::new(s3, &table), plain, table, log, schema, image: Mutex::new(None) };
        world.seed().await;
        world
    }

    /// The campaign, one school and its student (one roster row), as an import leaves them.
    async fn seed(&self) {
        let r = &self.records;
        r.put_campaign(&Campaign {
            name: "2026 届毕业生图像采集".into(),
            starts_on: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            ends_on: chrono::NaiveDate::from_ymd_opt(2026, 7, 15).unwrap(),
            daily_open: DailyTime::parse("06:00").unwrap(),
            daily_close: DailyTime::parse("24:00").unwrap(),
            timezone: "Asia/Shanghai".parse().unwrap(),
            review_policy: ReviewPolicy::default(),
            parents_enabled: true,
        })
        .await
        .unwrap();
        r.insert_schools(&[School {
            school_id: SCHOOL.into(),
            district: "浦东新区".into(),
            name: "上海市建平中学".into(),
            stage: Stage::Senior,
            registration_code: "REG7Q2M9K4X".into(),
            username: Some(TEACHER.into()),
        }])
        .await
        .unwrap();
        r.import_roster(&[RosterRow { school_id: SCHOOL.into(), student_id: student(), name: "欧阳娜娜".into(), class: "高三(12)班".into() }]).await.unwrap();
    }

    async fn snapshot(&self) -> Snapshot {
        let mut out = Snapshot::new();
        let mut pages = self.plain.scan().table_name(&self.table).consistent_read(true).into_paginator().send();
        while let Some(page) = pages.next().await {
            for item in page.expect("scan").items() {
                let item = wire_item(item);
                out.insert(self.schema.key_of(&item), item);
            }
        }
        out
    }

    /// Runs `f` as one measured step.
    async fn step<T>(&self, steps: &mut Vec<Step>, scenario: &'static str, name: &'static str, f: impl AsyncFnOnce(&Self) -> T) -> T {
        let (out, bills) = self.measure(f).await;
        steps.push(Step { scenario, name, bills });
        out
    }

    /// The bills of `f`'s requests, from the table's images before and after it. The image
    /// before is the whole table (read again whenever anything was written since the last
    /// step: an unmeasured call of the adapter, or `invalidate`); the image after is that one
    /// with the items the step wrote read back.
    async fn measure<T>(&self, f: impl AsyncFnOnce(&Self) -> T) -> (T, Vec<Bill>) {
        let unmeasured = self.log.take();
        let cached = self.image.lock().unwrap().take();
        let before = match cached {
            Some(image) if units::written_keys(&unmeasured).is_empty() => image,
            _ => self.snapshot().await,
        };
        let out = f(self).await;
        let calls = self.log.take();
        let mut after = before.clone();
        for key in units::written_keys(&calls) {
            let got = self.plain.get_item().table_name(&self.table).set_key(Some(self.key_value(&key))).consistent_read(true).send().await.expect("read back").item;
            match got {
                Some(item) => after.insert(self.schema.key_of(&key), wire_item(&item)),
                None => after.remove(&self.schema.key_of(&key)),
            };
        }
        *self.image.lock().unwrap() = Some(after.clone());
        (out, units::bill(&self.schema, &calls, &before, &after))
    }

    /// The primary key of `item` (DynamoDB JSON) as the SDK takes it.
    fn key_value(&self, item: &units::Item) -> std::collections::HashMap<String, AttributeValue> {
        self.schema
            .keys
            .iter()
            .map(|k| {
                let v = &item[k];
                let v = match (v.get("S").and_then(Value::as_str), v.get("N").and_then(Value::as_str)) {
                    (Some(s), _) => AttributeValue::S(s.to_owned()),
                    (_, Some(n)) => AttributeValue::N(n.to_owned()),
                    _ => panic!("key attribute {k}: {v}"),
                };
                (k.clone(), v)
            })
            .collect()
    }

    /// The image `measure` kept equals the table (the items a step wrote were all it changed).
    async fn check_image(&self) {
        let image = self.image.lock().unwrap().clone();
        if let Some(image) = image {
            assert!(image == self.snapshot().await, "the table changed outside the items the steps wrote");
        }
    }

    /// Forgets the table's image (after writes the log does not see: the un-metered client's).
    fn invalidate(&self) {
        self.image.lock().unwrap().take();
    }

    async fn put_photo(&self, key: &str) {
        self.store.client().put_object().bucket(self.store.bucket()).key(key).body(vec![0xFF, 0xD8, 0xFF, 0xE0].into()).send().await.expect("put photo");
    }

    // ---- the requests a handler makes, through the `Records` port ----

    /// What `SchoolSession` reads on every teacher request: the campaign (window) and the
    /// school (is this still its account).
    async fn school_session(&self) {
        self.records.campaign().await.unwrap().expect("campaign");
        self.records.school(SCHOOL).await.unwrap().expect("school");
    }

    /// `POST /api/uploads` for one file: the session, the student (`own_student`), the ticket.
    async fn presign(&self, ticket_id: &str, at: DateTime<Utc>) {
        self.school_session().await;
        let s = self.records.student(&student()).await.unwrap().expect("student");
        let t = Ticket {
            ticket_id: ticket_id.into(),
            student_id: s.student_id.clone(),
            school_id: s.school_id.clone(),
            size: 182_431,
            generation: s.generation,
            issued_at: at,
            expires_at: at + Duration::minutes(15),
            issued_by: TEACHER.into(),
            uploader: Uploader::School,
            auto_cropped: false,
        };
        self.records.issue_ticket(&t).await.expect("issue ticket");
    }

    /// check-photo, first half (`upload::land`: the claim).
    async fn claim(&self, ticket_id: &str, at: DateTime<Utc>) -> Student {
        let key = object_key(SCHOOL, &student(), ticket_id);
        match upload::land(&self.records, &key, at).await.unwrap() {
            Landing::Won(s) => s,
            other => panic!("claim lost: {other:?}"),
        }
    }

    /// check-photo, second half (`upload::check_and_record`: school, photo, bands, campaign,
    /// the decision), with the check's report fixed.
    async fn check(&self, landed: &Student, report: Report, at: DateTime<Utc>) -> Student {
        let checker = FixedReport(report);
        match upload::check_and_record(&self.records, &self.store, &checker, &Rules::default(), landed, at).await.unwrap() {
            CheckRecorded::Decided(s) => s,
            CheckRecorded::NoChange => panic!("check recorded nothing"),
        }
    }

    /// `GET /api/students/{id}` (the upload page polls it until the check has run).
    async fn poll(&self) {
        self.school_session().await;
        self.records.student(&student()).await.unwrap().expect("student");
    }

    /// `GET /api/review/queue`: lease a page, then the schools (names) and every school's
    /// counts (the pending total).
    async fn queue_page(&self, limit: u32, at: DateTime<Utc>) -> Vec<Student> {
        let lease = Lease { reviewer: REVIEWER.into(), now: at, until: at + Duration::minutes(10) };
        let page = self.records.lease_review_queue(&QueueFilter { district: None, school_id: None, limit }, &lease).await.unwrap();
        self.records.schools().await.unwrap();
        self.records.all_counts().await.unwrap();
        page
    }

    /// `POST /api/review/{id}` (and each item of `POST /api/reviews`): the decision only.
    async fn review(&self, s: &Student, decision: Decision, at: DateTime<Utc>) -> Student {
        let reasons = if decision == Decision::Reject { vec![Reason::new("blurry", "照片模糊，请上传清晰的照片")] } else { Vec::new() };
        self.records.review(&s.student_id, s.photo_id().as_deref(), decision, &reasons, None, REVIEWER, at).await.expect("review")
    }

    /// `POST /api/students/{id}/appeal`: the session, then the appeal.
    async fn appeal(&self, s: &Student, at: DateTime<Utc>) -> Student {
        self.school_session().await;
        let photo_id = s.photo_id().expect("photo");
        let request = AppealRequest { photo_id: &photo_id, note: Some("背景是白色的，是灯光偏色，请人工复核"), by: TEACHER, school_id: Some(SCHOOL) };
        self.records.appeal(&s.student_id, &request, at).await.expect("appeal")
    }

    /// A teacher's photo that passed the check and waits in the queue (unmeasured setup).
    async fn pending(&self) -> Student {
        self.presign(TICKET_1, t(0)).await;
        let landed = self.claim(TICKET_1, t(1)).await;
        self.put_photo(landed.photo_key.as_deref().unwrap()).await;
        self.check(&landed, passed(HASH_1), t(2)).await
    }

    /// Copies the pending student's item to `n` more students of the same school, with the
    /// school's counter moved to match, so the queue has depth (un-metered setup: written
    /// directly, as if `n` photos had passed their checks).
    async fn more_pending(&self, n: usize) -> Vec<StudentId> {
        let original = self.plain.get_item().table_name(&self.table).set_key(Some(key(keys::student_pk(&student()), keys::STUDENT_SK))).consistent_read(true).send().await.unwrap().item.expect("pending student");
        let mut ids = Vec::new();
        let mut requests = Vec::new();
        for i in 0..n {
            let id = StudentId::parse(&format!("G31011520090102{i:04}")).unwrap();
            let mut item = original.clone();
            let s = |v: String| AttributeValue::S(v);
            let old = student().to_string();
            for name in [keys::PK, "student_id", keys::GSI1SK, keys::GSI2SK, "photo_key"] {
                let v = item[name].as_s().unwrap().replace(&old, id.as_str());
                item.insert(name.into(), s(v));
            }
            ids.push(id);
            requests.push(WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().unwrap()).build());
        }
        self.invalidate();
        for chunk in requests.chunks(25) {
            self.plain.batch_write_item().request_items(&self.table, chunk.to_vec()).send().await.unwrap();
        }
        self.plain
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::school_pk(SCHOOL), keys::SCHOOL_SK)))
            .update_expression("ADD #c :n")
            .expression_attribute_names("#c", keys::counter(Status::PendingReview))
            .expression_attribute_values(":n", AttributeValue::N(n.to_string()))
            .send()
            .await
            .unwrap();
        ids
    }
}

fn key(pk: String, sk: &str) -> std::collections::HashMap<String, AttributeValue> {
    std::collections::HashMap::from([(keys::PK.to_owned(), AttributeValue::S(pk)), (keys::SK.to_owned(), AttributeValue::S(sk.to_owned()))])
}

async fn describe(client: &aws_sdk_dynamodb::Client, table: &str) -> Schema {
    let t = client.describe_table().table_name(table).send().await.expect("describe table").table.expect("table");
    let key_names = |ks: &[aws_sdk_dynamodb::types::KeySchemaElement]| ks.iter().map(|k| k.attribute_name().to_owned()).collect::<Vec<_>>();
    let indexes = t
        .global_secondary_indexes()
        .iter()
        .map(|g| {
            let p = g.projection().expect("projection");
            let projection = match p.projection_type() {
                Some(ProjectionType::All) => units::Projection::All,
                Some(ProjectionType::KeysOnly) => units::Projection::KeysOnly,
                Some(ProjectionType::Include) => units::Projection::Include(p.non_key_attributes().iter().cloned().collect()),
                other => panic!("projection {other:?}"),
            };
            units::Index { name: g.index_name().unwrap_or("?").to_owned(), keys: key_names(g.key_schema()), projection }
        })
        .collect();
    Schema { keys: key_names(t.key_schema()), indexes }
}

/// The photo check, with its report fixed (what is measured is the records, not the pixels).
struct FixedReport(Report);

#[async_trait]
impl Checker for FixedReport {
    async fn check(&self, _bytes: Vec<u8>, _stage: Stage, _rules: &Rules) -> Report {
        self.0.clone()
    }
}

// Realistic ids and lengths: a 19-character student number, the production ticket ids (24 hex
// characters), a teacher's and a reviewer's usernames of typical length.
const SCHOOL: &str = "sch-310115001";
const TEACHER: &str = "jianping_gaosan_01";
const REVIEWER: &str = "reviewer_pudong_03";
const TICKET_1: &str = "5f0c2a9e41b7d3806ce1f29a";
const TICKET_2: &str = "a83d10f6e2c94b5701de6c3b";
const HASH_1: u64 = 0xC3A5_9E17_0B6D_24F8;
const HASH_2: u64 = 0x1F4E_62B9_D803_A75C;

fn student() -> StudentId {
    StudentId::parse("G310115200901011234").unwrap()
}

/// Minutes after 09:00 on 10 June 2026 in Shanghai.
fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 10, 1, 0, 0).unwrap() + Duration::minutes(minutes)
}

/// What the check measures on a photo of the wanted size with one face, passed or not (the
/// corpus' astronaut_valid.jpg): stored on the student, so it is part of every item measured.
fn measured() -> Option<Geometry> {
    let p = |x, y| Point { x, y };
    Some(Geometry {
        face_box: [77.36, 89.75, 112.29, 112.18],
        landmarks: Landmarks { left_eye: [p(99.63, 128.73), p(119.31, 131.51)], right_eye: [p(169.43, 132.54), p(148.87, 133.43)], nose: p(133.45, 167.96) },
        eye_line: 131.55,
        eye_distance: 49.76,
        roll_degrees: 3.3,
        crown: 29,
        chin: 227.73,
        head_ratio: 0.561,
        centre_offset: -1.69,
        width_to_height: 1.367,
    })
}

fn passed(hash: u64) -> Report {
    Report { hard: Vec::new(), soft: Vec::new(), phash: Some(hash), geometry: measured() }
}

fn rejected(hash: u64) -> Report {
    Report { hard: vec![Reason::new("background_not_white", "照片背景应为白色、均匀、无阴影")], soft: Vec::new(), phash: Some(hash), geometry: measured() }
}

// ---------------------------------------------------------------------------------------------
// The scenarios.
// ---------------------------------------------------------------------------------------------

const FIRST: &str = "first-time photo";
const AGAIN: &str = "rejected, uploaded again";
const APPEAL: &str = "appeal";
const QUEUE: &str = "queue at depth";

/// A teacher uploads, the check passes, a reviewer leases it and approves.
async fn first_time_photo(steps: &mut Vec<Step>) {
    let w = World::new().await;
    w.step(steps, FIRST, "presign", async |w| w.presign(TICKET_1, t(0)).await).await;
    let landed = w.step(steps, FIRST, "check-photo: claim", async |w| w.claim(TICKET_1, t(1)).await).await;
    w.put_photo(landed.photo_key.as_deref().unwrap()).await;
    w.step(steps, FIRST, "check-photo: check → pending", async |w| w.check(&landed, passed(HASH_1), t(2)).await).await;
    w.step(steps, FIRST, "status poll (one of ~3)", async |w| w.poll().await).await;
    let page = w.step(steps, FIRST, "queue page (1 pending)", async |w| w.queue_page(50, t(30)).await).await;
    assert_eq!(page.len(), 1);
    w.step(steps, FIRST, "review: approve", async |w| w.review(&page[0], Decision::Approve, t(31)).await).await;
    w.check_image().await;
}

/// The check rejects the first photo; the teacher uploads another, which passes.
async fn rejected_then_again(steps: &mut Vec<Step>) {
    let w = World::new().await;
    w.presign(TICKET_1, t(0)).await;
    let landed = w.claim(TICKET_1, t(1)).await;
    w.put_photo(landed.photo_key.as_deref().unwrap()).await;
    let decided = w.step(steps, AGAIN, "check-photo: check → rejected", async |w| w.check(&landed, rejected(HASH_1), t(2)).await).await;
    assert_eq!(decided.status, Status::Rejected);
    w.step(steps, AGAIN, "presign (again)", async |w| w.presign(TICKET_2, t(20)).await).await;
    let landed = w.step(steps, AGAIN, "check-photo: claim (again)", async |w| w.claim(TICKET_2, t(21)).await).await;
    w.put_photo(landed.photo_key.as_deref().unwrap()).await;
    let decided = w.step(steps, AGAIN, "check-photo: check → pending (bands moved)", async |w| w.check(&landed, passed(HASH_2), t(22)).await).await;
    assert_eq!(decided.status, Status::PendingReview);
    w.check_image().await;
}

/// The check rejects; the teacher appeals; a reviewer overrules the check.
async fn appeal(steps: &mut Vec<Step>) {
    let w = World::new().await;
    w.presign(TICKET_1, t(0)).await;
    let landed = w.claim(TICKET_1, t(1)).await;
    w.put_photo(landed.photo_key.as_deref().unwrap()).await;
    let rejected = w.check(&landed, rejected(HASH_1), t(2)).await;
    let appealed = w.step(steps, APPEAL, "appeal (with a note)", async |w| w.appeal(&rejected, t(10)).await).await;
    assert_eq!(appealed.status, Status::PendingReview);
    let page = w.queue_page(50, t(30)).await;
    let approved = w.step(steps, APPEAL, "review: approve (overrules)", async |w| w.review(&page[0], Decision::Approve, t(31)).await).await;
    assert_eq!(approved.status, Status::Approved);
    w.check_image().await;
}

/// 200 photos pending: a reviewer's page of 50 (leases), then a batch of 10 decisions.
async fn queue_at_depth(steps: &mut Vec<Step>) {
    let w = World::new().await;
    w.pending().await;
    w.more_pending(199).await;
    let page = w.step(steps, QUEUE, "queue page: lease 50 of 200", async |w| w.queue_page(50, t(30)).await).await;
    assert_eq!(page.len(), 50);
    // `POST /api/reviews` applies each item on its own; each is measured alone (the school's
    // counters and the district's day item are written by every one of them).
    let mut bills = Vec::new();
    for s in &page[..10] {
        bills.extend(w.measure(async |w| w.review(s, Decision::Approve, t(31)).await).await.1);
    }
    steps.push(Step { scenario: QUEUE, name: "review batch: 10 approvals", bills });
    w.check_image().await;
}

// ---------------------------------------------------------------------------------------------
// The report and the expectations.
// ---------------------------------------------------------------------------------------------

fn rru(halves: u64) -> String {
    if halves.is_multiple_of(2) { format!("{}", halves / 2) } else { format!("{}.5", halves / 2) }
}

/// "student 2 + gsi1 1 + gsi2 2; audit 2; …": where a step's units go, by item kind.
fn breakdown(step: &Step) -> (String, String) {
    let mut w: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    let mut r: BTreeMap<String, u64> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for p in step.bills.iter().flat_map(|b| &b.parts) {
        if p.wru > 0 {
            if !w.contains_key(&p.item) {
                order.push(p.item.clone());
            }
            let on = w.entry(p.item.clone()).or_default();
            match on.iter_mut().find(|(o, _)| *o == p.on) {
                Some((_, n)) => *n += p.wru,
                None => on.push((p.on.clone(), p.wru)),
            }
        }
        if p.rru_halves > 0 {
            *r.entry(format!("{} {}", p.item, p.on.replace("table ", ""))).or_default() += p.rru_halves;
        }
    }
    let writes = order
        .iter()
        .map(|item| {
            let on = &w[item];
            let parts: Vec<String> = on.iter().map(|(o, n)| if o == "table" { format!("{item} {n}") } else { format!("{o} {n}") }).collect();
            parts.join(" + ")
        })
        .collect::<Vec<_>>()
        .join("; ");
    let reads = r.iter().map(|(k, h)| format!("{k} {}", rru(*h))).collect::<Vec<_>>().join("; ");
    (writes, reads)
}

fn print_report(steps: &[Step]) {
    println!("\n=== DynamoDB units per request (measured: cargo test -p gradphoto-aws --test units -- --nocapture) ===");
    for s in steps {
        println!("\n[{}] {}: {} requests, {} WRU, {} RRU", s.scenario, s.name, s.requests(), s.wru(), rru(s.rru_halves()));
        for (i, b) in s.bills.iter().enumerate() {
            if s.bills.len() > 12 && i >= 6 && i + 3 < s.bills.len() {
                if i == 6 {
                    println!("  … {} more requests …", s.bills.len() - 9);
                }
                continue;
            }
            let parts: Vec<String> = b
                .parts
                .iter()
                .map(|p| {
                    let units = if p.wru > 0 { format!("{} WRU", p.wru) } else { format!("{} RRU", rru(p.rru_halves)) };
                    format!("{} {} on {} ({} B): {units}", p.item, p.action, p.on, p.bytes)
                })
                .collect();
            println!("  {:>2}. {:<20} {}", i + 1, b.op, if parts.is_empty() { "-".to_owned() } else { parts.join("; ") });
        }
    }
    println!("\n| scenario | step | requests | WRU | RRU | where the WRU go | where the RRU go |");
    println!("|---|---|---|---|---|---|---|");
    for s in steps {
        let (writes, reads) = breakdown(s);
        println!("| {} | {} | {} | {} | {} | {} | {} |", s.scenario, s.name, s.requests(), s.wru(), rru(s.rru_halves()), writes, reads);
    }
}

/// (scenario, step, requests, WRU, RRU × 2 — halves, so half a unit stays an integer) as
/// measured when this test was written.
///
/// Exact on purpose: units are a pure function of the requests the adapter sends and of the
/// item sizes, and every id, name and instant here is fixed, so the numbers are the same on
/// every run. A change in what the adapter writes or reads (an item more in a transaction, an
/// attribute that pushes an item over 1 KB, an index entry that now changes) fails this test:
/// that is the point. When a change is intended, update this table and the "Measured units
/// per step" table in docs/aws.md together.
const EXPECTED: &[(&str, &str, usize, u64, u64)] = &[
    // A plain put of the ticket (1 WRU), no transaction: the generation pins it.
    (FIRST, "presign", 5, 1, 8),
    (FIRST, "check-photo: claim", 3, 11, 4),
    // The band queries are eventually consistent (half the units).
    (FIRST, "check-photo: check → pending", 9, 22, 11),
    (FIRST, "status poll (one of ~3)", 3, 0, 6),
    (FIRST, "queue page (1 pending)", 4, 3, 3),
    (FIRST, "review: approve", 2, 12, 2),
    (AGAIN, "check-photo: check → rejected", 4, 23, 6),
    (AGAIN, "presign (again)", 5, 1, 8),
    (AGAIN, "check-photo: claim (again)", 3, 21, 4),
    (AGAIN, "check-photo: check → pending (bands moved)", 9, 22, 11),
    (APPEAL, "appeal (with a note)", 4, 13, 6),
    (APPEAL, "review: approve (overrules)", 2, 14, 2),
    // 200 pending entries of 636 B (the check's measured geometry included): 16 RRU, + 1.
    (QUEUE, "queue page: lease 50 of 200", 53, 150, 34),
    (QUEUE, "review batch: 10 approvals", 20, 120, 20),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_per_step_of_a_photo() {
    let started = std::time::Instant::now();
    let mut steps = Vec::new();
    first_time_photo(&mut steps).await;
    rejected_then_again(&mut steps).await;
    appeal(&mut steps).await;
    queue_at_depth(&mut steps).await;
    print_report(&steps);
    totals(&steps);
    println!("\n(measured in {:.1} s)", started.elapsed().as_secs_f64());

    let measured: Vec<(&str, &str, usize, u64, u64)> = steps.iter().map(|s| (s.scenario, s.name, s.requests(), s.wru(), s.rru_halves())).collect();
    assert_eq!(measured, EXPECTED, "units changed: see the table printed above (`-- --nocapture`), then update EXPECTED and docs/aws.md");
}

/// Per photo and for the 250,000-photo campaign, from the measured steps (the sheet's
/// assumptions: ~3 status polls per upload, a queue page of 50, 20 % rejected once).
fn totals(steps: &[Step]) {
    let find = |scenario: &str, name: &str| steps.iter().find(|s| s.scenario == scenario && s.name == name).unwrap_or_else(|| panic!("step {name}"));
    let units = |s: &Step| (s.wru() as f64, s.rru_halves() as f64 / 2.0);
    let add = |a: (f64, f64), b: (f64, f64), k: f64| (a.0 + k * b.0, a.1 + k * b.1);
    let page = find(QUEUE, "queue page: lease 50 of 200");
    let per_leased = (units(page).0 / 50.0, units(page).1 / 50.0);
    let mut first = (0.0, 0.0);
    let mut parts: Vec<(&Step, f64)> = Vec::new();
    for (name, k) in [("presign", 1.0), ("check-photo: claim", 1.0), ("check-photo: check → pending", 1.0), ("status poll (one of ~3)", 3.0), ("review: approve", 1.0)] {
        first = add(first, units(find(FIRST, name)), k);
        parts.push((find(FIRST, name), k));
    }
    first = add(first, per_leased, 1.0);
    parts.push((page, 1.0 / 50.0));
    // Where a first-time photo's units go, by item and table/index.
    let mut by: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for (step, k) in &parts {
        for p in step.bills.iter().flat_map(|b| &b.parts) {
            let e = by.entry((p.item.clone(), p.on.clone())).or_default();
            e.0 += k * p.wru as f64;
            e.1 += k * p.rru_halves as f64 / 2.0;
        }
    }
    let mut rows: Vec<_> = by.into_iter().collect();
    rows.sort_by(|a, b| (b.1.0, b.1.1).partial_cmp(&(a.1.0, a.1.1)).unwrap());
    println!("\nfirst-time photo, by item:");
    for ((item, on), (w, r)) in rows {
        println!("  {item:<24} {on:<18} {w:>5.1} WRU {r:>6.2} RRU");
    }
    // A rejected photo's journey: the first upload (presign, claim, a rejecting check, polls),
    // then the same as a first-time photo with the second check moving the bands.
    let mut again = (0.0, 0.0);
    for (s, k) in [
        (find(FIRST, "presign"), 1.0),
        (find(FIRST, "check-photo: claim"), 1.0),
        (find(AGAIN, "check-photo: check → rejected"), 1.0),
        (find(FIRST, "status poll (one of ~3)"), 6.0),
        (find(AGAIN, "presign (again)"), 1.0),
        (find(AGAIN, "check-photo: claim (again)"), 1.0),
        (find(AGAIN, "check-photo: check → pending (bands moved)"), 1.0),
        (find(FIRST, "review: approve"), 1.0),
    ] {
        again = add(again, units(s), k);
    }
    again = add(again, per_leased, 1.0);
    let avg = (0.8 * first.0 + 0.2 * again.0, 0.8 * first.1 + 0.2 * again.1);
    println!("\nfirst-time photo (presign, claim, check, 3 polls, 1/50 of a queue page, approval): {:.1} WRU, {:.2} RRU", first.0, first.1);
    println!("photo rejected once by the check (both uploads, 6 polls): {:.1} WRU, {:.2} RRU", again.0, again.1);
    println!("average with 20 % rejected once: {:.1} WRU, {:.2} RRU per photo", avg.0, avg.1);
    let (w, r) = (avg.0 * 250_000.0, avg.1 * 250_000.0);
    println!("250,000 photos: {:.2} M WRU → ${:.2}; {:.2} M RRU → ${:.2}", w / 1e6, w / 1e6 * 0.625, r / 1e6, r / 1e6 * 0.125);
}

// ---------------------------------------------------------------------------------------------
// The calculator against DynamoDB's documented examples.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_calculator_agrees_with_the_documented_examples() {
    use units::*;
    let item = |v: Value| v.as_object().cloned().unwrap();
    // CapacityUnitCalculations.html: a string is its name plus its UTF-8 bytes; a number its
    // name plus 1 byte per two significant digits plus 1 (zeroes trimmed); null and boolean
    // 1; a list or map 3 bytes plus its elements, each 1 byte more; an empty one 3.
    assert_eq!(item_size(&item(json!({"shirt-color": {"S": "R"}, "shirt-size": {"S": "M"}}))), 11 + 1 + 10 + 1);
    assert_eq!(item_size(&item(json!({"区": {"S": "浦东新区"}}))), 3 + 12, "UTF-8 bytes, not characters");
    assert_eq!(number_size("12345"), 3 + 1);
    assert_eq!(number_size("1000"), 1 + 1, "trailing zeroes trimmed");
    assert_eq!(number_size("-0.0050"), 1 + 1, "leading zeroes trimmed");
    assert_eq!(item_size(&item(json!({"ok": {"BOOL": true}, "no": {"NULL": true}}))), 2 + 1 + 2 + 1);
    assert_eq!(item_size(&item(json!({"l": {"L": []}, "m": {"M": {}}}))), 1 + 3 + 1 + 3);
    assert_eq!(value_size(&json!({"L": [{"S": "ab"}, {"N": "7"}]})), 3 + (1 + 2) + (1 + 2));
    assert_eq!(value_size(&json!({"M": {"k": {"S": "v"}}})), 3 + 1 + 1 + 1);
    assert_eq!(value_size(&json!({"B": "AQID"})), 3, "binary: its raw length, not the base64");
    // A real DynamoDB's own count (the console's average item size, 1041.96 bytes for 5,000
    // items; Franck Pachot, "DynamoDB Scan (and why 128.5 RCU?)", dbi-services.com): two small
    // numbers and a 1,000-character string.
    assert_eq!(item_size(&item(json!({"MyKeyPart": {"N": "32"}, "MyKeySort": {"N": "1734"}, "MyUnstructuredData": {"S": "x".repeat(1000)}}))), 1041);

    // read-write-operations.html: "reading a 3,500-byte item consumes the same throughput as
    // reading a 4 KB item"; an 8 KB item: 2 units strongly consistent, 1 eventually; a GetItem
    // of 10 KB rounds to 12 KB; BatchGetItem of 1.5 KB + 6.5 KB bills 4 KB + 8 KB; a Query
    // returning 40.8 KB rounds to 44 KB; 1,500 items of 64 bytes are 96 KB; an eventually
    // consistent read of 80 KB is 10 units; an item that does not exist still costs 1 (0.5).
    assert_eq!(read_halves(3500, true), 2);
    assert_eq!((read_halves(8 * 1024, true), read_halves(8 * 1024, false)), (4, 2));
    assert_eq!(read_halves(10 * 1024, true), 6);
    assert_eq!(read_halves(1536, true) + read_halves(6656, true), 6);
    assert_eq!(read_halves(41_779, true), 22, "40.8 KB → 44 KB → 11 units");
    assert_eq!(read_halves(1500 * 64, true), 48);
    assert_eq!(read_halves(80 * 1024, false), 20);
    assert_eq!((read_halves(0, true), read_halves(0, false)), (2, 1));
    // Writes: a 500-byte item is 1 KB; 1.6 KB rounds to 2 KB; BatchWriteItem of 500 bytes and
    // 3.5 KB bills 1 + 4.
    assert_eq!(write_units(500), 1);
    assert_eq!(write_units(1638), 2);
    assert_eq!(write_units(500) + write_units(3584), 5);
    // GSI.html: a query of an index returning 8 entries of 2,000 bytes: 16,000 bytes → 16 KB,
    // eventually consistent: 2 units.
    assert_eq!(read_halves(8 * 2000, false), 4);

    // The billing of whole requests, on a table with one ALL index (gsi) keyed on `g`.
    let schema = Schema { keys: vec!["pk".into(), "sk".into()], indexes: vec![Index { name: "gsi".into(), keys: vec!["g".into()], projection: Projection::All }] };
    let small = |g: Option<&str>, v: &str| {
        let mut i = item(json!({"pk": {"S": "STUDENT#1"}, "sk": {"S": "STUDENT"}, "v": {"S": v}}));
        if let Some(g) = g {
            i.insert("g".into(), json!({"S": g}));
        }
        i
    };
    let snap = |i: Option<Item>| i.map(|i| Snapshot::from([(schema.key_of(&i), i)])).unwrap_or_default();
    let call = |op: &str, request: Value| Call { op: op.into(), request, status: Some(200), response: json!({}) };
    let wru = |calls: &[Call], b: Option<Item>, a: Option<Item>| bill(&schema, calls, &snap(b), &snap(a)).iter().map(Bill::wru).sum::<u64>();
    let put = |i: &Item| call("PutItem", json!({ "Item": i }));
    let tx = |i: &Item| call("TransactWriteItems", json!({ "TransactItems": [{ "Put": { "Item": i } }] }));
    // transaction-apis.html: "each transaction writes three 500-byte items … each item
    // requires two write capacity units": 6.
    let three: Vec<Item> = (0..3).map(|k| item(json!({"pk": {"S": format!("P#{k}")}, "sk": {"S": "x"}, "d": {"S": "x".repeat(480)}}))).collect();
    let txn = call("TransactWriteItems", json!({ "TransactItems": three.iter().map(|i| json!({ "Put": { "Item": i } })).collect::<Vec<_>>() }));
    let after3: Snapshot = three.iter().map(|i| (schema.key_of(i), i.clone())).collect();
    assert_eq!(bill(&schema, &[txn], &Snapshot::new(), &after3)[0].wru(), 6);
    // GSI.html's cases: no index key before or after: no index write; entry appears: 1;
    // projected attributes change under the same key: 1; key changes: 2; entry disappears: 1.
    assert_eq!(wru(&[put(&small(None, "b"))], Some(small(None, "a")), Some(small(None, "b"))), 1);
    assert_eq!(wru(&[put(&small(Some("x"), "a"))], None, Some(small(Some("x"), "a"))), 1 + 1);
    assert_eq!(wru(&[put(&small(Some("x"), "b"))], Some(small(Some("x"), "a")), Some(small(Some("x"), "b"))), 1 + 1);
    assert_eq!(wru(&[put(&small(Some("y"), "a"))], Some(small(Some("x"), "a")), Some(small(Some("y"), "a"))), 1 + 2);
    assert_eq!(wru(&[put(&small(None, "a"))], Some(small(Some("x"), "a")), Some(small(None, "a"))), 1 + 1);
    // In a transaction the table write doubles, the index write does not.
    assert_eq!(wru(&[tx(&small(Some("y"), "a"))], Some(small(Some("x"), "a")), Some(small(Some("y"), "a"))), 2 + 2);
    // "the item size that matters is the larger of the two": a 1.5 KB item shrunk to 0.5 KB.
    let big = item(json!({"pk": {"S": "STUDENT#1"}, "sk": {"S": "STUDENT"}, "v": {"S": "x".repeat(1500)}}));
    assert_eq!(wru(&[put(&small(None, "a"))], Some(big.clone()), Some(small(None, "a"))), 2);
    // KEYS_ONLY: a change of a non-key attribute needs no index write.
    let keys_only = Schema { indexes: vec![Index { projection: Projection::KeysOnly, ..schema.indexes[0].clone() }], ..schema.clone() };
    let b = small(Some("x"), "a");
    let a = small(Some("x"), "b");
    let bills = bill(&keys_only, &[put(&a)], &Snapshot::from([(keys_only.key_of(&b), b.clone())]), &Snapshot::from([(keys_only.key_of(&a), a.clone())]));
    assert_eq!(bills[0].wru(), 1);
}
