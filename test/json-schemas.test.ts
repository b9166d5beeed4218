// Every JSON document kseries writes carries its kind and schema version and
// validates against schemas/<kind>.schema.json. The documents here come from
// the CLI on recorded console logs and from the report code on the claims
// fixtures; the CLI tests (claims, bisect, review, interrupt) and the
// end-to-end tests validate the ones they make too.
import t from 'tap';
import { execa } from 'execa';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateClaims } from '../harness/claims/evaluate.ts';
import { toClaimsJson } from '../harness/claims/report.ts';
import { DOCUMENTS } from '../harness/report/documents.ts';
import { schemaErrors } from './fixtures/json/validate.ts';
import { loadFixtureClaims, results } from './fixtures/claims/helpers.ts';

const repo = join(import.meta.dirname, '..');
const consoleDir = join(repo, 'test/fixtures/console');

t.test('results JSON of kseries parse validates, for every recorded console log', async (t) => {
  const logs = readdirSync(consoleDir).filter((f) => f.endsWith('.log'));
  t.ok(logs.length >= 8);
  for (const f of logs) {
    const r = await execa('node', [join(repo, 'bin/kseries.js'), 'parse', join(consoleDir, f), '--json', '-'], { reject: false });
    const doc = JSON.parse(r.stdout) as { kind: string; schema: number };
    t.same([doc.kind, doc.schema], ['kseries-results', 1], f);
    t.same(schemaErrors(doc), [], `${f} validates`);
  }
});

t.test('claims JSON validates', async (t) => {
  const claims = await loadFixtureClaims();
  const doc = toClaimsJson(evaluateClaims(claims, results()), claims, {
    profile: 'p', kernelVersion: '6.1', base: 'b', variants: {}, compiler: 'gcc', qemu: 'q', accel: 'tcg', commands: [], treeName: 't', publicCommand: 'c', localDirs: [],
  }, [{ id: 'bad', file: 'claims/bad.json', error: 'claim claims/bad.json: x: y' }]);
  t.same(schemaErrors(doc), []);
  t.equal(doc.kind, 'kseries-claims');
});

t.test('the schemas are not a formality: a document that breaks one is reported', async (t) => {
  t.match(schemaErrors({ kind: 'kseries-results', schema: 1, run: {}, status: 'GREAT', exitCode: 0, probes: [], findings: [] }).join('\n'), /\/status must be equal to one of the allowed values/);
  t.match(schemaErrors({ kind: 'kseries-bisect', schema: 2, status: 'found', steps: [] }).join('\n'), /\/schema must be equal to constant/);
  t.match(schemaErrors({ kind: 'kseries-review', schema: 1, messageId: 'x' }).join('\n'), /must have required property 'title'/);
  t.match(schemaErrors({ schema: 1 }).join('\n'), /no schema for kind undefined/);
  t.same(Object.values(DOCUMENTS).map((d) => d.kind).sort(), ['kseries-bisect', 'kseries-claims', 'kseries-results', 'kseries-review']);
});
