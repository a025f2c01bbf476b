#!/usr/bin/env bash
# Extract messages, merge them into the Persian catalogue, and compile it.
#   tools/i18n.sh            extract + update + compile
#   tools/i18n.sh compile    compile only
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
if [ "${1:-}" != "compile" ]; then
  "$PYBABEL" extract -F babel.cfg -k N_ -k _l -k lazy_gettext -k NP_:1c,2 -k lazy_pgettext:1c,2 \
    --no-location --sort-output --omit-header -o translations/messages.pot . >/dev/null
  for locale in fa en; do
    if [ -f "translations/$locale/LC_MESSAGES/messages.po" ]; then
      "$PYBABEL" update -i translations/messages.pot -d translations -l "$locale" --no-fuzzy-matching --ignore-obsolete >/dev/null
    else
      "$PYBABEL" init -i translations/messages.pot -d translations -l "$locale" >/dev/null
    fi
  done
fi
"$PYBABEL" compile -d translations --use-fuzzy >/dev/null 2>&1 || "$PYBABEL" compile -d translations >/dev/null
echo "catalogues compiled"
