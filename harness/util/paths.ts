// Where kseries' own files are at run time: images/ (the guest's C sources)
// and patches/ (profiles, base config fragments). This module is
// harness/util/paths.ts when run from the sources and dist/util/paths.js once
// compiled (tsconfig.build.json maps rootDir harness/ onto outDir dist/), so
// the package root is two levels up either way.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const IMAGES_DIR = join(PACKAGE_ROOT, 'images');
export const PATCHES_DIR = join(PACKAGE_ROOT, 'patches');
