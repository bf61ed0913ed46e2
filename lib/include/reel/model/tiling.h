// SPDX-License-Identifier: Apache-2.0
// Spatial tiling for large frames: the clip is cut into overlapping tiles (size and overlap
// in pixels, multiples of the spatial compression), each tile is encoded (or decoded) on its
// own, and the results are blended with linear ramps across the overlaps. Peak memory then
// follows the tile size instead of the frame size. Tiles never change the temporal layout.
// Continuous models only: blending token ids is meaningless.
#pragma once
#include <functional>

#include "reel/model/tokenizer.h"

namespace reel {

// The blend itself: runs `fn` on overlapping tiles of x (tile and overlap in input pixels,
// origins on multiples of `align`) whose outputs are `out_per_in` times the tile's size, and
// blends them with linear ramps across each overlap (weights normalised to sum to one).
Act blend_tiles(const Act& x, int tile, int overlap, int align, double out_per_in,
                const std::function<Act(const Act&)>& fn);

// x: (T, 3, H, W), H and W multiples of the spatial compression. tile <= 0: no tiling.
Act encode_tiled(const Tokenizer& tok, const Act& x, int tile, int overlap);
// z: (t, C, h, w) latent; tile and overlap in output pixels.
Act decode_tiled(const Tokenizer& tok, const Act& z, int tile, int overlap);

}  // namespace reel
