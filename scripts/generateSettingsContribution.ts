/**
 * Writes package.json `contributes.configuration.properties` from the settings table
 * (src/core/settingsSchema.ts), so the contributed settings and VigilSettings cannot drift apart.
 * Run: npm run settings:generate. test/unit/settings/contribution.test.ts fails when they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { vscodeConfigurationProperties } from '../src/core/settingsSchema';

const file = path.join(__dirname, '..', 'package.json');
const pkg = JSON.parse(readFileSync(file, 'utf8')) as { contributes: { configuration: { title: string; properties: unknown } } };
pkg.contributes.configuration = { ...pkg.contributes.configuration, title: 'Vigil', properties: vscodeConfigurationProperties() };
writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`wrote ${Object.keys(pkg.contributes.configuration.properties as object).length} settings to ${path.relative(process.cwd(), file)}`);
