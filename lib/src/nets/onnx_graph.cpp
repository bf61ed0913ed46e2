// SPDX-License-Identifier: Apache-2.0
#include "onnx_graph.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <opencv2/dnn.hpp>
#include <opencv2/dnn/all_layers.hpp>
#include <random>

#include "reel/core/status.h"

namespace reel {

namespace {

enum class Op { Conv, Depthwise, Relu, Clamp, Pool, Mean, Add, Dense };

// One backend call. Convolutions and dense layers keep their (folded) weights on the host until
// compile() uploads them.
struct Step {
  Op op = Op::Relu;
  int in = -1, other = -1, out = -1;  // value slots: input, the residual (Add, or fused into Conv)
  std::vector<float> w, bias;
  int co = 0, ci = 0, kh = 1, kw = 1, stride = 1, pt = 0, pl = 0, pb = 0, pr = 0;
  bool max = false;
  int k = 1;
  float lo = 0, hi = 0;
  ConvWeights cw;
};

struct Shape {
  int C = 0, H = 0, W = 0;
  bool flat = false;  // reshaped away from (C, H, W): values in order, read only by dense layers and element-wise ops
  size_t size() const { return static_cast<size_t>(C) * H * W; }
};

std::string shape_str(const cv::dnn::MatShape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::vector<float> blob_values(const cv::Mat& m) {
  if (m.type() != CV_32F) throw Error(Code::ModelError, "a weight tensor is not float32");
  const float* p = m.ptr<float>();
  return std::vector<float>(p, p + m.total());
}

// TensorFlow's SAME padding: output ceil(n / s), the odd pixel of padding after the frame.
void same_pads(int n, int k, int s, int* begin, int* end) {
  const int out = (n + s - 1) / s, total = std::max((out - 1) * s + k - n, 0);
  *begin = total / 2, *end = total - total / 2;
}

// Not covered: why, naming the layer.
struct NotCovered {
  std::string why;
};
[[noreturn]] void not_covered(const std::string& layer, const std::string& type, const std::string& what) {
  throw NotCovered{"layer " + layer + " (" + type + "): " + what};
}

}  // namespace

struct OnnxGraph::Plan {
  ComputeTarget target;
  std::unique_ptr<Backend> backend;
  std::vector<Step> steps;
  std::vector<int> last_use;  // per slot: the last step that reads it
  int slots = 1, output = 0;
  Shape in_shape, out_shape;
  bool nhwc_input = false, softmax = false;
  int layers = 0;

  // Builds the steps from OpenCV's layers (in its topological order), checking every shape.
  void build(const cv::dnn::Net& net, const cv::dnn::MatShape& input) {
    std::vector<std::string> names = net.getLayerNames();
    std::map<std::string, int> id_of, consumers;
    std::vector<int> ids;
    for (const auto& n : names) ids.push_back(net.getLayerId(n)), id_of[n] = ids.back();
    std::map<int, std::vector<int>> inputs;  // layer id -> its input layer ids (0: the network input)
    for (int id : ids)
      for (const auto& l : net.getLayerInputs(id)) {
        const int from = l->name == "_input" ? 0 : id_of.count(l->name) ? id_of[l->name] : -1;
        if (from < 0) not_covered(l->name, l->type, "an input that is not a layer of the network");
        inputs[id].push_back(from);
        ++consumers[from == 0 ? std::string("_input") : l->name];
      }
    std::map<int, int> slot_of{{0, 0}};  // layer id -> value slot
    std::map<int, Shape> shape_of;
    std::map<int, int> last_writer;  // slot -> the last step that wrote it
    std::map<int, int> pending{{0, consumers["_input"]}};  // slot -> reads of it still to come
    if (input.size() != 4) throw NotCovered{"the input is not an image batch: " + shape_str(input)};
    in_shape = {input[1], input[2], input[3]};
    shape_of[0] = in_shape;
    int final_layer = -1;
    for (size_t li = 0; li < ids.size(); ++li) {
      const int id = ids[li];
      const cv::Ptr<cv::dnn::Layer> L = net.getLayer(id);
      const std::string& type = L->type;
      const std::string& name = names[li];
      const std::vector<int>& in = inputs[id];
      std::vector<cv::dnn::MatShape> in_shapes, out_shapes;
      net.getLayerShapes(input, id, in_shapes, out_shapes);
      if (out_shapes.size() != 1) not_covered(name, type, "more than one output");
      const cv::dnn::MatShape want = out_shapes[0];
      ++layers;
      if (consumers[name] == 0) {
        if (final_layer >= 0) not_covered(name, type, "a second output of the network");
        final_layer = id;
      }
      if (in.empty()) not_covered(name, type, "no input");
      for (int i : in)
        if (!slot_of.count(i)) not_covered(name, type, "an input computed after it");
      const int a = slot_of[in[0]];
      const Shape s = shape_of[in[0]];
      // Whether this layer is the last reader of a slot: then it may overwrite it, or fold into
      // the step that wrote it.
      auto sole = [&](int slot) {
        int reads = 0;
        for (int i : in) reads += slot_of[i] == slot;
        return reads == 1 && pending[slot] == 1;
      };
      auto alias = [&](const Shape& out) {
        slot_of[id] = a, shape_of[id] = out;
        pending[a] += consumers[name];
      };
      auto emit = [&](Step st, const Shape& out) {
        st.in = a, st.out = slots++;
        last_writer[st.out] = static_cast<int>(steps.size());
        steps.push_back(std::move(st));
        slot_of[id] = steps.back().out, shape_of[id] = out;
        pending[steps.back().out] += consumers[name];
      };
      auto in_place = [&](Step st) {
        st.in = st.out = a;
        last_writer[a] = static_cast<int>(steps.size());
        steps.push_back(std::move(st));
      };
      // The convolution or dense layer that wrote this layer's input, when nothing else reads
      // or has overwritten it since: BatchNorm, a scale and a residual sum fold into it.
      auto writer_of = [&](int slot) -> Step* {
        if (!sole(slot) || !last_writer.count(slot)) return nullptr;
        Step& p = steps[last_writer[slot]];
        return p.op == Op::Conv || p.op == Op::Dense ? &p : nullptr;
      };
      Shape out = s;
      if (s.flat && type != "Identity" && type != "Reshape" && type != "Flatten" && type != "InnerProduct" && type != "ReLU" &&
          type != "ReLU6" && type != "Eltwise" && type != "Softmax")
        not_covered(name, type, "an input reshaped away from channels and pixels");
      if (softmax && type != "Identity" && type != "Reshape" && type != "Flatten")
        not_covered(name, type, "a layer after the softmax (reel applies it last)");
      if (type == "Permute") {
        if (id != ids.front() || in[0] != 0 || want != cv::dnn::MatShape{1, input[3], input[1], input[2]})
          not_covered(name, type, "a transpose other than the input's NHWC -> NCHW");
        nhwc_input = true;
        in_shape = {input[3], input[1], input[2]};
        alias(in_shape);
      } else if (type == "Identity" || type == "Reshape" || type == "Flatten") {
        // A reshape moves no value: the dense layer reads (C, H, W) in that order anyway. Other
        // shapes than the input's become a flat vector that only dense and element-wise layers read.
        size_t total = 1;
        for (size_t d = 1; d < want.size(); ++d) total *= static_cast<size_t>(want[d]);
        const bool same = want.size() == 4 && want[1] == s.C && want[2] == s.H && want[3] == s.W;
        if (total != s.size()) not_covered(name, type, "a reshape to " + shape_str(want) + " of another size");
        alias(same ? s : Shape{static_cast<int>(s.size()), 1, 1, true});
      } else if (type == "Convolution") {
        auto c = L.dynamicCast<cv::dnn::BaseConvolutionLayer>();
        if (!c || L->blobs.empty() || L->blobs[0].dims != 4 || c->kernel_size.size() != 2)
          not_covered(name, type, "not a 2-D convolution with weights");
        const cv::Mat& wb = L->blobs[0];
        Step st;
        st.co = wb.size[0], st.ci = wb.size[1], st.kh = wb.size[2], st.kw = wb.size[3];
        if (c->strides[0] != c->strides[1]) not_covered(name, type, "different strides along H and W");
        if (c->dilations[0] != 1 || c->dilations[1] != 1) not_covered(name, type, "dilation");
        st.stride = static_cast<int>(c->strides[0]);
        if (c->padMode == "SAME") {
          same_pads(s.H, st.kh, st.stride, &st.pt, &st.pb);
          same_pads(s.W, st.kw, st.stride, &st.pl, &st.pr);
        } else if (c->padMode.empty() || c->padMode == "VALID") {
          if (c->padMode.empty())
            st.pt = static_cast<int>(c->pads_begin[0]), st.pl = static_cast<int>(c->pads_begin[1]),
            st.pb = static_cast<int>(c->pads_end[0]), st.pr = static_cast<int>(c->pads_end[1]);
        } else {
          not_covered(name, type, "padding mode " + c->padMode);
        }
        st.w = blob_values(wb);
        st.bias = L->blobs.size() > 1 ? blob_values(L->blobs[1]) : std::vector<float>(st.co, 0.0f);
        if (st.bias.size() != static_cast<size_t>(st.co)) not_covered(name, type, "a bias of another size than the outputs");
        if (st.ci == s.C) {
          st.op = Op::Conv;
        } else if (st.ci == 1 && st.co == s.C && st.kh == st.kw && st.pt == st.pb && st.pl == st.pr && st.pt == st.pl &&
                   st.pt == (st.kh - 1) / 2) {
          st.op = Op::Depthwise;
        } else {
          not_covered(name, type, "a grouped convolution (" + std::to_string(s.C) + " channels in groups of " + std::to_string(st.ci) + ")");
        }
        out = {st.co, (s.H + st.pt + st.pb - st.kh) / st.stride + 1, (s.W + st.pl + st.pr - st.kw) / st.stride + 1};
        emit(std::move(st), out);
      } else if (type == "BatchNorm" || type == "Scale") {
        // v -> g * v + b per channel, folded into the convolution or dense layer before it.
        std::vector<float> g, b;
        if (type == "BatchNorm") {
          auto bn = L.dynamicCast<cv::dnn::BatchNormLayer>();
          const size_t want_blobs = 2 + (bn->hasWeights ? 1 : 0) + (bn->hasBias ? 1 : 0);
          if (L->blobs.size() != want_blobs) not_covered(name, type, "unexpected parameter tensors");
          const auto mean = blob_values(L->blobs[0]), var = blob_values(L->blobs[1]);
          const auto gamma = bn->hasWeights ? blob_values(L->blobs[2]) : std::vector<float>(mean.size(), 1.0f);
          const auto beta = bn->hasBias ? blob_values(L->blobs[bn->hasWeights ? 3 : 2]) : std::vector<float>(mean.size(), 0.0f);
          for (size_t i = 0; i < mean.size(); ++i) {
            const double sc = gamma[i] / std::sqrt(static_cast<double>(var[i]) + bn->epsilon);
            g.push_back(static_cast<float>(sc)), b.push_back(static_cast<float>(beta[i] - mean[i] * sc));
          }
        } else {
          auto sc = L.dynamicCast<cv::dnn::ScaleLayer>();
          const bool weights = L->blobs.size() == 2 || (L->blobs.size() == 1 && !sc->hasBias);
          if (L->blobs.empty() || in.size() != 1 || sc->axis != 1) not_covered(name, type, "a scale that is not per channel");
          g = weights ? blob_values(L->blobs[0]) : std::vector<float>();
          b = sc->hasBias ? blob_values(L->blobs.back()) : std::vector<float>();
          if (g.empty()) g.assign(s.C, 1.0f);
          if (b.empty()) b.assign(s.C, 0.0f);
        }
        if (g.size() != static_cast<size_t>(s.C) || b.size() != g.size()) not_covered(name, type, "not one value per channel");
        Step* p = in.size() == 1 ? writer_of(a) : nullptr;
        if (!p || p->other >= 0) not_covered(name, type, "not right after a convolution or dense layer that only it reads");
        const size_t per = p->w.size() / p->co;
        for (int o = 0; o < p->co; ++o) {
          for (size_t i = 0; i < per; ++i) p->w[o * per + i] *= g[o];
          p->bias[o] = p->bias[o] * g[o] + b[o];
        }
        alias(s);
      } else if (type == "ReLU" || type == "ReLU6") {
        Step st;
        if (type == "ReLU") {
          if (L.dynamicCast<cv::dnn::ReLULayer>()->negativeSlope != 0.0f) not_covered(name, type, "a leaky ReLU");
          st.op = Op::Relu;
        } else {
          auto r6 = L.dynamicCast<cv::dnn::ReLU6Layer>();
          st.op = Op::Clamp, st.lo = r6->minValue, st.hi = r6->maxValue;
        }
        // In place when nothing else reads the input (a ResNet's or EfficientNet's always).
        if (!sole(a)) not_covered(name, type, "an input that other layers read too");
        in_place(std::move(st));
        alias(s);
      } else if (type == "Pooling") {
        auto p = L.dynamicCast<cv::dnn::PoolingLayer>();
        const bool max = p->type == 0;
        if (p->type != 0 && p->type != 1) not_covered(name, type, "pooling other than max or mean");
        if (p->globalPooling) {
          if (max) not_covered(name, type, "global max pooling");
          Step st;
          st.op = Op::Mean;
          emit(std::move(st), {s.C, 1, 1});
        } else {
          if (p->kernel_size.size() != 2 || p->kernel_size[0] != p->kernel_size[1] || p->strides[0] != p->strides[1])
            not_covered(name, type, "a window that is not square");
          Step st;
          st.op = Op::Pool, st.max = max, st.k = static_cast<int>(p->kernel_size[0]), st.stride = static_cast<int>(p->strides[0]);
          if (p->padMode == "SAME") {
            same_pads(s.H, st.k, st.stride, &st.pt, &st.pb);
            same_pads(s.W, st.k, st.stride, &st.pl, &st.pr);
          } else if (p->padMode.empty()) {
            st.pt = static_cast<int>(p->pads_begin[0]), st.pl = static_cast<int>(p->pads_begin[1]),
            st.pb = static_cast<int>(p->pads_end[0]), st.pr = static_cast<int>(p->pads_end[1]);
          } else if (p->padMode != "VALID") {
            not_covered(name, type, "padding mode " + p->padMode);
          }
          if (!max && p->avePoolPaddedArea && st.pt + st.pl + st.pb + st.pr > 0)
            not_covered(name, type, "a mean that counts the padding");
          out = {s.C, (s.H + st.pt + st.pb - st.k) / st.stride + 1, (s.W + st.pl + st.pr - st.k) / st.stride + 1};
          emit(std::move(st), out);
        }
      } else if (type == "Eltwise") {
        // A sum of two tensors (a product or maximum would differ from OpenCV in the check at
        // the end of compile()). Fused into the convolution that makes one of them when that
        // convolution ran after the other was made.
        if (in.size() != 2) not_covered(name, type, "not two inputs");
        const int b = slot_of[in[1]];
        const Shape sb = shape_of[in[1]];
        if (sb.C != s.C || sb.H != s.H || sb.W != s.W || sb.flat != s.flat) not_covered(name, type, "inputs of different shapes");
        bool fused = false;
        for (int side = 0; side < 2 && !fused && a != b; ++side) {
          const int mine = side == 0 ? a : b, theirs = side == 0 ? b : a;
          Step* p = writer_of(mine);
          // `theirs` as it is now must be what the convolution adds when it runs, earlier.
          const bool before = theirs == 0 ? last_writer.count(0) == 0
                                          : last_writer.count(theirs) && last_writer[theirs] < last_writer[mine];
          if (!p || p->op != Op::Conv || p->other >= 0 || !before) continue;
          p->other = theirs;
          slot_of[id] = mine, shape_of[id] = s;
          pending[mine] += consumers[name];
          fused = true;
        }
        if (!fused) {
          if (!sole(a) || a == b) not_covered(name, type, "a sum whose inputs other layers read too");
          Step st;
          st.op = Op::Add, st.other = b;
          in_place(std::move(st));
          alias(s);
        }
      } else if (type == "InnerProduct") {
        auto ip = L.dynamicCast<cv::dnn::InnerProductLayer>();
        if (ip->axis != 1 || L->blobs.empty() || L->blobs[0].dims != 2) not_covered(name, type, "not a dense layer over each input");
        Step st;
        st.op = Op::Dense, st.co = L->blobs[0].size[0];
        if (static_cast<size_t>(L->blobs[0].size[1]) != s.size())
          not_covered(name, type, "weights for " + std::to_string(L->blobs[0].size[1]) + " inputs, given " + std::to_string(s.size()));
        st.w = blob_values(L->blobs[0]);
        st.bias = L->blobs.size() > 1 ? blob_values(L->blobs[1]) : std::vector<float>(st.co, 0.0f);
        if (st.bias.size() != static_cast<size_t>(st.co)) not_covered(name, type, "a bias of another size than the outputs");
        out = {st.co, 1, 1};
        emit(std::move(st), out);
      } else if (type == "Softmax") {
        auto sm = L.dynamicCast<cv::dnn::SoftmaxLayer>();
        if (sm->logSoftMax || softmax || s.H != 1 || s.W != 1) not_covered(name, type, "not a softmax over a vector");
        softmax = true;
        alias(s);
      } else {
        not_covered(name, type, "no reel op for it");
      }
      for (int i : in) --pending[slot_of[i]];
      // Ours against OpenCV's idea of the shape.
      const Shape got = shape_of[id];
      size_t want_total = 1;
      for (size_t d = 1; d < want.size(); ++d) want_total *= static_cast<size_t>(want[d]);
      const bool ok = (got.flat && want_total == got.size()) ||
                      (want.size() == 4 && want[1] == got.C && want[2] == got.H && want[3] == got.W) ||
                      (want.size() == 2 && got.H == 1 && got.W == 1 && want[1] == got.C);
      if (!ok && type != "Permute") not_covered(name, type, "wrong shape: got [1, " + std::to_string(got.C) + ", " + std::to_string(got.H) + ", " + std::to_string(got.W) + "], expected " + shape_str(want));
    }
    if (final_layer < 0) throw NotCovered{"no output layer"};
    output = slot_of[final_layer];
    out_shape = shape_of[final_layer];
    last_use.assign(slots, -1);
    for (size_t i = 0; i < steps.size(); ++i) {
      last_use[steps[i].in] = static_cast<int>(i);
      if (steps[i].other >= 0) last_use[steps[i].other] = static_cast<int>(i);
    }
  }

  void upload() {
    backend = make_backend(target.device, 0, target.dtype);
    for (Step& st : steps)
      if (st.op == Op::Conv || st.op == Op::Depthwise || st.op == Op::Dense)
        st.cw = ConvWeights{backend->weight(st.w.data(), st.w.size()), backend->weight(st.bias.data(), st.bias.size()), st.co,
                            st.ci, 1, st.kh, st.kw};
  }
};

OnnxGraph::OnnxGraph(std::unique_ptr<Plan> plan) : plan_(std::move(plan)) {}
OnnxGraph::~OnnxGraph() = default;

size_t OnnxGraph::input_size() const { return plan_->in_shape.size(); }
size_t OnnxGraph::output_size() const { return plan_->out_shape.size(); }

std::string OnnxGraph::describe() const {
  return plan_->target.describe() + ", reel kernels (" + std::to_string(plan_->layers) + " layers in " +
         std::to_string(plan_->steps.size()) + " ops)";
}

std::vector<float> OnnxGraph::forward(const float* x, int n) const {
  std::vector<float> r = run(x, n);
  if (!plan_->softmax) return r;
  const size_t k = plan_->out_shape.size();
  for (int t = 0; t < n; ++t) {
    float* q = r.data() + static_cast<size_t>(t) * k;
    const float m = *std::max_element(q, q + k);
    double sum = 0;
    for (size_t j = 0; j < k; ++j) sum += std::exp(static_cast<double>(q[j]) - m);
    for (size_t j = 0; j < k; ++j) q[j] = static_cast<float>(std::exp(static_cast<double>(q[j]) - m) / sum);
  }
  return r;
}

std::vector<float> OnnxGraph::run(const float* x, int n) const {
  if (n < 1) return {};
  const Plan& p = *plan_;
  const Backend& be = *p.backend;
  const Shape& s = p.in_shape;
  Act in(n, s.C, s.H, s.W, Act::Uninit{});
  if (p.nhwc_input) {
    for (int t = 0; t < n; ++t)
      for (int y = 0; y < s.H; ++y)
        for (int xx = 0; xx < s.W; ++xx)
          for (int c = 0; c < s.C; ++c)
            in.v[((static_cast<size_t>(t) * s.C + c) * s.H + y) * s.W + xx] =
                x[((static_cast<size_t>(t) * s.H + y) * s.W + xx) * s.C + c];
  } else {
    std::copy_n(x, in.numel(), in.v.begin());
  }
  std::vector<Tensor> v(p.slots);
  v[0] = be.upload(in);
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const Step& st = p.steps[i];
    Tensor& a = v[st.in];
    switch (st.op) {
      case Op::Conv:
        v[st.out] = be.conv2d(a, st.cw, st.stride, st.pt, st.pl, st.pb, st.pr, nullptr, st.other >= 0 ? &v[st.other] : nullptr);
        break;
      case Op::Depthwise:
        v[st.out] = be.conv2d_depthwise(a, st.cw, st.stride, st.pt);
        break;
      case Op::Relu:
        be.relu_(a);
        break;
      case Op::Clamp:
        be.clamp_(a, st.lo, st.hi);
        break;
      case Op::Pool:
        v[st.out] = be.pool2d(a, st.max, st.k, st.stride, st.pt, st.pl, st.pb, st.pr);
        break;
      case Op::Mean:
        v[st.out] = be.spatial_mean(a);
        break;
      case Op::Add:
        be.add_(a, v[st.other]);
        break;
      case Op::Dense:
        v[st.out] = be.dense(a, st.cw.w, st.cw.b, st.co, nullptr, false);
        break;
    }
    // Activations nothing reads any more go back to the backend as soon as possible.
    for (int slot : {st.in, st.other})
      if (slot >= 0 && slot != p.output && slot != st.out && p.last_use[slot] == static_cast<int>(i)) v[slot] = Tensor{};
  }
  const Act out = be.download(v[p.output]);
  return std::vector<float>(out.v.begin(), out.v.end());
}

std::unique_ptr<OnnxGraph> OnnxGraph::compile(const std::string& onnx_path, const std::vector<int>& input_shape,
                                              const ComputeTarget& target, std::string* why) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(onnx_path, ec)) throw Error(Code::ModelError, "ONNX model " + onnx_path + " not found");
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(onnx_path);
  } catch (const cv::Exception& e) {
    throw Error(Code::ModelError, "ONNX model " + onnx_path + " does not load: " + e.what());
  }
  auto plan = std::make_unique<Plan>();
  plan->target = target;
  const cv::dnn::MatShape shape(input_shape.begin(), input_shape.end());
  try {
    plan->build(net, shape);  // before any forward: OpenCV fuses layers (and their weights) then
  } catch (const NotCovered& n) {
    if (why) *why = n.why;
    return nullptr;
  } catch (const cv::Exception& e) {
    if (why) *why = std::string("OpenCV cannot size its layers: ") + e.what();
    return nullptr;
  }
  plan->upload();
  std::unique_ptr<OnnxGraph> g(new OnnxGraph(std::move(plan)));

  // Once: the same random input through OpenCV DNN and through reel's ops, compared before the
  // softmax (the logits show a wrong layer where saturated probabilities might not).
  const size_t n_in = g->input_size();
  std::vector<float> x(n_in);
  std::mt19937 rng(20261204);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (float& f : x) f = u(rng);
  const bool softmax = g->plan_->softmax;
  const std::vector<float> ours = g->run(x.data(), 1);
  cv::Mat ref;
  try {
    cv::Mat blob(static_cast<int>(shape.size()), shape.data(), CV_32F, x.data());
    net.setInput(blob);
    std::vector<std::string> names = net.getLayerNames();
    std::string last = names.back();
    // The layer before the softmax (Identity layers after it pass its values on unchanged).
    if (softmax)
      for (auto it = names.rbegin(); it != names.rend(); ++it)
        if (net.getLayer(net.getLayerId(*it))->type == "Softmax") {
          last = *std::next(it);
          break;
        }
    ref = net.forward(last);
  } catch (const cv::Exception& e) {
    throw Error(Code::ModelError, "ONNX model " + onnx_path + " does not run in OpenCV DNN: " + e.what());
  }
  if (ref.total() != ours.size())
    throw Error(Code::ModelError, "ONNX model " + onnx_path + ": reel's network gives " + std::to_string(ours.size()) +
                                      " outputs, OpenCV's " + std::to_string(ref.total()));
  double scale = 1, diff = 0;
  const float* r = ref.ptr<float>();
  for (size_t i = 0; i < ours.size(); ++i) scale = std::max(scale, std::fabs(static_cast<double>(r[i])));
  for (size_t i = 0; i < ours.size(); ++i) diff = std::max(diff, std::fabs(static_cast<double>(r[i]) - ours[i]));
  // float32: both sum the same products in other orders (1e-3 of the range is far above that
  // and far below a wrong layer's effect); bf16/f16 keep 8 or 11 bits through every layer.
  const double tol = (target.dtype == DType::F32 ? 1e-3 : 0.1) * scale;
  if (!(diff <= tol))
    throw Error(Code::ModelError, "ONNX model " + onnx_path + ": on " + target.describe() + " reel's network differs from OpenCV DNN's by " +
                                      std::to_string(diff) + " (allowed " + std::to_string(tol) + ")");
  return g;
}

}  // namespace reel
