// SPDX-License-Identifier: Apache-2.0
// Error model of the reel library.
//
// Library functions report failure by throwing reel::Error, which carries one of a few
// codes. Codes are stable: the CLI maps them to documented exit codes (exit_code_for)
// and to the "code" field of a record's `errors` entries (code_name). Untrusted bytes
// (media, weights, manifests) must always end in an Error, never in an assert.
#pragma once
#include <stdexcept>
#include <string>

namespace reel {

enum class Code {
  Ok = 0,
  InvalidArgument,    // bad option or argument from the user
  InvalidData,        // corrupt or unsupported media / manifest
  NotFound,           // a file, stream or tensor that does not exist
  IoError,            // read/write failure on an existing path
  ModelError,         // weights missing, corrupt, wrong shape or dtype
  DeviceUnavailable,  // an explicitly requested device is not usable
  OutOfMemory,
  Internal,
  Cancelled,
  OutputError,        // the output location cannot be written (permissions, full disk, not a directory)
  ServiceUnavailable, // a service the stage needs (an HTTP endpoint) keeps failing: the batch stops
};

class Error : public std::runtime_error {
 public:
  Error(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Code code() const { return code_; }

 private:
  Code code_;
};

// Snake-case name used in JSON records ("invalid_data").
const char* code_name(Code code);

// Process exit codes (README "Exit codes").
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,
  kExitUsage = 2,
  kExitPartial = 3,
  kExitModel = 4,
  kExitDevice = 5,
  kExitOutput = 6,
  kExitService = 7,
  kExitInterrupted = 130,
};

// Exit code for a failure that stops the whole command.
int exit_code_for(Code code);

}  // namespace reel
