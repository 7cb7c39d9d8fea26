use std::future::Future;

use crate::error::{error_code, AwsError};

/// Reads a secret's value.
pub trait SecretSource: Send + Sync {
    fn secret_string(&self, secret_id: &str) -> impl Future<Output = Result<String, AwsError>> + Send;
}

/// [`SecretSource`] over AWS Secrets Manager.
#[derive(Clone, Debug)]
pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManager {
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        SecretsManager { client }
    }
}

impl SecretSource for SecretsManager {
    async fn secret_string(&self, secret_id: &str) -> Result<String, AwsError> {
        match self.client.get_secret_value().secret_id(secret_id).send().await {
            Ok(output) => output.secret_string().map(str::to_owned).ok_or_else(|| {
                AwsError::permanent("secretsmanager:GetSecretValue", format!("secret {secret_id} has no string value"))
            }),
            Err(error) if error_code(&error) == Some("ResourceNotFoundException") => {
                Err(AwsError::permanent("secretsmanager:GetSecretValue", format!("secret {secret_id} does not exist")))
            }
            // The SDK error is kept as the source but not shown: it never holds the value.
            Err(error) => Err(AwsError::from_sdk("secretsmanager:GetSecretValue", error)),
        }
    }
}
