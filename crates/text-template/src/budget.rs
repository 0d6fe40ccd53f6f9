//! The live counters of one execution: steps, bytes of the memory budget, and the deadline.
//!
//! While [`crate::TemplateSet::execute`] runs, the counters live in thread-local cells rather
//! than in the [`ExecContext`]: the value walkers (printing, `toYaml`, `toJson`, `deepCopy`,
//! equality, merging) are plain functions called from dozens of places, and a value shared by
//! reference can make any of them walk (or write) exponentially more than the value holds. A
//! thread-local lets each of them count its work and stop early without a context parameter
//! in every signature. Outside an execution nothing is limited, so the public helpers
//! ([`crate::to_yaml`], [`crate::sprint_value`]) behave as before.
//!
//! Bytes are counted as they are allocated and never given back: the count is an upper bound
//! on what the input made the engine hold, and, unlike a measure of the allocator, the same
//! input always stops at the same point.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::context::{ExecContext, Limit};
use crate::value::Value;

/// The deadline is read once per this many steps: often enough to stop within milliseconds,
/// rarely enough that reading the clock costs nothing measurable.
const CHECK_EVERY: u64 = 4096;

/// What one entry of a `map[string]interface{}` costs besides its key's bytes: the key's
/// `String` and allocation, the value, and the B-tree's share of a node (measured: ten million
/// `set`s of short keys take about a gigabyte).
pub(crate) const MAP_ENTRY_BYTES: u64 = 96;

/// What a list or map costs besides its elements: the shared header and its allocations.
const COLLECTION_BYTES: u64 = 64;

/// What a heap-allocated string or byte slice costs besides its bytes: the `Arc` header and
/// the allocator's rounding.
const SHARED_HEADER_BYTES: u64 = 32;

/// The size of one value in a list.
pub(crate) const VALUE_BYTES: u64 = std::mem::size_of::<Value>() as u64;

/// What `range` holds per element while it iterates: the index or key and the value.
pub(crate) const RANGE_ITEM_BYTES: u64 = 2 * VALUE_BYTES + SHARED_HEADER_BYTES;

struct Meter {
    steps: Cell<u64>,
    max_steps: Cell<u64>,
    bytes: Cell<u64>,
    max_bytes: Cell<u64>,
    deadline: Cell<Option<(Instant, Duration)>>,
    exceeded: Cell<Option<Limit>>,
    /// Where the stack was when the execution (or the parse) began; 0 when nothing runs.
    stack_base: Cell<usize>,
    max_stack: Cell<usize>,
}

thread_local! {
    static METER: Meter = const {
        Meter {
            steps: Cell::new(0),
            max_steps: Cell::new(u64::MAX),
            bytes: Cell::new(0),
            max_bytes: Cell::new(u64::MAX),
            deadline: Cell::new(None),
            exceeded: Cell::new(None),
            stack_base: Cell::new(0),
            max_stack: Cell::new(usize::MAX),
        }
    };
}

/// The address of a local of the caller's frame: how far down the stack the thread is (stacks
/// grow down on every platform Rust supports for this crate's users).
#[inline(always)]
fn stack_pointer() -> usize {
    let marker = 0u8;
    std::hint::black_box(std::ptr::addr_of!(marker)) as usize
}

impl Meter {
    fn trip(&self, limit: Limit) -> Limit {
        if self.exceeded.get().is_none() {
            self.exceeded.set(Some(limit));
        }
        limit
    }

    /// The step limit, the stack and the clock, off the hot path of [`work`].
    #[cold]
    #[inline(never)]
    fn checks(&self, before: u64, now: u64) -> Result<(), Limit> {
        if now > self.max_steps.get() {
            return Err(self.trip(Limit::Steps(self.max_steps.get())));
        }
        self.check_stack()?;
        if before / CHECK_EVERY != now / CHECK_EVERY {
            self.check_deadline()?;
        }
        Ok(())
    }

    fn check_stack(&self) -> Result<(), Limit> {
        let base = self.stack_base.get();
        if base != 0 && base.saturating_sub(stack_pointer()) > self.max_stack.get() {
            return Err(self.trip(Limit::Stack(self.max_stack.get())));
        }
        Ok(())
    }

    fn check_deadline(&self) -> Result<(), Limit> {
        match self.deadline.get() {
            Some((at, budget)) if Instant::now() >= at => Err(self.trip(Limit::Time(budget))),
            _ => Ok(()),
        }
    }
}

/// The meter's state, saved while an execution runs so a nested one restores it.
struct Saved {
    steps: u64,
    max_steps: u64,
    bytes: u64,
    max_bytes: u64,
    deadline: Option<(Instant, Duration)>,
    exceeded: Option<Limit>,
    stack_base: usize,
    max_stack: usize,
}

fn save() -> Saved {
    METER.with(|m| Saved {
        steps: m.steps.get(),
        max_steps: m.max_steps.get(),
        bytes: m.bytes.get(),
        max_bytes: m.max_bytes.get(),
        deadline: m.deadline.get(),
        exceeded: m.exceeded.get(),
        stack_base: m.stack_base.get(),
        max_stack: m.max_stack.get(),
    })
}

fn restore(s: &Saved) {
    METER.with(|m| {
        m.steps.set(s.steps);
        m.max_steps.set(s.max_steps);
        m.bytes.set(s.bytes);
        m.max_bytes.set(s.max_bytes);
        m.deadline.set(s.deadline);
        m.exceeded.set(s.exceeded);
        m.stack_base.set(s.stack_base);
        m.max_stack.set(s.max_stack);
    });
}

/// The meter installed for one execution; dropping it puts back what was there before (also
/// when unwinding), so the thread's next execution, or none, never sees these counters.
pub(crate) struct Session {
    outer: Saved,
}

/// Installs the context's counters and limits on this thread.
pub(crate) fn enter(ctx: &ExecContext) -> Session {
    let outer = save();
    restore(&Saved {
        steps: ctx.steps,
        max_steps: ctx.limits.max_steps,
        bytes: ctx.memory_bytes,
        max_bytes: ctx.limits.max_memory_bytes,
        deadline: ctx.deadline,
        exceeded: None,
        stack_base: stack_pointer(),
        max_stack: ctx.limits.max_stack_bytes,
    });
    Session { outer }
}

/// How much stack a parse outside an execution may use: half of a 2 MiB thread (the parallel
/// parser's threads have that much).
const PARSE_STACK_BYTES: usize = 1 << 20;

/// Parsing recurses once per parenthesis and control structure. Inside an execution (`tpl`)
/// the execution's stack budget applies; otherwise this scope sets one from here.
pub(crate) fn parse_scope() -> Option<Session> {
    if METER.with(|m| m.stack_base.get()) != 0 {
        return None;
    }
    let outer = save();
    METER.with(|m| {
        m.stack_base.set(stack_pointer());
        m.max_stack.set(PARSE_STACK_BYTES);
    });
    Some(Session { outer })
}

/// Fails once the stack has grown past the budget since the execution (or parse) began.
#[inline]
pub(crate) fn stack() -> Result<(), Limit> {
    METER.with(Meter::check_stack)
}

impl Session {
    /// Writes the counters back into the context.
    pub(crate) fn finish(self, ctx: &mut ExecContext) {
        METER.with(|m| {
            ctx.steps = m.steps.get();
            ctx.memory_bytes = m.bytes.get();
        });
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        restore(&self.outer);
    }
}

/// One step of evaluation; every recursion of the executor takes one.
#[inline]
pub(crate) fn step() -> Result<(), Limit> {
    work(1)
}

/// The stack is measured once per this many steps: a recursion takes at least one step per
/// level, so it is caught within this many levels (at most a few KiB of stack each, in a
/// debug build).
const STACK_EVERY: u64 = 32;

/// `units` steps of work at once (a value walker's nodes, a function's bulk work); measures the
/// stack when the count crosses a multiple of [`STACK_EVERY`], and reads the clock at a
/// multiple of [`CHECK_EVERY`].
#[inline]
pub(crate) fn work(units: u64) -> Result<(), Limit> {
    METER.with(|m| {
        let before = m.steps.get();
        let now = before.saturating_add(units);
        m.steps.set(now);
        if now > m.max_steps.get() || before / STACK_EVERY != now / STACK_EVERY {
            return m.checks(before, now);
        }
        Ok(())
    })
}

/// Reads the clock now: after work that takes long per step (key generation).
pub(crate) fn check_deadline() -> Result<(), Limit> {
    METER.with(Meter::check_deadline)
}

/// Counts `bytes` allocated against the memory budget.
#[inline]
pub(crate) fn charge(bytes: u64) -> Result<(), Limit> {
    METER.with(|m| {
        let now = m.bytes.get().saturating_add(bytes);
        m.bytes.set(now);
        if now > m.max_bytes.get() {
            return Err(m.trip(Limit::MemoryBytes(m.max_bytes.get())));
        }
        Ok(())
    })
}

/// Fails, without counting anything, if `bytes` more would exceed the memory budget: checked
/// before an allocation whose size the input chose, and by walkers for what they hold so far.
#[inline]
pub(crate) fn room(bytes: u64) -> Result<(), Limit> {
    METER.with(|m| {
        if m.bytes.get().saturating_add(bytes) > m.max_bytes.get() {
            return Err(m.trip(Limit::MemoryBytes(m.max_bytes.get())));
        }
        Ok(())
    })
}

/// The memory budget in force.
pub(crate) fn max_bytes() -> u64 {
    METER.with(|m| m.max_bytes.get())
}

/// Bytes left in the memory budget.
pub(crate) fn remaining() -> u64 {
    METER.with(|m| m.max_bytes.get().saturating_sub(m.bytes.get()))
}

/// The limit a walker or function ran into during this execution, if any.
#[inline]
pub(crate) fn exceeded() -> Option<Limit> {
    METER.with(|m| m.exceeded.get())
}

/// Records that `limit` was exceeded (the first one recorded is the one reported).
pub(crate) fn trip(limit: Limit) -> Limit {
    METER.with(|m| m.trip(limit))
}

/// For walkers that cannot return an error: one node visited, holding `held` bytes so far;
/// `false` once a limit is exceeded (the walker stops, the executor reports the limit).
#[inline]
pub(crate) fn visit(held: usize) -> bool {
    work(1).is_ok() && room(held as u64).is_ok()
}

/// The bytes a function's result newly holds: the parts of it nobody else references (a
/// string just built, a list just made and the fresh strings in it). Parts shared with other
/// values were counted when they were made.
pub(crate) fn fresh_bytes(v: &Value) -> u64 {
    match v {
        Value::String(s) if std::sync::Arc::strong_count(s) == 1 => {
            s.len() as u64 + SHARED_HEADER_BYTES
        }
        Value::Bytes(b) if std::sync::Arc::strong_count(b) == 1 => {
            b.len() as u64 + SHARED_HEADER_BYTES
        }
        Value::List(l) if l.is_unshared() => l
            .items()
            .iter()
            .fold(COLLECTION_BYTES + VALUE_BYTES * l.len() as u64, |sum, x| {
                sum.saturating_add(fresh_bytes(x))
            }),
        Value::Map(m) if m.is_unshared() => {
            m.read().iter().fold(COLLECTION_BYTES, |sum, (k, x)| {
                sum.saturating_add(MAP_ENTRY_BYTES + k.len() as u64 + fresh_bytes(x))
            })
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_limited_outside_an_execution() {
        assert!(charge(u64::MAX / 2).is_ok());
        assert!(work(u64::MAX / 2).is_ok());
        assert_eq!(exceeded(), None);
        // Outside an execution the counters are never read; put them back for other tests
        // on this thread.
        restore(&Saved {
            steps: 0,
            max_steps: u64::MAX,
            bytes: 0,
            max_bytes: u64::MAX,
            deadline: None,
            exceeded: None,
            stack_base: 0,
            max_stack: usize::MAX,
        });
    }

    #[test]
    fn a_session_restores_the_outer_meter() {
        let ctx = ExecContext::new(0).with_limits(crate::Limits {
            max_memory_bytes: 10,
            ..crate::Limits::default()
        });
        {
            let mut inner = ExecContext::new(0);
            let s = enter(&ctx);
            assert!(charge(8).is_ok());
            assert_eq!(charge(8), Err(Limit::MemoryBytes(10)));
            assert_eq!(exceeded(), Some(Limit::MemoryBytes(10)));
            s.finish(&mut inner);
            assert_eq!(inner.memory_bytes(), 16);
        }
        assert_eq!(exceeded(), None);
        assert!(charge(1 << 40).is_ok());
    }

    #[test]
    fn fresh_bytes_counts_only_unshared_parts() {
        let shared = Value::str("0123456789");
        let keep = shared.clone();
        let l = Value::list(vec![shared, Value::str("abc")]);
        // Two slots, plus the fresh "abc"; the shared string was counted when it was made.
        assert_eq!(
            fresh_bytes(&l),
            COLLECTION_BYTES + 2 * VALUE_BYTES + 3 + SHARED_HEADER_BYTES
        );
        drop(keep);
        let held = l.clone();
        assert_eq!(fresh_bytes(&l), 0);
        drop(held);
    }
}
