// SPDX-License-Identifier: Apache-2.0
// Internal to lib/: a model card's ONNX network in OpenCV DNN (CPU), shared by reel filter's
// learned scores and reel embed. Throws ModelError naming the card.
#pragma once
#include <memory>
#include <opencv2/dnn.hpp>
#include <string>

#include "nets/onnx_graph.h"
#include "reel/filter/learned.h"

namespace reel {

cv::dnn::Net load_card_net(const std::string& file, const std::string& card);

// A card's image network (one NCHW or NHWC input, the last output) on reel's backend when the
// target is a GPU and reel's ops cover every layer; nullptr otherwise (OpenCV DNN on the CPU,
// which is faster than reel's kernels there). Logs which path the model takes, and why.
std::unique_ptr<OnnxGraph> card_graph(const ModelCard& card, const ComputeTarget& target, const char* component);

}  // namespace reel
