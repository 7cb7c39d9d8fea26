variable "name_prefix" {
  description = "Prefix of every resource name. Roles are named <prefix><function>; the EventBridge patterns leave out calls by roles whose name starts with \"snapback-\", so the prefix must start with it."
  type        = string
  default     = "snapback-"

  validation {
    condition     = startswith(var.name_prefix, "snapback-") && can(regex("^[a-zA-Z0-9-]+$", var.name_prefix))
    error_message = "name_prefix must start with \"snapback-\" and hold only letters, digits and hyphens."
  }
}

variable "architecture" {
  description = "Lambda architecture; must match the zips `make build ARCH=...` produced."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be \"arm64\" or \"x86_64\"."
  }
}

variable "artifacts_dir" {
  description = "Directory holding <function>/bootstrap.zip as `make build` writes them (target/lambda)."
  type        = string
}

variable "rule_modes" {
  description = "Mode per rule id (off, notify, remediate) for the configuration document; rules not listed keep their default."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for mode in values(var.rule_modes) : contains(["off", "notify", "remediate"], mode)])
    error_message = "Every rule mode must be one of off, notify, remediate."
  }
}

variable "config_overrides" {
  description = "More of the configuration document (scope, trusted_principals, rule options) as an object; merged under rule_modes."
  type        = any
  default     = {}
}

variable "config_managed_by_terraform" {
  description = "When false (the default), Terraform writes the configuration parameter once and then leaves its value to `snapback config set-mode`; when true, every apply resets it to rule_modes and config_overrides."
  type        = bool
  default     = false
}

variable "alert_emails" {
  description = "Email addresses subscribed to the alert topic (each must confirm)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for email in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+$", email))])
    error_message = "alert_emails must hold email addresses."
  }
}

variable "slack_webhook_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the Slack incoming-webhook URL; when set, the slack-notifier relay is deployed and subscribed."
  type        = string
  default     = null

  validation {
    condition     = var.slack_webhook_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:", var.slack_webhook_secret_arn))
    error_message = "slack_webhook_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "docs_url" {
  description = "URL of RULES.md, linked from Slack messages."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "KMS key for the topic, queue, logs, parameter and function environments; when null, one is created."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_level" {
  description = "Application log level of the functions (Lambda's logging_config; decisions are logged at INFO)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of each function: a storm of events cannot starve the account."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be at least 1."
  }
}

variable "create_trail" {
  description = "Create a multi-region CloudTrail trail (management write events) for accounts without one; EventBridge only sees API calls in regions a trail logs."
  type        = bool
  default     = false
}

variable "sweep_schedule" {
  description = "When the sweeper judges everything as it is: an EventBridge Scheduler expression (rate(...) or cron(...)), or null for no sweeps."
  type        = string
  default     = "rate(1 hour)"
  nullable    = true

  validation {
    condition     = var.sweep_schedule == null || can(regex("^(rate|cron)\\(.+\\)$", var.sweep_schedule))
    error_message = "sweep_schedule must be a rate(...) or cron(...) expression, such as \"rate(1 hour)\", or null."
  }
}

variable "heartbeat_interval_seconds" {
  description = "How often a cron(...) sweep_schedule runs, in seconds: the heartbeat alarms fire after two such intervals without a heartbeat (a rate(...) schedule says it itself; default a day). CloudWatch evaluates at most seven days, so schedules longer than 3.5 days get late alarms."
  type        = number
  default     = null
  nullable    = true

  validation {
    condition     = var.heartbeat_interval_seconds == null || try(var.heartbeat_interval_seconds >= 60, false)
    error_message = "heartbeat_interval_seconds must be at least 60."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "organization_id" {
  description = "AWS Organizations id (o-...). Set it to guard the organization from this (central) account: its accounts may forward CloudTrail events to snapback's bus (see the snapback-member module), and the functions act in them through the member role."
  type        = string
  default     = null
  nullable    = true

  validation {
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must look like o-abc1234567 (aws organizations describe-organization), or be null."
  }
}

variable "member_account_ids" {
  description = "Accounts allowed to forward events to snapback's bus besides (or instead of) the organization's; setting any makes this a central deployment."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for account in var.member_account_ids : can(regex("^[0-9]{12}$", account))])
    error_message = "member_account_ids must be 12-digit account ids."
  }
}

variable "member_role_name" {
  description = "The role a central deployment assumes in each member account (the snapback-member module's member_role_name)."
  type        = string
  default     = "snapback-member"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.member_role_name))
    error_message = "member_role_name must be an IAM role name (1-64 of letters, digits and +=,.@_-), not an ARN."
  }
}

variable "sweep_account_ids" {
  description = "A central deployment's sweeper sweeps these accounts (through the member role) in sweep_regions, one queue message per account and region; empty: it sweeps only its own account."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for account in var.sweep_account_ids : can(regex("^[0-9]{12}$", account))])
    error_message = "sweep_account_ids must be 12-digit account ids."
  }
}

variable "sweep_organization" {
  description = "A central deployment's sweeper sweeps every active account of the organization (organizations:ListAccounts at each run; the account must be the management account or a delegated administrator) instead of sweep_account_ids."
  type        = bool
  default     = false
}

variable "sweep_regions" {
  description = "The regions a central sweeper sweeps in each account; empty: the deployment's own region."
  type        = list(string)
  default     = []
}

variable "sweep_concurrency" {
  description = "At most this many member sweeps at once (the sweep queue's event source mapping)."
  type        = number
  default     = 5

  validation {
    condition     = var.sweep_concurrency >= 2 && var.sweep_concurrency <= 1000
    error_message = "sweep_concurrency must be between 2 and 1000 (the event source mapping's limits)."
  }
}
