// SPDX-License-Identifier: Apache-2.0
// Process-wide cancellation: SIGINT/SIGTERM set it (async-signal-safe), the runner stops
// taking new records, and long stage loops poll it to abandon a record cleanly.
#pragma once

namespace reel {
void request_cancel();
bool cancel_requested();
void reset_cancel();  // tests
// Throws Error(Cancelled) if cancellation was requested.
void throw_if_cancelled();
}  // namespace reel
