//! The messages a day is told in, in posting order, and when a day has nothing for one.

use crate::day::DaySummary;

/// The messages of a day, in posting order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Activity,
    Sleep,
}

impl MessageKind {
    pub const ALL: [MessageKind; 2] = [MessageKind::Activity, MessageKind::Sleep];

    /// The message's key in `[templates]` and in the posted ledger.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Activity => "activity",
            MessageKind::Sleep => "sleep",
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
