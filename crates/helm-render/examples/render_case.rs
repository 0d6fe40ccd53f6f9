//! Renders one corpus case side natively N times (for profiling):
//! `cargo run --release -p helm-render --example render_case -- CASE-DIR [SIDE] [N]`.
//! CASE-DIR may also be a chart directory (it holds `Chart.yaml`), rendered with its defaults.

use std::path::PathBuf;
use std::time::Instant;

use helm_render::{ChartFiles, FileLimits, NativeRenderer, Options, Renderer, ValuesFile};

// The CLI's allocator, so that profiles of this example show what `chartimpact render` does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: render_case CASE-DIR [SIDE] [N]"));
    let side = args.next().unwrap_or_else(|| "after".to_string());
    let n: u32 = args.next().map_or(20, |s| s.parse().expect("N"));
    let chart_dir = if dir.join("Chart.yaml").is_file() {
        dir.clone()
    } else {
        dir.join(&side)
    };
    let files = ChartFiles::from_dir(&chart_dir, FileLimits::default()).expect("chart");
    let values = std::fs::read_dir(dir.join("values"))
        .map(|rd| {
            rd.flatten()
                .map(|e| ValuesFile {
                    name: e.file_name().to_string_lossy().into_owned(),
                    content: std::fs::read(e.path()).expect("values"),
                })
                .collect()
        })
        .unwrap_or_default();
    let opts = Options {
        values,
        ..Options::default()
    };
    let native = NativeRenderer::new();
    let t = Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        bytes = native.render(&files, &opts).expect("render").manifest.len();
    }
    let ms = t.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
    println!("{ms:.2} ms per render, {bytes} bytes");
}
