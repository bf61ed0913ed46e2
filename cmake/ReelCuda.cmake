# CUDA is optional. check_language() probes for nvcc without failing; the backend is
# compiled whenever nvcc exists, so CI (no GPU) still catches kernel compile errors.
# Nothing links the driver API (libcuda), so binaries start on machines without a driver.
set(REEL_HAVE_CUDA OFF)
set(REEL_CUDA_SUMMARY "")
if(NOT REEL_CUDA STREQUAL "OFF")
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    # A100 (sm_80), H100/H200 (sm_90), B200 (sm_100), each as machine code and PTX; never
    # "native" (the build machines have no GPU).
    set(CMAKE_CUDA_ARCHITECTURES 80 90 100)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(REEL_HAVE_CUDA ON)
    set(REEL_CUDA_SUMMARY "(nvcc ${CMAKE_CUDA_COMPILER_VERSION}, archs ${CMAKE_CUDA_ARCHITECTURES})")
  elseif(REEL_CUDA STREQUAL "ON")
    message(FATAL_ERROR "REEL_CUDA=ON but no CUDA compiler was found")
  endif()
endif()
