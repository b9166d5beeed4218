// End to end on a real farm engine: a run's boot as a LAVA job, run here by
// lava-run (Debian's lava-dispatcher: `make lava-deps`), merged back to the
// local run's verdicts. Without lava-run the test says why and skips.
import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const cacheArgs = process.env.KSERIES_CACHE ? ['--cache', process.env.KSERIES_CACHE] : [];
const kseries = (args: string[]) => execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, env: { FORCE_COLOR: '0' } });
const lavaRun = (await execa('sh', ['-c', 'command -v lava-run'], { reject: false })).stdout.trim();

t.test('a LAVA job from kseries plan runs under lava-run and merges to the local verdicts', async (t) => {
  if (!lavaRun) {
    const why = 'lava-run is not installed (make lava-deps installs lava-dispatcher)';
    t.comment(`SKIP: ${why}`);
    t.skip(why, () => undefined);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'kseries-e2e-farm-'));
  const run = join(dir, 'run');
  const local = await kseries(['run', ...cacheArgs, '--probe', 'readv_writev', '--probe', 'io_uring_setup', '--out', run, '--json', '-']);
  t.equal(local.exitCode, 0, local.stderr);
  const jobs = join(dir, 'jobs');
  const plan = await kseries(['plan', '--emit', 'lava', '--run-dir', run, '--out', jobs]);
  t.equal(plan.exitCode, 0, plan.stderr);
  const job = join(jobs, 'run');
  const lava = await execa(lavaRun, ['--job-id', '1', '--device', join(job, 'device.yaml'), '--dispatcher', join(job, 'dispatcher.yaml'), '--output-dir', join(job, 'out'), join(job, 'job.yaml')], { reject: false });
  await execa('sh', ['-c', 'cat > "$1"', 'sh', join(job, 'lava-job.log')], { input: lava.stderr });
  t.equal(lava.exitCode, 0, `lava-run: ${lava.stderr.split('\n').slice(-2).join(' | ')}`);
  t.match(await readFile(join(job, 'out', 'result.yaml'), 'utf8'), /result: pass/);
  const merged = await kseries(['merge', job, '--json', '-']);
  t.equal(merged.exitCode, local.exitCode);
  const rows = (s: string) => (JSON.parse(s) as { probes: { id: string; status: string; cases: { name: string; status: string }[] }[] }).probes.map((p) => [p.id, p.status, p.cases.map((c) => `${c.name}=${c.status}`)]);
  t.same(rows(merged.stdout), rows(local.stdout), 'the same probes, statuses and cases as the local boot');
});
