locals {
  # Generated from the rule registry by `snapback manifest`; a test keeps it current.
  manifest = jsondecode(file("${path.module}/manifest.json"))

  # Every function of the registry's function table; the alert relays only with a webhook, the
  # sweeper only with a schedule.
  functions = {
    for name, function in local.manifest.functions : name => function
    if(function.trigger != "alert-topic" || var.slack_webhook_secret_arn != null) && (function.trigger != "schedule" || var.sweep_schedule != null)
  }
  guards   = { for name, function in local.functions : name => function if function.trigger == "cloudtrail" }
  relays   = { for name, function in local.functions : name => function if function.trigger == "alert-topic" }
  sweepers = { for name, function in local.functions : name => function if function.trigger == "schedule" }

  # One EventBridge rule per (function, pattern).
  patterns = merge([
    for name, function in local.guards : {
      for index, pattern in function.event_patterns : "${name}-${index}" => { function = name, pattern = pattern }
    }
  ]...)

  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition

  kms_key_arn    = var.kms_key_arn != null ? var.kms_key_arn : aws_kms_key.this[0].arn
  parameter_name = "/${trimsuffix(var.name_prefix, "-")}/config"
  parameter_arn  = "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${local.parameter_name}"
  role_arns      = [for name in keys(local.functions) : "arn:${local.partition}:iam::${local.account}:role/${var.name_prefix}${name}"]

  config_document = jsonencode(merge(var.config_overrides, {
    rules = merge(
      try(var.config_overrides.rules, {}),
      { for rule, mode in var.rule_modes : rule => merge(try(var.config_overrides.rules[rule], {}), { mode = mode }) },
    )
  }))

  # Where each action may act; Describe/List calls only exist unscoped.
  action_resources = {
    "sns:Publish"                       = [aws_sns_topic.alerts.arn]
    "ssm:GetParameter"                  = [local.parameter_arn]
    "kms:Decrypt"                       = [local.kms_key_arn]
    "kms:GenerateDataKey"               = [local.kms_key_arn]
    "kms:DescribeKey"                   = ["arn:${local.partition}:kms:${local.region}:${local.account}:key/*"]
    "kms:CreateGrant"                   = ["arn:${local.partition}:kms:${local.region}:${local.account}:key/*"]
    "secretsmanager:GetSecretValue"     = var.slack_webhook_secret_arn != null ? [var.slack_webhook_secret_arn] : []
    "ec2:RevokeSecurityGroupIngress"    = ["arn:${local.partition}:ec2:${local.region}:${local.account}:security-group/*"]
    "eks:DescribeCluster"               = ["arn:${local.partition}:eks:${local.region}:${local.account}:cluster/*"]
    "eks:UpdateClusterConfig"           = ["arn:${local.partition}:eks:${local.region}:${local.account}:cluster/*"]
    "eks:AssociateEncryptionConfig"     = ["arn:${local.partition}:eks:${local.region}:${local.account}:cluster/*"]
    "eks:ListAccessEntries"             = ["arn:${local.partition}:eks:${local.region}:${local.account}:cluster/*"]
    "eks:ListAssociatedAccessPolicies"  = ["arn:${local.partition}:eks:${local.region}:${local.account}:access-entry/*"]
    "eks:DisassociateAccessPolicy"      = ["arn:${local.partition}:eks:${local.region}:${local.account}:access-entry/*"]
    "eks:ListNodegroups"                = ["arn:${local.partition}:eks:${local.region}:${local.account}:cluster/*"]
    "eks:DescribeNodegroup"             = ["arn:${local.partition}:eks:${local.region}:${local.account}:nodegroup/*"]
    "ecr:DescribeRepositories"          = ["arn:${local.partition}:ecr:${local.region}:${local.account}:repository/*"]
    "ecr:ListTagsForResource"           = ["arn:${local.partition}:ecr:${local.region}:${local.account}:repository/*"]
    "ecr:GetRepositoryPolicy"           = ["arn:${local.partition}:ecr:${local.region}:${local.account}:repository/*"]
    "ecr:PutImageScanningConfiguration" = ["arn:${local.partition}:ecr:${local.region}:${local.account}:repository/*"]
    "ecr:PutImageTagMutability"         = ["arn:${local.partition}:ecr:${local.region}:${local.account}:repository/*"]
    "ecr:SetRepositoryPolicy"           = ["arn:${local.partition}:ecr:${local.region}:${local.account}:repository/*"]
    "ecr:DeleteRepositoryPolicy"        = ["arn:${local.partition}:ecr:${local.region}:${local.account}:repository/*"]
    "dynamodb:GetItem"                  = [aws_dynamodb_table.ledger.arn]
    "dynamodb:PutItem"                  = [aws_dynamodb_table.ledger.arn]
    "dynamodb:UpdateItem"               = [aws_dynamodb_table.ledger.arn]
    "dynamodb:DeleteItem"               = [aws_dynamodb_table.ledger.arn]
    "dynamodb:Query"                    = [aws_dynamodb_table.ledger.arn]
    "ec2:ModifySubnetAttribute"         = ["arn:${local.partition}:ec2:${local.region}:${local.account}:subnet/*"]
    "ec2:ModifyInstanceMetadataOptions" = ["arn:${local.partition}:ec2:${local.region}:${local.account}:instance/*"]
    "ec2:CreateLaunchTemplateVersion"   = ["arn:${local.partition}:ec2:${local.region}:${local.account}:launch-template/*"]
    "ec2:ModifyLaunchTemplate"          = ["arn:${local.partition}:ec2:${local.region}:${local.account}:launch-template/*"]
    # Snapshot and image ARNs name no account.
    "ec2:ModifySnapshotAttribute" = ["arn:${local.partition}:ec2:${local.region}::snapshot/*"]
    "ec2:ModifyImageAttribute"    = ["arn:${local.partition}:ec2:${local.region}::image/*"]
    # Settings of the account in the region: these actions support no resource type.
    "ec2:ModifyInstanceMetadataDefaults" = ["*"]
    "ec2:EnableEbsEncryptionByDefault"   = ["*"]
    "ec2:GetInstanceMetadataDefaults"    = ["*"]
    "ec2:GetEbsEncryptionByDefault"      = ["*"]
    # EC2 describe calls support no resource-level permissions.
    "ec2:DescribeSubnets"                = ["*"]
    "ec2:DescribeInstances"              = ["*"]
    "ec2:DescribeLaunchTemplates"        = ["*"]
    "ec2:DescribeLaunchTemplateVersions" = ["*"]
    "ec2:DescribeSnapshots"              = ["*"]
    "ec2:DescribeSnapshotAttribute"      = ["*"]
    "ec2:DescribeImages"                 = ["*"]
    "ec2:DescribeImageAttribute"         = ["*"]
    "ec2:DescribeSecurityGroups"         = ["*"]
    "ec2:DescribeTags"                   = ["*"]
    "ec2:DescribeSecurityGroupRules"     = ["*"]
    "eks:ListClusters"                   = ["*"]
    # A registry-level setting: the action has no resource type.
    "ecr:GetRegistryScanningConfiguration" = ["*"]
  }

  tags = merge({ "managed-by" = "snapback" }, var.tags)
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}
