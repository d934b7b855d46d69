-- Whether an email is sent at most once (notifications) or at least once (account emails) decides
-- what the delivery step does after a crash, so it is a column of its own instead of a flag in
-- extra_data. Existing rows keep what their flag said.
ALTER TABLE email_logs ADD COLUMN at_most_once INTEGER NOT NULL DEFAULT 0 CHECK (at_most_once IN (0, 1));
UPDATE email_logs SET at_most_once = 1
 WHERE json_valid(extra_data) AND json_extract(extra_data, '$.at_most_once') = 1;
UPDATE email_logs SET extra_data = json_remove(extra_data, '$.at_most_once')
 WHERE json_valid(extra_data) AND json_type(extra_data, '$.at_most_once') IS NOT NULL;
