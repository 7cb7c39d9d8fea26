//! One adapter per service slice of `shared/rules`.

#[cfg(feature = "guards")]
pub mod ecr;
pub mod eks;
#[cfg(feature = "guards")]
pub mod node;
#[cfg(feature = "guards")]
pub mod security_groups;
#[cfg(feature = "watchdog")]
pub mod watchdog;
