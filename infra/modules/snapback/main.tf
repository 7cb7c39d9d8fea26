locals {
  # Generated from the rule registry by `snapback manifest`; a test keeps it current.
  manifest = jsondecode(file("${path.module}/manifest.json"))

  functions = {
    for name, function in local.manifest.functions : name => function
    if name != "slack-notifier" || var.slack_webhook_secret_arn != null
  }
  guards = { for name, function in local.functions : name => function if length(function.event_patterns) > 0 }

  # One EventBridge rule per (function, pattern).
  patterns = merge([
    for name, function in local.guards : {
      for index, pattern in function.event_patterns : "${name}-${index}" => { function = name, pattern = pattern }
    }
  ]...)

  timeouts = { "sg-guard" = 30, "eks-guard" = 900, "slack-notifier" = 60 }

  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition

  kms_key_arn    = var.kms_key_arn != null ? var.kms_key_arn : aws_kms_key.this[0].arn
  parameter_name = "/${trimsuffix(var.name_prefix, "-")}/config"
  parameter_arn  = "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${local.parameter_name}"
  role_arns      = [for name in keys(local.functions) : "arn:${local.partition}:iam::${local.account}:role/${var.name_prefix}${name}"]

  config_document = jsonencode(merge(var.config_overrides, {
    rules = merge(
      try(var.config_overrides.rules, {}),
      { for rule, mode in var.rule_modes : rule => merge(try(var.config_overrides.rules[rule], {}), { mode = mode }) },
    )
  }))

  # Where each action may act; Describe/List calls only exist unscoped.
  action_resources = {
    "sns:Publish"                      = [aws_sns_topic.alerts.arn]
    "ssm:GetParameter"                 = [local.parameter_arn]
    "kms:Decrypt"                      = [local.kms_key_arn]
    "kms:GenerateDataKey"              = [local.kms_key_arn]
    "kms:DescribeKey"                  = ["arn:${local.partition}:kms:${local.region}:${local.account}:key/*"]
    "kms:CreateGrant"                  = ["arn:${local.partition}:kms:${local.region}:${local.account}:key/*"]
    "secretsmanager:GetSecretValue"    = var.slack_webhook_secret_arn != null ? [var.slack_webhook_secret_arn] : []
    "ec2:RevokeSecurityGroupIngress"   = ["arn:${local.partition}:ec2:${local.region}:${local.account}:security-group/*"]
    "eks:DescribeCluster"              = ["arn:${local.partition}:eks:${local.region}:${local.account}:cluster/*"]
    "eks:UpdateClusterConfig"          = ["arn:${local.partition}:eks:${local.region}:${local.account}:cluster/*"]
    "eks:AssociateEncryptionConfig"    = ["arn:${local.partition}:eks:${local.region}:${local.account}:cluster/*"]
    "eks:ListAccessEntries"            = ["arn:${local.partition}:eks:${local.region}:${local.account}:cluster/*"]
    "eks:ListAssociatedAccessPolicies" = ["arn:${local.partition}:eks:${local.region}:${local.account}:access-entry/*"]
    "eks:DisassociateAccessPolicy"     = ["arn:${local.partition}:eks:${local.region}:${local.account}:access-entry/*"]
    "ec2:DescribeSecurityGroups"       = ["*"]
    "ec2:DescribeSecurityGroupRules"   = ["*"]
    "eks:ListClusters"                 = ["*"]
  }

  tags = merge({ "managed-by" = "snapback" }, var.tags)
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

# --- KMS: the topic, queue, logs, parameter and environments share one key -------------------

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_111:A key policy's "*" resource is the key itself.
  #checkov:skip=CKV_AWS_356:A key policy's "*" resource is the key itself.
  #checkov:skip=CKV_AWS_109:The account root administers its own key, as AWS's default key policy does.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }
  statement {
    sid       = "ServicesEncrypt"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*", "kms:Encrypt", "kms:ReEncrypt*", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com", "cloudwatch.amazonaws.com", "sns.amazonaws.com", "cloudtrail.amazonaws.com", "logs.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "this" {
  count                   = var.kms_key_arn == null ? 1 : 0
  description             = "snapback: alerts, dead letters, logs, configuration"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = local.tags
}

# --- Alerts ----------------------------------------------------------------------------------

resource "aws_sns_topic" "alerts" {
  name              = "${var.name_prefix}alerts"
  kms_master_key_id = local.kms_key_arn
  tags              = local.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alert_emails)
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_sns_topic_subscription" "slack" {
  count     = var.slack_webhook_secret_arn != null ? 1 : 0
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.this["slack-notifier"].arn
}

resource "aws_lambda_permission" "slack_from_sns" {
  count         = var.slack_webhook_secret_arn != null ? 1 : 0
  statement_id  = "AllowAlertTopic"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["slack-notifier"].function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.alerts.arn
}

# --- Configuration ---------------------------------------------------------------------------
# Terraform and `snapback config set-mode` share this parameter: by default Terraform writes it
# once and ignores later changes to its value; set config_managed_by_terraform to own it.

resource "aws_ssm_parameter" "config_managed" {
  count  = var.config_managed_by_terraform ? 1 : 0
  name   = local.parameter_name
  type   = "SecureString"
  key_id = local.kms_key_arn
  value  = local.config_document
  tags   = local.tags
}

resource "aws_ssm_parameter" "config" {
  count  = var.config_managed_by_terraform ? 0 : 1
  name   = local.parameter_name
  type   = "SecureString"
  key_id = local.kms_key_arn
  value  = local.config_document
  tags   = local.tags

  lifecycle {
    ignore_changes = [value]
  }
}

# --- Dead letters: failed deliveries and failed async invocations ----------------------------

resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.name_prefix}dead-letters"
  kms_master_key_id         = local.kms_key_arn
  message_retention_seconds = 1209600
  tags                      = local.tags
}

data "aws_iam_policy_document" "dead_letters" {
  statement {
    sid       = "EventBridgeDeliveries"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [for rule in aws_cloudwatch_event_rule.this : rule.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "dead_letters" {
  queue_url = aws_sqs_queue.dead_letters.id
  policy    = data.aws_iam_policy_document.dead_letters.json
}

# --- Functions -------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each           = local.functions
  name               = "${var.name_prefix}${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
  tags               = local.tags
}

# Exactly the manifest's actions for the function, each on the narrowest resource it allows,
# plus its logs, traces and the dead-letter queue.
data "aws_iam_policy_document" "function" {
  for_each = local.functions

  dynamic "statement" {
    for_each = [for action in each.value.iam_actions : action if length(lookup(local.action_resources, action, ["*"])) > 0]
    content {
      sid       = replace(title(replace(statement.value, "/[:]/", " ")), " ", "")
      actions   = [statement.value]
      resources = lookup(local.action_resources, statement.value, ["*"])
    }
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[each.key].arn}:*"]
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }

  statement {
    sid       = "Traces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.functions
  name     = "${var.name_prefix}${each.key}"
  role     = aws_iam_role.this[each.key].id
  policy   = data.aws_iam_policy_document.function[each.key].json
}

resource "aws_cloudwatch_log_group" "this" {
  for_each          = local.functions
  name              = "/aws/lambda/${var.name_prefix}${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The functions call only public AWS APIs; a VPC would add NAT cost and no isolation.
  #checkov:skip=CKV_AWS_272:The zips are built from source by `make build`; code signing is left to adopters' pipelines.
  for_each                       = local.functions
  function_name                  = "${var.name_prefix}${each.key}"
  role                           = aws_iam_role.this[each.key].arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  filename                       = "${var.artifacts_dir}/${each.key}/bootstrap.zip"
  source_code_hash               = filebase64sha256("${var.artifacts_dir}/${each.key}/bootstrap.zip")
  memory_size                    = 128
  timeout                        = local.timeouts[each.key]
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = local.kms_key_arn
  tags                           = local.tags

  environment {
    variables = merge(
      {
        SNAPBACK_TOPIC_ARN    = aws_sns_topic.alerts.arn
        SNAPBACK_CONFIG       = "ssm:${local.parameter_name}"
        SNAPBACK_SELF_ARNS    = join(",", local.role_arns)
        AWS_LAMBDA_LOG_FORMAT = "JSON"
      },
      each.key == "slack-notifier" ? { SNAPBACK_SLACK_SECRET_ARN = var.slack_webhook_secret_arn } : {},
      var.docs_url != null ? { SNAPBACK_DOCS_URL = var.docs_url } : {},
    )
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letters.arn
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  for_each               = local.functions
  function_name          = aws_lambda_function.this[each.key].function_name
  maximum_retry_attempts = 2

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dead_letters.arn
    }
  }
}

# --- EventBridge: CloudTrail events to the guards --------------------------------------------

resource "aws_cloudwatch_event_rule" "this" {
  for_each      = local.patterns
  name          = "${var.name_prefix}${each.key}"
  description   = "CloudTrail API calls for ${each.value.function}"
  event_pattern = jsonencode(each.value.pattern)
  tags          = local.tags
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.patterns
  rule     = aws_cloudwatch_event_rule.this[each.key].name
  arn      = aws_lambda_function.this[each.value.function].arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 185
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letters.arn
  }
}

resource "aws_lambda_permission" "from_eventbridge" {
  for_each      = local.patterns
  statement_id  = "AllowEventBridge-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.value.function].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this[each.key].arn
}

# --- Alarms, to the alert topic --------------------------------------------------------------

locals {
  alarms = merge(
    {
      for name in keys(local.functions) : "${name}-errors" => {
        description = "${name} failed an invocation: Lambda retries, then the dead-letter queue."
        namespace   = "AWS/Lambda"
        metric      = "Errors"
        statistic   = "Sum"
        dimensions  = { FunctionName = aws_lambda_function.this[name].function_name }
      }
    },
    {
      "dead-letters" = {
        description = "Events or invocations snapback could not handle are waiting in the dead-letter queue."
        namespace   = "AWS/SQS"
        metric      = "ApproximateNumberOfMessagesVisible"
        statistic   = "Maximum"
        dimensions  = { QueueName = aws_sqs_queue.dead_letters.name }
      }
    },
    {
      for key, pattern in local.patterns : "${key}-failed-invocations" => {
        description = "EventBridge could not deliver events of ${key} to ${pattern.function}."
        namespace   = "AWS/Events"
        metric      = "FailedInvocations"
        statistic   = "Sum"
        dimensions  = { RuleName = aws_cloudwatch_event_rule.this[key].name }
      }
    },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "${var.name_prefix}${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  tags                = local.tags
}

# --- Optional trail, for accounts without one ------------------------------------------------

resource "aws_s3_bucket" "trail" {
  #checkov:skip=CKV_AWS_144:Cross-region replication of the trail's logs is the account's archive policy, not snapback's.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object notifications; snapback reads events from EventBridge.
  #checkov:skip=CKV_AWS_18:Access logging needs a second bucket the account owns; out of scope for an optional trail.
  count         = var.create_trail ? 1 : 0
  bucket_prefix = "${var.name_prefix}trail-"
  tags          = local.tags
}

resource "aws_s3_bucket_versioning" "trail" {
  count  = var.create_trail ? 1 : 0
  bucket = aws_s3_bucket.trail[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "trail" {
  count  = var.create_trail ? 1 : 0
  bucket = aws_s3_bucket.trail[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
  }
}

resource "aws_s3_bucket_public_access_block" "trail" {
  count                   = var.create_trail ? 1 : 0
  bucket                  = aws_s3_bucket.trail[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "trail" {
  count  = var.create_trail ? 1 : 0
  bucket = aws_s3_bucket.trail[0].id
  rule {
    id     = "expire-old-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = 365
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "trail_bucket" {
  count = var.create_trail ? 1 : 0
  statement {
    sid       = "TrailAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.trail[0].arn]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
  }
  statement {
    sid       = "TrailWrite"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.trail[0].arn}/AWSLogs/${local.account}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
  }
}

resource "aws_s3_bucket_policy" "trail" {
  count  = var.create_trail ? 1 : 0
  bucket = aws_s3_bucket.trail[0].id
  policy = data.aws_iam_policy_document.trail_bucket[0].json
}

resource "aws_cloudtrail" "this" {
  #checkov:skip=CKV2_AWS_10:CloudWatch Logs delivery is not needed: EventBridge receives the events directly.
  #checkov:skip=CKV_AWS_252:No SNS topic per log file: nothing consumes it.
  count                         = var.create_trail ? 1 : 0
  name                          = "${var.name_prefix}trail"
  s3_bucket_name                = aws_s3_bucket.trail[0].id
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = local.kms_key_arn
  tags                          = local.tags

  event_selector {
    read_write_type           = "WriteOnly"
    include_management_events = true
  }

  depends_on = [aws_s3_bucket_policy.trail]
}
