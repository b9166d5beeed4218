// The case names a probe declares, read from its C source; and every shipped
// claim file loads with its case names checked against them.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cTokens, loadProbeCases, probeCases } from '../harness/claims/probe-cases.ts';
import { readClaims } from '../harness/claims/spec.ts';
import { listProbes } from '../harness/image/guest.ts';
import { loadProfile } from '../harness/profile/profile.ts';

const repo = join(import.meta.dirname, '..');

t.test('tokens: comments dropped, strings unescaped, char literals are no strings', async (t) => {
  const ts = cTokens('a /* "no" */ b // "nor this"\n"x\\"y" \'"\' c');
  t.same(ts.map((x) => `${x.kind}:${x.text}`), ['id:a', 'id:b', 'str:x"y', `punct:'"'`, 'id:c']);
});

t.test('a case_names[] table, in order, with the literal names of result calls', async (t) => {
  const src = `
    static const char *const case_names[] = {
      "create_file", "writev", /* "commented_out", */
      "readv",
    };
    #define NCASES ((int)(sizeof(case_names) / sizeof(case_names[0])))
    static void run(const char *name) { ktap_result(ok(name, 1), name, "x=%d", 1); }
    int main(void) {
      ktap_plan(NCASES);
      for (c = 0; c < NCASES; c++) ktap_skip(case_names[c], "no file");
      ktap_ok("create_file", "%s", how);
      ktap_result(f(a, b), "writev", "expected ret=%zu", total);
      run(case_names[2]);
      ktap_fail("stray", "not in the table");
    }`;
  t.same(probeCases(src), { names: ['create_file', 'writev', 'readv', 'stray'], complete: true, outsideTable: ['stray'] });
});

t.test('a struct table: the first string of each element, or its .name', async (t) => {
  const src = `
    static const struct { const char *name; enum op op; } cases[] = {
      { "readv_inline", OP_READV },
      { .op = OP_WRITEV, .name = "writev_" "async" },
    };
    void f(int c) { ktap_skip(cases[c].name, "%s", why); }`;
  t.same(probeCases(src), { names: ['readv_inline', 'writev_async'], complete: true, outsideTable: [] });
});

t.test('names built at run time make the list incomplete, never wrong', async (t) => {
  const table = 'static const char *const case_names[] = { "a", "b" };\n';
  const buffer = probeCases(`${table} void f(int c) { char name[64]; snprintf(name, sizeof(name), "%s_%s", MY_ABI, case_names[c]); ktap_ok(name, NULL); }`);
  t.equal(buffer.complete, false, 'a char buffer');
  t.match(buffer.why, /ktap_ok\(\) names a case with the char buffer name/);
  const pasted = probeCases(`${table} void f(void) { ktap_result(ok, "readv_" MY_ABI, NULL); }`);
  t.equal(pasted.complete, false, 'a macro pasted onto a literal');
  t.match(pasted.why, /ktap_result\(\) names a case with ""readv_" MY_ABI"/);
  t.equal(probeCases(`${table} void f(void) { ktap_skip(name_for(c), "x"); }`).complete, false, 'a call');
  t.match(probeCases('static const char *const case_names[] = { "a", PREFIX "b" };').why, /case_names\[\] has an entry that is not a string literal/);
  const noTable = probeCases('void f(const char *name) { ktap_result(ok, name, NULL); ktap_ok("x", NULL); }');
  t.equal(noTable.complete, false, 'no table and a variable name');
  t.match(noTable.why, /no case_names\[\] table, and a case is named by the variable name/);
  t.same(probeCases('int main(void) { ktap_ok("only", NULL); ktap_fail("literals", "x"); }'), { names: ['only', 'literals'], complete: true, outsideTable: [] }, 'literals alone are a full list');
  t.equal(probeCases('int main(void) { return 0; }').complete, false, 'nothing at all');
  t.equal(probeCases(`${table} void f(void) { s.ktap_ok("z", 1); }`).names.includes('z'), false, 'a member named like a result call is not one');
});

t.test('every shipped probe declares its cases in one table it keeps to', async (t) => {
  const all = await loadProbeCases();
  t.same(Object.keys(all), await listProbes(), 'one entry per probe');
  for (const [probe, c] of Object.entries(all)) {
    t.ok(c.complete, `${probe}: complete${c.why ? ` (${c.why})` : ''}`);
    t.same(c.outsideTable, [], `${probe}: every literal result name is in its table`);
    t.equal(new Set(c.names).size, c.names.length, `${probe}: no name twice`);
    t.ok(c.names.length > 0, `${probe}: has cases`);
  }
  t.same(all['io_uring_setup']!.names, ['setup_default', 'setup_sqpoll', 'setup_zero_entries', 'sqpoll_unprivileged']);
});

t.test('every claim file under patches/ loads with its case names checked', async (t) => {
  const cases = await loadProbeCases();
  const probes = await listProbes();
  const profiles = readdirSync(join(repo, 'patches'), { withFileTypes: true }).filter((d) => d.isDirectory() && readdirSync(join(repo, 'patches', d.name)).includes('claims'));
  t.ok(profiles.length > 0, 'some profile has claims');
  for (const d of profiles) {
    const profile = await loadProfile(join(repo, 'patches', d.name));
    const { claims, invalid } = await readClaims(profile, probes, { cases });
    t.same(invalid.map((x) => x.error), [], `${d.name}: no invalid claim file`);
    t.ok(claims.length > 0, `${d.name}: ${claims.length} claims`);
  }
});
