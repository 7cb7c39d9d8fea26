use std::path::PathBuf;

use crate::adapter::BoxFuture;
use crate::error::{error_code, AwsError};

/// Where the configuration document comes from.
pub trait ConfigSource: Send + Sync {
    fn fetch(&self) -> BoxFuture<'_, Result<String, AwsError>>;
    /// Names the source in logs and alerts.
    fn describe(&self) -> String;
}

/// A local file (tests, the demo, `snapback replay --config`).
#[derive(Clone, Debug)]
pub struct FileConfigSource {
    path: PathBuf,
}

impl FileConfigSource {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileConfigSource { path: path.into() }
    }
}

impl ConfigSource for FileConfigSource {
    fn fetch(&self) -> BoxFuture<'_, Result<String, AwsError>> {
        Box::pin(async move {
            tokio::fs::read_to_string(&self.path)
                .await
                .map_err(|error| AwsError::permanent("read config file", format!("{}: {error}", self.path.display())))
        })
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

/// An SSM Parameter Store parameter (String or SecureString).
#[derive(Clone, Debug)]
pub struct SsmConfigSource {
    client: aws_sdk_ssm::Client,
    name: String,
}

impl SsmConfigSource {
    pub fn new(client: aws_sdk_ssm::Client, name: impl Into<String>) -> Self {
        SsmConfigSource { client, name: name.into() }
    }
}

impl ConfigSource for SsmConfigSource {
    fn fetch(&self) -> BoxFuture<'_, Result<String, AwsError>> {
        Box::pin(self.get())
    }

    fn describe(&self) -> String {
        format!("SSM parameter {}", self.name)
    }
}

impl SsmConfigSource {
    async fn get(&self) -> Result<String, AwsError> {
        match self.client.get_parameter().name(&self.name).with_decryption(true).send().await {
            Ok(output) => {
                output.parameter().and_then(|parameter| parameter.value()).map(str::to_owned).ok_or_else(|| {
                    AwsError::permanent("ssm:GetParameter", format!("parameter {} has no value", self.name))
                })
            }
            Err(error) if error_code(&error) == Some("ParameterNotFound") => {
                Err(AwsError::permanent("ssm:GetParameter", format!("parameter {} does not exist", self.name)))
            }
            Err(error) => Err(AwsError::from_sdk("ssm:GetParameter", error)),
        }
    }
}
