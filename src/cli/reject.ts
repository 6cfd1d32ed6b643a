import { command } from './approve';

export const run = command('reject');
