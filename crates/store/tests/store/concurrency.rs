//! Concurrent saves, claims and enqueues, as from several workers or replicas.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use store::{JobId, JobStatus, ListQuery, PopularQuery, QueueLimits, QueueStats, Store};

use crate::harness::{LEASE, after, databases, id, job, key, minutes, result, t0};

async fn save_concurrently(store: &Arc<dyn Store>, ids: impl Iterator<Item = u8>) -> Vec<bool> {
    let tasks: Vec<_> = ids
        .map(|n| {
            let store = Arc::clone(store);
            tokio::spawn(async move { store.save_result(result(id(n), t0())).await })
        })
        .collect();
    let mut deduplicated = Vec::new();
    for task in tasks {
        deduplicated.push(task.await.unwrap().unwrap().deduplicated);
    }
    deduplicated
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_saves_of_one_id_make_one_row() {
    for db in databases().await {
        let store = db.open().await;
        let deduplicated = save_concurrently(&store, std::iter::repeat_n(7, 16)).await;
        assert_eq!(
            deduplicated.iter().filter(|d| !**d).count(),
            1,
            "{deduplicated:?}"
        );
        let got = store.get_result(&id(7), t0()).await.unwrap().unwrap();
        assert_eq!(got.summary.compare_count, 16);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM compare_results").await, 1);
        let page = store.list_results(ListQuery::new(t0())).await.unwrap();
        assert_eq!(page.total, 1);
        let popular = store
            .popular_charts(PopularQuery::new(t0(), after(t0(), minutes(1))))
            .await
            .unwrap();
        assert_eq!(popular.total_comparisons, 16);
        assert_eq!(popular.charts[0].comparison_count, 16);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_of_different_ids_and_reads() {
    for db in databases().await {
        let store = db.open().await;
        // Readers running while 32 results are written.
        let reader = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for _ in 0..20 {
                    store.list_results(ListQuery::new(t0())).await.unwrap();
                    store.get_result(&id(1), t0()).await.unwrap();
                }
            })
        };
        let deduplicated = save_concurrently(&store, 1..=32).await;
        reader.await.unwrap();
        assert!(deduplicated.iter().all(|d| !d));
        let page = store.list_results(ListQuery::new(t0())).await.unwrap();
        assert_eq!(page.total, 32);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_resaves_of_an_expired_result_replace_it_once() {
    for db in databases().await {
        let store = db.open().await;
        store.save_result(result(id(1), t0())).await.unwrap();
        let later = after(t0(), minutes(180));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.save_result(result(id(1), later)).await })
            })
            .collect();
        let mut fresh = 0;
        for task in tasks {
            if !task.await.unwrap().unwrap().deduplicated {
                fresh += 1;
            }
        }
        assert_eq!(fresh, 1);
        let got = store.get_result(&id(1), later).await.unwrap().unwrap();
        assert_eq!(got.summary.compare_count, 12);
        assert_eq!(got.summary.created_at, later);
    }
}

/// Claimers on two separately opened stores (two replicas) drain a queue: every job is
/// completed exactly once, none is left, and no repository ever has more running jobs than
/// its limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_claimers_on_two_replicas_complete_two_hundred_jobs_once_each() {
    const JOBS: usize = 200;
    const REPOS: usize = 3;
    const PER_REPO: u32 = 1;
    for db in databases().await {
        let replicas = [db.open().await, db.open().await];
        let limits = QueueLimits {
            max_queued: 10_000,
            max_active_per_repo: PER_REPO,
        };
        let (mut ids, mut statuses) = (Vec::new(), Vec::new());
        for n in 0..JOBS {
            let key = format!("org{}/charts#pr/{n}", n % REPOS);
            let at = after(t0(), Duration::from_millis(n as u64 % 7));
            let enqueued = replicas[n % 2]
                .enqueue_job(job(&key, "sha", at), limits)
                .await
                .unwrap();
            ids.push(enqueued.job_id);
            statuses.push(enqueued.status);
        }
        // One per repository fits; the rest wait, deferred.
        let queued = statuses.iter().filter(|s| **s == JobStatus::Queued).count();
        assert_eq!(queued, REPOS * PER_REPO as usize);

        let completions = Arc::new(Mutex::new(HashMap::<JobId, u32>::new()));
        // Per repository, the jobs between "claimed" and "completion asked": never more than
        // the database has running.
        let in_hand = Arc::new(Mutex::new(HashMap::<store::RepoName, u32>::new()));
        let now = after(t0(), minutes(1));
        let claimers: Vec<_> = (0..4)
            .map(|w| {
                let store = Arc::clone(&replicas[w % 2]);
                let completions = Arc::clone(&completions);
                let in_hand = Arc::clone(&in_hand);
                tokio::spawn(async move {
                    let worker = format!("replica{}/worker{w}", w % 2);
                    let mut claimed = 0;
                    loop {
                        let Some(job) = store.claim_job(&worker, LEASE, now, limits).await.unwrap()
                        else {
                            let stats = store.queue_stats().await.unwrap();
                            if stats == QueueStats::default() {
                                return claimed;
                            }
                            // The rest is running elsewhere or its repository is full.
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            continue;
                        };
                        claimed += 1;
                        {
                            let mut in_hand = in_hand.lock().unwrap();
                            let n = in_hand.entry(job.repo.clone()).or_default();
                            *n += 1;
                            assert!(*n <= PER_REPO, "{} running in {}", n, job.repo);
                        }
                        tokio::task::yield_now().await;
                        *in_hand.lock().unwrap().get_mut(&job.repo).unwrap() -= 1;
                        let done = store
                            .complete_job(job.id, &worker, vec![job.id.to_string()], now)
                            .await
                            .unwrap();
                        assert!(done, "{} refused to complete {}", worker, job.id);
                        *completions.lock().unwrap().entry(job.id).or_default() += 1;
                    }
                })
            })
            .collect();
        let mut per_claimer = Vec::new();
        for claimer in claimers {
            per_claimer.push(claimer.await.unwrap());
        }
        eprintln!("-- jobs claimed per claimer: {per_claimer:?}");
        assert_eq!(per_claimer.iter().sum::<usize>(), JOBS);

        let completions = completions.lock().unwrap().clone();
        assert_eq!(completions.len(), JOBS);
        assert!(completions.values().all(|&n| n == 1), "{completions:?}");
        for id in &ids {
            assert_eq!(completions.get(id), Some(&1), "job {id}");
        }
        assert_eq!(
            db.scalar("SELECT COUNT(*) FROM jobs WHERE status = 'succeeded' AND attempts = 1")
                .await,
            JOBS as i64
        );
        assert_eq!(
            replicas[0].queue_stats().await.unwrap(),
            QueueStats::default()
        );
        let some = replicas[1].get_job(ids[17]).await.unwrap().unwrap();
        assert_eq!(some.compare_ids, [ids[17].to_string()]);
        for store in replicas {
            store.close().await.unwrap();
        }
    }
}

/// Replicas receiving the same webhook, or pushes in quick succession, at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_enqueues_of_one_key_leave_one_active_job() {
    for db in databases().await {
        let replicas = [db.open().await, db.open().await];
        let enqueue_all = |revisions: Vec<String>| {
            let tasks: Vec<_> = revisions
                .into_iter()
                .enumerate()
                .map(|(n, revision)| {
                    let store = Arc::clone(&replicas[n % 2]);
                    tokio::spawn(async move {
                        store
                            .enqueue_job(
                                job("acme/charts#pr/1", &revision, t0()),
                                QueueLimits::UNLIMITED,
                            )
                            .await
                    })
                })
                .collect();
            async move {
                let mut outcomes = Vec::new();
                for task in tasks {
                    outcomes.push(task.await.unwrap().unwrap());
                }
                outcomes
            }
        };

        // The same revision 16 times: one job.
        let outcomes = enqueue_all(vec!["same".to_owned(); 16]).await;
        assert_eq!(outcomes.iter().filter(|o| !o.coalesced).count(), 1);
        assert!(outcomes.iter().all(|o| o.job_id == outcomes[0].job_id));
        assert_eq!(db.scalar("SELECT COUNT(*) FROM jobs").await, 1);

        // 16 different revisions: each supersedes the one before it.
        let outcomes = enqueue_all((0..16).map(|n| format!("rev{n}")).collect()).await;
        assert!(outcomes.iter().all(|o| !o.coalesced));
        let superseded: usize = outcomes.iter().map(|o| o.superseded.len()).sum();
        assert_eq!(superseded, 16, "each job superseded exactly once");
        assert_eq!(
            db.scalar(
                "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'deferred', 'running')"
            )
            .await,
            1
        );
        let latest = replicas[0]
            .latest_job(&key("acme/charts#pr/1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(latest.status, JobStatus::Queued);
        assert_eq!(
            db.scalar(
                "SELECT COUNT(*) FROM jobs WHERE status = 'superseded' AND superseded_by IS NULL"
            )
            .await,
            0
        );
    }
}
