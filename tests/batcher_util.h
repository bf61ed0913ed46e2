// SPDX-License-Identifier: Apache-2.0
// Windows through a WindowBatcher, for the tests that compare its orders of passes.
#pragma once
#include <cstdint>
#include <future>
#include <vector>

#include "reel/model/window_batcher.h"

namespace reel::test {

// Every window of `xs` submitted at once to one batcher (batches of `batch`, `mode`): the
// encodings in submission order, and how many passes were queued behind one in flight.
inline std::vector<EncodedWindow> encode_through_batcher(const Tokenizer& tok, const std::vector<Act>& xs, int batch,
                                                         WindowBatcher::Overlap mode, uint64_t* overlapped) {
  WindowBatcher b(tok, PassOptions{0, 0, batch}, 0, mode);
  std::vector<std::future<EncodedWindow>> f;
  for (const Act& x : xs) f.push_back(b.encode(Act(x)));
  std::vector<EncodedWindow> out;
  for (auto& e : f) out.push_back(e.get());
  *overlapped = b.overlapped();
  return out;
}

}  // namespace reel::test
