/** GraphQL documents of the devices and dashboards screens; fragments keep each shape in one place. */
const DEVICE = `id name type location status lastSeenAt createdAt firmwareVersion connection { connected since transport }
  state { deviceId reported desired merged reportedAt version }`;
export const WIDGET = `id dashboardId type label deviceId key virtualPin value pending order width height config`;

export const AUTH_FIELDS = `accessToken refreshToken user { id username email }`;
export const LOGIN = `mutation Login($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`;
export const REGISTER = `mutation Register($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`;
export const LOGOUT = `mutation Logout { logout { message } }`;
export const REQUEST_RESET = `mutation RequestReset($email: String!) { requestPasswordReset(email: $email) }`;
export const RESET = `mutation Reset($token: String!, $newPassword: String!) { resetPassword(token: $token, newPassword: $newPassword) }`;

export const DEVICES = `query Devices { devices { ${DEVICE} } }`;
export const DEVICE_ONE = `query Device($id: ID!) { device(id: $id) { ${DEVICE} } }`;
export const CREATE_DEVICE = `mutation CreateDevice($input: CreateDeviceInput!) { createDevice(input: $input) { token device { ${DEVICE} } } }`;
export const UPDATE_DEVICE = `mutation UpdateDevice($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { id name type location } }`;
export const ROTATE_TOKEN = `mutation Rotate($id: ID!) { rotateDeviceToken(id: $id) { token device { id } } }`;
export const DELETE_DEVICE = `mutation DeleteDevice($id: ID!) { deleteDevice(id: $id) }`;
export const SET_DEVICE_STATE = `mutation SetState($deviceId: ID!, $desired: JSONObject!) { setDeviceState(deviceId: $deviceId, desired: $desired) { deviceId reported desired merged reportedAt version } }`;
export const HISTORY = `query History($deviceId: ID!, $key: String!, $from: DateTime, $to: DateTime, $bucket: String, $aggregate: Aggregate, $first: Int, $timeZone: String) {
  telemetryHistory(deviceId: $deviceId, key: $key, from: $from, to: $to, bucket: $bucket, aggregate: $aggregate, first: $first, timeZone: $timeZone) {
    ts value min max avg count } }`;
export const TELEMETRY_KEYS = `query TelemetryKeys($deviceId: ID!) { telemetryKeys(deviceId: $deviceId) { key value ts count } }`;

export const STATUS_CHANGED = `subscription Status($deviceId: ID) { deviceStatusChanged(deviceId: $deviceId) { deviceId status timestamp } }`;
export const TELEMETRY_UPDATED = `subscription Telemetry($deviceId: ID) { telemetryUpdated(deviceId: $deviceId) { deviceId data timestamp } }`;
export const STATE_CHANGED = `subscription State($deviceId: ID) { deviceStateChanged(deviceId: $deviceId) { deviceId reported desired merged reportedAt version } }`;

export const DASHBOARDS = `query Dashboards { dashboards { id name description widgetCount updatedAt } }`;
export const DASHBOARD_ONE = `query Dashboard($id: ID!) { dashboard(id: $id) { id name description widgets { ${WIDGET} } }
  devices { id name status lastSeenAt connection { connected since transport } } }`;
export const CREATE_DASHBOARD = `mutation CreateDashboard($input: CreateDashboardInput!) { createDashboard(input: $input) { id name } }`;
export const UPDATE_DASHBOARD = `mutation UpdateDashboard($id: ID!, $input: UpdateDashboardInput!) { updateDashboard(id: $id, input: $input) { id name description } }`;
export const DELETE_DASHBOARD = `mutation DeleteDashboard($id: ID!) { deleteDashboard(id: $id) }`;
export const LAYOUT = `mutation Layout($id: ID!, $layout: [WidgetLayoutInput!]!) { updateDashboardLayout(id: $id, layout: $layout) { id widgets { ${WIDGET} } } }`;
export const CREATE_WIDGET = `mutation CreateWidget($input: CreateWidgetInput!) { createWidget(input: $input) { ${WIDGET} } }`;
export const UPDATE_WIDGET = `mutation UpdateWidget($id: ID!, $input: UpdateWidgetInput!) { updateWidget(id: $id, input: $input) { ${WIDGET} } }`;
export const DELETE_WIDGET = `mutation DeleteWidget($id: ID!) { deleteWidget(id: $id) }`;
export const SET_WIDGET = `mutation SetWidget($id: ID!, $state: JSON!) { setWidgetState(id: $id, state: $state) { ${WIDGET} } }`;
export const WIDGET_UPDATED = `subscription WidgetUpdated($dashboardId: ID) { widgetUpdated(dashboardId: $dashboardId) { dashboardId deleted widget { ${WIDGET} } } }`;
