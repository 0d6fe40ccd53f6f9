//! A renderer for tests of what sits above rendering (the engine, the server): fast,
//! predictable, and counting its calls.

use std::sync::atomic::{AtomicUsize, Ordering};

use helm_render::{ChartFiles, Options, Outcome, RenderError, Renderer, RendererInfo};

/// Prints each `templates/*.yaml` verbatim, with the values files' text appended as a
/// ConfigMap, and counts its calls. `fail` makes it report a chart error.
#[derive(Default)]
pub struct FakeRenderer {
    /// Renders so far.
    pub calls: AtomicUsize,
    /// When set, every render fails with this chart error.
    pub fail: Option<String>,
}

impl Renderer for FakeRenderer {
    fn info(&self) -> RendererInfo {
        RendererInfo {
            name: "native",
            version: "fake-1".into(),
        }
    }

    fn render(&self, chart: &ChartFiles, options: &Options) -> Result<Outcome, RenderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(m) = &self.fail {
            return Err(RenderError::Chart { message: m.clone() });
        }
        let mut manifest = String::new();
        for (path, data) in chart.iter() {
            if path.starts_with("templates/") && path.ends_with(".yaml") {
                manifest.push_str("---\n");
                manifest.push_str(&String::from_utf8_lossy(data));
            }
        }
        let values: Vec<String> = options
            .values
            .iter()
            .map(|v| String::from_utf8_lossy(&v.content).into_owned())
            .collect();
        manifest.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: values\ndata:\n  values: {:?}\n",
            values.join("|")
        ));
        Ok(Outcome {
            manifest,
            renderer: self.info(),
        })
    }
}
