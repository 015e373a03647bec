//! The roster import on DynamoDB: validate every row, plan (later rows for a student win),
//! then write new students and renames in chunks with their schools' counters, all or nothing.

use super::batch::{ChunkFailure, TxOp, chunk_with_counters, counter_op, not_exists};
use gradphoto_core::stats::StatsDelta;
use super::items::{self, StoredStudent, school_from, stored_student};
use super::tx::{self, Cond, n, s};
use super::DynamoRecords;
use crate::keys;
use gradphoto_core::ports::{BackendError, ImportError};
use gradphoto_core::lifecycle;
use gradphoto_core::{RosterRow, School, StudentId};
use std::collections::{BTreeMap, BTreeSet, HashMap};

impl DynamoRecords {
    pub(super) async fn import(&self, rows: &[RosterRow]) -> Result<(u32, u32), ImportError> {
        if rows.is_empty() {
            return Ok((0, 0));
        }
        // 1. Validate everything before writing anything.
        let school_ids: BTreeSet<&str> = rows.iter().map(|r| r.school_id.as_str()).collect();
        let found = self.batch_get(school_ids.iter().map(|id| tx::key(keys::school_pk(id), keys::SCHOOL_SK)).collect()).await?;
        let schools: HashMap<String, School> =
            found.into_iter().map(school_from).map(|r| r.map(|s| (s.school_id.clone(), s))).collect::<Result<_, _>>()?;
        if let Some(r) = rows.iter().find(|r| !schools.contains_key(&r.school_id)) {
            return Err(ImportError::UnknownSchool(r.school_id.clone()));
        }
        let ids: BTreeSet<&StudentId> = rows.iter().map(|r| &r.student_id).collect();
        let existing: HashMap<StudentId, StoredStudent> = self
            .batch_get(ids.iter().map(|id| tx::key(keys::student_pk(id), keys::STUDENT_SK)).collect())
            .await?
            .into_iter()
            .map(|i| stored_student(i).map(|s| (s.student.student_id.clone(), s)))
            .collect::<Result<_, _>>()?;

        // 2. Plan: later rows for the same student win, as they would applied one by one.
        let (mut imported, mut updated) = (0u32, 0u32);
        let mut order: Vec<StudentId> = Vec::new();
        let mut plan: HashMap<StudentId, (RosterRow, Option<&StoredStudent>)> = HashMap::new();
        for row in rows {
            let prior_school = plan
                .get(&row.student_id)
                .map(|(r, _)| r.school_id.as_str())
                .or_else(|| existing.get(&row.student_id).map(|e| e.student.school_id.as_str()));
            match prior_school {
                Some(school) if school != row.school_id => return Err(ImportError::StudentOfAnotherSchool(row.student_id.clone())),
                Some(_) => updated += 1,
                None => imported += 1,
            }
            match plan.get_mut(&row.student_id) {
                Some(p) => p.0 = row.clone(),
                None => {
                    order.push(row.student_id.clone());
                    plan.insert(row.student_id.clone(), (row.clone(), existing.get(&row.student_id)));
                }
            }
        }

        // 3. Write: new students conditional on not existing, renamed ones on their school.
        let mut ops = Vec::new();
        let mut undo_ops = Vec::new();
        for id in &order {
            let (row, before) = &plan[id];
            let district = schools[&row.school_id].district.clone();
            match before {
                None => {
                    let student = lifecycle::enrol(row);
                    let item = items::student_item(&StoredStudent { student, district: district.clone() })?;
                    let key = tx::key(keys::student_pk(id), keys::STUDENT_SK);
                    let counted = vec![Counted::School(row.school_id.clone()), Counted::District(district.clone())];
                    ops.push((counted.clone(), TxOp::Put { item, cond: Some(not_exists()), tag: Some("new".into()) }));
                    undo_ops.push((counted, TxOp::Delete { key, cond: None }, true));
                }
                Some(b) if b.student.name == row.name && b.student.class == row.class => {}
                Some(b) => {
                    let rename = |name: &str, class: &str| TxOp::Update {
                        key: tx::key(keys::student_pk(id), keys::STUDENT_SK),
                        // Bumping the version makes a concurrent upload/review re-read, so it
                        // cannot write back the old name.
                        expr: "SET #n = :n, #c = :c, #k = :k ADD #v :one".into(),
                        cond: Cond::new("#s = :s")
                            .name("#n", "name")
                            .name("#c", "class")
                            .name("#k", keys::GSI1SK)
                            .name("#v", keys::VERSION)
                            .name("#s", "school_id")
                            .value(":n", s(name))
                            .value(":c", s(class))
                            .value(":k", s(keys::roster_sk(class, id)))
                            .value(":one", n(1))
                            .value(":s", s(&row.school_id)),
                    };
                    ops.push((Vec::new(), rename(&row.name, &row.class)));
                    undo_ops.push((Vec::new(), rename(&b.student.name, &b.student.class), false));
                }
            }
        }
        let planned = chunk_with_counters(ops, Counted::op, 1);
        // The undo of chunk i mirrors chunk i exactly (same students, counters reversed).
        let mut undo = Vec::new();
        let mut chunks = Vec::new();
        let mut it = undo_ops.into_iter();
        for (chunk, students) in planned {
            chunks.push(chunk);
            let mut back = Vec::new();
            let mut counted: BTreeMap<Counted, i64> = BTreeMap::new();
            for (keys, op, new) in it.by_ref().take(students) {
                if new {
                    for k in keys {
                        *counted.entry(k).or_default() += 1;
                    }
                }
                back.push(op);
            }
            for (key, k) in counted {
                back.push(key.op(-k));
            }
            undo.push(back);
        }
        match self.run_chunks(chunks, undo).await {
            Ok(()) => Ok((imported, updated)),
            Err(ChunkFailure::Backend(e)) => Err(e.into()),
            Err(ChunkFailure::Condition(failed)) => {
                // A concurrent import created one of these students meanwhile: report it the
                // way validation would have.
                for op in failed {
                    if let TxOp::Put { item, .. } = op
                        && let Some(id) = items::str_attr(&item, "student_id").and_then(|i| StudentId::parse(&i).ok())
                        && let Some(now) = self.get_student(&id).await?
                        && Some(now.student.school_id.as_str()) != items::str_attr(&item, "school_id").as_deref()
                    {
                        return Err(ImportError::StudentOfAnotherSchool(id));
                    }
                }
                Err(BackendError::new("roster changed during import (a concurrent import?); nothing was kept, retry").into())
            }
        }
    }
}

/// What a new student is counted in: its school's status counters and its district's
/// statistics (enrolments go to shard 0; a shard's figures are only ever read summed).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Counted {
    School(String),
    District(String),
}

impl Counted {
    fn op(&self, by: i64) -> TxOp {
        match self {
            Counted::School(school) => counter_op(school, by),
            Counted::District(district) => {
                let mut ops = super::stats::ops(0, district, &StatsDelta::enrolled(by));
                // An enrolment touches only the totals item.
                ops.remove(0)
            }
        }
    }
}
