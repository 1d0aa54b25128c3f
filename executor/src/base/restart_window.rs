//! The restart intensity window: how many restarts happened within the
//! last `within`, in memory that stays small whatever the intensity.
//!
//! Up to [`EXACT`] restarts allowed, each restart's time is kept, as OTP
//! keeps them. Above that, restarts are counted in groups a 64th of the
//! window wide: a group is forgotten once its newest possible restart left
//! the window, so the count may include restarts up to a 64th of the window
//! older than it (an actor gives up a little early, never late), and at
//! most 66 groups are kept. `intensity(u32::MAX, an hour)` thus costs the
//! same memory as `intensity(3, 5 s)` however often the actor restarts.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Up to this many restarts allowed, the window is exact.
const EXACT: u32 = 64;
const _: () = assert!(EXACT == 64, "docs/failure-and-supervision.md quotes 64");

/// The restarts inside one actor's (or supervisor's) intensity window.
#[derive(Debug, Default)]
pub(crate) struct RestartWindow {
    /// Oldest first: when each group began, and how many restarts it holds.
    groups: VecDeque<(Instant, u32)>,
    /// The restarts in all the groups.
    total: u32,
}

impl RestartWindow {
    /// Records a restart at `now` unless `max` restarts already happened
    /// within `within` before it. Returns how many restarts the window held
    /// before this one, or `None` if it is full.
    pub(crate) fn admit(&mut self, now: Instant, max: u32, within: Duration) -> Option<u32> {
        let width = if max <= EXACT { Duration::ZERO } else { within / EXACT };
        while let Some(&(began, count)) = self.groups.front() {
            // Saturating: `intensity(u32::MAX, Duration::MAX)` is how one
            // says "never give up".
            if now.saturating_duration_since(began) <= within.saturating_add(width) {
                break;
            }
            self.groups.pop_front();
            self.total -= count;
        }
        if self.total >= max {
            return None;
        }
        let before = self.total;
        match self.groups.back_mut() {
            Some((began, count)) if now.saturating_duration_since(*began) < width => *count += 1,
            _ => self.groups.push_back((now, 1)),
        }
        self.total += 1;
        Some(before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_small_intensity_is_exact() {
        let t0 = Instant::now();
        let mut window = RestartWindow::default();
        for (i, at) in [0, 100, 200].into_iter().enumerate() {
            assert_eq!(window.admit(t0 + ms(at), 3, ms(1000)), Some(i as u32));
        }
        assert_eq!(window.admit(t0 + ms(1000), 3, ms(1000)), None, "4 within 1 s");
        // The first restart left the window just now: room for one.
        assert_eq!(window.admit(t0 + ms(1001), 3, ms(1000)), Some(2));
        assert_eq!(window.admit(t0 + ms(1050), 3, ms(1000)), None);
        assert_eq!(window.admit(t0 + ms(1101), 3, ms(1000)), Some(2));
    }

    #[test]
    fn an_unlimited_intensity_keeps_few_groups() {
        let t0 = Instant::now();
        let mut window = RestartWindow::default();
        // A million restarts a microsecond apart, over ten windows.
        for i in 0..1_000_000u64 {
            let before = window.admit(t0 + Duration::from_micros(i), u32::MAX, ms(100));
            assert!(before.is_some());
            assert!(window.groups.len() <= 66, "{} groups", window.groups.len());
        }
        // Every restart of the last window still counts, and a 64th more at most.
        let held = window.total;
        assert!((100_000..=100_000 + 2 * 100_000 / 64).contains(&held), "{held}");
    }

    #[test]
    fn an_endless_window_does_not_overflow() {
        let t0 = Instant::now();
        let mut window = RestartWindow::default();
        for i in 0..3u64 {
            assert_eq!(window.admit(t0 + ms(i), u32::MAX, Duration::MAX), Some(i as u32));
        }
    }

    #[test]
    fn a_large_intensity_gives_up_early_never_late() {
        let t0 = Instant::now();
        let mut window = RestartWindow::default();
        // 100 allowed within 6.4 s: groups of 100 ms.
        for i in 0..100u64 {
            assert_eq!(window.admit(t0 + ms(i), 100, ms(6400)), Some(i as u32));
        }
        assert_eq!(window.admit(t0 + ms(6400), 100, ms(6400)), None, "101 within 6.4 s");
        // Exactly, the first restarts left the window; grouped, they count
        // until their group's last moment has left it too.
        assert_eq!(window.admit(t0 + ms(6450), 100, ms(6400)), None);
        assert_eq!(window.admit(t0 + ms(6501), 100, ms(6400)), Some(0));
    }
}
