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
  for_each           = local.sweepers
  name               = "${var.name_prefix}${each.key}-schedule"
  assume_role_policy = data.aws_iam_policy_document.assume_scheduler.json
  tags               = local.tags
}

data "aws_iam_policy_document" "scheduler" {
  for_each = local.sweepers
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this[each.key].arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  for_each = local.sweepers
  name     = "${var.name_prefix}${each.key}-schedule"
  role     = aws_iam_role.scheduler[each.key].id
  policy   = data.aws_iam_policy_document.scheduler[each.key].json
}

resource "aws_scheduler_schedule" "sweep" {
  for_each                     = local.sweepers
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

    # The next run comes soon enough; a failed one is not retried on top of it.
    retry_policy {
      maximum_retry_attempts = 0
    }

    dead_letter_config {
      arn = aws_sqs_queue.dead_letters.arn
    }
  }
}
