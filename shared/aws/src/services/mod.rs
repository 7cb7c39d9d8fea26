//! One adapter per service slice of `shared/rules`.

pub mod ecr;
pub mod eks;
pub mod node;
pub mod security_groups;
#[cfg(feature = "watchdog")]
pub mod watchdog;
