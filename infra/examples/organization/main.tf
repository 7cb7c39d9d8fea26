# snapback for an organization: the functions, alerts, config and ledger in one central account;
# each member account forwards its events there and hosts the role the functions act through.
# This example wires the central account and one member (two regions) through provider aliases;
# roll the member module to every account with one module block per account and region (or a
# Terraform workspace / StackSet per account), create_roles = true in one region of each.
# Build the zips first (make build ARCH=arm64), deploy the central account, then the members.

provider "aws" {
  region = var.central_region
}

provider "aws" {
  alias  = "member"
  region = var.central_region
  assume_role {
    role_arn = "arn:aws:iam::${var.member_account_id}:role/${var.deployer_role_name}"
  }
}

provider "aws" {
  alias  = "member_second_region"
  region = var.member_second_region
  assume_role {
    role_arn = "arn:aws:iam::${var.member_account_id}:role/${var.deployer_role_name}"
  }
}

module "snapback" {
  source = "../../modules/snapback"

  architecture  = var.architecture
  artifacts_dir = "${path.root}/../../../target/lambda"

  # A central deployment: the organization's accounts may forward events; the functions act in
  # them through the member role.
  organization_id  = var.organization_id
  member_role_name = "snapback-member"

  # The sweeper puts one message per account and region on a queue; workers sweep each through
  # the member role, at most sweep_concurrency at once.
  sweep_account_ids = [var.member_account_id] # or sweep_organization = true for every account
  sweep_regions     = [var.central_region, var.member_second_region]
  sweep_concurrency = 5

  alert_emails = var.alert_emails
  tags         = { team = "platform" }
}

module "member" {
  source    = "../../modules/snapback-member"
  providers = { aws = aws.member }

  central_account_id    = module.snapback.account_id
  central_event_bus_arn = module.snapback.central_event_bus_arn
  member_role_name      = "snapback-member"
  create_roles          = true
}

# The same member in a second region: forwarding rules only (IAM roles are global).
module "member_second_region" {
  source    = "../../modules/snapback-member"
  providers = { aws = aws.member_second_region }

  central_account_id    = module.snapback.account_id
  central_event_bus_arn = module.snapback.central_event_bus_arn
  create_roles          = false
}
