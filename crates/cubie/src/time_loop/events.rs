//! The loop's output events (save times and summary sample times) and the
//! rule by which a step lands on them, for every backend's loop: the times
//! are computed once per solve here, and each loop form follows the same
//! cursor and the same landing rule, so every backend saves and samples at
//! bit-identical times.

/// Relative tolerance for landing on an event time: a step that would end
/// this close to it is stretched to end exactly on it, so accumulated
/// rounding never leaves a sliver step.
pub const SNAP: f64 = 1e-10;

/// `count` times from `start` every `every`; one within `tolerance · every`
/// of `end` is `end` exactly, so the last event of an interval lands on
/// its end whatever the rounding of `start + k · every`.
pub fn evenly_spaced(start: f64, end: f64, every: f64, count: usize, tolerance: f64) -> Vec<f64> {
    (0..count)
        .map(|k| {
            let at = start + k as f64 * every;
            if (at - end).abs() <= tolerance * every {
                end
            } else {
                at
            }
        })
        .collect()
}

/// One run's output event times, each list ascending.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventTimes {
    /// Save times (empty when nothing is saved).
    pub saves: Vec<f64>,
    /// Summary sample times (empty without summaries).
    pub samples: Vec<f64>,
}

/// Progress through a run's events: how many saves and samples are done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCursor {
    /// Saves written.
    pub saves: usize,
    /// Summary samples taken.
    pub samples: usize,
}

/// What falls due at a time the loop has landed on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueEvents {
    /// The next save is at this time.
    pub save: bool,
    /// The next summary sample is at this time.
    pub sample: bool,
}

impl EventTimes {
    /// The next save or sample time after `cursor` (infinite when none is
    /// left).
    pub fn next(&self, cursor: &EventCursor) -> f64 {
        let save = self.saves.get(cursor.saves).copied();
        let sample = self.samples.get(cursor.samples).copied();
        save.unwrap_or(f64::INFINITY)
            .min(sample.unwrap_or(f64::INFINITY))
    }

    /// The events due at `t` (exactly: the loop lands on event times).
    pub fn due(&self, cursor: &EventCursor, t: f64) -> DueEvents {
        DueEvents {
            save: self.saves.get(cursor.saves) == Some(&t),
            sample: self.samples.get(cursor.samples) == Some(&t),
        }
    }
}

impl EventCursor {
    /// Moves past the events `due` (after they are recorded).
    pub fn advance(&mut self, due: DueEvents) {
        self.saves += usize::from(due.save);
        self.samples += usize::from(due.sample);
    }
}

/// The step a loop attempts next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attempt {
    /// Its size.
    pub dt: f64,
    /// True when it ends exactly on the target (the loop then sets `t` to
    /// the target itself, not `t + dt`).
    pub lands: bool,
}

/// The time a step from `t` must not pass: the next event, or the end of
/// the settling time or of the integration, whichever comes first.
pub fn target(t: f64, t_start: f64, t_end: f64, next_event: f64) -> f64 {
    let segment_end = if t < t_start { t_start } else { t_end };
    next_event.min(segment_end)
}

/// The controller's step `controller_dt` from `t`, or the rest of the way
/// to `target` when it would reach it or fall short of it by less than
/// [`SNAP`].
pub fn attempt(t: f64, target: f64, controller_dt: f64) -> Attempt {
    let remaining = target - t;
    if controller_dt >= remaining * (1.0 - SNAP) {
        Attempt {
            dt: remaining,
            lands: true,
        }
    } else {
        Attempt {
            dt: controller_dt,
            lands: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_time_lands_on_the_end() {
        let times = evenly_spaced(0.0, 1.0, 0.1, 11, 1e-10);
        assert_eq!(times[10], 1.0);
        assert_eq!(times[3], 3.0 * 0.1);
    }

    #[test]
    fn a_step_short_of_the_target_by_less_than_snap_lands() {
        let near = attempt(0.0, 1.0, 1.0 - 1e-12);
        assert_eq!(
            near,
            Attempt {
                dt: 1.0,
                lands: true
            }
        );
        let short = attempt(0.0, 1.0, 0.5);
        assert_eq!(
            short,
            Attempt {
                dt: 0.5,
                lands: false
            }
        );
        assert!(attempt(0.0, 1.0, 3.0).lands);
    }

    #[test]
    fn the_cursor_walks_saves_and_samples_together() {
        let times = EventTimes {
            saves: vec![0.0, 1.0],
            samples: vec![0.0, 0.5, 1.0],
        };
        let mut cursor = EventCursor::default();
        let due = times.due(&cursor, 0.0);
        assert_eq!(
            due,
            DueEvents {
                save: true,
                sample: true
            }
        );
        cursor.advance(due);
        assert_eq!(times.next(&cursor), 0.5);
        let due = times.due(&cursor, 0.5);
        assert_eq!(
            due,
            DueEvents {
                save: false,
                sample: true
            }
        );
        cursor.advance(due);
        assert_eq!(times.next(&cursor), 1.0);
        cursor.advance(times.due(&cursor, 1.0));
        assert_eq!(times.next(&cursor), f64::INFINITY);
        assert_eq!(target(0.2, 0.5, 2.0, f64::INFINITY), 0.5);
        assert_eq!(target(0.7, 0.5, 2.0, 1.0), 1.0);
    }
}
