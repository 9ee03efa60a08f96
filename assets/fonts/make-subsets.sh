#!/usr/bin/env bash
# Rebuilds the letter fonts: DejaVu Sans (regular, bold) cut down to the characters that
# PDF's WinAnsiEncoding can address (ASCII, Latin-1 and the 0x80-0x9F extras such as
# curly quotes, dashes and the euro sign). Smaller font = smaller letters and faster PDFs.
# Needs fonttools (pip install fonttools) and fonts-dejavu-core. Not run by the build.
set -euo pipefail
cd "$(dirname "$0")"
src=/usr/share/fonts/truetype/dejavu
unicodes="U+0020-007E,U+00A0-00FF,U+20AC,U+201A,U+0192,U+201E,U+2026,U+2020,U+2021,U+02C6,U+2030,U+0160,U+2039,U+0152,U+017D,U+2018,U+2019,U+201C,U+201D,U+2022,U+2013,U+2014,U+02DC,U+2122,U+0161,U+203A,U+0153,U+017E,U+0178"
for face in DejaVuSans DejaVuSans-Bold; do
  pyftsubset "$src/$face.ttf" --unicodes="$unicodes" --layout-features='' --no-hinting \
    --desubroutinize --name-IDs='*' --output-file="$face-WinAnsi.ttf"
done
cp /usr/share/doc/fonts-dejavu-core/copyright LICENSE-DejaVu.txt
