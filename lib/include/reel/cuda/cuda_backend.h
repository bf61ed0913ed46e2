// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's host interface (implemented in kernels/, compiled only when nvcc was
// found). No CUDA types appear here, so the library's headers stay CUDA-free.
//
// Device discovery never touches the driver from static initialisers; a machine without a
// driver or device reports zero devices with the reason (cudaErrorNoDevice,
// cudaErrorInsufficientDriver, ...), and every CPU path keeps working.
#pragma once
#include <string>

namespace reel {
struct Act;
}

namespace reel::cuda {

int device_count(std::string* why_none);
std::string device_description(int index);

// Haar patcher on the GPU (host in, host out); same contract as haar_patch3d/haar_patch2d.
// Throws Error(DeviceUnavailable) without a device.
Act haar_patch3d(const Act& x, int patch, int device = 0);
Act haar_patch2d(const Act& x, int patch, int device = 0);

}  // namespace reel::cuda
