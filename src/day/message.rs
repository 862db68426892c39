//! The messages a day is told in, in posting order, and when a day has nothing for one;
//! and the monitoring messages: the week's summary and an alert firing or resolving.

use crate::day::DaySummary;

/// The messages of a run, in posting order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Activity,
    Sleep,
    Week,
    Alert,
    Resolved,
}

impl MessageKind {
    /// The day's own messages, every run.
    pub const ALL: [MessageKind; 2] = [MessageKind::Activity, MessageKind::Sleep];
    /// The monitoring messages, when configured.
    pub const MONITORING: [MessageKind; 3] =
        [MessageKind::Week, MessageKind::Alert, MessageKind::Resolved];

    /// The message's key in `[templates]` and in the posted ledger.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Activity => "activity",
            MessageKind::Sleep => "sleep",
            MessageKind::Week => "week",
            MessageKind::Alert => "alert",
            MessageKind::Resolved => "resolved",
        }
    }

    /// Why `day` has nothing for this message to say, if it has nothing.
    pub fn missing_main_data(self, day: &DaySummary) -> Option<&'static str> {
        match self {
            MessageKind::Activity if day.activity.is_empty() => {
                Some("no activity was recorded (tracker off-wrist or not synced)")
            }
            MessageKind::Sleep if day.sleep.as_ref().and_then(|s| s.minutes_asleep).is_none() => {
                Some("no sleep ending that day was recorded")
            }
            _ => None,
        }
    }
}
