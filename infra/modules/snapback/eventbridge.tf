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
