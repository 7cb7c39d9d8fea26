# --- Dashboard: what snapback did, how fast, and whether anything is stuck ------------------------
# The decision metrics come from one embedded-metric-format line per decision (namespace
# "snapback"): no API call, no permission. Each widget is described in the README.

locals {
  dashboard_widget = { width = 12, height = 6 }
  lambda_metrics = {
    for stat in ["Errors", "Throttles"] : stat => [
      for name in keys(local.functions) : ["AWS/Lambda", stat, "FunctionName", aws_lambda_function.this[name].function_name]
    ]
  }
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = trimsuffix(var.name_prefix, "-")
  dashboard_body = jsonencode({
    widgets = [
      merge(local.dashboard_widget, {
        type = "metric", x = 0, y = 0
        properties = {
          title   = "Decisions by outcome"
          region  = local.region
          stacked = true
          view    = "timeSeries"
          period  = 300
          metrics = [[{ expression = "SEARCH('{snapback,Outcome} MetricName=\"Decisions\"', 'Sum', 300)", id = "decisions", label = "" }]]
        }
      }),
      merge(local.dashboard_widget, {
        type = "metric", x = 12, y = 0
        properties = {
          title  = "Time from event to restore (ms)"
          region = local.region
          view   = "timeSeries"
          period = 300
          metrics = [
            ["snapback", "TimeToRestore", "Outcome", "remediated", { stat = "p50", label = "p50" }],
            ["snapback", "TimeToRestore", "Outcome", "remediated", { stat = "p99", label = "p99" }],
          ]
        }
      }),
      merge(local.dashboard_widget, {
        type = "metric", x = 0, y = 6
        properties = {
          title   = "Function errors and throttles"
          region  = local.region
          view    = "timeSeries"
          stat    = "Sum"
          period  = 300
          metrics = concat(local.lambda_metrics["Errors"], local.lambda_metrics["Throttles"])
        }
      }),
      merge(local.dashboard_widget, {
        type = "metric", x = 12, y = 6
        properties = {
          title   = "Dead letters waiting"
          region  = local.region
          view    = "timeSeries"
          stat    = "Maximum"
          period  = 300
          metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dead_letters.name]]
        }
      }),
      merge(local.dashboard_widget, {
        type = "metric", x = 0, y = 12, width = 24
        properties = {
          title  = "Heartbeats by rule (one per sweep interval each; a gap is a broken path)"
          region = local.region
          view   = "timeSeries"
          period = local.heartbeat_period
          metrics = [[{
            expression = "SEARCH('{snapback,Function,Bus,Route} MetricName=\"Heartbeats\"', 'Sum', ${local.heartbeat_period})"
            id         = "heartbeats"
            label      = ""
          }]]
        }
      }),
      merge(local.dashboard_widget, {
        type = "alarm", x = 0, y = 18, width = 24, height = 4
        properties = {
          title  = "Alarms"
          alarms = concat([for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn], [for alarm in aws_cloudwatch_metric_alarm.heartbeat : alarm.arn])
        }
      }),
    ]
  })
}
