output "central_event_bus_arn" {
  description = "The bus member accounts forward to."
  value       = module.snapback.central_event_bus_arn
}

output "member_role_arn" {
  description = "The role the central functions assume in the member account."
  value       = module.member.member_role_arn
}
