//! Drives a worker's future on a plain OS thread, with no async runtime.
//!
//! In-process tiers never wait on I/O, so their futures complete on the first poll. Polling them
//! with a no-op waker costs a function call: the in-process tier pays for no scheduler, no
//! task allocation and no wake-up. Spurious re-polls are always allowed by the `Future`
//! contract, so a future that does return `Pending` is still driven correctly (by spinning).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs a future to completion on the current thread.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_futures_complete() {
        assert_eq!(block_on(async { 40 + 2 }), 42);
    }

    #[test]
    fn pending_futures_are_polled_again() {
        let mut polls = 0;
        let fut = std::future::poll_fn(|_| {
            polls += 1;
            if polls < 3 {
                Poll::Pending
            } else {
                Poll::Ready(polls)
            }
        });
        assert_eq!(block_on(fut), 3);
    }
}
