# --- EventBridge: CloudTrail events to the guards --------------------------------------------

resource "aws_cloudwatch_event_rule" "this" {
  for_each       = local.routes
  name           = "${var.name_prefix}${each.key}"
  description    = "CloudTrail API calls for ${each.value.function}${each.value.bus == null ? "" : ", forwarded by member accounts"}"
  event_bus_name = each.value.bus == null ? null : aws_cloudwatch_event_bus.central[0].name
  event_pattern  = jsonencode(each.value.pattern)
  tags           = local.tags
}

# The id, retry policy and dead-letter queue are the manifest's: the watchdog puts a removed
# target back with the same ones, so the next plan finds nothing to change.
resource "aws_cloudwatch_event_target" "this" {
  for_each       = local.routes
  rule           = aws_cloudwatch_event_rule.this[each.key].name
  event_bus_name = aws_cloudwatch_event_rule.this[each.key].event_bus_name
  target_id      = local.manifest.event_target.id
  arn            = aws_lambda_function.this[each.value.function].arn

  retry_policy {
    maximum_event_age_in_seconds = local.manifest.event_target.maximum_event_age_in_seconds
    maximum_retry_attempts       = local.manifest.event_target.maximum_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letters.arn
  }
}

resource "aws_lambda_permission" "from_eventbridge" {
  for_each      = local.routes
  statement_id  = "AllowEventBridge-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.value.function].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this[each.key].arn
}

# --- A central deployment: the bus member accounts forward to -----------------------------------

resource "aws_cloudwatch_event_bus" "central" {
  count = local.organization ? 1 : 0
  name  = "${var.name_prefix}central"
  tags  = local.tags
}

# Only the organization's accounts (or the listed ones) may put events on it.
data "aws_iam_policy_document" "central_bus" {
  count = local.organization ? 1 : 0

  dynamic "statement" {
    for_each = var.organization_id == null ? [] : [var.organization_id]
    content {
      sid       = "OrganizationForwards"
      actions   = ["events:PutEvents"]
      resources = [aws_cloudwatch_event_bus.central[0].arn]
      principals {
        type        = "AWS"
        identifiers = ["*"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalOrgID"
        values   = [statement.value]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.member_account_ids) == 0 ? [] : [var.member_account_ids]
    content {
      sid       = "ListedAccountsForward"
      actions   = ["events:PutEvents"]
      resources = [aws_cloudwatch_event_bus.central[0].arn]
      principals {
        type        = "AWS"
        identifiers = [for account in statement.value : "arn:${local.partition}:iam::${account}:root"]
      }
    }
  }
}

resource "aws_cloudwatch_event_bus_policy" "central" {
  count          = local.organization ? 1 : 0
  event_bus_name = aws_cloudwatch_event_bus.central[0].name
  policy         = data.aws_iam_policy_document.central_bus[0].json
}
