// SPDX-License-Identifier: Apache-2.0
#include "reel/core/cancel.h"

#include <atomic>

#include "reel/core/status.h"

namespace reel {
namespace {
std::atomic<bool> g_cancel{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");
}  // namespace
void request_cancel() { g_cancel.store(true, std::memory_order_relaxed); }
bool cancel_requested() { return g_cancel.load(std::memory_order_relaxed); }
void reset_cancel() { g_cancel.store(false); }
void throw_if_cancelled() {
  if (cancel_requested()) throw Error(Code::Cancelled, "interrupted");
}
}  // namespace reel
