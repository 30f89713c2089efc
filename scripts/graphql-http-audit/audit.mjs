// Runs graphql-http's GraphQL-over-HTTP server audit against one endpoint
// and prints every MUST and SHOULD result (and the MAY ones not met).
// Exit status: 1 when any MUST or SHOULD is not met (the server meets them
// all, so one that fails is a regression), 2 when the audit could not run.
//
//	node audit.mjs http://127.0.0.1:8080/graphql
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs GRAPHQL_URL');
  process.exit(2);
}
if (!/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(url)) {
  console.error('refusing to audit a non-loopback URL:', url);
  process.exit(2);
}

// Every fetch the audit makes is bounded in time.
const fetchFn = (input, init = {}) =>
  fetch(input, { ...init, signal: AbortSignal.timeout(10_000) });

let results;
try {
  results = await auditServer({ url, fetchFn });
} catch (err) {
  console.error('audit could not run:', err);
  process.exit(2);
}

const counts = { MUST: { ok: 0, fail: 0 }, SHOULD: { ok: 0, fail: 0 }, MAY: { ok: 0, fail: 0 } };
for (const r of results) {
  const level = r.name.split(' ')[0];
  const ok = r.status === 'ok';
  counts[level][ok ? 'ok' : 'fail']++;
  if (level === 'MAY' && ok) continue;
  const mark = ok ? 'PASS' : level === 'MUST' ? 'FAIL' : level === 'SHOULD' ? 'WARN' : 'NOTE';
  console.log(`${mark}  ${r.id}  ${r.name}`);
  if (!ok) {
    console.log(`        reason: ${r.reason}`);
    try {
      const res = r.response;
      const body = await res.clone().text();
      console.log(`        got: ${res.status} ${res.headers.get('content-type') ?? '(no content-type)'} ${body.slice(0, 200).replace(/\s+/g, ' ')}`);
    } catch {
      // the body was already read by the audit
    }
  }
}
console.log('');
console.log(`MUST:   ${counts.MUST.ok} passed, ${counts.MUST.fail} failed`);
console.log(`SHOULD: ${counts.SHOULD.ok} passed, ${counts.SHOULD.fail} not met`);
console.log(`MAY:    ${counts.MAY.ok} passed, ${counts.MAY.fail} not met (only those not met are listed, as NOTE)`);
if (counts.MUST.fail + counts.SHOULD.fail > 0) {
  console.log('FAIL: a MUST or SHOULD of GraphQL over HTTP is not met');
  process.exit(1);
}
process.exit(0);
