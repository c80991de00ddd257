#!/usr/bin/env bash
# The demo's scripted reviewer. Symphony's `ai_review` gate runs it as a separate session in
# the issue's workspace (read-only by contract: the gate checks nothing was written), with the
# review prompt on stdin, and takes its answer only through the `submit_review` tool — as it
# would from a real reviewer (Codex, Claude). It leaves one remark that does not block: it
# goes to the issue's "Reviewer remarks" after the hand-off.
set -euo pipefail
cat > /dev/null
if git diff --quiet origin/main -- README.md 2>/dev/null; then
  echo '::symphony-tool {"name": "submit_review", "arguments": {"findings": [], "summary": "Nothing to remark on."}}'
  exit 0
fi
last=$(wc -l < README.md)
cat <<JSON
::symphony-tool {"name": "submit_review", "arguments": {"findings": [{"file": "README.md", "start_line": ${last}, "end_line": ${last}, "severity": "low", "category": "docs", "message": "Consider linking this from the table of contents.", "suggested_fix": "Add a contents list at the top of README.md."}], "summary": "Reads well; one remark on the docs."}}
JSON
