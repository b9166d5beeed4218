// The HTML page (harness/report/html.ts): a matrix of several variants from
// recorded consoles, the claims of the fixtures, a bisection's prefix line,
// each rendered by headless Chromium; the screenshots stay in runs/test-artefacts/.
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConsole } from '../harness/console/parse-console.ts';
import { bisectSection, claimsSection, htmlPage, matrixSection } from '../harness/report/html.ts';
import { buildMatrix } from '../harness/report/matrix.ts';
import { chromiumMissing, pixelsOf, readPng, screenshot } from './fixtures/html/screenshot.ts';

const repo = join(import.meta.dirname, '..');
const artefacts = join(repo, 'runs', 'test-artefacts');
const log = (f: string) => parseConsole(readFileSync(join(repo, 'test/fixtures/console', f), 'utf8'));

function page() {
  const m = buildMatrix([{ variant: 'base', result: log('all-pass.log') }, { variant: 'fix', result: log('probe-fail.log') }, { variant: 'warned', result: log('warning-splat.log') }], 'base');
  const claims = claimsSection([
    { id: 'compat-refused', verdict: 'confirmed', who: 'Reviewer, 2020-09-22', claim: 'The fix refuses <compat> rings & nothing else.', reason: 'fix io_uring_setup:compat is FAIL', evidence: [['io_uring_setup:compat setup_sqpoll', 'fix', 'FAIL ret=-1 errno=22 EINVAL']] },
    { id: 'native-untouched', verdict: 'refuted', unexpected: true, who: 'Reviewer, 2020-09-23', claim: 'Native rings are untouched.', reason: 'x', evidence: [] },
  ]);
  const bisect = bisectSection(9, [{ k: 0, state: 'good' }, { k: 9, state: 'bad' }, { k: 4, state: 'good' }, { k: 6, state: 'good' }, { k: 7, state: 'good' }, { k: 8, state: 'bad' }], 8, (k) => (k === 0 ? 'the base' : `patch ${k}/9`));
  return { m, html: htmlPage('kseries run', '3 variants', [matrixSection(m), claims, bisect]) };
}

t.test('the page is self-contained and escapes what it shows', async (t) => {
  const { m, html } = page();
  t.ok(html.startsWith('<!DOCTYPE html>'));
  t.notMatch(html, /<script|<link|src=|https?:\/\//, 'no script, no external resource');
  t.match(html, /The fix refuses &lt;compat&gt; rings &amp; nothing else\./);
  t.equal((html.match(/<tr><td>/g) ?? []).length, m.rows.length + 2 + 1, 'a row per probe × ABI, per claim and per evidence line');
  t.match(html, /<td class="FAIL" title="[^"]*">FAIL<span class="mark">Δbase<\/span><\/td>/, 'a changed cell is marked');
  t.match(html, /<div class="bad first" title="patch 8\/9: bad">8<\/div>/, 'the first bad prefix is outlined');
  t.match(html, /<div class="untested" title="patch 5\/9: untested">5<\/div>/);
  t.match(html, /<span class="unexpected">UNEXPECTED<\/span>/);
});

t.test('headless Chromium renders it: pass green, fail red, in a screenshot kept as an artefact', { skip: chromiumMissing() ?? false }, async (t) => {
  const { html } = page();
  mkdirSync(artefacts, { recursive: true });
  const file = join(artefacts, 'html-report.html');
  const png = join(artefacts, 'html-report.png');
  writeFileSync(file, html);
  screenshot(file, png);
  const img = readPng(png);
  t.equal(img.width, 1280);
  t.ok(pixelsOf(img, '#cdeccd') > 500, 'green PASS cells are drawn');
  t.ok(pixelsOf(img, '#f6c6c6') > 200, 'red FAIL cells are drawn');
  t.ok(pixelsOf(img, '#b00000') > 100, 'the first bad prefix is outlined (and UNEXPECTED in dark red)');
  t.ok(pixelsOf(img, '#f6dca0') > 100, 'a refuted claim is amber');
  t.comment(`screenshot: ${png}`);
});
