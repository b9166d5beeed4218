// kseries variants PROFILE: what a profile can build.
import type { CommandModule } from 'yargs';
import { loadProfile } from '../profile/profile.ts';
import { jsonOption, profilePath } from './options.ts';
import { jsonSink, jsonText } from './output.ts';

export const variantsCommand: CommandModule<object, { profile: string; json?: string }> = {
  command: 'variants <profile>',
  describe: "list a profile's variants and the patches each applies",
  builder: (y) =>
    y
      .positional('profile', { type: 'string', demandOption: true, describe: 'profile directory or name under patches/' })
      .option('json', jsonOption("the profile's variants as JSON to FILE ('-' for stdout)")) as never,
  handler: async (a) => {
    const p = await loadProfile(profilePath(a.profile));
    const lines = [`${p.name}: ${p.description}`, `base: Linux ${p.base.kernel}${p.base.note ? ` (${p.base.note})` : ''}`];
    for (const [k, s] of Object.entries(p.series)) lines.push(`series ${k}: <${s.messageId}>${s.revision ? ` v${s.revision}` : ''}${s.mbox ? ` from ${s.mbox}` : ''}`);
    lines.push(`probes: ${p.probes.join(', ')} · ABIs: ${p.abis.join(', ')}`, 'variants:');
    const w = Math.max(...p.variants.map((v) => v.name.length));
    for (const v of p.variants) {
      const what = v.patches.map((s) => ('file' in s ? s.file : 'message' in s ? `<${s.message}>` : `${s.series}${s.select ? ` ${s.select}` : ''}${s.drop ? ` without ${s.drop.join(',')}` : ''}`)).join(' + ') || '(no patches)';
      lines.push(`  ${v.name.padEnd(w)}  ${what}${v.description ? ` — ${v.description}` : ''}`);
    }
    const sink = jsonSink(a.json);
    sink.screen.write(lines.join('\n') + '\n');
    await sink.write(jsonText({ profile: p.name, description: p.description, base: p.base, series: p.series, probes: p.probes, abis: p.abis, variants: p.variants }));
  },
};
