// Device: over-the-air updates. An offer arrives under the state key `ota` (poll, report
// answer, MQTT state message) or from GET /firmware/update (at boot and every few hours). The
// image is fetched in Range requests of otaChunkBytes, each written to the other flash slot and
// hashed as it comes, so a cut resumes from the last byte written and the image is never held
// whole. After every step the device reports fw_state and goes on only once that report went
// through: DOWNLOADING, then the bytes, SHA-256 and size checked (DOWNLOADED), the slot marked
// to boot on trial (UPDATING), reboot. The new image confirms itself once it has reached the
// server; one that cannot, rolls back after otaConfirmTimeoutMs.
#include "device.h"

namespace tnx {

static bool reached(uint32_t now, uint32_t deadline) { return static_cast<int32_t>(now - deadline) >= 0; }

// What a failure is remembered by, so the offer still standing in the state is not retried.
static std::string offerId(const OtaOffer& offer) { return offer.release.empty() ? offer.sha256 : offer.release; }

void Device::otaBoot() {
  if (ports_.update == nullptr) return;
  const std::string running = ports_.update->runningVersion();
  otaReport("fw_version", running);
  // The attempt is kept while the new image is on trial: if it rolls back, the old image learns it here.
  std::string attempt;
  const bool trial = ports_.update->pendingVerify();
  if (ports_.store.get(keys::kOtaAttempt, attempt) && !trial) {
    const size_t space = attempt.find(' ');
    const std::string version = attempt.substr(0, space);
    if (version == running) {
      log_.line("OTA_UPDATED running " + running);  // a boot loader without rollback: no trial
    } else {
      log_.line("OTA_ROLLED_BACK image " + version + " did not stay; running " + running + " again");
      ports_.store.set(keys::kOtaSkip, space == std::string::npos ? version : attempt.substr(space + 1));
    }
    ports_.store.remove(keys::kOtaAttempt);
  }
  if (trial) {
    otaAwaitingConfirm_ = true;
    otaConfirmBy_ = ports_.clock.millis() + config_.otaConfirmTimeoutMs;
    log_.line("OTA_TRIAL " + running + " runs on trial: confirmed once the server is reached, else rolled back in " +
              std::to_string(config_.otaConfirmTimeoutMs / 1000) + " s");
  }
  otaChecks_.dueAt = ports_.clock.millis();
}

void Device::otaWatchConfirm(uint32_t now) {
  if (!otaAwaitingConfirm_ || !reached(now, otaConfirmBy_)) return;
  otaAwaitingConfirm_ = false;
  log_.line("OTA_ROLLBACK the new image did not reach the server within " + std::to_string(config_.otaConfirmTimeoutMs / 1000) +
            " s; rolling back");
  otaStep_ = OtaStep::Halted;
  ports_.update->rollback();
}

void Device::otaReachedServer() {
  if (!otaAwaitingConfirm_) return;
  otaAwaitingConfirm_ = false;
  std::string why;
  if (ports_.update->confirm(why)) {
    ports_.store.remove(keys::kOtaAttempt);
    log_.line("OTA_CONFIRMED " + ports_.update->runningVersion() + " marked valid");
  } else {
    log_.line("OTA confirm failed: " + why);
  }
}

void Device::otaReport(const std::string& key, const std::string& value) {
  bool replaced = false;
  for (auto& entry : fwReport_) {
    if (entry.first == key) {
      entry.second = value;
      replaced = true;
    }
  }
  if (!replaced) fwReport_.emplace_back(key, value);
  if (telemetry_.backoff.failures() == 0) telemetry_.dueAt = ports_.clock.millis();
}

bool Device::otaDue(uint32_t now) const {
  const bool working = otaStep_ == OtaStep::Download || otaStep_ == OtaStep::Activate || otaStep_ == OtaStep::Reboot;
  return working && fwReport_.empty() && reached(now, otaChunks_.dueAt);
}

void Device::otaSeeState(const cJSON* data) {
  OtaOffer offer;
  if (ports_.update != nullptr && parseOffer(data, offer)) otaConsider(offer, "state");
}

void Device::otaConsider(const OtaOffer& offer, const char* source) {
  if (otaStep_ != OtaStep::Idle) {
    if (otaStep_ != OtaStep::Download || offer.sha256 == offer_.sha256) return;  // on it, or already switching
    log_.line("OTA another image is offered (" + offer.version + "); dropping the download of " + offer_.version);
    if (otaBegun_) ports_.update->abort();
    otaBegun_ = false;
    otaStep_ = OtaStep::Idle;
  }
  if (offer.version == ports_.update->runningVersion()) return;  // done; the server withdraws it
  std::string skip;
  if (ports_.store.get(keys::kOtaSkip, skip) && skip == offerId(offer)) return;
  if (otaAwaitingConfirm_) return;  // the running image must be confirmed before another is written
  offer_ = offer;
  otaStep_ = OtaStep::Download;
  otaOffset_ = 0;
  otaHash_.reset();
  otaChunks_.backoff.reset();
  otaChunks_.dueAt = ports_.clock.millis();
  log_.line("OTA_OFFER " + offer.version + " (" + std::to_string(offer.size) + " bytes) from " + source + "; downloading");
  otaReport("fw_state", "DOWNLOADING");
}

void Device::otaTick() {
  std::string why;
  switch (otaStep_) {
    case OtaStep::Download:
      otaDownload();
      break;
    case OtaStep::Activate:
      if (!ports_.update->markPending(why)) {
        otaFail("cannot switch the boot slot: " + why);
        return;
      }
      ports_.store.set(keys::kOtaAttempt, offer_.version + " " + offerId(offer_));
      otaStep_ = OtaStep::Reboot;
      otaReport("fw_state", "UPDATING");
      break;
    case OtaStep::Reboot:
      log_.line("OTA_REBOOT into " + offer_.version);
      otaStep_ = OtaStep::Halted;
      ports_.update->reboot();
      break;
    case OtaStep::Idle:
    case OtaStep::Halted:
      break;
  }
}

void Device::otaDownload() {
  std::string why;
  if (!otaBegun_) {
    if (!ports_.update->begin(offer_.size, why)) {
      otaFail("cannot prepare the update slot: " + why);
      return;
    }
    otaBegun_ = true;
  }
  const uint32_t startedAt = ports_.clock.millis();
  const uint32_t left = offer_.size - otaOffset_;
  const uint32_t last = otaOffset_ + (left < config_.otaChunkBytes ? left : config_.otaChunkBytes) - 1;
  const HttpResponse response =
      exchange(otaRequest(credentials_, offer_, ports_.update->runningVersion(), otaOffset_, last, config_.httpTimeoutMs));
  lastWasReport_ = false;
  if (response.status == 200 || response.status == 206) {
    if (otaTake(response)) return;
    ++stats_.failed;
    retryLater(otaChunks_, "unusable chunk");
  } else if (response.status == 304) {
    log_.line("OTA offer withdrawn (304); download of " + offer_.version + " stopped");
    ports_.update->abort();
    otaBegun_ = false;
    otaStep_ = OtaStep::Idle;
    return;
  } else if (response.status == 416) {
    otaFail("the server's image is shorter than the offered " + std::to_string(offer_.size) + " bytes (416)");
    return;
  } else if (!settle(otaChunks_, response, startedAt)) {
    if (state_ != State::Running) {  // 403: stopped; a new token starts over
      ports_.update->abort();
      otaBegun_ = false;
      otaStep_ = OtaStep::Idle;
      return;
    }
    if (classify(response.status) == Outcome::Rejected) {
      otaFail("download refused (HTTP " + std::to_string(response.status) + ")");
      return;
    }
  }
  if (otaChunks_.backoff.failures() >= config_.otaMaxFailures) {
    otaFail("download failed " + std::to_string(otaChunks_.backoff.failures()) + " times in a row");
  }
}

// Writes what a 200/206 brought at otaOffset_; false: nothing usable (retried with backoff).
bool Device::otaTake(const HttpResponse& response) {
  std::string body = response.body;
  if (response.status == 206) {
    uint32_t first = 0, last = 0, total = 0;
    if (!parseContentRange(response.header("content-range"), first, last, total) || first != otaOffset_) return false;
    if (total != offer_.size) {
      otaFail("the image is " + std::to_string(total) + " bytes, the offer says " + std::to_string(offer_.size));
      return true;
    }
  } else {
    // The whole image although a range was asked for: skip what is already written.
    if (body.size() <= otaOffset_) return false;
    body.erase(0, otaOffset_);
  }
  if (body.size() > offer_.size - otaOffset_) body.resize(offer_.size - otaOffset_);
  if (body.empty()) return false;
  std::string why;
  if (!ports_.update->write(reinterpret_cast<const uint8_t*>(body.data()), body.size(), why)) {
    otaFail("flash write failed: " + why);
    return true;
  }
  otaHash_.update(body);
  const uint32_t before = otaOffset_;
  otaOffset_ += static_cast<uint32_t>(body.size());
  otaChunks_.backoff.reset();
  otaChunks_.dueAt = ports_.clock.millis();
  // Progress in quarters, so a 1.5 MB image does not print a hundred lines.
  if (otaOffset_ * 4ull / offer_.size != before * 4ull / offer_.size || otaOffset_ == offer_.size) {
    log_.debug("OTA downloaded " + std::to_string(otaOffset_) + "/" + std::to_string(offer_.size) + " bytes");
  }
  if (otaOffset_ == offer_.size) otaFinish();
  return true;
}

void Device::otaFinish() {
  const std::string digest = otaHash_.hexDigest();
  if (digest != offer_.sha256) {
    otaFail("sha256 mismatch (image " + digest.substr(0, 16) + "..., offer " + offer_.sha256.substr(0, 16) + "...)");
    return;
  }
  std::string why;
  otaBegun_ = false;  // end() releases the slot either way
  if (!ports_.update->end(why)) {
    otaFail("image check failed: " + why);
    return;
  }
  log_.line("OTA_DOWNLOADED " + offer_.version + " (" + std::to_string(offer_.size) + " bytes, sha256 verified)");
  otaStep_ = OtaStep::Activate;
  otaReport("fw_state", "DOWNLOADED");
}

void Device::otaFail(const std::string& why) {
  if (otaBegun_) ports_.update->abort();
  otaBegun_ = false;
  otaStep_ = OtaStep::Idle;
  ports_.store.set(keys::kOtaSkip, offerId(offer_));
  log_.line("OTA_FAILED " + why);
  otaReport("fw_state", "FAILED");
  otaReport("fw_error", why);
}

// GET /firmware/update without an offer in the state (an old server, a missed message):
// 304 is "nothing for you". An answer with an image starts the download like an offer.
void Device::otaCheck() {
  const uint32_t startedAt = ports_.clock.millis();
  otaChecks_.dueAt = startedAt + otaChecks_.intervalMs;
  OtaOffer probe;
  probe.url = "/firmware/update";
  const HttpResponse response = exchange(
      otaRequest(credentials_, probe, ports_.update->runningVersion(), 0, config_.otaChunkBytes - 1, config_.httpTimeoutMs));
  lastWasReport_ = false;
  if (response.status == 304) {
    log_.debug("OTA check: no update offered");
    return;
  }
  if (response.status == 403 || response.status == 429) {
    settle(otaChecks_, response, startedAt);  // stops, or pauses every request as Retry-After says
    otaChecks_.dueAt = startedAt + otaChecks_.intervalMs;
    return;
  }
  uint32_t first = 0, last = 0, total = static_cast<uint32_t>(response.body.size());
  if ((response.status != 200 && response.status != 206) ||
      (response.status == 206 && !parseContentRange(response.header("content-range"), first, last, total))) {
    log_.debug("OTA check failed (HTTP " + std::to_string(response.status) + "); next in " +
               std::to_string(otaChecks_.intervalMs / 1000) + " s");
    return;
  }
  const JsonPtr doc(cJSON_CreateObject());
  cJSON* ota = cJSON_AddObjectToObject(doc.get(), "ota");
  cJSON_AddStringToObject(ota, "version", imageVersion(response.body).c_str());
  cJSON_AddNumberToObject(ota, "size", total);
  cJSON_AddStringToObject(ota, "sha256", response.header("x-sha256").c_str());
  cJSON_AddStringToObject(ota, "url", probe.url.c_str());
  OtaOffer offer;
  if (!parseOffer(doc.get(), offer)) {
    log_.line("OTA check: an image without a version or sha256; ignored");
    return;
  }
  otaConsider(offer, "GET /firmware/update");  // its first chunk is fetched again, after DOWNLOADING is reported
}

}  // namespace tnx
