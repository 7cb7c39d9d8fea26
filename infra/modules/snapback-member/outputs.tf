output "member_role_arn" {
  description = "The role the central functions assume in this account."
  value       = "arn:${local.partition}:iam::${local.account}:role/${var.member_role_name}"
}

output "forwarding_rule_names" {
  description = "This region's EventBridge rules forwarding to the central bus."
  value       = [for rule in aws_cloudwatch_event_rule.forward : rule.name]
}
