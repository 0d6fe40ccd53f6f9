//! `chartimpact diff OLD NEW`.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use diff_core::report::{self, ComparisonDocument, MarkdownOptions, TextOptions, Timings};
use diff_core::{DiffOptionsBuilder, Level, ParseOptions, SecretHandling};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
    Markdown,
    Unified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum FailOn {
    None,
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Secrets {
    Suppress,
    Show,
    Decode,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Report and filter flags shared by the commands that print a comparison.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: Output,
    /// Ignore labels and annotations (on objects and pod templates).
    #[arg(long)]
    ignore_labels: bool,
    /// What Secret values may show.
    #[arg(long, value_enum, default_value = "suppress")]
    secrets: Secrets,
    /// Leave out resources of this kind (repeatable).
    #[arg(long = "suppress-kind", value_name = "KIND")]
    suppress_kinds: Vec<String>,
    /// Leave out changes whose path matches this regex.
    #[arg(long, value_name = "RE")]
    suppress_regex: Option<String>,
    /// Context lines in line diffs and unified output.
    #[arg(long = "context", value_name = "N", default_value_t = 3)]
    context: usize,
    /// Exit 3 when a signal at or above this level is found.
    #[arg(long, value_enum, default_value = "none")]
    fail_on: FailOn,
    /// Exit 2 when anything changed.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Namespace given to objects that name none (the release namespace).
    #[arg(long, short = 'n', default_value = "default")]
    pub namespace: String,
    /// Colour in text output.
    #[arg(long, value_enum, default_value = "auto")]
    color: Color,
}

/// Arguments of `chartimpact diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old manifest stream (`-` for stdin).
    old: String,
    /// The new manifest stream (`-` for stdin).
    new: String,
    #[command(flatten)]
    report: ReportArgs,
}

fn read_input(path: &str, stdin_used: &mut bool) -> anyhow::Result<(String, String)> {
    if path == "-" {
        if *stdin_used {
            bail!("both inputs are `-`: only one side can come from stdin");
        }
        *stdin_used = true;
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the manifest from stdin")?;
        return Ok(("stdin".into(), s));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    Ok((path.to_owned(), text))
}

impl ReportArgs {
    /// The diff options these flags ask for.
    pub fn diff_options(&self) -> anyhow::Result<diff_core::DiffOptions> {
        let mut b = DiffOptionsBuilder::new();
        b.namespace(&self.namespace)
            .ignore_labels(self.ignore_labels)
            .context_lines(self.context)
            .secret_handling(self.secret_handling());
        for k in &self.suppress_kinds {
            b.suppress_kind(k);
        }
        if let Some(re) = &self.suppress_regex {
            b.suppress_regex(re);
        }
        Ok(b.build()?)
    }

    /// `suppress`, `show` or `decode`.
    pub fn secret_handling(&self) -> SecretHandling {
        match self.secrets {
            Secrets::Suppress => SecretHandling::Suppress,
            Secrets::Show => SecretHandling::Show,
            Secrets::Decode => SecretHandling::Decode,
        }
    }

    /// The request fields these flags set (names as the API's).
    pub fn apply_to(&self, req: &mut service::CompareRequest) {
        req.ignore_labels = self.ignore_labels;
        req.secret_handling = Some(self.secret_handling());
        req.context_lines = Some(self.context);
        req.suppress_kinds = self.suppress_kinds.clone();
        req.suppress_regex = self.suppress_regex.clone();
        req.namespace = Some(self.namespace.clone());
    }

    /// Prints a comparison in the chosen format (`json` prints `json_doc`) and returns the exit
    /// code the flags ask for.
    pub fn print(
        &self,
        cmp: &diff_core::Comparison,
        json_doc: impl FnOnce() -> String,
    ) -> anyhow::Result<ExitCode> {
        let out = match self.output {
            Output::Text => report::text(
                cmp,
                &TextOptions {
                    color: self.color_on(),
                },
            ),
            Output::Markdown => report::markdown(cmp, &MarkdownOptions::default()),
            Output::Unified => report::unified(cmp, self.context),
            Output::Json => json_doc(),
        };
        write_stdout(&out)?;
        Ok(exit_code(cmp, self))
    }

    fn color_on(&self) -> bool {
        match self.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
/// Seconds since the Unix epoch by the system clock (the time a comparison is stamped with).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn write_stdout(out: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("cannot write the report"),
    }
}

pub fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let r = &args.report;
    let opts = r.diff_options()?;
    let mut stdin_used = false;
    let (old_name, old_text) = read_input(&args.old, &mut stdin_used)?;
    let (new_name, new_text) = read_input(&args.new, &mut stdin_used)?;
    let parse_opts = ParseOptions {
        namespace: r.namespace.clone(),
        ..ParseOptions::default()
    };
    let t0 = Instant::now();
    let (before, after) = std::thread::scope(|s| {
        let old = s.spawn(|| diff_core::parse_manifest(&old_name, &old_text, &parse_opts));
        let new = diff_core::parse_manifest(&new_name, &new_text, &parse_opts);
        (old.join().expect("parser thread panicked"), new)
    });
    let (before, after) = (before?, after?);
    let t1 = Instant::now();
    let source = |n: &str| if n == "stdin" { "stdin" } else { "file" }.to_owned();
    let cmp = diff_core::compare_with_sources(
        &before,
        &after,
        &opts,
        &diff_core::Sources {
            left: source(&old_name),
            right: source(&new_name),
            generated_at: diff_core::rfc3339(unix_now()),
        },
    );
    let t2 = Instant::now();
    // The process exits right after printing; freeing megabytes of parsed objects node by node
    // would only delay that.
    std::mem::forget((before, after));
    let code = r.print(&cmp, || {
        let timings: Timings = [
            ("parse".to_owned(), (t1 - t0).as_millis() as u64),
            ("diff".to_owned(), (t2 - t1).as_millis() as u64),
        ]
        .into();
        ComparisonDocument::new(&cmp, Some(&timings)).to_json()
    })?;
    std::mem::forget(cmp);
    Ok(code)
}

fn exit_code(cmp: &diff_core::Comparison, r: &ReportArgs) -> ExitCode {
    let threshold = match r.fail_on {
        FailOn::None => None,
        FailOn::Low => Some(Level::Low),
        FailOn::Medium => Some(Level::Medium),
        FailOn::High => Some(Level::High),
    };
    if let Some(t) = threshold
        && cmp.impact.signals.iter().any(|s| s.level >= t)
    {
        return ExitCode::from(3);
    }
    if r.detailed_exitcode && !cmp.structured_diff.resources.is_empty() {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
