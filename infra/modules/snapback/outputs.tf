output "alert_topic_arn" {
  description = "SNS topic carrying snapback's alerts (subscribe Chatbot, email or queues here)."
  value       = aws_sns_topic.alerts.arn
}

output "config_parameter_name" {
  description = "SSM parameter holding the configuration document (`snapback config ... --parameter`)."
  value       = local.parameter_name
}

output "dead_letter_queue_url" {
  description = "Queue of events and invocations snapback could not handle."
  value       = aws_sqs_queue.dead_letters.url
}

output "function_names" {
  description = "Lambda function names by snapback function."
  value       = { for name, function in aws_lambda_function.this : name => function.function_name }
}

output "role_arns" {
  description = "Execution role ARNs by function (snapback's own principals)."
  value       = { for name, role in aws_iam_role.this : name => role.arn }
}

output "ledger_table_name" {
  description = "DynamoDB table where snapback remembers findings, alerts and handled events."
  value       = aws_dynamodb_table.ledger.name
}

output "central_event_bus_arn" {
  description = "The bus member accounts forward their CloudTrail events to (the snapback-member module's central_event_bus_arn); null outside a central deployment."
  value       = local.organization ? aws_cloudwatch_event_bus.central[0].arn : null
}

output "account_id" {
  description = "The account snapback runs in (the snapback-member module's central_account_id)."
  value       = local.account
}

output "dashboard_name" {
  description = "The CloudWatch dashboard: decisions by outcome, time to restore, errors, dead letters and alarms."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
