import t from 'tap';
import { parseRevisionRange } from '../harness/util/revision-range.ts';

t.test('A..B with both ends non-empty', async (t) => {
  t.same(parseRevisionRange('v6.1..v6.2'), { from: 'v6.1', to: 'v6.2' }, 'dots inside revisions are fine');
  t.same(parseRevisionRange('HEAD~20..HEAD'), { from: 'HEAD~20', to: 'HEAD' });
  t.same(parseRevisionRange('  base..tip\n'), { from: 'base', to: 'tip' }, 'surrounding white space is ignored');
});

t.test('everything else is a usage error naming the spec', async (t) => {
  for (const bad of ['HEAD', '', '..', 'a...b', '..b', 'a..', 'a..b..c', 'a....b', 'a b..c', 'a..b c']) {
    t.throws(() => parseRevisionRange(bad), { exitCode: 2, message: `--range must be A..B (two revisions joined by ".."), not '${bad}'` }, `'${bad}' is rejected`);
  }
});

t.test('the ends are named as the caller calls them', async (t) => {
  t.throws(() => parseRevisionRange('a...b', ['GOOD', 'BAD']), { exitCode: 2, message: /^--range must be GOOD\.\.BAD \(two revisions joined by "\.\."\), not 'a\.\.\.b'$/ });
});
