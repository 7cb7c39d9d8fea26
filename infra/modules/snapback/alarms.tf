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
      # A zero (or too small) reservation throttles every event: nothing else fails loudly.
      for name in keys(local.functions) : "${name}-throttles" => {
        description = "${name} was throttled: events wait for retries or are lost to the dead-letter queue. A zero reserved concurrency blinds it."
        namespace   = "AWS/Lambda"
        metric      = "Throttles"
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
      for key, route in local.routes : "${key}-failed-invocations" => {
        description = "EventBridge could not deliver events of ${key} to ${route.function}."
        namespace   = "AWS/Events"
        metric      = "FailedInvocations"
        statistic   = "Sum"
        # Rules on a custom bus report under the bus's name too.
        dimensions = merge(
          { RuleName = aws_cloudwatch_event_rule.this[key].name },
          route.bus == null ? {} : { EventBusName = aws_cloudwatch_event_rule.this[key].event_bus_name },
        )
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
