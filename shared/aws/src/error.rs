use std::error::Error as StdError;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

type Source = Box<dyn StdError + Send + Sync + 'static>;

/// A failed AWS call, split by whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// Throttling, a 5xx, a timeout or a network failure that outlasted the SDK's own retries.
    #[error("{operation} failed, a retry may help: {message}")]
    Retryable {
        operation: &'static str,
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// The resource is busy with another change (EKS: an update in progress, a 409).
    #[error("{operation} failed, the resource is busy: {message}")]
    Busy { operation: &'static str, message: String },
    /// The request itself is wrong or not allowed; retrying gives the same answer.
    #[error("{operation} failed: {message}")]
    Permanent {
        operation: &'static str,
        message: String,
        #[source]
        source: Option<Source>,
    },
}

impl AwsError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, AwsError::Retryable { .. } | AwsError::Busy { .. })
    }

    pub fn permanent(operation: &'static str, message: impl Into<String>) -> AwsError {
        AwsError::Permanent { operation, message: message.into(), source: None }
    }

    /// Classifies an SDK error by its kind, status and error code.
    pub fn from_sdk<E>(operation: &'static str, error: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let retryable = match &error {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => match service.err().code() {
                Some(code) => is_retryable_code(code),
                // No code (an HTML error page, a modeled error without metadata): the status decides.
                None => matches!(service.raw().status().as_u16(), 429 | 500..=599),
            },
            _ => false,
        };
        let message = DisplayErrorContext(&error).to_string();
        let source: Option<Source> = Some(Box::new(error));
        if retryable {
            AwsError::Retryable { operation, message, source }
        } else {
            AwsError::Permanent { operation, message, source }
        }
    }
}

/// Error codes AWS documents as transient.
fn is_retryable_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "TooManyRequestsException"
            | "ProvisionedThroughputExceededException"
            | "InternalError"
            | "InternalFailure"
            | "InternalServerError"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "ServerException"
            | "RequestTimeout"
            | "RequestTimeoutException"
            | "Unavailable"
    ) || code.starts_with("Server.")
}

/// The service's error code, for matching "not found" answers.
pub(crate) fn error_code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// The endpoint does not serve the operation at all: a 404 that carries no AWS error code (an
/// emulator without it, such as moto for EKS access entries), or a 500 whose body is an HTML page
/// (moto's answer to an EC2 action it lacks, such as GetInstanceMetadataDefaults). AWS's own
/// not-found answers carry a code (`ResourceNotFoundException`), and its errors are XML or JSON.
pub(crate) fn is_unserved<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    let raw = match error {
        SdkError::ServiceError(service) if service.err().code().is_none() => service.raw(),
        SdkError::ResponseError(response) => response.raw(),
        _ => return false,
    };
    match raw.status().as_u16() {
        404 => matches!(error, SdkError::ServiceError(_)),
        500 => raw.body().bytes().is_some_and(|body| {
            let start = body.trim_ascii_start();
            let start = &start[..start.len().min(14)];
            start.eq_ignore_ascii_case(b"<!doctype html") || start.starts_with(b"<html")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_retryable_and_client_errors_are_not() {
        for code in ["Throttling", "RequestLimitExceeded", "InternalError", "Server.Unavailable"] {
            assert!(is_retryable_code(code), "{code}");
        }
        for code in ["UnauthorizedOperation", "InvalidGroup.NotFound", "AccessDenied", "InvalidParameterValue"] {
            assert!(!is_retryable_code(code), "{code}");
        }
    }
}
