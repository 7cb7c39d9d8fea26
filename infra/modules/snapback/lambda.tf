# --- Functions: settings from the manifest (timeout, memory), logs, dead letters -------------

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
  memory_size                    = each.value.memory_size
  timeout                        = each.value.timeout
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = local.kms_key_arn
  tags                           = local.tags

  environment {
    variables = merge(
      {
        SNAPBACK_TOPIC_ARN = aws_sns_topic.alerts.arn
        SNAPBACK_CONFIG    = "ssm:${local.parameter_name}"
        SNAPBACK_SELF_ARNS = join(",", local.role_arns)
      },
      contains(keys(local.relays), each.key) ? { SNAPBACK_SLACK_SECRET_ARN = var.slack_webhook_secret_arn } : {},
      contains(keys(local.relays), each.key) ? {} : { SNAPBACK_LEDGER_TABLE = aws_dynamodb_table.ledger.name },
      var.docs_url != null ? { SNAPBACK_DOCS_URL = var.docs_url } : {},
      # A function that may invoke the Slack relay (the watchdog) does so when the topic is gone.
      contains(each.value.iam_actions, "lambda:InvokeFunction") && length(local.relays) > 0 ? {
        SNAPBACK_RELAY_FUNCTION = "${var.name_prefix}${keys(local.relays)[0]}"
      } : {},
      # A central sweeper spreads its sweeps over the members, one queue message per account and region.
      contains(keys(local.sweepers), each.key) && local.fan_out ? {
        SNAPBACK_SWEEP_QUEUE_URL = aws_sqs_queue.sweeps[0].url
        SNAPBACK_SWEEP_ACCOUNTS  = var.sweep_organization ? "organization" : join(",", var.sweep_account_ids)
        SNAPBACK_SWEEP_REGIONS   = join(",", length(var.sweep_regions) > 0 ? var.sweep_regions : [local.region])
      } : {},
    )
  }

  # Lambda sets AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL from this; the functions honour both.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this[each.key].name
    application_log_level = var.log_level
    system_log_level      = "WARN"
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
  for_each      = local.functions
  function_name = aws_lambda_function.this[each.key].function_name
  # A sweep is not retried: the next scheduled run goes on from the ledger's cursor.
  maximum_retry_attempts = each.value.trigger == "schedule" ? 0 : 2

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dead_letters.arn
    }
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
