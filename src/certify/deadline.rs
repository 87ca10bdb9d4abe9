//! The wall-clock limit of the certify stage (`[limits] certify_seconds`).
//!
//! Every branch-and-bound search stops where it stops when its box budget runs out
//! (`certify.max_boxes`): with what it proved, which stays a rigorous (possibly looser, or
//! absent) bound, since a search only ever reports what its finished boxes prove. A passed
//! deadline is treated exactly like an exhausted budget ([`out_of_budget`]), and
//! [`reached`] tells the run to make every claim INCONCLUSIVE (src/run.rs): the bounds of a
//! time-limited certification depend on the machine's speed, so no verdict rests on them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

static DEADLINE: Mutex<Option<Instant>> = Mutex::new(None);
static REACHED: AtomicBool = AtomicBool::new(false);
static ARMED: AtomicBool = AtomicBool::new(false);

/// Starts a certify stage with this deadline (`None`: none): [`reached`] is reset.
pub fn arm(deadline: Option<Instant>) {
    *DEADLINE.lock().unwrap_or_else(|e| e.into_inner()) = deadline;
    REACHED.store(false, Ordering::SeqCst);
    ARMED.store(deadline.is_some(), Ordering::SeqCst);
}

/// Ends the certify stage: no deadline any more ([`reached`] keeps its value).
pub fn disarm() {
    ARMED.store(false, Ordering::SeqCst);
    *DEADLINE.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// True once the deadline has passed (and remembers it for [`reached`]).
pub fn expired() -> bool {
    if !ARMED.load(Ordering::Relaxed) {
        return false;
    }
    let d = *DEADLINE.lock().unwrap_or_else(|e| e.into_inner());
    match d {
        Some(d) if Instant::now() >= d => {
            REACHED.store(true, Ordering::SeqCst);
            true
        }
        _ => false,
    }
}

/// Whether some search of this process stopped at the deadline.
pub fn reached() -> bool {
    REACHED.load(Ordering::SeqCst)
}

/// A search's stopping rule: its box budget is spent, or the certify deadline passed.
#[inline]
pub fn out_of_budget(boxes: usize, max_boxes: usize) -> bool {
    boxes >= max_boxes || expired()
}

/// Why a search stopped early, for its evidence text.
pub fn budget_reason(boxes: usize, max_boxes: usize) -> &'static str {
    if boxes >= max_boxes {
        "box budget reached; raise certify.max_boxes"
    } else {
        "certify wall-clock limit reached; raise limits.certify_seconds"
    }
}
