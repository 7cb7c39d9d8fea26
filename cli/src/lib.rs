//! The `snapback` command's logic, kept out of `main` so tests drive it directly.

pub mod config_cmd;
pub mod replay;
pub mod rules_table;
pub mod scan;
