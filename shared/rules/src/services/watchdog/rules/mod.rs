//! One file per watchdog rule: its metadata, its checks, its tests.

pub mod detector_disabled;
pub mod guard_alerts_silenced;
pub mod guard_config_weakened;
pub mod guard_function_tampered;
pub mod guard_rule_disabled;
pub mod trail_deleted;
pub mod trail_events_narrowed;
pub mod trail_logging_stopped;
