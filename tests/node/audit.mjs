// The GraphQL-over-HTTP audit of the `graphql-http` package against a running server, as an
// authenticated caller (every request carries the given JWT). Prints one JSON line per audit
// ({id, name, status, reason}) and exits 1 when any audit did not pass.
//
//   node audit.mjs http://127.0.0.1:8080/graphql <jwt>
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};
const results = await auditServer({ url, fetchFn });
let failed = 0;
for (const r of results) {
  if (r.status !== 'ok') failed += 1;
  console.log(
    JSON.stringify({
      id: r.id,
      name: r.name,
      status: r.status,
      reason: r.status === 'ok' ? undefined : r.reason,
      body: r.status === 'ok' ? undefined : await r.response?.text?.().catch(() => undefined),
    }),
  );
}
process.exit(failed === 0 ? 0 : 1);
