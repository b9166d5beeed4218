import t from 'tap';
import { execId, formatPlan, splitCommand } from '../harness/image/init-plan.ts';

t.test('splitCommand handles quotes and escapes like a shell would for words', async (t) => {
  t.same(splitCommand('a "b c" d\'e\''), ['a', 'b c', 'de']);
  t.same(splitCommand('  /bin/x  --flag=1\t"" '), ['/bin/x', '--flag=1', '']);
  t.same(splitCommand('say \\"hi\\" "\\$x"'), ['say', '"hi"', '$x']);
  t.throws(() => splitCommand('oops "open'), /unterminated/);
});

t.test('formatPlan writes tab-separated lines the init reads', async (t) => {
  const text = formatPlan([
    { id: 'readv_writev:compat', timeoutSec: 30, uid: 0, argv: ['/kseries/bin/i386/readv_writev'] },
    { id: 'exec:repro', timeoutSec: 5, uid: 65534, argv: ['/bin/repro', 'a b'] },
  ]);
  const lines = text.trimEnd().split('\n');
  t.match(lines[0], /^#/);
  t.equal(lines[0], '# kseries plan: ID TIMEOUT UID CWD ARGV...');
  t.equal(lines[1], 'readv_writev:compat\t30\t0\t/\t/kseries/bin/i386/readv_writev', 'cwd defaults to /');
  t.equal(lines[2], 'exec:repro\t5\t65534\t/\t/bin/repro\ta b');
  t.throws(() => formatPlan([{ id: 'x', timeoutSec: 1, uid: 0, argv: ['a\tb'] }]), /tab/);
});

t.test('formatPlan writes an entry\'s cwd and rejects one the init would not take', async (t) => {
  const text = formatPlan([{ id: 'exec:kselftest', timeoutSec: 60, uid: 0, cwd: '/kseries/add/selftests', argv: ['./run_kselftest.sh'] }]);
  t.equal(text.trimEnd().split('\n')[1], 'exec:kselftest\t60\t0\t/kseries/add/selftests\t./run_kselftest.sh');
  t.throws(() => formatPlan([{ id: 'x', timeoutSec: 1, uid: 0, cwd: 'tmp', argv: ['/bin/true'] }]), /not an absolute path/);
  t.throws(() => formatPlan([{ id: 'x', timeoutSec: 1, uid: 0, cwd: '', argv: ['/bin/true'] }]), /not an absolute path/);
  t.throws(() => formatPlan([{ id: 'x', timeoutSec: 1, uid: 0, cwd: '/a\tb', argv: ['/bin/true'] }]), /tab or newline/);
  t.throws(() => formatPlan([{ id: 'x', timeoutSec: 1, uid: 0, cwd: '/a\nb', argv: ['/bin/true'] }]), /tab or newline/);
});

t.test('execId names commands by program and keeps them unique', async (t) => {
  const taken = new Set<string>();
  t.equal(execId('/bin/repro', taken), 'exec:repro');
  t.equal(execId('/opt/repro', taken), 'exec:repro.2');
  t.equal(execId('/usr/bin/kselftest', taken), 'exec:kselftest');
});
