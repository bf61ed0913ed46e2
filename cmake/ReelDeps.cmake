# Every dependency comes from Debian 12 packages (see .ci/run for the list).
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBAV REQUIRED IMPORTED_TARGET
  libavformat libavcodec libavfilter libavutil libswscale)
# Tesseract (text overlay in reel filter), with its English data from tesseract-ocr-eng.
pkg_check_modules(TESSERACT REQUIRED IMPORTED_TARGET tesseract lept)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
# libarchive: the WebDataset tars of reel shard.
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)
# libxml2: S3's XML answers (listings, uploads); libcrypto: their payload hashes (SigV4 itself
# is libcurl's).
pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0)
pkg_check_modules(LIBCRYPTO REQUIRED IMPORTED_TARGET libcrypto)
find_package(CLI11 CONFIG REQUIRED)
# yaml-cpp: reel run's pipeline files.
find_package(yaml-cpp CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(Threads REQUIRED)

# OpenBLAS, OpenMP flavour: its threads are the same OpenMP pool as our own loops. The
# default pthread flavour would run a second pool that competes for the cores (seen as
# half the time spent spinning in libgomp and sched_yield on 2 cores).
find_path(REEL_CBLAS_INCLUDE cblas.h PATHS /usr/include/x86_64-linux-gnu/openblas-openmp
          /usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp NO_DEFAULT_PATH)
find_library(REEL_BLAS_LIB NAMES openblas PATHS /usr/lib/x86_64-linux-gnu/openblas-openmp
             /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp NO_DEFAULT_PATH)
if(NOT REEL_BLAS_LIB OR NOT REEL_CBLAS_INCLUDE)
  message(FATAL_ERROR "OpenBLAS (OpenMP flavour) not found (apt-get install libopenblas-openmp-dev)")
endif()

# OpenCV: core, imgproc, imgcodecs (JPEG previews), dnn (users' ONNX feature networks) and video (DIS optical flow);
# Debian's per-module -dev packages ship no CMake config, so the libraries are found one by one.
find_path(REEL_OPENCV_INCLUDE opencv2/imgproc.hpp PATHS /usr/include/opencv4)
set(REEL_OPENCV_LIBS)
foreach(m core imgproc imgcodecs dnn video)
  find_library(REEL_OPENCV_${m} NAMES opencv_${m})
  if(NOT REEL_OPENCV_${m} OR NOT REEL_OPENCV_INCLUDE)
    message(FATAL_ERROR "OpenCV ${m} not found (apt-get install libopencv-${m}-dev)")
  endif()
  list(APPEND REEL_OPENCV_LIBS ${REEL_OPENCV_${m}})
endforeach()
set(REEL_OPENCV_CORE ${REEL_OPENCV_core})
