//! A process-wide request to stop simulating (Ctrl-C, SIGTERM, a wall-clock limit).
//!
//! The request is one flag, set once and never cleared within a run: the trajectory
//! engines poll it every [`POLL_STEPS`] steps and return early, and every simulation entry
//! point that sees it set when it finishes returns [`super::SimError::Interrupted`]
//! instead of a result (trajectories cut short are never reported, not even as
//! censored). The caller keeps what finished before (src/run.rs checkpoints).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static STOP: AtomicBool = AtomicBool::new(false);
static REASON: OnceLock<String> = OnceLock::new();

/// Steps between two polls of the flag in a trajectory loop (a power of two).
pub const POLL_STEPS: u64 = 1 << 10;

/// Asks every running and future simulation of this process to stop, for `reason`
/// (e.g. "interrupted by SIGINT"; the first reason given is kept).
pub fn request_stop(reason: impl Into<String>) {
    let _ = REASON.set(reason.into());
    STOP.store(true, Ordering::SeqCst);
}

/// Why the stop was requested (`None` when it was not).
pub fn stop_reason() -> Option<&'static str> {
    if stop_requested() {
        REASON.get().map(String::as_str)
    } else {
        None
    }
}

/// Whether a stop was requested.
#[inline]
pub fn stop_requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// True every [`POLL_STEPS`] steps when a stop was requested (cheap to call each step).
#[inline]
pub(crate) fn poll(step: u64) -> bool {
    step & (POLL_STEPS - 1) == 0 && stop_requested()
}
