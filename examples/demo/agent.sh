#!/usr/bin/env bash
# The demo's scripted agent: one turn. Symphony runs it in the workspace (a git
# worktree on branch symphony/<issue>) with the prompt on stdin. On DEMO-1 it commits a
# credential by mistake; when Symphony's secrets gate sends that back, it removes the key and
# rewrites its commit. When a review of DEMO-2 asks for changes, it answers them. It never
# moves its issue: Symphony hands passing work off itself.
set -euo pipefail
prompt=$(cat)
say() {
  echo "$*"
  echo "${SYMPHONY_ISSUE_IDENTIFIER} turn ${SYMPHONY_TURN}: $*" >> ../../agent.log
}
agent_git() { git -c user.name="Demo Agent" -c user.email=agent@example.com "$@"; }

case "$prompt" in
  *"## Review round"*)
    # A reviewer's feedback on the handed-off change: answered with a new commit on the same
    # branch (Symphony commits what is left uncommitted and pushes fast-forward only).
    printf '\nRun it from the repository root with `bash ./check.sh`.\n' >> README.md
    say "addressed the review: said how to run check.sh"
    ;;
  *"quality gates"*)
    # Gate feedback. A pushed branch carries its history, so the fix rewrites the commit.
    grep -v '^AWS_' config/deploy.env > config/deploy.env.tmp || true
    mv config/deploy.env.tmp config/deploy.env
    agent_git add -A
    agent_git commit --quiet --amend --no-edit
    say "removed the credential from config/deploy.env and amended the commit"
    ;;
  *)
    case "$SYMPHONY_ISSUE_IDENTIFIER" in
      DEMO-1)
        { echo "Welcome, new contributor: start with the issues labelled good-first-issue."; echo; cat README.md; } > README.new
        mv README.new README.md
        mkdir -p config
        # The mistake: a (fake) cloud key pasted into a config file and committed.
        printf 'REGION=eu-west-1\nAWS_ACCESS_KEY_ID=AKIAQ3EGRT5YK2PJZW4X\n' > config/deploy.env
        agent_git add -A
        agent_git commit --quiet -m "Greet new contributors; add deploy settings"
        say "added a greeting and deploy settings, and committed them"
        ;;
      DEMO-2)
        printf '\n## Testing\n\nRun `./check.sh` before sending a change.\n' >> README.md
        say "added a Testing section (left uncommitted: Symphony commits it)"
        ;;
      *)
        printf '\n- %s: done by the demo agent\n' "$SYMPHONY_ISSUE_IDENTIFIER" >> README.md
        say "edited README.md"
        ;;
    esac
    ;;
esac
