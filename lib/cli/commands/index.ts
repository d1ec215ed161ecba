/** The `dlms` commands. Each lives in its own module; this list is what `dlms help` shows. */
import { Io } from '../output';
import { translateCommand } from './translate';

export interface Command {
  name: string;
  summary: string;
  help(): string;
  run(argv: readonly string[], io: Io): Promise<number>;
}

export const COMMANDS: readonly Command[] = [translateCommand];
