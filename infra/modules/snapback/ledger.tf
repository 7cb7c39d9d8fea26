# --- Ledger: what was found and alerted, events handled, alerts not yet published ------------

resource "aws_dynamodb_table" "ledger" {
  name         = "${var.name_prefix}ledger"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"
  tags         = local.tags

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  # Claims, kept alerts and resolved findings expire; open findings carry no expiry.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = local.kms_key_arn
  }
}

# --- Sweeps: EventBridge Scheduler invokes the sweeper ---------------------------------------

data "aws_iam_policy_document" "assume_scheduler" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  for_each           = local.scheduled
  name               = "${var.name_prefix}${each.key}-schedule"
  assume_role_policy = data.aws_iam_policy_document.assume_scheduler.json
  tags               = local.tags
}

data "aws_iam_policy_document" "scheduler" {
  for_each = local.scheduled
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this[each.key].arn]
  }
  # The schedule's dead-letter queue, encrypted with the module's key.
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }
  statement {
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  for_each = local.scheduled
  name     = "${var.name_prefix}${each.key}-schedule"
  role     = aws_iam_role.scheduler[each.key].id
  policy   = data.aws_iam_policy_document.scheduler[each.key].json
}

resource "aws_scheduler_schedule" "sweep" {
  for_each                     = local.scheduled
  name                         = "${var.name_prefix}${each.key}"
  description                  = each.value.description
  schedule_expression          = var.sweep_schedule
  schedule_expression_timezone = "UTC"
  kms_key_arn                  = local.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this[each.key].arn
    role_arn = aws_iam_role.scheduler[each.key].arn
    input    = jsonencode({ snapback = "sweep" })

    # The next run comes soon enough; a failed one is not retried on top of it.
    retry_policy {
      maximum_retry_attempts = 0
    }

    dead_letter_config {
      arn = aws_sqs_queue.dead_letters.arn
    }
  }
}

# --- A central deployment's sweeps: one message per member account and region -------------------

resource "aws_sqs_queue" "sweeps" {
  count                      = local.fan_out ? 1 : 0
  name                       = "${var.name_prefix}sweeps"
  kms_master_key_id          = local.kms_key_arn
  message_retention_seconds  = 86400
  visibility_timeout_seconds = 6 * local.manifest.functions.sweeper.timeout
  # A sweep that keeps failing (a member role gone) ends in the dead-letter queue and its alarm.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters.arn
    maxReceiveCount     = 3
  })
  tags = local.tags
}

resource "aws_lambda_event_source_mapping" "sweeps" {
  for_each                = local.fan_out ? local.sweepers : {}
  event_source_arn        = aws_sqs_queue.sweeps[0].arn
  function_name           = aws_lambda_function.this[each.key].arn
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.sweep_concurrency
  }
}
