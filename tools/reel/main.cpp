// SPDX-License-Identifier: Apache-2.0
// reel: turns raw video into training data. One binary, one subcommand per stage.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "common.h"
#include <unistd.h>

#include "reel/core/backend.h"
#include "reel/core/cancel.h"
#include "reel/core/log.h"
#include "reel/media/hwaccel.h"
#include "reel/media/limits.h"
#include "reel/storage/remote_file.h"
#include "reel/storage/s3.h"

namespace {
// First signal: stop taking records and finish cleanly. Second: leave at once.
void on_signal(int) {
  if (reel::cancel_requested()) _exit(reel::kExitInterrupted);
  reel::request_cancel();
}

std::string version_text() {
  std::string s = "reel " REEL_VERSION " (git " REEL_GIT_REV ")\nbackends compiled: cpu";
  if (reel::cuda_compiled()) s += ", cuda";
  return s;
}
// What the remote reads cost, for users tuning a job over an object store.
void report_transfers() {
  const auto& t = reel::transfer_stats();
  if (t.requests == 0) return;
  REEL_INFO("remote", "%llu requests, %.1f MB read, %llu retried", static_cast<unsigned long long>(t.requests.load()),
            static_cast<double>(t.bytes.load()) / 1e6, static_cast<unsigned long long>(t.retries.load()));
}
}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"reel: turn raw video into training data for video and world models"};
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);
  app.footer(reel::cli::exit_code_footer());
  auto& g = reel::cli::globals();
  app.add_option("--log-level", g.log_level, "quiet|error|warning|info|verbose|debug|trace")
      ->capture_default_str()->envname("REEL_LOG_LEVEL");
  app.add_option("--progress", g.progress, "Progress bar on stderr: auto (TTY only)|always|never")
      ->capture_default_str()->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_option("-j,--threads", g.threads, "Compute threads one record uses (0 = all cores); see --workers")->capture_default_str()
      ->envname("REEL_THREADS");
  app.add_option("--s3-endpoint", g.s3_endpoint,
                 "S3-compatible store for s3:// inputs and outputs (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the "
                 "profile's endpoint_url, else AWS)");
  app.add_option("--max-pixels", g.limits.max_pixels,
                 "Refuse videos whose frames have more pixels than this, before decoding one (0 = no bound)")
      ->capture_default_str()->envname("REEL_MAX_PIXELS")->check(CLI::NonNegativeNumber);
  app.add_option("--max-frames", g.limits.max_frames, "Refuse videos with more frames than this (0 = no bound)")
      ->capture_default_str()->envname("REEL_MAX_FRAMES")->check(CLI::NonNegativeNumber);
  app.add_option("--hwaccel", g.hwaccel,
                 "Decode video on the GPU: cuda (NVDEC through FFmpeg; without a device, or for a codec NVDEC lacks, "
                 "decodes on the CPU and logs why)|none")
      ->capture_default_str()->envname("REEL_HWACCEL")->check(CLI::IsMember({"none", "cuda"}));
  app.add_option("--s3-profile", g.s3_profile, "Profile of ~/.aws/credentials and ~/.aws/config (default: AWS_PROFILE, else default)");

  int exit_code = 0;
  reel::cli::register_all(app, &exit_code);

  app.parse_complete_callback([&] {
    reel::LogLevel lvl;
    if (!reel::log_parse_level(g.log_level, &lvl)) throw CLI::ValidationError("--log-level", "unknown level " + g.log_level);
    reel::log_set_level(lvl);
    reel::set_s3_overrides(g.s3_endpoint, g.s3_profile);
    reel::set_media_limits(g.limits);
    reel::set_default_hwaccel(reel::parse_hwaccel(g.hwaccel));
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return reel::kExitUsage;  // CLI11 would use 100+; our contract says 2
  } catch (const reel::Error& e) {
    REEL_ERROR("reel", "%s", e.what());
    // A fatal error is never "some records failed": a missing input file is a usage error.
    reel::Code c = e.code();
    if (c == reel::Code::NotFound || c == reel::Code::InvalidData) c = reel::Code::InvalidArgument;
    if (c == reel::Code::IoError) c = reel::Code::OutputError;
    return reel::exit_code_for(c);
  } catch (const std::bad_alloc&) {
    REEL_ERROR("reel", "out of memory");
    return reel::kExitInternal;
  } catch (const std::exception& e) {
    REEL_ERROR("reel", "internal error: %s", e.what());
    return reel::kExitInternal;
  }
  report_transfers();
  if (reel::cancel_requested()) return reel::kExitInterrupted;
  return exit_code;
}
