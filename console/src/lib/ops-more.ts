/** GraphQL documents of notifications, schedules, rules, webhooks and the profile. */
const NOTIFICATION = `id type title message read createdAt`;
export const NOTIFICATIONS = `query Notifications($first: Int) { notifications(first: $first) { unreadCount edges { node { ${NOTIFICATION} } } } }`;
export const UNREAD = `query Unread { notifications(first: 1, unreadOnly: true) { unreadCount } }`;
export const NOTIFICATION_ADDED = `subscription NotificationAdded { notificationAdded { ${NOTIFICATION} } }`;
export const MARK_READ = `mutation MarkRead($id: ID!) { markNotificationRead(id: $id) { id read } }`;
export const MARK_ALL_READ = `mutation MarkAllRead { markAllNotificationsRead }`;
export const DELETE_NOTIFICATION = `mutation DeleteNotification($id: ID!) { deleteNotification(id: $id) }`;

const SCHEDULE = `id kind label state status executeAt executedAt result widgetId`;
export const SCHEDULES = `query Schedules($widgetId: ID!) { schedules(widgetId: $widgetId) { ${SCHEDULE} } }`;
export const CREATE_TIMER = `mutation Timer($widgetId: ID!, $durationSeconds: Int!, $state: JSON!) { createTimer(widgetId: $widgetId, durationSeconds: $durationSeconds, state: $state) { ${SCHEDULE} } }`;
export const CREATE_SCHEDULE = `mutation Schedule($widgetId: ID!, $executeAt: DateTime!, $state: JSON!) { createSchedule(widgetId: $widgetId, executeAt: $executeAt, state: $state) { ${SCHEDULE} } }`;
export const CANCEL_SCHEDULE = `mutation Cancel($id: ID!) { cancelSchedule(id: $id) { ${SCHEDULE} } }`;

const RULE = `id name enabled deviceId key op value forSeconds active lastFiredAt suspendedReason device { id name }
  action { type deviceId key value message webhookId }`;
export const RULES = `query Rules { rules { ${RULE} } devices { id name } webhooks { id url } }`;
export const CREATE_RULE = `mutation CreateRule($input: CreateRuleInput!) { createRule(input: $input) { ${RULE} } }`;
export const UPDATE_RULE = `mutation UpdateRule($id: ID!, $input: UpdateRuleInput!) { updateRule(id: $id, input: $input) { ${RULE} } }`;
export const DELETE_RULE = `mutation DeleteRule($id: ID!) { deleteRule(id: $id) }`;

const WEBHOOK = `id url active events deviceId secretPreview createdAt`;
export const WEBHOOKS = `query Webhooks { webhooks { ${WEBHOOK} } }`;
export const DELIVERIES = `query Deliveries($webhookId: ID!) { webhookDeliveries(webhookId: $webhookId, first: 20) {
  id event status attempts lastStatusCode lastError lastDurationMs createdAt finishedAt } }`;
export const CREATE_WEBHOOK = `mutation CreateWebhook($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { ${WEBHOOK} } } }`;
export const UPDATE_WEBHOOK = `mutation UpdateWebhook($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { ${WEBHOOK} } }`;
export const DELETE_WEBHOOK = `mutation DeleteWebhook($id: ID!) { deleteWebhook(id: $id) }`;

const ME = `id username email fullName phone bio timeZone notificationSettings { enabled email push }`;
export const ME_QUERY = `query Me { me { ${ME} } }`;
export const UPDATE_ME = `mutation UpdateMe($input: UpdateMeInput!) { updateMe(input: $input) { ${ME} } }`;
export const TIME_ZONE = `query MyTimeZone { me { id timeZone } }`;

const COUNTS = `targeted offered downloading updated failed rolledBack timedOut`;
const RELEASE = `id status rolloutPercent createdAt finishedAt firmware { id title version } counts { ${COUNTS} }`;
export const RELEASES = `query Releases { releases { ${RELEASE} } }`;
export const RELEASE_CHANGED = `subscription ReleaseChanged($releaseId: ID!) { firmwareUpdateChanged(releaseId: $releaseId) { releaseId releaseStatus at } }`;
