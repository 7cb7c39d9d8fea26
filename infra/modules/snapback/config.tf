# --- Configuration ---------------------------------------------------------------------------
# Terraform and `snapback config set-mode` share this parameter: by default Terraform writes it
# once and ignores later changes to its value; set config_managed_by_terraform to own it.

resource "aws_ssm_parameter" "config_managed" {
  count  = var.config_managed_by_terraform ? 1 : 0
  name   = local.parameter_name
  type   = "SecureString"
  key_id = local.kms_key_arn
  value  = local.config_document
  tags   = local.tags
}

resource "aws_ssm_parameter" "config" {
  count  = var.config_managed_by_terraform ? 0 : 1
  name   = local.parameter_name
  type   = "SecureString"
  key_id = local.kms_key_arn
  value  = local.config_document
  tags   = local.tags

  lifecycle {
    ignore_changes = [value]
  }
}
