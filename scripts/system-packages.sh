#!/usr/bin/env bash
# The Debian/Ubuntu packages videogen needs, installed if missing (idempotent).
# Used by scripts/install.sh and by the Dockerfile, so the list lives only here.
set -euo pipefail

APT_PACKAGES=(
  python3 python3-venv python3-dev build-essential pkg-config
  libcairo2-dev libpango1.0-dev                      # pycairo and manimpango build from source
  texlive-latex-base texlive-latex-extra dvisvgm preview-latex-style  # MathTex
  libegl1 libegl-mesa0 libgl1-mesa-dri              # headless OpenGL (USE_GPU_ACCELERATION)
  chromium                                           # tests render /docs in a headless browser
  bubblewrap                                        # the render jail (services/renderer/jail.py)
  tesseract-ocr                                     # tests read leaked text off frames (OCR)
  espeak-ng                                         # the narrator's small fallback voice
)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "installing system packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
