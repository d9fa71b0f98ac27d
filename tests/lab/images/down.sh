#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The images component has no process: its images live in the sources' registry and its release files in
# the files mirror (both go with `lab.sh down sources --purge`). Down only forgets that it was up.
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
rm -f "$LAB_DIR/images.env"
