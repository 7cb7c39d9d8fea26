variable "central_region" {
  description = "Region of the central deployment (and of the member's first region)."
  type        = string
  default     = "eu-west-1"
}

variable "member_second_region" {
  description = "A second region the member account uses."
  type        = string
  default     = "us-east-1"
}

variable "organization_id" {
  description = "AWS Organizations id (o-...)."
  type        = string
}

variable "member_account_id" {
  description = "The member account this example deploys into."
  type        = string
}

variable "deployer_role_name" {
  description = "A role in the member account Terraform may assume to deploy (OrganizationAccountAccessRole in accounts made by Organizations)."
  type        = string
  default     = "OrganizationAccountAccessRole"
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
