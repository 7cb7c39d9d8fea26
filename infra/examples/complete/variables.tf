variable "region" {
  description = "Region to protect (deploy once per region)."
  type        = string
  default     = "eu-west-1"
}

variable "architecture" {
  description = "Must match `make build ARCH=...`."
  type        = string
  default     = "arm64"
}

variable "alert_emails" {
  description = "Email subscribers of the alert topic."
  type        = list(string)
  default     = []
}

variable "slack_webhook_secret_arn" {
  description = "Secrets Manager secret with the Slack webhook URL, or null for no Slack relay."
  type        = string
  default     = null
}

variable "create_trail" {
  description = "Create a multi-region trail (only for accounts without one)."
  type        = bool
  default     = false
}
