#!/bin/sh
# Regenerates the chart's two font subsets from Debian's fonts-noto-cjk
# (apt-get install fonts-noto-cjk; pip install fonttools). See README.md here.
set -eu
cd "$(dirname "$0")/../.."
text=$(mktemp)
trap 'rm -f "$text"' EXIT
cat assets/fonts/chart-chars.txt templates/ja/*.txt >"$text"
for weight in Regular Bold; do
    pyftsubset "/usr/share/fonts/opentype/noto/NotoSansCJK-$weight.ttc" --font-number=0 \
        --unicodes=U+0020-007E --text-file="$text" \
        --layout-features='' --no-hinting --drop-tables+=vhea,vmtx,VORG,BASE \
        --output-file="assets/fonts/NotoSansCJKjp-$weight-subset.otf"
done
