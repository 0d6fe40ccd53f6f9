//! Renders a chart directory natively, once, with the default options plus `-f` values files
//! and `--set` expressions; prints the manifest's size or the error. For measuring what
//! hostile charts cost (`scripts/hostile-memory.sh` runs it under `/usr/bin/time`):
//! `cargo run --release -p helm-render --example render_dir -- CHART-DIR [-f FILE]… [--set X]…`.

use std::path::PathBuf;
use std::time::Instant;

use helm_render::{ChartFiles, FileLimits, NativeRenderer, Options, Renderer, ValuesFile};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .expect("usage: render_dir CHART-DIR [-f FILE]… [--set X]…"),
    );
    let mut opts = Options::default();
    while let Some(a) = args.next() {
        let value = args.next().expect("a value after the flag");
        match a.as_str() {
            "-f" => opts.values.push(ValuesFile {
                content: std::fs::read(&value).expect("values file"),
                name: value,
            }),
            "--set" => opts.set.push(value),
            other => panic!("unknown flag {other}"),
        }
    }
    let files = ChartFiles::from_dir(&dir, FileLimits::default()).expect("chart");
    let t = Instant::now();
    let r = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || NativeRenderer::new().render(&files, &opts))
        .expect("thread")
        .join()
        .expect("no panic");
    let secs = t.elapsed().as_secs_f64();
    match r {
        Ok(out) => println!("ok: {} bytes in {secs:.2} s", out.manifest.len()),
        Err(e) => {
            let msg = e.to_string();
            let short: String = msg.chars().take(300).collect();
            println!("error in {secs:.2} s: {short}");
        }
    }
}
