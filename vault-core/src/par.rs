//! Two pieces of work on two threads, for the few steps whose cost grows with the vault
//! (a format-1 file's checksum and MAC beside its decryption, the encryption beside the
//! serialization).
//!
//! Why not rayon's pool: building it panics when no thread can be had (a tight
//! `RLIMIT_NPROC`, a small container), and nothing here may panic. A scoped thread that cannot
//! be spawned just means the work runs here, one piece after the other.

use std::sync::Mutex;

/// Below this many bytes a second thread costs more
/// than it saves: spawning and joining one is tens of microseconds.
pub(crate) const WORTH_A_THREAD: usize = 64 * 1024;

/// Runs `a` and `b`, `a` on a second thread when `parallel` and a thread can be had, and
/// returns both results. A panic in `a` is passed on as if `a` had run here.
///
/// On one thread (not `parallel`, or no thread to be had) `b` always runs first: so `b` may
/// feed `a` through a channel that never blocks (the serialize and encrypt pipeline).
pub(crate) fn join<A, B, RA, RB>(parallel: bool, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    RA: Send,
    B: FnOnce() -> RB,
{
    if !parallel {
        let rb = b();
        return (a(), rb);
    }
    // The thread takes `a` out of the cell; when it could not be spawned, `a` is still there.
    let cell = Mutex::new(Some(a));
    let take = |cell: &Mutex<Option<A>>| match cell.lock() {
        Ok(mut g) => g.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    };
    std::thread::scope(|s| {
        let spawned = std::thread::Builder::new().spawn_scoped(s, || take(&cell).map(|a| a()));
        let rb = b();
        let ra = match spawned {
            Ok(h) => match h.join() {
                Ok(ra) => ra,
                Err(panic) => std::panic::resume_unwind(panic),
            },
            Err(_) => None,
        };
        match ra {
            Some(ra) => (ra, rb),
            // No thread: `a` was never taken, so it runs here.
            None => match take(&cell) {
                Some(a) => (a(), rb),
                None => unreachable!("a ran on the thread, which returned its result"),
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_results_come_back_whether_or_not_on_two_threads() {
        for parallel in [false, true] {
            let data: Vec<u64> = (0..1000).collect();
            let (a, b) = join(
                parallel,
                || data[..500].iter().sum::<u64>(),
                || data[500..].iter().sum::<u64>(),
            );
            assert_eq!(a + b, 499_500);
        }
    }

    #[test]
    fn on_one_thread_b_runs_first_so_it_can_feed_a() {
        // `a` waits for what `b` sends: run the other way round it would wait forever.
        let (tx, rx) = std::sync::mpsc::channel();
        let (got, sent) = join(false, move || rx.recv().ok(), move || tx.send(7).is_ok());
        assert_eq!((got, sent), (Some(7), true));
    }

    #[test]
    fn a_panic_in_the_second_thread_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| join(true, || panic!("boom"), || 1));
        assert!(r.is_err());
    }
}
