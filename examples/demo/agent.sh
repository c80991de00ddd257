#!/usr/bin/env bash
# The demo's scripted agent: one turn. Symphony runs it in the issue's workspace (a git
# worktree on branch symphony/<issue>) with the prompt on stdin. On DEMO-1 it commits a
# credential by mistake; when Symphony's secrets gate sends that back, it removes the key and
# rewrites its commit. When a review of DEMO-2 asks for changes, it answers them. Asked for a
# plan (DEMO-4), it writes only the decision record; once the plan is approved, it implements
# it. It never moves its issue: Symphony hands passing work off itself.
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
  *"## Plan before code"*)
    # A planning run: the plan only, as a decision record where Symphony says it goes.
    adr=$(printf '%s\n' "$prompt" | sed -n 's/.*decision record in Markdown at `\([^`]*\)`.*/\1/p' | head -n 1)
    mkdir -p "$(dirname "$adr")"
    cat > "$adr" <<'ADR'
# Add a contributing guide

- Status: proposed

## Context

Contributors ask how a change gets into this project; nothing says so today.

## Decision

Add `CONTRIBUTING.md` at the repository root: how to propose a change, how it is checked
(`./check.sh`), and how it is reviewed. Link it from the README.

## Alternatives

- A section in the README: the README is for users, not contributors.
- A wiki page: it would not travel with the code or be reviewed with it.

## Consequences

One more file to keep true; it is reviewed like code.
ADR
    say "wrote the plan in $adr (no code yet)"
    ;;
  *"## Approved plan"*)
    # The coding run of an approved plan: it does what the plan says.
    printf '# Contributing\n\nPropose a change as a pull request. Run `./check.sh` first; a maintainer reviews it.\n' > CONTRIBUTING.md
    printf '\nContributors: see CONTRIBUTING.md.\n' >> README.md
    say "implemented the approved plan: CONTRIBUTING.md, linked from the README"
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
