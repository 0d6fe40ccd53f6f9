//! Per-execution state: limits, the injected randomness and clock, and Helm's include counters.

use std::collections::HashMap;
use std::fmt;

use crate::exec::Fail;

/// The default memory budget: 256 MiB. The largest corpus chart (argo-cd) counts 2.9 MB of it.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 256 << 20;

/// Bounds on one execution. Exceeding one fails with [`crate::Error::Limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most evaluation steps (nodes walked plus commands evaluated) over all executions that
    /// share the context.
    pub max_steps: u64,
    /// Most bytes of output (including `include`d text) over all executions sharing the context.
    pub max_output_bytes: usize,
    /// Deepest nesting of `template`, `include` and `tpl`. Each level costs stack: the default
    /// (64) fits a 2 MiB thread stack even in debug builds; raise it only on bigger stacks.
    pub max_depth: usize,
    /// The memory budget: most bytes the executions sharing the context may allocate for what
    /// the input sizes — output, every string, list and map a function returns (padding,
    /// `repeat`, `printf` widths, `list`/`append`/`dict`/`set` growth, `toYaml`, `fromYaml`,
    /// `.Files.Get`), and what value walkers (`deepCopy`, `toJson`) hold while they work.
    /// Checked before allocating wherever the size is known in advance. Bytes are counted as
    /// allocated and never given back, so the count bounds what the input can make the engine
    /// hold and the same input always stops at the same point.
    pub max_memory_bytes: u64,
    /// Most bytes of stack an execution may use below where it started. Templates, control
    /// structures, parentheses and value walkers recurse; a debug build takes about 16 KiB per
    /// `include`. The default (1 MiB) leaves room on a 2 MiB thread (Tokio's blocking threads,
    /// `std` threads) for the frames above and below the check; raise it only on bigger stacks.
    pub max_stack_bytes: usize,
}

impl Default for Limits {
    /// Generous for real charts (the largest corpus chart takes a few hundred thousand steps).
    fn default() -> Self {
        Limits {
            max_steps: 50_000_000,
            max_output_bytes: 256 << 20,
            max_depth: 64,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            max_stack_bytes: 1 << 20,
        }
    }
}

/// Which limit was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// [`Limits::max_steps`].
    Steps(u64),
    /// [`Limits::max_output_bytes`].
    OutputBytes(usize),
    /// [`Limits::max_depth`].
    Depth(usize),
    /// The deadline set with [`ExecContext::with_deadline`] passed; the duration is the budget.
    Time(std::time::Duration),
    /// [`Limits::max_memory_bytes`].
    MemoryBytes(u64),
    /// [`Limits::max_stack_bytes`].
    Stack(usize),
}

impl Limit {
    /// The name of the limit: the [`Limits`] field it comes from, or `deadline`.
    pub fn name(&self) -> &'static str {
        match self {
            Limit::Steps(_) => "max_steps",
            Limit::OutputBytes(_) => "max_output_bytes",
            Limit::Depth(_) => "max_depth",
            Limit::Time(_) => "deadline",
            Limit::MemoryBytes(_) => "max_memory_bytes",
            Limit::Stack(_) => "max_stack_bytes",
        }
    }

    /// The limit's value (bytes, steps, levels, or milliseconds for the deadline).
    pub fn value(&self) -> u64 {
        match self {
            Limit::Steps(n) | Limit::MemoryBytes(n) => *n,
            Limit::OutputBytes(n) | Limit::Depth(n) | Limit::Stack(n) => *n as u64,
            Limit::Time(d) => d.as_millis().try_into().unwrap_or(u64::MAX),
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Steps(n) => write!(f, "template execution exceeded the step limit ({n} steps)"),
            Limit::OutputBytes(n) => {
                write!(f, "template output exceeded the size limit ({n} bytes)")
            }
            Limit::Depth(n) => write!(f, "template nesting exceeded the depth limit ({n} levels)"),
            Limit::Time(d) => write!(
                f,
                "template execution exceeded the time limit ({:.1} s)",
                d.as_secs_f64()
            ),
            Limit::MemoryBytes(n) => {
                write!(
                    f,
                    "template execution exceeded the memory budget ({n} bytes)"
                )
            }
            Limit::Stack(n) => write!(
                f,
                "templates, control structures and parentheses nest deeper than the stack budget allows ({n} bytes)"
            ),
        }
    }
}

/// A source of random numbers for Sprig's `rand*`, `uuidv4`, `shuffle`, key generation.
pub trait RandomSource: Send {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;
}

/// A deterministic generator (SplitMix64): the same seed draws the same values, so both sides
/// of a comparison render the same "random" passwords.
#[derive(Debug, Clone)]
pub struct SeededRng {
    state: u64,
}

impl SeededRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRng { state: seed }
    }
}

impl RandomSource for SeededRng {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// An instant: seconds and nanoseconds since the Unix epoch, and the UTC offset of the zone
/// it is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix_seconds: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

/// The source of "now" for Sprig's date functions.
pub trait Clock: Send {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// A clock stopped at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Instant);

impl Clock for FixedClock {
    fn now(&self) -> Instant {
        self.0
    }
}

/// Everything one render carries besides the data: limits, counters, randomness and time.
/// One context may serve many `execute` calls (Helm renders every file of a chart with one
/// engine, sharing the `include` recursion counters); counters accumulate across them.
pub struct ExecContext {
    /// The limits in force.
    pub limits: Limits,
    pub(crate) steps: u64,
    pub(crate) output_bytes: usize,
    pub(crate) memory_bytes: u64,
    /// The template that was executing when a limit stopped the execution.
    pub(crate) limit_template: Option<String>,
    pub(crate) include_counts: HashMap<String, usize>,
    pub(crate) deadline: Option<(std::time::Instant, std::time::Duration)>,
    rng: Box<dyn RandomSource>,
    clock: Box<dyn Clock>,
}

impl fmt::Debug for ExecContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecContext")
            .field("limits", &self.limits)
            .field("steps", &self.steps)
            .finish()
    }
}

impl Default for ExecContext {
    fn default() -> Self {
        ExecContext::new(0)
    }
}

impl ExecContext {
    /// A context with default limits, a [`SeededRng`] seeded with `seed` and a clock fixed at
    /// the Unix epoch.
    pub fn new(seed: u64) -> Self {
        ExecContext {
            limits: Limits::default(),
            steps: 0,
            output_bytes: 0,
            memory_bytes: 0,
            limit_template: None,
            include_counts: HashMap::new(),
            deadline: None,
            rng: Box::new(SeededRng::new(seed)),
            clock: Box::new(FixedClock(Instant {
                unix_seconds: 0,
                nanos: 0,
            })),
        }
    }
    /// Replaces the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    /// Stops execution (with [`Limit::Time`]) once `budget` has passed from now; checked every
    /// few thousand steps.
    pub fn with_deadline(mut self, budget: std::time::Duration) -> Self {
        self.deadline = Some((std::time::Instant::now() + budget, budget));
        self
    }
    /// Replaces the random source.
    pub fn with_rng(mut self, rng: impl RandomSource + 'static) -> Self {
        self.rng = Box::new(rng);
        self
    }
    /// Replaces the clock.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }
    /// Starts the counters where earlier executions left them: a caller that runs each
    /// template with its own context (its own seed) carries the totals over, so the limits
    /// bound the whole render and a limit error names the configured limit.
    pub fn with_usage(mut self, steps: u64, output_bytes: usize, memory_bytes: u64) -> Self {
        self.steps = steps;
        self.output_bytes = output_bytes;
        self.memory_bytes = memory_bytes;
        self
    }
    /// Steps taken so far (by finished executions).
    pub fn steps(&self) -> u64 {
        self.steps
    }
    /// Output bytes written so far.
    pub fn output_bytes(&self) -> usize {
        self.output_bytes
    }
    /// Bytes counted against [`Limits::max_memory_bytes`] so far (by finished executions).
    pub fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }
    /// The random source.
    pub fn rng(&mut self) -> &mut dyn RandomSource {
        self.rng.as_mut()
    }
    /// A uniformly distributed number in `0..n` (`n > 0`).
    pub fn rand_below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.rng.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }
    /// The clock's current instant.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }
    /// Helm's per-name `include` nesting counters.
    pub fn include_counts(&mut self) -> &mut HashMap<String, usize> {
        &mut self.include_counts
    }

    pub(crate) fn begin(&mut self) {
        self.limit_template = None;
    }

    pub(crate) fn hit(&mut self, limit: Limit) -> Fail {
        Fail::Limit(crate::budget::trip(limit))
    }
}
