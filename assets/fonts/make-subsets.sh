#!/usr/bin/env bash
# Rebuilds the letter fonts: DejaVu Sans (regular, bold) cut down to the Latin scripts of
# the names a Danish hospital meets (Basic Latin, Latin-1, Latin Extended-A and -B, Latin
# Extended Additional), general punctuation and the euro sign. flspost subsets them again
# per letter, to the glyphs that letter uses. Needs fonttools (pip install fonttools) and
# Debian's fonts-dejavu-core. Not run by the build. The name table keeps the copyright
# and names (IDs 0-6); the full license is LICENSE-DejaVu.txt beside this script.
set -euo pipefail
cd "$(dirname "$0")"
src=/usr/share/fonts/truetype/dejavu
unicodes="U+0020-007E,U+00A0-024F,U+1E00-1EFF,U+2000-206F,U+20AC"
for face in DejaVuSans DejaVuSans-Bold; do
  pyftsubset "$src/$face.ttf" --unicodes="$unicodes" --layout-features='' --no-hinting \
    --desubroutinize --name-IDs='0,1,2,3,4,5,6' --output-file="$face-Latin.ttf"
done
cp /usr/share/doc/fonts-dejavu-core/copyright LICENSE-DejaVu.txt
