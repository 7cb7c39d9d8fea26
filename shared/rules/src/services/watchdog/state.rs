//! A snapback configuration parameter as its history tells it (GetParameterHistory, decrypted):
//! CloudTrail never records a SecureString's value, so whether a PutParameter weakened a rule is
//! told by the versions before and after it.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterState {
    pub name: String,
    /// The document now; None when the parameter no longer exists.
    pub current: Option<String>,
    /// The version before; None when the current one is the first (the built-in defaults held).
    pub previous: Option<String>,
    /// Who wrote the current version (`LastModifiedUser`).
    pub modified_by: Option<String>,
}
