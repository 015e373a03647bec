//! The embedded server's check workers: uploads are checked off the request path by a few
//! workers fed from a bounded queue, and a sweep re-queues anything stuck in `uploaded`
//! (a crash between landing and deciding) so that no photo waits forever.

use async_trait::async_trait;
use chrono::Duration;
use gradphoto_core::photo::{self, Report, Rules};
use gradphoto_core::ports::{Clock, PhotoStore, Records};
use gradphoto_core::upload::{Checker, check_and_record};
use gradphoto_core::{Stage, Status, StudentId, messages};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::mpsc;

type Job = (Vec<u8>, Stage, Rules, tokio::sync::oneshot::Sender<Report>);

/// Runs the CPU-bound check on a few dedicated threads, one per check worker: the request
/// threads stay responsive, and each thread keeps one face detector (not one per thread of
/// tokio's large blocking pool, which would multiply the detector's memory).
pub struct PoolChecker {
    jobs: std::sync::mpsc::SyncSender<Job>,
}

impl PoolChecker {
    pub fn new(threads: usize) -> Self {
        let (jobs, rx) = std::sync::mpsc::sync_channel::<Job>(threads.max(1) * 2);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("photo-check-{i}")).spawn(move || {
                loop {
                    let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok((bytes, stage, rules, reply)) = job else { break };
                    let report = std::panic::catch_unwind(|| photo::check(&bytes, stage, &rules)).unwrap_or_else(|_| {
                        // A bug in the check must neither pass nor reject a photo silently: a
                        // person decides, with a flag saying why.
                        tracing::error!("photo check panicked");
                        Report { soft: vec![messages::check_failed()], ..Report::default() }
                    });
                    let _ = reply.send(report);
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a photo-check thread");
            }
        }
        Self { jobs }
    }
}

#[async_trait]
impl Checker for PoolChecker {
    async fn check(&self, bytes: Vec<u8>, stage: Stage, rules: &Rules) -> Report {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let jobs = self.jobs.clone();
        let job = (bytes, stage, rules.clone(), tx);
        // The channel is small; waiting for room happens off the async threads.
        let sent = tokio::task::spawn_blocking(move || jobs.send(job).is_ok()).await.unwrap_or(false);
        match (sent, rx.await) {
            (true, Ok(report)) => report,
            _ => Report { soft: vec![messages::check_failed()], ..Report::default() },
        }
    }
}

#[derive(Clone)]
pub struct CheckQueue {
    tx: mpsc::Sender<StudentId>,
    /// Ids queued and not yet taken by a worker, so a sweep during a backlog does not queue
    /// the same photo twice.
    queued: Arc<std::sync::Mutex<HashSet<StudentId>>>,
}

pub struct Deps {
    pub checker: Arc<dyn Checker>,
    pub records: Arc<dyn Records>,
    pub store: Arc<dyn PhotoStore>,
    pub clock: Arc<dyn Clock>,
    pub rules: Rules,
}

impl CheckQueue {
    pub fn start(deps: Deps, workers: usize, capacity: usize) -> Self {
        let (tx, rx) = mpsc::channel::<StudentId>(capacity.max(1));
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let deps = Arc::new(deps);
        let queued: Arc<std::sync::Mutex<HashSet<StudentId>>> = Arc::default();
        // Zero workers is allowed: photos then wait in `uploaded` for the next start's sweep
        // (used to prove that recovery works).
        for _ in 0..workers {
            let rx = rx.clone();
            let deps = deps.clone();
            let queued = queued.clone();
            tokio::spawn(async move {
                loop {
                    let next = rx.lock().await.recv().await;
                    let Some(id) = next else { break };
                    queued.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                    if let Err(e) = check_one(&deps, &id).await {
                        tracing::error!(error = %e, "check failed; the sweep will retry");
                    }
                }
            });
        }
        Self { tx, queued }
    }

    /// Never waits: an upload is accepted as soon as its bytes are safe, whatever the check
    /// backlog. If the queue is full the photo stays `uploaded` and the sweep queues it later.
    pub async fn enqueue(&self, id: StudentId) {
        let mut queued = self.queued.lock().unwrap_or_else(|p| p.into_inner());
        if !queued.insert(id.clone()) {
            return;
        }
        match self.tx.try_send(id.clone()) {
            Ok(()) => {}
            Err(e) => {
                queued.remove(&id);
                match e {
                    mpsc::error::TrySendError::Full(_) => tracing::warn!("check queue full; the sweep will pick this photo up"),
                    mpsc::error::TrySendError::Closed(_) => tracing::error!("check queue closed"),
                }
            }
        }
    }

    /// Re-queues students left in `uploaded` since before `older_than` ago.
    pub async fn sweep(&self, records: &dyn Records, clock: &dyn Clock, older_than: Duration) -> usize {
        match records.stuck_uploads(clock.now() - older_than).await {
            Ok(stuck) => {
                let n = stuck.len();
                for s in stuck {
                    self.enqueue(s.student_id).await;
                }
                if n > 0 {
                    tracing::info!(count = n, "re-queued stuck uploads");
                }
                n
            }
            Err(e) => {
                tracing::error!(error = %e, "sweep failed");
                0
            }
        }
    }
}

async fn check_one(deps: &Deps, id: &StudentId) -> Result<(), gradphoto_core::ports::BackendError> {
    let Some(student) = deps.records.student(id).await? else { return Ok(()) };
    if student.status != Status::Uploaded {
        return Ok(());
    }
    check_and_record(&*deps.records, &*deps.store, &*deps.checker, &deps.rules, &student, deps.clock.now()).await?;
    Ok(())
}
