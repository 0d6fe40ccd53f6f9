//! Parsing a chart's templates on a second core while the first loads the chart.
//!
//! Parsing is about half of a render's work on a chart of 100 KB of templates, and it depends
//! on nothing but the templates' text: not on the chart's metadata, values, dependencies or
//! schemas, which the rendering thread reads, merges and checks first. So when a chart has
//! enough templates and a values schema (which needs a second thread to be checked beside the
//! templates anyway), a helper thread starts on the templates as soon as the render begins,
//! and the rendering thread joins in when it gets to them: the two share what is left, largest
//! first, and the set is joined as if it had been parsed in one go
//! ([`TemplateSet::parse_all_with`]); the helper then checks the schemas
//! ([`ParseAhead::then`]). Without a schema, a helper earns its start only on a large chart
//! ([`ALONE_BYTES`]): on the 2-core VM the benchmarks run on, a mid-sized chart was no faster
//! with it (sealed-secrets: 4.83 ms median with it, 4.53 without), while charts of 150 KB and
//! more of templates, Bitnami's for instance, were 6–12 % faster (docs/BENCHMARKS.md).
//!
//! Starting at the beginning is the point: on the 2-core VM the benchmarks run on, spawning a
//! thread costs the spawner 75–100 µs and the thread runs 0.05–0.8 ms later (0.7–5 ms on a
//! busier day), which is what two threads started at parse time gained back, and no more
//! (docs/BENCHMARKS.md); started with the render, that delay passes while the values are
//! read. Templates are matched by their contents, so what the helper parsed under a file's
//! path serves the template's final name (subcharts can be aliased), and identical texts (a
//! library chart vendored into every subchart) are parsed once. Templates the render then does
//! not use (a disabled subchart's) cost the helper's time only: their results, errors
//! included, are dropped.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use text_template::helm_objects::FileContent;
use text_template::{ParsedTemplate, TemplateSet};

use crate::files::ChartFiles;

/// Templates being parsed by a helper thread; [`ParseAhead::finish`] collects them.
pub(crate) struct ParseAhead {
    shared: Arc<Shared>,
}

struct Shared {
    /// Each template file's path and contents, largest first: the last to be taken are the
    /// small ones, so neither thread waits long for the other at the end.
    jobs: Vec<(String, Arc<FileContent>)>,
    next: AtomicUsize,
    /// Set when the render ended before it needed the templates: take no more.
    abandoned: AtomicBool,
    state: Mutex<State>,
    settled: Condvar,
    /// Work for the helper once the templates are taken ([`ParseAhead::then`]).
    then: Mutex<Then>,
}

/// Template text (subcharts' included, copies counted) from which a chart without a values
/// schema is parsed ahead too.
pub(crate) const ALONE_BYTES: u64 = 128 << 10;

/// A job for after the templates.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

enum Then {
    /// Nothing yet; the helper is still parsing.
    Open,
    /// Queued while the helper was parsing: it runs it next.
    Queued(Job),
    /// The helper took its job, or ended without one: a job given now is given back.
    Closed,
}

#[derive(Default)]
struct State {
    /// By the address of the file's contents.
    parsed: HashMap<usize, ParsedTemplate>,
    /// A file whose text an earlier job had: its address, and that job's.
    same_as: HashMap<usize, usize>,
    /// Texts taken so far, by length: files of the same length are compared whole (copies are
    /// what has equal lengths, nearly always).
    texts: HashMap<usize, Vec<Arc<FileContent>>>,
    /// Jobs taken and ended, parsed or not.
    ended: usize,
    /// A parser panic on the helper, raised again on the rendering thread.
    panic: Option<Box<dyn Any + Send>>,
}

/// The address that identifies a file's contents.
pub(crate) fn address(content: &Arc<FileContent>) -> usize {
    Arc::as_ptr(content) as usize
}

/// Whether a chart's file at `path` is a template of the chart or of a subchart unpacked
/// under `charts/` (Helm's loader: `templates/` within each chart).
fn is_template(path: &str) -> bool {
    let mut rest = path;
    loop {
        if rest.starts_with("templates/") {
            return true;
        }
        match rest
            .strip_prefix("charts/")
            .and_then(|sub| sub.split_once('/'))
        {
            Some((_, inner)) => rest = inner,
            None => return false,
        }
    }
}

impl ParseAhead {
    /// Starts parsing the templates of `files` on a helper thread, when there is enough to be
    /// worth it and a second core to run it; `None` otherwise (or if no thread could start).
    pub(crate) fn start(files: &ChartFiles) -> Option<ParseAhead> {
        let mut jobs: Vec<(String, Arc<FileContent>)> = files
            .shared()
            .filter(|(path, _)| is_template(path))
            .map(|(path, content)| (path.to_owned(), content.clone()))
            .collect();
        let total: u64 = jobs.iter().map(|(_, c)| c.len()).sum();
        // A chart with a schema needs a second thread for checking it anyway: started with the
        // render, it parses first. Without one, a helper earns its start on large charts only
        // (docs/BENCHMARKS.md).
        let schema: u64 = files
            .shared()
            .filter(|(path, _)| {
                *path == "values.schema.json" || path.ends_with("/values.schema.json")
            })
            .map(|(_, c)| c.len())
            .sum();
        if !crate::native::worth_a_second_thread(schema, total) && total < ALONE_BYTES {
            return None;
        }
        jobs.sort_by_key(|(_, c)| std::cmp::Reverse(c.len()));
        let state = State {
            parsed: HashMap::with_capacity(jobs.len()),
            texts: HashMap::with_capacity(jobs.len()),
            ..State::default()
        };
        let shared = Arc::new(Shared {
            jobs,
            next: AtomicUsize::new(0),
            abandoned: AtomicBool::new(false),
            state: Mutex::new(state),
            settled: Condvar::new(),
            then: Mutex::new(Then::Open),
        });
        let helper = shared.clone();
        std::thread::Builder::new()
            .name("parse-ahead".into())
            .spawn(move || {
                // Counting the cores reads cgroup files (tens of microseconds): done here, off
                // the rendering thread, which finds the count cached. With one core the
                // rendering thread parses everything itself.
                if crate::cores() > 1 {
                    helper.work();
                }
                if let Some(job) = helper.take_then() {
                    job();
                }
            })
            .ok()?;
        Some(ParseAhead { shared })
    }

    /// Gives `job` to the helper, to run once no template is left to take (the rendering
    /// thread may still be finishing its last): a thread the render has already started, where
    /// a new one takes a tenth of a millisecond to start and then competes with both parsing
    /// threads for two cores. `Err(job)` when the helper has already ended.
    pub(crate) fn then(&self, job: Job) -> Result<(), Job> {
        let mut then = self
            .shared
            .then
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match *then {
            Then::Open => {
                *then = Then::Queued(job);
                Ok(())
            }
            Then::Queued(_) | Then::Closed => Err(job),
        }
    }

    /// Parses what the helper has not taken yet alongside it, waits for the helper's last
    /// template, and returns every result. A panic in the helper's parser (a bug) is raised
    /// here.
    pub(crate) fn finish(self) -> Parsed {
        self.shared.work();
        let shared = &self.shared;
        let mut state = shared.lock();
        while state.ended < shared.jobs.len() && state.panic.is_none() {
            state = shared
                .settled
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if let Some(payload) = state.panic.take() {
            std::panic::resume_unwind(payload);
        }
        Parsed {
            parsed: std::mem::take(&mut state.parsed),
            same_as: std::mem::take(&mut state.same_as),
        }
    }
}

impl Drop for ParseAhead {
    fn drop(&mut self) {
        // Finished or not needed: either way the helper has nothing more to take.
        self.shared.abandoned.store(true, Ordering::Relaxed);
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The job queued for the helper, if any; either way no job is taken after this.
    fn take_then(&self) -> Option<Job> {
        let mut then = self.then.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *then, Then::Closed) {
            Then::Queued(job) => Some(job),
            Then::Open | Then::Closed => None,
        }
    }

    /// Takes and parses templates until none is left.
    fn work(&self) {
        // Only the function names matter to parsing; the set itself stays empty.
        let set = TemplateSet::helm();
        while !self.abandoned.load(Ordering::Relaxed) {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some((path, content)) = self.jobs.get(i) else {
                return;
            };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.parse(&set, path, content)
            }));
            let mut state = self.lock();
            state.ended += 1;
            match outcome {
                Ok(Some(parsed)) => {
                    state.parsed.insert(address(content), parsed);
                }
                Ok(None) => {}
                Err(payload) => state.panic = Some(payload),
            }
            // `finish` waits for the last job or a panic; waking it for any other is a system
            // call per template for nothing.
            let settled = state.ended == self.jobs.len() || state.panic.is_some();
            drop(state);
            if settled {
                self.settled.notify_all();
            }
        }
    }

    /// Parses one file, unless a file with the same text was taken before (then it is noted
    /// as its copy and `None` returned).
    fn parse(
        &self,
        set: &TemplateSet,
        path: &str,
        content: &Arc<FileContent>,
    ) -> Option<ParsedTemplate> {
        let bytes = content.bytes();
        {
            let mut state = self.lock();
            let earlier = state.texts.get(&bytes.len()).and_then(|seen| {
                seen.iter()
                    .find(|other| other.bytes() == bytes)
                    .map(address)
            });
            if let Some(other) = earlier {
                state.same_as.insert(address(content), other);
                return None;
            }
            state
                .texts
                .entry(bytes.len())
                .or_default()
                .push(content.clone());
        }
        let text = crate::native::template_text(bytes);
        Some(set.parse_detached(path, &text))
    }
}

/// What was parsed ahead, by the address of each file's contents.
pub(crate) struct Parsed {
    parsed: HashMap<usize, ParsedTemplate>,
    same_as: HashMap<usize, usize>,
}

impl Parsed {
    /// The parse of the file whose contents are at `address` (or of an identical file), once.
    pub(crate) fn take(&mut self, address: usize) -> Option<ParsedTemplate> {
        let address = self.same_as.get(&address).copied().unwrap_or(address);
        self.parsed.remove(&address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::FileLimits;

    fn fixture(name: &str) -> ChartFiles {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/charts")
            .join(name);
        ChartFiles::from_dir(&dir, FileLimits::default()).unwrap()
    }

    #[test]
    fn every_template_is_parsed_ahead_once_per_text() {
        let files = fixture("ahead");
        let ahead = ParseAhead::start(&files).expect("enough templates to parse ahead");
        let mut parsed = ahead.finish();
        let content = |path: &str| {
            files
                .shared()
                .find(|(p, _)| *p == path)
                .map(|(_, c)| address(c))
                .unwrap()
        };
        let templates: Vec<&str> = files
            .shared()
            .map(|(p, _)| p)
            .filter(|p| is_template(p))
            .collect();
        assert_eq!(templates.len(), 7, "{templates:?}");
        // The library vendored twice is one text: parsed once, found through either file.
        let (lib, vendored) = (
            content("charts/lib/templates/_names.tpl"),
            content("charts/web/charts/lib/templates/_names.tpl"),
        );
        assert!(parsed.take(vendored).is_some());
        assert!(parsed.take(lib).is_none(), "taken once");
        // The others, the subchart that does not parse included.
        for path in templates.iter().filter(|p| !p.ends_with("_names.tpl")) {
            assert!(parsed.take(content(path)).is_some(), "{path}");
        }
    }

    #[test]
    fn small_charts_are_parsed_on_the_rendering_thread() {
        assert!(ParseAhead::start(&fixture("re2")).is_none());
    }

    #[test]
    fn charts_without_a_schema_are_parsed_on_the_rendering_thread_unless_large() {
        let mut without = ChartFiles::new();
        for (path, bytes) in fixture("ahead").iter() {
            if path != "values.schema.json" {
                without.insert(path, bytes);
            }
        }
        assert!(ParseAhead::start(&without).is_none());
        let mut with = without.clone();
        with.insert("charts/web/values.schema.json", vec![b' '; 8 << 10]);
        assert!(
            ParseAhead::start(&with).is_some(),
            "a subchart's schema counts"
        );
        // Enough templates to be worth a thread of their own.
        let total: u64 = without
            .iter()
            .filter(|(p, _)| is_template(p))
            .map(|(_, b)| b.len() as u64)
            .sum();
        let filler = format!(
            "{{{{/* {} */}}}}\n",
            "x".repeat((ALONE_BYTES - total) as usize)
        );
        without.insert("charts/web/templates/large.yaml", filler.into_bytes());
        assert!(ParseAhead::start(&without).is_some(), "a large chart");
    }

    #[test]
    fn templates_are_found_in_the_chart_and_its_unpacked_subcharts() {
        assert!(is_template("templates/deployment.yaml"));
        assert!(is_template("templates/_helpers.tpl"));
        assert!(is_template("charts/redis/templates/master.yaml"));
        assert!(is_template("charts/a/charts/b/templates/x.yaml"));
        assert!(!is_template("values.yaml"));
        assert!(!is_template("charts/redis.tgz"));
        assert!(!is_template("charts/redis/values.yaml"));
        assert!(!is_template("files/templates/x.yaml"));
        assert!(!is_template("crds/templates/x.yaml"));
        assert!(!is_template("charts/templates/x.yaml"));
    }
}
