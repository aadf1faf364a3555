#pragma once
// SHA-256 (FIPS 180-4), incremental, so an update image is hashed chunk by chunk as it
// arrives and never has to be held whole. Small and portable: the same code on the board
// (no dependency on mbedTLS) and on the PC.
#include <cstddef>
#include <cstdint>
#include <string>

namespace tnx {

class Sha256 {
 public:
  Sha256() { reset(); }
  void reset();
  void update(const uint8_t* data, size_t size);
  void update(const std::string& bytes) { update(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()); }
  std::string hexDigest();  // lower-case hex; ends this hash (reset() to start another)

 private:
  void block(const uint8_t* chunk);

  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace tnx
