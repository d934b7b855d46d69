# Parley's pages in English: the reference catalogue. Every other language has exactly these
# messages (a test fails otherwise); messages starting `js-` go to the pages' scripts.

## Formats: the locale whose data writes dates and numbers, and the pattern of a full time.
locale = en_GB
format-datetime = %-d %b %Y, %H:%M UTC
language-name = English

## Layout
skip-to-content = Skip to content
area-admin = Admin
area-vendor = Store
area-shop = Shop
nav-user = Your account
nav-area = { $area } pages
nav-messages = Messages
nav-stores = Stores
nav-customers = Customers
nav-email-templates = Email templates
nav-email-settings = Email settings
nav-email-logs = Email logs
nav-notifications = Notifications
nav-team = Team
team-intro = Everyone who answers your store's messages. The platform team adds and disables members.
nav-settings = Settings
settings-intro = How the platform behaves for every store. Each change applies at once.
settings-default = Default: { $default }
setting-message_attachment_max_size_mb = Largest attachment, in megabytes (1 to 100)
setting-require_email_verification = Customers who register confirm their email address before they can sign in
setting-customers_may_start_conversations = Customers may start conversations with their store
setting-stores_may_contact_operator = Store staff may start conversations with the platform team
setting-admin_oversight = Admins may read every conversation between stores and customers (each read is recorded in the audit log)
setting-response_target_hours = Hours within which a store should answer a customer (1 to 720)
setting-late_reply_alert_percent = Alert the admins when a store answers more than this share of its customers late (1 to 100 %)
choice-yes = Yes
choice-no = No
nav-api-keys = API keys
nav-webhooks = Webhooks
webhooks-intro-admin = Your platform's endpoints get every event (a conversation started, a message sent or deleted, read, closed, reopened, someone joining), signed as the Standard Webhooks specification says, in order per conversation, retried until they answer 2xx.
webhooks-intro-vendor = Your systems' endpoints get your store's events (a conversation started, a message sent or deleted, read, closed, reopened, someone joining), signed as the Standard Webhooks specification says, in order per conversation, retried until they answer 2xx.
webhooks-empty = No endpoints yet.
webhooks-create = Add an endpoint
webhooks-create-button = Add the endpoint
webhooks-col-url = URL
webhooks-col-events = Events
webhooks-description = Description (optional)
webhooks-events-hint = None ticked: every event.
webhooks-all-events = Every event
webhooks-secret-once = The signing secret, shown this once. Keep it where your receiver checks signatures:
webhooks-off = Turned off
webhooks-failing = Failing
webhooks-failing-since = Every delivery has failed since
webhooks-turn-off = Turn off
webhooks-turn-on = Turn on again
webhooks-delete = Remove
webhooks-all = All endpoints
webhooks-deliveries = Latest deliveries
webhooks-no-deliveries = Nothing delivered yet.
webhooks-col-event = Event
webhooks-col-attempts = Attempts
webhooks-col-answer = Last answer
webhooks-state-pending = Waiting
webhooks-state-delivered = Delivered
webhooks-state-failed = Given up
webhooks-next = next try
keys-intro = Keys let your platform's backend provision stores, staff and customers, work conversations and read events. A key acts as the platform, never as a person; everything it does is recorded under its name.
keys-col-key = Key
keys-col-scopes = Scopes
keys-col-last-used = Last used
keys-col-action = Action
keys-col-target = On
keys-never-used = never
keys-revoked = revoked
keys-revoke = Revoke
keys-empty = No keys yet. Create one below for your platform's backend.
keys-create = Create a key
keys-create-button = Create key
keys-name-placeholder = e.g. Shop backend (production)
keys-shown-once = Copy this key now: it is shown only once, and Parley keeps only its hash.
keys-all = All keys
keys-actions = What this key did
keys-no-actions = Nothing yet.
scope-provision = create and update stores, staff and customers by your ids
scope-conversations = find or start conversations about orders and products
scope-events = read every event
scope-sso = sign people in from your platform
nav-account = Account
title-edit-template = Edit template
badge-label = { $count ->
    [0] Messages, none unread
   *[other] Messages, { $count } unread
}
sign-out = Sign out
sign-in = Sign in
yes = yes

## Home and sign-in
home-title = Welcome
home-where = Where do you want to sign in?
home-shop = The shop, as a customer
home-vendor = The store area, as store staff
home-admin = The admin area, as the platform team
login-title-admin = Sign in to the admin area
login-title-vendor = Sign in to the store area
login-title-shop = Sign in to the shop
login-wrong = The email or the password is wrong.
login-too-many = Too many attempts. Wait a few minutes, then try again.
login-forgot = Forgot your password?
login-unverified = Confirm your email address first: follow the link we sent you when you registered.
login-password-changed = Your password is changed. Sign in with the new one.
forgot-title = Forgot your password?
forgot-intro = Enter the email address of your account. If it has an account here, we send it a link to choose a new password.
forgot-send = Send the link
forgot-sent = If an account has this address, a link to choose a new password is on its way. It works for 60 minutes.
forgot-bad-email = Enter a valid email address.
forgot-again = Ask for a new link
reset-title = Choose a new password
reset-new-password = New password (at least 8 characters)
reset-save = Save the new password
reset-invalid = This link is invalid or has expired. Ask for a new one.
reset-too-short = The password must have at least 8 characters.
verify-title = Confirm your email address
verify-intro = Confirm that this is your address to open your account.
verify-confirm = Confirm and sign in
back-to-sign-in = Back to sign-in
field-store-code = Store code
field-email = Email
field-password = Password

## Errors as pages
error-unauthorized-title = Please sign in
error-unauthorized-message = This page needs you to be signed in.
error-forbidden-title = Not allowed
error-forbidden-message = Your account may not open this page.
error-not-found-title = Not found
error-not-found-message = This page does not exist, or it is not yours to see.
error-too-many-title = Too many requests
error-too-many-message = Wait a moment, then try again.
error-bad-request-title = That did not work
error-bad-request-message = The request could not be understood.
error-server-title = Something went wrong
error-server-message = Something went wrong on our side. Try again in a moment.
error-sign-in = Sign in
error-to-messages = Go to your messages

## The inbox
list-label = Conversations
compose-open = New conversation
search-placeholder = Search
search-label = Search conversations
filter-channel = Channel
filter-all-channels = All channels
filter-status = Status
filter-all = All
filter-open = Open
filter-closed = Closed
filter-apply = Filter
filter-any = any
channel-with-stores = With stores
channel-with-customers = With customers
channel-with-platform = With the platform
party-admin = Platform
party-store = Store
party-customer = Customer
list-closed = closed
unread-count = { $count } unread
list-empty-search = No conversations match “{ $search }”.
list-clear-search = Clear the search
list-empty-filters = No conversations match these filters.
list-show-all = Show all
list-empty-shop = No messages yet. When a store writes to you, the conversation shows here.
list-empty-staff = No conversations yet. Start one with “New conversation”.

## A thread
thread-label = Conversation
context-order = Order
context-product = Product
context-offer = Offer
context-return = Return
context-custom = Reference
context-label = About
context-all = All conversations about this
context-filtered = Conversations about { $type } { $id }
thread-back = All conversations
thread-choose = Choose a conversation.
thread-closed = This conversation is closed.
thread-closed-staff = This conversation is closed; reopen it to write again.
thread-messages = Messages
action-close = Close
action-reopen = Reopen
action-mute = Mute
action-email-off = No emails
action-delete = Delete
message-deleted = Message deleted
composer-label = Message
composer-placeholder = Write a message
composer-hint = Enter sends, Shift+Enter starts a new line
composer-attach = Attach files
composer-send = Send
composer-progress = Upload progress

system-closed = Conversation closed by { $name }
system-reopened = Conversation reopened by { $name }
system-preview-closed = Conversation closed
system-preview-reopened = Conversation reopened
system-escalated = { $name } asked the platform to step in
system-resolved = Escalation resolved by { $name }
system-assigned = { $name } assigned the conversation
system-unassigned = { $name } unassigned the conversation
system-preview-escalated = The platform was asked to step in
system-preview-resolved = Escalation resolved
system-preview-assigned = Conversation assigned
system-preview-unassigned = Conversation unassigned
list-escalated = Platform involved
escalated-banner-admin = A party asked the platform to step in. Resolve it once it is settled.
escalated-banner-vendor = The platform team has stepped in. Internal notes reach the platform team only.
escalated-banner-shop = The platform team has stepped in and reads along.
escalated-reason = Reason: “{ $reason }”
oversight-banner = You are reading this conversation as the platform (oversight). Nobody sees that you read it, but the read is recorded in the audit log; you cannot write here unless a party asks the platform to step in.
action-no-reply-needed = No reply needed
action-no-reply-needed-hint = The customer's last message needs no answer: stop the response clock
action-resolve = Resolve escalation
action-escalate = Ask the platform
escalate-reason = What should the platform help with?
escalate-hint = Everyone in this conversation reads your reason.
escalate-send = Ask the platform to step in
internal-note = Internal note
composer-internal = Internal note (the customer does not see it)
channel-stores-customers = Stores with customers
nav-response-times = Response times
nav-audit-log = Audit log
response-intro = How fast customers get an answer. The platform's target is { $hours } h; “no reply needed” counts as neither answered nor late.
response-window = Window
response-days = Last { $days } days
response-col-store = Store
response-col-first_response = First answer (median)
response-col-response = Any answer (median)
response-col-within_target = Within the target
response-col-overdue = Overdue now
response-col-waiting = Waiting now
response-percent = { $percent } %
response-late-of = ({ $late } late, { $answered } answered)
response-empty = No stores yet.
response-open-waiting = Conversations waiting for us
response-open-overdue = Overdue conversations
duration-under-minute = under a minute
duration-minutes = { $m } min
duration-hours = { $h } h { $m } min
duration-days = { $d } d { $h } h
audit-intro = Every conversation an admin read without taking part (oversight), and what integration keys did.
count-audit = { $count ->
    [one] 1 entry
   *[other] { $count } entries
}
audit-col-who = Who
audit-col-action = Action
audit-col-what = What
audit-empty = Nothing recorded yet.
filter-waiting = Waiting for us
filter-overdue = Overdue
list-waiting = Waiting for you
filter-topic = Topic
filter-all-topics = All topics
filter-assignee = Assigned to
filter-anyone = Anyone
filter-mine = Mine
filter-unassigned = Unassigned
thread-topic = Topic
thread-no-topic = No topic
thread-assignee = Assigned to
thread-nobody = Nobody
composer-saved-reply = Saved reply
composer-saved-choose = Insert…
compose-topic = Topic
nav-topics = Topics
nav-saved-replies = Saved replies
nav-announcements = Announcements
topics-intro = What conversations are about. Each role sees and chooses the topics open to it; retired topics stay on their conversations.
topics-col-en = Name (English)
topics-col-de = Name (German)
topics-col-roles = Who may choose it
topics-col-count = Conversations
topics-role-customer = Customers
topics-role-store = Stores
topics-role-admin = Platform
topics-retire = Retire
topics-empty = No topics yet.
topics-create = Add a topic
topics-create-button = Add topic
replies-intro = Text to insert from the composer. It may use these variables, filled in from the conversation:
replies-col-title = Title
replies-col-body = Text
replies-col-from = From
replies-from-store = The store
replies-from-platform = The platform
replies-from-platform-shared = The platform, offered to stores
replies-empty = No saved replies yet.
replies-create = Save a reply
replies-create-button = Save reply
replies-share = Offer it to every store
announce-intro = Write once to many stores. Each store gets it as its own conversation with the platform team, so its replies stay private.
announce-create = New announcement
announce-to = To
announce-all = Every store
announce-tier = Every { $tier } store
announce-store = Only { $store }
announce-send = Send announcement
announce-col-delivered = Stores reached
announce-col-read = Read by
announce-empty = No announcements yet.

## Starting a conversation
compose-channel = Channel
compose-with-store = With a store
compose-with-customer = With a customer
compose-with-platform = With the platform team
compose-with-your-store = With the store
compose-team-admin = Everyone on the team sees it.
compose-team-vendor = Everyone on the platform team sees it.
compose-team-shop = Everyone at the store sees it and can answer.
channel-with-store = With the store
compose-recipient = Recipient
compose-recipient-placeholder = Search by name or email
compose-about = What is it about? (optional)
compose-about-type = Kind
compose-about-nothing = Nothing in particular
compose-about-id = Number or id
compose-about-label = Label (optional)
js-about-needs-id = Give the number or id of what it is about.
compose-subject = Subject
compose-message = Message
compose-start = Start
action-cancel = Cancel

## Tables and forms
pager-label = Pages
pager-range = { $from }–{ $to } of { $counted }
pager-prev = Previous
pager-next = Next
count-stores = { $count ->
    [0] No stores
    [one] 1 store
   *[other] { $count } stores
}
count-staff = { $count ->
    [0] No staff members
    [one] 1 staff member
   *[other] { $count } staff members
}
count-customers = { $count ->
    [0] No customers
    [one] 1 customer
   *[other] { $count } customers
}
count-emails = { $count ->
    [0] No emails
    [one] 1 email
   *[other] { $count } emails
}
count-notifications = { $count ->
    [0] No notifications
    [one] 1 notification
   *[other] { $count } notifications
}
col-id = Id
col-code = Code
col-name = Name
col-tier = Tier
col-state = State
col-language = Language
col-signs-in = Signs in
col-actions = Actions
col-created = Created
col-recipient = Recipient
col-template = Template
col-subject = Subject
col-status = Status
col-attempts = Attempts
col-problem = Problem
col-category = Category
col-stores = Stores
col-in-use = In use
col-when = When
col-priority = Priority
col-type = Type
col-title = Title
col-message = Message
state-active = active
state-inactive = inactive
state-disabled = disabled
state-read = read
state-new = new
action-disable = Disable
action-enable = Enable
action-save = Save
action-create = Create
action-preview = Preview
action-retry = Retry
action-mark-read = Mark read
form-saved = Saved.
secret-set = set — leave empty to keep
secret-not-set = not set
field-password-optional = Password (optional: without one they cannot sign in)
field-password-rule = Password (at least 10 characters)
field-store-code-rule = Code (a-z, 0-9, -)
tier-essential = Essential
tier-professional = Professional
tier-business = Business
tier-enterprise = Enterprise

## Stores, staff, customers
stores-all = All stores
stores-empty = No stores yet. Add the first one below.
stores-add = Add a store
stores-add-button = Add store
staff-title = Staff
staff-empty = No staff yet. Add the first member below: they sign in at /vendor/login.
staff-add = Add a staff member
staff-add-button = Add staff member
customers-add = Add a customer
customers-add-button = Add customer
customers-no-password = no password
customers-empty-admin = No customers yet. They register in the shop, or you add them below.
customers-empty-store = No customers yet. They register in your shop, or you add them below and write to them.

## Your account
account-hello = Hello { $name }
account-unread = { $count ->
    [0] No unread messages
    [one] unread message
   *[other] unread messages
}
account-settings = Your details
account-signed-in-as = Signed in as { $email }
account-language = Language of the pages

## Email templates
templates-admin-intro = Each template exists per language; a language without its own falls back to English.
templates-store-intro = Your customers get the platform's emails unless you write your own version of one.
templates-empty = No templates. Create one below.
templates-store-empty = The platform offers no templates stores may change.
templates-all = All templates
templates-new = New template
templates-platform-only = platform only
templates-may-override = may override
templates-yours = your version
templates-platforms = platform version
templates-revert = Back to the platform version
templates-save-yours = Save your version
templates-variables = Variables you can use: { $variables }
field-body-html = HTML body
field-body-text = Text body
field-variables = Variables (separated by spaces)
field-required-variables = Required variables
field-active = Active
field-platform-only = Platform only (stores cannot override)
preview-title = Preview
preview-frame = Email preview

## Email settings and logs
settings-configured = Configured.
settings-not-configured = Not configured yet.
settings-verified = Verified.
settings-not-verified = Not verified.
settings-last-problem = Last problem: { $problem }
settings-heading = How your store's email leaves
settings-from-email = From address
settings-from-name = From name
settings-reply-to = Reply-to
settings-provider = Provider
settings-smtp-host = SMTP host
settings-smtp-port = SMTP port
settings-smtp-user = SMTP user
settings-smtp-password = SMTP password
settings-implicit-tls = Implicit TLS (port 465)
settings-track-opens = Track opens
settings-track-clicks = Track clicks
settings-api-key = { $provider } API key
settings-mailgun-domain = Mailgun domain
settings-mailgun-region = Mailgun region
settings-ses-key-id = SES access key id
settings-ses-secret = SES secret key
settings-ses-region = SES region
settings-send-test = Send a test email
provider-smtp = SMTP
provider-sendgrid = SendGrid
provider-mailgun = Mailgun
provider-ses = Amazon SES
region-us = United States
region-eu = European Union
email-logs-empty = No emails match.
email-status-pending = pending
email-status-sent = sent
email-status-failed = failed
email-status-bounced = bounced
email-status-delivered = delivered
email-status-opened = opened
email-status-clicked = clicked

## Notifications
notifications-empty = No notifications. Parley tells you here when emails fail or a store's sending breaks.
priority-low = low
priority-normal = normal
priority-high = high
priority-critical = critical
alert-system_alert = System
alert-store_issue = Store issue
alert-import_failure = Import failure
alert-escalation = Escalation
alert-late_replies = Late replies

## For the scripts
js-offline = Connection lost. Trying again in { $seconds } s; new messages show when it is back.
js-party-admin = Platform
js-party-store = Store
js-party-customer = Customer
js-system-closed = Conversation closed by { $name }
js-system-reopened = Conversation reopened by { $name }
js-system-preview-closed = Conversation closed
js-system-preview-reopened = Conversation reopened
js-system-escalated = { $name } asked the platform to step in
js-system-resolved = Escalation resolved by { $name }
js-system-assigned = { $name } assigned the conversation
js-system-unassigned = { $name } unassigned the conversation
js-system-preview-escalated = The platform was asked to step in
js-system-preview-resolved = Escalation resolved
js-system-preview-assigned = Conversation assigned
js-system-preview-unassigned = Conversation unassigned
js-escalated = Platform involved
js-waiting = Waiting for you
js-internal-note = Internal note
js-seen = Seen
js-closed = closed
js-unread = { $count } unread
js-badge-label = Messages, { $count } unread
js-message-deleted = Message deleted
js-not-sent = The connection failed; the message was not sent.
js-confirm-delete = Delete this message?
js-choose-recipient = Choose a recipient from the list.
js-not-verified = Not verified: { $problem }
js-preview-subject = Subject: { $subject } ({ $layer }, { $language })
js-layer-store = your version
js-layer-platform = platform version
js-error-status = The request failed ({ $status }). Try again.
js-error-rate_limited = Too many requests. Wait a moment, then try again.
js-error-conversation_closed = This conversation is closed.
js-error-payload_too_large = The file is too large.
js-error-unsupported_media_type = This type of file is not allowed.
js-error-csrf_failed = The page is out of date. Reload it and try again.
js-error-unauthorized = You are signed out. Sign in again.
js-error-forbidden = Your account may not do this.
js-error-not_found = This no longer exists.
js-error-internal_error = Something went wrong on our side. Try again in a moment.
