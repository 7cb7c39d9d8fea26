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
  # What the sweep schedule invokes: the sweeper, and the functions that sweep their own slices
  # (the watchdog), each with the input `{"snapback": "sweep"}`.
  scheduled = {
    for name, function in local.functions : name => function
    if function.trigger == "schedule" || (function.sweeps_itself && var.sweep_schedule != null)
  }

  # One EventBridge rule per (function, pattern).
  patterns = merge([
    for name, function in local.guards : {
      for index, pattern in function.event_patterns : "${name}-${index}" => { function = name, pattern = pattern }
    }
  ]...)

  # A central deployment (organization_id or member_account_ids set) also listens on its own
  # bus, where member accounts forward their events; the default bus keeps this account's.
  organization = var.organization_id != null || length(var.member_account_ids) > 0
  # ...whose sweeper fans out over the listed member accounts.
  fan_out = local.organization && (length(var.sweep_account_ids) > 0 || var.sweep_organization) && var.sweep_schedule != null
  routes = merge(
    { for key, route in local.patterns : key => merge(route, { bus = null }) },
    local.organization ? { for key, route in local.patterns : "central-${key}" => merge(route, { bus = "${var.name_prefix}central" }) } : {},
  )

  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition

  kms_key_arn    = var.kms_key_arn != null ? var.kms_key_arn : aws_kms_key.this[0].arn
  parameter_name = "/${trimsuffix(var.name_prefix, "-")}/config"
  parameter_arn  = "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter${local.parameter_name}"
  role_arns      = [for name in keys(local.functions) : "arn:${local.partition}:iam::${local.account}:role/${var.name_prefix}${name}"]

  config_document = jsonencode(merge(var.config_overrides, var.member_role_name != "snapback-member" ? { member_role = var.member_role_name } : {}, {
    rules = merge(
      try(var.config_overrides.rules, {}),
      { for rule, mode in var.rule_modes : rule => merge(try(var.config_overrides.rules[rule], {}), { mode = mode }) },
    )
  }))

  # Where each action may act: the rules' and sweeps' actions on this account and region, from
  # the manifest's ARN templates; then the deployment's own resources.
  action_resources = merge(
    {
      for action, templates in local.manifest.action_resources : action => [
        for template in templates : replace(replace(replace(template, "{partition}", local.partition), "{region}", local.region), "{account}", local.account)
      ]
    },
    {
      "sns:Publish"                   = [aws_sns_topic.alerts.arn]
      "ssm:GetParameter"              = [local.parameter_arn]
      "kms:Decrypt"                   = [local.kms_key_arn]
      "kms:GenerateDataKey"           = [local.kms_key_arn]
      "secretsmanager:GetSecretValue" = var.slack_webhook_secret_arn != null ? [var.slack_webhook_secret_arn] : []
      "dynamodb:GetItem"              = [aws_dynamodb_table.ledger.arn]
      "dynamodb:PutItem"              = [aws_dynamodb_table.ledger.arn]
      "dynamodb:UpdateItem"           = [aws_dynamodb_table.ledger.arn]
      "dynamodb:DeleteItem"           = [aws_dynamodb_table.ledger.arn]
      "dynamodb:Query"                = [aws_dynamodb_table.ledger.arn]
      # The Slack relay, invoked directly when the alert topic refuses an alert for good.
      "lambda:InvokeFunction" = [for name in keys(local.relays) : "arn:${local.partition}:lambda:${local.region}:${local.account}:function:${var.name_prefix}${name}"]
      # The heartbeats, on the buses snapback's rules listen on.
      "events:PutEvents" = concat(
        ["arn:${local.partition}:events:${local.region}:${local.account}:event-bus/default"],
        local.organization ? [aws_cloudwatch_event_bus.central[0].arn] : [],
      )
      "sqs:SendMessage"        = local.fan_out ? [aws_sqs_queue.sweeps[0].arn] : []
      "sqs:ReceiveMessage"     = local.fan_out ? [aws_sqs_queue.sweeps[0].arn] : []
      "sqs:DeleteMessage"      = local.fan_out ? [aws_sqs_queue.sweeps[0].arn] : []
      "sqs:GetQueueAttributes" = local.fan_out ? [aws_sqs_queue.sweeps[0].arn] : []
      # The organization's structure: which units an account is in, which accounts are active.
      "organizations:ListParents"  = local.organization ? ["*"] : []
      "organizations:ListAccounts" = local.fan_out && var.sweep_organization ? ["*"] : []
      # Only an organization deployment assumes roles: the member role, in any account.
      "sts:AssumeRole" = local.organization ? ["arn:${local.partition}:iam::*:role/${var.member_role_name}"] : []
    },
  )

  tags = merge({ "managed-by" = "snapback" }, var.tags)
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}
