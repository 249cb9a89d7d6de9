#!/usr/bin/env bash
# The weekly job's shell step: run `trustctl update` and turn its exit code into outputs.
# 0: nothing changed (changed=false); 1: the policy was rewritten, open a pull request
# (changed=true); anything else fails the job. Then `trustctl check` must find the policy
# what its ledger records and the evidence gives (a hand edit, a lost or edited ledger, other
# rules fail the job). Used by action.yml and examples/gitlab-ci.yml.
#
# Environment: TRUSTCTL_LOGS (paths, split on spaces), TRUSTCTL_POLICY (default policy.yaml),
# TRUSTCTL_RULES (optional), TRUSTCTL_OUT (where the body and summary go; default
# $RUNNER_TEMP or /tmp). GITHUB_OUTPUT and GITHUB_STEP_SUMMARY are written when set.
set -euo pipefail

policy=${TRUSTCTL_POLICY:-policy.yaml}
out=${TRUSTCTL_OUT:-${RUNNER_TEMP:-/tmp}}
body="$out/trustctl-body.md"
summary="$out/trustctl-summary.json"
read -r -a logs <<<"${TRUSTCTL_LOGS:?set TRUSTCTL_LOGS to the decision logs}"
rules=()
if [ -n "${TRUSTCTL_RULES:-}" ]; then rules=(--rules "$TRUSTCTL_RULES"); fi

status=0
trustctl update "${logs[@]}" --policy "$policy" "${rules[@]}" \
    --pr-body "$body" --summary-json "$summary" || status=$?
case $status in
    0) changed=false ;;
    1) changed=true ;;
    *) echo "trustctl update failed with exit code $status" >&2; exit "$status" ;;
esac
trustctl check "${logs[@]}" --policy "$policy" "${rules[@]}"
title=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["title"])' "$summary")

if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
        echo "changed=$changed"
        echo "title=$title"
        echo "body-file=$body"
        echo "summary-file=$summary"
    } >>"$GITHUB_OUTPUT"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat "$body" >>"$GITHUB_STEP_SUMMARY"
fi
echo "changed=$changed"
