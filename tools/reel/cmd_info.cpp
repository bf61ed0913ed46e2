// SPDX-License-Identifier: Apache-2.0
// reel info devices: compiled backends and usable devices (JSON).
#include "commands.h"
#include "common.h"
#include "reel/core/backend.h"

namespace reel::cli {

void register_info(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("info", "Information about this build");
  cmd->require_subcommand(1);
  auto* dev = cmd->add_subcommand("devices", "List compiled backends and usable devices as JSON");
  dev->callback([exit_code] {
    nlohmann::json j;
    j["cuda_compiled"] = cuda_compiled();
    std::string why;
    j["cuda_devices"] = cuda_device_count(&why);
    if (!why.empty()) j["cuda_unavailable_reason"] = why;
    j["devices"] = nlohmann::json::array();
    for (auto& d : list_devices()) j["devices"].push_back({{"name", d.name}, {"description", d.description}});
    emit(j);
    *exit_code = kExitOk;
  });
}

}  // namespace reel::cli
