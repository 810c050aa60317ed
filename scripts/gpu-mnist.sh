#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: trains one MNIST CNN with `--device cuda` and with the CPU,
# and prints both accuracies and the speed-up. Under 5 minutes on an H100/H200 machine.
#
#   scripts/gpu-mnist.sh [path/to/nasbo-cuda]      # default dist/nasbo-cuda (build-cuda.sh)
#
# The binary needs the CUDA 13 libraries (the runtime, cuBLAS, cuRAND, NVRTC): they are looked for in
# $NASBO_CUDA_LIBS, then in every Python environment's `nvidia` wheels (a PyTorch install
# has them), then under /usr/local/cuda*, /usr/lib and /opt.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-dist/nasbo-cuda}
[ -x "$bin" ] || { echo "no binary $bin: run scripts/build-cuda.sh where Rust is"; exit 1; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

find_lib() {
  local dirs=() d py
  [ -n "${NASBO_CUDA_LIBS:-}" ] && dirs+=("$NASBO_CUDA_LIBS")
  for py in python3 python /opt/conda/bin/python /usr/local/bin/python3 "$HOME"/.venv/bin/python /opt/*/bin/python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    d=$("$py" -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]) + "/nvidia")' 2>/dev/null) || continue
    dirs+=("$d")
  done
  dirs+=(/usr/local/cuda*/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64 /opt)
  for d in "${dirs[@]}"; do
    [ -d "$d" ] || continue
    find -L "$d" -maxdepth 5 -name "$1" -print -quit 2>/dev/null
  done | head -1
}
libdirs=""
for lib in 'libcudart.so.13*' 'libcublas.so.13*' 'libcublasLt.so.13*' 'libcurand.so.10*' 'libnvrtc.so.13*'; do
  f=$(find_lib "$lib")
  [ -n "$f" ] || { echo "gpu: $lib not found (set NASBO_CUDA_LIBS to its folder)"; exit 1; }
  libdirs="$libdirs:$(dirname "$f")"
done
export LD_LIBRARY_PATH=${libdirs#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
echo "gpu: CUDA libraries from ${libdirs#:}"

params='{"depth":3,"width":64,"connection":"pool","lr":0.003,"optimizer":"adamw","batch_size":"64","dropout":0.0,"weight_decay":1e-4}'
out=${TMPDIR:-/tmp}/nasbo-gpu-mnist
mkdir -p "$out"
run() {
  timeout 200 "$bin" train --dataset mnist --params "$params" --epochs 3 --seed 0 \
    --device "$1" --out "$out/$1.safetensors" 2>"$out/$1.err" | tail -1
}
cuda=$(run cuda) || { cat "$out/cuda.err"; exit 1; }
cpu=$(run cpu) || { cat "$out/cpu.err"; exit 1; }
echo "cuda: $cuda"
echo "cpu:  $cpu"
python3 - "$cuda" "$cpu" <<'PY'
import json, sys
g, c = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"test accuracy: cuda {g['test_accuracy']:.4f}, cpu {c['test_accuracy']:.4f} "
      f"(difference {abs(g['test_accuracy'] - c['test_accuracy']):.4f})")
print(f"training: cuda {g['train_seconds']:.2f} s, cpu {c['train_seconds']:.2f} s, "
      f"speed-up {c['train_seconds'] / g['train_seconds']:.1f}x")
PY
