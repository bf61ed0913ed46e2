// SPDX-License-Identifier: Apache-2.0
#include "reel/pipeline/pipeline_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "reel/core/status.h"

namespace reel {

namespace {

[[noreturn]] void fail(const std::string& path, const YAML::Mark& at, const std::string& what) {
  throw Error(Code::InvalidArgument, path + ":" + std::to_string(at.line + 1) + ": " + what);
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// A plain (unquoted) true/false is a flag; a quoted "true" is a value.
bool plain_bool(const YAML::Node& n, bool* v) {
  if (!n.IsScalar() || n.Tag() == "!") return false;
  const std::string s = n.Scalar();
  if (s == "true" || s == "True" || s == "yes") return *v = true, true;
  if (s == "false" || s == "False" || s == "no") return *v = false, true;
  return false;
}

PipelineOption option(const std::string& path, const YAML::Node& key, const YAML::Node& value) {
  PipelineOption o;
  o.line = key.Mark().line + 1;
  if (!key.IsScalar() || key.Scalar().empty()) fail(path, key.Mark(), "an option name must be a word");
  std::string name = key.Scalar();
  while (!name.empty() && name[0] == '-') name.erase(0, 1);
  for (char& c : name)
    if (c == '_') c = '-';
  if (name.empty()) fail(path, key.Mark(), "an option name must be a word");
  o.name = (name.size() == 1 ? "-" : "--") + name;
  bool b = false;
  if (value.IsNull() || (plain_bool(value, &b) && b)) return o;  // a flag
  if (plain_bool(value, &b)) {
    o.name.clear();  // false: left out
    return o;
  }
  if (value.IsScalar()) {
    o.values.push_back(value.Scalar());
  } else if (value.IsSequence()) {
    for (const auto& v : value) {
      if (!v.IsScalar()) fail(path, v.Mark(), o.name + ": a list of values must hold plain values");
      o.values.push_back(v.Scalar());
    }
    if (o.values.empty()) fail(path, value.Mark(), o.name + ": an empty list");
  } else {
    fail(path, value.Mark(), o.name + ": a mapping is not an option value");
  }
  return o;
}

PipelineStep step(const std::string& path, const YAML::Node& n) {
  PipelineStep s;
  s.line = n.Mark().line + 1;
  YAML::Node opts;
  if (n.IsScalar()) {
    s.command = words(n.Scalar());
  } else if (n.IsMap() && n.size() == 1) {
    const auto it = n.begin();
    if (!it->first.IsScalar()) fail(path, n.Mark(), "a stage is named by a word");
    s.command = words(it->first.Scalar());
    opts = it->second;
  } else {
    fail(path, n.Mark(), "a stage is its name, or its name with a mapping of options (- filter: {score-only: true})");
  }
  if (s.command.empty()) fail(path, n.Mark(), "a stage without a name");
  if (opts && !opts.IsNull()) {
    if (!opts.IsMap()) fail(path, opts.Mark(), s.command[0] + ": options must be a mapping (name: value)");
    for (const auto& kv : opts) {
      PipelineOption o = option(path, kv.first, kv.second);
      if (!o.name.empty()) s.options.push_back(std::move(o));
    }
  }
  return s;
}

}  // namespace

PipelineFile parse_pipeline(const std::string& text, const std::string& path) {
  PipelineFile f;
  f.path = path;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail(path, e.mark, "not YAML: " + e.msg);
  }
  if (!root.IsMap()) fail(path, root.Mark(), "the file must be a mapping with a 'stages' list");
  try {
    for (const auto& kv : root) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      if (key == "stages") {
        if (!kv.second.IsSequence() || kv.second.size() == 0) fail(path, kv.second.Mark(), "'stages' must be a list of stages");
        for (const auto& n : kv.second) f.steps.push_back(step(path, n));
      } else if (key == "inputs") {
        const YAML::Node& v = kv.second;
        if (v.IsScalar()) f.inputs.push_back(v.Scalar());
        else if (v.IsSequence())
          for (const auto& i : v) {
            if (!i.IsScalar()) fail(path, i.Mark(), "'inputs' must list paths");
            f.inputs.push_back(i.Scalar());
          }
        else fail(path, v.Mark(), "'inputs' must list paths");
      } else {
        fail(path, kv.first.Mark(), "unknown key '" + key + "' (the file has 'stages' and optionally 'inputs')");
      }
    }
  } catch (const YAML::Exception& e) {
    fail(path, e.mark, e.msg);
  }
  if (f.steps.empty()) fail(path, root.Mark(), "no 'stages'");
  return f;
}

PipelineFile load_pipeline_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(Code::InvalidArgument, "cannot read the pipeline file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_pipeline(ss.str(), path);
}

std::vector<std::string> step_words(const PipelineStep& s) {
  std::vector<std::string> w = s.command;
  for (const auto& o : s.options) {
    if (o.values.empty()) w.push_back(o.name);
    for (const auto& v : o.values) {
      w.push_back(o.name);
      w.push_back(v);
    }
  }
  return w;
}

}  // namespace reel
