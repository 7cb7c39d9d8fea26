# snapback in a member account: forward the CloudTrail events the guards judge to the central
# deployment's bus (in each region where this module is applied), and the role the central
# functions act through. Everything comes from the central module's manifest, so a member never
# drifts from the functions it serves.

locals {
  manifest = jsondecode(file("${path.module}/../snapback/manifest.json"))

  # One forwarding rule per guard pattern (one per event source and function), far below
  # EventBridge's 300 rules per bus.
  patterns = merge([
    for name, function in local.manifest.functions : {
      for index, pattern in function.event_patterns : "${name}-${index}" => pattern
    } if function.trigger == "cloudtrail"
  ]...)

  # The central functions that act in accounts: the guards and the sweeper, not the alert relay.
  central_role_arns = [
    for name, function in local.manifest.functions : "arn:${local.partition}:iam::${var.central_account_id}:role/${var.name_prefix}${name}"
    if function.trigger != "alert-topic"
  ]

  # The member role acts in every region of this account.
  action_resources = {
    for action, templates in local.manifest.action_resources : action => [
      for template in templates : replace(replace(replace(template, "{partition}", local.partition), "{region}", "*"), "{account}", local.account)
    ]
  }

  forward_role_name = "${var.name_prefix}forward"
  forward_role_arn  = "arn:${local.partition}:iam::${local.account}:role/${local.forward_role_name}"

  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  tags      = merge({ "managed-by" = "snapback" }, var.tags)
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# --- Forwarding: this region's CloudTrail events to the central bus ------------------------------

resource "aws_cloudwatch_event_rule" "forward" {
  for_each      = local.patterns
  name          = "${var.name_prefix}forward-${each.key}"
  description   = "CloudTrail API calls snapback judges, forwarded to its central account"
  event_pattern = jsonencode(each.value)
  tags          = local.tags
}

resource "aws_cloudwatch_event_target" "forward" {
  for_each = local.patterns
  rule     = aws_cloudwatch_event_rule.forward[each.key].name
  arn      = var.central_event_bus_arn
  role_arn = local.forward_role_arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 185
  }
}

data "aws_iam_policy_document" "assume_events" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "forward" {
  count              = var.create_roles ? 1 : 0
  name               = local.forward_role_name
  assume_role_policy = data.aws_iam_policy_document.assume_events.json
  tags               = local.tags
}

data "aws_iam_policy_document" "forward" {
  statement {
    sid       = "PutOnTheCentralBus"
    actions   = ["events:PutEvents"]
    resources = [var.central_event_bus_arn]
  }
}

resource "aws_iam_role_policy" "forward" {
  count  = var.create_roles ? 1 : 0
  name   = local.forward_role_name
  role   = aws_iam_role.forward[0].id
  policy = data.aws_iam_policy_document.forward.json
}

# --- The member role: exactly what the rules and sweeps do, for the central functions only -------

# The central account, narrowed to its function roles by a condition: a trust policy naming the
# roles themselves would fail while one of them (the sweeper without a schedule) does not exist.
data "aws_iam_policy_document" "assume_member" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${var.central_account_id}:root"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:PrincipalArn"
      values   = local.central_role_arns
    }
  }
}

resource "aws_iam_role" "member" {
  count                = var.create_roles ? 1 : 0
  name                 = var.member_role_name
  description          = "snapback's central functions act in this account through this role."
  assume_role_policy   = data.aws_iam_policy_document.assume_member.json
  max_session_duration = 3600
  tags                 = local.tags
}

data "aws_iam_policy_document" "member" {
  dynamic "statement" {
    for_each = local.manifest.member_actions
    content {
      sid       = replace(title(replace(statement.value, "/[:]/", " ")), " ", "")
      actions   = [statement.value]
      resources = local.action_resources[statement.value]
    }
  }
}

resource "aws_iam_role_policy" "member" {
  count  = var.create_roles ? 1 : 0
  name   = var.member_role_name
  role   = aws_iam_role.member[0].id
  policy = data.aws_iam_policy_document.member.json
}
