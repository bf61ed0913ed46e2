// SPDX-License-Identifier: Apache-2.0
#include "reel/core/status.h"

namespace reel {

const char* code_name(Code code) {
  switch (code) {
    case Code::Ok: return "ok";
    case Code::InvalidArgument: return "invalid_argument";
    case Code::InvalidData: return "invalid_data";
    case Code::NotFound: return "not_found";
    case Code::IoError: return "io_error";
    case Code::ModelError: return "model_error";
    case Code::DeviceUnavailable: return "device_unavailable";
    case Code::OutOfMemory: return "out_of_memory";
    case Code::Internal: return "internal";
    case Code::Cancelled: return "cancelled";
    case Code::OutputError: return "output_error";
    case Code::ServiceUnavailable: return "service_unavailable";
  }
  return "internal";
}

int exit_code_for(Code code) {
  switch (code) {
    case Code::Ok: return kExitOk;
    case Code::InvalidArgument: return kExitUsage;
    case Code::ModelError: return kExitModel;
    case Code::DeviceUnavailable: return kExitDevice;
    case Code::Cancelled: return kExitInterrupted;
    case Code::OutputError: return kExitOutput;
    case Code::ServiceUnavailable: return kExitService;
    case Code::InvalidData:
    case Code::NotFound:
    case Code::IoError: return kExitPartial;
    default: return kExitInternal;
  }
}

}  // namespace reel
