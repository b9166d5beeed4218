import t from 'tap';
import { join } from 'node:path';
import { readMbox } from '../harness/mail/mbox.ts';
import { formatDiffStat, formatSeriesSummary, seriesDiffStat } from '../harness/apply/series-summary.ts';
import { assembleSeries } from '../harness/mail/assemble.ts';
import { BASE, V1, V2 } from './fixtures/series/make-fixtures.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'series');

t.test('summary of the toy v2', async (t) => {
  const msgs = await readMbox(join(FIX, 'toy-series.mbox'));
  const s = assembleSeries(msgs, V1[0]!.id);
  t.same(formatSeriesSummary(s), [
    'v2: toy: make the greeting configurable (3 patches)',
    'author: A. U. Thor <author@example.org>',
    'date: Mon, 8 Jan 2024 10:00:00 +0100',
    `cover: <${V2[0]!.id}>`,
    '  1/3 toy: add a greeting variable                 1 file, +3/\u22121',
    '  2/3 toy: read the greeting from the environment  1 file, +4/\u22121',
    '  3/3 toy: document GREETING and drop old.sh       3 files, +3/\u22123',
    '4 files changed, +9/\u22124',
    `base-commit: ${BASE}`,
  ]);
  t.equal(seriesDiffStat(s).files.length, 4);
});

t.test('summary of a selection, without cover or base-commit', async (t) => {
  const msgs = (await readMbox(join(FIX, 'toy-series.mbox'))).filter((m) => m.messageId !== V1[0]!.id);
  const s = assembleSeries(msgs, V1[2]!.id, { revision: 1, select: '1,3' });
  t.same(formatSeriesSummary(s), [
    'v1: toy: add a greeting variable (2 of 3 patches)',
    'author: A. U. Thor <author@example.org>',
    'date: Mon, 1 Jan 2024 10:00:01 +0100',
    '  1/3 toy: add a greeting variable            1 file, +3/\u22121',
    '  3/3 toy: document GREETING and drop old.sh  3 files, +3/\u22123',
    '4 files changed, +6/\u22124',
  ]);
  t.equal(formatDiffStat({ files: [], insertions: 0, deletions: 0 }), '0 files, +0/\u22120');
});
