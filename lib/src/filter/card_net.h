// SPDX-License-Identifier: Apache-2.0
// Internal to lib/: a model card's ONNX network in OpenCV DNN (CPU), shared by reel filter's
// learned scores and reel embed. Throws ModelError naming the card.
#pragma once
#include <opencv2/dnn.hpp>
#include <string>

namespace reel {

cv::dnn::Net load_card_net(const std::string& file, const std::string& card);

}  // namespace reel
