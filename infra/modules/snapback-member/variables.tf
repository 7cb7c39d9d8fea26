variable "central_account_id" {
  description = "The account the snapback module runs in (its account_id output)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.central_account_id))
    error_message = "central_account_id must be a 12-digit account id."
  }
}

variable "central_event_bus_arn" {
  description = "The central deployment's bus (the snapback module's central_event_bus_arn output)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:events:[a-z0-9-]+:[0-9]{12}:event-bus/.+$", var.central_event_bus_arn))
    error_message = "central_event_bus_arn must be an EventBridge bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)."
  }
}

variable "name_prefix" {
  description = "The central deployment's name_prefix: its function roles are <name_prefix><function>."
  type        = string
  default     = "snapback-"
}

variable "member_role_name" {
  description = "The role the central functions assume here (the snapback module's member_role_name)."
  type        = string
  default     = "snapback-member"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.member_role_name))
    error_message = "member_role_name must be an IAM role name (1-64 of letters, digits and +=,.@_-), not an ARN."
  }
}

variable "create_roles" {
  description = "Create the account's IAM roles (the member role and the forwarding role). IAM is global: set true in one region of each account and false in the others."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
