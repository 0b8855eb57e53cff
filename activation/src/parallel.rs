//! Independent devices' ioctls on several threads.
//!
//! A resume or remove waits in the kernel for RCU/SRCU grace periods and for the block layer
//! to register or tear down the disk; under an emulated CPU that is tens of milliseconds a
//! device, nearly all of it waiting. Devices that do not depend on each other (the LVs of a
//! VG, the legs of one raid) can wait together. The order *within* a dependency chain is
//! kept: a device is started only once everything it depends on has finished.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex};

/// How many threads to use when the caller says "as many as fit": one on a single CPU (the
/// ioctls then only take turns), otherwise a few per CPU, since most of a device's time in
/// the kernel is spent waiting, not computing.
pub fn default_jobs() -> usize {
    match std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) {
        0 | 1 => 1,
        n => (4 * n).min(16),
    }
}

/// Runs `task(i)` for every `i < deps.len()` on up to `jobs` threads (the caller's included),
/// starting `i` only after every index in `deps[i]` finished with `Ok`. Among ready tasks the
/// lowest index goes first. After the first `Err` no new task starts; those running finish.
///
/// Returns each task's result, `None` for those never started (after an error, or because
/// something they depend on failed or never ran). `deps` must not have cycles (indexes out of
/// range are ignored); a cycle's members are simply never run.
pub fn run_dag<T: Send, E: Send>(
    deps: &[Vec<usize>],
    jobs: usize,
    task: impl Fn(usize) -> Result<T, E> + Sync,
) -> Vec<Option<Result<T, E>>> {
    let n = deps.len();
    let mut waiting = vec![0usize; n];
    let mut dependents = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds.iter().filter(|&&d| d < n && d != i) {
            waiting[i] += 1;
            dependents[d].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..n).filter(|&i| waiting[i] == 0).map(Reverse).collect();
    if jobs <= 1 || n <= 1 {
        // The same order on the caller's thread, without a lock or a wake-up per task (each
        // a system call, and under user-mode-linux a round trip through the host).
        let mut results: Vec<Option<Result<T, E>>> = (0..n).map(|_| None).collect();
        while let Some(Reverse(i)) = ready.pop() {
            let r = task(i);
            let ok = r.is_ok();
            results[i] = Some(r);
            if !ok {
                break;
            }
            for &j in &dependents[i] {
                waiting[j] -= 1;
                if waiting[j] == 0 {
                    ready.push(Reverse(j));
                }
            }
        }
        return results;
    }
    let state = Mutex::new(State {
        ready,
        waiting,
        running: 0,
        stopped: false,
        results: (0..n).map(|_| None).collect(),
    });
    let wake = Condvar::new();
    let worker = || loop {
        let i = {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if !s.stopped {
                    if let Some(Reverse(i)) = s.ready.pop() {
                        s.running += 1;
                        break i;
                    }
                }
                if s.running == 0 {
                    // Nothing runs, so nothing more can become ready.
                    wake.notify_all();
                    return;
                }
                s = wake.wait(s).unwrap_or_else(|p| p.into_inner());
            }
        };
        let r = task(i);
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        s.running -= 1;
        if r.is_ok() {
            for &j in &dependents[i] {
                s.waiting[j] -= 1;
                if s.waiting[j] == 0 {
                    s.ready.push(Reverse(j));
                }
            }
        } else {
            s.stopped = true;
        }
        s.results[i] = Some(r);
        wake.notify_all();
    };
    let jobs = jobs.clamp(1, n.max(1));
    std::thread::scope(|scope| {
        for _ in 1..jobs {
            scope.spawn(worker);
        }
        worker();
    });
    state.into_inner().unwrap_or_else(|p| p.into_inner()).results
}

struct State<T, E> {
    ready: BinaryHeap<Reverse<usize>>,
    waiting: Vec<usize>,
    running: usize,
    stopped: bool,
    results: Vec<Option<Result<T, E>>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn dependencies_finish_before_their_users_start() {
        // 0 ← 1 ← 3, 0 ← 2 ← 3, 4 alone.
        let deps = vec![vec![], vec![0], vec![0], vec![1, 2], vec![]];
        let clock = AtomicUsize::new(0);
        let times: Vec<Mutex<(usize, usize)>> = (0..5).map(|_| Mutex::new((0, 0))).collect();
        let r = run_dag(&deps, 4, |i| {
            let start = clock.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            let end = clock.fetch_add(1, Ordering::SeqCst);
            *times[i].lock().unwrap() = (start, end);
            Ok::<_, ()>(i * 10)
        });
        assert_eq!(r.iter().map(|x| x.unwrap().unwrap()).collect::<Vec<_>>(), vec![0, 10, 20, 30, 40]);
        let t = |i: usize| *times[i].lock().unwrap();
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                assert!(t(d).1 < t(i).0, "{d} must end before {i} starts: {:?} {:?}", t(d), t(i));
            }
        }
    }

    #[test]
    fn independent_tasks_overlap() {
        let deps = vec![Vec::new(); 8];
        let now = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        run_dag(&deps, 4, |_| {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(n, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            now.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, ()>(())
        });
        assert!(most.load(Ordering::SeqCst) > 1, "no two tasks ran at once");
        assert!(most.load(Ordering::SeqCst) <= 4);
    }

    #[test]
    fn an_error_stops_new_tasks_and_what_depends_on_it() {
        // One thread: runs 0, fails 1, then nothing more starts.
        let deps = vec![vec![], vec![], vec![1], vec![]];
        let r = run_dag(&deps, 1, |i| if i == 1 { Err("boom") } else { Ok(i) });
        assert_eq!(r[0], Some(Ok(0)));
        assert_eq!(r[1], Some(Err("boom")));
        assert_eq!(r[2], None);
        assert_eq!(r[3], None);
    }

    #[test]
    fn one_job_runs_in_index_order_on_the_callers_thread() {
        let deps = vec![vec![2], vec![], vec![]];
        let order = Mutex::new(Vec::new());
        let me = std::thread::current().id();
        run_dag(&deps, 1, |i| {
            assert_eq!(std::thread::current().id(), me);
            order.lock().unwrap().push(i);
            Ok::<_, ()>(())
        });
        assert_eq!(*order.lock().unwrap(), vec![1, 2, 0]);
    }

    #[test]
    fn a_cycle_is_not_run_and_does_not_hang() {
        let deps = vec![vec![1], vec![0], vec![]];
        for jobs in [1, 2] {
            let r = run_dag(&deps, jobs, Ok::<_, ()>);
            assert!(r[0].is_none() && r[1].is_none(), "{jobs} jobs");
            assert_eq!(r[2], Some(Ok(2)), "{jobs} jobs");
        }
    }
}
