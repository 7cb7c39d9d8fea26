output "alert_topic_arn" {
  description = "Subscribe Amazon Q Developer in chat applications, email or queues here."
  value       = module.snapback.alert_topic_arn
}

output "config_parameter_name" {
  description = "Pass to `snapback config ... --parameter`."
  value       = module.snapback.config_parameter_name
}

output "dead_letter_queue_url" {
  description = "What snapback could not handle."
  value       = module.snapback.dead_letter_queue_url
}
