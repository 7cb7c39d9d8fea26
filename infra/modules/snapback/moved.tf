# Upgrade paths: resources that changed address keep their state instead of being recreated.
# (The only place the HCL names a function: old addresses are fixed by nature.)

moved {
  from = aws_sns_topic_subscription.slack[0]
  to   = aws_sns_topic_subscription.relay["slack-notifier"]
}

moved {
  from = aws_lambda_permission.slack_from_sns[0]
  to   = aws_lambda_permission.relay_from_sns["slack-notifier"]
}
