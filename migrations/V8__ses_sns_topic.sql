-- SES events arrive through Amazon SNS. A signed SNS message proves it came through SNS, not whose
-- topic it came from, so each store names the topic its SES events are published to.
ALTER TABLE store_email_settings ADD COLUMN ses_sns_topic_arn TEXT;
