#!/usr/bin/env bash
# Screenshots of the real app under Xvfb with Mesa's software Vulkan (lavapipe), driven by its
# start-up flags (see `visage --help`): main window, upscaler comparison, each shading mode.
# Also prints the frame time while the worker is busy (turntable on, so every frame renders).
#
#   tools/screenshots.sh            # reconstruct from the fixture photo (needs a method)
#   tools/screenshots.sh FACE.obj   # show a mesh file instead of reconstructing
#
# Needs: xvfb-run (xvfb, xauth), mesa-vulkan-drivers, a release build (cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${VISAGE_BIN:-target/release/visage}
out=screenshots
photo=tests/fixtures/grace_hopper.jpg
crop=150,60,220,260
mkdir -p "$out"

# A private runtime folder, and a fresh home per run: no saved settings leak in or between runs.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -m 700 "$scratch/run"
export XDG_RUNTIME_DIR="$scratch/run"
unset WAYLAND_DISPLAY XDG_DATA_HOME XDG_CONFIG_HOME

if [ $# -ge 1 ]; then
  source_args=(--mesh "$1")
else
  source_args=(--run)
fi

app() {
  local home
  home=$(mktemp -d -p "$scratch")
  HOME="$home" xvfb-run -a -s "-screen 0 1400x900x24" "$bin" "$@"
}

shot() {
  local name=$1
  shift
  app "$@" --screenshot "$out/$name.png"
}

shot main --photo "$photo" --crop "$crop" "${source_args[@]}" --orbit 25,8
shot compare --photo "$photo" --crop "$crop" --simulate 32 --compare
if [ $# -lt 1 ]; then
  # An experimental method (worse than `landmarks` on real photos) on a simulated 32 px face.
  shot small-face-vrn --photo "$photo" --crop "$crop" --simulate 32 --method vrn --run --orbit 25,8
  # The 3D comparison at both window sizes: upscalers on a simulated 32 px face, methods at full
  # resolution.
  for size in 1280,800 1920,1080; do
    tag=${size/,/x}
    app_big() { local home; home=$(mktemp -d -p "$scratch")
      HOME="$home" xvfb-run -a -s "-screen 0 2000x1200x24" "$bin" "$@"; }
    app_big --window "$size" --photo "$photo" --crop "$crop" --simulate 32 --method 3dmm \
      --compare-3d upscalers --screenshot "$out/compare3d-upscalers-$tag.png"
    app_big --window "$size" --photo "$photo" --crop "$crop" --upscaler espcn --shading color \
      --compare-3d methods --screenshot "$out/compare3d-methods-$tag.png"
  done
fi
for shading in lit color wire depth; do
  shot "shading-$shading" --photo "$photo" --crop "$crop" "${source_args[@]}" \
    --shading "$shading" --orbit 25,8
done

# Frame time with the worker busy: the turntable redraws every frame while the worker upscales
# the whole photo x4 with every upscaler.
echo "frame times (turntable on, Xvfb + lavapipe):"
app "${source_args[@]}" --photo "$photo" --compare \
  --view viewport --turntable --frame-stats --screenshot "$scratch/busy.png" | grep '^frames'
