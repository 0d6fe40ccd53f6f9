//! Bounded-time fuzzing of ChartImpact's parsers of untrusted input, on the stable toolchain:
//! the YAML reader (`yaml`), the template parser and executor (`template`), the native
//! renderer with its values, schema and `--set` handling (`render`), and the GitHub webhook
//! parser (`webhook`).
//!
//! Inputs come from grammars of each format and from mutations of seeds read from the
//! repository (fixture charts, manifests, the template conformance cases) and of earlier
//! inputs. Each input runs on a 2 MiB thread, as a render does on a server. A panic, a
//! broken property (a shallow YAML read that disagrees with the full one, two executions of
//! one template that differ), or an input running longer than `--hang-seconds` is written to
//! the findings directory and reported. An abort (stack overflow, allocation failure under
//! the script's `ulimit -v`) kills the process: the input that caused it is the one in
//! `<out>/.current-<target>`, which `scripts/fuzz.sh` keeps.
//!
//! ```text
//! chartimpact-fuzz [--seconds N] [--seed S] [--out DIR] [--seeds REPO] [TARGET…]
//! chartimpact-fuzz --replay FILE TARGET
//! ```

mod generate;
mod mutate;
mod rng;
mod targets;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rng::Rng;
use targets::{PART_SEPARATOR, Target};

struct Args {
    seconds: u64,
    seed: u64,
    out: PathBuf,
    seeds: PathBuf,
    hang_seconds: u64,
    targets: Vec<Target>,
    replay: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: chartimpact-fuzz [--seconds N] [--seed S] [--out DIR] [--seeds REPO] [--hang-seconds N] [yaml|template|render|webhook…]\n       chartimpact-fuzz --replay FILE TARGET"
    );
    std::process::exit(2)
}

fn args() -> Args {
    let mut a = Args {
        seconds: 60,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        out: PathBuf::from("fuzz/findings"),
        seeds: PathBuf::from("."),
        hang_seconds: 20,
        targets: Vec::new(),
        replay: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--seconds" => a.seconds = value().parse().unwrap_or_else(|_| usage()),
            "--seed" => a.seed = value().parse().unwrap_or_else(|_| usage()),
            "--out" => a.out = PathBuf::from(value()),
            "--seeds" => a.seeds = PathBuf::from(value()),
            "--hang-seconds" => a.hang_seconds = value().parse().unwrap_or_else(|_| usage()),
            "--replay" => a.replay = Some(PathBuf::from(value())),
            t => a.targets.push(Target::parse(t).unwrap_or_else(|| usage())),
        }
    }
    if a.targets.is_empty() {
        a.targets = Target::ALL.to_vec();
    }
    a
}

/// Files under `dir` (recursively) whose names end with one of `exts`.
fn files_under(dir: &Path, exts: &[&str], out: &mut Vec<Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, exts, out);
        } else if exts.iter().any(|x| p.to_string_lossy().ends_with(x))
            && let Ok(data) = std::fs::read(&p)
            && data.len() < 256 << 10
        {
            out.push(data);
        }
    }
}

/// The template sections of the conformance cases file.
fn conformance_templates(root: &Path) -> Vec<Vec<u8>> {
    let text =
        std::fs::read_to_string(root.join("crates/text-template/tests/conformance/cases.tmpl"))
            .unwrap_or_default();
    text.split("=== ")
        .filter_map(|case| {
            case.split_once("--- template\n")
                .map(|(_, t)| t.as_bytes().to_vec())
        })
        .collect()
}

fn seeds(target: Target, root: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let fixtures = root.join("crates/helm-render/tests/fixtures");
    match target {
        Target::Yaml => {
            files_under(&root.join("fixtures"), &[".yaml"], &mut out);
            files_under(&fixtures, &[".yaml", ".out"], &mut out);
        }
        Target::Template => {
            out.extend(conformance_templates(root));
            files_under(
                &fixtures.join("charts"),
                &[".yaml", ".tpl", ".txt"],
                &mut out,
            );
        }
        Target::Render => {
            let mut values = Vec::new();
            files_under(&fixtures, &["values.yaml"], &mut values);
            let templates = conformance_templates(root);
            for (i, t) in templates.iter().enumerate() {
                let v = values
                    .get(i % values.len().max(1))
                    .cloned()
                    .unwrap_or_default();
                let mut input = v;
                input.extend_from_slice(PART_SEPARATOR.as_bytes());
                input.extend_from_slice(t);
                out.push(input);
            }
        }
        Target::Webhook => {}
    }
    out
}

fn generated(target: Target, rng: &mut Rng, funcs: &[&str]) -> Vec<u8> {
    match target {
        Target::Yaml => generate::yaml(rng, 4).into_bytes(),
        Target::Template => generate::template(rng, funcs, 4).into_bytes(),
        Target::Render => [
            generate::yaml(rng, 3),
            generate::template(rng, funcs, 3),
            if rng.one_in(2) {
                generate::schema(rng, 3)
            } else {
                String::new()
            },
            (0..rng.below(3))
                .map(|_| generate::set_expression(rng) + "\n")
                .collect(),
            if rng.one_in(2) {
                generate::yaml(rng, 3)
            } else {
                String::new()
            },
        ]
        .join(PART_SEPARATOR)
        .into_bytes(),
        Target::Webhook => {
            let (event, ct, body) = generate::webhook(rng);
            let mut v = event.into_bytes();
            v.push(0);
            v.extend_from_slice(ct.as_bytes());
            v.push(0);
            v.extend_from_slice(&body);
            v
        }
    }
}

fn save(out: &Path, target: Target, kind: &str, input: &[u8], why: &str) -> PathBuf {
    let mut h = DefaultHasher::new();
    input.hash(&mut h);
    let path = out.join(format!("{}-{kind}-{:016x}", target.name(), h.finish()));
    let _ = std::fs::create_dir_all(out);
    let _ = std::fs::write(&path, input);
    let _ = std::fs::write(path.with_extension("txt"), why);
    path
}

/// What the worker thread is running, for the watchdog.
struct Current {
    started_ms: AtomicU64,
    input: Mutex<Vec<u8>>,
}

fn now_ms(origin: Instant) -> u64 {
    origin.elapsed().as_millis() as u64 + 1
}

fn main() {
    let a = args();
    let panic_message: Arc<Mutex<String>> = Arc::default();
    {
        let msg = panic_message.clone();
        std::panic::set_hook(Box::new(move |info| {
            let loc = info
                .location()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            let text = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            *msg.lock().unwrap_or_else(|e| e.into_inner()) = format!("panic{loc}: {text}");
        }));
    }
    if let Some(file) = &a.replay {
        let input = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for t in &a.targets {
            let r = run_on_thread(*t, input.clone());
            println!("{}: {r:?}", t.name());
        }
        return;
    }
    let funcs_map = text_template::FuncMap::helm();
    let mut funcs: Vec<&str> = funcs_map.names();
    funcs.extend([
        "index", "slice", "len", "eq", "ne", "lt", "print", "printf", "and", "or", "not",
    ]);
    let per_target = Duration::from_secs(a.seconds) / a.targets.len() as u32;
    let origin = Instant::now();
    let current = Arc::new(Current {
        started_ms: AtomicU64::new(0),
        input: Mutex::new(Vec::new()),
    });
    let active: Arc<Mutex<Target>> = Arc::new(Mutex::new(a.targets[0]));
    {
        let (current, active, out, hang) = (
            current.clone(),
            active.clone(),
            a.out.clone(),
            a.hang_seconds,
        );
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(250));
                let started = current.started_ms.load(Ordering::Relaxed);
                if started != 0 && now_ms(origin) - started > hang * 1000 {
                    let input = current
                        .input
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone();
                    let t = *active.lock().unwrap_or_else(|e| e.into_inner());
                    let p = save(&out, t, "hang", &input, &format!("ran over {hang} s"));
                    eprintln!("HANG {}: {}", t.name(), p.display());
                    std::process::exit(3);
                }
            }
        });
    }
    println!("seed {}", a.seed);
    let mut findings = 0;
    for (ti, &target) in a.targets.iter().enumerate() {
        *active.lock().unwrap_or_else(|e| e.into_inner()) = target;
        let mut rng = Rng::new(a.seed ^ (ti as u64 + 1));
        let mut corpus = seeds(target, &a.seeds);
        let seeded = corpus.len();
        let trace = a.out.join(format!(".current-{}", target.name()));
        let _ = std::fs::create_dir_all(&a.out);
        let (start, mut runs, mut found) = (Instant::now(), 0u64, 0);
        let worker = Worker::start();
        let mut trace_file = std::fs::File::create(&trace).ok();
        while start.elapsed() < per_target {
            let input = if !corpus.is_empty() && rng.one_in(2) {
                let base = rng.pick(&corpus).clone();
                let other = rng.pick(&corpus).clone();
                mutate::mutate(&mut rng, &base, &other)
            } else {
                generated(target, &mut rng, &funcs)
            };
            // For aborts, which end the process before anything can be saved.
            if let Some(f) = &mut trace_file {
                use std::io::{Seek, Write};
                let _ = f.set_len(0);
                let _ = f.rewind();
                let _ = f.write_all(&input);
            }
            *current.input.lock().unwrap_or_else(|e| e.into_inner()) = input.clone();
            current.started_ms.store(now_ms(origin), Ordering::Relaxed);
            let r = worker.run(target, input.clone());
            current.started_ms.store(0, Ordering::Relaxed);
            runs += 1;
            let problem = match r {
                Ok(Ok(())) => None,
                Ok(Err(broken)) => Some(("property", broken)),
                Err(()) => Some((
                    "panic",
                    panic_message
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone(),
                )),
            };
            if let Some((kind, why)) = problem {
                let p = save(&a.out, target, kind, &input, &why);
                eprintln!(
                    "{} {}: {why}\n  input: {}",
                    kind.to_uppercase(),
                    target.name(),
                    p.display()
                );
                found += 1;
            } else if input.len() < 64 << 10 {
                // Keep some inputs to mutate further; the corpus stays bounded.
                if corpus.len() < 2000 {
                    corpus.push(input);
                } else if rng.one_in(4) {
                    // Seeds stay; a kept input replaces another kept one.
                    let n = corpus.len();
                    let i = (seeded + rng.below(n.saturating_sub(seeded))).min(n - 1);
                    corpus[i] = input;
                }
            }
        }
        let _ = std::fs::remove_file(&trace);
        println!(
            "{:<8} {runs:>8} inputs in {:>5.1} s ({seeded} seeds), {found} findings",
            target.name(),
            start.elapsed().as_secs_f64()
        );
        findings += found;
    }
    if findings > 0 {
        std::process::exit(1);
    }
}

/// A 2 MiB thread that runs inputs, as a render runs on a server's blocking pool: `Err(())`
/// when the input panicked.
struct Worker {
    inputs: std::sync::mpsc::Sender<(Target, Vec<u8>)>,
    results: std::sync::mpsc::Receiver<Result<Result<(), String>, ()>>,
}

impl Worker {
    fn start() -> Worker {
        let (inputs, rx) = std::sync::mpsc::channel::<(Target, Vec<u8>)>();
        let (tx, results) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                for (target, input) in rx {
                    let r = std::panic::catch_unwind(|| target.run(&input)).map_err(|_| ());
                    if tx.send(r).is_err() {
                        return;
                    }
                }
            })
            .expect("worker thread starts");
        Worker { inputs, results }
    }

    fn run(&self, target: Target, input: Vec<u8>) -> Result<Result<(), String>, ()> {
        self.inputs.send((target, input)).map_err(|_| ())?;
        self.results.recv().map_err(|_| ())?
    }
}

fn run_on_thread(target: Target, input: Vec<u8>) -> Result<Result<(), String>, ()> {
    Worker::start().run(target, input)
}
