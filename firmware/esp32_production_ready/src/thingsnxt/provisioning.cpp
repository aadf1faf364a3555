#include "provisioning.h"

#include "text.h"

namespace tnx {

static std::string validate(Credentials& c) {
  std::string error = checkDeviceId(c.deviceId);
  if (error.empty()) error = checkToken(c.token);
  if (error.empty()) error = normalizeApiUrl(c.apiUrl);
  return error;
}

ProvisionResult parseProvisionArgs(const std::vector<std::string>& args, const Credentials& current) {
  ProvisionResult r;
  if (args.size() < 3 || args.size() > 5) {
    r.error = "usage: provision <device_id> <token> <api_url> [wifi_ssid] [wifi_password]";
    return r;
  }
  r.credentials.deviceId = args[0];
  r.credentials.token = args[1];
  r.credentials.apiUrl = args[2];
  if (args.size() >= 4) {
    r.credentials.wifiSsid = args[3];
    r.credentials.wifiPassword = args.size() == 5 ? args[4] : "";
  } else {
    r.credentials.wifiSsid = current.wifiSsid;
    r.credentials.wifiPassword = current.wifiPassword;
  }
  r.credentials.transport = current.transport;  // chosen with `transport`, kept across tokens
  r.credentials.mqttUrl = current.mqttUrl;
  r.error = validate(r.credentials);
  r.ok = r.error.empty();
  return r;
}

void ProvisionWizard::start(const Credentials& current) {
  draft_ = current;
  step_ = Step::DeviceId;
}

std::string ProvisionWizard::prompt() const {
  switch (step_) {
    case Step::DeviceId: return "device id:";
    case Step::Token: return "device token:";
    case Step::ApiUrl: return "api url (e.g. http://192.168.1.103:8000):";
    case Step::WifiSsid:
      return draft_.wifiSsid.empty() ? "wifi ssid (empty: none):"
                                     : "wifi ssid (empty: keep '" + draft_.wifiSsid + "'):";
    case Step::WifiPassword: return "wifi password (empty: open network):";
    case Step::Idle: break;
  }
  return "";
}

std::string ProvisionWizard::feed(const std::string& answer) {
  // Id, token and URL never contain blanks, so stray ones are typing noise;
  // Wi-Fi names and passwords are taken exactly as typed.
  const std::string value = trim(answer);
  std::string error;
  switch (step_) {
    case Step::DeviceId:
      error = checkDeviceId(value);
      if (error.empty()) {
        draft_.deviceId = value;
        step_ = Step::Token;
      }
      break;
    case Step::Token:
      error = checkToken(value);
      if (error.empty()) {
        draft_.token = value;
        step_ = Step::ApiUrl;
      }
      break;
    case Step::ApiUrl: {
      std::string url = value;
      error = normalizeApiUrl(url);
      if (error.empty()) {
        draft_.apiUrl = url;
        step_ = Step::WifiSsid;
      }
      break;
    }
    case Step::WifiSsid:
      // An empty answer keeps the stored network, and its password with it.
      if (answer.empty()) {
        step_ = Step::Idle;
      } else {
        draft_.wifiSsid = answer;
        step_ = Step::WifiPassword;
      }
      break;
    case Step::WifiPassword:
      draft_.wifiPassword = answer;
      step_ = Step::Idle;
      break;
    case Step::Idle: break;
  }
  return error;
}

}  // namespace tnx
