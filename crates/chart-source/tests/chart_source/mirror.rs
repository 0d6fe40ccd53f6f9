//! The mirror cache: TTL re-fetches, new revisions, concurrency, corruption and rebuilds.

use std::{thread, time::Duration};

use chart_source::{Error, MirrorCache};

use crate::fixtures::{ManualClock, Upstream, cache, cache_with_clock};

fn upstream() -> (Upstream, String) {
    let up = Upstream::new();
    up.chart("chart", "demo");
    let c1 = up.commit("one");
    up.git(&["tag", "v1"]);
    (up, c1)
}

#[test]
fn a_moved_branch_is_refetched_after_the_ttl_and_not_before() {
    let (up, c1) = upstream();
    let clock = ManualClock::new();
    let cache = cache_with_clock(&up.tmp.path().join("data"), &clock);
    let repo = cache.repository(&up.url()).unwrap();
    assert_eq!(repo.resolve("main").unwrap().commit.to_string(), c1);
    assert_eq!(cache.stats().fetches, 1);

    up.write("chart/values.yaml", "replicas: 5\n");
    let c2 = up.commit("two");

    clock.advance(Duration::from_secs(59));
    assert_eq!(
        repo.resolve("main").unwrap().commit.to_string(),
        c1,
        "within the ttl"
    );
    assert_eq!(
        repo.resolve("HEAD").unwrap().commit.to_string(),
        c2,
        "HEAD was never fetched"
    );
    assert_eq!(cache.stats().fetches, 2);

    clock.advance(Duration::from_secs(2));
    assert_eq!(
        repo.resolve("main").unwrap().commit.to_string(),
        c2,
        "after the ttl"
    );
    assert_eq!(cache.stats().fetches, 3);
    assert_eq!(repo.resolve("main").unwrap().commit.to_string(), c2);
    assert_eq!(
        repo.resolve("refs/heads/main").unwrap().commit.to_string(),
        c2
    );
    assert_eq!(cache.stats().fetches, 3, "fresh again");

    // The fetch times survive a restart.
    let restarted = cache_with_clock(&up.tmp.path().join("data"), &clock);
    restarted
        .repository(&up.url())
        .unwrap()
        .resolve("main")
        .unwrap();
    assert_eq!(restarted.stats().fetches, 0);
}

#[test]
fn revisions_added_after_the_mirror_was_made_are_fetched() {
    let (up, c1) = upstream();
    let cache = cache(&up.tmp.path().join("data"));
    let repo = cache.repository(&up.url()).unwrap();
    assert_eq!(repo.resolve("v1").unwrap().commit.to_string(), c1);

    up.write("chart/values.yaml", "replicas: 9\n");
    let c2 = up.commit("two");
    up.git(&["tag", "-a", "v2", "-m", "v2"]);
    up.git(&["branch", "release-2"]);

    assert_eq!(repo.resolve("v2").unwrap().commit.to_string(), c2);
    assert_eq!(repo.resolve("release-2").unwrap().commit.to_string(), c2);
    assert_eq!(repo.resolve(&c2[..9]).unwrap().commit.to_string(), c2);
    let chart = repo.read_chart(&c2.parse().unwrap(), "chart").unwrap();
    assert_eq!(chart.get("values.yaml"), Some(&b"replicas: 9\n"[..]));
}

#[test]
fn concurrent_resolves_on_one_repository_share_one_fetch() {
    let (up, c1) = upstream();
    let other = Upstream::new();
    other.chart("chart", "other");
    let o1 = other.commit("other");
    let cache = cache(&up.tmp.path().join("data"));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let cache = cache.clone();
            let url = if i % 4 == 3 { other.url() } else { up.url() };
            thread::spawn(move || {
                cache
                    .repository(&url)
                    .unwrap()
                    .resolve("main")
                    .unwrap()
                    .commit
                    .to_string()
            })
        })
        .collect();
    let got: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (i, commit) in got.iter().enumerate() {
        assert_eq!(commit, if i % 4 == 3 { &o1 } else { &c1 });
    }
    assert_eq!(cache.stats().fetches, 2, "one fetch per repository");
    assert_eq!(cache.stats().mirrors_created, 2);
}

#[test]
fn two_cache_instances_on_one_directory_do_not_fetch_twice() {
    // Separate instances have separate in-process locks, like two processes: only the lock
    // file and the recorded fetch times keep them from corrupting or re-fetching the mirror.
    let (up, c1) = upstream();
    let data = up.tmp.path().join("data");
    let caches = [cache(&data), cache(&data)];
    let handles: Vec<_> = (0..6)
        .map(|i| {
            let cache = caches[i % 2].clone();
            let url = up.url();
            thread::spawn(move || {
                cache
                    .repository(&url)
                    .unwrap()
                    .resolve("main")
                    .unwrap()
                    .commit
                    .to_string()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), c1);
    }
    let fetches: u64 = caches.iter().map(|c| c.stats().fetches).sum();
    let created: u64 = caches.iter().map(|c| c.stats().mirrors_created).sum();
    assert_eq!((fetches, created), (1, 1));
}

fn mirror_with_data(up: &Upstream) -> (MirrorCache, std::path::PathBuf) {
    let data = up.tmp.path().join("data");
    let cache = cache(&data);
    let repo = cache.repository(&up.url()).unwrap();
    repo.resolve("main").unwrap();
    (cache, repo.mirror_dir().to_owned())
}

fn assert_rebuilt_and_working(up: &Upstream, c1: &str) {
    let cache = cache(&up.tmp.path().join("data"));
    let repo = cache.repository(&up.url()).unwrap();
    assert_eq!(cache.stats().rebuilds, 1);
    assert_eq!(repo.resolve("v1").unwrap().commit.to_string(), c1);
    let chart = repo.read_chart(&c1.parse().unwrap(), "chart").unwrap();
    assert_eq!(chart.get("values.yaml"), Some(&b"replicas: 1\n"[..]));
}

#[test]
fn a_mirror_without_its_ready_marker_is_rebuilt() {
    let (up, c1) = upstream();
    let (_, dir) = mirror_with_data(&up);
    std::fs::remove_file(dir.join("chartimpact-ready")).unwrap();
    assert_rebuilt_and_working(&up, &c1);
}

#[test]
fn a_mirror_with_a_truncated_pack_is_rebuilt() {
    let (up, c1) = upstream();
    let (_, dir) = mirror_with_data(&up);
    let packs: Vec<_> = std::fs::read_dir(dir.join("objects/pack"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pack"))
        .collect();
    assert!(!packs.is_empty(), "the fetch wrote a pack");
    for pack in packs {
        let len = std::fs::metadata(&pack).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&pack)
            .unwrap()
            .set_len(len / 2)
            .unwrap();
    }
    assert_rebuilt_and_working(&up, &c1);
}

#[test]
fn a_mirror_with_deleted_objects_is_rebuilt() {
    let (up, c1) = upstream();
    let (_, dir) = mirror_with_data(&up);
    std::fs::remove_dir_all(dir.join("objects/pack")).unwrap();
    std::fs::create_dir(dir.join("objects/pack")).unwrap();
    assert_rebuilt_and_working(&up, &c1);
}

#[test]
fn a_mirror_that_is_not_a_repository_is_rebuilt() {
    let (up, c1) = upstream();
    let (_, dir) = mirror_with_data(&up);
    std::fs::write(dir.join("HEAD"), "garbage").unwrap();
    std::fs::remove_dir_all(dir.join("refs")).unwrap();
    assert_rebuilt_and_working(&up, &c1);
}

#[test]
fn damage_found_while_reading_rebuilds_the_mirror() {
    let (up, c1) = upstream();
    let (_, dir) = mirror_with_data(&up);
    // One blob disappears while every ref still points at an existing commit, so the check at
    // open passes and the damage shows only when the chart is read: unpack the pack into
    // loose objects and delete the loose values.yaml blob.
    let pack_dir = dir.join("objects/pack");
    let aside = up.tmp.path().join("aside");
    std::fs::rename(&pack_dir, &aside).unwrap();
    std::fs::create_dir(&pack_dir).unwrap();
    for pack in std::fs::read_dir(&aside)
        .unwrap()
        .flatten()
        .map(|e| e.path())
    {
        if pack.extension().is_some_and(|e| e == "pack") {
            let status = std::process::Command::new("git")
                .arg("--git-dir")
                .arg(&dir)
                .arg("unpack-objects")
                .arg("-q")
                .stdin(std::fs::File::open(&pack).unwrap())
                .status()
                .unwrap();
            assert!(status.success());
        }
    }
    let blob = up.git(&["rev-parse", &format!("{c1}:chart/values.yaml")]);
    std::fs::remove_file(dir.join("objects").join(&blob[..2]).join(&blob[2..])).unwrap();

    let cache = cache(&up.tmp.path().join("data"));
    let repo = cache.repository(&up.url()).unwrap();
    assert_eq!(
        cache.stats().rebuilds,
        0,
        "the damage is not visible at open"
    );
    let chart = repo.read_chart(&c1.parse().unwrap(), "chart").unwrap();
    assert_eq!(chart.get("values.yaml"), Some(&b"replicas: 1\n"[..]));
    assert_eq!(cache.stats().rebuilds, 1);
}

#[test]
fn an_unreachable_repository_is_reported_with_what_was_tried() {
    let up = Upstream::new();
    // An empty directory is not a git repository: git-upload-pack fails.
    let empty = up.tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let cache = cache(&up.tmp.path().join("data"));
    let repo = cache.repository(empty.to_str().unwrap()).unwrap();
    let err = repo.resolve("main").unwrap_err();
    assert!(
        matches!(err, Error::RepositoryUnreachable { .. }),
        "{err:?}"
    );
    let text = anyhow_like(&err);
    assert!(text.contains("fetch"), "{text}");
}

/// The error and its sources on one line, as a binary would print them.
fn anyhow_like(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out
}

#[test]
fn a_set_interrupt_flag_cancels_fetches() {
    let (up, c1) = upstream();
    let cache = cache(&up.tmp.path().join("data"));
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let repo = cache.repository(&up.url()).unwrap();
    let cancelled = repo.with_interrupt(flag.clone());
    assert!(matches!(
        cancelled.resolve("main").unwrap_err(),
        Error::Cancelled
    ));
    assert!(matches!(
        cancelled
            .read_chart(&c1.parse().unwrap(), "chart")
            .unwrap_err(),
        Error::Cancelled
    ));
    flag.store(false, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(cancelled.resolve("main").unwrap().commit.to_string(), c1);
}

#[test]
fn over_its_size_limit_the_least_recently_used_mirrors_go_and_one_in_use_stays() {
    let (a, _) = upstream();
    let (b, _) = upstream();
    let (c, c1) = upstream();
    let data = a.tmp.path().join("data");
    let cache = cache(&data);
    for up in [&a, &b] {
        let repo = cache.repository(&up.url()).unwrap();
        repo.resolve("v1").unwrap();
    }
    // `c` is used last and its handle is kept: in use.
    std::thread::sleep(Duration::from_millis(20));
    let held = cache.repository(&c.url()).unwrap();
    held.resolve("v1").unwrap();
    let total = cache.disk_usage();
    assert!(total > 0);
    assert_eq!(cache.evict_to(u64::MAX).evicted, 0, "within the limit");

    // A limit that holds about one mirror: the two older go, the one in use stays.
    let out = cache.evict_to(total / 3);
    assert_eq!(out.evicted, 2, "{out:?}");
    assert!(out.evicted_bytes > 0 && out.bytes < total, "{out:?}");
    assert_eq!(cache.disk_usage(), out.bytes);
    assert_eq!(held.resolve("v1").unwrap().commit.to_string(), c1);

    // Nothing left to evict but the mirror in use: it is counted as such and kept.
    let out = cache.evict_to(0);
    assert_eq!((out.evicted, out.in_use), (0, 1), "{out:?}");
    drop(held);

    // An evicted mirror is cloned again on its next use.
    let fetches = cache.stats().fetches;
    cache.repository(&a.url()).unwrap().resolve("v1").unwrap();
    assert!(cache.stats().fetches > fetches);
}

/// Files of `dir` (recursively) in bytes.
fn disk_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                disk_size(&e.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

#[test]
fn mirrors_hold_the_revisions_asked_for_and_fetch_history_only_when_a_lookup_needs_it() {
    let up = Upstream::new();
    up.chart("chart", "demo");
    let first = up.commit("chart");
    // A long history of large, incompressible files that no compare of the chart needs.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for i in 0..40 {
        let noise: String = (0..20_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(b'a' + (seed % 26) as u8)
            })
            .collect();
        up.write(&format!("other/f{}.txt", i % 5), &noise);
        up.commit(&format!("other {i}"));
    }
    up.git(&["tag", "before"]);
    up.write("chart/values.yaml", "replicas: 5\n");
    up.commit("after");
    up.git(&["tag", "after"]);
    up.git(&["gc", "-q"]);
    let upstream_size = disk_size(&up.dir.join(".git/objects"));

    let data = up.tmp.path().join("data");
    let cache = cache(&data);
    let repo = cache.repository(&up.url()).unwrap();
    let before = repo.resolve("before").unwrap();
    let after = repo.resolve("after").unwrap();
    assert!(repo.read_chart(&before.commit, "chart").is_ok());
    assert!(repo.read_chart(&after.commit, "chart").is_ok());
    let changed = repo.changed_paths(&before.commit, &after.commit).unwrap();
    assert_eq!(
        changed.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
        ["chart/values.yaml"]
    );
    let shallow_size = disk_size(&repo.mirror_dir().join("objects"));
    assert!(
        shallow_size * 4 < upstream_size,
        "two tips kept {shallow_size} bytes of a {upstream_size}-byte history"
    );

    // The first commit is no tip: its abbreviated id needs the history, fetched then.
    let fetches = cache.stats().fetches;
    assert_eq!(
        repo.resolve(&first[..10]).unwrap().commit.to_string(),
        first
    );
    assert!(cache.stats().fetches > fetches);
    assert!(
        repo.read_chart(&repo.resolve(&first).unwrap().commit, "chart")
            .is_ok()
    );
}

#[test]
fn git_lock_files_a_killed_fetch_left_do_not_block_later_fetches() {
    let (up, _) = upstream();
    let data = up.tmp.path().join("data");
    let cache = cache(&data);
    cache.repository(&up.url()).unwrap().resolve("v1").unwrap();
    let mirror = cache.mirror_dir(&up.url()).unwrap();
    // What a process killed in the middle of a fetch leaves behind.
    std::fs::write(mirror.join("shallow.lock"), "").unwrap();
    std::fs::write(mirror.join("packed-refs.lock"), "").unwrap();
    up.write("chart/values.yaml", "replicas: 7\n");
    let c2 = up.commit("two");
    up.git(&["tag", "v2"]);
    let restarted = crate::fixtures::cache(&data);
    let repo = restarted.repository(&up.url()).unwrap();
    assert_eq!(repo.resolve("v2").unwrap().commit.to_string(), c2);
    assert!(!mirror.join("shallow.lock").exists());
}

#[test]
fn a_compare_s_two_names_are_fetched_in_one_round_trip() {
    let (up, c1) = upstream();
    up.write("chart/values.yaml", "replicas: 5\n");
    let c2 = up.commit("two");
    up.git(&["tag", "v2"]);
    let cache = cache(&up.tmp.path().join("data"));
    let repo = cache.repository(&up.url()).unwrap();
    // A tag, a branch, and a name the remote does not have: one fetch for all of them.
    repo.prefetch(&["v1", "main", "no-such-tag"]);
    assert_eq!(cache.stats().fetches, 1);
    assert_eq!(repo.resolve("v1").unwrap().commit.to_string(), c1);
    assert_eq!(repo.resolve("main").unwrap().commit.to_string(), c2);
    assert_eq!(cache.stats().fetches, 1, "both came with the prefetch");
    // The unknown name is still reported by `resolve`, with its own fetch.
    assert!(matches!(
        repo.resolve("no-such-tag"),
        Err(Error::RevisionNotFound { .. })
    ));
    assert_eq!(cache.stats().fetches, 2);
    // Names already held need no prefetch (`v2` came along as a tag of a fetched commit); a
    // single missing name is left to `resolve`.
    up.git(&["tag", "v3", &c1]);
    repo.prefetch(&["v1", "main", "v2"]);
    repo.prefetch(&["v1", "v3"]);
    assert_eq!(cache.stats().fetches, 2);
    assert_eq!(repo.resolve("v2").unwrap().commit.to_string(), c2);
    assert_eq!(repo.resolve("v3").unwrap().commit.to_string(), c1);
    assert_eq!(cache.stats().fetches, 3);
}

#[test]
fn a_repository_named_by_its_path_is_read_in_place_and_never_written() {
    let up = Upstream::new();
    up.chart("chart", "demo");
    up.commit("chart");
    up.git(&["tag", "before"]);
    for i in 0..10 {
        up.write(&format!("other/f{i}.txt"), &format!("{i}").repeat(30_000));
        up.commit(&format!("other {i}"));
    }
    up.write("chart/values.yaml", "replicas: 5\n");
    up.commit("after");
    up.git(&["tag", "after"]);
    up.git(&["gc", "-q"]);
    let refs = up.git(&["for-each-ref"]);
    let objects = up.git(&["count-objects", "-v"]);

    let cache = cache(&up.tmp.path().join("data"));
    let repo = cache.repository(&up.path()).unwrap();
    let before = repo.resolve("before").unwrap();
    let after = repo.resolve("after").unwrap();
    assert!(repo.read_chart(&before.commit, "chart").is_ok());
    let chart = repo.read_chart(&after.commit, "chart").unwrap();
    assert_eq!(chart.get("values.yaml"), Some(&b"replicas: 5\n"[..]));
    let changed = repo.changed_paths(&before.commit, &after.commit).unwrap();
    assert!(changed.iter().any(|c| c.path == "chart/values.yaml"));
    // The mirror borrows the repository's objects (git's alternates) instead of copying them.
    let alternates = repo.mirror_dir().join("objects/info/alternates");
    let borrowed = std::fs::read_to_string(&alternates).unwrap();
    assert!(
        borrowed.trim_end().ends_with("upstream/.git/objects"),
        "{borrowed}"
    );
    let kept = disk_size(&repo.mirror_dir().join("objects"));
    assert!(kept < 64 << 10, "the mirror kept {kept} bytes of objects");
    // Nothing was written to the repository.
    assert_eq!(up.git(&["for-each-ref"]), refs);
    assert_eq!(up.git(&["count-objects", "-v"]), objects);

    // The same repository as a `file://` URL is fetched from like a remote: its mirror holds
    // copies.
    let other = crate::fixtures::cache(&up.tmp.path().join("data-url"));
    let by_url = other.repository(&up.url()).unwrap();
    let at = by_url.resolve("after").unwrap();
    assert_eq!(at.commit, after.commit);
    assert!(!by_url.mirror_dir().join("objects/info/alternates").exists());
}
