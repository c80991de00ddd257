#!/usr/bin/env bash
# The demo's stand-in agent: one turn. Symphony runs it in the workspace with the
# prompt on stdin. It does the "work", then asks Symphony (host-side) to move the issue.
set -euo pipefail
prompt=$(cat)
echo "turn ${SYMPHONY_TURN} on ${SYMPHONY_ISSUE_IDENTIFIER}: read a prompt of ${#prompt} bytes"
printf '\n%s\n' "- ${SYMPHONY_ISSUE_IDENTIFIER}: done by the demo agent" >> README.md
echo "edited README.md"
# A record outside the workspace: workspaces of done issues are removed.
echo "${SYMPHONY_ISSUE_IDENTIFIER} turn ${SYMPHONY_TURN}: edited README.md in $(pwd)" >> ../../agent.log
echo '::symphony-tool {"name": "local_issue_set_state", "arguments": {"state": "done"}}'
