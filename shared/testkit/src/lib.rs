//! Test support for every snapback crate, in one place: CloudTrail records in the shapes of
//! SHAPES.md (`cloudtrail`), the `snapback` binary as a user runs it (`cli`), and with the `fakes`
//! feature, fakes behind the pipeline's traits (`fakes`). The moto world and the handler builder
//! live in `snapback-tests`, which needs the AWS SDK.

pub mod cli;
pub mod cloudtrail;
#[cfg(feature = "fakes")]
pub mod fakes;
