# Every dependency comes from Debian 12 packages (see .ci/run for the list).
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBAV REQUIRED IMPORTED_TARGET
  libavformat libavcodec libavfilter libavutil libswscale)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(Threads REQUIRED)

# OpenBLAS: Debian ships the pthread flavour as the default libopenblas.
find_path(REEL_CBLAS_INCLUDE cblas.h PATHS /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas)
find_library(REEL_BLAS_LIB NAMES openblas)
if(NOT REEL_BLAS_LIB OR NOT REEL_CBLAS_INCLUDE)
  message(FATAL_ERROR "OpenBLAS not found (apt-get install libopenblas-dev)")
endif()

# OpenCV: only core+imgproc are needed; Debian's -dev packages for them ship no CMake config.
find_path(REEL_OPENCV_INCLUDE opencv2/imgproc.hpp PATHS /usr/include/opencv4)
find_library(REEL_OPENCV_CORE NAMES opencv_core)
find_library(REEL_OPENCV_IMGPROC NAMES opencv_imgproc)
if(NOT REEL_OPENCV_INCLUDE OR NOT REEL_OPENCV_CORE OR NOT REEL_OPENCV_IMGPROC)
  message(FATAL_ERROR "OpenCV core/imgproc not found (apt-get install libopencv-imgproc-dev)")
endif()
