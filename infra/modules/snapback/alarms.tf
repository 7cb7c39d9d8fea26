# --- Alarms, to the alert topic --------------------------------------------------------------

locals {
  alarms = merge(
    # Per function: a failed invocation, and throttling (a zero or too small reservation
    # throttles every event, and nothing else fails loudly).
    merge([
      for metric, problem in {
        "Errors"    = "failed an invocation: Lambda retries, then the dead-letter queue."
        "Throttles" = "was throttled: events wait for retries or are lost to the dead-letter queue. A zero reserved concurrency blinds it."
        } : {
        for name in keys(local.functions) : "${name}-${lower(metric)}" => {
          description = "${name} ${problem}"
          namespace   = "AWS/Lambda"
          metric      = metric
          statistic   = "Sum"
          dimensions  = { FunctionName = aws_lambda_function.this[name].function_name }
        }
      }
    ]...),
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

# --- Heartbeats: the path from each bus through each rule to its function ----------------------
# The watchdog's scheduled run puts one heartbeat per rule on each bus; the function counts it
# (metric Heartbeats, by function, bus and route). No heartbeat for two sweep intervals (data
# missing is breaching) means the rule is disabled, deleted or without its target, the function
# is throttled, or the schedule itself stopped: that rule's events go unjudged.

locals {
  heartbeats = length([for name, function in local.scheduled : name if function.sweeps_itself]) > 0
  # The sweep interval: from rate(...), else heartbeat_interval_seconds (for cron(...)), else a day.
  sweep_rate     = var.sweep_schedule == null ? null : try(regex("^rate\\((\\d+) (minute|hour|day)s?\\)$", var.sweep_schedule), null)
  sweep_interval = local.sweep_rate != null ? tonumber(local.sweep_rate[0]) * lookup({ minute = 60, hour = 3600, day = 86400 }, local.sweep_rate[1]) : coalesce(var.heartbeat_interval_seconds, 86400)
  # One period per interval (a minute to a day); alarm after two intervals without a heartbeat,
  # within CloudWatch's seven days of evaluation.
  heartbeat_period      = min(86400, max(60, local.sweep_interval))
  heartbeat_evaluations = min(floor(604800 / local.heartbeat_period), max(2, ceil(2 * local.sweep_interval / local.heartbeat_period)))
}

resource "aws_cloudwatch_metric_alarm" "heartbeat" {
  for_each            = local.heartbeats ? local.routes : {}
  alarm_name          = "${var.name_prefix}${each.key}-heartbeat"
  alarm_description   = "No heartbeat came through ${aws_cloudwatch_event_rule.this[each.key].name} to ${each.value.function}: the rule, its target or the function is broken, or the watchdog's schedule stopped. Its events go unjudged."
  namespace           = "snapback"
  metric_name         = "Heartbeats"
  dimensions          = { Function = each.value.function, Bus = each.value.bus == null ? "default" : each.value.bus, Route = trimprefix(each.key, "central-") }
  statistic           = "Sum"
  period              = local.heartbeat_period
  evaluation_periods  = local.heartbeat_evaluations
  datapoints_to_alarm = local.heartbeat_evaluations
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
  tags                = local.tags
}
