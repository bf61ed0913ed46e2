// SPDX-License-Identifier: Apache-2.0
#include "reel/media/limits.h"

namespace reel {

namespace {
MediaLimits g_limits;  // set once by the CLI before any input is opened
}

void set_media_limits(const MediaLimits& limits) { g_limits = limits; }
const MediaLimits& media_limits() { return g_limits; }

}  // namespace reel
