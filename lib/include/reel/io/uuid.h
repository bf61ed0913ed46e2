// SPDX-License-Identifier: Apache-2.0
// RFC 4122 name-based UUIDs (version 5, SHA-1). Clip ids are uuid_v5(kReelNamespace,
// source + span), so a re-run names the same clip the same way and overwrites it.
#pragma once
#include <string>

namespace reel {

// The namespace of reel clip ids (itself uuid_v5(URL namespace, "https://reel.dev/clip")).
extern const char* const kReelClipNamespace;

// Returns the canonical lower-case 8-4-4-4-12 form. Throws InvalidArgument on a bad namespace.
std::string uuid_v5(const std::string& namespace_uuid, const std::string& name);

// Hex SHA-256 of a byte string (checksums of models and files).
std::string sha256_hex(const void* data, size_t size);

}  // namespace reel
