//! The findings in the AWS Security Finding Format, and their import into Security Hub. One
//! record type serves both: `--format asff` serializes it, `--to-security-hub` converts it to the
//! SDK's `AwsSecurityFinding` field by field (an exhaustive destructuring, so a field added to
//! the record and not to the import does not compile).

use std::collections::BTreeMap;

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Partition, Recommendation, RecordState, Remediation, Resource, SeverityLabel, Workflow,
    WorkflowStatus,
};
use serde::Serialize;

use super::ScanFinding;

/// BatchImportFindings takes at most this many findings per call.
pub const BATCH_LIMIT: usize = 100;

/// One finding as Security Hub takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    pub schema_version: &'static str,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub types: Vec<&'static str>,
    pub created_at: String,
    pub updated_at: String,
    pub severity: AsffSeverity,
    pub title: String,
    pub description: String,
    pub remediation: AsffRemediation,
    pub product_fields: BTreeMap<String, String>,
    pub resources: Vec<AsffResource>,
    pub workflow: AsffWorkflow,
    pub record_state: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    pub label: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRemediation {
    pub recommendation: AsffRecommendation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRecommendation {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    pub r#type: &'static str,
    pub id: String,
    pub partition: &'static str,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffWorkflow {
    pub status: &'static str,
}

/// The findings as ASFF records, created and updated at `now` (RFC 3339), within ASFF's limits.
pub fn records(findings: &[ScanFinding], now: &str) -> Vec<AsffFinding> {
    findings
        .iter()
        .map(|f| {
            let account = f.account.as_deref().unwrap_or("unknown");
            let region = f.region.as_deref().unwrap_or("unknown");
            let partition = partition_of(region);
            let product_fields = BTreeMap::from([
                ("snapback/rule".to_owned(), f.rule.clone()),
                ("snapback/mode".to_owned(), f.mode.to_string()),
                ("snapback/cluster".to_owned(), f.cluster.clone().unwrap_or_default()),
                ("snapback/restore".to_owned(), cut(f.restore.join("; "), 2048)),
            ]);
            AsffFinding {
                schema_version: "2018-10-08",
                id: format!("snapback/{account}/{region}/{}/{}", f.rule, f.resource),
                product_arn: format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default"),
                generator_id: format!("snapback/{}", f.rule),
                aws_account_id: account.to_owned(),
                types: vec!["Software and Configuration Checks/AWS Security Best Practices"],
                created_at: now.to_owned(),
                updated_at: now.to_owned(),
                severity: AsffSeverity { label: f.severity.label() },
                title: cut(format!("{} ({})", f.title, f.rule), 256),
                description: cut(format!("{}. {}", f.found.join("; "), f.why), 1024),
                remediation: AsffRemediation { recommendation: AsffRecommendation { text: cut(f.fix.clone(), 512) } },
                product_fields,
                resources: vec![AsffResource {
                    r#type: f.kind.asff_type,
                    id: f.kind.arn_of(partition, region, account, &f.resource),
                    partition,
                    region: region.to_owned(),
                }],
                workflow: AsffWorkflow { status: "NEW" },
                record_state: "ACTIVE",
            }
        })
        .collect()
}

/// `--format asff`: the records as a JSON array, ready for `aws securityhub batch-import-findings`.
pub fn render(findings: &[ScanFinding], now: &str) -> String {
    serde_json::to_string_pretty(&records(findings, now)).expect("records serialize") + "\n"
}

impl AsffFinding {
    /// The region whose Security Hub takes this finding (its resource's).
    pub fn region(&self) -> &str {
        self.resources.first().map_or("unknown", |resource| resource.region.as_str())
    }

    /// The record as the SDK sends it.
    pub fn to_sdk(&self) -> AwsSecurityFinding {
        let AsffFinding {
            schema_version,
            id,
            product_arn,
            generator_id,
            aws_account_id,
            types,
            created_at,
            updated_at,
            severity: AsffSeverity { label },
            title,
            description,
            remediation: AsffRemediation { recommendation: AsffRecommendation { text } },
            product_fields,
            resources,
            workflow: AsffWorkflow { status },
            record_state,
        } = self;
        let resources = resources
            .iter()
            .map(|AsffResource { r#type, id, partition, region }| {
                Resource::builder().r#type(*r#type).id(id).partition(Partition::from(*partition)).region(region).build()
            })
            .collect();
        AwsSecurityFinding::builder()
            .schema_version(*schema_version)
            .id(id)
            .product_arn(product_arn)
            .generator_id(generator_id)
            .aws_account_id(aws_account_id)
            .set_types(Some(types.iter().map(|t| (*t).to_owned()).collect()))
            .created_at(created_at)
            .updated_at(updated_at)
            .severity(aws_sdk_securityhub::types::Severity::builder().label(SeverityLabel::from(*label)).build())
            .title(title)
            .description(description)
            .remediation(Remediation::builder().recommendation(Recommendation::builder().text(text).build()).build())
            .set_product_fields(Some(product_fields.clone().into_iter().collect()))
            .set_resources(Some(resources))
            .workflow(Workflow::builder().status(WorkflowStatus::from(*status)).build())
            .record_state(RecordState::from(*record_state))
            .build()
    }
}

/// What an import achieved.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub imported: usize,
    pub failed: usize,
    /// Each failed finding (its id, the error code and message), or a call that failed whole.
    pub errors: Vec<String>,
}

/// Imports `records` with BatchImportFindings, at most [`BATCH_LIMIT`] per call. A call that
/// fails counts its whole batch as failed; the rest are still sent.
pub async fn import(client: &aws_sdk_securityhub::Client, records: &[AsffFinding]) -> Imported {
    let mut result = Imported::default();
    for batch in records.chunks(BATCH_LIMIT) {
        let findings = batch.iter().map(AsffFinding::to_sdk).collect();
        match client.batch_import_findings().set_findings(Some(findings)).send().await {
            Ok(answer) => {
                let count = |n: Option<i32>| n.and_then(|n| usize::try_from(n).ok());
                let failed = count(answer.failed_count()).unwrap_or(answer.failed_findings().len());
                result.failed += failed;
                result.imported += count(answer.success_count()).unwrap_or(batch.len().saturating_sub(failed));
                for error in answer.failed_findings() {
                    result.errors.push(format!(
                        "{}: {}: {}",
                        error.id().unwrap_or("?"),
                        error.error_code().unwrap_or("?"),
                        error.error_message().unwrap_or("")
                    ));
                }
            }
            Err(error) => {
                result.failed += batch.len();
                result.errors.push(format!(
                    "{} finding(s) not imported: securityhub:BatchImportFindings: {}",
                    batch.len(),
                    aws_sdk_securityhub::error::DisplayErrorContext(&error)
                ));
            }
        }
    }
    result
}

/// `text`, cut to `limit` characters (ASFF's field limits).
fn cut(text: String, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text;
    }
    text.chars().take(limit - 1).collect::<String>() + "…"
}

/// The partition a region belongs to.
fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_securityhub::operation::batch_import_findings::{BatchImportFindingsError, BatchImportFindingsOutput};
    use aws_sdk_securityhub::types::error::InvalidAccessException;
    use aws_sdk_securityhub::types::ImportFindingsError;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use serde_json::Value;

    fn sample() -> Vec<ScanFinding> {
        super::super::sample::findings()
    }

    #[test]
    fn asff_records_carry_the_required_fields_within_their_limits() {
        let mut long = sample()
            .into_iter()
            .find(|f| f.resource == "sg-0a1b2c3d4e5f60718" && f.severity == snapback_rules::Severity::High)
            .unwrap();
        long.why = "x".repeat(2000);
        let records: Value = serde_json::from_str(&render(&[long], "2026-11-29T06:00:00Z")).unwrap();
        let record = &records[0];
        for field in [
            "SchemaVersion",
            "Id",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "Types",
            "CreatedAt",
            "UpdatedAt",
            "Severity",
            "Title",
            "Description",
            "Resources",
        ] {
            assert!(!record[field].is_null(), "{field} in {record}");
        }
        assert_eq!(record["ProductArn"], "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default");
        assert_eq!(record["Severity"]["Label"], "HIGH");
        assert_eq!(record["Resources"][0]["Type"], "AwsEc2SecurityGroup");
        assert_eq!(
            record["Resources"][0]["Id"],
            "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a1b2c3d4e5f60718"
        );
        assert_eq!(record["ProductFields"]["snapback/mode"], "remediate");
        assert_eq!(record["Description"].as_str().unwrap().chars().count(), 1024);
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn the_import_sends_what_the_asff_format_prints() {
        let records = records(&sample(), "2026-12-01T10:25:00Z");
        let json = serde_json::to_value(&records[0]).unwrap();
        let sent = records[0].to_sdk();
        assert_eq!(sent.id(), json["Id"].as_str());
        assert_eq!(sent.product_arn(), json["ProductArn"].as_str());
        assert_eq!(sent.aws_account_id(), json["AwsAccountId"].as_str());
        assert_eq!(sent.types(), [json["Types"][0].as_str().unwrap()]);
        assert_eq!(sent.severity().and_then(|s| s.label()).map(|l| l.as_str()), json["Severity"]["Label"].as_str());
        assert_eq!(sent.title(), json["Title"].as_str());
        assert_eq!(sent.description(), json["Description"].as_str());
        assert_eq!(
            sent.remediation().and_then(|r| r.recommendation()).and_then(|r| r.text()),
            json["Remediation"]["Recommendation"]["Text"].as_str()
        );
        assert_eq!(sent.product_fields().unwrap()["snapback/rule"], json["ProductFields"]["snapback/rule"]);
        let resource = &sent.resources()[0];
        assert_eq!(resource.id(), json["Resources"][0]["Id"].as_str());
        assert_eq!(resource.r#type(), json["Resources"][0]["Type"].as_str());
        assert_eq!(resource.partition().map(|p| p.as_str()), json["Resources"][0]["Partition"].as_str());
        assert_eq!(resource.region(), json["Resources"][0]["Region"].as_str());
        assert_eq!(sent.workflow().and_then(|w| w.status()).map(|s| s.as_str()), Some("NEW"));
        assert_eq!(sent.record_state().map(|s| s.as_str()), Some("ACTIVE"));
    }

    /// aws-smithy-mocks, for what moto cannot be made to answer: a finding Security Hub refuses
    /// and a call refused whole. (The moto test imports for real and reads them back.)
    #[tokio::test]
    async fn imports_in_batches_of_a_hundred_and_counts_refused_findings_and_failed_calls() {
        let one = records(&sample(), "2026-12-01T10:25:00Z").remove(0);
        let many: Vec<AsffFinding> =
            (0..250).map(|n| AsffFinding { id: format!("snapback/finding-{n}"), ..one.clone() }).collect();
        let full = mock!(aws_sdk_securityhub::Client::batch_import_findings)
            .match_requests(|request| request.findings().len() == BATCH_LIMIT)
            .then_output(|| {
                BatchImportFindingsOutput::builder()
                    .success_count(99)
                    .failed_count(1)
                    .failed_findings(
                        ImportFindingsError::builder()
                            .id("snapback/finding-7")
                            .error_code("InvalidInput")
                            .error_message("Finding size exceeded")
                            .build(),
                    )
                    .build()
            });
        let rest = mock!(aws_sdk_securityhub::Client::batch_import_findings)
            .match_requests(|request| request.findings().len() == 50)
            .then_error(|| {
                BatchImportFindingsError::InvalidAccessException(
                    InvalidAccessException::builder().message("Security Hub is not enabled").build(),
                )
            });
        let client = mock_client!(aws_sdk_securityhub, RuleMode::MatchAny, [&full, &rest]);

        let result = import(&client, &many).await;

        assert_eq!(full.num_calls(), 2, "250 findings: two full batches");
        assert_eq!(rest.num_calls(), 1, "and one of the remaining 50");
        assert_eq!(result.imported, 198);
        assert_eq!(result.failed, 52);
        assert_eq!(result.errors.len(), 3, "{:?}", result.errors);
        assert_eq!(result.errors[0], "snapback/finding-7: InvalidInput: Finding size exceeded");
        assert!(
            result.errors[2].starts_with("50 finding(s) not imported: securityhub:BatchImportFindings:")
                && result.errors[2].contains("Security Hub is not enabled"),
            "{}",
            result.errors[2]
        );
    }
}
