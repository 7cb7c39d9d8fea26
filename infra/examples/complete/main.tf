# snapback in one account and region, every variable shown. Build the zips first:
#   make build ARCH=arm64   (or ARCH=x86_64, then set architecture below to match)
# then: terraform init && terraform apply

provider "aws" {
  region = var.region
}

module "snapback" {
  source = "../../modules/snapback"

  name_prefix   = "snapback-"
  architecture  = var.architecture
  artifacts_dir = "${path.root}/../../../target/lambda"

  # Initial modes; later, flip them with `snapback config set-mode RULE MODE` (no redeploy).
  rule_modes = {
    "sg-open-k8s-api"                = "notify"
    "eks-cluster-admin-access-entry" = "notify"
  }
  config_overrides = {
    scope              = "eks"
    trusted_principals = []
    rules = {
      "eks-public-endpoint" = { public_access_cidrs = [] }
    }
  }
  config_managed_by_terraform = false

  alert_emails             = var.alert_emails
  slack_webhook_secret_arn = var.slack_webhook_secret_arn
  docs_url                 = "https://github.com/your-org/snapback/blob/main/RULES.md"

  kms_key_arn          = null
  log_retention_days   = 365
  reserved_concurrency = 10
  create_trail         = var.create_trail

  tags = { team = "platform" }
}
